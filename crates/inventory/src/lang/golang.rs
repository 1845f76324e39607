//! Go executables: the build information the Go linker embeds (`\xff Go buildinf:`), in
//! the `.go.buildinfo` section of binaries from Go 1.13 on.
//!
//! Two layouts exist. From Go 1.18 the version and module strings follow the 32-byte
//! header inline, each prefixed with its length as a varint (flag bit 2). Before, the
//! header holds two pointers to Go string headers (pointer, length), which must be
//! followed through the binary's address space.
//!
//! Reported as syft does: every `dep` (its `=>` replacement's path and version when it
//! has one), the main module (its version, or a pseudo-version from `vcs.revision` and
//! `vcs.time` when the build says `(devel)`), and the Go standard library as `stdlib` at
//! the toolchain version (`go1.22.1`, purl `pkg:golang/stdlib@1.22.1`). One difference: a
//! dependency replaced by a local directory (`=> ../lib`) is reported under its original
//! module path at version `(devel)`; syft names it after the directory, with no version.

use image::FileEntry;

use super::elf::Binary;
use super::{LangPackage, Parsed, report, to_package, visible};
use crate::analyzer::{Analyzer, Context, Found, Interest};
use crate::model::{Package, PackageType, Problem};

const NAME: &str = "go-binary";
const MAGIC: &[u8] = b"\xff Go buildinf:";
const HEADER_LEN: usize = 32;
/// Longest version or module string accepted (real ones are a few kilobytes).
const MAX_STRING: u64 = 16 << 20;
/// The version the Go toolchain gives a module built from a work tree.
pub const DEVEL: &str = "(devel)";

/// One module of the build.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Module {
    pub path: String,
    pub version: String,
    pub sum: String,
    pub replace: Option<Box<Module>>,
}

/// The build information of one Go binary.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BuildInfo {
    /// The toolchain version, `go1.22.1`.
    pub go_version: String,
    /// The main package path (`path` line).
    pub path: String,
    pub main: Option<Module>,
    pub deps: Vec<Module>,
    /// `build` lines: `-ldflags`, `GOARCH`, `vcs.revision`, ...
    pub settings: Vec<(String, String)>,
}

impl BuildInfo {
    fn setting(&self, key: &str) -> Option<&str> {
        self.settings.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }
}

/// Finds Go executables.
#[derive(Debug, Default)]
pub struct GoBinaryAnalyzer {
    found: Vec<Found<Parsed<Vec<LangPackage>>>>,
}

impl Analyzer for GoBinaryAnalyzer {
    fn name(&self) -> &'static str {
        NAME
    }

    fn interest(&self, _: &str, entry: &FileEntry) -> Interest {
        if entry.is_executable() { Interest::IfElf } else { Interest::No }
    }

    fn analyze(&mut self, path: &str, entry: &FileEntry, content: &[u8], _: &mut Vec<Problem>) {
        let parsed = parse_go_binary(content);
        let packages = parsed.value.as_ref().map(packages).unwrap_or_default();
        if !packages.is_empty() || !parsed.problems.is_empty() {
            self.found.push(Found::new(path, entry, Parsed::new(packages, parsed.problems)));
        }
    }

    fn finish(self: Box<Self>, ctx: &Context<'_>, out: &mut Vec<Package>, problems: &mut Vec<Problem>) {
        for found in visible(&self.found, ctx) {
            report(NAME, &found.path, &found.value.problems, problems);
            for p in &found.value.value {
                out.push(to_package(PackageType::GoModule, p.clone(), found));
            }
        }
    }
}

/// Reads the build information of a Go executable. `None` without problems when the file
/// is not a Go binary (or one built without module support, which records no modules).
pub fn parse_go_binary(content: &[u8]) -> Parsed<Option<BuildInfo>> {
    let binary = Binary::parse(content);
    // The linker always writes a `.go.buildinfo` section; the whole file is searched only
    // when there are no section headers to tell (stripped of them, or unreadable).
    let (header, whole) = match binary.as_ref() {
        Some(b) if b.has_sections() => match b.section(".go.buildinfo") {
            Some(section) => (find_magic(section), section),
            None => return Parsed::new(None, vec![]),
        },
        _ => (find_magic(content), content),
    };
    let Some(start) = header else { return Parsed::new(None, vec![]) };
    let Some(data) = whole.get(start..) else { return Parsed::new(None, vec![]) };
    let (Some(&ptr_size), Some(&flags)) = (data.get(14), data.get(15)) else {
        return Parsed::new(None, vec!["Go build information header is truncated".into()]);
    };
    let strings = if flags & 2 != 0 {
        inline_strings(data)
    } else {
        match binary.as_ref() {
            Some(b) => pointer_strings(b, data, ptr_size, flags & 1 != 0),
            None => Err("Go build information points into a binary that cannot be read".to_owned()),
        }
    };
    let (version, modinfo) = match strings {
        Ok(s) => s,
        Err(e) => return Parsed::new(None, vec![e]),
    };
    let modinfo = strip_sentinels(&modinfo);
    if modinfo.is_empty() {
        return Parsed::new(None, vec![]);
    }
    let mut info = parse_modinfo(&String::from_utf8_lossy(modinfo));
    info.go_version = String::from_utf8_lossy(&version).trim().to_owned();
    Parsed::new(Some(info), vec![])
}

/// The offset of the build information header: the magic, 16-byte aligned.
fn find_magic(data: &[u8]) -> Option<usize> {
    (0..data.len()).step_by(16).find(|&i| data.get(i..).is_some_and(|d| d.starts_with(MAGIC)))
}

type Strings = Result<(Vec<u8>, Vec<u8>), String>;

/// Go ≥ 1.18: two varint-prefixed strings after the header.
fn inline_strings(data: &[u8]) -> Strings {
    let rest = data.get(HEADER_LEN..).ok_or("Go build information header is truncated")?;
    let (version, rest) = varint_string(rest).ok_or("Go version string is truncated")?;
    let (modinfo, _) = varint_string(rest).ok_or("Go module information is truncated")?;
    Ok((version.to_vec(), modinfo.to_vec()))
}

fn varint_string(data: &[u8]) -> Option<(&[u8], &[u8])> {
    let mut len: u64 = 0;
    for (i, &b) in data.iter().enumerate().take(10) {
        len |= u64::from(b & 0x7f).checked_shl(7 * i as u32)?;
        if b & 0x80 == 0 {
            let start = i + 1;
            let end = start.checked_add(usize::try_from(len).ok()?)?;
            return Some((data.get(start..end)?, data.get(end..)?));
        }
    }
    None
}

/// Go < 1.18: two pointers to string headers.
fn pointer_strings(binary: &Binary<'_>, data: &[u8], ptr_size: u8, big_endian: bool) -> Strings {
    let size = match ptr_size {
        4 | 8 => usize::from(ptr_size),
        other => return Err(format!("Go build information has pointer size {other}")),
    };
    let big_endian = big_endian || binary.is_big_endian();
    let read_ptr = |bytes: &[u8]| -> Option<u64> {
        let bytes = bytes.get(..size)?;
        let mut v: u64 = 0;
        for i in 0..size {
            let b = if big_endian { bytes.get(i)? } else { bytes.get(size - 1 - i)? };
            v = (v << 8) | u64::from(*b);
        }
        Some(v)
    };
    let read_string = |header_addr: u64| -> Option<Vec<u8>> {
        let header = binary.read_at(header_addr, 2 * size as u64)?;
        let ptr = read_ptr(header)?;
        let len = read_ptr(header.get(size..)?)?;
        if len == 0 {
            return Some(Vec::new());
        }
        if len > MAX_STRING {
            return None;
        }
        binary.read_at(ptr, len).map(<[u8]>::to_vec)
    };
    let version_addr = data.get(16..).and_then(read_ptr).ok_or("Go build information header is truncated")?;
    let modinfo_addr = data.get(16 + size..).and_then(read_ptr).ok_or("Go build information header is truncated")?;
    let version = read_string(version_addr).ok_or("Go version string points outside the binary")?;
    let modinfo = read_string(modinfo_addr).ok_or("Go module information points outside the binary")?;
    Ok((version, modinfo))
}

/// The module information sits between two 16-byte sentinels.
fn strip_sentinels(modinfo: &[u8]) -> &[u8] {
    let n = modinfo.len();
    if n >= 33 && modinfo.get(n - 17) == Some(&b'\n') { modinfo.get(16..n - 16).unwrap_or(&[]) } else { &[] }
}

/// Parses the module information text (`path`, `mod`, `dep`, `=>`, `build` lines).
pub fn parse_modinfo(text: &str) -> BuildInfo {
    let mut info = BuildInfo::default();
    // Which module a `=>` line replaces: the last `dep`, or the main module.
    let mut last_is_main = false;
    for line in text.lines() {
        let mut parts = line.split('\t');
        let kind = parts.next().unwrap_or("");
        let module = || {
            let mut parts = line.split('\t').skip(1);
            Module {
                path: parts.next().unwrap_or("").to_owned(),
                version: parts.next().unwrap_or("").to_owned(),
                sum: parts.next().unwrap_or("").to_owned(),
                replace: None,
            }
        };
        match kind {
            "path" => info.path = parts.next().unwrap_or("").to_owned(),
            "mod" => {
                info.main = Some(module());
                last_is_main = true;
            }
            "dep" => {
                info.deps.push(module());
                last_is_main = false;
            }
            "=>" => {
                let target = if last_is_main { info.main.as_mut() } else { info.deps.last_mut() };
                if let Some(m) = target {
                    m.replace = Some(Box::new(module()));
                }
            }
            "build" => {
                let setting = parts.next().unwrap_or("");
                if let Some((k, v)) = setting.split_once('=') {
                    info.settings.push((k.to_owned(), v.trim_matches('"').to_owned()));
                }
            }
            _ => {}
        }
    }
    info
}

/// The packages syft reports for a build: deps, the main module, and `stdlib`.
pub fn packages(info: &BuildInfo) -> Vec<LangPackage> {
    let mut out = Vec::new();
    for dep in &info.deps {
        let (path, version) = match dep.replace.as_deref() {
            Some(r) if is_local_path(&r.path) => (dep.path.as_str(), DEVEL),
            Some(r) => (r.path.as_str(), r.version.as_str()),
            None => (dep.path.as_str(), dep.version.as_str()),
        };
        if !path.is_empty() {
            out.push(go_package(path, version));
        }
    }
    let main = info.main.clone().or_else(|| {
        (!info.path.is_empty()).then(|| Module { path: info.path.clone(), version: DEVEL.into(), ..Default::default() })
    });
    if let Some(main) = main.filter(|m| !m.path.is_empty()) {
        let version = if main.version.is_empty() || main.version == DEVEL {
            main_version(info).unwrap_or_else(|| main.version.clone())
        } else {
            main.version.clone()
        };
        out.push(go_package(&main.path, &version));
    }
    if !out.is_empty() && !info.go_version.is_empty() {
        let version = info.go_version.split_whitespace().next().unwrap_or("");
        let mut p = LangPackage::new("stdlib", version);
        p.purl_version = Some(version.trim_start_matches("go").to_owned());
        p.licenses = vec!["BSD-3-Clause".into()];
        out.push(p);
    }
    out
}

fn is_local_path(path: &str) -> bool {
    path.starts_with("./") || path.starts_with("../") || path.starts_with('/') || path == "." || path == ".."
}

/// A package for module `path`: its purl namespace is everything before the last `/`.
fn go_package(path: &str, version: &str) -> LangPackage {
    let mut p = LangPackage::new(path, version);
    if let Some((ns, name)) = path.rsplit_once('/') {
        p.namespace = Some(ns.to_owned());
        p.purl_name = Some(name.to_owned());
    }
    p
}

/// A version for a main module built as `(devel)`: from a `-X …version=` link flag, else
/// a pseudo-version from the VCS stamp.
fn main_version(info: &BuildInfo) -> Option<String> {
    if let Some(v) = info.setting("-ldflags").and_then(version_from_ldflags) {
        return Some(v);
    }
    let revision = info.setting("vcs.revision")?;
    let Some(time) = info.setting("vcs.time") else { return Some(revision.to_owned()) };
    let short: String = revision.chars().take(12).collect();
    Some(format!("v0.0.0-{}-{short}", pseudo_time(time)))
}

/// `2024-01-02T03:04:05Z` as `20240102030405`; Go's zero time when it does not parse.
fn pseudo_time(rfc3339: &str) -> String {
    let digits: String = rfc3339.chars().take(19).filter(char::is_ascii_digit).collect();
    if digits.len() == 14 { digits } else { "00010101000000".into() }
}

/// `-X main.version=1.2.3` (or `Version`, `gitTag`, ...) in the link flags.
fn version_from_ldflags(flags: &str) -> Option<String> {
    let mut words = flags.split_whitespace();
    while let Some(w) = words.next() {
        let assignment = if w == "-X" {
            words.next()?
        } else if let Some(a) = w.strip_prefix("-X=") {
            a
        } else {
            continue;
        };
        let Some((var, value)) = assignment.split_once('=') else { continue };
        let var = var.rsplit(['.', '/']).next().unwrap_or("").to_ascii_lowercase();
        let value = value.trim_matches(|c| c == '\'' || c == '"');
        let numeric = value.trim_start_matches('v');
        if matches!(var.as_str(), "version" | "gittag" | "gitversion" | "appversion" | "buildversion")
            && numeric.starts_with(|c: char| c.is_ascii_digit())
            && numeric.contains('.')
        {
            return Some(format!("v{numeric}"));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modinfo_with_replacements() {
        let info = parse_modinfo(
            "path\texample.com/app\nmod\texample.com/app\t(devel)\t\ndep\tgolang.org/x/text\tv0.3.0\th1:a\n=>\tgolang.org/x/text\tv0.3.8\th1:b\ndep\texample.com/lib\tv0.0.0\n=>\t../lib\t\t\nbuild\tvcs.revision=0123456789abcdef\nbuild\tvcs.time=2024-01-02T03:04:05Z\n",
        );
        let p: Vec<String> = packages(&info).iter().map(|p| format!("{} {}", p.name, p.version)).collect();
        assert_eq!(
            p,
            [
                "golang.org/x/text v0.3.8",
                "example.com/lib (devel)",
                "example.com/app v0.0.0-20240102030405-0123456789ab"
            ]
        );
    }

    #[test]
    fn ldflags_versions() {
        assert_eq!(version_from_ldflags("-s -w -X main.version=1.2.3").as_deref(), Some("v1.2.3"));
        assert_eq!(version_from_ldflags("-X=github.com/a/b/cmd.Version=v2.0.1").as_deref(), Some("v2.0.1"));
        assert_eq!(version_from_ldflags("-X main.commit=abc"), None);
    }

    #[test]
    fn varints() {
        assert_eq!(varint_string(b"\x03abcd"), Some((&b"abc"[..], &b"d"[..])));
        assert_eq!(varint_string(b"\x05ab"), None);
        assert_eq!(varint_string(b"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01"), None);
    }
}
