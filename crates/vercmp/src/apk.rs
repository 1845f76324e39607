//! Alpine package versions, ordered as apk-tools orders them.
//!
//! A valid version reads `digits{.digits}[letter]{_suffix[digits]}[~hash][-rdigits]`, for example
//! `1.2.3b_rc1_p2~a1b2c3-r4`. Versions compare token by token: numbers as numbers (except that a dotted number
//! part with a leading zero, such as the `05` of `1.05`, compares as a string, as Gentoo does), letters by
//! character, suffixes in the order `_alpha` < `_beta` < `_pre` < `_rc` < (none) < `_cvs` < `_svn` < `_git` < `_hg`
//! < `_p`, commit hashes as strings, and revisions as numbers. Where the two versions go on with different kinds
//! of token, a pre-release suffix (`_alpha` to `_rc`) makes its version the smaller; otherwise the version whose
//! next token comes later in the grammar above is the smaller, and a version that has ended is smaller than one
//! that goes on (`1.0` < `1.0a` < `1.0.1`, `1.0_p1` < `1.0a`, `1.0` < `1.0-r1`).
//!
//! apk compares invalid versions too: comparison stops at the first token that is out of place, and an invalid
//! tail sorts before any valid continuation. These functions follow that and never fail; [`is_valid`] tells
//! whether apk would accept the version at all. Numbers wrap around at 2^64, as in apk-tools.
//!
//! ```
//! use std::cmp::Ordering;
//! use vercmp::apk::{compare, compare_fuzzy, is_valid};
//!
//! assert_eq!(compare("1.2.3-r1", "1.2.3"), Ordering::Greater);
//! assert_eq!(compare("1.0_rc1", "1.0"), Ordering::Less);
//! assert_eq!(compare("1.0_p1", "1.0"), Ordering::Greater);
//! assert_eq!(compare("1.0_p1", "1.0a"), Ordering::Less);
//! assert_eq!(compare("1.0a", "1.0.1"), Ordering::Less);
//! assert_eq!(compare("8.2.0", "8.2.001"), Ordering::Less);
//! assert_eq!(compare_fuzzy("3.6.9", "3.6"), Ordering::Equal);
//! assert!(is_valid("0.1_git20240101_pre1~1234abcd-r0"));
//! assert!(!is_valid("1.0-1"));
//! ```

use std::cmp::Ordering;

/// Token kinds. The declaration order matters: a token may only follow tokens of a lower kind, and when one
/// version ends or breaks off earlier, the higher kind sorts lower.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    InitialDigit,
    Digit,
    Letter,
    Suffix,
    SuffixNo,
    CommitHash,
    RevisionNo,
    End,
    Invalid,
}

/// Suffixes, in their sort order; `None` marks where a release without a suffix sorts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Suffix {
    Invalid,
    Alpha,
    Beta,
    Pre,
    Rc,
    None,
    Cvs,
    Svn,
    Git,
    Hg,
    P,
}

fn suffix_value(name: &[u8]) -> Suffix {
    let (suffix, spelled) = match name.first() {
        Some(b'a') => (Suffix::Alpha, "alpha"),
        Some(b'b') => (Suffix::Beta, "beta"),
        Some(b'c') => (Suffix::Cvs, "cvs"),
        Some(b'g') => (Suffix::Git, "git"),
        Some(b'h') => (Suffix::Hg, "hg"),
        Some(b'p') if name.len() > 1 => (Suffix::Pre, "pre"),
        Some(b'p') => (Suffix::P, "p"),
        Some(b'r') => (Suffix::Rc, "rc"),
        Some(b's') => (Suffix::Svn, "svn"),
        _ => return Suffix::Invalid,
    };
    if name == spelled.as_bytes() { suffix } else { Suffix::Invalid }
}

/// The tokenizer's state: the current token and the rest of the version.
struct Tokens<'a> {
    kind: Kind,
    suffix: Suffix,
    number: u64,
    value: &'a [u8],
    rest: &'a [u8],
}

impl<'a> Tokens<'a> {
    /// Starts tokenizing; the first token is always a number.
    fn new(version: &'a str) -> Self {
        let mut t = Tokens {
            kind: Kind::InitialDigit,
            suffix: Suffix::Invalid,
            number: 0,
            value: &[],
            rest: version.as_bytes(),
        };
        t.digits();
        t
    }

    fn advance(&mut self, n: usize) {
        self.rest = self.rest.get(n..).unwrap_or_default();
    }

    /// Takes the longest prefix of the rest whose bytes satisfy `pred`.
    fn take_while(&mut self, pred: impl Fn(u8) -> bool) -> &'a [u8] {
        let len = self.rest.iter().take_while(|&&b| pred(b)).count();
        let taken = self.rest.get(..len).unwrap_or_default();
        self.advance(len);
        taken
    }

    /// Reads a number token; a number wraps around as apk's 64-bit accumulator does, and stops at a NUL.
    fn digits(&mut self) {
        let digits = self.take_while(|b| b.is_ascii_digit());
        self.number = digits.iter().fold(0u64, |n, &d| n.wrapping_mul(10).wrapping_add(u64::from(d - b'0')));
        self.value = digits;
        if digits.is_empty() {
            self.kind = Kind::Invalid;
        }
    }

    /// Moves to the next token, checking that it may follow the current one.
    fn next(&mut self) {
        let Some(&first) = self.rest.first() else {
            self.kind = Kind::End;
            return;
        };
        match first {
            b'a'..=b'z' if self.kind <= Kind::Digit => {
                self.value = self.rest.get(..1).unwrap_or_default();
                self.kind = Kind::Letter;
                self.advance(1);
            }
            b'.' | b'0'..=b'9' if self.kind <= Kind::Digit || (first != b'.' && self.kind == Kind::Suffix) => {
                if first == b'.' {
                    self.advance(1);
                }
                self.kind = if self.kind == Kind::Suffix { Kind::SuffixNo } else { Kind::Digit };
                self.digits();
            }
            b'_' if self.kind <= Kind::SuffixNo => {
                self.advance(1);
                self.value = self.take_while(|b| b.is_ascii_lowercase());
                self.suffix = suffix_value(self.value);
                self.kind = if self.suffix == Suffix::Invalid { Kind::Invalid } else { Kind::Suffix };
            }
            b'~' if self.kind < Kind::CommitHash => {
                self.advance(1);
                self.value = self.take_while(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
                self.kind = if self.value.is_empty() { Kind::Invalid } else { Kind::CommitHash };
            }
            b'-' if self.kind < Kind::RevisionNo && self.rest.starts_with(b"-r") => {
                self.advance(2);
                self.kind = Kind::RevisionNo;
                self.digits();
            }
            _ => self.kind = Kind::Invalid,
        }
    }
}

/// Compares two tokens of the same kind.
fn token_cmp(a: &Tokens, b: &Tokens) -> Ordering {
    match a.kind {
        // A dotted number with a leading zero compares as a string, as in Gentoo.
        Kind::Digit if a.value.first() == Some(&b'0') || b.value.first() == Some(&b'0') => a.value.cmp(b.value),
        Kind::Digit | Kind::InitialDigit | Kind::SuffixNo | Kind::RevisionNo => a.number.cmp(&b.number),
        Kind::Letter => a.value.first().cmp(&b.value.first()),
        Kind::Suffix => a.suffix.cmp(&b.suffix),
        _ => a.value.cmp(b.value),
    }
}

fn compare_impl(a: &str, b: &str, fuzzy: bool) -> Ordering {
    let (mut ta, mut tb) = (Tokens::new(a), Tokens::new(b));
    while ta.kind == tb.kind && ta.kind < Kind::End {
        let order = token_cmp(&ta, &tb);
        if order != Ordering::Equal {
            return order;
        }
        ta.next();
        tb.next();
    }
    if ta.kind == tb.kind || (fuzzy && tb.kind == Kind::End) {
        return Ordering::Equal;
    }
    // One version goes on where the other stops: it is newer, unless what follows is a pre-release suffix.
    if ta.kind == Kind::Suffix && ta.suffix < Suffix::None {
        return Ordering::Less;
    }
    if tb.kind == Kind::Suffix && tb.suffix < Suffix::None {
        return Ordering::Greater;
    }
    tb.kind.cmp(&ta.kind)
}

/// Compares two apk versions. Never fails: invalid versions compare as apk compares them.
pub fn compare(a: &str, b: &str) -> Ordering {
    compare_impl(a, b, false)
}

/// Compares `version` against a fuzzy (`~`) dependency version: `Equal` when `version` starts with the same
/// tokens as `prefix`, as in apk's `~` constraint (`3.6.9` matches `~3.6`).
pub fn compare_fuzzy(version: &str, prefix: &str) -> Ordering {
    compare_impl(version, prefix, true)
}

/// Whether apk accepts `version` as a version at all.
pub fn is_valid(version: &str) -> bool {
    let mut t = Tokens::new(version);
    while t.kind < Kind::End {
        t.next();
    }
    t.kind == Kind::End
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suffix_order() {
        let sorted =
            ["1.0_alpha", "1.0_beta", "1.0_pre", "1.0_rc", "1.0", "1.0_cvs", "1.0_svn", "1.0_git", "1.0_hg", "1.0_p"];
        for w in sorted.windows(2) {
            assert_eq!(compare(w[0], w[1]), Ordering::Less, "{} < {}", w[0], w[1]);
            assert_eq!(compare(w[1], w[0]), Ordering::Greater, "{} > {}", w[1], w[0]);
        }
    }

    #[test]
    fn invalid_versions() {
        for bad in ["", "a", ".1", "1.", "1.0-1", "1.0_foo", "1.0a1", "1.0-r", "1.0~", "1.0~xyz", "1.0\0"] {
            assert!(!is_valid(bad), "{bad:?} should be invalid");
        }
        // Invalid versions still compare: an invalid tail sorts first.
        assert_eq!(compare("1.0_foo", "1.0"), Ordering::Less);
        assert_eq!(compare("", "a"), Ordering::Equal);
        assert_eq!(compare("", "0"), Ordering::Less);
    }

    #[test]
    fn numbers_wrap_like_apk() {
        // 2^64 wraps to 0.
        assert_eq!(compare("18446744073709551616", "0"), Ordering::Equal);
    }
}
