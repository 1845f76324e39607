//! rpm header blobs: the index and data store, region tags, entries added after the
//! region, old-style file lists, and blobs that lie about their sizes.

use crate::os_support;

use inventory::rpm::header::{self, HeaderError, parse};
use inventory::rpm::{Backend, package_from_header};
use os_support::{Flips, data};

/// Writes a header blob: each entry is (tag, type, value bytes, count).
fn blob(entries: &[(u32, u32, Vec<u8>, u32)]) -> Vec<u8> {
    let mut index = Vec::new();
    let mut store = Vec::new();
    for (tag, ty, value, count) in entries {
        // INT32 data is 4-byte aligned in real headers.
        if *ty == 4 {
            while store.len() % 4 != 0 {
                store.push(0);
            }
        }
        for v in [*tag, *ty, store.len() as u32, *count] {
            index.extend_from_slice(&v.to_be_bytes());
        }
        store.extend_from_slice(value);
    }
    let mut out = Vec::new();
    out.extend_from_slice(&(entries.len() as u32).to_be_bytes());
    out.extend_from_slice(&(store.len() as u32).to_be_bytes());
    out.extend_from_slice(&index);
    out.extend_from_slice(&store);
    out
}

fn string(tag: u32, s: &str) -> (u32, u32, Vec<u8>, u32) {
    (tag, 6, format!("{s}\0").into_bytes(), 1)
}

fn strings(tag: u32, v: &[&str]) -> (u32, u32, Vec<u8>, u32) {
    (tag, 8, v.iter().flat_map(|s| format!("{s}\0").into_bytes()).collect(), v.len() as u32)
}

fn int32s(tag: u32, v: &[u32]) -> (u32, u32, Vec<u8>, u32) {
    (tag, 4, v.iter().flat_map(|n| n.to_be_bytes()).collect(), v.len() as u32)
}

#[test]
fn reads_fields_and_file_names() {
    let b = blob(&[
        string(header::NAME, "bash"),
        string(header::VERSION, "5.1.8"),
        string(header::RELEASE, "9.el9"),
        int32s(header::EPOCH, &[1]),
        string(header::ARCH, "x86_64"),
        string(header::LICENSE, "GPL-3.0-or-later"),
        string(header::SOURCERPM, "bash-5.1.8-9.el9.src.rpm"),
        strings(header::DIRNAMES, &["/usr/bin/", "/etc/skel/"]),
        strings(header::BASENAMES, &["bash", ".bashrc", "sh"]),
        int32s(header::DIRINDEXES, &[0, 1, 0]),
    ]);
    let p = package_from_header(&b).unwrap().unwrap();
    assert_eq!(p.full_version(), "1:5.1.8-9.el9");
    assert_eq!(p.files, ["/usr/bin/bash", "/etc/skel/.bashrc", "/usr/bin/sh"]);
    assert_eq!(p.source(), Some(("bash", "5.1.8-9.el9".into())));
    // A header as written in .rpm files, with its magic, reads the same.
    let mut with_magic = vec![0x8e, 0xad, 0xe8, 0x01, 0, 0, 0, 0];
    with_magic.extend_from_slice(&b);
    assert_eq!(package_from_header(&with_magic).unwrap().unwrap(), p);
}

#[test]
fn old_file_names_and_missing_optional_fields() {
    let b = blob(&[
        string(header::NAME, "ancient"),
        string(header::VERSION, "1.0"),
        strings(header::OLDFILENAMES, &["/bin/ancient", "/usr/../etc/ancient.conf"]),
    ]);
    let p = package_from_header(&b).unwrap().unwrap();
    assert_eq!(p.full_version(), "1.0");
    assert_eq!(p.files, ["/bin/ancient", "/etc/ancient.conf"], "paths are normalised inside the root");
    assert_eq!((p.arch.as_str(), p.license.as_str(), p.epoch), ("", "", None));
    assert_eq!(p.source(), None);
}

#[test]
fn region_tag_is_skipped_and_later_entries_win() {
    // A region tag (HEADERIMMUTABLE, BIN, 16 bytes) first, then a NAME inside the region,
    // then a NAME added after it.
    let b = blob(&[
        (63, 7, vec![0; 16], 16),
        string(header::NAME, "old"),
        string(header::VERSION, "1"),
        string(header::NAME, "new"),
    ]);
    let h = parse(&b).unwrap();
    assert_eq!(h.string(header::NAME), Some("new"));
    assert!(h.entry(63).is_none());
    assert_eq!(package_from_header(&b).unwrap().unwrap().name, "new");
}

#[test]
fn gpg_pubkey_is_not_a_package() {
    let b = blob(&[string(header::NAME, "gpg-pubkey"), string(header::VERSION, "4d8c405b")]);
    assert_eq!(package_from_header(&b).unwrap(), None);
}

#[test]
fn lies_are_errors() {
    assert_eq!(parse(b"\0\0").unwrap_err(), HeaderError::Short(2));
    assert_eq!(parse(&[0, 0, 0, 0, 0, 0, 0, 0]).unwrap_err(), HeaderError::Empty);
    // Counts larger than the blob.
    let huge = [0x00, 0xff, 0xff, 0xff, 0x3f, 0xff, 0xff, 0xff];
    assert!(matches!(parse(&huge), Err(HeaderError::Sizes { .. })));
    let too_many = [0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0];
    assert!(matches!(parse(&too_many), Err(HeaderError::Sizes { .. })));
    // An offset past the data store, a count past it, a string without its NUL.
    let mut b = blob(&[string(header::NAME, "x"), string(header::VERSION, "1"), string(header::RELEASE, "r")]);
    let h = parse(&b).unwrap();
    assert_eq!(h.string(header::RELEASE), Some("r"));
    b.truncate(b.len() - 1);
    let il_dl_fixed = {
        let mut v = b.clone();
        let dl = u32::from_be_bytes([v[4], v[5], v[6], v[7]]) - 1;
        v[4..8].copy_from_slice(&dl.to_be_bytes());
        v
    };
    assert_eq!(parse(&il_dl_fixed).unwrap().string(header::RELEASE), None, "no NUL before the end");
    assert!(parse(&b).is_err(), "data store shorter than dl");
    let bad_offset = blob(&[(header::NAME, 6, b"x\0".to_vec(), 1), (header::VERSION, 4, vec![0; 4], 1_000_000)]);
    let h = parse(&bad_offset).unwrap();
    assert_eq!(h.integers(header::VERSION), None);
    assert!(package_from_header(&bad_offset).unwrap_err().contains("no VERSION"));
    // File arrays that disagree.
    let b = blob(&[
        string(header::NAME, "x"),
        string(header::VERSION, "1"),
        strings(header::DIRNAMES, &["/a/"]),
        strings(header::BASENAMES, &["f", "g"]),
        int32s(header::DIRINDEXES, &[0, 5]),
    ]);
    assert!(package_from_header(&b).unwrap_err().contains("DIRINDEXES entry 5"));
    let b = blob(&[string(header::NAME, "x"), string(header::VERSION, "1"), strings(header::BASENAMES, &["f"])]);
    assert!(package_from_header(&b).unwrap_err().contains("without readable DIRNAMES"));
    // An unknown type is skipped, not trusted.
    let b = blob(&[string(header::NAME, "x"), string(header::VERSION, "1"), (header::ARCH, 99, b"x\0".to_vec(), 1)]);
    let h = parse(&b).unwrap();
    assert_eq!(h.skipped, 1);
    assert_eq!(h.string(header::ARCH), None);
}

/// The real header blobs of the test database.
fn real_blobs() -> Vec<Vec<u8>> {
    let (blobs, problems) = Backend::Sqlite.read(&data("rpm/rpmdb.sqlite"));
    assert!(problems.is_empty());
    assert_eq!(blobs.len(), 6);
    blobs.into_iter().map(|b| b.data).collect()
}

#[test]
fn every_prefix_of_real_headers_is_an_error() {
    for blob in real_blobs() {
        assert!(package_from_header(&blob).is_ok());
        for cut in 0..blob.len() {
            assert!(package_from_header(&blob[..cut]).is_err(), "a blob cut at {cut} of {} was accepted", blob.len());
        }
    }
}

#[test]
fn random_byte_flips_in_real_headers_never_panic() {
    let mut flips = Flips::new(11);
    let mut errors = 0;
    let mut total = 0;
    for blob in real_blobs() {
        for round in 0..3000 {
            let garbled = flips.garble(&blob, 1 + round % 4);
            total += 1;
            match package_from_header(&garbled) {
                Err(_) => errors += 1,
                Ok(Some(p)) => assert!(p.files.iter().all(|f| f.starts_with('/') && !f.contains("/../"))),
                Ok(None) => {}
            }
            // Every accessor on whatever parsed.
            if let Ok(h) = parse(&garbled) {
                for tag in [header::NAME, header::EPOCH, header::BASENAMES, header::DIRINDEXES, header::FILESIZES] {
                    let _ = (h.string(tag), h.strings(tag), h.integers(tag));
                }
                let _ = h.file_names();
            }
        }
    }
    // Most flips hit the data store, where a changed letter is still a valid header.
    assert!(errors > total / 50, "{errors} errors in {total}");
}
