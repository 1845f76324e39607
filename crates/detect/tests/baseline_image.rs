//! The CIS Docker Benchmark image checks and the other image checks: the config (user,
//! health check, history, secrets), the reference's tag, and the file tree (setuid files,
//! sudo, package caches, SSH host keys, sudoers).

use std::path::PathBuf;

use detect::baseline::{CheckResult, Checker, Level, Outcome, catalog};
use image::config::{HealthCheck, History, RunConfig};
use image::{Expected, FileTree, ImageConfig, Limits, apply_layer};

/// One member of a test layer.
enum Member<'a> {
    File(&'a str, u32, &'a [u8]),
    Link(&'a str, &'a str),
}

fn layer(members: &[Member<'_>]) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    for m in members {
        let mut header = tar::Header::new_gnu();
        match m {
            Member::File(path, mode, content) => {
                header.set_size(content.len() as u64);
                header.set_mode(*mode);
                header.set_entry_type(tar::EntryType::Regular);
                builder.append_data(&mut header, path.trim_start_matches('/'), *content).unwrap();
            }
            Member::Link(path, target) => {
                header.set_size(0);
                header.set_mode(0o777);
                header.set_entry_type(tar::EntryType::Symlink);
                builder.append_link(&mut header, path.trim_start_matches('/'), target).unwrap();
            }
        }
    }
    builder.into_inner().unwrap()
}

const PASSWD: &[u8] = b"root:x:0:0:root:/root:/bin/sh\ntoor:x:0:0::/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\n";

fn run(members: &[Member<'_>], config: &ImageConfig, reference: &str) -> Vec<CheckResult> {
    let mut checker = Checker::new();
    let mut tree = FileTree::new();
    let tar = layer(members);
    apply_layer(&mut tree, 0, &mut tar.as_slice(), &Expected::default(), &Limits::default(), &mut checker).unwrap();
    checker.finish(&tree, config, reference)
}

fn check(results: &[CheckResult], id: &str) -> CheckResult {
    results.iter().find(|r| r.id == id).cloned().unwrap_or_else(|| panic!("no result for {id}"))
}

fn config(user: Option<&str>, health: Option<&[&str]>, steps: &[&str]) -> ImageConfig {
    ImageConfig {
        config: Some(RunConfig {
            user: user.map(str::to_owned),
            healthcheck: health.map(|t| HealthCheck { test: Some(t.iter().map(|s| s.to_string()).collect()) }),
            ..Default::default()
        }),
        history: steps.iter().map(|s| History { created_by: Some(s.to_string()), ..Default::default() }).collect(),
        ..Default::default()
    }
}

fn outcome(config: &ImageConfig, id: &str) -> (Outcome, String) {
    let r = check(&run(&[Member::File("/etc/passwd", 0o644, PASSWD)], config, "app:1.0"), id);
    (r.result, r.problem)
}

#[test]
fn cis_4_1_containers_must_not_run_as_root() {
    let health: Option<&[&str]> = Some(&["CMD", "true"]);
    assert_eq!(
        outcome(&config(None, health, &[]), "CIS-DI-4.1"),
        (Outcome::Failed, "no USER is set: containers run as root".into())
    );
    assert_eq!(outcome(&config(Some("root"), health, &[]), "CIS-DI-4.1").0, Outcome::Failed);
    assert_eq!(outcome(&config(Some("0:0"), health, &[]), "CIS-DI-4.1").0, Outcome::Failed);
    assert_eq!(
        outcome(&config(Some("toor"), health, &[]), "CIS-DI-4.1"),
        (Outcome::Failed, "USER is `toor`, but toor has UID 0 in /etc/passwd (line 2): containers run as root".into())
    );
    assert_eq!(outcome(&config(Some("app"), health, &[]), "CIS-DI-4.1").0, Outcome::Passed);
    assert_eq!(outcome(&config(Some("1000:1000"), health, &[]), "CIS-DI-4.1").0, Outcome::Passed);
    assert_eq!(check(&run(&[], &config(Some("app"), health, &[]), "a:1"), "CIS-DI-4.1").level, Level::Medium);
}

#[test]
fn cis_4_6_a_health_check_is_set() {
    assert_eq!(outcome(&config(Some("app"), None, &[]), "CIS-DI-4.6").0, Outcome::Failed);
    assert_eq!(outcome(&config(Some("app"), Some(&["NONE"]), &[]), "CIS-DI-4.6").0, Outcome::Failed);
    assert_eq!(outcome(&config(Some("app"), Some(&[]), &[]), "CIS-DI-4.6").0, Outcome::Failed);
    assert_eq!(
        outcome(&config(Some("app"), Some(&["CMD-SHELL", "curl -f localhost"]), &[]), "CIS-DI-4.6").0,
        Outcome::Passed
    );
    assert_eq!(outcome(&ImageConfig::default(), "CIS-DI-4.6").0, Outcome::Failed);
}

#[test]
fn cis_4_9_add_is_only_normal_for_the_base_root_filesystem() {
    let base = "/bin/sh -c #(nop) ADD file:4a1bc9d2e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c1d2e3f4a5b6c7d8e9f0a1b2 in / ";
    let steps = [
        base,
        "/bin/sh -c #(nop)  CMD [\"bash\"]",
        "ADD https://downloads.internal.invalid/tool-1.2.tar.gz /opt/ # buildkit",
        "ADD --chown=app:app app.tar.gz /srv/ # buildkit",
        "/bin/sh -c #(nop) ADD file:9f8e7d6c5b4a39281706f5e4d3c2b1a0 in /etc/app.conf ",
        "COPY . /app # buildkit",
    ];
    let (result, problem) = outcome(&config(Some("app"), None, &steps), "CIS-DI-4.9");
    assert_eq!(result, Outcome::Failed);
    assert_eq!(
        problem,
        "history step 3: `ADD https://downloads.internal.invalid/tool-1.2.tar.gz /opt/` downloads a URL; \
         history step 4: `ADD --chown=app:app app.tar.gz /srv/` extracts an archive; \
         history step 5: `ADD file:9f8e7d6c5b4a39281706f5e4d3c2b1a0 in /etc/app.conf` copies local files (COPY does \
         that without ADD's implicit download and extraction)"
    );
    assert_eq!(outcome(&config(Some("app"), None, &[base, "COPY . /app # buildkit"]), "CIS-DI-4.9").0, Outcome::Passed);
    // The base exemption is for the first step only: a second root filesystem is an ADD.
    assert_eq!(outcome(&config(Some("app"), None, &[base, base]), "CIS-DI-4.9").0, Outcome::Failed);
    assert_eq!(outcome(&config(Some("app"), None, &[]), "CIS-DI-4.9").0, Outcome::NotApplicable);
}

#[test]
fn cis_4_7_index_updates_come_with_installs() {
    let alone = ["/bin/sh -c apt-get update", "/bin/sh -c apt-get install -y curl"];
    let (result, problem) = outcome(&config(Some("app"), None, &alone), "CIS-DI-4.7");
    assert_eq!(result, Outcome::Failed);
    assert_eq!(problem, "history step 1: `/bin/sh -c apt-get update` updates the package index without installing");
    let together = ["RUN /bin/sh -c apk update && apk add curl # buildkit"];
    assert_eq!(outcome(&config(Some("app"), None, &together), "CIS-DI-4.7").0, Outcome::Passed);
}

#[test]
fn cis_4_10_secrets_in_the_config_fail_it_and_the_credentials_check() {
    let mut c = config(
        Some("app"),
        Some(&["CMD", "true"]),
        &["|1 GITHUB_TOKEN=ghp_Lm4Nq8Rs2Tv6Wx0Yz3Ab7Cd1Ef5Gh9Ij2Kl6 /bin/sh -c make"],
    );
    if let Some(run) = c.config.as_mut() {
        run.env = Some(vec!["PATH=/bin".into(), "ADMIN_PASSWORD=Adm-Pw-4471z".into()]);
    }
    let results = run(&[], &c, "app:1.0");
    let r = check(&results, "CIS-DI-4.10");
    assert_eq!((r.result, r.level), (Outcome::Failed, Level::High));
    assert_eq!(
        r.problem,
        "2 secrets in the image config: hardcoded-password at image-config:Env:2 (Hard-coded password): \
         ADMIN_PASSWORD=Ad****; github-token at image-config:history:1 (GitHub token): ghp_****2Kl6"
    );
    assert_eq!(check(&results, "CG-PASSWORD-001").result, Outcome::Failed);
}

#[test]
fn setuid_and_setgid_files_are_listed() {
    let members = [
        Member::File("/usr/bin/su", 0o4755, b"\x7fELF"),
        Member::File("/usr/bin/wall", 0o2755, b"\x7fELF"),
        Member::File("/usr/bin/ls", 0o755, b"\x7fELF"),
    ];
    let r = check(&run(&members, &ImageConfig::default(), "a:1"), "CIS-DI-4.8");
    assert_eq!((r.result, r.level), (Outcome::Failed, Level::Low));
    assert_eq!(
        r.problem,
        "2 setuid/setgid files: /usr/bin/su (setuid, mode 4755, owner uid 0), /usr/bin/wall (setgid, mode 2755, owner uid 0)"
    );
    assert_eq!(r.locations.len(), 2);
    let clean = [Member::File("/usr/bin/ls", 0o755, b"\x7fELF")];
    assert_eq!(check(&run(&clean, &ImageConfig::default(), "a:1"), "CIS-DI-4.8").result, Outcome::Passed);
}

#[test]
fn sudo_caches_host_keys_and_sudoers() {
    let members = [
        Member::Link("/bin", "usr/bin"),
        Member::File("/usr/bin/sudo", 0o4755, b"\x7fELF"),
        Member::File("/etc/sudoers", 0o440, b"root ALL=(ALL:ALL) ALL\n#includedir /etc/sudoers.d\n"),
        Member::File("/etc/sudoers.d/app", 0o440, b"# deploy\napp ALL=(ALL) NOPASSWD: ALL\n"),
        Member::File("/var/cache/apt/archives/curl_7.88.1_amd64.deb", 0o644, &[0u8; 2048]),
        Member::File("/var/cache/apt/archives/lock", 0o640, b""),
        Member::File("/var/lib/apt/lists/lock", 0o640, b""),
        Member::File("/var/cache/apk/APKINDEX.5022a8a2.tar.gz", 0o644, b"x"),
        Member::File("/root/.cache/pip/http/a/b/c", 0o644, b"x"),
        Member::File("/etc/ssh/ssh_host_ed25519_key", 0o600, b"-----BEGIN OPENSSH PRIVATE KEY-----\n"),
        Member::File("/etc/ssh/ssh_host_ed25519_key.pub", 0o644, b"ssh-ed25519 AAAA"),
    ];
    let results = run(&members, &ImageConfig::default(), "a:1");

    let sudo = check(&results, "CG-IMAGE-001");
    assert_eq!((sudo.result, sudo.problem.as_str()), (Outcome::Failed, "installed: /usr/bin/sudo"));

    let caches = check(&results, "CG-IMAGE-002");
    assert_eq!(caches.result, Outcome::Failed);
    assert_eq!(
        caches.problem,
        "/root/.cache/pip: 1 files, 1 KiB (e.g. /root/.cache/pip/http/a/b/c); \
         /var/cache/apk: 1 files, 1 KiB (e.g. /var/cache/apk/APKINDEX.5022a8a2.tar.gz); \
         /var/cache/apt/archives (*.deb): 1 files, 2 KiB (e.g. /var/cache/apt/archives/curl_7.88.1_amd64.deb)"
    );

    let keys = check(&results, "CG-IMAGE-004");
    assert_eq!(
        (keys.result, keys.problem.as_str()),
        (Outcome::Failed, "host private keys shipped in the image: /etc/ssh/ssh_host_ed25519_key")
    );

    let nopasswd = check(&results, "CG-IMAGE-005");
    assert_eq!(
        (nopasswd.result, nopasswd.problem.as_str()),
        (Outcome::Failed, "/etc/sudoers.d/app:2: app ALL=(ALL) NOPASSWD: ALL")
    );

    // The host key is a baseline matter, not a hard-coded secret.
    assert_eq!(check(&results, "CG-PASSWORD-001").result, Outcome::Passed);

    let clean =
        run(&[Member::File("/etc/sudoers", 0o440, b"root ALL=(ALL:ALL) ALL\n")], &ImageConfig::default(), "a:1");
    for id in ["CG-IMAGE-001", "CG-IMAGE-002", "CG-IMAGE-004", "CG-IMAGE-005"] {
        assert_eq!(check(&clean, id).result, Outcome::Passed, "{id}");
    }
}

#[test]
fn latest_tag_from_the_reference() {
    let tag = |reference: &str| check(&run(&[], &ImageConfig::default(), reference), "CG-IMAGE-003").result;
    assert_eq!(tag("nginx:latest"), Outcome::Failed);
    assert_eq!(tag("nginx"), Outcome::Failed);
    assert_eq!(tag("nginx:1.27"), Outcome::Passed);
    assert_eq!(tag("nginx@sha256:0d17b565c37bcbd895e9d92315a05c1c3c9a29f762b011a10c54a66cd53c9b31"), Outcome::Passed);
    assert_eq!(tag("docker-archive:/tmp/image.tar"), Outcome::NotApplicable);
}

#[test]
fn every_check_is_reported_once_in_catalogue_order_and_documented() {
    let results = run(&[], &ImageConfig::default(), "a:1");
    let ids: Vec<&str> = results.iter().map(|r| r.id.as_str()).collect();
    let catalogue: Vec<&str> = catalog::ALL.iter().map(|c| c.id).collect();
    assert_eq!(ids, catalogue);
    let doc = std::fs::read_to_string(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/baseline.md"))
        .expect("docs/baseline.md");
    for c in catalog::ALL {
        assert!(doc.contains(&format!("`{}`", c.id)), "docs/baseline.md does not describe {}", c.id);
    }
}
