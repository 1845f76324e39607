//! Damaged rpm databases: cut short at every length (or many, for the large one) and
//! with random bytes changed. The readers must never panic, must never invent packages
//! where checksums make that detectable, and must say when they lost something.

use crate::os_support;

use inventory::rpm::{Backend, RpmPackage, read_packages};
use os_support::{Flips, data};

fn full(name: &str, backend: Backend) -> (Vec<u8>, Vec<RpmPackage>) {
    let db = data(&format!("rpm/{name}"));
    let (pkgs, problems) = read_packages(backend, &db);
    assert!(problems.is_empty());
    assert_eq!(pkgs.len(), 5);
    (db, pkgs)
}

/// A prefix of a database gives real packages only, and fewer of them only with a problem.
fn check_prefix(name: &str, backend: Backend, db: &[u8], all: &[RpmPackage], cut: usize) {
    let (pkgs, problems) = read_packages(backend, &db[..cut]);
    for p in &pkgs {
        assert!(all.contains(p), "{name} cut at {cut}: invented {p:?}");
    }
    if pkgs.len() < all.len() {
        assert!(!problems.is_empty(), "{name} cut at {cut}: lost packages without a problem");
    }
}

#[test]
fn every_prefix_of_berkeley_and_ndb_databases() {
    for (name, backend) in [
        ("Packages", Backend::BerkeleyDb),
        ("Packages-be", Backend::BerkeleyDb),
        ("Packages-16k", Backend::BerkeleyDb),
        ("Packages.db", Backend::Ndb),
    ] {
        let (db, all) = full(name, backend);
        for cut in 0..db.len() {
            check_prefix(name, backend, &db, &all, cut);
        }
    }
}

#[test]
fn many_prefixes_of_the_sqlite_database() {
    for name in ["rpmdb.sqlite", "rpmdb-base.sqlite"] {
        let db = data(&format!("rpm/{name}"));
        let (all, problems) = read_packages(Backend::Sqlite, &db);
        assert!(problems.is_empty());
        // Every length near a page boundary, and a sample in between.
        let mut cuts: Vec<usize> = (0..db.len()).step_by(37).collect();
        for page_end in (0..=db.len()).step_by(4096) {
            cuts.extend(page_end.saturating_sub(3)..(page_end + 3).min(db.len()));
        }
        cuts.extend(0..200);
        for cut in cuts {
            let (pkgs, problems) = read_packages(Backend::Sqlite, &db[..cut]);
            for p in &pkgs {
                assert!(all.contains(p), "{name} cut at {cut}: invented {p:?}");
            }
            if pkgs.len() < all.len() {
                assert!(!problems.is_empty(), "{name} cut at {cut}: lost packages without a problem");
            }
        }
    }
}

#[test]
fn random_byte_flips_never_panic() {
    let mut flips = Flips::new(5);
    for (name, backend) in [
        ("rpmdb.sqlite", Backend::Sqlite),
        ("Packages", Backend::BerkeleyDb),
        ("Packages-be", Backend::BerkeleyDb),
        ("Packages-16k", Backend::BerkeleyDb),
        ("Packages.db", Backend::Ndb),
    ] {
        let (db, all) = full(name, backend);
        let mut damaged = 0;
        for round in 0..1500 {
            let garbled = flips.garble(&db, 1 + round % 16);
            let (pkgs, problems) = read_packages(backend, &garbled);
            assert!(pkgs.len() <= all.len() * 2, "{name}: {} packages from damage", pkgs.len());
            if backend == Backend::Ndb {
                // Every ndb blob carries a checksum: damage cannot pass as a package.
                for p in &pkgs {
                    assert!(all.contains(p), "{name}: invented {p:?}");
                }
            }
            damaged += usize::from(!problems.is_empty() || pkgs != all);
        }
        // The files have slack (free space, unused pages) where a flip changes nothing; in
        // the SQLite file most pages hold rpm's indexes, which are not read at all.
        let expected = if backend == Backend::Sqlite { 30 } else { 100 };
        assert!(damaged > expected, "{name}: only {damaged} of 1500 damaged copies differ");
    }
}

/// Databases built by hand to point where they should not: loops, huge sizes.
#[test]
fn hostile_structures_are_errors() {
    // BerkeleyDB: an overflow chain that points back at itself. Packages-be has 512-byte
    // big-endian pages, where every header spans a chain; the first overflow page with a
    // successor gets itself as successor (next-page number at offset 16).
    let mut db = data("rpm/Packages-be");
    let page_size = 512;
    let page = (1..db.len() / page_size)
        .find(|&n| db[n * page_size + 25] == 7 && db[n * page_size + 16..n * page_size + 20] != [0; 4])
        .unwrap();
    db[page * page_size + 16..page * page_size + 20].copy_from_slice(&(page as u32).to_be_bytes());
    let (blobs, problems) = Backend::BerkeleyDb.read(&db);
    assert_eq!(blobs.len(), 5, "every other header is read");
    assert_eq!(problems.len(), 1, "{problems:?}");
    // BerkeleyDB: a metadata page claiming four billion pages.
    let mut db = data("rpm/Packages");
    db[32..36].copy_from_slice(&u32::MAX.to_le_bytes());
    let (blobs, problems) = Backend::BerkeleyDb.read(&db);
    assert_eq!(blobs.len(), 6);
    assert!(problems.iter().any(|p| p.contains("truncated")), "{problems:?}");
    // ndb: a slot page count that does not fit the file.
    let mut db = data("rpm/Packages.db");
    db[12..16].copy_from_slice(&u32::MAX.to_le_bytes());
    let (blobs, problems) = Backend::Ndb.read(&db);
    assert!(blobs.is_empty());
    assert_eq!(problems.len(), 1);
    // SQLite: a page size that is not a power of two, and a b-tree page that is its own child.
    let mut db = data("rpm/rpmdb.sqlite");
    db[16..18].copy_from_slice(&1000u16.to_be_bytes());
    assert_eq!(Backend::Sqlite.read(&db).1, ["invalid page size 1000"]);
    let mut db = data("rpm/rpmdb.sqlite");
    // Page 2 is the Packages root, an interior page: point its right-most child at itself.
    assert_eq!(db[4096], 0x05);
    db[4096 + 8..4096 + 12].copy_from_slice(&2u32.to_be_bytes());
    let (_, problems) = Backend::Sqlite.read(&db);
    assert!(problems.iter().any(|p| p.contains("referenced twice")), "{problems:?}");
    // Not databases at all.
    for backend in [Backend::Sqlite, Backend::BerkeleyDb, Backend::Ndb] {
        let (blobs, problems) = backend.read(b"");
        assert!(blobs.is_empty() && problems.len() == 1);
        let (blobs, problems) = backend.read(&[0xff; 8192]);
        assert!(blobs.is_empty() && problems.len() == 1);
    }
}

/// An SQLite overflow chain that loops: Python's SQLite writes a one-row table whose
/// 3000-byte blob spans a chain of overflow pages, then one page is made to point at
/// itself.
#[test]
fn sqlite_overflow_loop_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rpmdb.sqlite");
    let script = r#"
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
c.execute("PRAGMA page_size = 512")
c.execute("CREATE TABLE Packages (hnum INTEGER PRIMARY KEY AUTOINCREMENT, blob BLOB NOT NULL)")
c.execute("INSERT INTO Packages (blob) VALUES (?)", (bytes(range(256)) * 12,))
c.commit()
"#;
    let status = std::process::Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(&path)
        .status()
        .expect("python3 is needed for this test: apt-get install -y python3");
    assert!(status.success());
    let db = std::fs::read(&path).unwrap();
    let (blobs, problems) = Backend::Sqlite.read(&db);
    assert!(problems.is_empty(), "{problems:?}");
    assert_eq!(blobs.len(), 1);
    assert_eq!(blobs[0].data, (0..=255u8).cycle().take(3072).collect::<Vec<u8>>());
    // Pages: 1 schema, 2 sqlite_sequence or the table (either way a leaf), then the rest.
    // Every overflow page starts with the number of the next one; find one that has a
    // successor and make it its own successor.
    let pages = db.len() / 512;
    let mut looped = db.clone();
    let page = (3..=pages)
        .find(|&n| {
            let next = u32::from_be_bytes(db[(n - 1) * 512..(n - 1) * 512 + 4].try_into().unwrap()) as usize;
            next > 3 && next <= pages && next != n
        })
        .expect("an overflow page with a successor");
    looped[(page - 1) * 512..(page - 1) * 512 + 4].copy_from_slice(&(page as u32).to_be_bytes());
    let (blobs, problems) = Backend::Sqlite.read(&looped);
    assert!(blobs.is_empty());
    assert!(problems.iter().any(|p| p.contains("loops back")), "{problems:?}");
}
