//! OS detection: os-release syntax, distribution release files, and which copy of them an
//! image shows after its layers are applied.

use crate::os_support;

use inventory::OsInfo;
use inventory::os::{distro_qualifier, os_release_info, parse_os_release, parse_release_file};
use os_support::{Flips, data, dir, file, hardlink, inventory, symlink, whiteout};

fn os_release(name: &str) -> OsInfo {
    os_release_info(&parse_os_release(&data(&format!("os/{name}")))).unwrap()
}

/// `(id, version_id, codename)` of an answer, for compact comparisons.
fn short(info: &OsInfo) -> (String, Option<String>, Option<String>) {
    (info.id.clone(), info.version_id.clone(), info.codename.clone())
}

fn s(v: &str) -> Option<String> {
    Some(v.to_owned())
}

#[test]
fn reads_real_os_release_files() {
    let debian = os_release("debian-12.os-release");
    assert_eq!(short(&debian), ("debian".into(), s("12"), s("bookworm")));
    assert_eq!(debian.pretty_name.as_deref(), Some("Debian GNU/Linux 12 (bookworm)"));
    assert!(debian.id_like.is_empty());

    let ubuntu = os_release("ubuntu-22.04.os-release");
    assert_eq!(short(&ubuntu), ("ubuntu".into(), s("22.04"), s("jammy")));
    assert_eq!(ubuntu.id_like, vec!["debian"]);

    let alpine = os_release("alpine-3.19.os-release");
    assert_eq!(short(&alpine), ("alpine".into(), s("3.19.1"), None));
    assert_eq!(distro_qualifier(&alpine), "alpine-3.19.1");

    let rhel = os_release("rhel-9.3.os-release");
    assert_eq!(short(&rhel), ("rhel".into(), s("9.3"), None));
    assert_eq!(rhel.id_like, vec!["fedora"]);
    assert_eq!(distro_qualifier(&rhel), "rhel-9.3");
}

#[test]
fn os_release_quoting_escapes_and_comments() {
    let fields = parse_os_release(&data("os/quoting.os-release"));
    assert_eq!(fields["ID"], "my-os");
    assert_eq!(fields["NAME"], "Single \"quoted\" $HOME", "single quotes keep everything literally");
    assert_eq!(fields["PRETTY_NAME"], "Escaped \"quotes\", $dollar, \\ backslash and `tick`");
    assert_eq!(fields["VERSION_CODENAME"], "un quoted", "a backslash outside quotes escapes a space");
    assert_eq!(fields["VERSION_ID"], "2.0", "the later assignment wins, the comment is dropped");
    assert!(!fields.contains_key("BROKEN"), "an unterminated quote is not a value");
    assert!(!fields.contains_key("BAD-KEY"));
    assert!(!fields.contains_key(""));
    let info = os_release_info(&fields).unwrap();
    assert_eq!(info.id_like, vec!["fedora", "rhel"]);
    // A trailing comment on an unquoted value, read alone.
    assert_eq!(parse_os_release(b"VERSION_ID=1.0 # note\n")["VERSION_ID"], "1.0");
    assert_eq!(parse_os_release(b"A=\"x # not a comment\"\n")["A"], "x # not a comment");
    assert!(os_release_info(&parse_os_release(b"NAME=nothing\n")).is_none(), "no ID, no answer");
}

/// A release file's path in the image, its test data file, and the expected
/// `(id, version_id, codename)`.
type ReleaseCase = (&'static str, &'static str, (&'static str, Option<&'static str>, Option<&'static str>));

#[test]
fn reads_distribution_release_files() {
    let cases: &[ReleaseCase] = &[
        ("/etc/redhat-release", "redhat-release", ("rhel", Some("8.9"), None)),
        ("/etc/centos-release", "centos-release", ("centos", Some("7.9.2009"), None)),
        ("/etc/centos-release", "centos-stream-release", ("centos", Some("9"), None)),
        ("/etc/rocky-release", "rocky-release", ("rocky", Some("9.3"), None)),
        ("/etc/almalinux-release", "almalinux-release", ("almalinux", Some("9.3"), None)),
        ("/etc/fedora-release", "fedora-release", ("fedora", Some("39"), None)),
        ("/etc/oracle-release", "oracle-release", ("ol", Some("8.9"), None)),
        ("/etc/system-release", "system-release", ("amzn", Some("2"), None)),
        ("/etc/photon-release", "photon-release", ("photon", Some("4.0"), None)),
        ("/etc/SuSE-release", "SuSE-release", ("sles", Some("12.5"), None)),
        ("/etc/lsb-release", "lsb-release", ("ubuntu", Some("20.04"), Some("focal"))),
        ("/etc/debian_version", "debian_version", ("debian", Some("12"), None)),
        ("/etc/alpine-release", "alpine-release", ("alpine", Some("3.18.6"), None)),
        ("/etc/apk/repositories", "apk-repositories", ("alpine", Some("3.18"), None)),
    ];
    for (path, name, (id, version, codename)) in cases {
        let info = parse_release_file(path, &data(&format!("os/{name}"))).unwrap_or_else(|| panic!("{name}"));
        assert_eq!(short(&info), (id.to_string(), version.map(str::to_owned), codename.map(str::to_owned)), "{name}");
    }
    let testing = parse_release_file("/etc/debian_version", b"trixie/sid\n").unwrap();
    assert_eq!(short(&testing), ("debian".into(), None, s("trixie")));
    assert!(parse_release_file("/etc/redhat-release", b"Something else entirely\n").is_none());
}

#[test]
fn follows_os_release_symlink_to_the_visible_copy() {
    let (inv, _) = inventory(&[
        vec![
            dir("/etc"),
            dir("/usr/lib"),
            file("/usr/lib/os-release", data("os/debian-12.os-release")),
            symlink("/etc/os-release", "../usr/lib/os-release"),
        ],
        // A later layer upgrades the release: the old copy is shadowed.
        vec![file("/usr/lib/os-release", data("os/debian-sid.os-release")), file("/etc/debian_version", "13.1\n")],
    ]);
    let os = inv.os.unwrap();
    assert_eq!(short(&os), ("debian".into(), s("13"), s("trixie")), "sid os-release, version from debian_version");
    assert_eq!(os.source_file.as_deref(), Some("/usr/lib/os-release"));
}

#[test]
fn prefers_etc_os_release_over_usr_lib() {
    let (inv, _) = inventory(&[vec![
        file("/usr/lib/os-release", data("os/debian-12.os-release")),
        file("/etc/os-release", data("os/ubuntu-22.04.os-release")),
    ]]);
    assert_eq!(inv.os.unwrap().id, "ubuntu");
}

#[test]
fn deleted_os_release_falls_back_to_release_files() {
    let (inv, _) = inventory(&[
        vec![
            file("/etc/os-release", data("os/rhel-9.3.os-release")),
            file("/etc/centos-release", data("os/centos-release")),
            symlink("/etc/redhat-release", "centos-release"),
            symlink("/etc/system-release", "centos-release"),
        ],
        vec![whiteout("/etc/os-release")],
    ]);
    let os = inv.os.unwrap();
    assert_eq!(short(&os), ("centos".into(), s("7.9.2009"), None));
    assert_eq!(os.source_file.as_deref(), Some("/etc/centos-release"));
}

#[test]
fn redhat_release_symlink_is_resolved() {
    let (inv, _) = inventory(&[vec![
        file("/etc/fedora-release", data("os/fedora-release")),
        symlink("/etc/redhat-release", "fedora-release"),
    ]]);
    assert_eq!(short(&inv.os.unwrap()), ("fedora".into(), s("39"), None));
}

#[test]
fn hard_linked_os_release_is_read_through_its_target() {
    let (inv, _) = inventory(&[vec![
        file("/usr/lib/os-release", data("os/alpine-3.19.os-release")),
        hardlink("/etc/os-release", "/usr/lib/os-release"),
    ]]);
    let os = inv.os.unwrap();
    assert_eq!(os.id, "alpine");
    assert_eq!(os.source_file.as_deref(), Some("/usr/lib/os-release"));
}

#[test]
fn distroless_debian_without_os_release() {
    let status = b"Package: base-files\nVersion: 12.4+deb12u5\nArchitecture: amd64\n";
    let (inv, _) =
        inventory(&[vec![file("/etc/debian_version", "12.5\n"), file("/var/lib/dpkg/status.d/base-files", status)]]);
    let os = inv.os.unwrap();
    assert_eq!(short(&os), ("debian".into(), s("12"), None));
    let (inv, _) = inventory(&[vec![file("/var/lib/dpkg/status.d/base-files", status)]]);
    let os = inv.os.unwrap();
    assert_eq!(short(&os), ("debian".into(), None, None), "dpkg alone: Debian, version unknown");
    assert_eq!(os.source_file.as_deref(), Some("/var/lib/dpkg/status.d"));
}

#[test]
fn unknown_os_is_unknown() {
    let (inv, _) =
        inventory(&[vec![file("/app/server", "binary"), file("/etc/passwd", "root:x:0:0::/root:/bin/sh\n")]]);
    let os = inv.os.unwrap();
    assert!(!os.is_known());
    assert_eq!(os, OsInfo::unknown());
    assert_eq!(distro_qualifier(&os), "");
    // An os-release that names no ID does not make the OS known either.
    let (inv, _) = inventory(&[vec![file("/etc/os-release", "NAME=\"Mystery\"\n")]]);
    assert!(!inv.os.unwrap().is_known());
}

#[test]
fn os_release_replaced_by_a_directory_is_not_read() {
    let (inv, _) = inventory(&[
        vec![file("/etc/os-release", data("os/ubuntu-22.04.os-release"))],
        vec![dir("/etc/os-release"), file("/etc/alpine-release", "3.20.0\n")],
    ]);
    assert_eq!(short(&inv.os.unwrap()), ("alpine".into(), s("3.20.0"), None));
}

#[test]
fn garbled_release_files_never_panic() {
    let mut flips = Flips::new(1);
    let names = ["debian-12.os-release", "quoting.os-release", "SuSE-release", "lsb-release", "photon-release"];
    for name in names {
        let real = data(&format!("os/{name}"));
        for cut in 0..=real.len() {
            let fields = parse_os_release(&real[..cut]);
            let _ = os_release_info(&fields);
            for path in ["/etc/SuSE-release", "/etc/lsb-release", "/etc/photon-release", "/etc/redhat-release"] {
                let _ = parse_release_file(path, &real[..cut]);
            }
        }
        for _ in 0..500 {
            let garbled = flips.garble(&real, 4);
            let fields = parse_os_release(&garbled);
            // Whatever is read, keys are names and values have no line breaks.
            for (k, v) in &fields {
                assert!(k.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'), "{k:?}");
                assert!(!v.contains('\n'), "{v:?}");
            }
            let _ = parse_release_file("/etc/SuSE-release", &garbled);
        }
    }
}
