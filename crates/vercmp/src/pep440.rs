//! Python package versions (PEP 440), parsed, normalised and ordered as `packaging.version.Version` does.
//!
//! Accepted: `[v][N!]N(.N)*[{a|b|rc}N][.postN][.devN][+local]` in any letter case, with the spellings PEP 440
//! normalises (`alpha`, `beta`, `c`, `pre`, `preview`, `rev`, `r`, `-N` for a post-release, optional `.`, `-`
//! or `_` separators, implicit zero numbers) and surrounding whitespace. Numbers may be of any length up to
//! Python's 4300-digit conversion limit.
//!
//! Ordering: epoch, then the release with trailing zeros ignored, then dev-only releases before pre-releases
//! (`a` < `b` < `rc`) before the final release before post-releases, a dev release before the same version
//! without it, and finally local versions (`+ubuntu1`) after the same version without one, compared segment by
//! segment with strings before numbers.
//!
//! ```
//! use std::cmp::Ordering;
//! use vercmp::pep440::{Version, compare};
//!
//! assert_eq!(compare("1.0.dev1", "1.0a1").unwrap(), Ordering::Less);
//! assert_eq!(compare("1.0a1", "1.0b1").unwrap(), Ordering::Less);
//! assert_eq!(compare("1.0rc1", "1.0").unwrap(), Ordering::Less);
//! assert_eq!(compare("1.0", "1.0.post1").unwrap(), Ordering::Less);
//! assert_eq!(compare("1.0", "1.0+local").unwrap(), Ordering::Less);
//! assert_eq!(compare("1!0.1", "2.0").unwrap(), Ordering::Greater);
//! assert_eq!(compare("1.0-ALPHA-1", "1.0a1").unwrap(), Ordering::Equal);
//! assert_eq!(compare("1.0", "1.0.0").unwrap(), Ordering::Equal);
//! assert!(Version::parse("1.0.x").is_err());
//! ```

use std::cmp::Ordering;

use crate::num::cmp_digits;
use crate::{ParseError, Scheme};

/// Python refuses to convert integer strings longer than this (`sys.get_int_max_str_digits()`).
const MAX_INT_DIGITS: usize = 4300;

/// Pre-release kinds in their sort order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum PreKind {
    /// `a`, `alpha`.
    Alpha,
    /// `b`, `beta`.
    Beta,
    /// `rc`, `c`, `pre`, `preview`.
    Rc,
}

/// A local version segment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LocalPart {
    /// A segment of digits only.
    Number(String),
    /// Any other segment, lower-cased.
    Text(String),
}

/// A parsed PEP 440 version. Numbers are kept as digit strings so that any length compares correctly.
#[derive(Debug, Clone)]
pub struct Version {
    epoch: String,
    release: Vec<String>,
    pre: Option<(PreKind, String)>,
    post: Option<String>,
    dev: Option<String>,
    local: Option<Vec<LocalPart>>,
}

fn err(version: &str, reason: &'static str) -> ParseError {
    ParseError::new(Scheme::Pep440, version, reason)
}

/// Python's `str.isspace`, which `\s` follows in a `str` pattern.
fn is_py_space(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

/// A cursor over the ASCII body of a version; the grammar is matched greedily without backtracking, as the
/// possessive quantifiers of `packaging`'s pattern do.
struct Cursor<'a> {
    s: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.pos).copied()
    }

    fn digits(&mut self) -> Option<&'a str> {
        let len = self.s.get(self.pos..).unwrap_or_default().iter().take_while(|b| b.is_ascii_digit()).count();
        if len == 0 {
            return None;
        }
        let digits = self.s.get(self.pos..self.pos + len).and_then(|d| std::str::from_utf8(d).ok());
        self.pos += len;
        digits
    }

    fn separator(&mut self) {
        if matches!(self.peek(), Some(b'.' | b'_' | b'-')) {
            self.pos += 1;
        }
    }

    /// Consumes the first of `words` that follows, ignoring ASCII case.
    fn word(&mut self, words: &[&'static str]) -> Option<&'static str> {
        let rest = self.s.get(self.pos..).unwrap_or_default();
        let found = words.iter().find(|w| rest.get(..w.len()).is_some_and(|r| r.eq_ignore_ascii_case(w.as_bytes())))?;
        self.pos += found.len();
        Some(found)
    }

    /// `[._-]? WORD [._-]? [digits]?`, all or nothing.
    fn lettered(&mut self, words: &[&'static str]) -> Option<(&'static str, Option<&'a str>)> {
        let start = self.pos;
        self.separator();
        let Some(word) = self.word(words) else {
            self.pos = start;
            return None;
        };
        self.separator();
        Some((word, self.digits()))
    }
}

fn number(input: &str, digits: Option<&str>) -> Result<String, ParseError> {
    let digits = digits.unwrap_or("0");
    if digits.len() > MAX_INT_DIGITS {
        return Err(err(input, "number exceeds Python's 4300-digit conversion limit"));
    }
    Ok(digits.to_owned())
}

impl Version {
    /// Parses a version as `packaging.version.Version(...)` does.
    pub fn parse(input: &str) -> Result<Version, ParseError> {
        let body = input.trim_matches(is_py_space);
        let mut c = Cursor { s: body.as_bytes(), pos: 0 };
        if matches!(c.peek(), Some(b'v' | b'V')) {
            c.pos += 1;
        }
        let start = c.pos;
        let epoch = match (c.digits(), c.peek()) {
            (Some(e), Some(b'!')) => {
                c.pos += 1;
                number(input, Some(e))?
            }
            _ => {
                c.pos = start;
                "0".to_owned()
            }
        };
        let mut release = vec![number(input, Some(c.digits().ok_or_else(|| err(input, "missing release number"))?))?];
        while c.peek() == Some(b'.') && c.s.get(c.pos + 1).is_some_and(u8::is_ascii_digit) {
            c.pos += 1;
            release.push(number(input, c.digits())?);
        }
        let pre = match c.lettered(&["alpha", "a", "beta", "b", "preview", "pre", "c", "rc"]) {
            Some((word, n)) => {
                let kind = match word {
                    "alpha" | "a" => PreKind::Alpha,
                    "beta" | "b" => PreKind::Beta,
                    _ => PreKind::Rc,
                };
                Some((kind, number(input, n)?))
            }
            None => None,
        };
        let post = if c.peek() == Some(b'-') && c.s.get(c.pos + 1).is_some_and(u8::is_ascii_digit) {
            c.pos += 1;
            Some(number(input, c.digits())?)
        } else {
            match c.lettered(&["post", "rev", "r"]) {
                Some((_, n)) => Some(number(input, n)?),
                None => None,
            }
        };
        let dev = match c.lettered(&["dev"]) {
            Some((_, n)) => Some(number(input, n)?),
            None => None,
        };
        let local = if c.peek() == Some(b'+') {
            c.pos += 1;
            Some(parse_local(input, &mut c)?)
        } else {
            None
        };
        if c.pos != c.s.len() {
            return Err(err(input, "not a PEP 440 version"));
        }
        Ok(Version { epoch, release, pre, post, dev, local })
    }

    /// The epoch (`"0"` when absent), as a digit string.
    pub fn epoch(&self) -> &str {
        &self.epoch
    }

    /// The release numbers, as digit strings.
    pub fn release(&self) -> &[String] {
        &self.release
    }

    /// The pre-release kind and number.
    pub fn pre(&self) -> Option<(PreKind, &str)> {
        self.pre.as_ref().map(|(k, n)| (*k, n.as_str()))
    }

    /// The post-release number.
    pub fn post(&self) -> Option<&str> {
        self.post.as_deref()
    }

    /// The dev-release number.
    pub fn dev(&self) -> Option<&str> {
        self.dev.as_deref()
    }

    /// The local version segments.
    pub fn local(&self) -> Option<&[LocalPart]> {
        self.local.as_deref()
    }
}

/// `[a-z0-9]+([._-][a-z0-9]+)*` in any case, to the end of the input.
fn parse_local(input: &str, c: &mut Cursor) -> Result<Vec<LocalPart>, ParseError> {
    let invalid = || err(input, "invalid local version label");
    let rest = c.s.get(c.pos..).and_then(|r| std::str::from_utf8(r).ok()).ok_or_else(invalid)?;
    let mut parts = Vec::new();
    for part in rest.split(['.', '_', '-']) {
        if part.is_empty() || !part.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(invalid());
        }
        parts.push(if crate::num::all_digits(part) {
            LocalPart::Number(number(input, Some(part))?)
        } else {
            LocalPart::Text(part.to_ascii_lowercase())
        });
    }
    c.pos = c.s.len();
    Ok(parts)
}

/// Release numbers without trailing zeros, so that `1.0.0` equals `1`.
fn trimmed(release: &[String]) -> &[String] {
    let len = release.iter().rposition(|n| !crate::num::is_zero(n)).map_or(0, |i| i + 1);
    release.get(..len).unwrap_or_default()
}

fn cmp_numbers(a: &[String], b: &[String]) -> Ordering {
    for (x, y) in a.iter().zip(b) {
        let order = cmp_digits(x, y);
        if order != Ordering::Equal {
            return order;
        }
    }
    a.len().cmp(&b.len())
}

/// The rank of the pre-release position: dev-only releases first, then a, b, rc, then everything else.
fn pre_rank(v: &Version) -> (u8, &str) {
    match (&v.pre, &v.post, &v.dev) {
        (Some((kind, n)), _, _) => (*kind as u8 + 1, n),
        (None, None, Some(_)) => (0, "0"),
        (None, _, _) => (4, "0"),
    }
}

fn cmp_local(a: &[LocalPart], b: &[LocalPart]) -> Ordering {
    for (x, y) in a.iter().zip(b) {
        let order = match (x, y) {
            (LocalPart::Number(x), LocalPart::Number(y)) => cmp_digits(x, y),
            (LocalPart::Number(_), LocalPart::Text(_)) => Ordering::Greater,
            (LocalPart::Text(_), LocalPart::Number(_)) => Ordering::Less,
            (LocalPart::Text(x), LocalPart::Text(y)) => x.cmp(y),
        };
        if order != Ordering::Equal {
            return order;
        }
    }
    a.len().cmp(&b.len())
}

impl Ord for Version {
    fn cmp(&self, other: &Self) -> Ordering {
        let (rank_a, pre_a) = pre_rank(self);
        let (rank_b, pre_b) = pre_rank(other);
        cmp_digits(&self.epoch, &other.epoch)
            .then_with(|| cmp_numbers(trimmed(&self.release), trimmed(&other.release)))
            .then_with(|| rank_a.cmp(&rank_b))
            .then_with(|| cmp_digits(pre_a, pre_b))
            .then_with(|| match (&self.post, &other.post) {
                (Some(x), Some(y)) => cmp_digits(x, y),
                (x, y) => x.is_some().cmp(&y.is_some()),
            })
            .then_with(|| match (&self.dev, &other.dev) {
                (Some(x), Some(y)) => cmp_digits(x, y),
                (x, y) => y.is_some().cmp(&x.is_some()),
            })
            .then_with(|| match (&self.local, &other.local) {
                (Some(x), Some(y)) => cmp_local(x, y),
                (x, y) => x.is_some().cmp(&y.is_some()),
            })
    }
}

crate::order_by_cmp!(Version);

/// Compares two PEP 440 versions.
pub fn compare(a: &str, b: &str) -> Result<Ordering, ParseError> {
    Ok(Version::parse(a)?.cmp(&Version::parse(b)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pep440_order() {
        let sorted = [
            "1.0.dev0",
            "1.0a1.dev1",
            "1.0a1",
            "1.0a1.post1.dev1",
            "1.0a1.post1",
            "1.0b1",
            "1.0rc1",
            "1.0",
            "1.0+abc",
            "1.0+abc.1",
            "1.0+1",
            "1.0.post1.dev1",
            "1.0.post1",
            "1.1",
            "1!0.1",
        ];
        for w in sorted.windows(2) {
            assert_eq!(compare(w[0], w[1]).unwrap(), Ordering::Less, "{} < {}", w[0], w[1]);
        }
    }

    #[test]
    fn normalisation() {
        let same = [
            ("1.0c1", "1.0rc1"),
            ("1.0pre1", "1.0rc1"),
            ("1.0-1", "1.0.post1"),
            ("1.0rev", "1.0.post0"),
            ("1.0.DEV", "1.0.dev0"),
            (" v1.0\n", "1.0"),
            ("1.0+ABC-1", "1.0+abc.1"),
            ("1.0a.", "1.0a0"),
        ];
        for (a, b) in same {
            assert_eq!(compare(a, b).unwrap(), Ordering::Equal, "{a} = {b}");
        }
    }

    #[test]
    fn grammar() {
        for bad in ["", "v", "1.", ".1", "1..2", "1.0+", "1.0+a.", "1.0-", "1.0.x", "1.0 1", "a1", "1.0-dev-x"] {
            assert!(Version::parse(bad).is_err(), "{bad:?} should be rejected");
        }
        assert!(Version::parse(&"9".repeat(MAX_INT_DIGITS)).is_ok());
        assert!(Version::parse(&"9".repeat(MAX_INT_DIGITS + 1)).is_err());
    }
}
