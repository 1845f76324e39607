//! The server's vulnerability database: one file (`--vuln-db`), opened when first needed
//! and opened again whenever the file was replaced (`cguard db update` and `cguard db
//! import` swap it atomically), so that every process notices a new database.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use scan::vulns::{DatabaseSummary, VulnOptions};

/// A loaded database and what identifies it.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub options: Arc<VulnOptions>,
    /// Identifies the database's content (build time and size): results record it.
    pub version: String,
    pub status: vulndb::DbStatus,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stamp {
    dev: u64,
    ino: u64,
    len: u64,
    mtime_ns: i128,
}

fn stamp(path: &Path) -> Option<Stamp> {
    let m = std::fs::metadata(path).ok()?;
    Some(Stamp {
        dev: m.dev(),
        ino: m.ino(),
        len: m.len(),
        mtime_ns: i128::from(m.mtime()) * 1_000_000_000 + i128::from(m.mtime_nsec()),
    })
}

#[derive(Debug)]
pub struct VulnDb {
    path: PathBuf,
    state: Mutex<Option<(Stamp, Result<Loaded, String>)>>,
}

impl VulnDb {
    pub fn new(path: impl Into<PathBuf>) -> VulnDb {
        VulnDb { path: path.into(), state: Mutex::new(None) }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The database as the file is now, or why there is none.
    pub fn current(&self) -> Result<Loaded, String> {
        let Some(now) = stamp(&self.path) else {
            return Err(format!(
                "no vulnerability database at {}: run `cguard db update` or `cguard db import`",
                self.path.display()
            ));
        };
        let mut state = self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some((seen, loaded)) = state.as_ref()
            && *seen == now
        {
            return loaded.clone();
        }
        let loaded = open(&self.path);
        match &loaded {
            Ok(l) => tracing::info!(path = %self.path.display(), version = %l.version, "vulnerability database opened"),
            Err(e) => tracing::warn!(error = %e, "vulnerability database unusable"),
        }
        *state = Some((now, loaded.clone()));
        loaded
    }
}

fn open(path: &Path) -> Result<Loaded, String> {
    let db = vulndb::Database::open(path).map_err(|e| format!("opening {}: {e}", path.display()))?;
    let status = db.status();
    let version = format!("{}#{}", status.built_at, status.file_size);
    let database = DatabaseSummary {
        path: path.display().to_string(),
        built: Some(status.built_at.clone()),
        sources: status.sources.iter().map(|s| s.name.clone()).collect(),
    };
    let today = crate::rfc3339(crate::now_ms()).get(..10).unwrap_or_default().to_owned();
    let options = VulnOptions {
        source: Arc::new(db),
        policy: vulndb::UrgencyPolicy::default(),
        ignore: Default::default(),
        database,
        today,
    };
    Ok(Loaded { options: Arc::new(options), version, status })
}
