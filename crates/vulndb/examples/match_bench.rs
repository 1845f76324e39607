//! Times what a scan and a re-scan cost against a built database: opening it, matching a
//! 1,000-package inventory, and re-matching 1,000 stored inventories (SBOMs kept as JSON).
//!
//! `cargo run --release -p vulndb --example match_bench -- DB VULNDATA_DIR [WORK_DIR]`
//!
//! The inventory is made from the real data beside the database: every binary package of
//! `debian/sources.tsv` with a `-dev` and a `-doc` companion from the same source (642
//! Debian packages), at the bookworm version or at an older version from
//! `debian/history.tsv`; the 30 PyPI projects the OSV data covers, at a release an OSV
//! record enumerates; and PyPI projects without records (`project-N`) to make up 1,000,
//! as most packages of a real image have no advisory. The stored inventories are
//! variations of it (other history versions, a rotating share of packages left out).
//! Output is `key: value` lines; `bench/vulndb.sh` turns them into a table.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use inventory::{Inventory, OsInfo, Package, PackageType};
use vulndb::{Affected, Database, UrgencyPolicy, VulnSource, Vulnerability, match_inventory};

/// Packages in the benchmark inventory.
const PACKAGES: usize = 1000;
/// Stored inventories re-matched.
const STORED: usize = 1000;

fn main() {
    let mut args = std::env::args_os().skip(1).map(PathBuf::from);
    let (Some(db_path), Some(data)) = (args.next(), args.next()) else {
        eprintln!("usage: match_bench DB VULNDATA_DIR [WORK_DIR]");
        std::process::exit(2);
    };
    let work =
        args.next().unwrap_or_else(|| std::env::temp_dir().join(format!("cguard-match-bench-{}", std::process::id())));

    // This process is fresh, so the first open is what a scan pays.
    let t = Instant::now();
    let db = Database::open(&db_path).expect("open the database");
    let first_open = t.elapsed();
    let reopen = median((0..10).map(|_| timed(|| drop(Database::open(&db_path).expect("open")))).collect());
    println!("open_first_ms: {:.2}", ms(first_open));
    println!("open_again_ms: {:.2}", ms(reopen));

    let base = Base::read(&data);
    let inventory = base.inventory(0);
    assert_eq!(inventory.packages.len(), PACKAGES);
    let policy = UrgencyPolicy::default();
    let t = Instant::now();
    let matches = match_inventory(&inventory, &db, &policy);
    let first = t.elapsed();
    let again = median((0..20).map(|_| timed(|| drop(match_inventory(&inventory, &db, &policy)))).collect());
    println!("inventory_packages: {}", inventory.packages.len());
    println!("inventory_findings: {}", matches.findings.len());
    println!("inventory_problems: {}", matches.problems.len());
    println!("match_first_ms: {:.2}", ms(first));
    println!("match_median_ms: {:.2}", ms(again));
    // Where the time goes: the same matching with each record read from the file once.
    let memo = median(
        (0..20)
            .map(|_| {
                let memo = Memo::new(&db);
                timed(|| assert_eq!(match_inventory(&inventory, &memo, &policy).findings.len(), matches.findings.len()))
            })
            .collect(),
    );
    println!("match_memo_median_ms: {:.2}", ms(memo));
    let (lookups, records, ids) = lookups(&inventory, &db);
    println!("lookups: {lookups} package lookups, {records} affected records, {ids} vulnerability lookups");

    // Stored SBOMs: written once (not timed), then each loaded and matched.
    std::fs::create_dir_all(&work).expect("work directory");
    let mut files = Vec::with_capacity(STORED);
    let mut bytes = 0;
    for i in 0..STORED {
        let path = work.join(format!("sbom-{i:04}.json"));
        let json = serde_json::to_vec(&base.inventory(i)).expect("serialise");
        bytes += json.len();
        std::fs::write(&path, json).expect("write an SBOM");
        files.push(path);
    }
    let t = Instant::now();
    let mut findings = 0;
    let mut load = Duration::ZERO;
    for path in &files {
        let l = Instant::now();
        let inv: Inventory = serde_json::from_slice(&std::fs::read(path).expect("read")).expect("parse");
        load += l.elapsed();
        findings += match_inventory(&inv, &db, &policy).findings.len();
    }
    let total = t.elapsed();
    println!("stored_sboms: {STORED}");
    println!("stored_sbom_bytes: {bytes}");
    println!("stored_findings: {findings}");
    println!("rematch_total_ms: {:.0}", ms(total));
    println!("rematch_load_ms: {:.0}", ms(load));
    println!("rematch_per_sbom_ms: {:.2}", ms(total) / STORED as f64);
    let _ = std::fs::remove_dir_all(&work);
}

/// A source that reads each package's records and each vulnerability from the database
/// once per scan, to show what repeated reads cost (binaries of one source share records).
struct Memo<'a> {
    db: &'a Database,
    affected: RefCell<HashMap<(String, String), Vec<Affected>>>,
    vulns: RefCell<HashMap<String, Option<Vulnerability>>>,
}

impl<'a> Memo<'a> {
    fn new(db: &'a Database) -> Self {
        Memo { db, affected: RefCell::default(), vulns: RefCell::default() }
    }
}

impl VulnSource for Memo<'_> {
    fn affected(&self, ecosystem: &str, package: &str) -> Vec<Affected> {
        let key = (ecosystem.to_owned(), package.to_owned());
        if let Some(found) = self.affected.borrow().get(&key) {
            return found.clone();
        }
        let found = VulnSource::affected(self.db, ecosystem, package);
        self.affected.borrow_mut().insert(key, found.clone());
        found
    }

    fn vulnerability(&self, id: &str) -> Option<Vulnerability> {
        if let Some(found) = self.vulns.borrow().get(id) {
            return found.clone();
        }
        let found = VulnSource::vulnerability(self.db, id);
        self.vulns.borrow_mut().insert(id.to_owned(), found.clone());
        found
    }
}

/// How many package lookups, affected records and distinct vulnerabilities matching
/// `inventory` involves.
fn lookups(inventory: &Inventory, db: &Database) -> (usize, usize, usize) {
    let os = inventory.os.clone().unwrap_or_else(OsInfo::unknown);
    let (mut lookups, mut records) = (0, 0);
    let mut ids = std::collections::HashSet::new();
    for p in &inventory.packages {
        let Some(lookup) = vulndb::matcher::lookup(p, &os) else { continue };
        for name in &lookup.names {
            lookups += 1;
            let found = VulnSource::affected(db, &lookup.ecosystem, name);
            records += found.len();
            ids.extend(found.into_iter().map(|a| a.vulnerability));
        }
    }
    (lookups, records, ids.len())
}

fn timed(f: impl FnOnce()) -> Duration {
    let t = Instant::now();
    f();
    t.elapsed()
}

fn median(mut d: Vec<Duration>) -> Duration {
    d.sort();
    d[d.len() / 2]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// The real names and versions the inventories are made of.
struct Base {
    /// (source, binaries, bookworm version, older versions newest first).
    debian: Vec<(String, Vec<String>, String, Vec<String>)>,
    /// PyPI project and the releases its OSV records enumerate, sorted as strings.
    pypi: Vec<(String, Vec<String>)>,
}

impl Base {
    fn read(data: &Path) -> Base {
        let tsv = |name: &str| -> Vec<Vec<String>> {
            let text = std::fs::read_to_string(data.join("debian").join(name)).expect("read the Debian data");
            text.lines().skip(1).map(|l| l.split('\t').map(str::to_owned).collect()).collect()
        };
        let history: BTreeMap<String, Vec<String>> = tsv("history.tsv")
            .into_iter()
            .filter(|row| row.len() > 1)
            .map(|row| (row[0].clone(), row[1].split_whitespace().map(str::to_owned).collect()))
            .collect();
        let debian = tsv("sources.tsv")
            .into_iter()
            .filter(|row| row.len() > 2)
            .map(|row| {
                let older = history.get(&row[0]).cloned().unwrap_or_default();
                (row[0].clone(), row[1].split(',').map(str::to_owned).collect(), row[2].clone(), older)
            })
            .collect();
        let mut pypi: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for entry in std::fs::read_dir(data.join("osv/PyPI")).expect("read the OSV PyPI data") {
            let record: serde_json::Value =
                serde_json::from_slice(&std::fs::read(entry.expect("entry").path()).expect("read")).expect("JSON");
            for affected in record["affected"].as_array().into_iter().flatten() {
                let Some(name) = affected["package"]["name"].as_str() else { continue };
                let versions = pypi.entry(name.to_owned()).or_default();
                versions.extend(
                    affected["versions"].as_array().into_iter().flatten().filter_map(|v| v.as_str().map(str::to_owned)),
                );
            }
        }
        let pypi = pypi
            .into_iter()
            .map(|(name, mut versions)| {
                versions.sort();
                versions.dedup();
                (name, versions)
            })
            .collect();
        Base { debian, pypi }
    }

    /// Inventory number `variant`: 0 is the benchmark inventory, the others shift the
    /// versions and leave a rotating tenth of the packages out (then pad with PyPI
    /// projects without records, so every inventory has 1,000 packages).
    fn inventory(&self, variant: usize) -> Inventory {
        let mut packages = Vec::with_capacity(PACKAGES);
        let mut seen = 0;
        for (n, (source, binaries, bookworm, older)) in self.debian.iter().enumerate() {
            // Every other source is old: a version some way down its history.
            let version = if (n + variant).is_multiple_of(2) {
                bookworm.clone()
            } else {
                older.get((3 + n + variant) % older.len().max(1)).cloned().unwrap_or_else(|| bookworm.clone())
            };
            for binary in binaries {
                for suffix in ["", "-dev", "-doc"] {
                    let name = format!("{binary}{suffix}");
                    seen += 1;
                    if variant > 0 && (seen + variant).is_multiple_of(10) {
                        continue;
                    }
                    packages.push(deb(&name, &version, source));
                }
            }
        }
        for (n, (name, versions)) in self.pypi.iter().enumerate() {
            let version =
                versions.get((n * 7 + variant) % versions.len().max(1)).cloned().unwrap_or_else(|| "1.0".into());
            packages.push(python(name, &version));
        }
        let mut n = 0;
        while packages.len() < PACKAGES {
            packages.push(python(&format!("project-{n}"), &format!("{}.{}.{}", 1 + n % 4, n % 13, variant % 7)));
            n += 1;
        }
        packages.truncate(PACKAGES);
        Inventory {
            os: Some(OsInfo {
                id: "debian".into(),
                version_id: Some("12".into()),
                codename: Some("bookworm".into()),
                pretty_name: Some("Debian GNU/Linux 12 (bookworm)".into()),
                id_like: Vec::new(),
                source_file: Some("/etc/os-release".into()),
            }),
            packages,
            ..Default::default()
        }
    }
}

fn deb(name: &str, version: &str, source: &str) -> Package {
    Package {
        name: name.to_owned(),
        version: version.to_owned(),
        kind: PackageType::Deb,
        purl: format!("pkg:deb/debian/{name}@{}?arch=amd64&distro=debian-12", version.replace(':', "%3A")),
        source_name: Some(source.to_owned()),
        source_version: Some(version.to_owned()),
        arch: Some("amd64".into()),
        licenses: Vec::new(),
        layer: Some(0),
        location: "/var/lib/dpkg/status".into(),
        files: Vec::new(),
    }
}

fn python(name: &str, version: &str) -> Package {
    Package {
        name: name.to_owned(),
        version: version.to_owned(),
        kind: PackageType::Python,
        purl: format!("pkg:pypi/{name}@{version}"),
        source_name: None,
        source_version: None,
        arch: None,
        licenses: Vec::new(),
        layer: Some(1),
        location: format!("/usr/lib/python3/dist-packages/{name}-{version}.dist-info/METADATA"),
        files: Vec::new(),
    }
}
