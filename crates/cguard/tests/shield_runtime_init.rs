//! The runtime's own start, seen from a container. Where the runtime runs in a pid
//! namespace of its own (Kubernetes nodes in containers: kind, Docker in Docker), the
//! kernel shows runc's init (`runc` running itself again as `/proc/self/exe init`, then as
//! `/dev/fd/N`) at a pid-namespace level the shield watches. It is the runtime's program,
//! not the container's: it must give no event, while a container process that runs
//! `/proc/self/exe init` itself is judged like any other exec.
//!
//! runc runs under `unshare --pid` with a bundle where CRI-O keeps its containers'
//! (`/run/containers/storage/overlay-containers/ID/userdata`), whose image annotation names
//! the test image: the shield describes the container from it and the test image's
//! policy applies. Whether the shield sees runc's init as the container's is a race: with
//! runc 1.1 the init usually is still in runc's own cgroup when the shield handles its
//! exec, and only joins the container's a moment later. Measured here before the
//! runtime-init rule, 20 containers each: no false event on an idle machine, 3 (`/dev/fd/6
//! was executed`, argv `[runc, init]`) with two CPU-bound processes beside; after it, none
//! in either case. So this test does not fail reliably without the rule (the rule's cases
//! are unit tests in `shield::runtime::setup`); it guards both sides: no event for the
//! runtime's init, one for the container's own `/proc/self/exe init`.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use serde_json::Value;

use crate::shield_scenarios::{EVENT_TIMEOUT, POLICY, QUIET, SERIAL, Shield, image};

const CRIO_CONTAINERS: &str = "/run/containers/storage/overlay-containers";
/// The cgroup the test's containers are made under, in every hierarchy.
const CGROUP_PARENT: &str = "cguard-nested";

/// A container run by runc in a pid namespace of its own, its bundle and state removed on
/// drop.
struct NestedContainer {
    id: String,
    bundle: PathBuf,
    state: tempfile::TempDir,
}

impl NestedContainer {
    /// Runs `script` with `sh -c` in a container of the test image's root file system
    /// (read-only), to its end.
    fn run(script: &str) -> NestedContainer {
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock").as_nanos();
        let id = format!("{nanos:032x}{:032x}", std::process::id());
        let bundle = Path::new(CRIO_CONTAINERS).join(&id).join("userdata");
        std::fs::create_dir_all(&bundle).expect("bundle directory");
        let state = tempfile::tempdir().expect("runc state directory");
        let container = NestedContainer { id, bundle, state };
        let spec = Command::new("runc").arg("spec").arg("--bundle").arg(&container.bundle).output().expect("runc spec");
        assert!(spec.status.success(), "runc spec: {}", String::from_utf8_lossy(&spec.stderr));
        let path = container.bundle.join("config.json");
        let mut spec: Value = serde_json::from_slice(&std::fs::read(&path).expect("config.json")).expect("spec");
        // runc takes only an absolute root without symlinks on the way.
        let root = crate::common::images().join("minbase-root").canonicalize().expect("minbase-root");
        spec["root"] = serde_json::json!({"path": root, "readonly": true});
        spec["process"]["terminal"] = false.into();
        spec["process"]["args"] = serde_json::json!(["sh", "-c", script]);
        spec["linux"]["cgroupsPath"] = format!("/{CGROUP_PARENT}/{}", container.id).into();
        spec["annotations"] = serde_json::json!({
            "io.kubernetes.cri-o.ImageName": image(),
            "io.kubernetes.container.name": "nested-runtime",
        });
        std::fs::write(&path, serde_json::to_vec_pretty(&spec).expect("spec")).expect("config.json");
        let out = Command::new("unshare")
            .args(["--pid", "--fork", "--kill-child", "--mount-proc", "runc", "--root"])
            .arg(container.state.path())
            .arg("run")
            .arg("--bundle")
            .arg(&container.bundle)
            .arg(&container.id)
            .stdin(Stdio::null())
            .output()
            .expect("unshare runs runc");
        eprintln!(
            "[nested] exit {:?}: {}{}",
            out.status.code(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        container
    }
}

impl Drop for NestedContainer {
    fn drop(&mut self) {
        let _ = Command::new("runc")
            .arg("--root")
            .arg(self.state.path())
            .args(["delete", "--force", &self.id])
            .stderr(Stdio::null())
            .status();
        let _ = std::fs::remove_dir_all(Path::new(CRIO_CONTAINERS).join(&self.id));
        // runc removes the container's cgroups, not their parent (empty by now).
        for hierarchy in std::fs::read_dir("/sys/fs/cgroup").into_iter().flatten().flatten() {
            let _ = std::fs::remove_dir(hierarchy.path().join(CGROUP_PARENT));
        }
    }
}

fn argv(event: &Value) -> Vec<String> {
    event["process_tree"][0]["argv"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).map(str::to_owned).collect())
        .unwrap_or_default()
}

#[test]
fn shield_judges_container_programs_not_the_runtimes_own_init() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let shield = Shield::start_with(POLICY);
    // Listed programs (sh, cat, true), the container's own `/proc/self/exe init` (sh run
    // again: judged), and an unlisted one (id) last, to know when all were handled.
    let c =
        NestedContainer::run("cat /etc/hostname > /dev/null; true; /proc/self/exe init 2>/dev/null; id > /dev/null");
    let deadline = Instant::now() + EVENT_TIMEOUT;
    let has = |events: &[Value], text: &str| {
        events.iter().any(|e| e["description"].as_str().is_some_and(|d| d.contains(text)))
    };
    while !has(&shield.events_of(&c.id), "/usr/bin/id was executed") && Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    std::thread::sleep(QUIET);
    let events: Vec<Value> = shield.events_of(&c.id).into_iter().filter(|e| e["category"] != "environment").collect();
    let shown: Vec<String> =
        events.iter().map(|e| format!("{} {:?}", e["description"].as_str().unwrap_or(""), argv(e))).collect();
    assert!(has(&events, "/usr/bin/id was executed"), "the container was not attributed: {shown:#?}");
    assert!(events.iter().all(|e| e["container"]["name"] == "nested-runtime"), "{shown:#?}");
    // The container's own `/proc/self/exe init` is judged.
    let own_init = events.iter().any(|e| {
        e["description"].as_str().is_some_and(|d| d.contains("/proc/self/exe was executed"))
            && argv(e) == ["/proc/self/exe", "init"]
    });
    assert!(own_init, "the container's own /proc/self/exe init was not reported: {shown:#?}");
    // Those two only: nothing for runc's init, whatever file it ran itself from.
    assert_eq!(events.len(), 2, "events beyond the container's two unlisted execs: {shown:#?}");
}
