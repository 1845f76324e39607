//! `cguard db update`: download the configured feeds and swap in a database built from
//! them, keeping the old database whenever anything goes wrong.
//!
//! Files beside the database `DIR/NAME`:
//!
//! * `DIR/NAME.feeds/` — the feed files of the last successful update and `state.json`
//!   (ETag, Last-Modified, SHA-256 and size of each), used for conditional requests.
//! * `DIR/.NAME.staging/` — the next feed directory while an update runs. Feeds the
//!   server reports unchanged (304) are hard-linked in from the cache.
//! * `DIR/.NAME.update.lock` — held while an update runs, so two never interleave.
//!
//! Steps: download every feed into staging (any failure stops here); build the records
//! with the caller's builder (the feed parsers); write the new database beside the old
//! one and open it to check it; rename it over the old one; then make staging the new
//! cache. Until the rename the old database is untouched, so every failure before it
//! (HTTP error, truncated download, checksum mismatch, a feed the builder rejects, disk
//! full) leaves the old database in place and usable; the error names the feed and cause.

mod config;
mod fetch;
mod state;

use std::fs::File;
use std::path::{Path, PathBuf};
use std::time::Duration;

pub use config::{
    Checksum, DEFAULT_ALPINE_RELEASES, DEFAULT_MAX_BYTES, DEFAULT_OSV_ECOSYSTEMS, FeedKind, FeedSpec, UpdateConfig,
    default_feeds,
};
pub use state::FeedState;

use crate::db::{BuildStats, Database, DbError, parent_dir, sync_dir};
use crate::model::{Affected, SourceInfo, Vulnerability};
use fetch::Fetched;
use state::State;

/// The name of the state file in the feed cache directory.
pub const STATE_FILE: &str = "state.json";

/// What the builder returns: all records and the sources they came from.
pub type Records = (Vec<Vulnerability>, Vec<Affected>, Vec<SourceInfo>);

/// Turns a feed directory into records (`feed::load_dir` in the CLI); an `Err` is a
/// feed the parsers cannot use, and stops the update.
pub type Builder<'a> = &'a dyn Fn(&Path) -> Result<Records, String>;

/// Why an update failed. In every case the previous database is still in place.
#[derive(Debug, thiserror::Error)]
pub enum UpdateError {
    /// The configuration is unusable.
    #[error("invalid update configuration: {0}")]
    Config(String),
    /// Another update of the same database is running.
    #[error("another update of {0} is running")]
    Busy(PathBuf),
    /// One feed could not be downloaded or checked.
    #[error("feed `{feed}` ({url}): {reason}; the previous database is kept")]
    Feed { feed: String, url: String, reason: String },
    /// The builder rejected the downloaded feeds.
    #[error("building from the downloaded feeds failed: {0}; the previous database is kept")]
    Build(String),
    /// Writing or checking the new database failed.
    #[error("writing the new database failed: {0}; the previous database is kept")]
    Database(#[source] DbError),
    /// Preparing the files beside the database failed.
    #[error("{action} {path}: {source}; the previous database is kept")]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// What happened to one feed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedOutcome {
    pub name: String,
    pub url: String,
    /// `false` when the server said the cached copy is current (HTTP 304).
    pub downloaded: bool,
    pub size: u64,
    pub sha256: String,
}

/// The result of a successful update.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpdateReport {
    pub feeds: Vec<FeedOutcome>,
    /// `None` when every feed was unchanged and the database was kept as it was.
    pub built: Option<BuildStats>,
    /// Problems after the new database was in place (the feed cache could not be
    /// renewed, so the next update downloads everything again).
    pub warnings: Vec<String>,
}

/// The sibling paths an update uses for the database at `db_path`.
struct Paths {
    dir: PathBuf,
    cache: PathBuf,
    staging: PathBuf,
    lock: PathBuf,
    new_db: PathBuf,
}

impl Paths {
    fn new(db_path: &Path) -> Paths {
        let dir = parent_dir(db_path);
        let name = db_path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "vuln.db".into());
        Paths {
            cache: dir.join(format!("{name}.feeds")),
            staging: dir.join(format!(".{name}.staging")),
            lock: dir.join(format!(".{name}.update.lock")),
            new_db: dir.join(format!(".{name}.new")),
            dir,
        }
    }
}

fn io(action: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> UpdateError {
    let path = path.to_path_buf();
    move |source| UpdateError::Io { action, path, source }
}

/// Removes the staging directory and the unfinished new database when dropped, so that
/// every early return cleans up.
struct Cleanup<'a>(&'a Paths);

impl Drop for Cleanup<'_> {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0.staging);
        let _ = std::fs::remove_file(&self.0.new_db);
    }
}

/// Downloads the configured feeds and replaces the database at `db_path` with one built
/// from them by `build`. See the module documentation for the guarantees.
pub fn update(config: &UpdateConfig, db_path: &Path, build: Builder<'_>) -> Result<UpdateReport, UpdateError> {
    config::validate(config).map_err(UpdateError::Config)?;
    let paths = Paths::new(db_path);
    std::fs::create_dir_all(&paths.dir).map_err(io("creating", &paths.dir))?;
    let lock = File::create(&paths.lock).map_err(io("creating", &paths.lock))?;
    if lock.try_lock().is_err() {
        return Err(UpdateError::Busy(db_path.to_path_buf()));
    }
    let _cleanup = Cleanup(&paths);
    // Leftovers of an update that crashed.
    let _ = std::fs::remove_dir_all(&paths.staging);
    std::fs::create_dir(&paths.staging).map_err(io("creating", &paths.staging))?;

    let old = State::load(&paths.cache.join(STATE_FILE));
    let client = client(config)?;
    let mut new = State::default();
    let mut outcomes = Vec::new();
    for feed in &config.feeds {
        let fetched = fetch::fetch(&client, feed, old.feeds.get(&feed.name), &paths.cache, &paths.staging)
            .map_err(|reason| UpdateError::Feed { feed: feed.name.clone(), url: feed.url.clone(), reason })?;
        let (downloaded, st) = match fetched {
            Fetched::Downloaded(st) => (true, st),
            Fetched::NotModified(st) => (false, st),
        };
        tracing::info!(feed = %feed.name, downloaded, size = st.size, "feed ready");
        outcomes.push(FeedOutcome {
            name: feed.name.clone(),
            url: feed.url.clone(),
            downloaded,
            size: st.size,
            sha256: st.sha256.clone(),
        });
        new.feeds.insert(feed.name.clone(), st);
    }

    // Nothing changed and the database is fine: keep it as it is.
    if outcomes.iter().all(|o| !o.downloaded) && new == old && Database::open(db_path).is_ok() {
        return Ok(UpdateReport { feeds: outcomes, built: None, warnings: Vec::new() });
    }

    let (vulns, affected, mut sources) = build(&paths.staging).map_err(UpdateError::Build)?;
    for s in &mut sources {
        s.location = public_location(&s.location, &paths, config);
    }
    let stats = Database::build(vulns, affected, sources, &paths.new_db).map_err(UpdateError::Database)?;
    // Check the new file the way a scan will read it before it replaces anything.
    Database::open(&paths.new_db).map_err(UpdateError::Database)?;
    std::fs::rename(&paths.new_db, db_path).map_err(io("renaming the new database over", db_path))?;
    sync_dir(&paths.dir);

    let mut warnings = Vec::new();
    if let Err(e) = renew_cache(&paths, &new) {
        warnings.push(format!("the feed cache {} was not renewed: {e}", paths.cache.display()));
    }
    Ok(UpdateReport { feeds: outcomes, built: Some(stats), warnings })
}

fn client(config: &UpdateConfig) -> Result<reqwest::blocking::Client, UpdateError> {
    let mut b = reqwest::blocking::Client::builder()
        .user_agent(concat!("cguard/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(Duration::from_secs(config.connect_timeout_secs))
        .timeout(Duration::from_secs(config.timeout_secs));
    if config.no_proxy {
        b = b.no_proxy();
    }
    b.build().map_err(|e| UpdateError::Config(format!("HTTP client: {}", fetch::describe(&e))))
}

/// A source location as users should see it: the feed URL for a file in staging (with
/// any `!member` suffix of an archive kept), else the path in the cache directory that
/// staging is about to become.
fn public_location(location: &str, paths: &Paths, config: &UpdateConfig) -> String {
    let Ok(rel) = Path::new(location.split('!').next().unwrap_or(location)).strip_prefix(&paths.staging) else {
        return location.to_owned();
    };
    let suffix = location.find('!').and_then(|i| location.get(i..)).unwrap_or("");
    match config.feeds.iter().find(|f| Path::new(&f.path) == rel) {
        Some(f) => format!("{}{suffix}", f.url),
        None => format!("{}{suffix}", paths.cache.join(rel).display()),
    }
}

/// Makes the staging directory the new feed cache, with the state that describes it.
fn renew_cache(paths: &Paths, state: &State) -> std::io::Result<()> {
    state.save(&paths.staging.join(STATE_FILE))?;
    let old = paths.dir.join(format!(
        ".{}.old",
        paths.cache.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
    ));
    let _ = std::fs::remove_dir_all(&old);
    if paths.cache.exists() {
        std::fs::rename(&paths.cache, &old)?;
    }
    std::fs::rename(&paths.staging, &paths.cache)?;
    let _ = std::fs::remove_dir_all(&old);
    sync_dir(&paths.dir);
    Ok(())
}
