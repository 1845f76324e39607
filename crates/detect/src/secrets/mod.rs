//! Hard-coded secrets: private keys, cloud access keys, tokens of common services,
//! passwords in configuration and `.env` files, credentials in URLs and on command lines
//! in shell histories and build steps, and secrets in the image config (ENV, labels,
//! history).
//!
//! [`Scanner`] is an [`image::LayerVisitor`]: it reads the files [`select`] picks as the
//! layers stream past, in every layer, so that a secret a later layer deletes is still
//! reported (it stays extractable from the image). [`scan_config`] covers the config.
//! Findings never hold a whole secret: the matched text is [masked](mask::mask).

mod engine;
mod generic;
pub mod mask;
mod packaged;
mod placeholder;
mod rules;
pub mod select;

use std::io::{self, Read};

use image::{FileEntry, FileTree, ImageConfig, LayerVisitor};
use serde::{Deserialize, Serialize};

pub use select::FileKind;

use engine::{Hit, Target, scan_text};

/// How bad a leaked secret is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Low,
    Medium,
    High,
    Critical,
}

/// Where a finding was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Origin {
    /// A file of the image; `path` is its absolute path.
    File,
    /// An `Env` entry of the image config; `line` is its 1-based index.
    ConfigEnv,
    /// A label of the image config; `line` is its 1-based index in key order.
    ConfigLabel,
    /// A build step of the image history; `line` is its 1-based index.
    History,
}

/// One secret found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecretFinding {
    /// Stable rule id (`aws-access-key-id`, `private-key`, `hardcoded-password`, ...).
    pub rule_id: String,
    pub title: String,
    pub severity: Severity,
    pub origin: Origin,
    /// Absolute path in the image for files; `image-config:Env`, `image-config:Labels`
    /// or `image-config:history` for the config.
    pub path: String,
    /// 1-based line in the file, or index in the config list.
    pub line: u32,
    /// The matched text with the secret masked (`AKIA****WXYZ`).
    pub masked: String,
    /// Index of the layer holding the file (0 = base), or of the layer a build step made.
    pub layer: Option<u32>,
    /// The file is in `layer` but a later layer deleted or replaced it: it is not in the
    /// final filesystem, yet anyone with the image can still extract it.
    pub removed: bool,
}

/// Pseudo-paths of config findings.
pub const CONFIG_ENV_PATH: &str = "image-config:Env";
pub const CONFIG_LABELS_PATH: &str = "image-config:Labels";
pub const CONFIG_HISTORY_PATH: &str = "image-config:history";

/// Options of the secret scanner.
#[derive(Debug, Clone)]
pub struct Options {
    /// Files larger than this are not read. Credential files and configuration are a
    /// few kilobytes; the bound keeps the scan fast and its memory small.
    pub max_file_bytes: u64,
}

impl Default for Options {
    fn default() -> Self {
        Options { max_file_bytes: 2 << 20 }
    }
}

/// What the scanner read, for reports and benchmarks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ScanStats {
    pub files_read: u64,
    pub bytes_read: u64,
    /// Files skipped after their first block showed a NUL byte.
    pub binary_skipped: u64,
    /// Files skipped for their size.
    pub large_skipped: u64,
}

/// The secret scanner: feed it to [`image::Image::read`], then call [`Scanner::finish`].
#[derive(Debug, Default)]
pub struct Scanner {
    options: Options,
    /// Findings with the ordinal of their tar member and the MD5 of the file.
    found: Vec<(u64, String, SecretFinding)>,
    /// Conffile lists of every copy of the dpkg status database: (layer, ordinal, list).
    conffiles: Vec<(u32, u64, packaged::Conffiles)>,
    stats: ScanStats,
    buf: Vec<u8>,
}

/// Bytes looked at to tell a binary file (one with a NUL byte) from a text file.
const SNIFF_BYTES: usize = 8 << 10;

impl Scanner {
    pub fn new(options: Options) -> Self {
        Scanner { options, ..Default::default() }
    }

    /// What was read so far.
    pub fn stats(&self) -> ScanStats {
        self.stats
    }

    /// The findings, each marked [`removed`](SecretFinding::removed) when its copy is not
    /// the one in the final tree; sorted by path, line and rule. Findings in configuration
    /// files left exactly as their OS package shipped them are dropped (see [`packaged`]).
    pub fn finish(self, tree: &FileTree) -> Vec<SecretFinding> {
        let empty = packaged::Conffiles::new();
        let conffiles = self
            .conffiles
            .iter()
            .find(|(layer, ordinal, _)| tree.is_visible(packaged::DPKG_STATUS, *layer, *ordinal))
            .map_or(&empty, |(_, _, c)| c);
        let mut out: Vec<SecretFinding> = self
            .found
            .into_iter()
            .filter(|(_, md5, f)| conffiles.get(&f.path) != Some(md5))
            .map(|(ordinal, _, mut f)| {
                f.removed = !tree.is_visible(&f.path, f.layer.unwrap_or(0), ordinal);
                f
            })
            .collect();
        out.sort_by(|a, b| (&a.path, a.line, a.layer, &a.rule_id).cmp(&(&b.path, b.line, b.layer, &b.rule_id)));
        out
    }
}

impl LayerVisitor for Scanner {
    fn wants(&mut self, path: &str, entry: &FileEntry) -> bool {
        if path == packaged::DPKG_STATUS {
            return entry.size <= packaged::MAX_STATUS_BYTES;
        }
        if entry.size == 0 || select::classify(path).is_none() {
            return false;
        }
        if entry.size > self.options.max_file_bytes {
            self.stats.large_skipped += 1;
            return false;
        }
        true
    }

    fn visit(&mut self, path: &str, entry: &FileEntry, content: &mut dyn Read) -> io::Result<()> {
        if path == packaged::DPKG_STATUS {
            let mut status = Vec::new();
            content.take(packaged::MAX_STATUS_BYTES).read_to_end(&mut status)?;
            let list = packaged::parse_conffiles(&String::from_utf8_lossy(&status));
            self.conffiles.push((entry.layer, entry.ordinal, list));
            return Ok(());
        }
        let Some(kind) = select::classify(path) else { return Ok(()) };
        let mut buf = std::mem::take(&mut self.buf);
        buf.clear();
        let cap = self.options.max_file_bytes;
        let mut limited = content.take(cap);
        // Read the first block alone: a binary file stops there.
        (&mut limited).take(SNIFF_BYTES as u64).read_to_end(&mut buf)?;
        if buf.contains(&0) {
            self.stats.binary_skipped += 1;
            self.buf = buf;
            return Ok(());
        }
        limited.read_to_end(&mut buf)?;
        self.stats.files_read += 1;
        self.stats.bytes_read += buf.len() as u64;
        let hits = scan_text(&buf, Target::File { kind, name: image::path::file_name(path) });
        let md5 = if hits.is_empty() { String::new() } else { packaged::md5_hex(&buf) };
        for hit in hits {
            let line = hit.line;
            let finding = SecretFinding::from_hit(hit, Origin::File, path, line, Some(entry.layer));
            self.found.push((entry.ordinal, md5.clone(), finding));
        }
        self.buf = buf;
        Ok(())
    }
}

impl SecretFinding {
    /// The finding of a rule match at `path`, `line` (a file line, or the entry's place in
    /// a config list).
    fn from_hit(hit: Hit, origin: Origin, path: &str, line: u32, layer: Option<u32>) -> SecretFinding {
        SecretFinding {
            rule_id: hit.rule_id.to_owned(),
            title: hit.title.to_owned(),
            severity: hit.severity,
            origin,
            path: path.to_owned(),
            line,
            masked: hit.masked,
            layer,
            removed: false,
        }
    }
}

/// Scans the contents of one file as if it were at `path` in an image (for callers that
/// have a file outside of a layer stream). Findings carry no layer.
pub fn scan_file(path: &str, content: &[u8]) -> Vec<SecretFinding> {
    let Some(kind) = select::classify(path) else { return Vec::new() };
    if content.iter().take(SNIFF_BYTES).any(|&b| b == 0) {
        return Vec::new();
    }
    scan_text(content, Target::File { kind, name: image::path::file_name(path) })
        .into_iter()
        .map(|hit| {
            let line = hit.line;
            SecretFinding::from_hit(hit, Origin::File, path, line, None)
        })
        .collect()
}

/// Scans the image config: every `Env` entry, every label (as `key=value`) and every
/// build step of the history (`created_by`), where build arguments and `RUN` command
/// lines leak credentials.
pub fn scan_config(config: &ImageConfig) -> Vec<SecretFinding> {
    let mut out = Vec::new();
    let run = config.config.as_ref();
    let finding = |hit: Hit, origin, path: &str, index: usize, layer| {
        SecretFinding::from_hit(hit, origin, path, u32::try_from(index + 1).unwrap_or(u32::MAX), layer)
    };
    for (i, env) in run.and_then(|r| r.env.as_deref()).unwrap_or_default().iter().enumerate() {
        for hit in scan_text(env.as_bytes(), Target::ConfigValue) {
            out.push(finding(hit, Origin::ConfigEnv, CONFIG_ENV_PATH, i, None));
        }
    }
    if let Some(labels) = run.and_then(|r| r.labels.as_ref()) {
        for (i, (k, v)) in labels.iter().enumerate() {
            for hit in scan_text(format!("{k}={v}").as_bytes(), Target::ConfigValue) {
                out.push(finding(hit, Origin::ConfigLabel, CONFIG_LABELS_PATH, i, None));
            }
        }
    }
    let mut layer = 0u32;
    for (i, step) in config.history.iter().enumerate() {
        let made_layer = !step.empty_layer.unwrap_or(false);
        if let Some(cmd) = step.created_by.as_deref() {
            for hit in scan_text(cmd.as_bytes(), Target::BuildStep) {
                out.push(finding(hit, Origin::History, CONFIG_HISTORY_PATH, i, made_layer.then_some(layer)));
            }
        }
        if made_layer {
            layer = layer.saturating_add(1);
        }
    }
    out
}

/// The ids and titles of every rule, for documentation and SARIF rule lists.
pub fn rule_catalog() -> Vec<(&'static str, &'static str, Severity)> {
    let mut out: Vec<(&'static str, &'static str, Severity)> = Vec::new();
    for def in rules::DEFS {
        if !out.iter().any(|(id, _, _)| *id == def.id) {
            out.push((def.id, def.title, def.severity));
        }
    }
    out.push(("hardcoded-password", "Hard-coded password", Severity::Medium));
    out.push(("hardcoded-secret", "Hard-coded secret or token", Severity::Medium));
    out
}
