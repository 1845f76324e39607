//! The apk database: fields, file ownership, purls, layer attribution and damaged input.

use crate::os_support;

use std::collections::BTreeMap;

use inventory::PackageType;
use inventory::apk::{ApkPackage, parse_installed};
use os_support::{Flips, data, file, inventory, symlink, whiteout};

#[test]
fn reads_every_package_and_field() {
    let (pkgs, problems) = parse_installed(&data("apk/installed"));
    assert!(problems.is_empty(), "{problems:?}");
    let names: Vec<&str> = pkgs.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["musl", "busybox", "libcrypto3", "ca-certificates-bundle", "alpine-baselayout-data"]);
    let crypto = &pkgs[2];
    assert_eq!(
        (crypto.version.as_str(), crypto.arch.as_str(), crypto.origin.as_str(), crypto.license.as_str()),
        ("3.1.4-r5", "x86_64", "openssl", "Apache-2.0")
    );
    // R: lines are files in the directory of the last F: line; F: lines alone are not files.
    assert_eq!(crypto.files, ["/etc/ssl/ct_log_list.cnf", "/usr/lib/libcrypto.so.3", "/usr/lib/engines-3/afalg.so"]);
    assert_eq!(pkgs[1].files, ["/bin/busybox", "/bin/sh", "/etc/securetty", "/etc/logrotate.d/acpid"]);
    assert_eq!(pkgs[0].files, ["/lib/ld-musl-x86_64.so.1", "/lib/libc.musl-x86_64.so.1"]);
}

#[test]
fn files_before_any_directory_are_in_the_root_and_paths_stay_inside() {
    let db = b"P:odd\nV:1-r0\nR:top\nF:usr/../../etc\nR:passwd\nR:../escape\n\n";
    let (pkgs, problems) = parse_installed(db);
    assert_eq!(pkgs[0].files, ["/top", "/etc/passwd"]);
    assert_eq!(problems.len(), 1, "a file name with a slash is refused: {problems:?}");
}

#[test]
fn incomplete_and_garbage_paragraphs_are_problems() {
    let db = b"P:noversion\nA:x86_64\n\nV:1.0-r0\n\nthis is not a field\nP:ok\r\nV:2-r1\r\n\n\n\nP:last\nV:3-r0";
    let (pkgs, problems) = parse_installed(db);
    let got: Vec<(&str, &str)> = pkgs.iter().map(|p| (p.name.as_str(), p.version.as_str())).collect();
    assert_eq!(got, [("ok", "2-r1"), ("last", "3-r0")], "CRLF and a missing final newline are fine");
    let joined = problems.join("\n");
    assert_eq!(problems.len(), 3, "{joined}");
    assert!(joined.contains("package at line 1 has no name"), "{joined}");
    assert!(joined.contains("package at line 4 has no name"), "{joined}");
    assert!(joined.contains("line 6: not a field"), "{joined}");
}

#[test]
fn image_with_apk_database() {
    let (inv, _) = inventory(&[vec![
        file("/etc/os-release", data("os/alpine-3.19.os-release")),
        file("/lib/apk/db/installed", data("apk/installed")),
        file("/lib/ld-musl-x86_64.so.1", "ELF"),
        symlink("/lib/libc.musl-x86_64.so.1", "ld-musl-x86_64.so.1"),
        file("/bin/busybox", "ELF"),
        symlink("/bin/sh", "/bin/busybox"),
        file("/usr/lib/libcrypto.so.3", "ELF"),
        file("/etc/ssl/certs/ca-certificates.crt", "PEM"),
    ]]);
    assert!(inv.problems.is_empty(), "{:?}", inv.problems);
    let apks: BTreeMap<&str, &inventory::Package> =
        inv.packages.iter().filter(|p| p.kind == PackageType::Apk).map(|p| (p.name.as_str(), p)).collect();
    assert_eq!(apks.len(), 5);
    let crypto = apks["libcrypto3"];
    assert_eq!(crypto.purl, "pkg:apk/alpine/libcrypto3@3.1.4-r5?arch=x86_64&distro=alpine-3.19.1");
    assert_eq!(crypto.source_name.as_deref(), Some("openssl"));
    assert_eq!(crypto.source_version.as_deref(), Some("3.1.4-r5"));
    assert_eq!(crypto.licenses, ["Apache-2.0"]);
    assert_eq!(crypto.location, "/lib/apk/db/installed");
    assert_eq!(crypto.layer, Some(0));
    assert_eq!(crypto.files, ["/usr/lib/libcrypto.so.3"], "files the image lacks are left out");
    assert_eq!(apks["musl"].files, ["/lib/ld-musl-x86_64.so.1", "/lib/libc.musl-x86_64.so.1"]);
    assert_eq!(apks["ca-certificates-bundle"].licenses, ["MPL-2.0 AND MIT"]);
    assert_eq!(inv.files.owned_count, 4);
}

#[test]
fn packages_are_attributed_to_the_layer_that_introduced_them() {
    let real = data("apk/installed");
    let text = String::from_utf8(real).unwrap();
    // The base layer has musl and busybox only; the next adds the rest and upgrades busybox.
    let base: String = text.split("\n\n").take(2).collect::<Vec<_>>().join("\n\n") + "\n\n";
    let upgraded = text.replace("V:1.36.1-r15", "V:1.36.1-r16");
    let (inv, _) =
        inventory(&[vec![file("/lib/apk/db/installed", base)], vec![file("/lib/apk/db/installed", upgraded)]]);
    let layers: BTreeMap<&str, Option<u32>> = inv.packages.iter().map(|p| (p.name.as_str(), p.layer)).collect();
    assert_eq!(layers["musl"], Some(0));
    assert_eq!(layers["busybox"], Some(1), "the upgraded version came with layer 1");
    assert_eq!(layers["libcrypto3"], Some(1));
    let (inv, _) = inventory(&[
        vec![file("/lib/apk/db/installed", data("apk/installed"))],
        vec![whiteout("/lib/apk/db/installed")],
    ]);
    assert_eq!(inv.packages.iter().filter(|p| p.kind == PackageType::Apk).count(), 0);
}

#[test]
fn unknown_os_gives_purls_without_namespace_or_distro() {
    let (inv, _) = inventory(&[vec![file("/lib/apk/db/installed", data("apk/installed"))]]);
    let musl = inv.packages.iter().find(|p| p.name == "musl").unwrap();
    assert_eq!(musl.purl, "pkg:apk/musl@1.2.4_git20230717-r4?arch=x86_64");
}

fn check_subset(full: &[ApkPackage], got: &[ApkPackage]) {
    assert!(got.len() <= full.len());
    for (i, p) in got.iter().enumerate() {
        let real = full.iter().find(|f| f.name.starts_with(&p.name)).unwrap_or_else(|| panic!("invented {p:?}"));
        if i + 1 < got.len() {
            assert_eq!(p, real);
        }
    }
}

#[test]
fn every_prefix_parses_without_panic() {
    let real = data("apk/installed");
    let (full, _) = parse_installed(&real);
    let mut with_problems = 0;
    for cut in 0..=real.len() {
        let (got, problems) = parse_installed(&real[..cut]);
        check_subset(&full, &got);
        with_problems += usize::from(!problems.is_empty());
    }
    assert!(with_problems > 0, "a paragraph cut before its version is reported");
}

#[test]
fn random_byte_flips_never_panic() {
    let real = data("apk/installed");
    let mut flips = Flips::new(3);
    let mut with_problems = 0;
    for round in 0..3000 {
        let garbled = flips.garble(&real, 1 + round % 6);
        let (got, problems) = parse_installed(&garbled);
        assert!(got.len() <= 5 + 6);
        for p in &got {
            assert!(p.files.iter().all(|f| f.starts_with('/') && !f.contains("/../")), "{:?}", p.files);
        }
        with_problems += usize::from(!problems.is_empty());
    }
    assert!(with_problems > 100, "{with_problems}");
}
