//! `cguard shield` with an enforce-mode policy, against real containers: a forbidden exec
//! fails inside the container (`Operation not permitted`, status 126) and its event says
//! `blocked: true`; an allowed exec runs and is not reported; a write to a protected file
//! fails (`Read-only file system`) and is reported blocked; an unprotected file stays
//! writable; a container of a detect-mode policy is not refused anything and its events
//! say `blocked: false`.

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::shield_scenarios::{Container, EVENT_TIMEOUT, QUIET, SERIAL, Shield, docker, image};

/// A second tag of the test image, so that one policy enforces and another only detects.
const ENFORCED_IMAGE: &str = "cguard-test/minbase:enforce";

const POLICIES: &str = r#"[
 {"name":"enforced","mode":"enforce","images":["cguard-test/minbase:enforce"],
  "processWhitelist":["/bin/sh","/usr/bin/sh","/usr/bin/dash","/usr/bin/sleep","/usr/bin/cat","/usr/bin/true",
    "/usr/bin/rm"],
  "fileProtection":["/etc/passwd"]},
 {"name":"detected","mode":"detect","images":["cguard-test/minbase:bookworm"],
  "processWhitelist":["/bin/sh","/usr/bin/sh","/usr/bin/dash","/usr/bin/sleep","/usr/bin/cat","/usr/bin/true"],
  "fileProtection":["/etc/passwd"]}]"#;

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Waits until the container's `/etc/passwd` is a read-only mount: the shield protects
/// the exec allow-list first, so both are in place then.
fn wait_for_protection(c: &Container) {
    let deadline = Instant::now() + EVENT_TIMEOUT;
    loop {
        let out = c.sh("cat /proc/self/mountinfo");
        let mounts = text(&out.stdout);
        let read_only = mounts.lines().any(|l| {
            let fields: Vec<&str> = l.split(' ').collect();
            fields.get(4) == Some(&"/etc/passwd") && fields.get(5).is_some_and(|o| o.split(',').any(|f| f == "ro"))
        });
        if read_only {
            return;
        }
        assert!(Instant::now() < deadline, "/etc/passwd never became read-only in the container:\n{mounts}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn expect_event(shield: &Shield, c: &Container, category: &str, kind: &str, about: &str, image: &str) -> Value {
    let e = shield
        .wait_for(c, category, kind, Some(about), EVENT_TIMEOUT)
        .unwrap_or_else(|| panic!("no {category}/{kind} event about {about} for {}", c.name));
    assert!(e["description"].as_str().unwrap_or_default().contains(about), "{e}");
    assert_eq!((e["image"].as_str(), e["container"]["name"].as_str()), (Some(image), Some(c.name.as_str())), "{e}");
    e
}

#[test]
fn shield_enforce_refuses_forbidden_execs_and_protected_writes() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let detect_image = image();
    let tag = docker(&["tag", detect_image, ENFORCED_IMAGE]);
    assert!(tag.status.success(), "docker tag: {}", text(&tag.stderr));
    let mut shield = Shield::start_with(POLICIES);
    // The backend is chosen at start and said: BPF LSM first; this kernel refuses LSM
    // programs at load, so the shield fails over to fanotify and read-only mounts.
    let lines = shield.stderr_lines();
    let chosen = lines.iter().find(|l| l.contains("enforcement: ")).cloned().unwrap_or_default();
    if shield_bpf::probe_kernel().lsm.is_available() {
        assert!(chosen.contains("enforcement: BPF LSM"), "{lines:?}");
    } else {
        assert!(
            chosen.contains(
                "enforcement: fanotify exec allow-list and read-only protected files (BPF LSM refused at load (EPERM))"
            ),
            "{lines:?}"
        );
    }
    let enforced = Container::run_image("enforced", &["--security-opt", "no-new-privileges"], ENFORCED_IMAGE);
    let detected = Container::run("enforce-detected", &["--security-opt", "no-new-privileges"]);
    wait_for_protection(&enforced);

    // A forbidden program does not run.
    let out = enforced.sh("/usr/bin/id; echo status=$?");
    assert!(text(&out.stderr).contains("Operation not permitted"), "stderr: {}", text(&out.stderr));
    assert!(text(&out.stdout).contains("status=126"), "stdout: {}", text(&out.stdout));
    assert!(!text(&out.stdout).contains("uid="), "id ran: {}", text(&out.stdout));
    let e = expect_event(&shield, &enforced, "process", "abnormal-program", "/usr/bin/id", ENFORCED_IMAGE);
    assert_eq!(e["blocked"], true, "{e}");

    // An allowed program runs.
    let out = enforced.sh("/usr/bin/true && echo ran");
    assert_eq!((out.status.success(), text(&out.stdout).trim()), (true, "ran"), "{}", text(&out.stderr));

    // A protected file cannot be written; another file can.
    let out = enforced.sh("echo intruder >> /etc/passwd");
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("Read-only file system"), "stderr: {}", text(&out.stderr));
    let e = expect_event(&shield, &enforced, "file", "file-modified", "/etc/passwd", ENFORCED_IMAGE);
    assert_eq!(e["blocked"], true, "{e}");
    // Removing it is refused too (a mount point: EBUSY), and reported blocked.
    let out = enforced.sh("rm -f /etc/passwd");
    assert!(!out.status.success(), "rm succeeded");
    assert!(text(&out.stderr).contains("Device or resource busy"), "stderr: {}", text(&out.stderr));
    let e = expect_event(
        &shield,
        &enforced,
        "file",
        "file-modified",
        "/etc/passwd, protected by policy enforced, was modified (unlink",
        ENFORCED_IMAGE,
    );
    assert_eq!(e["blocked"], true, "{e}");
    let out = enforced.sh("echo extra:x:4242: >> /etc/group && cat /etc/group");
    assert!(out.status.success() && text(&out.stdout).contains("extra:x:4242:"), "{}", text(&out.stderr));

    // The detect-mode container is refused nothing, and says so.
    let out = detected.sh("/usr/bin/id && echo intruder >> /etc/passwd && echo done");
    assert!(out.status.success() && text(&out.stdout).contains("uid=0"), "{}", text(&out.stderr));
    let e = expect_event(&shield, &detected, "process", "abnormal-program", "/usr/bin/id", detect_image);
    assert_eq!(e["blocked"], false, "{e}");
    let e = expect_event(&shield, &detected, "file", "file-modified", "/etc/passwd", detect_image);
    assert_eq!(e["blocked"], false, "{e}");

    // Exactly the three refusals of the enforced container: no unblocked duplicate of the
    // refused exec, nothing for the allowed execs or the unprotected file.
    std::thread::sleep(QUIET);
    let events = shield.events_of(&enforced.id);
    let kinds: Vec<(&str, &str, bool)> = events
        .iter()
        .map(|e| {
            (
                e["category"].as_str().unwrap_or(""),
                e["type"].as_str().unwrap_or(""),
                e["blocked"].as_bool() == Some(true),
            )
        })
        .collect();
    assert_eq!(
        kinds,
        [("process", "abnormal-program", true), ("file", "file-modified", true), ("file", "file-modified", true)],
        "events of the enforced container: {events:#?}"
    );
    assert!(shield.stop(), "the shield exits cleanly");
    // Execs are free again once the shield stopped (no marks left); the file stays read-only.
    let out = enforced.sh("/usr/bin/id");
    assert!(out.status.success() && text(&out.stdout).contains("uid=0"), "{}", text(&out.stderr));
}

/// An enforced container started with the engine's defaults that runs only programs its
/// policy lists gives no event at all, from its creation through a restart (the runtime's
/// own start is not one of its programs) and `docker exec`; the programs run.
#[test]
fn shield_enforce_stays_quiet_for_a_default_container_running_listed_programs() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let tag = docker(&["tag", image(), ENFORCED_IMAGE]);
    assert!(tag.status.success(), "docker tag: {}", text(&tag.stderr));
    let shield = Shield::start_with(POLICIES);
    let c = Container::run_image("enforced-listed", &[], ENFORCED_IMAGE);
    wait_for_protection(&c);
    let out = c.sh("cat /etc/hostname > /dev/null && true && echo ran");
    assert_eq!((out.status.success(), text(&out.stdout).trim()), (true, "ran"), "{}", text(&out.stderr));
    let restart = docker(&["restart", "-t", "0", &c.id]);
    assert!(restart.status.success(), "docker restart: {}", text(&restart.stderr));
    wait_for_protection(&c);
    let out = c.sh("true && echo ran");
    assert_eq!((out.status.success(), text(&out.stdout).trim()), (true, "ran"), "{}", text(&out.stderr));
    // The shield was watching: the same forbidden exec in the container is refused and
    // reported, and that is its only event.
    let out = c.sh("/usr/bin/id; echo status=$?");
    assert!(text(&out.stdout).contains("status=126"), "stdout: {}", text(&out.stdout));
    expect_event(&shield, &c, "process", "abnormal-program", "/usr/bin/id", ENFORCED_IMAGE);
    std::thread::sleep(QUIET);
    let events = shield.events_of(&c.id);
    let descriptions: Vec<&str> = events.iter().filter_map(|e| e["description"].as_str()).collect();
    assert_eq!(events.len(), 1, "events of an enforced default container running listed programs: {descriptions:#?}");
}
