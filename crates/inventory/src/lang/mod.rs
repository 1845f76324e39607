//! Language package analyzers: Python, Node, Go and Rust binaries, Cargo.lock, Java
//! archives, Ruby gems and PHP Composer.
//!
//! Every analyzer follows the same pattern. `analyze` runs a pure parser over the bytes of
//! one copy of a file (the parsers are public so that they can be fuzzed) and keeps the
//! result as a [`Found`]; `finish` keeps the copies that the final tree still shows and
//! turns them into packages, attributed to the layer that wrote the visible copy. Parse
//! problems are kept with their copy and reported only when that copy is visible, so that
//! a broken file which a later layer replaced does not mark the inventory as partial.
//!
//! What each analyzer reports follows what syft and trivy report for container images;
//! each module says where it differs.

pub mod cargo_lock;
pub mod composer;
pub mod elf;
pub mod gem;
pub mod golang;
pub mod java;
pub mod java_meta;
pub mod npm;
pub mod npm_lock;
pub mod python;
pub mod rust_binary;

use image::FileEntry;

use crate::analyzer::{Analyzer, Context, Found, Interest};
use crate::model::{Package, PackageType, Problem};

/// Every language analyzer, in the order their packages are reported.
pub fn analyzers() -> Vec<Box<dyn Analyzer>> {
    vec![
        Box::new(python::PythonAnalyzer::default()),
        Box::new(npm::NpmAnalyzer::default()),
        Box::new(golang::GoBinaryAnalyzer::default()),
        Box::new(rust_binary::RustBinaryAnalyzer::default()),
        Box::new(cargo_lock::CargoLockAnalyzer::default()),
        Box::new(java::JavaAnalyzer::default()),
        Box::new(gem::GemAnalyzer::default()),
        Box::new(composer::ComposerAnalyzer::default()),
    ]
}

/// An analyzer that wants nothing; stands in for analyzers not written yet.
#[derive(Debug)]
pub struct Nothing;

impl Analyzer for Nothing {
    fn name(&self) -> &'static str {
        "nothing"
    }
    fn interest(&self, _: &str, _: &FileEntry) -> Interest {
        Interest::No
    }
    fn analyze(&mut self, _: &str, _: &FileEntry, _: &[u8], _: &mut Vec<Problem>) {}
    fn finish(self: Box<Self>, _: &Context<'_>, _: &mut Vec<Package>, _: &mut Vec<Problem>) {}
}

/// What a parser read from one file: everything it could read, and a sentence for each
/// thing it could not.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Parsed<T> {
    pub value: T,
    pub problems: Vec<String>,
}

impl<T> Parsed<T> {
    pub fn new(value: T, problems: Vec<String>) -> Self {
        Parsed { value, problems }
    }
}

/// A package as a parser sees it, before the analyzer knows its layer and location.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LangPackage {
    pub name: String,
    pub version: String,
    pub licenses: Vec<String>,
    /// The purl namespace (npm scope, Maven group, Composer vendor, Go module prefix).
    pub namespace: Option<String>,
    /// The purl name, when it is not `name` (an npm `@scope/x` is named `x` in its purl).
    pub purl_name: Option<String>,
    /// The purl version, when it is not `version` (Go's `stdlib` drops the `go` prefix).
    pub purl_version: Option<String>,
    /// Where inside the file the package was found, when the file is an archive
    /// (`WEB-INF/lib/x.jar`): the location becomes `outer:inner`.
    pub inner_path: Option<String>,
    /// Files the package owns, as absolute image paths.
    pub files: Vec<String>,
}

impl LangPackage {
    pub fn new(name: impl Into<String>, version: impl Into<String>) -> Self {
        LangPackage { name: name.into(), version: version.into(), ..Default::default() }
    }
}

/// Turns a parsed package into a [`Package`] of `kind` found in the visible copy `found`.
pub(crate) fn to_package<T>(kind: PackageType, p: LangPackage, found: &Found<T>) -> Package {
    let purl_name = p.purl_name.as_deref().unwrap_or(&p.name);
    let purl_version = p.purl_version.as_deref().unwrap_or(&p.version);
    let purl = crate::purl::purl(kind.purl_type(), p.namespace.as_deref(), purl_name, purl_version, &[]);
    let location = match &p.inner_path {
        Some(inner) => format!("{}:{inner}", found.path),
        None => found.path.clone(),
    };
    Package {
        name: p.name,
        version: p.version,
        kind,
        purl,
        source_name: None,
        source_version: None,
        arch: None,
        licenses: dedup(p.licenses),
        layer: Some(found.layer),
        location,
        files: p.files,
    }
}

/// Records the problems of a visible copy.
pub(crate) fn report(analyzer: &str, path: &str, messages: &[String], problems: &mut Vec<Problem>) {
    for m in messages {
        problems.push(Problem { analyzer: analyzer.to_owned(), path: path.to_owned(), message: m.clone() });
    }
}

/// Removes empty and repeated entries, keeping the first occurrence's order.
pub(crate) fn dedup(values: Vec<String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(values.len());
    for v in values {
        let v = v.trim().to_owned();
        if !v.is_empty() && !out.contains(&v) {
            out.push(v);
        }
    }
    out
}

/// The copies of files that the final tree shows, in the order they were found.
pub(crate) fn visible<'a, T>(found: &'a [Found<T>], ctx: &Context<'_>) -> impl Iterator<Item = &'a Found<T>> {
    found.iter().filter(|f| f.is_visible(ctx.tree))
}

/// Whether the final tree has anything strictly below `dir`.
pub(crate) fn has_children(ctx: &Context<'_>, dir: &str) -> bool {
    ctx.tree.walk_under(dir).any(|(p, _)| p != dir)
}

/// Bytes as text, replacing invalid UTF-8 and dropping a byte order mark.
pub(crate) fn text(content: &[u8]) -> std::borrow::Cow<'_, str> {
    let content = content.strip_prefix(b"\xef\xbb\xbf").unwrap_or(content);
    String::from_utf8_lossy(content)
}

/// A JSON string field of an object, trimmed; `None` when missing, empty or not a string.
pub(crate) fn json_str<'a>(v: &'a serde_json::Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(|s| s.as_str()).map(str::trim).filter(|s| !s.is_empty())
}
