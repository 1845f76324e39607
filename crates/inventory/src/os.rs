//! Operating system detection: `os-release` first, then the release files that
//! distributions wrote before `os-release` existed (or that minimal images keep instead).
//!
//! The detector sees file contents while the layers stream past, including copies that a
//! later layer replaces or deletes. It records every copy with its layer and ordinal, and
//! decides at the end, against the final tree, which copy is the visible one. Paths are
//! resolved through symlinks in the final tree (`/etc/os-release -> ../usr/lib/os-release`),
//! so the answer is what a process in the container would read.

use std::collections::BTreeMap;

use image::{FileEntry, FileKind, FileTree};

use crate::analyzer::{Found, introducing_layers};
use crate::model::OsInfo;

/// Release files larger than this are not release files; their content is ignored.
const MAX_RELEASE_FILE: usize = 64 << 10;

/// `os-release` locations, in the order the specification tells readers to try them.
const OS_RELEASE: [&str; 2] = ["/etc/os-release", "/usr/lib/os-release"];

/// Distribution release files, most specific first: `redhat-release` and `system-release`
/// are often symlinks to one of the files before them, and `debian_version` also exists on
/// Ubuntu, whose `lsb-release` comes earlier.
const RELEASE_FILES: [&str; 13] = [
    "/etc/alpine-release",
    "/etc/lsb-release",
    "/etc/centos-release",
    "/etc/rocky-release",
    "/etc/almalinux-release",
    "/etc/fedora-release",
    "/etc/oracle-release",
    "/etc/photon-release",
    "/etc/SuSE-release",
    "/etc/redhat-release",
    "/etc/system-release",
    "/etc/debian_version",
    "/etc/apk/repositories",
];

/// Where dpkg keeps its database; an image with one of these and no release file at all is
/// a distroless Debian image.
const DPKG_DATABASES: [&str; 2] = ["/var/lib/dpkg/status", "/var/lib/dpkg/status.d"];

/// Collects release files as the layers stream past and names the OS at the end.
#[derive(Debug, Default)]
pub struct OsDetector {
    copies: Vec<Found<Vec<u8>>>,
}

impl OsDetector {
    /// Whether `path` is a file the detector reads.
    pub fn wants(&self, path: &str) -> bool {
        OS_RELEASE.contains(&path) || RELEASE_FILES.contains(&path)
    }

    /// Records one copy of a release file.
    pub fn analyze(&mut self, path: &str, entry: &FileEntry, content: &[u8]) {
        if !self.wants(path) {
            return;
        }
        // An oversized copy is still recorded (empty) so that it hides older copies.
        let content = if content.len() > MAX_RELEASE_FILE { Vec::new() } else { content.to_vec() };
        self.copies.push(Found::new(path, entry, content));
    }

    /// Names the OS of the final tree.
    pub fn finish(self, tree: &FileTree) -> OsInfo {
        let visible = |path: &str| self.visible_content(tree, path);
        let debian_version = visible("/etc/debian_version");
        for path in OS_RELEASE {
            let Some((source, content)) = visible(path) else { continue };
            let Some(mut info) = os_release_info(&parse_os_release(content)) else { continue };
            info.source_file = Some(source);
            // Debian testing and unstable have no VERSION_ID in os-release.
            if info.id == "debian" && info.version_id.is_none() {
                info.version_id = debian_version.as_ref().and_then(|(_, c)| parse_debian_version(c).version_id);
            }
            return info;
        }
        for path in RELEASE_FILES {
            let Some((source, content)) = visible(path) else { continue };
            if let Some(mut info) = parse_release_file(path, content) {
                info.source_file = Some(source);
                return info;
            }
        }
        for path in DPKG_DATABASES {
            // Directories need not have entries of their own: files below them suffice.
            if tree.lookup(path).is_some() || tree.walk_under(path).next().is_some() {
                let mut info = OsInfo { id: "debian".into(), ..OsInfo::unknown() };
                info.source_file = Some(path.to_owned());
                return info;
            }
        }
        OsInfo::unknown()
    }

    /// The content of the copy of `path` that the final tree shows, after symlinks and
    /// hard links, with the path it was read from.
    fn visible_content(&self, tree: &FileTree, path: &str) -> Option<(String, &[u8])> {
        let (mut resolved, mut entry) = tree.lookup(path)?;
        if entry.kind == FileKind::Hardlink {
            // A hard link's content was offered under the path it links to.
            let target = entry.link.clone()?;
            (resolved, entry) = tree.lookup(&target)?;
        }
        if entry.kind != FileKind::Regular {
            return None;
        }
        self.copies
            .iter()
            .rev()
            .find(|c| c.path == resolved && c.layer == entry.layer && c.ordinal == entry.ordinal)
            .map(|c| (resolved.clone(), c.value.as_slice()))
    }
}

/// Parses `os-release` (and `lsb-release`, which has the same syntax): `KEY=value` lines,
/// values optionally in single or double quotes. Inside double quotes a backslash escapes
/// `"`, `\`, `` ` `` and `$`; outside quotes it escapes any character. Blank lines and lines
/// starting with `#` are ignored, and so are malformed lines. Later assignments win.
pub fn parse_os_release(content: &[u8]) -> BTreeMap<String, String> {
    let text = String::from_utf8_lossy(content);
    let mut out = BTreeMap::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((key, raw)) = line.split_once('=') else { continue };
        let key = key.trim();
        if key.is_empty() || !key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
            continue;
        }
        if let Some(value) = unquote(raw.trim()) {
            out.insert(key.to_owned(), value);
        }
    }
    out
}

/// Undoes shell quoting of one value; `None` when a quote is left open.
fn unquote(raw: &str) -> Option<String> {
    #[derive(PartialEq)]
    enum Mode {
        Bare,
        Single,
        Double,
    }
    let mut out = String::with_capacity(raw.len());
    let mut mode = Mode::Bare;
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        match (&mode, c) {
            (Mode::Bare, '\'') => mode = Mode::Single,
            (Mode::Bare, '"') => mode = Mode::Double,
            (Mode::Bare, '\\') => out.push(chars.next()?),
            // An unquoted `#` after whitespace starts a comment, as in the shell.
            (Mode::Bare, '#') if out.ends_with(char::is_whitespace) => break,
            (Mode::Single, '\'') | (Mode::Double, '"') => mode = Mode::Bare,
            (Mode::Double, '\\') => match chars.next()? {
                e @ ('"' | '\\' | '`' | '$') => out.push(e),
                // A line continuation cannot happen within one line; keep anything else literally.
                other => {
                    out.push('\\');
                    out.push(other);
                }
            },
            (_, c) => out.push(c),
        }
    }
    (mode == Mode::Bare).then(|| out.trim_end().to_owned())
}

/// Turns parsed `os-release` fields into an [`OsInfo`]; `None` without an `ID`.
pub fn os_release_info(fields: &BTreeMap<String, String>) -> Option<OsInfo> {
    let get = |k: &str| fields.get(k).map(|v| v.trim()).filter(|v| !v.is_empty()).map(str::to_owned);
    let id = get("ID")?.to_ascii_lowercase();
    Some(OsInfo {
        id,
        version_id: get("VERSION_ID"),
        codename: get("VERSION_CODENAME"),
        pretty_name: get("PRETTY_NAME").or_else(|| get("NAME")),
        id_like: get("ID_LIKE")
            .map(|v| v.split_whitespace().map(str::to_ascii_lowercase).collect())
            .unwrap_or_default(),
        source_file: None,
    })
}

/// Reads one of the distribution release files listed in [`RELEASE_FILES`].
pub fn parse_release_file(path: &str, content: &[u8]) -> Option<OsInfo> {
    let text = String::from_utf8_lossy(content);
    let first = text.lines().map(str::trim).find(|l| !l.is_empty()).unwrap_or("");
    match path {
        "/etc/alpine-release" => {
            let version = first.split_whitespace().next()?;
            Some(OsInfo { id: "alpine".into(), version_id: Some(version.into()), ..OsInfo::unknown() })
        }
        "/etc/lsb-release" => {
            let fields = parse_os_release(content);
            let get = |k: &str| fields.get(k).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
            Some(OsInfo {
                id: get("DISTRIB_ID")?.to_ascii_lowercase().replace(' ', ""),
                version_id: get("DISTRIB_RELEASE"),
                codename: get("DISTRIB_CODENAME"),
                pretty_name: get("DISTRIB_DESCRIPTION"),
                ..OsInfo::unknown()
            })
        }
        "/etc/debian_version" => Some(parse_debian_version(content)),
        "/etc/photon-release" => {
            // "VMware Photon OS 5.0" followed by PHOTON_BUILD_NUMBER=...
            let version = first.strip_prefix("VMware Photon OS")?.split_whitespace().next()?;
            Some(info("photon", version, first))
        }
        "/etc/SuSE-release" => parse_suse_release(&text),
        "/etc/apk/repositories" => parse_apk_repositories(&text),
        _ => parse_redhat_like(first),
    }
}

fn info(id: &str, version: &str, pretty: &str) -> OsInfo {
    OsInfo {
        id: id.into(),
        version_id: (!version.is_empty()).then(|| version.to_owned()),
        pretty_name: (!pretty.is_empty()).then(|| pretty.to_owned()),
        ..OsInfo::unknown()
    }
}

/// `/etc/debian_version` holds `12.5` on a release and `trixie/sid` on testing. Debian's
/// `os-release` gives the major version alone as `VERSION_ID`, and so does this.
fn parse_debian_version(content: &[u8]) -> OsInfo {
    let text = String::from_utf8_lossy(content);
    let line = text.lines().next().unwrap_or("").trim();
    let mut out = OsInfo { id: "debian".into(), ..OsInfo::unknown() };
    let major = line.split('.').next().unwrap_or("");
    if !major.is_empty() && major.bytes().all(|b| b.is_ascii_digit()) {
        out.version_id = Some(major.to_owned());
    } else if let Some(codename) =
        line.split('/').next().filter(|c| !c.is_empty() && c.bytes().all(|b| b.is_ascii_lowercase()))
    {
        out.codename = Some(codename.to_owned());
    }
    out
}

/// The first line of the Red Hat family's release files:
/// `Red Hat Enterprise Linux release 9.3 (Plow)`, `CentOS Stream release 9`,
/// `Rocky Linux release 9.3 (Blue Onyx)`, `Amazon Linux release 2023 (Amazon Linux)`, ...
fn parse_redhat_like(line: &str) -> Option<OsInfo> {
    const NAMES: [(&str, &str); 9] = [
        ("Red Hat Enterprise Linux", "rhel"),
        ("CentOS", "centos"),
        ("Rocky Linux", "rocky"),
        ("AlmaLinux", "almalinux"),
        ("Fedora", "fedora"),
        ("Oracle Linux", "ol"),
        ("Amazon Linux", "amzn"),
        ("Scientific Linux", "scientific"),
        ("CloudLinux", "cloudlinux"),
    ];
    let (_, id) = NAMES.iter().find(|(name, _)| line.starts_with(name))?;
    let version = line
        .split_once(" release ")
        .and_then(|(_, rest)| rest.split_whitespace().next())
        .filter(|v| v.starts_with(|c: char| c.is_ascii_digit()))
        .unwrap_or("");
    Some(info(id, version, line))
}

/// `/etc/SuSE-release`: a description line, then `VERSION = 12` and `PATCHLEVEL = 3`.
fn parse_suse_release(text: &str) -> Option<OsInfo> {
    let first = text.lines().map(str::trim).find(|l| !l.is_empty())?;
    let field = |key: &str| {
        text.lines().find_map(|l| {
            let (k, v) = l.split_once('=')?;
            (k.trim() == key).then(|| v.trim().to_owned())
        })
    };
    let id = if first.starts_with("openSUSE") {
        "opensuse"
    } else if first.starts_with("SUSE Linux Enterprise Server") {
        "sles"
    } else if first.starts_with("SUSE") {
        "sled"
    } else {
        return None;
    };
    let mut version = field("VERSION").unwrap_or_default();
    if let Some(patch) = field("PATCHLEVEL").filter(|p| p != "0" && !version.contains('.')) {
        version = format!("{version}.{patch}");
    }
    Some(info(id, &version, first))
}

/// An Alpine image that lost `/etc/alpine-release` still names its branch in the
/// repository URLs (`https://dl-cdn.alpinelinux.org/alpine/v3.19/main`).
fn parse_apk_repositories(text: &str) -> Option<OsInfo> {
    for line in text.lines().map(str::trim).filter(|l| !l.starts_with('#')) {
        let mut parts = line.split('/');
        while let Some(part) = parts.next() {
            if part == "alpine" {
                let branch = parts.next().unwrap_or("");
                if let Some(v) = branch.strip_prefix('v').filter(|v| v.starts_with(|c: char| c.is_ascii_digit())) {
                    return Some(OsInfo { id: "alpine".into(), version_id: Some(v.into()), ..OsInfo::unknown() });
                }
                if branch == "edge" {
                    return Some(OsInfo { id: "alpine".into(), codename: Some("edge".into()), ..OsInfo::unknown() });
                }
            }
        }
    }
    None
}

/// The purl `distro` qualifier for packages of this OS: `debian-12`, `alpine-3.19.1`, or the
/// bare id when the version is unknown. Empty for an unknown OS.
pub fn distro_qualifier(os: &OsInfo) -> String {
    if !os.is_known() {
        return String::new();
    }
    match &os.version_id {
        Some(v) => format!("{}-{}", os.id, v),
        None => os.id.clone(),
    }
}

/// The purl namespace for OS packages: the OS id, or none when the OS is unknown.
pub fn purl_namespace(os: &OsInfo) -> Option<&str> {
    os.is_known().then_some(os.id.as_str())
}

// What follows is shared by the OS package database analyzers (dpkg, apk, rpm), which
// all read databases of the OS this module names.

/// Copies of one OS package database seen while layers stream past, per path, so that at
/// the end the visible copy can be read and each of its packages attributed to the layer
/// that introduced it. Only the newest copy of a path keeps its parsed values: a path's
/// visible copy is always the newest one written there, so older copies need only the keys
/// that layer attribution compares.
#[derive(Debug)]
pub(crate) struct DbCopies<T> {
    by_path: BTreeMap<String, Vec<Found<DbCopy<T>>>>,
}

impl<T> Default for DbCopies<T> {
    fn default() -> Self {
        DbCopies { by_path: BTreeMap::new() }
    }
}

#[derive(Debug)]
pub(crate) struct DbCopy<T> {
    keys: Vec<String>,
    parsed: Option<(T, Vec<String>)>,
}

/// The visible copy of one database.
#[derive(Debug)]
pub(crate) struct VisibleDb<T> {
    pub path: String,
    pub value: T,
    /// What could not be read in this copy.
    pub problems: Vec<String>,
    /// For each key, the layer that introduced it.
    pub layers: BTreeMap<String, u32>,
}

impl<T> DbCopies<T> {
    /// Records one copy: its parsed value, its problems and the keys of what it lists.
    pub fn add(&mut self, path: &str, entry: &FileEntry, value: T, problems: Vec<String>, keys: Vec<String>) {
        let copies = self.by_path.entry(path.to_owned()).or_default();
        if let Some(last) = copies.last_mut() {
            last.value.parsed = None;
        }
        copies.push(Found::new(path, entry, DbCopy { keys, parsed: Some((value, cap_problems(problems))) }));
    }

    /// The copies the final tree shows, in path order.
    pub fn visible(self, tree: &FileTree) -> Vec<VisibleDb<T>> {
        let mut out = Vec::new();
        for (path, mut copies) in self.by_path {
            if !copies.last().is_some_and(|c| c.is_visible(tree)) {
                continue;
            }
            let refs: Vec<&Found<DbCopy<T>>> = copies.iter().collect();
            let layers = introducing_layers(&refs, |c| c.keys.clone());
            let Some((value, problems)) = copies.pop().and_then(|c| c.value.parsed) else { continue };
            out.push(VisibleDb { path, value, problems, layers });
        }
        out
    }
}

/// Keeps the listed paths that are files (or symlinks) in the final tree, as the tree
/// names them. Package databases list directories too: a listed path that is the parent of
/// another listed path is a directory to the package, even where the image has a symlink
/// in its place (`/lib` on a merged-`/usr` system), and is left out, as are paths the tree
/// holds as directories. Paths through symlinked directories (`/lib/x86_64-linux-gnu/libz.so.1`
/// where the tree holds `/usr/lib/...`) are resolved like `lstat` does: every component but
/// the last follows symlinks. Paths the image no longer has are dropped.
pub(crate) fn owned_files(tree: &FileTree, listed: &[String]) -> Vec<String> {
    let parents_listed: std::collections::HashSet<&str> = listed.iter().map(|p| image::path::parent(p)).collect();
    let mut out = Vec::with_capacity(listed.len());
    // Resolving parents is the costly part, and consecutive paths share them.
    let mut parents: BTreeMap<&str, Option<String>> = BTreeMap::new();
    for path in listed {
        if parents_listed.contains(path.as_str()) {
            continue;
        }
        let found = match tree.get(path) {
            Some(e) => Some((path.clone(), e)),
            None => {
                let parent = image::path::parent(path);
                let resolved = parents.entry(parent).or_insert_with(|| tree.resolve(parent));
                resolved.as_deref().and_then(|dir| {
                    let real = image::path::join_in_root(dir, image::path::file_name(path));
                    tree.get(&real).map(|e| (real, e))
                })
            }
        };
        if let Some((real, _)) = found.filter(|(_, e)| e.kind != FileKind::Directory) {
            out.push(real);
        }
    }
    out.sort();
    out.dedup();
    out
}

/// Most problems kept for one file: a file of garbage would otherwise give one per line.
const MAX_PROBLEMS_PER_FILE: usize = 20;

/// Keeps the first problems of one file and says how many more there were.
pub(crate) fn cap_problems(mut problems: Vec<String>) -> Vec<String> {
    if problems.len() > MAX_PROBLEMS_PER_FILE {
        let more = problems.len() - MAX_PROBLEMS_PER_FILE;
        problems.truncate(MAX_PROBLEMS_PER_FILE);
        problems.push(format!("... and {more} more problems"));
    }
    problems
}
