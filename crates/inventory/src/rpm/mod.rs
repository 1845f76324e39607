//! rpm package databases: SQLite (`rpmdb.sqlite`, RHEL 9, Fedora 33+), BerkeleyDB
//! (`Packages`, RHEL 8 and older) and ndb (`Packages.db`, SUSE), in `/var/lib/rpm` or
//! `/usr/lib/sysimage/rpm`. Each backend yields header blobs; [`header`] reads them.

pub mod bdb;
pub mod header;
pub mod ndb;
pub mod sqlite;

use std::collections::{BTreeMap, BTreeSet};

use image::FileEntry;

use crate::analyzer::{Analyzer, Context, Interest};
use crate::model::{Package, PackageType, Problem};
use crate::os::{DbCopies, distro_qualifier, owned_files, purl_namespace};
use crate::purl::purl;

/// Directories rpm keeps its database in (`%_dbpath`).
const DB_DIRS: [&str; 3] = ["/var/lib/rpm", "/usr/lib/sysimage/rpm", "/usr/share/rpm"];

/// One record of a package database: the header number and the header blob.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Blob {
    pub id: u64,
    pub data: Vec<u8>,
}

/// The database backends, in the order of preference when one directory holds several
/// (a converted database leaves the old file behind; rpm reads the newest format).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Backend {
    Sqlite,
    Ndb,
    BerkeleyDb,
}

impl Backend {
    /// The backend of a database file name.
    pub fn of_file(name: &str) -> Option<Backend> {
        match name {
            "rpmdb.sqlite" => Some(Backend::Sqlite),
            "Packages.db" => Some(Backend::Ndb),
            "Packages" => Some(Backend::BerkeleyDb),
            _ => None,
        }
    }

    /// Reads the header blobs of a database of this backend.
    pub fn read(self, db: &[u8]) -> (Vec<Blob>, Vec<String>) {
        match self {
            Backend::Sqlite => sqlite::read(db),
            Backend::Ndb => ndb::read(db),
            Backend::BerkeleyDb => bdb::read(db),
        }
    }
}

/// One installed package, from its header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RpmPackage {
    pub name: String,
    pub epoch: Option<u32>,
    pub version: String,
    pub release: String,
    pub arch: String,
    pub license: String,
    pub vendor: String,
    /// `SOURCERPM`, e.g. `openssl-3.0.7-27.el9.src.rpm`; empty when absent.
    pub source_rpm: String,
    /// Absolute paths of the files and directories the package installed.
    pub files: Vec<String>,
}

impl RpmPackage {
    /// `[EPOCH:]VERSION-RELEASE`, rpm's full version.
    pub fn full_version(&self) -> String {
        let vr =
            if self.release.is_empty() { self.version.clone() } else { format!("{}-{}", self.version, self.release) };
        match self.epoch {
            Some(e) => format!("{e}:{vr}"),
            None => vr,
        }
    }

    /// The source package's name and `VERSION-RELEASE`, from the source rpm's file name.
    pub fn source(&self) -> Option<(&str, String)> {
        let stem = self.source_rpm.strip_suffix(".src.rpm").or_else(|| self.source_rpm.strip_suffix(".nosrc.rpm"))?;
        let (rest, release) = stem.rsplit_once('-')?;
        let (name, version) = rest.rsplit_once('-')?;
        if name.is_empty() || version.is_empty() || release.is_empty() {
            return None;
        }
        Some((name, format!("{version}-{release}")))
    }
}

/// Reads one header blob into a package; `Ok(None)` for the `gpg-pubkey` entries that
/// imported signing keys leave in the database.
pub fn package_from_header(blob: &[u8]) -> Result<Option<RpmPackage>, String> {
    let h = header::parse(blob).map_err(|e| e.to_string())?;
    let text = |tag| h.string(tag).unwrap_or("").to_owned();
    let name = text(header::NAME);
    if name.is_empty() {
        return Err("header has no NAME".into());
    }
    if name == "gpg-pubkey" {
        return Ok(None);
    }
    let version = text(header::VERSION);
    if version.is_empty() {
        return Err(format!("package {name} has no VERSION"));
    }
    let epoch = match h.integer(header::EPOCH) {
        Some(e) => Some(u32::try_from(e).map_err(|_| format!("package {name}: EPOCH {e} is out of range"))?),
        None => None,
    };
    let files = h
        .file_names()
        .map_err(|e| format!("package {name}: {e}"))?
        .into_iter()
        .map(|f| image::path::join_in_root("/", &f))
        .collect();
    Ok(Some(RpmPackage {
        name,
        epoch,
        version,
        release: text(header::RELEASE),
        arch: text(header::ARCH),
        license: text(header::LICENSE),
        vendor: text(header::VENDOR),
        source_rpm: text(header::SOURCERPM),
        files,
    }))
}

/// Reads a whole database: every package, and what could not be read.
pub fn read_packages(backend: Backend, db: &[u8]) -> (Vec<RpmPackage>, Vec<String>) {
    let (blobs, mut problems) = backend.read(db);
    let mut packages = Vec::with_capacity(blobs.len());
    for blob in blobs {
        match package_from_header(&blob.data) {
            Ok(Some(p)) => packages.push(p),
            Ok(None) => {}
            Err(e) => problems.push(format!("header {}: {e}", blob.id)),
        }
    }
    (packages, problems)
}

/// The rpm analyzer.
pub fn analyzer() -> Box<dyn Analyzer> {
    Box::new(RpmAnalyzer::default())
}

#[derive(Debug, Default)]
struct RpmAnalyzer {
    databases: DbCopies<Vec<RpmPackage>>,
}

fn database(path: &str) -> Option<Backend> {
    let dir = image::path::parent(path);
    if !DB_DIRS.contains(&dir) {
        return None;
    }
    Backend::of_file(image::path::file_name(path))
}

impl Analyzer for RpmAnalyzer {
    fn name(&self) -> &'static str {
        "rpm"
    }

    fn interest(&self, path: &str, _: &FileEntry) -> Interest {
        if database(path).is_some() { Interest::Content } else { Interest::No }
    }

    fn analyze(&mut self, path: &str, entry: &FileEntry, content: &[u8], _: &mut Vec<Problem>) {
        let Some(backend) = database(path) else { return };
        let (packages, problems) = read_packages(backend, content);
        let keys = packages.iter().map(key).collect();
        self.databases.add(path, entry, packages, problems, keys);
    }

    fn finish(self: Box<Self>, ctx: &Context<'_>, out: &mut Vec<Package>, problems: &mut Vec<Problem>) {
        let namespace = purl_namespace(ctx.os);
        let distro = distro_qualifier(ctx.os);
        let visible = self.databases.visible(ctx.tree);
        // In each directory only the preferred backend's database is read.
        let mut preferred: BTreeMap<&str, Backend> = BTreeMap::new();
        for db in &visible {
            if let Some(b) = database(&db.path) {
                let best = preferred.entry(image::path::parent(&db.path)).or_insert(b);
                *best = (*best).min(b);
            }
        }
        // The same packages can be recorded in two directories (an old `/var/lib/rpm` left
        // beside `/usr/lib/sysimage/rpm`); each is reported once.
        let mut reported: BTreeSet<String> = BTreeSet::new();
        for db in &visible {
            if database(&db.path) != preferred.get(image::path::parent(&db.path)).copied() {
                continue;
            }
            problems.extend(db.problems.iter().map(|m| Problem {
                analyzer: "rpm".into(),
                path: db.path.clone(),
                message: m.clone(),
            }));
            for p in &db.value {
                let key = key(p);
                if !reported.insert(key.clone()) {
                    continue;
                }
                out.push(to_package(p, namespace, &distro, &db.path, db.layers.get(&key).copied(), ctx));
            }
        }
    }
}

fn to_package(
    p: &RpmPackage,
    namespace: Option<&str>,
    distro: &str,
    location: &str,
    layer: Option<u32>,
    ctx: &Context<'_>,
) -> Package {
    let epoch = p.epoch.map(|e| e.to_string()).unwrap_or_default();
    let vr = RpmPackage { epoch: None, ..p.clone() }.full_version();
    let (source_name, source_version) = match p.source() {
        // The source rpm's file name has no epoch, but a source package and the binary
        // packages built from it share one, and version comparisons need it.
        Some((name, version)) => {
            let version = match p.epoch {
                Some(e) => format!("{e}:{version}"),
                None => version,
            };
            (Some(name.to_owned()), Some(version))
        }
        None => (None, None),
    };
    Package {
        name: p.name.clone(),
        version: p.full_version(),
        kind: PackageType::Rpm,
        purl: purl("rpm", namespace, &p.name, &vr, &[("arch", &p.arch), ("epoch", &epoch), ("distro", distro)]),
        source_name,
        source_version,
        arch: Some(p.arch.clone()).filter(|a| !a.is_empty()),
        licenses: if p.license.is_empty() { Vec::new() } else { vec![p.license.clone()] },
        layer,
        location: location.to_owned(),
        files: owned_files(ctx.tree, &p.files),
    }
}

/// What layer attribution compares: a package is introduced where this version of it for
/// this architecture first appeared.
fn key(p: &RpmPackage) -> String {
    format!("{}.{}={}", p.name, p.arch, p.full_version())
}
