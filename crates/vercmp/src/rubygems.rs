//! Ruby gem versions, parsed and ordered as `Gem::Version` does.
//!
//! A version is a number followed by `.`-separated alphanumeric segments, optionally followed by `-` and
//! `.`-separated segments of letters, digits and hyphens (each `-` reads as `.pre.`); ASCII whitespace around it
//! is ignored, and an empty or blank version means `0`. Anything else is malformed, as `Gem::Version.new`
//! raises for it.
//!
//! The version is cut into runs of digits and runs of letters. Zeros at the end of the leading numeric part and
//! at the end of the whole are dropped, then runs compare one by one, a missing run counting as `0`: numbers
//! compare as numbers, letters byte by byte (so case matters), and letters sort before numbers — which is what
//! makes `1.0.a` a pre-release of `1.0`.
//!
//! ```
//! use std::cmp::Ordering;
//! use vercmp::rubygems::{Version, compare};
//!
//! assert_eq!(compare("1.0.0.rc1", "1.0.0").unwrap(), Ordering::Less);
//! assert_eq!(compare("1.0.a", "1.0.b").unwrap(), Ordering::Less);
//! assert_eq!(compare("1.0-1", "1.0.pre.1").unwrap(), Ordering::Equal);
//! assert_eq!(compare("1.0.0", "1").unwrap(), Ordering::Equal);
//! assert_eq!(compare("", "0").unwrap(), Ordering::Equal);
//! assert!(Version::parse("1.0 beta").is_err());
//! ```

use std::cmp::Ordering;

use crate::num::{cmp_digits, is_zero};
use crate::{ParseError, Scheme};

/// One run of a version.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    /// Digits, without leading zeros (empty for zero).
    Number(String),
    /// Letters.
    Text(String),
}

/// A parsed gem version, kept as its canonical segments.
#[derive(Debug, Clone)]
pub struct Version {
    segments: Vec<Segment>,
}

/// Ruby's `\s`: ASCII whitespace including vertical tab.
fn is_ruby_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\u{0b}' | '\u{0c}' | '\r')
}

/// Whether `s` (already trimmed) matches `Gem::Version`'s version pattern.
fn matches_pattern(s: &str) -> bool {
    let (release, pre) = match s.split_once('-') {
        Some((release, pre)) => (release, Some(pre)),
        None => (s, None),
    };
    let mut parts = release.split('.');
    let leading_number = parts.next().is_some_and(crate::num::all_digits);
    let release_ok = leading_number && parts.all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_alphanumeric()));
    // The part after the first `-` may contain more hyphens: they are part of its segments.
    let pre_ok = pre.is_none_or(|p| {
        p.split('.').all(|seg| !seg.is_empty() && seg.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
    });
    release_ok && pre_ok
}

impl Version {
    /// Parses a version as `Gem::Version.new` does.
    pub fn parse(input: &str) -> Result<Version, ParseError> {
        let trimmed = input.trim_matches(is_ruby_space);
        if !trimmed.is_empty() && !matches_pattern(trimmed) {
            return Err(ParseError::new(Scheme::RubyGems, input, "malformed version number string"));
        }
        let mut runs = Vec::new();
        let bytes = trimmed.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            let Some(&b) = bytes.get(i) else { break };
            let len = if b.is_ascii_digit() {
                bytes.get(i..).unwrap_or_default().iter().take_while(|c| c.is_ascii_digit()).count()
            } else if b.is_ascii_alphabetic() {
                bytes.get(i..).unwrap_or_default().iter().take_while(|c| c.is_ascii_alphabetic()).count()
            } else {
                // A separator. A hyphen stands for `.pre.`, which adds a `pre` run.
                if b == b'-' {
                    runs.push(Segment::Text("pre".to_owned()));
                }
                i += 1;
                continue;
            };
            let run = trimmed.get(i..i + len).unwrap_or_default();
            runs.push(if b.is_ascii_digit() {
                Segment::Number(run.trim_start_matches('0').to_owned())
            } else {
                Segment::Text(run.to_owned())
            });
            i += len;
        }
        Ok(Version { segments: canonical(runs) })
    }
}

fn is_zero_segment(s: &Segment) -> bool {
    matches!(s, Segment::Number(n) if is_zero(n))
}

/// Drops trailing zeros from the numeric part before the first letters and from the rest.
fn canonical(mut runs: Vec<Segment>) -> Vec<Segment> {
    let text_start = runs.iter().position(|s| matches!(s, Segment::Text(_))).unwrap_or(runs.len());
    let mut rest = runs.split_off(text_start);
    while runs.last().is_some_and(is_zero_segment) {
        runs.pop();
    }
    while rest.last().is_some_and(is_zero_segment) {
        rest.pop();
    }
    runs.append(&mut rest);
    runs
}

impl Ord for Version {
    fn cmp(&self, other: &Self) -> Ordering {
        let zero = Segment::Number(String::new());
        let len = self.segments.len().max(other.segments.len());
        for i in 0..len {
            let a = self.segments.get(i).unwrap_or(&zero);
            let b = other.segments.get(i).unwrap_or(&zero);
            let order = match (a, b) {
                (Segment::Number(x), Segment::Number(y)) => cmp_digits(x, y),
                (Segment::Text(_), Segment::Number(_)) => Ordering::Less,
                (Segment::Number(_), Segment::Text(_)) => Ordering::Greater,
                (Segment::Text(x), Segment::Text(y)) => x.as_bytes().cmp(y.as_bytes()),
            };
            if order != Ordering::Equal {
                return order;
            }
        }
        Ordering::Equal
    }
}

crate::order_by_cmp!(Version);

/// Compares two gem versions as `Gem::Version#<=>` does.
pub fn compare(a: &str, b: &str) -> Result<Ordering, ParseError> {
    Ok(Version::parse(a)?.cmp(&Version::parse(b)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prerelease_order() {
        let sorted = ["1.0.a", "1.0.a.1", "1.0.b", "1.0.rc1", "1.0", "1.0.1", "1.1.a", "1.1"];
        for w in sorted.windows(2) {
            assert_eq!(compare(w[0], w[1]).unwrap(), Ordering::Less, "{} < {}", w[0], w[1]);
        }
        assert_eq!(compare("1.0.A", "1.0.a").unwrap(), Ordering::Less);
        assert_eq!(compare("1.a.0", "1.0.a").unwrap(), Ordering::Equal);
    }

    #[test]
    fn grammar() {
        for ok in ["", "  ", "1", " 1.0 ", "1.0a", "1.a", "1-a-b", "1.0-rc.1", "1--", "\u{0b}2\n"] {
            assert!(Version::parse(ok).is_ok(), "{ok:?} should parse");
        }
        for bad in ["a", "1a", "1.", ".1", "1..0", "1.0-", "1.0-a.", "1_0", "1.0 a", "v1.0", "1.0\u{a0}"] {
            assert!(Version::parse(bad).is_err(), "{bad:?} should be rejected");
        }
    }
}
