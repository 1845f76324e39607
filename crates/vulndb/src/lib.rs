//! Vulnerability data: feeds in their upstream formats, the compiled database file,
//! matching an inventory against it, and urgency.
//!
//! Architecture invariant: knows nothing of HTTP servers or the console. Feed parsers
//! never panic on input and report what they skipped.

pub mod bundle;
pub mod db;
pub mod feed;
pub mod ignore;
pub mod matcher;
pub mod model;
pub mod update;
pub mod urgency;

pub use db::{BuildStats, Database, DbError, DbStatus};
pub use feed::{FeedError, Feeds, load_dir};
pub use matcher::{Finding, Matches, VulnSource, match_inventory};
pub use model::{Affected, Cvss, Ecosystem, Range, RangeKind, SourceInfo, Status, Vulnerability};
pub use urgency::{Urgency, UrgencyPolicy};

/// Reads a feed directory (laid out like the project's `vulndata`) into records ready to
/// build a database; the builder `update` uses. Fails when the directory holds no feed.
pub fn records_from_dir(dir: &std::path::Path) -> Result<update::Records, String> {
    let feeds = load_dir(dir).map_err(|e| e.to_string())?;
    if feeds.sources.is_empty() {
        return Err(format!("{}: no vulnerability feed found", dir.display()));
    }
    if !feeds.problems.is_empty() {
        tracing::info!(
            count = feeds.problems.len(),
            "feed records were repaired or skipped (CGUARD_LOG=debug lists them)"
        );
    }
    for p in &feeds.problems {
        tracing::debug!(source = %p.source, location = %p.location, "feed problem: {}", p.message);
    }
    Ok((feeds.vulnerabilities, feeds.affected, feeds.sources))
}

/// Builds the database at `db` from the feed directory `dir` (`cguard db build`).
pub fn build_from_dir(dir: &std::path::Path, db: &std::path::Path) -> Result<BuildStats, String> {
    let (vulns, affected, sources) = records_from_dir(dir)?;
    Database::build(vulns, affected, sources, db).map_err(|e| e.to_string())
}

/// The default database location: `$CGUARD_DB`, else `$XDG_CACHE_HOME/cguard/vuln.db`,
/// else `~/.cache/cguard/vuln.db`.
pub fn default_db_path() -> std::path::PathBuf {
    if let Some(p) = std::env::var_os("CGUARD_DB") {
        return p.into();
    }
    let cache = std::env::var_os("XDG_CACHE_HOME").map(std::path::PathBuf::from).unwrap_or_else(|| {
        std::env::var_os("HOME").map(std::path::PathBuf::from).unwrap_or_else(|| "/var/cache".into()).join(".cache")
    });
    cache.join("cguard").join("vuln.db")
}
