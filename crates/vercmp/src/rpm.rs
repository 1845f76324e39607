//! RPM versions: `[epoch:]version[-release]` strings, ordered as rpm's `labelCompare` orders the parts that
//! rpm's own EVR parser (`rpm.ver`) finds in them.
//!
//! Epoch, version and release each compare with `rpmvercmp`: the strings are cut into runs of ASCII digits and
//! runs of ASCII letters, everything else only separates runs. `~` sorts before anything, even the end of the
//! string; `^` sorts after the end of the string but before any run; a digit run beats a letter run; digit runs
//! compare as numbers and letter runs byte by byte. A missing epoch counts as `0`, and a missing release sorts
//! before any release. rpm compares anything, so these functions never fail. A NUL character ends the version, as
//! it does for rpm.
//!
//! ```
//! use std::cmp::Ordering;
//! use vercmp::rpm::{Evr, compare, vercmp};
//!
//! assert_eq!(compare("1:1.0-1", "2.0-1"), Ordering::Greater);
//! assert_eq!(compare("1.0~rc1-1", "1.0-1"), Ordering::Less);
//! assert_eq!(compare("1.0^20240101-1", "1.0-1"), Ordering::Greater);
//! assert_eq!(vercmp("1.0a", "1.0.1"), Ordering::Less);
//! assert_eq!(vercmp("1_0", "1.0"), Ordering::Equal);
//! let evr = Evr::parse("3:2.4-1.el9");
//! assert_eq!((evr.epoch(), evr.version(), evr.release()), (Some("3"), "2.4", Some("1.el9")));
//! ```

use std::cmp::Ordering;

/// An epoch-version-release triple, split the way rpm splits an EVR string.
#[derive(Debug, Clone)]
pub struct Evr {
    epoch: Option<String>,
    version: String,
    release: Option<String>,
}

impl Evr {
    /// Splits an EVR string: leading digits followed by `:` are the epoch (an empty one counts as `0`), and the
    /// text after the last `-` is the release. Never fails.
    pub fn parse(input: &str) -> Evr {
        let s = match input.find('\0') {
            Some(nul) => input.get(..nul).unwrap_or(""),
            None => input,
        };
        let digits = s.bytes().take_while(u8::is_ascii_digit).count();
        let (epoch, rest) = match s.as_bytes().get(digits) {
            Some(b':') => {
                let epoch = s.get(..digits).unwrap_or("");
                let epoch = if epoch.is_empty() { "0" } else { epoch };
                (Some(epoch.to_owned()), s.get(digits + 1..).unwrap_or(""))
            }
            _ => (None, s),
        };
        match rest.rfind('-') {
            Some(hyphen) => Evr {
                epoch,
                version: rest.get(..hyphen).unwrap_or("").to_owned(),
                release: Some(rest.get(hyphen + 1..).unwrap_or("").to_owned()),
            },
            None => Evr { epoch, version: rest.to_owned(), release: None },
        }
    }

    /// The epoch, when the string has one.
    pub fn epoch(&self) -> Option<&str> {
        self.epoch.as_deref()
    }

    /// The version part.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// The release, when the string has one.
    pub fn release(&self) -> Option<&str> {
        self.release.as_deref()
    }
}

impl Ord for Evr {
    fn cmp(&self, other: &Self) -> Ordering {
        // A missing epoch counts as 0, as in labelCompare.
        vercmp(self.epoch.as_deref().unwrap_or("0"), other.epoch.as_deref().unwrap_or("0"))
            .then_with(|| vercmp(&self.version, &other.version))
            .then_with(|| match (&self.release, &other.release) {
                (Some(a), Some(b)) => vercmp(a, b),
                (a, b) => a.is_some().cmp(&b.is_some()),
            })
    }
}

crate::order_by_cmp!(Evr);

/// Compares two EVR strings.
pub fn compare(a: &str, b: &str) -> Ordering {
    Evr::parse(a).cmp(&Evr::parse(b))
}

/// One unit of an rpm version string, in the order `rpmvercmp` ranks them against each other.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Token<'a> {
    Tilde,
    Caret,
    Alpha(&'a [u8]),
    Digits(&'a [u8]),
}

/// Cuts the next token off `s`, skipping separators; `None` at the end of the string.
fn next_token<'a>(s: &mut &'a [u8]) -> Option<Token<'a>> {
    let start = s.iter().position(|&b| b.is_ascii_alphanumeric() || b == b'~' || b == b'^')?;
    let rest = s.get(start..).unwrap_or_default();
    let (token, len) = match rest.first() {
        Some(b'~') => (Token::Tilde, 1),
        Some(b'^') => (Token::Caret, 1),
        Some(b) if b.is_ascii_digit() => {
            let len = rest.iter().take_while(|b| b.is_ascii_digit()).count();
            (Token::Digits(rest.get(..len).unwrap_or_default()), len)
        }
        _ => {
            let len = rest.iter().take_while(|b| b.is_ascii_alphabetic()).count();
            (Token::Alpha(rest.get(..len).unwrap_or_default()), len)
        }
    };
    *s = rest.get(len..).unwrap_or_default();
    Some(token)
}

/// rpm's `rpmvercmp`: compares two version (or release, or epoch) strings.
///
/// Ranking of one position: `~` < end of string < `^` < letters < digits.
pub fn vercmp(a: &str, b: &str) -> Ordering {
    if a == b {
        return Ordering::Equal;
    }
    let (mut a, mut b) = (a.as_bytes(), b.as_bytes());
    loop {
        let (ta, tb) = (next_token(&mut a), next_token(&mut b));
        let rank = |t: Option<Token>| match t {
            Some(Token::Tilde) => 0,
            None => 1,
            Some(Token::Caret) => 2,
            Some(Token::Alpha(_)) => 3,
            Some(Token::Digits(_)) => 4,
        };
        let order = match (ta, tb) {
            (None, None) => return Ordering::Equal,
            (Some(Token::Alpha(x)), Some(Token::Alpha(y))) => x.cmp(y),
            (Some(Token::Digits(x)), Some(Token::Digits(y))) => {
                let trim = |d: &'_ [u8]| -> usize { d.iter().take_while(|&&c| c == b'0').count() };
                let (x, y) = (x.get(trim(x)..).unwrap_or_default(), y.get(trim(y)..).unwrap_or_default());
                x.len().cmp(&y.len()).then_with(|| x.cmp(y))
            }
            (ta, tb) => rank(ta).cmp(&rank(tb)),
        };
        if order != Ordering::Equal {
            return order;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rpmvercmp_rules() {
        let less = [
            ("1.0", "1.0.1"),
            ("1.0~rc1", "1.0"),
            ("1.0~rc1", "1.0~rc2"),
            ("1.0~~", "1.0~"),
            ("1.0", "1.0^"),
            ("1.0^", "1.0^git1"),
            ("1.0^git1", "1.0.1"),
            ("1.0^git1", "1.0a"),
            ("1.0a", "1.0.1"),
            ("a", "b"),
            ("2", "10"),
            ("Z", "a"),
        ];
        for (a, b) in less {
            assert_eq!(vercmp(a, b), Ordering::Less, "{a} < {b}");
            assert_eq!(vercmp(b, a), Ordering::Greater, "{b} > {a}");
        }
        for (a, b) in [("1.0", "1_0"), ("1.01", "1.1"), ("1.0.", "1.0"), ("", "..")] {
            assert_eq!(vercmp(a, b), Ordering::Equal, "{a} = {b}");
        }
    }

    #[test]
    fn evr_parts() {
        assert_eq!(compare("1.0", "1.0-1"), Ordering::Less);
        assert_eq!(compare(":1.0", "0:1.0"), Ordering::Equal);
        assert_eq!(compare("1a:2", "1a:2"), Ordering::Equal);
        let odd = Evr::parse("1a:2-3");
        assert_eq!((odd.epoch(), odd.version(), odd.release()), (None, "1a:2", Some("3")));
    }
}
