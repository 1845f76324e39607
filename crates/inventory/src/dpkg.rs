//! The dpkg database: `/var/lib/dpkg/status` on Debian and Ubuntu, one control file per
//! package under `/var/lib/dpkg/status.d/` on distroless images, and the lists of files
//! each package installed (`/var/lib/dpkg/info/NAME[:ARCH].list`, or
//! `status.d/NAME.md5sums` on distroless images). The status database records no
//! licences; they come from the packages' `/usr/share/doc/NAME/copyright` files.

use std::collections::BTreeMap;

use image::FileEntry;

use crate::analyzer::{Analyzer, Context, Found, Interest};
use crate::model::{Package, PackageType, Problem};
use crate::os::{DbCopies, cap_problems, distro_qualifier, owned_files, purl_namespace};
use crate::purl::purl;

const STATUS: &str = "/var/lib/dpkg/status";
const STATUS_D: &str = "/var/lib/dpkg/status.d/";
const INFO: &str = "/var/lib/dpkg/info/";
const DOC: &str = "/usr/share/doc/";

/// One installed package as the status database records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DpkgPackage {
    pub name: String,
    pub version: String,
    /// `Architecture` (`amd64`, `all`), empty when absent.
    pub arch: String,
    /// The source package: `Source:` when given, else the binary package's name.
    pub source_name: String,
    /// The source version: the version in `Source: name (version)` when given, else the
    /// binary package's version.
    pub source_version: String,
}

/// Parses a status file (or a distroless `status.d` control file): paragraphs of
/// `Field: value` lines separated by blank lines, with continuation lines starting with a
/// space or tab. Returns the installed packages and what could not be read.
///
/// Which packages count as installed follows what is on disk, not what was asked for.
/// `Status:` is `WANT FLAG STATE`; the state decides. `installed`, `triggers-pending`,
/// `triggers-awaited`, `half-configured`, `unpacked` and `half-installed` packages have
/// their files unpacked (the last ones perhaps not all), so they are reported; `not-installed`
/// and `config-files` (removed, configuration kept: dpkg -l's `rc`) are not. The WANT word
/// is ignored: `deinstall ok installed` is still installed until dpkg runs, and `hold` only
/// pins a version. Syft skips any status containing `deinstall`, and Trivy any containing
/// `deinstall` or `purge`, which loses packages marked for removal but still present.
/// A paragraph without `Status:` (distroless `status.d` files are control files) is
/// installed.
pub fn parse_status(content: &[u8]) -> (Vec<DpkgPackage>, Vec<String>) {
    let mut packages = Vec::new();
    let mut problems = Vec::new();
    for (line_no, fields) in paragraphs(content, &mut problems) {
        let get = |k: &str| fields.get(k).map(|v| v.trim()).filter(|v| !v.is_empty());
        let Some(name) = get("package") else {
            problems.push(format!("paragraph at line {line_no} has no Package field"));
            continue;
        };
        if !valid_name(name) {
            problems.push(format!("line {line_no}: invalid package name {name:?}"));
            continue;
        }
        match get("status").map(installed) {
            None | Some(Ok(true)) => {}
            Some(Ok(false)) => continue,
            Some(Err(status)) => {
                problems.push(format!("package {name}: unknown Status {status:?}"));
                continue;
            }
        }
        let Some(version) = get("version") else {
            problems.push(format!("package {name}: installed but has no Version"));
            continue;
        };
        let (source_name, source_version) = match get("source") {
            Some(source) => parse_source(source),
            None => (None, None),
        };
        packages.push(DpkgPackage {
            name: name.to_owned(),
            version: version.to_owned(),
            arch: get("architecture").unwrap_or("").to_owned(),
            source_name: source_name.unwrap_or(name).to_owned(),
            source_version: source_version.unwrap_or(version).to_owned(),
        });
    }
    (packages, problems)
}

/// Whether a `Status:` value means the package's files are on disk; `Err` for a value
/// that is not `WANT FLAG STATE`.
fn installed(status: &str) -> Result<bool, &str> {
    let words: Vec<&str> = status.split_whitespace().collect();
    let [want, flag, state] = words.as_slice() else { return Err(status) };
    let known_want = ["unknown", "install", "hold", "deinstall", "purge"].contains(want);
    let known_flag = ["ok", "reinstreq"].contains(flag);
    if !known_want || !known_flag {
        return Err(status);
    }
    match *state {
        "installed" | "triggers-pending" | "triggers-awaited" | "half-configured" | "unpacked" | "half-installed" => {
            Ok(true)
        }
        "not-installed" | "config-files" => Ok(false),
        _ => Err(status),
    }
}

/// `Source: name` or `Source: name (version)`.
fn parse_source(source: &str) -> (Option<&str>, Option<&str>) {
    let (name, rest) = match source.split_once(char::is_whitespace) {
        Some((n, r)) => (n, r.trim()),
        None => (source, ""),
    };
    let version = rest.strip_prefix('(').and_then(|r| r.strip_suffix(')')).map(str::trim).filter(|v| !v.is_empty());
    (Some(name).filter(|n| !n.is_empty()), version)
}

/// dpkg's package name rule, loosened to what is harmless here: the name becomes part of
/// file names (`info/NAME.list`) and purls.
fn valid_name(name: &str) -> bool {
    name.bytes().all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b)) && !name.starts_with(['-', '.'])
}

/// Splits deb822 text into paragraphs of lower-cased field names to values (continuation
/// lines joined with newlines), each with the line number where it starts.
fn paragraphs(content: &[u8], problems: &mut Vec<String>) -> Vec<(usize, BTreeMap<String, String>)> {
    let text = String::from_utf8_lossy(content);
    let mut out = Vec::new();
    let mut current: BTreeMap<String, String> = BTreeMap::new();
    let mut start = 1;
    let mut last_key: Option<String> = None;
    // After a line that was not kept, its continuation lines are dropped with it.
    let mut skipping = false;
    for (i, raw) in text.split('\n').enumerate() {
        let line_no = i + 1;
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        if line.trim().is_empty() {
            if !current.is_empty() {
                out.push((start, std::mem::take(&mut current)));
            }
            last_key = None;
            skipping = false;
            continue;
        }
        if current.is_empty() && last_key.is_none() {
            start = line_no;
        }
        if line.starts_with([' ', '\t']) {
            match last_key.as_ref().and_then(|k| current.get_mut(k)) {
                Some(value) => {
                    value.push('\n');
                    value.push_str(line.trim());
                }
                None if skipping => {}
                None => problems.push(format!("line {line_no}: continuation line without a field")),
            }
            continue;
        }
        let Some((key, value)) = line.split_once(':') else {
            problems.push(format!("line {line_no}: not a field: {:?}", truncate(line)));
            last_key = None;
            skipping = true;
            continue;
        };
        let key = key.trim().to_ascii_lowercase();
        if key.is_empty() || key.contains(char::is_whitespace) {
            problems.push(format!("line {line_no}: not a field: {:?}", truncate(line)));
            last_key = None;
            skipping = true;
            continue;
        }
        if current.contains_key(&key) {
            problems.push(format!("line {line_no}: field {key} repeated; the first one is kept"));
            last_key = None;
            skipping = true;
            continue;
        }
        current.insert(key.clone(), value.trim().to_owned());
        last_key = Some(key);
        skipping = false;
    }
    if !current.is_empty() {
        out.push((start, current));
    }
    out
}

fn truncate(s: &str) -> String {
    s.chars().take(60).collect()
}

/// Parses an `info/*.list` file: one absolute path per line, `/.` standing for the root.
pub fn parse_list(content: &[u8]) -> (Vec<String>, Vec<String>) {
    let mut paths = Vec::new();
    let mut problems = Vec::new();
    for (i, line) in String::from_utf8_lossy(content).lines().enumerate() {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.is_empty() || line == "/." {
            continue;
        }
        if !line.starts_with('/') {
            problems.push(format!("line {}: not an absolute path: {:?}", i + 1, truncate(line)));
            continue;
        }
        paths.push(image::path::join_in_root("/", line));
    }
    (paths, problems)
}

/// Parses an `md5sums` file: `HEX-DIGEST  relative/path` lines; returns absolute paths.
pub fn parse_md5sums(content: &[u8]) -> (Vec<String>, Vec<String>) {
    let mut paths = Vec::new();
    let mut problems = Vec::new();
    for (i, line) in String::from_utf8_lossy(content).lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        match line.split_once(char::is_whitespace) {
            Some((digest, path)) if digest.len() == 32 && digest.bytes().all(|b| b.is_ascii_hexdigit()) => {
                let path = path.trim_start();
                if path.is_empty() {
                    problems.push(format!("line {}: no path", i + 1));
                } else {
                    paths.push(image::path::join_in_root("/", path));
                }
            }
            _ => problems.push(format!("line {}: not a digest and a path: {:?}", i + 1, truncate(line))),
        }
    }
    (paths, problems)
}

/// Reads the licences a `/usr/share/doc/NAME/copyright` file names. In the machine-readable
/// format (DEP-5) every `Files:` and standalone paragraph has a `License:` field whose
/// first line is the licence's short name (`GPL-2+`, `BSD-3-clause`, or an expression such
/// as `GPL-2+ or Artistic`). Older free-form files often point at the system's copy of the
/// licence (`/usr/share/common-licenses/GPL-2`), which names it too; those are used only
/// when no `License:` field is found. Names are kept as written, in order, without repeats.
pub fn parse_copyright(content: &[u8]) -> Vec<String> {
    const COMMON: &str = "/usr/share/common-licenses/";
    let text = String::from_utf8_lossy(content);
    let mut fields = Vec::new();
    let mut referenced = Vec::new();
    for line in text.lines() {
        if let Some((_, value)) = line.split_once(':').filter(|(k, _)| k.eq_ignore_ascii_case("license")) {
            let value = value.trim();
            if !value.is_empty() && value.len() <= 200 && !fields.iter().any(|f| f == value) {
                fields.push(value.to_owned());
            }
            continue;
        }
        let mut rest = line;
        while let Some(at) = rest.find(COMMON) {
            rest = &rest[at + COMMON.len()..];
            let name: String = rest.chars().take_while(|c| c.is_ascii_alphanumeric() || "+-.".contains(*c)).collect();
            let name = name.trim_end_matches('.').to_owned();
            if !name.is_empty() && !referenced.contains(&name) {
                referenced.push(name);
            }
        }
    }
    if fields.is_empty() { referenced } else { fields }
}

/// The dpkg analyzer.
pub fn analyzer() -> Box<dyn Analyzer> {
    Box::new(DpkgAnalyzer::default())
}

#[derive(Debug, Default)]
struct DpkgAnalyzer {
    databases: DbCopies<Vec<DpkgPackage>>,
    /// File lists by path; only the newest copy of each path matters (see [`DbCopies`]).
    file_lists: BTreeMap<String, Found<FileList>>,
    /// Licences named by copyright files, by path; only the newest copy of each matters.
    copyrights: BTreeMap<String, Found<Vec<String>>>,
}

/// The paths one list file names, and what could not be read in it.
type FileList = (Vec<String>, Vec<String>);

impl DpkgAnalyzer {
    /// The licences in the visible `/usr/share/doc/NAME/copyright`. The documentation
    /// directory of a package is often a symlink to that of the package it was built with
    /// (`libssl-dev` -> `libssl3`), so the path is resolved in the final tree.
    fn licenses_of(&self, ctx: &Context<'_>, name: &str) -> Vec<String> {
        let Some((real, entry)) = ctx.tree.lookup(&format!("{DOC}{name}/copyright")) else { return Vec::new() };
        self.copyrights
            .get(&real)
            .filter(|f| f.layer == entry.layer && f.ordinal == entry.ordinal)
            .map(|f| f.value.clone())
            .unwrap_or_default()
    }

    /// The files of `package` listed by the visible list files; `base` is the status.d
    /// file name for distroless packages.
    fn files_of(&self, ctx: &Context<'_>, package: &DpkgPackage, base: Option<&str>) -> Vec<String> {
        let mut candidates =
            vec![format!("{INFO}{}:{}.list", package.name, package.arch), format!("{INFO}{}.list", package.name)];
        if let Some(base) = base {
            candidates.push(format!("{STATUS_D}{base}.md5sums"));
        }
        candidates.push(format!("{STATUS_D}{}.md5sums", package.name));
        candidates.push(format!("{INFO}{}:{}.md5sums", package.name, package.arch));
        candidates.push(format!("{INFO}{}.md5sums", package.name));
        for path in candidates {
            if let Some(found) = self.file_lists.get(&path).filter(|f| f.is_visible(ctx.tree)) {
                return owned_files(ctx.tree, &found.value.0);
            }
        }
        Vec::new()
    }
}

fn is_status_d_file(path: &str) -> bool {
    path.strip_prefix(STATUS_D).is_some_and(|name| !name.is_empty() && !name.contains('/'))
}

fn is_copyright_file(path: &str) -> bool {
    path.strip_prefix(DOC)
        .and_then(|rest| rest.strip_suffix("/copyright"))
        .is_some_and(|name| !name.is_empty() && !name.contains('/'))
}

fn is_info_file(path: &str) -> bool {
    path.strip_prefix(INFO)
        .is_some_and(|name| !name.contains('/') && (name.ends_with(".list") || name.ends_with(".md5sums")))
}

impl Analyzer for DpkgAnalyzer {
    fn name(&self) -> &'static str {
        "dpkg"
    }

    fn interest(&self, path: &str, _: &FileEntry) -> Interest {
        if path == STATUS || is_status_d_file(path) || is_info_file(path) || is_copyright_file(path) {
            Interest::Content
        } else {
            Interest::No
        }
    }

    fn analyze(&mut self, path: &str, entry: &FileEntry, content: &[u8], _: &mut Vec<Problem>) {
        if is_copyright_file(path) {
            self.copyrights.insert(path.to_owned(), Found::new(path, entry, parse_copyright(content)));
        } else if path.ends_with(".md5sums") || path.starts_with(INFO) {
            let (paths, problems) =
                if path.ends_with(".md5sums") { parse_md5sums(content) } else { parse_list(content) };
            self.file_lists.insert(path.to_owned(), Found::new(path, entry, (paths, cap_problems(problems))));
        } else {
            let (packages, problems) = parse_status(content);
            let keys = packages.iter().map(key).collect();
            self.databases.add(path, entry, packages, problems, keys);
        }
    }

    fn finish(mut self: Box<Self>, ctx: &Context<'_>, out: &mut Vec<Package>, problems: &mut Vec<Problem>) {
        let namespace = purl_namespace(ctx.os);
        let distro = distro_qualifier(ctx.os);
        let databases = std::mem::take(&mut self.databases).visible(ctx.tree);
        for db in databases {
            let problem = |message: String| Problem { analyzer: "dpkg".into(), path: db.path.clone(), message };
            problems.extend(db.problems.iter().cloned().map(problem));
            let base = db.path.strip_prefix(STATUS_D);
            for p in &db.value {
                let files = self.files_of(ctx, p, base);
                out.push(Package {
                    name: p.name.clone(),
                    version: p.version.clone(),
                    kind: PackageType::Deb,
                    purl: purl("deb", namespace, &p.name, &p.version, &[("arch", &p.arch), ("distro", &distro)]),
                    source_name: Some(p.source_name.clone()),
                    source_version: Some(p.source_version.clone()),
                    arch: Some(p.arch.clone()).filter(|a| !a.is_empty()),
                    licenses: self.licenses_of(ctx, &p.name),
                    layer: db.layers.get(&key(p)).copied(),
                    location: db.path.clone(),
                    files,
                });
            }
        }
        // Problems in the file lists of packages that are still installed.
        for (path, found) in &self.file_lists {
            if found.is_visible(ctx.tree) {
                problems.extend(found.value.1.iter().map(|m| Problem {
                    analyzer: "dpkg".into(),
                    path: path.clone(),
                    message: m.clone(),
                }));
            }
        }
    }
}

/// What layer attribution compares: a package is introduced where this version of it
/// for this architecture first appeared.
fn key(p: &DpkgPackage) -> String {
    format!("{}:{}={}", p.name, p.arch, p.version)
}
