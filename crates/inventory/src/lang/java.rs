//! Java archives (`.jar`, `.war`, `.ear` and the other zip-based kinds syft reads), with
//! the archives nested in them (`WEB-INF/lib/*.jar`, `BOOT-INF/lib/*.jar`, any archive
//! entry) down to [`Limits::max_depth`] levels.
//!
//! Each archive gives a main package and one package per other `pom.properties`, chosen
//! as syft chooses them: when the archive has exactly one `pom.properties` whose artifact
//! id starts with the name read from the file name, that is the main package; otherwise
//! the name comes from the file name (else the manifest's `Name`, `Bundle-Name`, ...,
//! `Implementation-Title`) and the version from the file name (else
//! `Implementation-Version`, `Specification-Version`, ...). A `pom.properties` naming the
//! main package again is folded into it. The purl's namespace is the Maven group: from
//! `pom.properties`, else guessed from the manifest, else the name itself (as syft does).
//! Differences from syft: an archive without a manifest still reports its
//! `pom.properties` packages (syft reports none), `Bundle-Version` is the last fallback
//! for the version, and the group guess from the manifest is simpler than syft's.
//!
//! Archives come from untrusted images, so reading is bounded: entries per archive,
//! bytes per metadata entry, bytes per nested archive and decompressed bytes in total for
//! one outer archive (the zip-bomb defence). What a limit stops is recorded as a problem.

use std::io::{Cursor, Read};

use image::FileEntry;
use image::path::file_name;

use super::java_meta::{
    Manifest, PomProperties, group_from_manifest, name_version_from_file_name, parse_manifest, parse_pom_properties,
    select_name, select_version,
};
use super::{LangPackage, Parsed, report, to_package, visible};
use crate::analyzer::{Analyzer, Context, Found, Interest};
use crate::model::{Package, PackageType, Problem};

const NAME: &str = "java";
const EXTENSIONS: [&str; 9] = ["jar", "war", "ear", "par", "sar", "nar", "jpi", "hpi", "lpkg"];

/// Bounds on reading one outer archive and everything nested in it.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Entries looked at per archive.
    pub max_entries: usize,
    /// Largest manifest or `pom.properties` read.
    pub max_meta_bytes: u64,
    /// Largest nested archive read into memory.
    pub max_nested_bytes: u64,
    /// Decompressed bytes read in total, over all nested levels.
    pub max_total_bytes: u64,
    /// Nesting levels below the outer archive that are opened.
    pub max_depth: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_entries: 100_000,
            max_meta_bytes: 1 << 20,
            max_nested_bytes: 64 << 20,
            max_total_bytes: 512 << 20,
            max_depth: 3,
        }
    }
}

/// The packages of one archive. `main` indexes the outer archive's own package, which
/// owns the archive file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JavaArchive {
    pub packages: Vec<LangPackage>,
    pub main: Option<usize>,
}

/// Finds Java archives.
#[derive(Debug, Default)]
pub struct JavaAnalyzer {
    found: Vec<Found<Parsed<JavaArchive>>>,
}

fn is_archive_name(name: &str) -> bool {
    name.rsplit_once('.').is_some_and(|(_, ext)| EXTENSIONS.iter().any(|e| ext.eq_ignore_ascii_case(e)))
}

impl Analyzer for JavaAnalyzer {
    fn name(&self) -> &'static str {
        NAME
    }

    fn interest(&self, path: &str, _: &FileEntry) -> Interest {
        if is_archive_name(file_name(path)) { Interest::Content } else { Interest::No }
    }

    fn analyze(&mut self, path: &str, entry: &FileEntry, content: &[u8], _: &mut Vec<Problem>) {
        self.found.push(Found::new(path, entry, parse_java_archive(content, file_name(path), &Limits::default())));
    }

    fn finish(self: Box<Self>, ctx: &Context<'_>, out: &mut Vec<Package>, problems: &mut Vec<Problem>) {
        for found in visible(&self.found, ctx) {
            report(NAME, &found.path, &found.value.problems, problems);
            for (i, p) in found.value.value.packages.iter().enumerate() {
                let mut p = p.clone();
                if found.value.value.main == Some(i) {
                    p.files = vec![found.path.clone()];
                }
                out.push(to_package(PackageType::Maven, p, found));
            }
        }
    }
}

/// Reads the packages of an archive called `file_name` (the name matters: it often
/// carries the name and version).
pub fn parse_java_archive(content: &[u8], file_name: &str, limits: &Limits) -> Parsed<JavaArchive> {
    let mut walk = Walk { limits, budget: limits.max_total_bytes, packages: Vec::new(), problems: Vec::new() };
    let main = walk.archive(content, file_name, None, 0);
    Parsed::new(JavaArchive { packages: walk.packages, main }, walk.problems)
}

struct Walk<'a> {
    limits: &'a Limits,
    /// Decompressed bytes still allowed.
    budget: u64,
    packages: Vec<LangPackage>,
    problems: Vec<String>,
}

impl Walk<'_> {
    /// Reads one archive; `inner` is its path inside the outer archive. Returns the index
    /// of its main package.
    fn archive(&mut self, content: &[u8], file_name: &str, inner: Option<&str>, depth: usize) -> Option<usize> {
        let here = |msg: String| match inner {
            Some(i) => format!("{i}: {msg}"),
            None => msg,
        };
        let mut zip = match zip::ZipArchive::new(Cursor::new(content)) {
            Ok(z) => z,
            Err(e) => {
                self.problems.push(here(format!("not a readable zip archive: {e}")));
                return None;
            }
        };
        if zip.len() > self.limits.max_entries {
            self.problems.push(here(format!(
                "{} entries; only the first {} are looked at",
                zip.len(),
                self.limits.max_entries
            )));
        }
        let names: Vec<String> = zip.file_names().take(self.limits.max_entries).map(str::to_owned).collect();
        let manifest_name = names.iter().find(|n| n.eq_ignore_ascii_case("META-INF/MANIFEST.MF")).cloned();
        let manifest = manifest_name.and_then(|n| {
            let bytes = self.read(&mut zip, &n, self.limits.max_meta_bytes).map_err(|e| self.problems.push(here(e)));
            bytes.ok().map(|b| parse_manifest(&String::from_utf8_lossy(&b)))
        });
        let mut poms: Vec<PomProperties> = Vec::new();
        for n in names.iter().filter(|n| is_pom_properties(n)) {
            match self.read(&mut zip, n, self.limits.max_meta_bytes) {
                Ok(b) => poms.extend(parse_pom_properties(&String::from_utf8_lossy(&b))),
                Err(e) => self.problems.push(here(e)),
            }
        }
        let main = self.add_packages(manifest.as_ref(), &poms, file_name, inner);
        for n in names.iter().filter(|n| !n.ends_with('/') && is_archive_name(n)) {
            let nested_path = match inner {
                Some(i) => format!("{i}:{n}"),
                None => n.clone(),
            };
            if depth >= self.limits.max_depth {
                self.problems
                    .push(format!("{nested_path}: nested deeper than {} levels; not read", self.limits.max_depth));
                continue;
            }
            match self.read(&mut zip, n, self.limits.max_nested_bytes) {
                Ok(bytes) => {
                    self.archive(&bytes, n.rsplit('/').next().unwrap_or(n), Some(&nested_path), depth + 1);
                }
                Err(e) => self.problems.push(format!("{nested_path}: {e}")),
            }
        }
        main
    }

    /// Reads one entry, at most `cap` bytes and never beyond the total budget, whatever
    /// sizes the archive claims.
    fn read(&mut self, zip: &mut zip::ZipArchive<Cursor<&[u8]>>, name: &str, cap: u64) -> Result<Vec<u8>, String> {
        let cap = cap.min(self.budget);
        let entry = zip.by_name(name).map_err(|e| format!("cannot read {name}: {e}"))?;
        let mut out = Vec::new();
        let read = entry.take(cap.saturating_add(1)).read_to_end(&mut out);
        self.budget = self.budget.saturating_sub(out.len() as u64);
        read.map_err(|e| format!("cannot read {name}: {e}"))?;
        if out.len() as u64 > cap {
            return Err(format!("{name} decompresses to more than {cap} bytes; not read"));
        }
        Ok(out)
    }

    /// Adds the main package and the other `pom.properties` packages of one archive.
    fn add_packages(
        &mut self,
        manifest: Option<&Manifest>,
        poms: &[PomProperties],
        file_name: &str,
        inner: Option<&str>,
    ) -> Option<usize> {
        let (file_stem_name, file_version) = name_version_from_file_name(file_name);
        let mut main_index = None;
        let mut folded: Vec<&PomProperties> = Vec::new();
        if let Some(manifest) = manifest {
            let pom_main = match poms {
                [only] if !file_stem_name.is_empty() && only.artifact_id.starts_with(&file_stem_name) => Some(only),
                _ => None,
            };
            let (name, version, mut group) = match pom_main {
                Some(p) => (p.artifact_id.clone(), p.version.clone(), Some(p.group_id.clone())),
                None => (select_name(manifest, &file_stem_name), select_version(manifest, &file_version), None),
            };
            folded.extend(pom_main);
            // A pom.properties naming the main package again tells its group.
            for p in poms.iter().filter(|p| p.artifact_id == name && (p.version == version || pom_main.is_none())) {
                if group.is_none() {
                    group = Some(p.group_id.clone());
                }
                folded.push(p);
            }
            let group = group.filter(|g| !g.is_empty()).or_else(|| group_from_manifest(manifest));
            if !name.is_empty() {
                let mut p = maven_package(group.as_deref(), &name, &version, inner);
                p.licenses = manifest.get("Bundle-License").map(|l| l.to_owned()).into_iter().collect();
                main_index = self.push(p);
            }
        }
        for pom in poms.iter().filter(|p| !folded.iter().any(|f| std::ptr::eq(*f, *p))) {
            let group = Some(pom.group_id.as_str()).filter(|g| !g.is_empty());
            self.push(maven_package(group, &pom.artifact_id, &pom.version, inner));
        }
        main_index
    }

    /// Adds a package unless the same one is already listed at the same place.
    fn push(&mut self, p: LangPackage) -> Option<usize> {
        if let Some(i) = self.packages.iter().position(|o| {
            o.name == p.name && o.version == p.version && o.namespace == p.namespace && o.inner_path == p.inner_path
        }) {
            return Some(i);
        }
        self.packages.push(p);
        Some(self.packages.len() - 1)
    }
}

fn is_pom_properties(name: &str) -> bool {
    let parts: Vec<&str> = name.split('/').collect();
    matches!(parts.as_slice(), ["META-INF", "maven", _, _, "pom.properties"])
}

fn maven_package(group: Option<&str>, name: &str, version: &str, inner: Option<&str>) -> LangPackage {
    let mut p = LangPackage::new(name, version);
    p.namespace = Some(group.unwrap_or(name).to_owned());
    p.inner_path = inner.map(str::to_owned);
    p
}
