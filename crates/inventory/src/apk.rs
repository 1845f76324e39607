//! The apk database of Alpine and its relatives: `/lib/apk/db/installed`.
//!
//! The file is a list of paragraphs separated by blank lines, one per installed package,
//! of `X:value` lines where the single letter `X` names the field: `P` name, `V` version,
//! `A` architecture, `o` origin (the source package), `L` licence, `F` a directory
//! (relative to the root) and `R` a file in the last `F` directory. The other letters
//! (checksums, sizes, dependencies, ACLs) are not needed here.

use image::FileEntry;

use crate::analyzer::{Analyzer, Context, Interest};
use crate::model::{Package, PackageType, Problem};
use crate::os::{DbCopies, distro_qualifier, owned_files, purl_namespace};
use crate::purl::purl;

/// Where apk keeps its database; apk-tools 3 may use the `/usr` one.
const DATABASES: [&str; 2] = ["/lib/apk/db/installed", "/usr/lib/apk/db/installed"];

/// One installed package as the database records it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ApkPackage {
    pub name: String,
    pub version: String,
    pub arch: String,
    /// `o:`, the package this one was built from; empty when absent.
    pub origin: String,
    /// `L:`, an SPDX-like licence expression; empty when absent.
    pub license: String,
    /// Absolute paths of the files the package installed (directories excluded).
    pub files: Vec<String>,
}

/// Parses an apk `installed` database. Returns the packages and what could not be read;
/// a paragraph without a name or version is reported and skipped.
pub fn parse_installed(content: &[u8]) -> (Vec<ApkPackage>, Vec<String>) {
    let text = String::from_utf8_lossy(content);
    let mut packages = Vec::new();
    let mut problems = Vec::new();
    let mut current = ApkPackage::default();
    let mut dir = String::from("/");
    let mut started: Option<usize> = None;
    let mut finish = |pkg: &mut ApkPackage, started: Option<usize>, problems: &mut Vec<String>| {
        let pkg = std::mem::take(pkg);
        let Some(line) = started else { return };
        if pkg.name.is_empty() || pkg.version.is_empty() {
            problems.push(format!("package at line {line} has no name (P:) or version (V:)"));
        } else {
            packages.push(pkg);
        }
    };
    for (i, raw) in text.split('\n').enumerate() {
        let line_no = i + 1;
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        if line.trim().is_empty() {
            finish(&mut current, started.take(), &mut problems);
            dir = String::from("/");
            continue;
        }
        started.get_or_insert(line_no);
        let mut chars = line.chars();
        let (Some(field), Some(':')) = (chars.next(), chars.next()) else {
            problems.push(format!("line {line_no}: not a field: {:?}", line.chars().take(60).collect::<String>()));
            continue;
        };
        let value = chars.as_str();
        match field {
            'P' => current.name = value.trim().to_owned(),
            'V' => current.version = value.trim().to_owned(),
            'A' => current.arch = value.trim().to_owned(),
            'o' => current.origin = value.trim().to_owned(),
            'L' => current.license = value.trim().to_owned(),
            // A directory is given relative to the root; a file relative to the last one.
            'F' => dir = image::path::join_in_root("/", value),
            'R' => {
                if value.is_empty() || value.contains('/') {
                    problems.push(format!("line {line_no}: file name {value:?} is not a name"));
                } else {
                    current.files.push(image::path::join_in_root(&dir, value));
                }
            }
            _ => {}
        }
    }
    finish(&mut current, started.take(), &mut problems);
    (packages, problems)
}

/// The apk analyzer.
pub fn analyzer() -> Box<dyn Analyzer> {
    Box::new(ApkAnalyzer::default())
}

#[derive(Debug, Default)]
struct ApkAnalyzer {
    databases: DbCopies<Vec<ApkPackage>>,
}

impl Analyzer for ApkAnalyzer {
    fn name(&self) -> &'static str {
        "apk"
    }

    fn interest(&self, path: &str, _: &FileEntry) -> Interest {
        if DATABASES.contains(&path) { Interest::Content } else { Interest::No }
    }

    fn analyze(&mut self, path: &str, entry: &FileEntry, content: &[u8], _: &mut Vec<Problem>) {
        let (packages, problems) = parse_installed(content);
        let keys = packages.iter().map(key).collect();
        self.databases.add(path, entry, packages, problems, keys);
    }

    fn finish(self: Box<Self>, ctx: &Context<'_>, out: &mut Vec<Package>, problems: &mut Vec<Problem>) {
        let namespace = purl_namespace(ctx.os);
        let distro = distro_qualifier(ctx.os);
        for db in self.databases.visible(ctx.tree) {
            problems.extend(db.problems.iter().map(|m| Problem {
                analyzer: "apk".into(),
                path: db.path.clone(),
                message: m.clone(),
            }));
            for p in &db.value {
                let layer = db.layers.get(&key(p)).copied();
                out.push(Package {
                    name: p.name.clone(),
                    version: p.version.clone(),
                    kind: PackageType::Apk,
                    purl: purl("apk", namespace, &p.name, &p.version, &[("arch", &p.arch), ("distro", &distro)]),
                    source_name: Some(p.origin.clone()).filter(|o| !o.is_empty()),
                    // A package is built from its origin at the origin's version.
                    source_version: Some(p.version.clone()).filter(|_| !p.origin.is_empty()),
                    arch: Some(p.arch.clone()).filter(|a| !a.is_empty()),
                    licenses: if p.license.is_empty() { Vec::new() } else { vec![p.license.clone()] },
                    layer,
                    location: db.path.clone(),
                    files: owned_files(ctx.tree, &p.files),
                });
            }
        }
    }
}

/// What layer attribution compares: a package is introduced where this version of it
/// first appeared.
fn key(p: &ApkPackage) -> String {
    format!("{}={}", p.name, p.version)
}
