//! Cargo versions, parsed and ordered as the Rust `semver` crate's `Version` is.
//!
//! A version is exactly `MAJOR.MINOR.PATCH[-PRERELEASE][+BUILD]`: no `v` prefix, no whitespace, numbers without
//! leading zeros that fit in 64 bits, identifiers that are non-empty runs of `[0-9A-Za-z-]`, numeric pre-release
//! identifiers without leading zeros. Unlike npm, the order takes build metadata into account after everything
//! else, so two versions compare equal only when they are the same version.
//!
//! ```
//! use std::cmp::Ordering;
//! use vercmp::cargo::{Version, compare};
//!
//! assert_eq!(compare("1.0.0-alpha.1", "1.0.0-alpha").unwrap(), Ordering::Greater);
//! assert_eq!(compare("1.0.0+build.1", "1.0.0").unwrap(), Ordering::Greater);
//! assert_eq!(compare("1.0.0+b.10", "1.0.0+b.9").unwrap(), Ordering::Greater);
//! assert!(Version::parse("v1.0.0").is_err());
//! assert!(Version::parse("1.0.0-01").is_err());
//! ```

use std::cmp::Ordering;

use crate::num::all_digits;
use crate::{ParseError, Scheme};

/// A parsed Cargo version.
#[derive(Debug, Clone)]
pub struct Version {
    major: u64,
    minor: u64,
    patch: u64,
    pre: String,
    build: String,
}

fn err(version: &str, reason: &'static str) -> ParseError {
    ParseError::new(Scheme::Cargo, version, reason)
}

fn parse_number(input: &str, digits: &str) -> Result<u64, ParseError> {
    if !all_digits(digits) {
        return Err(err(input, "expected MAJOR.MINOR.PATCH numbers"));
    }
    if digits.len() > 1 && digits.starts_with('0') {
        return Err(err(input, "invalid leading zero in version number"));
    }
    digits.parse().map_err(|_| err(input, "version number exceeds u64::MAX"))
}

fn check_identifiers(input: &str, ids: &str, pre: bool) -> Result<(), ParseError> {
    for id in ids.split('.') {
        if id.is_empty() {
            return Err(err(input, "empty identifier segment"));
        }
        if !id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
            return Err(err(input, "unexpected character in identifier"));
        }
        if pre && all_digits(id) && id.len() > 1 && id.starts_with('0') {
            return Err(err(input, "invalid leading zero in pre-release identifier"));
        }
    }
    Ok(())
}

impl Version {
    /// Parses a version as `semver::Version::parse` does.
    pub fn parse(input: &str) -> Result<Version, ParseError> {
        if input.is_empty() {
            return Err(err(input, "empty string"));
        }
        let (rest, build) = input.split_once('+').unwrap_or((input, ""));
        if input.contains('+') {
            check_identifiers(input, build, false)?;
        }
        let (main, pre) = rest.split_once('-').unwrap_or((rest, ""));
        if rest.contains('-') {
            check_identifiers(input, pre, true)?;
        }
        let mut parts = main.split('.');
        let (Some(major), Some(minor), Some(patch), None) = (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(err(input, "expected MAJOR.MINOR.PATCH"));
        };
        Ok(Version {
            major: parse_number(input, major)?,
            minor: parse_number(input, minor)?,
            patch: parse_number(input, patch)?,
            pre: pre.to_owned(),
            build: build.to_owned(),
        })
    }

    /// Major, minor and patch numbers.
    pub fn triple(&self) -> (u64, u64, u64) {
        (self.major, self.minor, self.patch)
    }

    /// The pre-release identifiers, dot-separated (empty for a release).
    pub fn pre(&self) -> &str {
        &self.pre
    }

    /// The build metadata, dot-separated (empty when absent).
    pub fn build(&self) -> &str {
        &self.build
    }
}

/// Compares dot-separated identifiers: numeric ones by value and before alphanumeric ones, alphanumeric ones
/// in ASCII order, and a list that is a prefix of the other first. In build metadata, numbers equal in value
/// are told apart by their length, so that `1` < `01`.
fn cmp_identifiers(a: &str, b: &str, build: bool) -> Ordering {
    let mut right = b.split('.');
    for left in a.split('.') {
        let Some(right) = right.next() else {
            return Ordering::Greater;
        };
        // An empty string counts as numeric here, which only matters for empty build metadata: it then sorts
        // before any other metadata.
        let (ln, rn) = (left.bytes().all(|c| c.is_ascii_digit()), right.bytes().all(|c| c.is_ascii_digit()));
        let order = match (ln, rn) {
            (true, true) => {
                let by_value = crate::num::cmp_digits(left, right);
                if build { by_value.then_with(|| left.len().cmp(&right.len())) } else { by_value }
            }
            (true, false) => Ordering::Less,
            (false, true) => Ordering::Greater,
            (false, false) => left.cmp(right),
        };
        if order != Ordering::Equal {
            return order;
        }
    }
    if right.next().is_none() { Ordering::Equal } else { Ordering::Less }
}

impl Ord for Version {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.major, self.minor, self.patch)
            .cmp(&(other.major, other.minor, other.patch))
            .then_with(|| match (self.pre.is_empty(), other.pre.is_empty()) {
                (true, true) => Ordering::Equal,
                (true, false) => Ordering::Greater,
                (false, true) => Ordering::Less,
                (false, false) => cmp_identifiers(&self.pre, &other.pre, false),
            })
            .then_with(|| cmp_identifiers(&self.build, &other.build, true))
    }
}

crate::order_by_cmp!(Version);

/// Compares two Cargo versions as `semver::Version`'s `Ord` does.
pub fn compare(a: &str, b: &str) -> Result<Ordering, ParseError> {
    Ok(Version::parse(a)?.cmp(&Version::parse(b)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn build_metadata_breaks_ties() {
        let sorted = ["1.0.0-1", "1.0.0-a", "1.0.0", "1.0.0+0", "1.0.0+1", "1.0.0+01", "1.0.0+2", "1.0.0+a"];
        for w in sorted.windows(2) {
            assert_eq!(compare(w[0], w[1]).unwrap(), Ordering::Less, "{} < {}", w[0], w[1]);
        }
    }

    #[test]
    fn grammar() {
        for bad in ["", "1", "1.0", "1.0.0.0", " 1.0.0", "1.0.0-", "1.0.0+", "1.0.0-a..b", "1.0.0-$", "01.0.0"] {
            assert!(Version::parse(bad).is_err(), "{bad:?} should be rejected");
        }
        assert!(Version::parse("18446744073709551615.0.0").is_ok());
        assert!(Version::parse("18446744073709551616.0.0").is_err());
        assert!(Version::parse("1.0.0+001").is_ok());
    }
}
