//! The error returned for versions a scheme's grammar rejects.

use std::fmt;

use crate::Scheme;

/// How many characters of the offending version an error keeps; longer inputs are cut so that an error never
/// holds an unbounded copy of its input.
const KEPT_CHARS: usize = 100;

/// A version string that the scheme's reference implementation rejects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    scheme: Scheme,
    version: String,
    reason: &'static str,
}

impl ParseError {
    pub(crate) fn new(scheme: Scheme, version: &str, reason: &'static str) -> Self {
        let mut kept: String = version.chars().take(KEPT_CHARS).collect();
        if kept.len() < version.len() {
            kept.push('…');
        }
        ParseError { scheme, version: kept, reason }
    }

    /// The scheme whose grammar rejected the version.
    pub fn scheme(&self) -> Scheme {
        self.scheme
    }

    /// The rejected version, cut to its first 100 characters.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// Why the version was rejected.
    pub fn reason(&self) -> &'static str {
        self.reason
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid {} version {:?}: {}", self.scheme, self.version, self.reason)
    }
}

impl std::error::Error for ParseError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_versions_are_cut() {
        let long = "9".repeat(1000);
        let err = ParseError::new(Scheme::Go, &long, "too long");
        assert_eq!(err.version().chars().count(), KEPT_CHARS + 1);
        assert!(err.to_string().starts_with("invalid go version \"999"));
        assert!(err.to_string().ends_with("…\": too long"));
    }
}
