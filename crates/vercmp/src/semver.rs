//! npm versions, parsed and ordered as node's `semver` package does with default options (`semver.compare`).
//!
//! A version is `[v]MAJOR.MINOR.PATCH[-PRERELEASE][+BUILD]` after trimming whitespace, at most 256 UTF-16 units
//! long before trimming. Numbers have no leading zeros and must not exceed 2^53 - 1; pre-release identifiers are
//! non-empty runs of `[0-9A-Za-z-]`, numeric ones without leading zeros. Build metadata is ignored.
//!
//! Pre-release identifiers compare like node does: numeric identifiers sort before the others and compare as
//! JavaScript numbers, so two numeric identifiers of 2^53 or more that round to the same double compare equal —
//! and, as in node, that ends the comparison on the spot, even when later identifiers differ.
//!
//! ```
//! use std::cmp::Ordering;
//! use vercmp::semver::{Version, compare};
//!
//! assert_eq!(compare("1.0.0-alpha.1", "1.0.0-alpha.beta").unwrap(), Ordering::Less);
//! assert_eq!(compare("1.0.0-rc.1", "1.0.0").unwrap(), Ordering::Less);
//! assert_eq!(compare("v1.0.0+build.5", " 1.0.0 ").unwrap(), Ordering::Equal);
//! assert!(Version::parse("1.0").is_err());
//! assert!(Version::parse("01.0.0").is_err());
//! ```

use std::cmp::Ordering;

use crate::{ParseError, Scheme};

/// node `semver`'s `MAX_LENGTH`, in UTF-16 code units.
const MAX_LENGTH: usize = 256;

/// JavaScript's `Number.MAX_SAFE_INTEGER`.
const MAX_SAFE_INTEGER: u64 = (1 << 53) - 1;

/// A parsed npm version.
#[derive(Debug, Clone)]
pub struct Version {
    major: u64,
    minor: u64,
    patch: u64,
    pre: Vec<String>,
}

fn err(version: &str, reason: &'static str) -> ParseError {
    ParseError::new(Scheme::Semver, version, reason)
}

/// The characters JavaScript's `String.prototype.trim` removes.
fn is_js_space(c: char) -> bool {
    matches!(
        c,
        '\t' | '\n' | '\u{0b}' | '\u{0c}' | '\r' | ' ' | '\u{a0}' | '\u{1680}' | '\u{2000}'
            ..='\u{200a}' | '\u{2028}' | '\u{2029}' | '\u{202f}' | '\u{205f}' | '\u{3000}' | '\u{feff}'
    )
}

fn is_ident_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'-'
}

/// A main version number: `0` or digits without a leading zero, at most `MAX_SAFE_INTEGER`.
fn parse_number(input: &str, digits: &str) -> Result<u64, ParseError> {
    if !crate::num::all_digits(digits) || (digits.len() > 1 && digits.starts_with('0')) {
        return Err(err(input, "not a MAJOR.MINOR.PATCH version"));
    }
    match digits.parse::<u64>() {
        Ok(n) if n <= MAX_SAFE_INTEGER => Ok(n),
        _ => Err(err(input, "version number exceeds Number.MAX_SAFE_INTEGER")),
    }
}

/// Checks dot-separated identifiers; numeric pre-release identifiers must not have leading zeros.
fn valid_identifiers(s: &str, pre: bool) -> bool {
    s.split('.').all(|id| {
        !id.is_empty()
            && id.bytes().all(is_ident_char)
            && !(pre && crate::num::all_digits(id) && id.len() > 1 && id.starts_with('0'))
    })
}

impl Version {
    /// Parses a version as `new SemVer(version)` does.
    pub fn parse(input: &str) -> Result<Version, ParseError> {
        if input.encode_utf16().count() > MAX_LENGTH {
            return Err(err(input, "version is longer than 256 characters"));
        }
        let s = input.trim_matches(is_js_space);
        let s = s.strip_prefix('v').unwrap_or(s);
        let (s, build) = match s.split_once('+') {
            Some((main, build)) => (main, Some(build)),
            None => (s, None),
        };
        if build.is_some_and(|b| !valid_identifiers(b, false)) {
            return Err(err(input, "invalid build metadata"));
        }
        let (main, pre) = match s.split_once('-') {
            Some((main, pre)) => (main, Some(pre)),
            None => (s, None),
        };
        if pre.is_some_and(|p| !valid_identifiers(p, true)) {
            return Err(err(input, "invalid pre-release identifier"));
        }
        let mut parts = main.split('.');
        let (Some(major), Some(minor), Some(patch), None) = (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(err(input, "not a MAJOR.MINOR.PATCH version"));
        };
        Ok(Version {
            major: parse_number(input, major)?,
            minor: parse_number(input, minor)?,
            patch: parse_number(input, patch)?,
            pre: pre.map(|p| p.split('.').map(str::to_owned).collect()).unwrap_or_default(),
        })
    }

    /// Major, minor and patch numbers.
    pub fn triple(&self) -> (u64, u64, u64) {
        (self.major, self.minor, self.patch)
    }

    /// Pre-release identifiers (empty for a release).
    pub fn pre(&self) -> &[String] {
        &self.pre
    }
}

/// node's `compareIdentifiers`: numeric identifiers compare as JavaScript numbers and sort first.
fn compare_identifiers(a: &str, b: &str) -> Ordering {
    let (a_num, b_num) = (crate::num::all_digits(a), crate::num::all_digits(b));
    match (a_num, b_num) {
        (true, true) => {
            // Numbers below 2^53 are exact doubles; larger ones round as JavaScript's Number() rounds them.
            let (x, y) = (a.parse::<f64>().unwrap_or(f64::INFINITY), b.parse::<f64>().unwrap_or(f64::INFINITY));
            x.partial_cmp(&y).unwrap_or(Ordering::Equal)
        }
        (true, false) => Ordering::Less,
        (false, true) => Ordering::Greater,
        (false, false) => a.cmp(b),
    }
}

impl Ord for Version {
    fn cmp(&self, other: &Self) -> Ordering {
        let main = (self.major, self.minor, self.patch).cmp(&(other.major, other.minor, other.patch));
        if main != Ordering::Equal {
            return main;
        }
        match (self.pre.is_empty(), other.pre.is_empty()) {
            (true, true) => return Ordering::Equal,
            (false, true) => return Ordering::Less,
            (true, false) => return Ordering::Greater,
            (false, false) => {}
        }
        let mut i = 0;
        loop {
            match (self.pre.get(i), other.pre.get(i)) {
                (None, None) => return Ordering::Equal,
                (Some(_), None) => return Ordering::Greater,
                (None, Some(_)) => return Ordering::Less,
                // Identical identifiers move on to the next; any other pair decides, even when it compares
                // equal (two large numbers rounding to the same double), exactly as node does.
                (Some(a), Some(b)) if a == b => i += 1,
                (Some(a), Some(b)) => return compare_identifiers(a, b),
            }
        }
    }
}

crate::order_by_cmp!(Version);

/// Compares two npm versions as `semver.compare(a, b)` does.
pub fn compare(a: &str, b: &str) -> Result<Ordering, ParseError> {
    Ok(Version::parse(a)?.cmp(&Version::parse(b)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_order() {
        let sorted = [
            "1.0.0-alpha",
            "1.0.0-alpha.1",
            "1.0.0-alpha.beta",
            "1.0.0-beta",
            "1.0.0-beta.2",
            "1.0.0-beta.11",
            "1.0.0-rc.1",
            "1.0.0",
            "2.0.0",
            "2.1.0",
            "2.1.1",
        ];
        for w in sorted.windows(2) {
            assert_eq!(compare(w[0], w[1]).unwrap(), Ordering::Less, "{} < {}", w[0], w[1]);
        }
    }

    #[test]
    fn grammar() {
        for ok in ["0.0.0", "v1.2.3", "\u{feff}1.2.3\n", "1.2.3-0a", "1.2.3--", "1.2.3+001", "9007199254740991.0.0"] {
            assert!(Version::parse(ok).is_ok(), "{ok:?} should parse");
        }
        for bad in ["", "1.2", "1.2.3.4", "=1.2.3", "V1.2.3", "1.2.3-01", "1.2.3-", "1.2.3+", "1.2.3-a..b", "01.2.3"] {
            assert!(Version::parse(bad).is_err(), "{bad:?} should be rejected");
        }
        assert!(Version::parse("9007199254740992.0.0").is_err());
        // "1.0.0-" plus 250 letters is exactly 256 characters long.
        assert!(Version::parse(&format!("1.0.0-{}", "a".repeat(251))).is_err());
        assert!(Version::parse(&format!("1.0.0-{}", "a".repeat(250))).is_ok());
    }

    #[test]
    fn huge_prerelease_numbers_round_like_javascript() {
        assert_eq!(compare("1.0.0-9007199254740993", "1.0.0-9007199254740992").unwrap(), Ordering::Equal);
        assert_eq!(compare("1.0.0-9007199254740993.b", "1.0.0-9007199254740992.a").unwrap(), Ordering::Equal);
        assert_eq!(compare("1.0.0-9007199254740993.b", "1.0.0-9007199254740993.a").unwrap(), Ordering::Greater);
    }
}
