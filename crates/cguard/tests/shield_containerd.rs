//! Containers the Docker engine does not know, run by containerd itself (`ctr`, as a
//! Kubernetes node's containerd runs pods), on the engine's own containerd instance: the
//! shield, started as on a node without the engine, describes them from containerd's API
//! (name, image, pod and namespace labels), and `cguard-runc` as containerd's runc binary
//! protects them before their first program.

use std::process::{Command, Output, Stdio};

use serde_json::Value;

use crate::shield_scenarios::{EVENT_TIMEOUT, SERIAL, Shield, docker, image};

/// The Docker engine's containerd (a node's own containerd listens on
/// `/run/containerd/containerd.sock`; the shield asks both).
const SOCKET: &str = "/var/run/docker/containerd/containerd.sock";
/// The containerd namespace of these tests' containers.
const NAMESPACE: &str = "cguard-test";
const ENFORCED_IMAGE: &str = "cguard-test/minbase:enforce";
const WRAPPER: &str = "/usr/local/lib/cguard/cguard-runc";

const POLICIES: &str = r#"[
 {"name":"ctr-detect","mode":"detect","images":["cguard-test/minbase:bookworm"],
  "processWhitelist":["/bin/sh","/usr/bin/sh","/usr/bin/dash","/usr/bin/sleep","/usr/bin/true"]},
 {"name":"ctr-enforce","mode":"enforce","images":["cguard-test/minbase:enforce"],
  "processWhitelist":["/bin/sh","/usr/bin/sh","/usr/bin/dash","/usr/bin/true"],
  "fileProtection":["/etc/passwd"]}]"#;

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn ctr(args: &[&str]) -> Output {
    Command::new("ctr")
        .args(["--address", SOCKET, "--namespace", NAMESPACE])
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("ctr runs")
}

/// The test image's two tags, in containerd's namespace (as `docker.io/…` references).
fn import_images() {
    let listed = text(&ctr(&["images", "ls", "-q"]).stdout);
    if listed.contains(&format!("docker.io/{ENFORCED_IMAGE}")) && listed.contains(&format!("docker.io/{}", image())) {
        return;
    }
    let tag = docker(&["tag", image(), ENFORCED_IMAGE]);
    assert!(tag.status.success(), "docker tag: {}", text(&tag.stderr));
    let archive = tempfile::NamedTempFile::new().expect("temp file");
    let path = archive.path().to_string_lossy().into_owned();
    let save = docker(&["save", "-o", &path, image(), ENFORCED_IMAGE]);
    assert!(save.status.success(), "docker save: {}", text(&save.stderr));
    let import = ctr(&["images", "import", &path]);
    assert!(import.status.success(), "ctr images import: {}", text(&import.stderr));
}

/// A containerd container (killed and removed on drop), with the labels the CRI plugin
/// puts on a pod's container.
struct CtrContainer {
    id: String,
}

impl CtrContainer {
    fn id(seed: u8) -> String {
        format!("{:02x}{:062x}", seed, std::process::id())
    }

    fn clean(id: &str) {
        let _ = ctr(&["task", "kill", "--signal", "SIGKILL", id]);
        for _ in 0..50 {
            if ctr(&["task", "rm", "--force", id]).status.success() || !ctr(&["task", "ls", "-q"]).stdout.is_empty() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        let _ = ctr(&["containers", "rm", id]);
    }

    /// Runs `script` in the background in a container of `image`.
    fn run(seed: u8, image: &str, script: &str) -> (CtrContainer, Output) {
        let id = CtrContainer::id(seed);
        CtrContainer::clean(&id);
        let reference = format!("docker.io/{image}");
        let mut args = vec![
            "run",
            "--label",
            "io.kubernetes.pod.name=web-0",
            "--label",
            "io.kubernetes.pod.namespace=shop",
            "--label",
            "io.kubernetes.container.name=app",
        ];
        args.push("--detach");
        args.extend([reference.as_str(), id.as_str(), "sh", "-c", script]);
        let out = ctr(&args);
        (CtrContainer { id }, out)
    }
}

impl Drop for CtrContainer {
    fn drop(&mut self) {
        CtrContainer::clean(&self.id);
    }
}

fn wait_for(shield: &Shield, id: &str, kind: &str, about: &str) -> Value {
    let deadline = std::time::Instant::now() + EVENT_TIMEOUT;
    loop {
        let found = shield
            .events_of(id)
            .into_iter()
            .find(|e| e["type"] == kind && e["description"].as_str().unwrap_or_default().contains(about));
        if let Some(e) = found {
            return e;
        }
        assert!(std::time::Instant::now() < deadline, "no {kind} event about {about}: {:#?}", shield.events_of(id));
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

fn assert_described(e: &Value, id: &str, image: &str) {
    let container = &e["container"];
    assert_eq!(
        (container["id"].as_str(), container["name"].as_str(), e["image"].as_str()),
        (Some(id), Some("app"), Some(format!("docker.io/{image}").as_str())),
        "{e}"
    );
    assert_eq!((container["pod"].as_str(), container["namespace"].as_str()), (Some("web-0"), Some("shop")), "{e}");
}

#[test]
fn containerd_containers_are_described_and_protected_before_their_first_program() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    import_images();
    crate::shield_runtime::install_wrapper();
    // containerd starts the shim, and the shim the runtime, with containerd's environment:
    // the wrapper asks the default socket. The shield runs as on a node without the Docker
    // engine, whose socket path is an empty directory (as the DaemonSet's volume leaves it).
    let no_engine = tempfile::tempdir().expect("temp dir");
    let shield = Shield::start_args(
        POLICIES,
        Some(std::path::Path::new("/run/cguard/shield.sock")),
        &["--docker-socket".as_ref(), no_engine.path().as_os_str()],
    );
    let lines = shield.stderr_lines();
    let described = format!("no Docker engine at {}; containerd at ", no_engine.path().display());
    assert!(lines.iter().any(|l| l.contains(&described)), "{lines:?}");

    // A container Docker does not know, described by containerd.
    let (watched, out) = CtrContainer::run(1, image(), "sleep 1; /usr/bin/id; sleep 300");
    assert!(out.status.success(), "ctr run: {}", text(&out.stderr));
    assert!(!docker(&["inspect", &watched.id]).status.success(), "the engine knows the container");
    let e = wait_for(&shield, &watched.id, "abnormal-program", "/usr/bin/id");
    assert_described(&e, &watched.id, image());
    assert_eq!(e["blocked"], false, "{e}");

    // With cguard-runc as containerd's runc binary: protected before its first program.
    let script = "echo intruder >> /etc/passwd; echo write=$?; /usr/bin/id; echo id=$?";
    let id = CtrContainer::id(2);
    CtrContainer::clean(&id);
    let out = Command::new("ctr")
        .args(["--address", SOCKET, "--namespace", NAMESPACE])
        .args(["run", "--rm", "--label", "io.kubernetes.pod.name=web-0", "--label", "io.kubernetes.pod.namespace=shop"])
        .args(["--label", "io.kubernetes.container.name=app", "--runc-binary", WRAPPER])
        .arg(format!("docker.io/{ENFORCED_IMAGE}"))
        .arg(&id)
        .args(["sh", "-c", script])
        .stdin(Stdio::null())
        .output()
        .expect("ctr runs");
    let _held = CtrContainer { id: id.clone() };
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(stdout.contains("write=2") && stdout.contains("id=126"), "{stdout} {stderr}");
    assert!(!stdout.contains("uid="), "{stdout}");
    let e = wait_for(&shield, &id, "file-modified", "/etc/passwd");
    assert_described(&e, &id, ENFORCED_IMAGE);
    assert_eq!(e["blocked"], true, "{e}");
    let e = wait_for(&shield, &id, "abnormal-program", "/usr/bin/id");
    assert_eq!(e["blocked"], true, "{e}");
}

#[test]
fn containerd_images_are_among_the_node_facts() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    import_images();
    let engines = shield::engines::Engines {
        docker: shield::docker::DockerClient::new(shield::docker::DEFAULT_SOCKET),
        containerd: shield::containerd::ContainerdClient::new(vec![SOCKET.into()]),
    };
    let facts = shield::connected::node_facts(&engines, None);
    let images: Vec<&str> = facts["images"].as_array().expect("images").iter().filter_map(Value::as_str).collect();
    // The engine names its images without the registry; containerd with it, and by digest.
    assert!(images.contains(&ENFORCED_IMAGE), "{images:?}");
    assert!(images.contains(&format!("docker.io/{ENFORCED_IMAGE}").as_str()), "{images:?}");
    assert!(images.iter().any(|i| i.starts_with("docker.io/cguard-test/minbase@sha256:")), "{images:?}");
    assert!(images.windows(2).all(|w| w[0] < w[1]), "sorted, without duplicates: {images:?}");
}
