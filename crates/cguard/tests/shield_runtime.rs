//! `cguard-runc`, the runtime wrapper, with a real Docker engine (runtime `cguard`, which
//! `scripts/start-services.sh` registers): a container of an enforce-mode policy is
//! protected before its first program runs. Its very first command cannot write a
//! protected file or run a forbidden program, which the plain `runc` runtime lets through
//! (the engine's start event comes after the program has started); a container whose own
//! program is forbidden does not start; a detect-mode container runs untouched; with no
//! shield listening the wrapper is plain `runc`.

use std::path::Path;
use std::process::Output;

use serde_json::Value;

use crate::shield_scenarios::{Container, EVENT_TIMEOUT, QUIET, SERIAL, Shield, docker, image};

/// Where the engine's `cguard` runtime points (see `scripts/start-services.sh`).
const WRAPPER: &str = "/usr/local/lib/cguard/cguard-runc";
/// The socket `cguard-runc` asks, by default.
const SOCKET: &str = "/run/cguard/shield.sock";
const ENFORCED_IMAGE: &str = "cguard-test/minbase:enforce";

const POLICIES: &str = r#"[
 {"name":"enforced","mode":"enforce","images":["cguard-test/minbase:enforce"],
  "processWhitelist":["/bin/sh","/usr/bin/sh","/usr/bin/dash","/usr/bin/cat","/usr/bin/true"],
  "fileProtection":["/etc/passwd"]},
 {"name":"detected","mode":"detect","images":["cguard-test/minbase:bookworm"],
  "processWhitelist":["/bin/sh","/usr/bin/sh","/usr/bin/dash","/usr/bin/cat","/usr/bin/true"],
  "fileProtection":["/etc/passwd"]}]"#;

/// The first command of each container: a write to the protected file, then a forbidden
/// program, each with its status.
const FIRST_COMMAND: &str = "echo intruder >> /etc/passwd; echo write=$?; /usr/bin/id; echo id=$?";

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Points the engine's `cguard` runtime at the binary under test.
pub(crate) fn install_wrapper() {
    let runtimes = docker(&["info", "--format", "{{json .Runtimes}}"]);
    assert!(
        text(&runtimes.stdout).contains("\"cguard\""),
        "the engine has no `cguard` runtime: run scripts/start-services.sh ({})",
        text(&runtimes.stdout)
    );
    let dir = Path::new(WRAPPER).parent().expect("a directory");
    std::fs::create_dir_all(dir).expect("wrapper directory");
    let staged = dir.join(format!(".cguard-runc.{}", std::process::id()));
    let _ = std::fs::remove_file(&staged);
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_cguard"), &staged).expect("symlink");
    std::fs::rename(&staged, WRAPPER).expect("wrapper in place");
}

/// Runs `FIRST_COMMAND` (or `command`) as the container's own program, to its end; the
/// container is kept (for its id) and removed on drop.
fn run_once(label: &str, runtime: &str, image: &str, command: &[&str]) -> (Container, Output) {
    let name = format!("cg-runtime-{label}-{}", std::process::id());
    let _ = docker(&["rm", "-f", &name]);
    let mut args = vec!["run", "--runtime", runtime, "--network", "none", "--name", &name, image];
    args.extend_from_slice(command);
    let out = docker(&args);
    let id = text(&docker(&["inspect", "--format", "{{.Id}}", &name]).stdout).trim().to_owned();
    assert_eq!(id.len(), 64, "container {name} was not created: {}", text(&out.stderr));
    (Container { id, name }, out)
}

fn expect_blocked(shield: &Shield, c: &Container, category: &str, kind: &str, about: &str) -> Value {
    let e = shield
        .wait_for(c, category, kind, Some(about), EVENT_TIMEOUT)
        .unwrap_or_else(|| panic!("no {category}/{kind} event about {about} for {}", c.name));
    assert_eq!((e["image"].as_str(), e["container"]["name"].as_str()), (Some(ENFORCED_IMAGE), Some(c.name.as_str())));
    assert_eq!(e["blocked"], true, "{e}");
    e
}

#[test]
fn cguard_runc_protects_a_container_before_its_first_program() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let tag = docker(&["tag", image(), ENFORCED_IMAGE]);
    assert!(tag.status.success(), "docker tag: {}", text(&tag.stderr));
    install_wrapper();

    // No shield listening: the wrapper is plain runc.
    assert!(!Path::new(SOCKET).exists() || std::os::unix::net::UnixStream::connect(SOCKET).is_err());
    let (_free, out) = run_once("free", "cguard", ENFORCED_IMAGE, &["sh", "-c", FIRST_COMMAND]);
    assert!(text(&out.stdout).contains("write=0") && text(&out.stdout).contains("id=0"), "{}", text(&out.stderr));

    // A container created before the shield starts is known from the engine's list, which
    // lacks its settings: its environment is checked from `inspect`, not from the list.
    let careful = format!("cg-runtime-careful-{}", std::process::id());
    let _ = docker(&["rm", "-f", &careful]);
    let created = docker(&[
        "create",
        "--runtime",
        "cguard",
        "--network",
        "none",
        "--security-opt",
        "no-new-privileges",
        "--name",
        &careful,
        image(),
        "sleep",
        "300",
    ]);
    assert!(created.status.success(), "docker create: {}", text(&created.stderr));
    let careful = Container { id: text(&created.stdout).trim().to_owned(), name: careful };

    let mut shield = Shield::start_listening(POLICIES, Some(Path::new(SOCKET)));
    let lines = shield.stderr_lines();
    assert!(lines.iter().any(|l| l.contains(&format!("cguard-runc answered on {SOCKET}"))), "{lines:?}");

    // Through the wrapper, the container's first command is already refused, each time.
    let mut held = Vec::new();
    for round in 0..3 {
        let (c, out) = run_once(&format!("held-{round}"), "cguard", ENFORCED_IMAGE, &["sh", "-c", FIRST_COMMAND]);
        let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
        assert!(stdout.contains("write=2") && stdout.contains("id=126"), "round {round}: {stdout} {stderr}");
        assert!(stderr.contains("Read-only file system"), "round {round}: {stderr}");
        assert!(stderr.contains("Operation not permitted") && !stdout.contains("uid="), "round {round}: {stderr}");
        expect_blocked(&shield, &c, "file", "file-modified", "/etc/passwd");
        expect_blocked(&shield, &c, "process", "abnormal-program", "/usr/bin/id");
        held.push(c);
    }

    // A container whose own program is forbidden does not start.
    let (c, out) = run_once("forbidden", "cguard", ENFORCED_IMAGE, &["/usr/bin/id"]);
    assert!(!out.status.success() && !text(&out.stdout).contains("uid="), "{}", text(&out.stdout));
    expect_blocked(&shield, &c, "process", "abnormal-program", "/usr/bin/id");

    // A detect-mode container goes through the wrapper untouched, and is reported.
    let (c, out) = run_once("detected", "cguard", image(), &["sh", "-c", FIRST_COMMAND]);
    assert!(text(&out.stdout).contains("write=0") && text(&out.stdout).contains("id=0"), "{}", text(&out.stderr));
    let e = shield.wait_for(&c, "process", "abnormal-program", Some("/usr/bin/id"), EVENT_TIMEOUT).expect("event");
    assert_eq!((e["blocked"].as_bool(), e["image"].as_str()), (Some(false), Some(image())), "{e}");

    let started = docker(&["start", &careful.id]);
    assert!(started.status.success(), "docker start: {}", text(&started.stderr));

    // Nothing else was reported for the held containers: each write and exec once.
    std::thread::sleep(QUIET);
    let careful_events = shield.events_of(&careful.id);
    assert!(
        careful_events.iter().all(|e| e["type"] != "no-new-privileges"),
        "a container with no-new-privileges is reported without: {careful_events:#?}"
    );
    for (round, c) in held.iter().enumerate() {
        let kinds: Vec<(String, String, bool)> = shield
            .events_of(&c.id)
            .iter()
            .map(|e| {
                (
                    e["category"].as_str().unwrap_or("").to_owned(),
                    e["type"].as_str().unwrap_or("").to_owned(),
                    e["blocked"] == true,
                )
            })
            .filter(|(category, _, _)| category != "environment")
            .collect();
        assert_eq!(
            kinds,
            [
                ("file".to_owned(), "file-modified".to_owned(), true),
                ("process".to_owned(), "abnormal-program".to_owned(), true)
            ],
            "round {round}"
        );
    }
    assert!(shield.stop(), "the shield exits cleanly");
    assert!(!Path::new(SOCKET).exists(), "the socket is removed at stop");
}
