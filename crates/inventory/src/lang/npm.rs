//! Node packages: every `package.json` with a name and a version (installed packages under
//! `node_modules`, global ones under `/usr/lib/node_modules`, and the application's own
//! manifest, as syft and trivy report them in images), plus the lockfiles
//! `package-lock.json`, `yarn.lock` and `pnpm-lock.yaml` (parsed in [`super::npm_lock`]).
//!
//! How lockfiles and installed packages combine, so that nothing is counted twice: a
//! lockfile in directory `D` is reported only when the final tree has nothing under
//! `D/node_modules`. When the packages are installed, their `package.json` files are the
//! truth (the lockfile also lists packages that were pruned, and dev dependencies that a
//! production install left out). When they are not installed (an application shipped
//! bundled, or Yarn Plug'n'Play), the lockfile is all there is, and its non-dev packages
//! are reported. Several lockfiles in one directory report each `name@version` once,
//! `package-lock.json` first, then `pnpm-lock.yaml`, then `yarn.lock`. The lockfile's root
//! project is never reported from the lockfile: its `package.json` already is.
//! `package-lock.json` and pnpm v5/v6 lockfiles mark dev dependencies, which are left
//! out; `yarn.lock` and pnpm v9 lockfiles do not, so theirs are reported.

use std::collections::HashSet;

use image::FileEntry;
use image::path::{file_name, parent};

use super::{LangPackage, Parsed, json_str, report, text, to_package, visible};
use crate::analyzer::{Analyzer, Context, Found, Interest};
use crate::model::{Package, PackageType, Problem};

const NAME: &str = "npm";

/// The lockfiles this analyzer reads, in the order they win when several sit together.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Lockfile {
    Npm,
    Pnpm,
    Yarn,
}

fn lockfile(path: &str) -> Option<Lockfile> {
    match file_name(path) {
        "package-lock.json" => Some(Lockfile::Npm),
        "pnpm-lock.yaml" => Some(Lockfile::Pnpm),
        "yarn.lock" => Some(Lockfile::Yarn),
        _ => None,
    }
}

/// Finds Node packages.
#[derive(Debug, Default)]
pub struct NpmAnalyzer {
    manifests: Vec<Found<Parsed<Option<LangPackage>>>>,
    locks: Vec<(Lockfile, Found<Parsed<Vec<LangPackage>>>)>,
}

impl Analyzer for NpmAnalyzer {
    fn name(&self) -> &'static str {
        NAME
    }

    fn interest(&self, path: &str, _: &FileEntry) -> Interest {
        if file_name(path) == "package.json" || lockfile(path).is_some() { Interest::Content } else { Interest::No }
    }

    fn analyze(&mut self, path: &str, entry: &FileEntry, content: &[u8], _: &mut Vec<Problem>) {
        if file_name(path) == "package.json" {
            self.manifests.push(Found::new(path, entry, parse_package_json(content)));
            return;
        }
        let parsed = match lockfile(path) {
            Some(Lockfile::Npm) => super::npm_lock::parse_package_lock(content),
            Some(Lockfile::Pnpm) => super::npm_lock::parse_pnpm_lock(content),
            Some(Lockfile::Yarn) => super::npm_lock::parse_yarn_lock(content),
            None => return,
        };
        if let Some(kind) = lockfile(path) {
            self.locks.push((kind, Found::new(path, entry, parsed)));
        }
    }

    fn finish(self: Box<Self>, ctx: &Context<'_>, out: &mut Vec<Package>, problems: &mut Vec<Problem>) {
        for found in visible(&self.manifests, ctx) {
            report(NAME, &found.path, &found.value.problems, problems);
            if let Some(p) = found.value.value.clone() {
                out.push(to_package(PackageType::Npm, p, found));
            }
        }
        let mut locks: Vec<&(Lockfile, Found<_>)> = self.locks.iter().filter(|(_, f)| f.is_visible(ctx.tree)).collect();
        locks.sort_by(|a, b| (parent(&a.1.path), a.0).cmp(&(parent(&b.1.path), b.0)));
        let mut seen: HashSet<(&str, &str, &str)> = HashSet::new();
        for (_, found) in locks {
            report(NAME, &found.path, &found.value.problems, problems);
            let dir = parent(&found.path);
            let modules = if dir == "/" { "/node_modules".to_owned() } else { format!("{dir}/node_modules") };
            if super::has_children(ctx, &modules) {
                continue;
            }
            for p in &found.value.value {
                if seen.insert((dir, &p.name, &p.version)) {
                    out.push(to_package(PackageType::Npm, p.clone(), found));
                }
            }
        }
    }
}

/// A package named `name` at `version`, with its purl namespace split off a scope.
pub(crate) fn npm_package(name: &str, version: &str) -> LangPackage {
    let mut p = LangPackage::new(name, version);
    if let Some((scope, bare)) = name.split_once('/').filter(|_| name.starts_with('@')) {
        p.namespace = Some(scope.to_owned());
        p.purl_name = Some(bare.to_owned());
    }
    p
}

/// Parses a `package.json`. A manifest without a name or version (a build tool's or a
/// sub-directory's `{"type": "module"}`) is no package, and no problem either.
pub fn parse_package_json(content: &[u8]) -> Parsed<Option<LangPackage>> {
    let v: serde_json::Value = match serde_json::from_str(&text(content)) {
        Ok(v) => v,
        Err(e) => return Parsed::new(None, vec![format!("not valid JSON: {e}")]),
    };
    let (Some(name), Some(version)) = (json_str(&v, "name"), json_str(&v, "version")) else {
        return Parsed::new(None, vec![]);
    };
    let mut p = npm_package(name, version);
    p.licenses = licenses(&v);
    Parsed::new(Some(p), vec![])
}

/// `license` as a string or `{ "type": … }`, and the deprecated `licenses` array.
fn licenses(v: &serde_json::Value) -> Vec<String> {
    fn one(v: &serde_json::Value) -> Option<String> {
        match v {
            serde_json::Value::String(s) => Some(s.clone()),
            serde_json::Value::Object(_) => json_str(v, "type").map(str::to_owned),
            _ => None,
        }
    }
    let mut out: Vec<String> = v.get("license").and_then(one).into_iter().collect();
    match v.get("licenses") {
        Some(serde_json::Value::Array(items)) => out.extend(items.iter().filter_map(one)),
        Some(other) => out.extend(one(other)),
        None => {}
    }
    out
}
