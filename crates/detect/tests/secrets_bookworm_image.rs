//! False-positive test over a real image: the debootstrap bookworm image with python3,
//! perl, curl, openssh-server and nginx installed (`extra.tar`, built by
//! scripts/build-test-images.sh). Every secret finding and every failed baseline check
//! there is listed below with the reason it is expected; there is no secret in that
//! image, so the secret scanner must find none.

use std::io::Read;
use std::path::PathBuf;
use std::time::Instant;

use detect::baseline::{Checker, Level, Outcome};
use detect::secrets::{self, Scanner};
use image::{FileEntry, Image, LayerVisitor, Limits};

fn extra_tar() -> PathBuf {
    let dir = std::env::var_os("CGUARD_IMAGES")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../.cache/images"));
    let path = dir.join("extra.tar");
    assert!(
        path.is_file(),
        "{} is missing: build the test images with scripts/build-test-images.sh (needs debootstrap and docker)",
        path.display()
    );
    path
}

/// Where OpenSSL's shipped configuration keeps a demo password (see below).
const OPENSSL_CNF: &str = "/etc/ssl/openssl.cnf";

/// Feeds one layer stream to the secret scanner and the baseline checker at once, and
/// keeps the final openssl.cnf.
struct Both {
    scanner: Scanner,
    checker: Checker,
    wanted: (bool, bool),
    openssl_cnf: Vec<u8>,
}

impl LayerVisitor for Both {
    fn wants(&mut self, path: &str, entry: &FileEntry) -> bool {
        self.wanted = (self.scanner.wants(path, entry), self.checker.wants(path, entry));
        self.wanted.0 || self.wanted.1 || path == OPENSSL_CNF
    }

    fn visit(&mut self, path: &str, entry: &FileEntry, content: &mut dyn Read) -> std::io::Result<()> {
        let mut data = Vec::new();
        content.read_to_end(&mut data)?;
        if self.wanted.0 {
            self.scanner.visit(path, entry, &mut data.as_slice())?;
        }
        if self.wanted.1 {
            self.checker.visit(path, entry, &mut data.as_slice())?;
        }
        if path == OPENSSL_CNF {
            self.openssl_cnf = data;
        }
        Ok(())
    }
}

/// The setuid/setgid files of the packages installed (login, passwd, mount, util-linux,
/// openssh-client, dbus): Debian ships them so; CIS 4.8 lists them for removal.
const SETUID_FILES: &[&str] = &[
    "/usr/bin/chage",
    "/usr/bin/chfn",
    "/usr/bin/chsh",
    "/usr/bin/expiry",
    "/usr/bin/gpasswd",
    "/usr/bin/mount",
    "/usr/bin/newgrp",
    "/usr/bin/passwd",
    "/usr/bin/ssh-agent",
    "/usr/bin/su",
    "/usr/bin/umount",
    "/usr/lib/dbus-1.0/dbus-daemon-launch-helper",
    "/usr/lib/openssh/ssh-keysign",
    "/usr/sbin/unix_chkpwd",
];

#[test]
fn bookworm_image_has_no_false_positives() {
    let reference = format!("docker-archive:{}", extra_tar().display());
    let img = Image::open(&reference, &Default::default()).expect("open extra.tar");
    let mut both = Both {
        scanner: Scanner::default(),
        checker: Checker::without_secret_scan(),
        wanted: (false, false),
        openssl_cnf: Vec::new(),
    };
    let outcome = img.read(&Limits::default(), &mut both).expect("read extra.tar");
    let mut found = both.scanner.finish(&outcome.tree);
    found.extend(secrets::scan_config(&img.config));

    // No secret at all: the image holds none. Two things in it would be reported without
    // the scanner's documented choices: OpenSSL's shipped openssl.cnf has
    // `secret = pass:insta` for its CMP demo CA (an unmodified dpkg conffile: dropped),
    // and openssh-server's host keys /etc/ssh/ssh_host_*_key (baseline CG-IMAGE-004).
    assert_eq!(found, [], "unexpected secret findings");
    let raw = secrets::scan_file(OPENSSL_CNF, &both.openssl_cnf);
    let raw: Vec<(&str, u32)> = raw.iter().map(|f| (f.rule_id.as_str(), f.line)).collect();
    assert_eq!(raw, [("hardcoded-secret", 351)], "openssl.cnf scanned alone still shows the demo password");

    // The reference names no tag: use the image's own (cguard-test/extra:bookworm).
    let tag = img.repo_tags.first().cloned().expect("extra.tar names its tag");
    let checks = both.checker.finish_with_secrets(&outcome.tree, &img.config, &tag, &found);
    let failed: Vec<(&str, Level)> =
        checks.iter().filter(|c| c.result == Outcome::Failed).map(|c| (c.id.as_str(), c.level)).collect();
    assert_eq!(
        failed,
        [
            // The Dockerfile sets no USER: containers run as root.
            ("CIS-DI-4.1", Level::Medium),
            // ... and no HEALTHCHECK.
            ("CIS-DI-4.6", Level::Low),
            // Debian's setuid/setgid programs (listed above).
            ("CIS-DI-4.8", Level::Low),
            // apt-get install without apt-get clean: the .debs and apt's binary caches stay.
            ("CG-IMAGE-002", Level::Low),
            // openssh-server's postinst generated host keys at build time.
            ("CG-IMAGE-004", Level::Medium),
        ],
        "{checks:#?}"
    );
    let by_id = |id: &str| checks.iter().find(|c| c.id == id).unwrap();
    let setuid: Vec<&str> = by_id("CIS-DI-4.8").locations.iter().map(|l| l.path.as_str()).collect();
    assert_eq!(setuid, SETUID_FILES);
    let caches = &by_id("CG-IMAGE-002").problem;
    assert!(caches.starts_with("/var/cache/apt/archives (*.deb): 100 files"), "{caches}");
    assert!(caches.contains("/var/cache/apt (*.bin): 2 files"), "{caches}");
    assert!(!caches.contains("/var/lib/apt/lists"), "the build removed the lists: {caches}");
    let keys: Vec<&str> = by_id("CG-IMAGE-004").locations.iter().map(|l| l.path.as_str()).collect();
    assert_eq!(keys, ["/etc/ssh/ssh_host_ecdsa_key", "/etc/ssh/ssh_host_ed25519_key", "/etc/ssh/ssh_host_rsa_key"]);
    // No sudoers file: sudo is not installed.
    let not_applicable: Vec<&str> =
        checks.iter().filter(|c| c.result == Outcome::NotApplicable).map(|c| c.id.as_str()).collect();
    assert_eq!(not_applicable, ["CG-IMAGE-005"]);
}

/// Times the secret scan alone over the image (reading included), next to a read that
/// wants no content; run with `--release --nocapture` to see the figures.
#[test]
fn secret_scan_time() {
    let reference = format!("docker-archive:{}", extra_tar().display());
    let img = Image::open(&reference, &Default::default()).expect("open extra.tar");
    let start = Instant::now();
    img.read(&Limits::default(), &mut image::NoContent).expect("read extra.tar");
    eprintln!("bare read of extra.tar: {:?}", start.elapsed());
    let start = Instant::now();
    let mut scanner = Scanner::default();
    let outcome = img.read(&Limits::default(), &mut scanner).expect("read extra.tar");
    let stats = scanner.stats();
    let mut found = scanner.finish(&outcome.tree);
    found.extend(secrets::scan_config(&img.config));
    eprintln!("secret scan of extra.tar: {:?}, {stats:?}, {} findings", start.elapsed(), found.len());
    assert!(stats.files_read > 100, "{stats:?}");
    assert!(found.is_empty());
}
