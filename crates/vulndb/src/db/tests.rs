//! Robustness of the reader against files that pass their checksum but are damaged
//! inside (a writer bug, or a crafted file): lookups give errors, never panics.

use super::*;
use crate::model::{Range, RangeKind, Status};

fn records() -> (Vec<Vulnerability>, Vec<Affected>) {
    let vulns = (0..40)
        .map(|i| Vulnerability {
            id: format!("CVE-2024-{i:04}"),
            aliases: vec![format!("GHSA-{i}")],
            summary: None,
            description: Some("text ".repeat(i)),
            published: None,
            modified: None,
            cvss: Vec::new(),
            severity: Some("high".into()),
            references: Vec::new(),
            withdrawn: i % 5 == 0,
        })
        .collect();
    let aff = (0..40)
        .map(|i| Affected {
            vulnerability: format!("CVE-2024-{i:04}"),
            ecosystem: if i % 2 == 0 { "debian:12".into() } else { "npm".into() },
            package: format!("p{}", i % 6),
            status: Status::Fixed,
            ranges: vec![Range {
                kind: RangeKind::Semver,
                introduced: None,
                fixed: Some("1.2.3".into()),
                last_affected: None,
            }],
            versions: vec!["1.0.0".into()],
            fixed_version: Some("1.2.3".into()),
            distro_urgency: None,
            advisories: Vec::new(),
            note: None,
        })
        .collect();
    (vulns, aff)
}

fn exercise(db: &Database) {
    for eco in ["debian:12", "npm", "x"] {
        for p in 0..7 {
            let _ = db.affected(eco, &format!("p{p}"));
        }
        let _ = db.packages(eco);
    }
    for i in 0..41 {
        let _ = db.vulnerability(&format!("CVE-2024-{i:04}"));
    }
    let _ = db.status();
}

/// Writes `bytes` with a freshly computed checksum and opens them.
fn open_resealed(path: &Path, mut bytes: Vec<u8>) -> Result<Database, DbError> {
    let sum = format::checksum(&bytes);
    if let Some(field) = bytes.get_mut(24..28) {
        field.copy_from_slice(&sum.to_le_bytes());
    }
    std::fs::write(path, &bytes).unwrap();
    Database::open(path)
}

#[test]
fn damaged_content_with_a_valid_checksum_never_panics() {
    let (v, a) = records();
    let (good, _) = build::encode(v, a, Vec::new(), 0).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mem.db");
    // The pristine file works.
    let db = open_resealed(&path, good.clone()).unwrap();
    assert_eq!(db.affected("npm", "p1").unwrap().len(), 7);
    assert!(db.vulnerability("CVE-2024-0003").unwrap().is_some());
    for at in format::HEADER_LEN..good.len() {
        for mask in [0x01u8, 0x80, 0xff] {
            let mut bad = good.clone();
            if let Some(b) = bad.get_mut(at) {
                *b ^= mask;
            }
            if let Ok(db) = open_resealed(&path, bad) {
                exercise(&db);
            }
        }
    }
}

#[test]
fn a_block_claiming_a_huge_size_is_refused() {
    let (v, a) = records();
    let (mut bytes, _) = build::encode(v, a, Vec::new(), 0).unwrap();
    let layout = format::read_layout(&bytes, format::HEADER_LEN, bytes.len() as u64).unwrap();
    // Raw length of block 0 is the last u32 of its 16-byte entry.
    let at = layout.vuln_blocks.start + 12;
    bytes[at..at + 4].copy_from_slice(&u32::MAX.to_le_bytes());
    let dir = tempfile::tempdir().unwrap();
    let db = open_resealed(&dir.path().join("mem.db"), bytes).unwrap();
    let err = db.vulnerability("CVE-2024-0000").unwrap_err();
    assert!(err.to_string().contains("implausible"), "{err}");
}

#[test]
fn a_block_damaged_after_open_is_an_error_not_garbage() {
    let (v, a) = records();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db");
    Database::build(v, a, Vec::new(), &path).unwrap();
    let db = Database::open(&path).unwrap();
    // Overwrite the blocks in place behind the open handle (what an in-place copy over
    // the file would do); the frame checksums catch it.
    let mut bytes = std::fs::read(&path).unwrap();
    let start = db.layout.vuln_data.start;
    for b in bytes.iter_mut().skip(start) {
        *b ^= 0x55;
    }
    std::fs::write(&path, &bytes).unwrap();
    let err = db.vulnerability("CVE-2024-0001").unwrap_err();
    assert!(err.to_string().contains("does not decompress"), "{err}");
}
