//! The crate's integration tests, in one binary: one module per area.

mod apk_vectors;
mod cargo_reference;
mod common;
mod dpkg_reference;
mod go_reference;
mod maven_reference;
mod pep440_reference;
mod properties;
mod rpm_reference;
mod rubygems_reference;
mod semver_reference;
