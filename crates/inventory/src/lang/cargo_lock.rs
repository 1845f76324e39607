//! `Cargo.lock` files, lockfile versions 1 to 4.
//!
//! Packages with a `registry+` or `sparse+` source (crates.io or another registry) and
//! packages from git (`git+…`) are reported: both are third-party code pinned at a
//! version. Packages without a `source` are the workspace's own crates and path
//! dependencies, the project itself, and are left out. (syft reports Cargo.lock only when
//! scanning directories, and then reports every entry; trivy leaves out the same entries
//! as here.)
//!
//! The file is TOML written by cargo in one fixed layout: `[[package]]` tables of
//! `key = "string"` lines. A line reader is enough, and needs no TOML library.

use image::FileEntry;
use image::path::file_name;

use super::{LangPackage, Parsed, report, text, to_package, visible};
use crate::analyzer::{Analyzer, Context, Found, Interest};
use crate::model::{Package, PackageType, Problem};

const NAME: &str = "cargo-lock";

/// Finds `Cargo.lock` files.
#[derive(Debug, Default)]
pub struct CargoLockAnalyzer {
    found: Vec<Found<Parsed<Vec<LangPackage>>>>,
}

impl Analyzer for CargoLockAnalyzer {
    fn name(&self) -> &'static str {
        NAME
    }

    fn interest(&self, path: &str, _: &FileEntry) -> Interest {
        if file_name(path) == "Cargo.lock" { Interest::Content } else { Interest::No }
    }

    fn analyze(&mut self, path: &str, entry: &FileEntry, content: &[u8], _: &mut Vec<Problem>) {
        self.found.push(Found::new(path, entry, parse_cargo_lock(content)));
    }

    fn finish(self: Box<Self>, ctx: &Context<'_>, out: &mut Vec<Package>, problems: &mut Vec<Problem>) {
        for found in visible(&self.found, ctx) {
            report(NAME, &found.path, &found.value.problems, problems);
            for p in &found.value.value {
                out.push(to_package(PackageType::Cargo, p.clone(), found));
            }
        }
    }
}

#[derive(Default)]
struct Entry {
    name: Option<String>,
    version: Option<String>,
    source: Option<String>,
}

/// Parses a `Cargo.lock` into its registry and git packages.
pub fn parse_cargo_lock(content: &[u8]) -> Parsed<Vec<LangPackage>> {
    let text = text(content);
    let mut out: Vec<LangPackage> = Vec::new();
    let mut problems = Vec::new();
    let mut current: Option<Entry> = None;
    let mut tables = 0usize;
    let finish = |e: Option<Entry>, out: &mut Vec<LangPackage>| {
        let Some(e) = e else { return };
        let (Some(name), Some(version), Some(source)) = (e.name, e.version, e.source) else { return };
        let known = ["registry+", "sparse+", "git+"].iter().any(|p| source.starts_with(p));
        if known && !out.iter().any(|p| p.name == name && p.version == version) {
            out.push(LangPackage::new(name, version));
        }
    };
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            finish(current.take(), &mut out);
            tables += 1;
            if line == "[[package]]" {
                current = Some(Entry::default());
            }
            continue;
        }
        let Some(entry) = current.as_mut() else { continue };
        let Some((key, value)) = line.split_once('=') else { continue };
        let Some(value) = toml_string(value.trim()) else { continue };
        match key.trim() {
            "name" => entry.name = Some(value),
            "version" => entry.version = Some(value),
            "source" => entry.source = Some(value),
            _ => {}
        }
    }
    finish(current.take(), &mut out);
    if tables == 0 && !text.trim().is_empty() {
        problems.push("no `[[package]]` tables found".into());
    }
    Parsed::new(out, problems)
}

/// A basic TOML string (`"x"`, with backslash escapes) or literal string (`'x'`).
fn toml_string(value: &str) -> Option<String> {
    if let Some(rest) = value.strip_prefix('\'') {
        return rest.split_once('\'').map(|(s, _)| s.to_owned());
    }
    let rest = value.strip_prefix('"')?;
    let mut out = String::new();
    let mut chars = rest.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => return Some(out),
            '\\' => out.push(chars.next()?),
            c => out.push(c),
        }
    }
    None
}
