//! Which feeds `cguard db update` downloads, from where, with which limits.

use std::path::{Component, Path};

use serde::{Deserialize, Serialize};

/// The upstream format of a feed; tells where the builder expects it in the feed
/// directory (the layout of `cguard db build --from DIR`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FeedKind {
    /// Debian Security Tracker JSON export (`debian/tracker.json`).
    DebianTracker,
    /// Debian DSA or DLA list of the security tracker (`debian/DSA/list`, `debian/DLA/list`).
    DebianAdvisories,
    /// Alpine secdb JSON of one release and repository (`alpine/vX.Y/main.json`).
    AlpineSecdb,
    /// An OSV ecosystem's `all.zip` (`osv/<Ecosystem>/all.zip`).
    OsvZip,
    /// CVE JSON 5 records (`cve/*.json`).
    Cve5,
    /// NVD API 2.0 JSON (`nvd/*.json`).
    Nvd,
}

/// How to check a download's integrity, where the upstream publishes a checksum.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Checksum {
    /// The expected SHA-256, hex.
    Sha256(String),
    /// A URL serving the SHA-256 (`sha256sum` output: the first word is the hex digest).
    Sha256Url(String),
}

/// One feed to download.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeedSpec {
    /// A stable name, also the key of the remembered ETag/Last-Modified
    /// (`debian-tracker`, `osv:PyPI`, `alpine:v3.20/main`).
    pub name: String,
    pub kind: FeedKind,
    pub url: String,
    /// Where the file goes in the feed directory the builder reads (relative, no `..`).
    pub path: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checksum: Option<Checksum>,
    /// A download larger than this is refused.
    #[serde(default = "default_max_bytes")]
    pub max_bytes: u64,
}

fn default_max_bytes() -> u64 {
    DEFAULT_MAX_BYTES
}

/// The default size limit of one feed: the largest upstream files (the Debian tracker
/// export, the Debian and Ubuntu OSV archives) are a few hundred MB.
pub const DEFAULT_MAX_BYTES: u64 = 1 << 30;

/// Everything `update` needs besides the database path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpdateConfig {
    pub feeds: Vec<FeedSpec>,
    /// Seconds to wait for a connection.
    #[serde(default = "default_connect_timeout")]
    pub connect_timeout_secs: u64,
    /// Seconds one download may take in total.
    #[serde(default = "default_timeout")]
    pub timeout_secs: u64,
    /// Ignore `HTTP(S)_PROXY` from the environment (proxies are used by default).
    #[serde(default)]
    pub no_proxy: bool,
}

fn default_connect_timeout() -> u64 {
    30
}

fn default_timeout() -> u64 {
    30 * 60
}

impl Default for UpdateConfig {
    fn default() -> Self {
        UpdateConfig {
            feeds: default_feeds(),
            connect_timeout_secs: default_connect_timeout(),
            timeout_secs: default_timeout(),
            no_proxy: false,
        }
    }
}

/// OSV ecosystems downloaded by default, as OSV spells them (also the directory name).
pub const DEFAULT_OSV_ECOSYSTEMS: &[&str] = &[
    "Debian",
    "Ubuntu",
    "Alpine",
    "Red Hat",
    "Rocky Linux",
    "AlmaLinux",
    "PyPI",
    "npm",
    "Go",
    "crates.io",
    "Maven",
    "RubyGems",
    "Packagist",
    "NuGet",
];

/// Alpine releases whose secdb is downloaded by default (main and community).
pub const DEFAULT_ALPINE_RELEASES: &[&str] = &["v3.18", "v3.19", "v3.20", "v3.21", "v3.22"];

fn spec(name: String, kind: FeedKind, url: String, path: String) -> FeedSpec {
    FeedSpec { name, kind, url, path, checksum: None, max_bytes: DEFAULT_MAX_BYTES }
}

/// The real upstream locations. None of them publishes a checksum beside the file; the
/// transport is HTTPS and the builder validates the content.
pub fn default_feeds() -> Vec<FeedSpec> {
    let mut feeds = vec![
        spec(
            "debian-tracker".into(),
            FeedKind::DebianTracker,
            "https://security-tracker.debian.org/tracker/data/json".into(),
            "debian/tracker.json".into(),
        ),
        spec(
            "debian-dsa".into(),
            FeedKind::DebianAdvisories,
            "https://salsa.debian.org/security-tracker-team/security-tracker/-/raw/master/data/DSA/list".into(),
            "debian/DSA/list".into(),
        ),
        spec(
            "debian-dla".into(),
            FeedKind::DebianAdvisories,
            "https://salsa.debian.org/security-tracker-team/security-tracker/-/raw/master/data/DLA/list".into(),
            "debian/DLA/list".into(),
        ),
    ];
    for release in DEFAULT_ALPINE_RELEASES {
        for repo in ["main", "community"] {
            feeds.push(spec(
                format!("alpine:{release}/{repo}"),
                FeedKind::AlpineSecdb,
                format!("https://secdb.alpinelinux.org/{release}/{repo}.json"),
                format!("alpine/{release}/{repo}.json"),
            ));
        }
    }
    for eco in DEFAULT_OSV_ECOSYSTEMS {
        feeds.push(spec(
            format!("osv:{eco}"),
            FeedKind::OsvZip,
            format!("https://osv-vulnerabilities.storage.googleapis.com/{}/all.zip", eco.replace(' ', "%20")),
            format!("osv/{eco}/all.zip"),
        ));
    }
    feeds
}

/// Checks what would otherwise fail late or write outside the staging directory.
pub(crate) fn validate(config: &UpdateConfig) -> Result<(), String> {
    if config.feeds.is_empty() {
        return Err("no feeds are configured".into());
    }
    let mut names = std::collections::HashSet::new();
    let mut paths = std::collections::HashSet::new();
    for f in &config.feeds {
        if !names.insert(f.name.as_str()) {
            return Err(format!("feed name `{}` is configured twice", f.name));
        }
        let p = Path::new(&f.path);
        if f.path.is_empty() || !p.components().all(|c| matches!(c, Component::Normal(_))) {
            return Err(format!("feed `{}`: path `{}` must be relative without `..`", f.name, f.path));
        }
        if p.file_name().is_some_and(|n| n == super::STATE_FILE) {
            return Err(format!("feed `{}`: path `{}` is reserved", f.name, f.path));
        }
        if !paths.insert(p) {
            return Err(format!("feed `{}`: path `{}` is used by another feed", f.name, f.path));
        }
        if !(f.url.starts_with("http://") || f.url.starts_with("https://")) {
            return Err(format!("feed `{}`: url `{}` is not http(s)", f.name, f.url));
        }
    }
    Ok(())
}
