//! Baseline checks (SPEC 3.5): configuration risks of an image, each with a stable id, a
//! level, a detection method, a result, the problem found and hardening advice.
//!
//! [`Checker`] is an [`image::LayerVisitor`] that keeps the account databases and sudoers
//! files as the layers stream past (only the copy visible in the final tree counts), and
//! [`Checker::finish`] judges them together with the file tree, the image config and the
//! image reference. The hard-coded credential checks use the secret scanner's findings:
//! either those of a scanner the checker runs itself ([`Checker::new`]), or findings the
//! caller passes in ([`Checker::without_secret_scan`] with [`Checker::finish_with_secrets`])
//! when it runs the scanner anyway.

mod accounts;
pub mod catalog;
mod config_checks;
pub mod hashes;
mod tree_checks;

use std::io::{self, Read};

use image::{FileEntry, FileTree, ImageConfig, LayerVisitor};
use serde::{Deserialize, Serialize};

use crate::secrets::{self, Origin, SecretFinding};

pub use catalog::Check;

/// Risk level of a check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Level {
    Low,
    Medium,
    High,
}

/// Result of a check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    Passed,
    Failed,
    /// The image lacks what the check examines (no /etc/shadow, no history, ...).
    NotApplicable,
}

/// A place a failed check points at: an absolute path in the image, and a line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Location {
    pub path: String,
    pub line: Option<u32>,
}

/// The result of one check on one image.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckResult {
    /// Stable id (`CG-ACCOUNT-001`, `CIS-DI-4.1`, ...).
    pub id: String,
    pub title: String,
    pub level: Level,
    /// How the check is decided.
    pub method: String,
    pub result: Outcome,
    /// What was found (failed), or why the check does not apply; empty when passed.
    /// Password hashes and secrets are masked.
    pub problem: String,
    /// How to fix a failure.
    pub advice: String,
    /// Where the problem is, when it is in files.
    pub locations: Vec<Location>,
}

/// Files the checks read, at their usual paths.
const ACCOUNT_FILES: &[&str] = &["/etc/passwd", "/etc/shadow", "/etc/group", "/etc/sudoers"];
const SUDOERS_DIR: &str = "/etc/sudoers.d/";

/// Account databases larger than this are not read (the checks then do not apply).
const MAX_ACCOUNT_FILE: u64 = 8 << 20;

/// One copy of a wanted file, from one layer.
#[derive(Debug)]
struct Copy {
    path: String,
    layer: u32,
    ordinal: u64,
    content: Vec<u8>,
}

/// The baseline checker. Feed it to [`image::Image::read`], then call [`Checker::finish`].
#[derive(Debug)]
pub struct Checker {
    copies: Vec<Copy>,
    scanner: Option<secrets::Scanner>,
    /// What `wants` answered for the entry about to be visited: (ours, the scanner's).
    pending: (bool, bool),
}

impl Default for Checker {
    fn default() -> Self {
        Self::new()
    }
}

impl Checker {
    /// A checker that runs the secret scanner itself, for the credential checks.
    pub fn new() -> Self {
        Checker { copies: Vec::new(), scanner: Some(secrets::Scanner::default()), pending: (false, false) }
    }

    /// A checker that leaves secret scanning to the caller, who passes the findings to
    /// [`Checker::finish_with_secrets`].
    pub fn without_secret_scan() -> Self {
        Checker { copies: Vec::new(), scanner: None, pending: (false, false) }
    }

    /// Runs every check. With a checker made by [`Checker::without_secret_scan`], the
    /// credential checks are not applicable (no scan ran); use
    /// [`Checker::finish_with_secrets`] instead.
    pub fn finish(mut self, tree: &FileTree, config: &ImageConfig, reference: &str) -> Vec<CheckResult> {
        match self.scanner.take() {
            Some(scanner) => {
                let mut found = scanner.finish(tree);
                found.extend(secrets::scan_config(config));
                self.evaluate(tree, config, reference, Some(&found))
            }
            None => self.evaluate(tree, config, reference, None),
        }
    }

    /// Runs every check, with the findings of a secret scan the caller ran over the same
    /// image (files from [`secrets::Scanner::finish`] and config from
    /// [`secrets::scan_config`]).
    pub fn finish_with_secrets(
        mut self,
        tree: &FileTree,
        config: &ImageConfig,
        reference: &str,
        secrets: &[SecretFinding],
    ) -> Vec<CheckResult> {
        self.scanner = None;
        self.evaluate(tree, config, reference, Some(secrets))
    }

    /// The content of the copy of `path` visible in the final tree.
    fn visible<'a>(&'a self, tree: &FileTree, path: &str) -> Option<&'a [u8]> {
        self.copies
            .iter()
            .find(|c| c.path == path && tree.is_visible(&c.path, c.layer, c.ordinal))
            .map(|c| c.content.as_slice())
    }

    fn evaluate(
        &self,
        tree: &FileTree,
        config: &ImageConfig,
        reference: &str,
        secrets: Option<&[SecretFinding]>,
    ) -> Vec<CheckResult> {
        let text = |path: &str| self.visible(tree, path).map(|b| String::from_utf8_lossy(b).into_owned());
        let passwd = text(accounts::PASSWD).map(|t| accounts::parse_passwd(&t));
        let shadow = text(accounts::SHADOW).map(|t| accounts::parse_shadow(&t));
        let groups = text(accounts::GROUP).map(|t| accounts::parse_group(&t));

        let mut out = accounts::passwd_checks(passwd.as_deref());
        out.push(accounts::group_check(groups.as_deref()));
        out.push(credentials_check(secrets));
        out.extend(accounts::password_checks(passwd.as_deref(), shadow.as_deref()));
        out.push(config_checks::non_root_user(config, passwd.as_deref()));
        out.push(config_checks::healthcheck(config));
        out.push(config_checks::update_not_alone(config));
        out.push(tree_checks::setuid_files(tree));
        out.push(config_checks::copy_not_add(config));
        out.push(config_secrets_check(secrets));
        out.push(tree_checks::no_sudo(tree));
        out.push(tree_checks::no_package_caches(tree));
        out.push(config_checks::not_latest(reference));
        out.push(tree_checks::no_ssh_host_keys(tree));

        let mut sudoers: Vec<(String, String)> = Vec::new();
        for c in &self.copies {
            let is_sudoers = c.path == "/etc/sudoers" || c.path.starts_with(SUDOERS_DIR);
            if is_sudoers && tree.is_visible(&c.path, c.layer, c.ordinal) {
                sudoers.push((c.path.clone(), String::from_utf8_lossy(&c.content).into_owned()));
            }
        }
        sudoers.sort();
        let refs: Vec<(&str, &str)> = sudoers.iter().map(|(p, t)| (p.as_str(), t.as_str())).collect();
        out.push(tree_checks::no_nopasswd(&refs));
        out
    }
}

/// Most findings named in one problem text.
const LISTED_FINDINGS: usize = 20;

fn describe(findings: &[&SecretFinding]) -> String {
    let mut parts: Vec<String> = findings
        .iter()
        .take(LISTED_FINDINGS)
        .map(|f| {
            let removed = if f.removed { ", removed by a later layer but still in the image" } else { "" };
            format!("{} at {}:{} ({}{removed}): {}", f.rule_id, f.path, f.line, f.title, f.masked)
        })
        .collect();
    if findings.len() > LISTED_FINDINGS {
        parts.push(format!("and {} more", findings.len() - LISTED_FINDINGS));
    }
    parts.join("; ")
}

/// `1 secret`, `2 secrets`.
fn count(n: usize, what: &str) -> String {
    if n == 1 { format!("1 {what}") } else { format!("{n} {what}s") }
}

fn locations(findings: &[&SecretFinding]) -> Vec<Location> {
    findings.iter().map(|f| Location { path: f.path.clone(), line: Some(f.line) }).collect()
}

/// CG-PASSWORD-001: fails on any secret finding.
fn credentials_check(secrets: Option<&[SecretFinding]>) -> CheckResult {
    let check = &catalog::NO_HARDCODED_CREDENTIALS;
    let Some(secrets) = secrets else { return check.not_applicable("the secret scan did not run") };
    let all: Vec<&SecretFinding> = secrets.iter().collect();
    if all.is_empty() {
        check.passed()
    } else {
        check.failed(format!("{} found: {}", count(all.len(), "secret"), describe(&all)), locations(&all))
    }
}

/// CIS-DI-4.10: fails on secret findings in the image config.
fn config_secrets_check(secrets: Option<&[SecretFinding]>) -> CheckResult {
    let check = &catalog::NO_CONFIG_SECRETS;
    let Some(secrets) = secrets else { return check.not_applicable("the secret scan did not run") };
    let in_config: Vec<&SecretFinding> = secrets.iter().filter(|f| f.origin != Origin::File).collect();
    if in_config.is_empty() {
        check.passed()
    } else {
        check.failed(
            format!("{} in the image config: {}", count(in_config.len(), "secret"), describe(&in_config)),
            locations(&in_config),
        )
    }
}

fn wanted(path: &str) -> bool {
    ACCOUNT_FILES.contains(&path) || path.starts_with(SUDOERS_DIR)
}

impl LayerVisitor for Checker {
    fn wants(&mut self, path: &str, entry: &FileEntry) -> bool {
        let ours = wanted(path) && entry.size <= MAX_ACCOUNT_FILE;
        let theirs = self.scanner.as_mut().is_some_and(|s| s.wants(path, entry));
        self.pending = (ours, theirs);
        ours || theirs
    }

    fn visit(&mut self, path: &str, entry: &FileEntry, content: &mut dyn Read) -> io::Result<()> {
        let (ours, theirs) = std::mem::take(&mut self.pending);
        if !ours {
            return match (theirs, self.scanner.as_mut()) {
                (true, Some(s)) => s.visit(path, entry, content),
                _ => Ok(()),
            };
        }
        let mut data = Vec::new();
        content.take(MAX_ACCOUNT_FILE).read_to_end(&mut data)?;
        if let (true, Some(s)) = (theirs, self.scanner.as_mut()) {
            s.visit(path, entry, &mut data.as_slice())?;
        }
        self.copies.push(Copy { path: path.to_owned(), layer: entry.layer, ordinal: entry.ordinal, content: data });
        Ok(())
    }
}
