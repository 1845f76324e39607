//! The normalised vulnerability model every feed is read into and the database stores.
//!
//! One [`Vulnerability`] per identifier a feed publishes (CVE id, GHSA id, DSA id, OSV id),
//! with what is known of it (text, dates, CVSS). One [`Affected`] per (vulnerability,
//! ecosystem, package) saying which versions are affected and what the distribution or
//! ecosystem decided about it.

use serde::{Deserialize, Serialize};

/// Where package names and versions of an [`Affected`] entry live. Distribution
/// ecosystems carry their release (`debian:12`, `alpine:3.19`, `ubuntu:22.04`,
/// `rocky:9`); language ecosystems are bare OSV names (`PyPI`, `npm`, `Go`, `crates.io`,
/// `Maven`, `RubyGems`, `Packagist`, `NuGet`).
pub type Ecosystem = String;

/// What a feed says about one package and one vulnerability.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// Affected below a fixed version (`ranges` / `fixed_version` say which).
    Fixed,
    /// Affected, and no fix is available yet.
    Affected,
    /// The distribution decided not to fix it (Debian `<ignored>`, Ubuntu `ignored`).
    WillNotFix,
    /// Debian `no-dsa`: minor, fixed (if ever) in a point release, not a security update.
    NoDsa,
    /// Debian `<postponed>`: fix deferred to a later update.
    Postponed,
    /// The release is out of support: no fix will come for it.
    EndOfLife,
    /// The package in this release is not affected.
    NotAffected,
    /// Debian `unimportant`: not a security problem in practice; never a finding.
    Unimportant,
}

/// How a range's versions are ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RangeKind {
    /// The ecosystem's own version order (dpkg, apk, rpm, PEP 440, Maven, ...).
    Ecosystem,
    /// Semantic versioning (OSV `SEMVER`, used by Go and crates.io).
    Semver,
    /// Commits (OSV `GIT`): kept, but not matched against installed versions.
    Git,
}

/// One OSV-style range: affected from `introduced` (inclusive; `None` = from the first
/// version) until `fixed` (exclusive) or through `last_affected` (inclusive).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Range {
    pub kind: RangeKind,
    pub introduced: Option<String>,
    pub fixed: Option<String>,
    pub last_affected: Option<String>,
}

/// One affected package of one vulnerability in one ecosystem.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Affected {
    /// The [`Vulnerability::id`] this belongs to.
    pub vulnerability: String,
    pub ecosystem: Ecosystem,
    /// Distributions: the SOURCE package name (Debian source, Alpine origin, rpm source
    /// name). Language ecosystems: the package name as the ecosystem spells it (PyPI names
    /// in PEP 503 form, Maven `group:artifact`, Go module path).
    pub package: String,
    pub status: Status,
    /// Affected ranges (any one matching means affected).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ranges: Vec<Range>,
    /// Explicitly affected versions (OSV `affected.versions`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub versions: Vec<String>,
    /// The first fixed version, for the solution text, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fixed_version: Option<String>,
    /// The distribution's own urgency or severity word (`low`, `medium`, `high`,
    /// `unimportant`, `not yet assigned`, Alpine/Red Hat severities, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub distro_urgency: Option<String>,
    /// Distribution advisories fixing it (`DSA-5678-1`, `DLA-3456-1`, `USN-…`, `ALSA-…`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub advisories: Vec<String>,
    /// Free text from the feed (Debian `nodsa_reason`, notes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// A CVSS assessment, vector kept as published.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cvss {
    /// `3.1`, `3.0`, `4.0`, `2.0`.
    pub version: String,
    pub vector: String,
    pub base_score: f64,
    /// Who published it (`nvd@nist.gov`, a CNA short name, `CISA-ADP`, `GHSA`).
    pub source: String,
}

/// What is known of one vulnerability identifier.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Vulnerability {
    /// `CVE-2024-1234`, `GHSA-xxxx-xxxx-xxxx`, `GO-2024-0001`, `RUSTSEC-2024-0001`, `PYSEC-…`.
    pub id: String,
    /// Other ids for the same thing (CVE ids of a GHSA, ...).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// RFC 3339 dates, when published.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub published: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub modified: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cvss: Vec<Cvss>,
    /// A severity word when no CVSS is published (GHSA `database_specific.severity`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub severity: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub references: Vec<String>,
    /// Withdrawn records stay in the database (so that a finding can say so) but never match.
    #[serde(default)]
    pub withdrawn: bool,
}

/// Which feed a record came from, with the feed's own timestamp where it has one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceInfo {
    /// `debian-tracker`, `osv:PyPI`, `alpine-secdb:v3.19/main`, `cve5`, `nvd`.
    pub name: String,
    /// Where it was read from (path or URL).
    pub location: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated: Option<String>,
    pub vulnerabilities: u64,
    pub affected: u64,
}
