//! The dpkg database: status parsing checked against dpkg-query itself, file lists,
//! distroless status.d files, layer attribution, and damaged input.

use crate::os_support;

use std::collections::BTreeMap;
use std::process::Command;

use inventory::dpkg::{DpkgPackage, parse_copyright, parse_list, parse_md5sums, parse_status};
use inventory::{Package, PackageType};
use os_support::{Flips, data, dir, file, inventory, symlink};

/// What dpkg-query reports for an admin directory holding `status`: for each package
/// whose files are unpacked (see `parse_status`), name → (version, arch, source name,
/// source version).
fn dpkg_query(status: &[u8]) -> BTreeMap<String, (String, String, String, String)> {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("status"), status).unwrap();
    let output = Command::new("dpkg-query")
        .arg(format!("--admindir={}", dir.path().display()))
        .args(["-W", "-f=${Package}\\t${Version}\\t${Architecture}\\t${source:Package}\\t${source:Version}\\t${db:Status-Abbrev}\\n"])
        .arg("*")
        .output()
        .expect("dpkg-query is needed for this test: apt-get install -y dpkg");
    assert!(output.status.success(), "dpkg-query failed: {}", String::from_utf8_lossy(&output.stderr));
    let mut out = BTreeMap::new();
    for line in String::from_utf8(output.stdout).unwrap().lines() {
        let f: Vec<&str> = line.split('\t').collect();
        // The second letter of the abbreviation is the state: n(ot-installed) and
        // c(onfig-files) leave no package files behind.
        let state = f[5].chars().nth(1).unwrap();
        if state != 'n' && state != 'c' {
            out.insert(f[0].to_owned(), (f[1].to_owned(), f[2].to_owned(), f[3].to_owned(), f[4].to_owned()));
        }
    }
    out
}

fn ours(status: &[u8]) -> BTreeMap<String, (String, String, String, String)> {
    let (packages, problems) = parse_status(status);
    assert!(problems.is_empty(), "{problems:?}");
    packages.into_iter().map(|p| (p.name, (p.version, p.arch, p.source_name, p.source_version))).collect()
}

/// Every installation state dpkg knows, one package each.
fn all_states() -> Vec<u8> {
    let states = [
        "install ok installed",
        "hold ok installed",
        "deinstall ok installed",
        "deinstall ok config-files",
        "purge ok not-installed",
        "install ok unpacked",
        "install ok half-configured",
        "install reinstreq half-installed",
        "install ok triggers-pending",
        "install ok triggers-awaited",
    ];
    let mut out = String::new();
    for (i, s) in states.iter().enumerate() {
        let version = if s.ends_with("not-installed") { String::new() } else { format!("Version: 1.{i}-1\n") };
        let extra = match *s {
            s if s.ends_with("triggers-pending") => "Triggers-Pending: ldconfig\n",
            s if s.ends_with("triggers-awaited") => "Triggers-Awaited: pkg-0\n",
            _ => "",
        };
        out.push_str(&format!(
            "Package: pkg-{i}\nStatus: {s}\nMaintainer: T <t@example.org>\nArchitecture: amd64\n{version}{extra}\
             Description: state {s}\n long description\n\n"
        ));
    }
    out.into_bytes()
}

#[test]
fn matches_dpkg_query_on_real_status_excerpt() {
    let status = data("dpkg/status");
    let expected = dpkg_query(&status);
    assert_eq!(expected.len(), 11);
    assert_eq!(ours(&status), expected);
}

#[test]
fn matches_dpkg_query_on_every_installation_state() {
    let status = all_states();
    let expected = dpkg_query(&status);
    let got = ours(&status);
    assert_eq!(got, expected);
    // Spelled out: removed-with-config and not-installed packages are gone, the others stay.
    let names: Vec<&str> = got.keys().map(String::as_str).collect();
    assert_eq!(names, ["pkg-0", "pkg-1", "pkg-2", "pkg-5", "pkg-6", "pkg-7", "pkg-8", "pkg-9"]);
}

#[test]
fn matches_dpkg_query_on_this_machines_database() {
    let status = std::fs::read("/var/lib/dpkg/status")
        .expect("this test reads the Debian machine's own /var/lib/dpkg/status (package dpkg)");
    let expected = dpkg_query(&status);
    assert!(expected.len() > 50, "a Debian system has more packages than {}", expected.len());
    assert_eq!(ours(&status), expected);
}

#[test]
fn source_field_forms() {
    let (pkgs, problems) = parse_status(&data("dpkg/status"));
    assert!(problems.is_empty());
    let by_name: BTreeMap<&str, &DpkgPackage> = pkgs.iter().map(|p| (p.name.as_str(), p)).collect();
    // `Source: name (version)`: a binNMU or a version that differs from the binary's.
    let bash = by_name["bash"];
    assert_eq!(
        (bash.version.as_str(), bash.source_name.as_str(), bash.source_version.as_str()),
        ("5.2.15-2+b8", "bash", "5.2.15-2")
    );
    let dmsetup = by_name["dmsetup"];
    assert_eq!((dmsetup.source_name.as_str(), dmsetup.source_version.as_str()), ("lvm2", "2.03.16-2"));
    // `Source: name`: the binary's version.
    let libc = by_name["libc6"];
    assert_eq!((libc.source_name.as_str(), libc.source_version.as_str()), ("glibc", "2.36-9+deb12u14"));
    // No Source: the binary package is its own source.
    let tz = by_name["tzdata"];
    assert_eq!(
        (tz.source_name.as_str(), tz.source_version.as_str(), tz.arch.as_str()),
        ("tzdata", "2025b-0+deb12u2", "all")
    );
}

#[test]
fn crlf_continuations_and_garbage_are_problems_not_failures() {
    let lines = [
        "Package: good",
        "Status: install ok installed",
        "Version: 1.0",
        "Description: x",
        " more",
        "\t.",
        "",
        "no colon here",
        " continuation of nothing kept",
        "Package: second",
        "Status: install ok installed",
        "Version: 2.0",
        "Version: 3.0",
        "",
        " orphan continuation",
        "Package: noversion",
        "Status: install ok installed",
        "",
        "Package: weird",
        "Status: install maybe installed",
        "Version: 1",
        "",
        "Status: install ok installed",
        "Version: 1",
        "",
        "Package: bad/name",
        "Version: 1",
    ];
    let text = lines.join("\r\n");
    let (pkgs, problems) = parse_status(text.as_bytes());
    let got: Vec<(&str, &str)> = pkgs.iter().map(|p| (p.name.as_str(), p.version.as_str())).collect();
    assert_eq!(got, [("good", "1.0"), ("second", "2.0")]);
    let joined = problems.join("\n");
    for expected in [
        "line 8: not a field",
        "field version repeated",
        "line 15: continuation line without a field",
        "package noversion: installed but has no Version",
        "package weird: unknown Status",
        "has no Package field",
        "invalid package name \"bad/name\"",
    ] {
        assert!(joined.contains(expected), "missing {expected:?} in:\n{joined}");
    }
    assert_eq!(problems.len(), 7, "{joined}");
}

#[test]
fn file_lists() {
    let (paths, problems) = parse_list(&data("dpkg/zlib1g:amd64.list"));
    assert!(problems.is_empty());
    assert!(!paths.contains(&"/.".to_owned()));
    assert!(paths.contains(&"/lib/x86_64-linux-gnu/libz.so.1.2.13".to_owned()));
    let (paths, problems) = parse_list(b"/usr/bin/x\nrelative/path\n/usr/../etc/y\n");
    assert_eq!(paths, ["/usr/bin/x", "/etc/y"]);
    assert_eq!(problems.len(), 1);
    let (paths, problems) = parse_md5sums(&data("dpkg/status.d/libssl3.md5sums"));
    assert!(problems.is_empty());
    assert_eq!(paths.len(), 9);
    assert!(paths.iter().all(|p| p.starts_with("/usr/")), "{paths:?}");
    let (paths, problems) = parse_md5sums(b"nothex  usr/x\nd41d8cd98f00b204e9800998ecf8427e  usr/share/doc/a b\n");
    assert_eq!(paths, ["/usr/share/doc/a b"]);
    assert_eq!(problems.len(), 1);
}

fn find<'a>(pkgs: &'a [Package], name: &str) -> &'a Package {
    pkgs.iter().find(|p| p.name == name).unwrap_or_else(|| panic!("no package {name}"))
}

#[test]
fn image_with_dpkg_database_and_merged_usr() {
    let (inv, _) = inventory(&[vec![
        file("/etc/os-release", data("os/debian-12.os-release")),
        file("/var/lib/dpkg/status", data("dpkg/status")),
        file("/var/lib/dpkg/info/zlib1g:amd64.list", data("dpkg/zlib1g:amd64.list")),
        file("/var/lib/dpkg/info/bash.list", data("dpkg/bash.list")),
        // Merged /usr: the list names /lib/..., the tree holds /usr/lib/...
        symlink("/lib", "usr/lib"),
        dir("/usr/lib/x86_64-linux-gnu"),
        file("/usr/lib/x86_64-linux-gnu/libz.so.1.2.13", "ELF"),
        symlink("/usr/lib/x86_64-linux-gnu/libz.so.1", "libz.so.1.2.13"),
        file("/usr/share/doc/zlib1g/copyright", "text"),
        file("/bin/bash", "ELF"),
    ]]);
    assert!(inv.problems.is_empty(), "{:?}", inv.problems);
    let debs: Vec<&Package> = inv.packages.iter().filter(|p| p.kind == PackageType::Deb).collect();
    assert_eq!(debs.len(), 11);
    let zlib = find(&inv.packages, "zlib1g");
    assert_eq!(zlib.purl, "pkg:deb/debian/zlib1g@1:1.2.13.dfsg-1?arch=amd64&distro=debian-12");
    assert_eq!(zlib.source_name.as_deref(), Some("zlib"));
    assert_eq!(zlib.source_version.as_deref(), Some("1:1.2.13.dfsg-1"));
    assert_eq!(zlib.location, "/var/lib/dpkg/status");
    assert_eq!(zlib.layer, Some(0));
    assert!(zlib.licenses.is_empty());
    // Directories and files the image lacks are left out; symlinks are owned too.
    assert_eq!(
        zlib.files,
        [
            "/usr/lib/x86_64-linux-gnu/libz.so.1",
            "/usr/lib/x86_64-linux-gnu/libz.so.1.2.13",
            "/usr/share/doc/zlib1g/copyright"
        ]
    );
    let bash = find(&inv.packages, "bash");
    assert_eq!(bash.files, ["/bin/bash"]);
    assert_eq!(bash.purl, "pkg:deb/debian/bash@5.2.15-2%2Bb8?arch=amd64&distro=debian-12");
    assert!(find(&inv.packages, "libc6").files.is_empty(), "no list file, no files");
    assert_eq!(inv.files.owned_count, 3, "regular files only: libz, its copyright, bash");
}

#[test]
fn distroless_status_d_by_name_and_by_hash() {
    let hashed_control = b"Package: tzdata\nVersion: 2024a-0+deb12u1\nArchitecture: all\n";
    let (inv, _) = inventory(&[vec![
        file("/etc/debian_version", "12.5\n"),
        file("/var/lib/dpkg/status.d/libssl3", data("dpkg/status.d/libssl3")),
        file("/var/lib/dpkg/status.d/libssl3.md5sums", data("dpkg/status.d/libssl3.md5sums")),
        file("/var/lib/dpkg/status.d/0f3a9b1c", hashed_control),
        file("/var/lib/dpkg/status.d/0f3a9b1c.md5sums", "d41d8cd98f00b204e9800998ecf8427e  usr/share/zoneinfo/UTC\n"),
        file("/usr/lib/x86_64-linux-gnu/libssl.so.3", "ELF"),
        file("/usr/lib/x86_64-linux-gnu/libcrypto.so.3", "ELF"),
        file("/usr/share/zoneinfo/UTC", "TZif"),
    ]]);
    assert!(inv.problems.is_empty(), "{:?}", inv.problems);
    assert_eq!(inv.os.as_ref().unwrap().id, "debian");
    let ssl = find(&inv.packages, "libssl3");
    assert_eq!(ssl.location, "/var/lib/dpkg/status.d/libssl3");
    assert_eq!(ssl.purl, "pkg:deb/debian/libssl3@3.0.19-1~deb12u2?arch=amd64&distro=debian-12");
    assert_eq!(ssl.files, ["/usr/lib/x86_64-linux-gnu/libcrypto.so.3", "/usr/lib/x86_64-linux-gnu/libssl.so.3"]);
    let tz = find(&inv.packages, "tzdata");
    assert_eq!(tz.location, "/var/lib/dpkg/status.d/0f3a9b1c");
    assert_eq!(tz.files, ["/usr/share/zoneinfo/UTC"]);
    assert_eq!(tz.source_name.as_deref(), Some("tzdata"));
}

#[test]
fn packages_are_attributed_to_the_layer_that_introduced_them() {
    let stanza = |name: &str, version: &str| {
        format!("Package: {name}\nStatus: install ok installed\nArchitecture: amd64\nVersion: {version}\n\n")
    };
    let base = format!("{}{}{}", stanza("base", "1"), stanza("upgraded", "1"), stanza("removed", "1"));
    let app = format!("{}{}{}", stanza("base", "1"), stanza("upgraded", "2"), stanza("added", "1"));
    let (inv, _) = inventory(&[
        vec![file("/etc/os-release", data("os/debian-12.os-release")), file("/var/lib/dpkg/status", base)],
        vec![file("/etc/hostname", "x")],
        vec![file("/var/lib/dpkg/status", app)],
    ]);
    let layers: BTreeMap<&str, (Option<u32>, &str)> =
        inv.packages.iter().map(|p| (p.name.as_str(), (p.layer, p.version.as_str()))).collect();
    assert_eq!(layers["base"], (Some(0), "1"));
    assert_eq!(layers["upgraded"], (Some(2), "2"));
    assert_eq!(layers["added"], (Some(2), "1"));
    assert!(!layers.contains_key("removed"));
}

#[test]
fn shadowed_broken_database_reports_nothing_and_deleted_database_reports_no_packages() {
    let (inv, _) = inventory(&[
        vec![file("/var/lib/dpkg/status", "garbage without fields\n")],
        vec![file("/var/lib/dpkg/status", data("dpkg/status"))],
    ]);
    assert!(inv.problems.is_empty(), "{:?}", inv.problems);
    assert_eq!(inv.packages.iter().filter(|p| p.kind == PackageType::Deb).count(), 11);
    let (inv, _) = inventory(&[
        vec![file("/var/lib/dpkg/status", data("dpkg/status"))],
        vec![os_support::whiteout("/var/lib/dpkg/status")],
    ]);
    assert_eq!(inv.packages.iter().filter(|p| p.kind == PackageType::Deb).count(), 0);
    let (inv, _) = inventory(&[vec![file("/var/lib/dpkg/status", "garbage without fields\n")]]);
    assert_eq!(inv.problems.len(), 1, "{:?}", inv.problems);
    assert_eq!(inv.problems[0].analyzer, "dpkg");
    assert_eq!(inv.problems[0].path, "/var/lib/dpkg/status");
}

#[test]
fn licences_from_copyright_files() {
    assert_eq!(parse_copyright(&data("dpkg/copyright/zlib1g")), ["Zlib"]);
    assert_eq!(
        parse_copyright(&data("dpkg/copyright/bash")),
        [
            "GPL-3+",
            "GPL-3+ with Bison exception",
            "GPL-2+",
            "GFDL-NIV-1.3",
            "Latex2e",
            "BSD-4-clause-UC and MIT-like",
            "BSD-4-clause-UC",
            "MIT-like",
            "permissive"
        ]
    );
    // A free-form file: the licence it points at in /usr/share/common-licenses.
    assert_eq!(parse_copyright(&data("dpkg/copyright/base-files")), ["GPL"]);
    assert!(parse_copyright(b"Copyright 2024 Someone. All rights reserved.\n").is_empty());
    let real = data("dpkg/copyright/bash");
    for cut in 0..=real.len() {
        let _ = parse_copyright(&real[..cut]);
    }
    let mut flips = Flips::new(9);
    for _ in 0..500 {
        let _ = parse_copyright(&flips.garble(&real, 8));
    }
}

#[test]
fn image_packages_carry_their_copyright_licences() {
    let status = "Package: zlib1g\nStatus: install ok installed\nArchitecture: amd64\nVersion: 1:1.2.13.dfsg-1\n\n\
                  Package: zlib1g-dev\nStatus: install ok installed\nArchitecture: amd64\nVersion: 1:1.2.13.dfsg-1\n\n\
                  Package: bash\nStatus: install ok installed\nArchitecture: amd64\nVersion: 5.2.15-2+b8\n";
    let (inv, _) = inventory(&[
        vec![
            file("/var/lib/dpkg/status", status),
            dir("/usr/share/doc/zlib1g"),
            file("/usr/share/doc/zlib1g/copyright", data("dpkg/copyright/zlib1g")),
            // A -dev package's documentation is a symlink to the library's.
            symlink("/usr/share/doc/zlib1g-dev", "zlib1g"),
            file("/usr/share/doc/bash/copyright", "License: GPL-2+\n"),
        ],
        // The newer copy is the one that counts.
        vec![file("/usr/share/doc/bash/copyright", data("dpkg/copyright/bash"))],
    ]);
    assert_eq!(find(&inv.packages, "zlib1g").licenses, ["Zlib"]);
    assert_eq!(find(&inv.packages, "zlib1g-dev").licenses, ["Zlib"]);
    assert_eq!(find(&inv.packages, "bash").licenses[0], "GPL-3+");
    assert_eq!(find(&inv.packages, "bash").licenses.len(), 9);
}

/// Packages read from a damaged copy are never invented: each is the real package, or
/// the last one read, cut short.
fn check_subset(full: &[DpkgPackage], got: &[DpkgPackage]) {
    assert!(got.len() <= full.len());
    for (i, p) in got.iter().enumerate() {
        let real = full.iter().find(|f| f.name == p.name || f.name.starts_with(&p.name));
        let real = real.unwrap_or_else(|| panic!("invented package {p:?}"));
        if i + 1 < got.len() {
            assert_eq!(p, real);
        }
    }
}

#[test]
fn every_prefix_of_the_status_file_parses_without_panic() {
    let real = data("dpkg/status");
    let (full, _) = parse_status(&real);
    for cut in 0..=real.len() {
        let (got, _) = parse_status(&real[..cut]);
        check_subset(&full, &got);
    }
    let control = data("dpkg/status.d/libssl3");
    for cut in 0..=control.len() {
        let _ = parse_status(&control[..cut]);
    }
    let list = data("dpkg/zlib1g:amd64.list");
    for cut in 0..=list.len() {
        let (paths, _) = parse_list(&list[..cut]);
        assert!(paths.iter().all(|p| p.starts_with('/')));
    }
}

#[test]
fn random_byte_flips_never_panic() {
    let real = data("dpkg/status");
    let mut flips = Flips::new(7);
    let mut with_problems = 0;
    for round in 0..2000 {
        let garbled = flips.garble(&real, 1 + round % 8);
        let (got, problems) = parse_status(&garbled);
        assert!(got.len() <= 11 + 8, "a flip can split a paragraph, not invent many");
        with_problems += usize::from(!problems.is_empty());
        let _ = parse_md5sums(&garbled);
        let _ = parse_list(&garbled);
    }
    assert!(with_problems > 100, "damage is reported: {with_problems} of 2000 had problems");
}
