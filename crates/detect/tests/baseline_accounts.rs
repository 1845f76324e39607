//! Account and password checks over crafted /etc/passwd, /etc/shadow and /etc/group
//! (tests/data/baseline/crafted, see its README): every expected failure is present with
//! its level and detail, and every other check passed or does not apply.

use std::path::PathBuf;

use detect::baseline::{CheckResult, Checker, Level, Location, Outcome};
use detect::secrets::Scanner;
use image::config::{HealthCheck, History, RunConfig};
use image::{Expected, FileTree, ImageConfig, Limits, apply_layer};

fn crafted(name: &str) -> Vec<u8> {
    std::fs::read(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/baseline/crafted").join(name)).unwrap()
}

use crate::layer_support::layer;

/// A config that passes every config check: a non-root user, a health check, a clean
/// history.
fn good_config() -> ImageConfig {
    ImageConfig {
        config: Some(RunConfig {
            user: Some("app".into()),
            env: Some(vec!["PATH=/usr/bin:/bin".into()]),
            healthcheck: Some(HealthCheck { test: Some(vec!["CMD".into(), "true".into()]) }),
            ..Default::default()
        }),
        history: vec![History {
            created_by: Some(
                "/bin/sh -c apt-get update && apt-get install -y curl && rm -rf /var/lib/apt/lists/*".into(),
            ),
            ..Default::default()
        }],
        ..Default::default()
    }
}

const REFERENCE: &str = "registry.internal.invalid/team/app:1.4.2";

fn run(checker: Checker, layers: &[Vec<u8>], config: &ImageConfig) -> Vec<CheckResult> {
    let mut checker = checker;
    let mut tree = FileTree::new();
    for (i, tar) in layers.iter().enumerate() {
        let index = u32::try_from(i).unwrap();
        apply_layer(&mut tree, index, &mut tar.as_slice(), &Expected::default(), &Limits::default(), &mut checker)
            .unwrap();
    }
    checker.finish(&tree, config, REFERENCE)
}

fn check<'a>(results: &'a [CheckResult], id: &str) -> &'a CheckResult {
    results.iter().find(|r| r.id == id).unwrap_or_else(|| panic!("no result for {id}"))
}

fn crafted_layer() -> Vec<u8> {
    layer(&[
        ("/etc/passwd", &crafted("passwd")),
        ("/etc/shadow", &crafted("shadow")),
        ("/etc/group", &crafted("group")),
    ])
}

fn at(path: &str, line: u32) -> Location {
    Location { path: path.into(), line: Some(line) }
}

#[test]
fn crafted_accounts_fail_exactly_the_expected_checks() {
    let results = run(Checker::new(), &[crafted_layer()], &good_config());

    let failed: Vec<(&str, Level)> =
        results.iter().filter(|r| r.result == Outcome::Failed).map(|r| (r.id.as_str(), r.level)).collect();
    assert_eq!(
        failed,
        [
            ("CG-ACCOUNT-002", Level::Medium),
            ("CG-ACCOUNT-003", Level::High),
            ("CG-PASSWORD-002", Level::High),
            ("CG-PASSWORD-003", Level::High),
            ("CG-PASSWORD-004", Level::High),
        ],
        "{results:#?}"
    );
    let not_applicable: Vec<&str> =
        results.iter().filter(|r| r.result == Outcome::NotApplicable).map(|r| r.id.as_str()).collect();
    assert_eq!(not_applicable, ["CG-IMAGE-005"], "no sudoers file in this image");

    let uids = check(&results, "CG-ACCOUNT-002");
    assert_eq!(
        uids.problem,
        "UID 0 appears 2 times in /etc/passwd: root (line 1), toor (line 4); \
         UID 1000 appears 2 times in /etc/passwd: app (line 5), web (line 6)"
    );
    assert_eq!(
        uids.locations,
        [at("/etc/passwd", 1), at("/etc/passwd", 4), at("/etc/passwd", 5), at("/etc/passwd", 6)]
    );

    let root = check(&results, "CG-ACCOUNT-003");
    assert_eq!(root.problem, "accounts other than root with UID 0 in /etc/passwd: toor (line 4)");
    assert_eq!(root.locations, [at("/etc/passwd", 4)]);

    let shared = check(&results, "CG-PASSWORD-002");
    assert_eq!(shared.problem, "accounts ops (/etc/shadow:9), deploy (/etc/shadow:10) share the hash $6$****");
    assert_eq!(shared.locations, [at("/etc/shadow", 9), at("/etc/shadow", 10)]);

    let weak = check(&results, "CG-PASSWORD-003");
    assert_eq!(weak.problem, "legacy (/etc/shadow:8) uses MD5-crypt (MD5 with a fixed 1000 rounds): $1$****");
    assert_eq!(weak.locations, [at("/etc/shadow", 8)]);

    let empty = check(&results, "CG-PASSWORD-004");
    assert_eq!(empty.problem, "accounts with an empty password field: guest (/etc/shadow:7)");
    assert_eq!(empty.locations, [at("/etc/shadow", 7)]);

    // No password hash is ever printed: not even a long piece of one.
    let shadow = String::from_utf8(crafted("shadow")).unwrap();
    for hash in shadow.lines().filter_map(|l| l.split(':').nth(1)).filter(|h| h.len() > 8) {
        for r in &results {
            assert!(!r.problem.contains(&hash[3..12]), "{} shows a hash: {}", r.id, r.problem);
        }
    }
    // Every result carries its description.
    for r in &results {
        assert!(!r.title.is_empty() && !r.method.is_empty() && !r.advice.is_empty(), "{r:?}");
        if r.result == Outcome::Passed {
            assert!(r.problem.is_empty() && r.locations.is_empty(), "{r:?}");
        }
    }
}

#[test]
fn a_clean_image_passes_the_account_checks() {
    let passwd = b"root:x:0:0:root:/root:/bin/bash\napp:x:1000:1000::/home/app:/bin/sh\n";
    let shadow = b"root:*:20000:0:99999:7:::\napp:!:20000:0:99999:7:::\n";
    let group = b"root:x:0:\napp:x:1000:\n";
    let tar = layer(&[("/etc/passwd", passwd), ("/etc/shadow", shadow), ("/etc/group", group)]);
    let results = run(Checker::new(), &[tar], &good_config());
    for r in &results {
        let expected = if r.id == "CG-IMAGE-005" { Outcome::NotApplicable } else { Outcome::Passed };
        assert_eq!(r.result, expected, "{r:?}");
    }
}

#[test]
fn checks_without_their_files_do_not_apply() {
    let results = run(Checker::new(), &[layer(&[("/app/run.sh", b"#!/bin/sh\n")])], &good_config());
    for id in ["CG-ACCOUNT-001", "CG-ACCOUNT-002", "CG-ACCOUNT-003", "CG-ACCOUNT-004", "CG-PASSWORD-002"] {
        assert_eq!(check(&results, id).result, Outcome::NotApplicable, "{id}");
    }
    assert_eq!(check(&results, "CG-PASSWORD-004").result, Outcome::NotApplicable);

    // passwd without shadow: nothing to compare, but an empty passwd field still counts.
    let passwd = b"root:x:0:0:root:/root:/bin/sh\nkiosk::1000:1000::/home/kiosk:/bin/sh\n";
    let results = run(Checker::new(), &[layer(&[("/etc/passwd", passwd)])], &good_config());
    assert_eq!(check(&results, "CG-PASSWORD-002").result, Outcome::NotApplicable);
    assert_eq!(check(&results, "CG-PASSWORD-003").result, Outcome::NotApplicable);
    let empty = check(&results, "CG-PASSWORD-004");
    assert_eq!(empty.result, Outcome::Failed);
    assert_eq!(empty.problem, "accounts with an empty password field: kiosk (/etc/passwd:2)");
}

#[test]
fn only_the_final_copy_of_a_file_counts() {
    // Layer 0 ships the crafted (bad) files; layer 1 replaces passwd with a clean one and
    // deletes shadow.
    let fixed = layer(&[("/etc/passwd", b"root:x:0:0:root:/root:/bin/sh\n"), ("/etc/.wh.shadow", b"")]);
    let results = run(Checker::new(), &[crafted_layer(), fixed], &good_config());
    assert_eq!(check(&results, "CG-ACCOUNT-002").result, Outcome::Passed);
    assert_eq!(check(&results, "CG-ACCOUNT-003").result, Outcome::Passed);
    assert_eq!(check(&results, "CG-PASSWORD-002").result, Outcome::NotApplicable);
    assert_eq!(check(&results, "CG-PASSWORD-004").result, Outcome::Passed);
}

#[test]
fn duplicate_groups_fail_with_both_kinds_of_duplicate() {
    let group = b"root:x:0:\nstaff:x:50:\nstaff:x:51:\nadmins:x:50:\n";
    let results = run(Checker::new(), &[layer(&[("/etc/group", group)])], &good_config());
    let r = check(&results, "CG-ACCOUNT-004");
    assert_eq!((r.result, r.level), (Outcome::Failed, Level::Low));
    assert_eq!(
        r.problem,
        "group name staff appears 2 times in /etc/group: staff (line 2), staff (line 3); \
         GID 50 appears 2 times in /etc/group: staff (line 2), admins (line 4)"
    );
}

#[test]
fn hard_coded_credentials_come_from_the_secret_scan() {
    let tar =
        layer(&[("/etc/passwd", b"root:x:0:0:root:/root:/bin/sh\n"), ("/app/.env", b"DB_PASSWORD=Kq8-Pr0d-Pw-41\n")]);
    // The checker runs the scanner itself.
    let results = run(Checker::new(), std::slice::from_ref(&tar), &good_config());
    let r = check(&results, "CG-PASSWORD-001");
    assert_eq!((r.result, r.level), (Outcome::Failed, Level::High));
    assert_eq!(
        r.problem,
        "1 secret found: hardcoded-password at /app/.env:1 (Hard-coded password): DB_PASSWORD=Kq****"
    );
    assert_eq!(r.locations, [at("/app/.env", 1)]);
    assert_eq!(check(&results, "CIS-DI-4.10").result, Outcome::Passed, "the secret is in a file, not the config");

    // The caller runs the scanner and passes its findings in.
    let mut tree = FileTree::new();
    let mut scanner = Scanner::default();
    apply_layer(&mut tree, 0, &mut tar.as_slice(), &Expected::default(), &Limits::default(), &mut scanner).unwrap();
    let findings = scanner.finish(&tree);
    let mut checker = Checker::without_secret_scan();
    apply_layer(&mut FileTree::new(), 0, &mut tar.as_slice(), &Expected::default(), &Limits::default(), &mut checker)
        .unwrap();
    let results = checker.finish_with_secrets(&tree, &good_config(), REFERENCE, &findings);
    assert_eq!(check(&results, "CG-PASSWORD-001").result, Outcome::Failed);

    // Without any scan the check cannot be decided.
    let results = run(Checker::without_secret_scan(), &[tar], &good_config());
    assert_eq!(check(&results, "CG-PASSWORD-001").result, Outcome::NotApplicable);
    assert_eq!(check(&results, "CIS-DI-4.10").result, Outcome::NotApplicable);
}
