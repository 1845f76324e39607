//! PHP Composer packages: `vendor/composer/installed.json` (Composer 1 writes an array,
//! Composer 2 `{"packages": [...]}`) and `composer.lock`.
//!
//! As for Node lockfiles, nothing is counted twice: a `composer.lock` in directory `D` is
//! reported only when the final tree has no `D/vendor/composer/installed.json`; installed
//! packages are what the image holds. From a lockfile only `packages` are reported, not
//! `packages-dev`; from `installed.json` every package is, since it is installed.

use image::FileEntry;
use image::path::{file_name, parent};

use super::{LangPackage, Parsed, json_str, report, text, to_package, visible};
use crate::analyzer::{Analyzer, Context, Found, Interest};
use crate::model::{Package, PackageType, Problem};

const NAME: &str = "composer";

/// Finds Composer packages.
#[derive(Debug, Default)]
pub struct ComposerAnalyzer {
    installed: Vec<Found<Parsed<Vec<LangPackage>>>>,
    locks: Vec<Found<Parsed<Vec<LangPackage>>>>,
}

fn is_installed_json(path: &str) -> bool {
    file_name(path) == "installed.json" && file_name(parent(path)) == "composer"
}

impl Analyzer for ComposerAnalyzer {
    fn name(&self) -> &'static str {
        NAME
    }

    fn interest(&self, path: &str, _: &FileEntry) -> Interest {
        if is_installed_json(path) || file_name(path) == "composer.lock" { Interest::Content } else { Interest::No }
    }

    fn analyze(&mut self, path: &str, entry: &FileEntry, content: &[u8], _: &mut Vec<Problem>) {
        if is_installed_json(path) {
            self.installed.push(Found::new(path, entry, parse_installed_json(content)));
        } else {
            self.locks.push(Found::new(path, entry, parse_composer_lock(content)));
        }
    }

    fn finish(self: Box<Self>, ctx: &Context<'_>, out: &mut Vec<Package>, problems: &mut Vec<Problem>) {
        for found in visible(&self.installed, ctx) {
            report(NAME, &found.path, &found.value.problems, problems);
            for p in &found.value.value {
                out.push(to_package(PackageType::Composer, p.clone(), found));
            }
        }
        for found in visible(&self.locks, ctx) {
            report(NAME, &found.path, &found.value.problems, problems);
            let dir = parent(&found.path);
            let installed = if dir == "/" {
                "/vendor/composer/installed.json".to_owned()
            } else {
                format!("{dir}/vendor/composer/installed.json")
            };
            if ctx.tree.get(&installed).is_some() {
                continue;
            }
            for p in &found.value.value {
                out.push(to_package(PackageType::Composer, p.clone(), found));
            }
        }
    }
}

/// Parses `installed.json` of Composer 1 or 2.
pub fn parse_installed_json(content: &[u8]) -> Parsed<Vec<LangPackage>> {
    let v: serde_json::Value = match serde_json::from_str(&text(content)) {
        Ok(v) => v,
        Err(e) => return Parsed::new(vec![], vec![format!("not valid JSON: {e}")]),
    };
    let list = match &v {
        serde_json::Value::Array(items) => items,
        _ => match v.get("packages").and_then(|p| p.as_array()) {
            Some(items) => items,
            None => return Parsed::new(vec![], vec!["no package list found".into()]),
        },
    };
    Parsed::new(packages(list), vec![])
}

/// Parses `composer.lock`: its `packages`, not its `packages-dev`.
pub fn parse_composer_lock(content: &[u8]) -> Parsed<Vec<LangPackage>> {
    let v: serde_json::Value = match serde_json::from_str(&text(content)) {
        Ok(v) => v,
        Err(e) => return Parsed::new(vec![], vec![format!("not valid JSON: {e}")]),
    };
    match v.get("packages").and_then(|p| p.as_array()) {
        Some(items) => Parsed::new(packages(items), vec![]),
        None => Parsed::new(vec![], vec!["no `packages` list found".into()]),
    }
}

fn packages(items: &[serde_json::Value]) -> Vec<LangPackage> {
    let mut out: Vec<LangPackage> = Vec::new();
    for item in items {
        let (Some(name), Some(version)) = (json_str(item, "name"), json_str(item, "version")) else { continue };
        let mut p = LangPackage::new(name, version);
        if let Some((vendor, bare)) = name.split_once('/') {
            p.namespace = Some(vendor.to_owned());
            p.purl_name = Some(bare.to_owned());
        }
        p.licenses = match item.get("license") {
            Some(serde_json::Value::Array(l)) => l.iter().filter_map(|s| s.as_str()).map(str::to_owned).collect(),
            Some(serde_json::Value::String(s)) => vec![s.clone()],
            _ => vec![],
        };
        if !out.iter().any(|o| o.name == p.name && o.version == p.version) {
            out.push(p);
        }
    }
    out
}
