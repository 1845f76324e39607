//! Go module versions, parsed and ordered as `golang.org/x/mod/semver` does.
//!
//! A version is `vMAJOR[.MINOR[.PATCH[-PRERELEASE][+BUILD]]]`: the `v` is required, numbers have no leading zeros
//! and any length, and the shorthands `v1` and `v1.2` (meaning `v1.0.0` and `v1.2.0`) take no pre-release or
//! build. Build metadata, including `+incompatible`, is ignored. Pseudo-versions such as
//! `v0.0.0-20210101000000-abcdef123456` or `v1.2.4-0.20210101000000-abcdef123456` are ordinary pre-releases and
//! therefore sort by their timestamp, before the release they lead up to.
//!
//! [`compare`] rejects invalid versions; [`compare_lenient`] behaves exactly like `semver.Compare`, where an
//! invalid version is smaller than any valid one and all invalid versions are equal.
//!
//! ```
//! use std::cmp::Ordering;
//! use vercmp::go::{compare, compare_lenient};
//!
//! assert_eq!(compare("v1.2", "v1.2.0").unwrap(), Ordering::Equal);
//! assert_eq!(compare("v2.0.0+incompatible", "v2.0.0").unwrap(), Ordering::Equal);
//! assert_eq!(
//!     compare("v0.0.0-20210101000000-abcdef123456", "v0.0.0-20220101000000-123456abcdef").unwrap(),
//!     Ordering::Less
//! );
//! assert_eq!(compare("v1.2.4-0.20210101000000-abcdef123456", "v1.2.4").unwrap(), Ordering::Less);
//! assert!(compare("1.2.3", "v1.2.3").is_err());
//! assert_eq!(compare_lenient("bad", "v0.0.0"), Ordering::Less);
//! ```

use std::cmp::Ordering;

use crate::num::all_digits;
use crate::{ParseError, Scheme};

/// A parsed Go module version.
#[derive(Debug, Clone)]
pub struct Version {
    major: String,
    minor: String,
    patch: String,
    /// Pre-release identifiers without the leading `-` (empty for a release).
    pre: String,
}

fn err(version: &str, reason: &'static str) -> ParseError {
    ParseError::new(Scheme::Go, version, reason)
}

/// A number without leading zeros.
fn valid_number(s: &str) -> bool {
    all_digits(s) && !(s.len() > 1 && s.starts_with('0'))
}

fn valid_identifiers(s: &str, pre: bool) -> bool {
    s.split('.').all(|id| {
        !id.is_empty()
            && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            && !(pre && all_digits(id) && id.len() > 1 && id.starts_with('0'))
    })
}

impl Version {
    /// Parses a version as `semver.IsValid` accepts it.
    pub fn parse(input: &str) -> Result<Version, ParseError> {
        let Some(s) = input.strip_prefix('v') else {
            return Err(err(input, "missing v prefix"));
        };
        let (rest, build) = match s.split_once('+') {
            Some((rest, build)) => (rest, Some(build)),
            None => (s, None),
        };
        let (main, pre) = match rest.split_once('-') {
            Some((main, pre)) => (main, Some(pre)),
            None => (rest, None),
        };
        if build.is_some_and(|b| !valid_identifiers(b, false)) {
            return Err(err(input, "invalid build metadata"));
        }
        if pre.is_some_and(|p| !valid_identifiers(p, true)) {
            return Err(err(input, "invalid pre-release"));
        }
        let parts: Vec<&str> = main.splitn(4, '.').collect();
        if parts.len() > 3 || !parts.iter().all(|p| valid_number(p)) {
            return Err(err(input, "expected vMAJOR[.MINOR[.PATCH]] without leading zeros"));
        }
        if parts.len() < 3 && (pre.is_some() || build.is_some()) {
            return Err(err(input, "shorthand version with pre-release or build"));
        }
        let part = |i: usize| parts.get(i).copied().unwrap_or("0").to_owned();
        Ok(Version { major: part(0), minor: part(1), patch: part(2), pre: pre.unwrap_or("").to_owned() })
    }

    /// The pre-release identifiers, dot-separated, without the leading `-` (empty for a release).
    pub fn pre(&self) -> &str {
        &self.pre
    }

    /// Whether this is a pseudo-version: a pre-release whose last dot- or dash-separated parts are a 14-digit
    /// timestamp and a 12-character commit hash.
    pub fn is_pseudo(&self) -> bool {
        let mut tail = self.pre.rsplitn(2, '-');
        let (Some(hash), Some(head)) = (tail.next(), tail.next()) else {
            return false;
        };
        let stamp = head.rsplit('.').next().unwrap_or(head);
        hash.len() == 12
            && hash.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
            && stamp.len() == 14
            && all_digits(stamp)
    }
}

fn cmp_prerelease(a: &str, b: &str) -> Ordering {
    match (a.is_empty(), b.is_empty()) {
        (true, true) => return Ordering::Equal,
        (true, false) => return Ordering::Greater,
        (false, true) => return Ordering::Less,
        (false, false) => {}
    }
    let mut right = b.split('.');
    for x in a.split('.') {
        let Some(y) = right.next() else {
            return Ordering::Greater;
        };
        let order = match (all_digits(x), all_digits(y)) {
            (true, true) => x.len().cmp(&y.len()).then_with(|| x.cmp(y)),
            (true, false) => Ordering::Less,
            (false, true) => Ordering::Greater,
            (false, false) => x.cmp(y),
        };
        if order != Ordering::Equal {
            return order;
        }
    }
    if right.next().is_none() { Ordering::Equal } else { Ordering::Less }
}

impl Ord for Version {
    fn cmp(&self, other: &Self) -> Ordering {
        // Numbers have no leading zeros, so the longer one is larger.
        let num = |a: &str, b: &str| a.len().cmp(&b.len()).then_with(|| a.cmp(b));
        num(&self.major, &other.major)
            .then_with(|| num(&self.minor, &other.minor))
            .then_with(|| num(&self.patch, &other.patch))
            .then_with(|| cmp_prerelease(&self.pre, &other.pre))
    }
}

crate::order_by_cmp!(Version);

/// Compares two Go versions, rejecting invalid ones.
pub fn compare(a: &str, b: &str) -> Result<Ordering, ParseError> {
    Ok(Version::parse(a)?.cmp(&Version::parse(b)?))
}

/// Compares like `semver.Compare`: invalid versions sort before valid ones and equal to each other.
pub fn compare_lenient(a: &str, b: &str) -> Ordering {
    match (Version::parse(a), Version::parse(b)) {
        (Ok(a), Ok(b)) => a.cmp(&b),
        (Ok(_), Err(_)) => Ordering::Greater,
        (Err(_), Ok(_)) => Ordering::Less,
        (Err(_), Err(_)) => Ordering::Equal,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pseudo_versions() {
        let v = Version::parse("v0.0.0-20210101000000-abcdef123456").unwrap();
        assert!(v.is_pseudo());
        assert!(Version::parse("v1.2.4-0.20210101000000-abcdef123456").unwrap().is_pseudo());
        assert!(Version::parse("v1.2.4-pre.0.20210101000000-abcdef123456+incompatible").unwrap().is_pseudo());
        assert!(!Version::parse("v1.2.4-rc.1").unwrap().is_pseudo());
        let sorted = [
            "v1.2.3",
            "v1.2.4-0.20200101000000-ffffffffffff",
            "v1.2.4-0.20210101000000-000000000000",
            "v1.2.4-pre",
            "v1.2.4-pre.0.20210101000000-000000000000",
            "v1.2.4",
        ];
        for w in sorted.windows(2) {
            assert_eq!(compare(w[0], w[1]).unwrap(), Ordering::Less, "{} < {}", w[0], w[1]);
        }
    }

    #[test]
    fn numbers_have_any_length() {
        assert_eq!(compare("v1.19.0", "v1.2.0").unwrap(), Ordering::Greater);
        assert_eq!(compare("v100000000000000000000.0.0", "v99999999999999999999.0.0").unwrap(), Ordering::Greater);
    }

    #[test]
    fn grammar() {
        for bad in [
            "",
            "v",
            "1.2.3",
            "v01.2.3",
            "v1.2.3.4",
            "v1.2-pre",
            "v1+meta",
            "v1.2.3-",
            "v1.2.3-01",
            "V1.2.3",
            "v1.2.3 ",
            " v1.2.3",
        ] {
            assert!(Version::parse(bad).is_err(), "{bad:?} should be rejected");
        }
        assert!(Version::parse("v1.2.3-0").is_ok());
        assert!(Version::parse("v1.2.3+0001").is_ok());
    }
}
