//! rpm databases of every backend, built by tests/data/rpm/build.sh from real packages,
//! read by our readers and compared with what rpm itself reads from them.

use crate::os_support;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use inventory::rpm::{Backend, RpmPackage, read_packages};
use inventory::{Package, PackageType};
use os_support::{data, file, inventory, symlink};

/// One package as rpm's query format prints it: name, epoch, version, release, arch,
/// licence, source rpm, files.
type Row = (String, String, String, String, String, String, String, Vec<String>);

fn row(p: &RpmPackage) -> Row {
    (
        p.name.clone(),
        p.epoch.map(|e| e.to_string()).unwrap_or_else(|| "(none)".into()),
        p.version.clone(),
        p.release.clone(),
        p.arch.clone(),
        p.license.clone(),
        p.source_rpm.clone(),
        p.files.clone(),
    )
}

/// Asks rpm to list the packages of a database file, read with `backend` (`sqlite`,
/// `bdb_ro`). The file is copied into a private directory under `name`, since rpm writes
/// lock and journal files next to it.
fn rpm_query(db: &Path, name: &str, backend: &str) -> Vec<Row> {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(db, dir.path().join(name)).unwrap();
    let format =
        "%{NAME}\\t%{EPOCH}\\t%{VERSION}\\t%{RELEASE}\\t%{ARCH}\\t%{LICENSE}\\t%{SOURCERPM}\\t[%{FILENAMES}\\v]\\n";
    let output = Command::new("rpm")
        .arg("--dbpath")
        .arg(dir.path())
        .args(["--define", &format!("_db_backend {backend}"), "-qa", "--qf", format])
        .output()
        .expect("rpm is needed for this test: apt-get install -y rpm");
    assert!(output.status.success(), "rpm -qa failed: {}", String::from_utf8_lossy(&output.stderr));
    let mut rows: Vec<Row> = String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with("gpg-pubkey\t"))
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            let files = f[7].split('\u{b}').filter(|s| !s.is_empty()).map(str::to_owned).collect();
            let none_empty = |s: &str| if s == "(none)" { String::new() } else { s.to_owned() };
            (
                f[0].into(),
                f[1].into(),
                f[2].into(),
                f[3].into(),
                none_empty(f[4]),
                none_empty(f[5]),
                none_empty(f[6]),
                files,
            )
        })
        .collect();
    rows.sort();
    rows
}

fn path(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/rpm").join(name)
}

fn ours(name: &str, backend: Backend) -> Vec<Row> {
    let (pkgs, problems) = read_packages(backend, &data(&format!("rpm/{name}")));
    assert!(problems.is_empty(), "{name}: {problems:?}");
    let mut rows: Vec<Row> = pkgs.iter().map(row).collect();
    rows.sort();
    rows
}

#[test]
fn sqlite_matches_rpm() {
    let expected = rpm_query(&path("rpmdb.sqlite"), "rpmdb.sqlite", "sqlite");
    assert_eq!(expected.len(), 5);
    assert_eq!(ours("rpmdb.sqlite", Backend::Sqlite), expected);
    let base = rpm_query(&path("rpmdb-base.sqlite"), "rpmdb.sqlite", "sqlite");
    assert_eq!(ours("rpmdb-base.sqlite", Backend::Sqlite), base);
}

#[test]
fn berkeley_db_matches_rpm_in_both_byte_orders_and_page_layouts() {
    for name in ["Packages", "Packages-be", "Packages-16k"] {
        let expected = rpm_query(&path(name), "Packages", "bdb_ro");
        assert_eq!(expected.len(), 5, "{name}");
        assert_eq!(ours(name, Backend::BerkeleyDb), expected, "{name}");
    }
}

#[test]
fn ndb_holds_the_same_packages_as_sqlite() {
    // Debian's rpm is built without ndb, so rpm cannot read Packages.db here; build.sh
    // wrote it from the SQLite database's header blobs, which rpm does read.
    let expected = rpm_query(&path("rpmdb.sqlite"), "rpmdb.sqlite", "sqlite");
    assert_eq!(ours("Packages.db", Backend::Ndb), expected);
    let (sqlite_blobs, _) = Backend::Sqlite.read(&data("rpm/rpmdb.sqlite"));
    let (ndb_blobs, _) = Backend::Ndb.read(&data("rpm/Packages.db"));
    assert_eq!(ndb_blobs, sqlite_blobs, "same header numbers and blobs, gpg-pubkey included");
}

#[test]
fn package_fields() {
    let (pkgs, _) = read_packages(Backend::Sqlite, &data("rpm/rpmdb.sqlite"));
    let by_name: BTreeMap<&str, &RpmPackage> = pkgs.iter().map(|p| (p.name.as_str(), p)).collect();
    assert!(!by_name.contains_key("gpg-pubkey"), "imported keys are not packages");
    let epoch = by_name["tiny-epoch"];
    assert_eq!(epoch.full_version(), "2:0.9-1");
    assert_eq!(epoch.source(), Some(("tiny-epoch", "0.9-1".into())));
    let libs = by_name["tiny-source-libs"];
    assert_eq!(libs.source(), Some(("tiny-source", "3.0-7.fc40".into())));
    assert_eq!(libs.license, "Apache-2.0 OR MIT");
    let base = by_name["tiny-base"];
    assert_eq!(base.vendor, "cguard tests");
    assert_eq!(base.files, ["/etc/tiny", "/etc/tiny/tiny.conf", "/usr/bin/tiny", "/usr/share/doc/tiny-base/README"]);
    assert!(by_name["tiny-empty"].files.is_empty());
}

/// A database with many rows on small pages: the b-tree has several levels and every
/// header spans a chain of overflow pages. Python's SQLite writes it from our database.
#[test]
fn deep_sqlite_btree_with_overflow_chains_matches_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("rpmdb.sqlite");
    std::fs::copy(path("rpmdb.sqlite"), &db).unwrap();
    let script = r#"
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
rows = c.execute("SELECT blob FROM Packages WHERE hnum <= 5").fetchall()
for i in range(60):
    for (blob,) in rows:
        c.execute("INSERT INTO Packages (blob) VALUES (?)", (blob,))
c.execute("DELETE FROM Packages WHERE hnum % 7 = 3")
c.commit()
c.execute("PRAGMA journal_mode = DELETE")
c.execute("PRAGMA page_size = 512")
c.execute("VACUUM")
for hnum, n in c.execute("SELECT hnum, length(blob) FROM Packages ORDER BY hnum"):
    print(hnum, n)
"#;
    let output = Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(&db)
        .output()
        .expect("python3 is needed for this test: apt-get install -y python3");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let expected: Vec<(u64, usize)> = String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(|l| {
            let (a, b) = l.split_once(' ').unwrap();
            (a.parse().unwrap(), b.parse().unwrap())
        })
        .collect();
    assert!(expected.len() > 250);
    let content = std::fs::read(&db).unwrap();
    assert_eq!(u16::from_be_bytes([content[16], content[17]]), 512);
    let (blobs, problems) = Backend::Sqlite.read(&content);
    assert!(problems.is_empty(), "{problems:?}");
    let got: Vec<(u64, usize)> = blobs.iter().map(|b| (b.id, b.data.len())).collect();
    assert_eq!(got, expected);
    // And rpm agrees on the packages.
    let mut theirs = rpm_query(&db, "rpmdb.sqlite", "sqlite");
    let (pkgs, problems) = read_packages(Backend::Sqlite, &content);
    assert!(problems.is_empty());
    let mut mine: Vec<Row> = pkgs.iter().map(row).collect();
    mine.sort();
    theirs.sort();
    assert_eq!(mine, theirs);
}

fn find<'a>(pkgs: &'a [Package], name: &str) -> &'a Package {
    pkgs.iter().find(|p| p.name == name).unwrap_or_else(|| panic!("no package {name}"))
}

fn rpms(pkgs: &[Package]) -> Vec<&Package> {
    pkgs.iter().filter(|p| p.kind == PackageType::Rpm).collect()
}

#[test]
fn image_with_sqlite_database() {
    let (inv, _) = inventory(&[vec![
        file("/etc/os-release", data("os/rhel-9.3.os-release")),
        file("/usr/lib/sysimage/rpm/rpmdb.sqlite", data("rpm/rpmdb.sqlite")),
        symlink("/var/lib/rpm", "../../usr/lib/sysimage/rpm"),
        file("/usr/bin/tiny", "#!/bin/sh\n"),
        file("/etc/tiny/tiny.conf", "key=value\n"),
        file("/usr/lib/tiny-epoch/data.txt", "data\n"),
    ]]);
    assert!(inv.problems.is_empty(), "{:?}", inv.problems);
    assert_eq!(rpms(&inv.packages).len(), 5);
    let epoch = find(&inv.packages, "tiny-epoch");
    assert_eq!(epoch.version, "2:0.9-1");
    assert_eq!(epoch.purl, "pkg:rpm/rhel/tiny-epoch@0.9-1?arch=noarch&distro=rhel-9.3&epoch=2");
    assert_eq!(epoch.source_name.as_deref(), Some("tiny-epoch"));
    assert_eq!(epoch.source_version.as_deref(), Some("2:0.9-1"), "the source shares the binary's epoch");
    assert_eq!(epoch.licenses, ["GPL-2.0-or-later AND BSD-3-Clause"]);
    assert_eq!(epoch.files, ["/usr/lib/tiny-epoch/data.txt"]);
    assert_eq!(epoch.location, "/usr/lib/sysimage/rpm/rpmdb.sqlite");
    assert_eq!(epoch.layer, Some(0));
    let libs = find(&inv.packages, "tiny-source-libs");
    assert_eq!(libs.purl, "pkg:rpm/rhel/tiny-source-libs@3.0-7.fc40?arch=x86_64&distro=rhel-9.3");
    assert_eq!(
        (libs.source_name.as_deref(), libs.source_version.as_deref()),
        (Some("tiny-source"), Some("3.0-7.fc40"))
    );
    assert!(libs.files.is_empty(), "files the image lacks are left out");
    let base = find(&inv.packages, "tiny-base");
    assert_eq!(base.files, ["/etc/tiny/tiny.conf", "/usr/bin/tiny"], "directories are not owned files");
    assert_eq!(base.arch.as_deref(), Some("x86_64"));
    assert_eq!(inv.files.owned_count, 3);
}

#[test]
fn packages_are_attributed_to_the_layer_that_introduced_them() {
    let (inv, _) = inventory(&[
        vec![file("/etc/os-release", data("os/rhel-9.3.os-release"))],
        vec![file("/var/lib/rpm/rpmdb.sqlite", data("rpm/rpmdb-base.sqlite"))],
        vec![file("/var/lib/rpm/rpmdb.sqlite", data("rpm/rpmdb.sqlite"))],
    ]);
    let layers: BTreeMap<&str, Option<u32>> = rpms(&inv.packages).iter().map(|p| (p.name.as_str(), p.layer)).collect();
    assert_eq!(layers["tiny-base"], Some(1));
    assert_eq!(layers["tiny-empty"], Some(1));
    assert_eq!(layers["tiny-epoch"], Some(2));
    assert_eq!(layers["tiny-source"], Some(2));
    assert_eq!(layers.len(), 5);
}

#[test]
fn one_backend_per_directory_and_each_package_once() {
    let (inv, _) = inventory(&[vec![
        // A converted database leaves the BerkeleyDB file beside the SQLite one.
        file("/var/lib/rpm/Packages", data("rpm/Packages")),
        file("/var/lib/rpm/rpmdb.sqlite", data("rpm/rpmdb.sqlite")),
        // And an older copy in the other directory lists the same packages.
        file("/usr/lib/sysimage/rpm/Packages.db", data("rpm/Packages.db")),
    ]]);
    assert!(inv.problems.is_empty(), "{:?}", inv.problems);
    let found = rpms(&inv.packages);
    assert_eq!(found.len(), 5, "{found:?}");
    // Directories are visited in path order: /usr/lib/sysimage/rpm first.
    assert!(found.iter().all(|p| p.location == "/usr/lib/sysimage/rpm/Packages.db"), "{found:?}");
    // With an unknown OS the purl has neither namespace nor distro.
    assert_eq!(find(&inv.packages, "tiny-epoch").purl, "pkg:rpm/tiny-epoch@0.9-1?arch=noarch&epoch=2");
    let (inv, _) = inventory(&[vec![
        file("/var/lib/rpm/Packages", data("rpm/Packages-be")),
        file("/var/lib/rpm/Packages.db", b"RpmP garbage that is not read"),
        file("/var/lib/rpm/rpmdb.sqlite", data("rpm/rpmdb-base.sqlite")),
    ]]);
    assert!(inv.problems.is_empty(), "the unused backends' files are not reported: {:?}", inv.problems);
    assert_eq!(rpms(&inv.packages).len(), 2);
}

#[test]
fn damaged_visible_database_is_reported() {
    // One byte of the first blob (after the 4096-byte slot page) changed: its checksum fails.
    let mut broken = data("rpm/Packages.db");
    broken[4096 + 100] ^= 0x55;
    let (inv, _) = inventory(&[vec![file("/var/lib/rpm/Packages.db", broken)]]);
    assert_eq!(rpms(&inv.packages).len(), 4, "the other packages are still read");
    assert_eq!(inv.problems.len(), 1, "{:?}", inv.problems);
    assert_eq!(inv.problems[0].analyzer, "rpm");
    assert_eq!(inv.problems[0].path, "/var/lib/rpm/Packages.db");
    assert_eq!(inv.problems[0].message, "package 1: blob checksum mismatch");
}
