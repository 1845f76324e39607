//! The Docker engine client and container attribution against the real engine.

use std::process::{Command, Stdio};
use std::time::Duration;

use shield::docker::{ContainerAction, DEFAULT_SOCKET, DockerClient};

const IMAGE: &str = "cguard-test/minbase:bookworm";

fn docker(args: &[&str]) -> String {
    let out = Command::new("docker").args(args).stdin(Stdio::null()).output().expect("docker runs");
    assert!(out.status.success(), "docker {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

fn ensure_image() {
    let ok = Command::new("docker").args(["image", "inspect", IMAGE]).output().is_ok_and(|o| o.status.success());
    if !ok {
        let archive = concat!(env!("CARGO_MANIFEST_DIR"), "/../../.cache/images/minbase.tar");
        docker(&["load", "-i", archive]);
    }
}

struct Removed(String);

impl Drop for Removed {
    fn drop(&mut self) {
        let _ = Command::new("docker").args(["rm", "-f", &self.0]).output();
    }
}

#[test]
fn inspect_reads_a_created_containers_configuration() {
    ensure_image();
    let name = format!("cg-shield-inspect-{}", std::process::id());
    let id = docker(&[
        "create",
        "--network",
        "none",
        "--name",
        &name,
        "--cap-add",
        "SYS_ADMIN",
        "--security-opt",
        "seccomp=unconfined",
        "--security-opt",
        "no-new-privileges=false",
        "-v",
        "/etc:/host/etc:ro",
        IMAGE,
        "sleep",
        "1",
    ]);
    let _cleanup = Removed(id.clone());
    let client = DockerClient::new(DEFAULT_SOCKET);
    let info = client.inspect(&id).unwrap().expect("the container exists");
    assert_eq!((info.id.as_str(), info.name.as_str(), info.image.as_str()), (id.as_str(), name.as_str(), IMAGE));
    assert!(info.image_id.starts_with("sha256:"));
    assert!(!info.running);
    assert_eq!(info.cap_add, vec!["CAP_SYS_ADMIN"]);
    assert!(info.security_opt.contains(&"seccomp=unconfined".to_owned()));
    let mount = info.mounts.iter().find(|m| m.destination == "/host/etc").expect("the bind mount");
    assert_eq!((mount.kind.as_str(), mount.source.as_str(), mount.read_write), ("bind", "/etc", false));
    // The engine keeps the option as written: an explicit choice, reported.
    assert_eq!(shield::environment::no_new_privileges(&info), shield::environment::NoNewPrivileges::Unset);
    let settings = shield::environment::Settings::default();
    let kinds: Vec<_> = shield::environment::check(&info, &settings).iter().map(|f| f.kind).collect();
    assert_eq!(kinds, vec!["capabilities", "seccomp-unconfined", "no-new-privileges", "sensitive-mount"]);
    // The list describes it too (without its security settings), and so does `summary`.
    let listed = client.list().unwrap().into_iter().find(|c| c.id == id).expect("listed");
    assert_eq!((listed.name.as_str(), listed.image.as_str(), listed.running), (name.as_str(), IMAGE, false));
    assert_eq!(listed.mounts, info.mounts);
    assert_eq!(client.summary(&id).unwrap(), Some(listed));
    assert_eq!(client.summary(&"0".repeat(64)).unwrap(), None);
    assert_eq!(client.inspect(&"0".repeat(64)).unwrap(), None);
}

#[test]
fn a_running_containers_process_is_attributed_and_its_start_is_streamed() {
    ensure_image();
    let client = DockerClient::new(DEFAULT_SOCKET);
    let mut stream = client.events().unwrap();
    let stopper = stream.stopper().unwrap();
    let id = docker(&["run", "-d", "--network", "none", IMAGE, "sleep", "60"]);
    let _cleanup = Removed(id.clone());
    let pid: u32 = docker(&["inspect", "-f", "{{.State.Pid}}", &id]).parse().unwrap();
    assert_eq!(shield::attribution::container_id_of_pid(pid).as_deref(), Some(id.as_str()));
    assert_eq!(shield::attribution::container_id_of_pid(std::process::id()), None);
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        while let Some(event) = stream.next_event() {
            if tx.send(event).is_err() {
                break;
            }
        }
    });
    let mut seen = Vec::new();
    while let Ok(event) = rx.recv_timeout(Duration::from_secs(10)) {
        if event.id == id {
            seen.push(event.action);
        }
        if seen.contains(&ContainerAction::Start) {
            break;
        }
    }
    stopper.stop();
    assert_eq!(seen, vec![ContainerAction::Create, ContainerAction::Start]);
}
