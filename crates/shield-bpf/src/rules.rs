//! Path rules: which written paths produce file events.
//!
//! Three kinds, matched in the kernel (docs/shield-kernel.md, "Path rules"):
//! - exact: the path as written equals the rule (`/etc/passwd`);
//! - prefix: the path is under the rule's directory (`/etc/cron.d/`);
//! - name: the path's final component equals the rule (`release_agent`, `core_pattern`),
//!   whatever the directory, and also for relative paths.
//!
//! Exact and prefix rules live in one LPM trie keyed by path bytes: an exact rule is stored
//! with its terminating NUL (so it matches only a complete, equal path), a prefix rule
//! without (so it matches every longer path that starts with it).

use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use crate::abi::{MATCH_EXACT, MATCH_NAME, MATCH_PREFIX, NAME_LEN, PATH_LEN};

/// A path rule that the programs match file operations against.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PathRule {
    /// This exact absolute path.
    Exact(PathBuf),
    /// Every path under this absolute directory (a trailing `/` is added when missing, so
    /// `/etc/cron.d` does not cover `/etc/cron.daily`).
    Prefix(PathBuf),
    /// Every path whose final component is this name (no `/`).
    Name(OsString),
}

/// A rule the kernel maps cannot hold.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RuleError {
    #[error("path rule {0:?} is not absolute")]
    NotAbsolute(PathBuf),
    #[error("path rule {path:?} is {len} bytes; at most {max} fit")]
    TooLong { path: PathBuf, len: usize, max: usize },
    #[error("path rule {0:?} contains a NUL byte")]
    Nul(PathBuf),
    #[error("name rule {0:?} is empty, contains '/' or NUL, or is longer than 63 bytes")]
    InvalidName(OsString),
}

/// The key of the `path_rules` trie: prefix length in bits and the padded path bytes.
pub(crate) type TrieKey = (u32, [u8; PATH_LEN]);

impl PathRule {
    /// The map this rule goes to, with its key, and the match kind stored as its value.
    pub(crate) fn encode(&self) -> Result<Encoded, RuleError> {
        match self {
            PathRule::Exact(path) => {
                let bytes = absolute(path)?;
                // The NUL is part of the key: the path plus NUL must fit.
                if bytes.len() > PATH_LEN - 1 {
                    return Err(RuleError::TooLong { path: path.clone(), len: bytes.len(), max: PATH_LEN - 1 });
                }
                Ok(Encoded::Trie(trie_key(bytes, bytes.len() + 1), MATCH_EXACT))
            }
            PathRule::Prefix(path) => {
                let mut bytes = absolute(path)?.to_vec();
                if bytes.last() != Some(&b'/') {
                    bytes.push(b'/');
                }
                // Paths longer than PATH_LEN - 1 are matched on their first PATH_LEN - 1 bytes.
                if bytes.len() > PATH_LEN - 1 {
                    return Err(RuleError::TooLong { path: path.clone(), len: bytes.len(), max: PATH_LEN - 1 });
                }
                Ok(Encoded::Trie(trie_key(&bytes, bytes.len()), MATCH_PREFIX))
            }
            PathRule::Name(name) => {
                let bytes = name.as_bytes();
                if bytes.is_empty() || bytes.len() >= NAME_LEN || bytes.iter().any(|&b| b == b'/' || b == 0) {
                    return Err(RuleError::InvalidName(name.clone()));
                }
                let mut key = [0u8; NAME_LEN];
                key[..bytes.len()].copy_from_slice(bytes);
                Ok(Encoded::Name(key, MATCH_NAME))
            }
        }
    }

    /// The rule for a file, by the form of the text: a trailing `/` means a directory prefix,
    /// a leading `/` an exact path, anything else a name.
    pub fn parse(text: &str) -> PathRule {
        if text.starts_with('/') {
            if text.ends_with('/') {
                PathRule::Prefix(PathBuf::from(text))
            } else {
                PathRule::Exact(PathBuf::from(text))
            }
        } else {
            PathRule::Name(OsString::from(text))
        }
    }
}

/// A rule in map form.
pub(crate) enum Encoded {
    Trie(TrieKey, u32),
    Name([u8; NAME_LEN], u32),
}

fn absolute(path: &Path) -> Result<&[u8], RuleError> {
    let bytes = path.as_os_str().as_bytes();
    if bytes.first() != Some(&b'/') {
        return Err(RuleError::NotAbsolute(path.to_path_buf()));
    }
    if bytes.contains(&0) {
        return Err(RuleError::Nul(path.to_path_buf()));
    }
    Ok(bytes)
}

fn trie_key(bytes: &[u8], significant: usize) -> TrieKey {
    let mut data = [0u8; PATH_LEN];
    data[..bytes.len()].copy_from_slice(bytes);
    // significant <= PATH_LEN, checked by the callers: the product fits in u32.
    (u32::try_from(significant * 8).unwrap_or(u32::MAX), data)
}

impl std::fmt::Display for PathRule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PathRule::Exact(path) => write!(f, "{}", path.display()),
            PathRule::Prefix(path) => write!(f, "{}/…", path.display()),
            PathRule::Name(name) => write!(f, "*/{}", OsStr::new(name).to_string_lossy()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trie(rule: &PathRule) -> (u32, Vec<u8>, u32) {
        match rule.encode().unwrap() {
            Encoded::Trie((bits, data), kind) => (bits, data[..(bits / 8) as usize].to_vec(), kind),
            Encoded::Name(..) => panic!("a trie rule was expected"),
        }
    }

    #[test]
    fn exact_rules_keep_their_nul_and_prefix_rules_end_with_a_slash() {
        assert_eq!(trie(&PathRule::Exact("/etc/passwd".into())), (96, b"/etc/passwd\0".to_vec(), MATCH_EXACT));
        assert_eq!(trie(&PathRule::Prefix("/etc/cron.d".into())), (96, b"/etc/cron.d/".to_vec(), MATCH_PREFIX));
        assert_eq!(trie(&PathRule::Prefix("/etc/cron.d/".into())), (96, b"/etc/cron.d/".to_vec(), MATCH_PREFIX));
    }

    #[test]
    fn rules_the_maps_cannot_hold_are_refused() {
        assert!(matches!(PathRule::Exact("etc/passwd".into()).encode(), Err(RuleError::NotAbsolute(_))));
        let long = format!("/{}", "a".repeat(255));
        assert!(matches!(PathRule::Exact(long.clone().into()).encode(), Err(RuleError::TooLong { .. })));
        assert!(PathRule::Exact(long[..255].into()).encode().is_ok());
        assert!(matches!(PathRule::Prefix(long.into()).encode(), Err(RuleError::TooLong { .. })));
        for bad in ["", "a/b", &"n".repeat(64)] {
            assert!(matches!(PathRule::Name(bad.into()).encode(), Err(RuleError::InvalidName(_))), "{bad:?}");
        }
        assert!(PathRule::Name("n".repeat(63).into()).encode().is_ok());
    }

    #[test]
    fn parse_reads_the_rule_kind_from_the_text() {
        assert_eq!(PathRule::parse("/etc/shadow"), PathRule::Exact("/etc/shadow".into()));
        assert_eq!(PathRule::parse("/etc/cron.d/"), PathRule::Prefix("/etc/cron.d/".into()));
        assert_eq!(PathRule::parse("release_agent"), PathRule::Name("release_agent".into()));
    }
}
