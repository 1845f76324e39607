//! Version ordering for every package ecosystem cguard matches. No I/O.
//!
//! Each ecosystem orders versions by its own rules, and a vulnerability matcher is only as good as its agreement
//! with the package manager that installed the package. Every module here therefore follows one reference
//! implementation, including its odd corners, and the integration tests compare thousands of generated pairs
//! against that reference:
//!
//! | scheme | reference |
//! | --- | --- |
//! | [`Scheme::Dpkg`] | `dpkg --compare-versions` |
//! | [`Scheme::Rpm`] | `rpm.labelCompare` over `rpm.ver` (rpm 4.18) |
//! | [`Scheme::Apk`] | apk-tools' version comparison and its published test vectors |
//! | [`Scheme::Semver`] | node `semver` (npm), default options |
//! | [`Scheme::Cargo`] | the Rust `semver` crate |
//! | [`Scheme::Pep440`] | Python `packaging.version.Version` |
//! | [`Scheme::Maven`] | Maven's `ComparableVersion` (maven-artifact 3.8) |
//! | [`Scheme::Go`] | `golang.org/x/mod/semver` |
//! | [`Scheme::RubyGems`] | `Gem::Version` |
//!
//! Schemes whose reference has a grammar (semver, Cargo, PEP 440, Go, RubyGems, and dpkg's hard syntax errors)
//! reject invalid versions with a [`ParseError`]. Schemes whose reference compares anything it is given (rpm, apk,
//! Maven) never fail. No function in this crate panics, whatever the input.
//!
//! ```
//! use std::cmp::Ordering;
//! use vercmp::{Scheme, compare};
//!
//! assert_eq!(compare(Scheme::Dpkg, "1.0~rc1-1", "1.0-1").unwrap(), Ordering::Less);
//! assert_eq!(compare(Scheme::Rpm, "1.0^git1", "1.0").unwrap(), Ordering::Greater);
//! assert_eq!(compare(Scheme::Pep440, "1.0.post1", "1.0").unwrap(), Ordering::Greater);
//! assert_eq!(compare(Scheme::Maven, "1.0-SNAPSHOT", "1.0").unwrap(), Ordering::Less);
//! assert!(compare(Scheme::Semver, "1.0", "1.0.0").is_err());
//! ```

pub mod apk;
pub mod cargo;
pub mod dpkg;
mod error;
pub mod go;
pub mod maven;
mod num;
pub mod pep440;
pub mod rpm;
pub mod rubygems;
pub mod semver;

use std::cmp::Ordering;
use std::fmt;

pub use error::ParseError;

/// Implements `PartialOrd`, `PartialEq` and `Eq` from a type's `Ord`, so that equality
/// means "same place in the order" (as the version schemes define it), not "same text".
#[macro_export]
#[doc(hidden)]
macro_rules! order_by_cmp {
    ($t:ty) => {
        impl PartialOrd for $t {
            fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
                Some(self.cmp(other))
            }
        }

        impl PartialEq for $t {
            fn eq(&self, other: &Self) -> bool {
                self.cmp(other) == std::cmp::Ordering::Equal
            }
        }

        impl Eq for $t {}
    };
}

/// A version ordering scheme: one per package ecosystem.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scheme {
    /// Debian packages (`dpkg`), see [`dpkg`].
    Dpkg,
    /// RPM packages (EVR strings), see [`rpm`].
    Rpm,
    /// Alpine packages, see [`apk`].
    Apk,
    /// npm packages, ordered as node's `semver` package does, see [`semver`].
    Semver,
    /// Cargo crates, ordered as the Rust `semver` crate does, see [`cargo`].
    Cargo,
    /// Python packages (PEP 440), see [`pep440`].
    Pep440,
    /// Maven artifacts, see [`maven`].
    Maven,
    /// Go modules, see [`go`].
    Go,
    /// Ruby gems, see [`rubygems`].
    RubyGems,
}

impl Scheme {
    /// Every scheme, in declaration order.
    pub const ALL: [Scheme; 9] = [
        Scheme::Dpkg,
        Scheme::Rpm,
        Scheme::Apk,
        Scheme::Semver,
        Scheme::Cargo,
        Scheme::Pep440,
        Scheme::Maven,
        Scheme::Go,
        Scheme::RubyGems,
    ];

    /// A short lower-case name of the scheme, as used in error messages.
    ///
    /// ```
    /// assert_eq!(vercmp::Scheme::Pep440.name(), "pep440");
    /// ```
    pub fn name(self) -> &'static str {
        match self {
            Scheme::Dpkg => "dpkg",
            Scheme::Rpm => "rpm",
            Scheme::Apk => "apk",
            Scheme::Semver => "semver",
            Scheme::Cargo => "cargo",
            Scheme::Pep440 => "pep440",
            Scheme::Maven => "maven",
            Scheme::Go => "go",
            Scheme::RubyGems => "rubygems",
        }
    }
}

impl Scheme {
    /// The scheme with the given [`name`](Scheme::name), if any.
    ///
    /// ```
    /// assert_eq!(vercmp::Scheme::from_name("rubygems"), Some(vercmp::Scheme::RubyGems));
    /// assert_eq!(vercmp::Scheme::from_name("nuget"), None);
    /// ```
    pub fn from_name(name: &str) -> Option<Scheme> {
        Scheme::ALL.into_iter().find(|s| s.name() == name)
    }
}

impl fmt::Display for Scheme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Compares two versions under `scheme`.
///
/// Returns an error when either version is invalid under a scheme that has a grammar; see the module of each
/// scheme for what it accepts. Never panics, whatever the strings hold, so it is also the entry point for
/// fuzzing.
///
/// ```
/// use std::cmp::Ordering;
/// use vercmp::{Scheme, compare};
///
/// assert_eq!(compare(Scheme::Go, "v1.2.3", "v1.2.3+incompatible").unwrap(), Ordering::Equal);
/// assert_eq!(compare(Scheme::RubyGems, "1.0.a", "1.0").unwrap(), Ordering::Less);
/// assert_eq!(compare(Scheme::Apk, "1.0_rc1", "1.0").unwrap(), Ordering::Less);
/// assert_eq!(compare(Scheme::Cargo, "1.0.0+b", "1.0.0+a").unwrap(), Ordering::Greater);
/// ```
pub fn compare(scheme: Scheme, a: &str, b: &str) -> Result<Ordering, ParseError> {
    match scheme {
        Scheme::Dpkg => dpkg::compare(a, b),
        Scheme::Rpm => Ok(rpm::compare(a, b)),
        Scheme::Apk => Ok(apk::compare(a, b)),
        Scheme::Semver => semver::compare(a, b),
        Scheme::Cargo => cargo::compare(a, b),
        Scheme::Pep440 => pep440::compare(a, b),
        Scheme::Maven => Ok(maven::compare(a, b)),
        Scheme::Go => go::compare(a, b),
        Scheme::RubyGems => rubygems::compare(a, b),
    }
}
