//! What the database says about itself: build time, cguard version, sources and counts.

use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::model::SourceInfo;

/// The metadata section, stored as JSON: it is small, read once at open, and JSON keeps
/// it readable with ordinary tools when something has to be investigated.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Metadata {
    pub(crate) format_version: u32,
    /// Seconds since the Unix epoch.
    pub(crate) built_at: i64,
    pub(crate) cguard_version: String,
    pub(crate) sources: Vec<SourceInfo>,
    pub(crate) vulnerabilities: u64,
    pub(crate) affected: u64,
    pub(crate) packages: u64,
}

/// What `cguard db status` shows: age, sources and counts of an opened database.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DbStatus {
    /// The file the database was opened from.
    pub path: PathBuf,
    /// The file's format version.
    pub format_version: u32,
    /// When it was built, seconds since the Unix epoch.
    pub built_at_unix: i64,
    /// When it was built, RFC 3339 in UTC.
    pub built_at: String,
    /// How long ago it was built (zero if the build time lies in the future).
    pub age_seconds: u64,
    /// The cguard version that built it.
    pub cguard_version: String,
    /// The feeds it was built from, with their own timestamps and counts.
    pub sources: Vec<SourceInfo>,
    /// Number of vulnerability records.
    pub vulnerabilities: u64,
    /// Number of affected-package records.
    pub affected: u64,
    /// Number of distinct (ecosystem, package) pairs.
    pub packages: u64,
    /// The ecosystems present, sorted.
    pub ecosystems: Vec<String>,
    /// Size of the file in bytes.
    pub file_size: u64,
}

impl DbStatus {
    /// How long ago the database was built.
    pub fn age(&self) -> Duration {
        Duration::from_secs(self.age_seconds)
    }

    /// Whether the database is older than `max_age` (a scan warns then).
    pub fn is_older_than(&self, max_age: Duration) -> bool {
        self.age() > max_age
    }
}

/// Seconds since the Unix epoch now (zero before 1970, which only a broken clock gives).
pub(crate) fn now_unix() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX)).unwrap_or(0)
}

/// Formats Unix seconds as RFC 3339 in UTC; out-of-range values fall back to the number.
pub(crate) fn rfc3339(unix: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| t.format(&time::format_description::well_known::Rfc3339).ok())
        .unwrap_or_else(|| unix.to_string())
}

/// Seconds from `then` (Unix seconds) to now, zero if `then` is in the future.
pub(crate) fn age_seconds(then: i64) -> u64 {
    u64::try_from(now_unix().saturating_sub(then)).unwrap_or(0)
}
