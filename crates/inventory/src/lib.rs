//! What is in a container image: the operating system, OS packages (dpkg, apk, rpm),
//! language packages, which files each package owns, statistics of owned and unowned
//! files, and SBOM documents (CycloneDX 1.5, SPDX 2.3) describing it all.
//!
//! Architecture invariant: no network I/O. Everything here reads bytes that the `image`
//! crate streams; a parser returns what it could read plus [`Problem`]s and never panics.

pub mod analyzer;
pub mod apk;
pub mod dpkg;
pub mod filestats;
pub mod lang;
pub mod model;
pub mod os;
pub mod purl;
pub mod rpm;

use std::io::Read;

use image::{FileEntry, FileTree, LayerVisitor};

pub use analyzer::{Analyzer, Collector, Context, Found, Interest};
pub use model::{FileStats, OsInfo, Package, PackageType, Problem, SizedFile};

/// Everything the inventory found in one image.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Inventory {
    pub os: Option<OsInfo>,
    pub packages: Vec<Package>,
    pub files: FileStats,
    /// What could not be read; a non-empty list means the inventory is partial.
    pub problems: Vec<Problem>,
}

/// Options for taking an inventory.
#[derive(Debug, Clone)]
pub struct Options {
    /// Files larger than this are not read by analyzers.
    pub max_file_bytes: u64,
}

impl Default for Options {
    fn default() -> Self {
        Options { max_file_bytes: 512 << 20 }
    }
}

/// The layer visitor that takes an inventory: OS detection plus every package analyzer.
/// Feed it to [`image::Image::read`], then call [`Inventorist::finish`] with the tree.
#[derive(Debug)]
pub struct Inventorist {
    os: os::OsDetector,
    collector: Collector,
}

impl Inventorist {
    pub fn new(options: &Options) -> Self {
        Inventorist {
            os: os::OsDetector::default(),
            collector: Collector::new(default_analyzers(), options.max_file_bytes),
        }
    }

    /// Turns what the layers showed into the inventory of the final tree.
    pub fn finish(self, tree: &FileTree) -> Inventory {
        let os = self.os.finish(tree);
        let (mut packages, problems) = self.collector.finish(tree, &os);
        drop_os_owned_language_packages(&mut packages);
        packages.sort_by(|a, b| {
            (a.kind, &a.name, &a.version, &a.location).cmp(&(b.kind, &b.name, &b.version, &b.location))
        });
        let files = filestats::compute(tree, &packages);
        Inventory { os: Some(os), packages, files, problems }
    }
}

/// OS identification files are a few hundred bytes; anything far larger is not one.
const MAX_OS_FILE_BYTES: u64 = 64 << 10;

impl Inventorist {
    fn wants_os(&self, path: &str, entry: &FileEntry) -> bool {
        entry.size <= MAX_OS_FILE_BYTES && self.os.wants(path)
    }
}

impl LayerVisitor for Inventorist {
    fn wants(&mut self, path: &str, entry: &FileEntry) -> bool {
        self.wants_os(path, entry) || self.collector.wants(path, entry)
    }

    fn visit(&mut self, path: &str, entry: &FileEntry, content: &mut dyn Read) -> std::io::Result<()> {
        if self.wants_os(path, entry) {
            let mut buf = Vec::new();
            content.read_to_end(&mut buf)?;
            self.os.analyze(path, entry, &buf);
            if self.collector.wants(path, entry) {
                return self.collector.visit(path, entry, &mut buf.as_slice());
            }
            return Ok(());
        }
        self.collector.visit(path, entry, content)
    }
}

/// Every package analyzer, in the order their packages are reported.
pub fn default_analyzers() -> Vec<Box<dyn Analyzer>> {
    let mut all: Vec<Box<dyn Analyzer>> = vec![dpkg::analyzer(), apk::analyzer(), rpm::analyzer()];
    all.extend(lang::analyzers());
    all
}

/// Language packages whose manifest an OS package installed are left out: the OS
/// package is the one the distribution's vulnerability data speaks of (a Debian
/// `python3-requests` is fixed by Debian, not by PyPI's release). Packages compiled into
/// binaries (Go modules, Rust crates) stay: the distribution tracks the binary's source
/// package, not the modules linked into it, so dropping them would hide their advisories.
fn drop_os_owned_language_packages(packages: &mut Vec<Package>) {
    let owned: std::collections::HashSet<&str> =
        packages.iter().filter(|p| p.kind.is_os()).flat_map(|p| p.files.iter().map(String::as_str)).collect();
    if owned.is_empty() {
        return;
    }
    let replaced_by_os = |p: &Package| {
        matches!(
            p.kind,
            PackageType::Python | PackageType::Npm | PackageType::Gem | PackageType::Maven | PackageType::Composer
        ) && owned.contains(p.location.as_str())
    };
    let keep: Vec<bool> = packages.iter().map(|p| !replaced_by_os(p)).collect();
    let mut it = keep.into_iter();
    packages.retain(|_| it.next().unwrap_or(true));
}
