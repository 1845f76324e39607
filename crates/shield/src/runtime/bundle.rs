//! A container's OCI bundle (`config.json`, the runtime spec every runc-based runtime
//! writes): what it says of the container, for containers the Docker engine does not know
//! (Kubernetes pods run by containerd's CRI plugin or by CRI-O, `ctr run`), and of any
//! container at `runc start`, before the engine answers `inspect`.
//!
//! Kubernetes attributes are read from the annotations the CRI implementations write:
//! containerd `io.kubernetes.cri.{container-name,image-name,sandbox-name,sandbox-namespace}`,
//! CRI-O `io.kubernetes.{container.name,pod.name,pod.namespace}` and
//! `io.kubernetes.cri-o.ImageName`.

use std::io::Read;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::docker::{ContainerInfo, Mount};
use crate::environment::DEFAULT_CAPABILITIES;

/// Largest `config.json` read (a spec is a few kilobytes; one with thousands of mounts or
/// annotations stays far below this).
const MAX_SPEC: u64 = 4 << 20;

/// Where runtimes keep the bundles of running containers, by namespace directory: the
/// system containerd (`/run/containerd`), the Docker engine's own containerd, and CRI-O
/// (`…/overlay-containers/<id>/userdata`).
const CONTAINERD_TASK_DIRS: &[&str] =
    &["/run/containerd/io.containerd.runtime.v2.task", "/run/docker/containerd/daemon/io.containerd.runtime.v2.task"];
const CRIO_CONTAINERS: &str = "/run/containers/storage/overlay-containers";

/// The bundle of a running container, by id, among the runtimes' state directories (any
/// containerd namespace). `None` when no runtime here has one.
pub fn find_bundle(id: &str) -> Option<PathBuf> {
    if !super::is_valid_id(id) {
        return None;
    }
    for dir in CONTAINERD_TASK_DIRS {
        let Ok(namespaces) = std::fs::read_dir(dir) else { continue };
        for ns in namespaces.flatten() {
            let bundle = ns.path().join(id);
            if bundle.join("config.json").is_file() {
                return Some(bundle);
            }
        }
    }
    let crio = Path::new(CRIO_CONTAINERS).join(id).join("userdata");
    crio.join("config.json").is_file().then_some(crio)
}

/// Reads `BUNDLE/config.json`.
pub fn read_spec(bundle: &Path) -> std::io::Result<Value> {
    let file = std::fs::File::open(bundle.join("config.json"))?;
    let mut text = Vec::new();
    file.take(MAX_SPEC + 1).read_to_end(&mut text)?;
    if text.len() as u64 > MAX_SPEC {
        return Err(std::io::Error::other("config.json is larger than 4 MiB"));
    }
    serde_json::from_slice(&text).map_err(std::io::Error::other)
}

fn annotation<'a>(spec: &'a Value, names: &[&str]) -> Option<&'a str> {
    names.iter().find_map(|n| spec["annotations"][*n].as_str()).filter(|v| !v.is_empty() && v.len() <= 512)
}

/// Whether the spec is a Kubernetes pod's sandbox (its pause container), not one of the
/// pod's containers.
pub fn is_sandbox(spec: &Value) -> bool {
    annotation(spec, &["io.kubernetes.cri.container-type", "io.kubernetes.cri-o.ContainerType"]) == Some("sandbox")
}

/// Whether the container shares the host's pid namespace (the spec creates no pid
/// namespace, or joins pid 1's).
pub fn shares_host_pid(spec: &Value) -> bool {
    let Some(namespaces) = spec["linux"]["namespaces"].as_array() else { return true };
    match namespaces.iter().find(|n| n["type"] == "pid") {
        None => true,
        Some(ns) => ns["path"].as_str() == Some("/proc/1/ns/pid"),
    }
}

/// What the spec tells of container `id`: name and image (from the CRI annotations, empty
/// without them), pod and namespace, mounts, added capabilities, seccomp and
/// `no-new-privileges`, and whether it shares the host's pid namespace. The process is not
/// running according to the result (`pid` 0): the caller knows its pid.
pub fn container_info(id: &str, spec: &Value) -> ContainerInfo {
    let s = |v: &Value| v.as_str().unwrap_or_default().to_owned();
    let mounts = spec["mounts"]
        .as_array()
        .map(|list| {
            list.iter()
                .filter(|m| m["source"].as_str().is_some_and(|s| s.starts_with('/')))
                .map(|m| {
                    let options: Vec<&str> = m["options"]
                        .as_array()
                        .map(|o| o.iter().filter_map(Value::as_str).collect())
                        .unwrap_or_default();
                    let bind = options.iter().any(|o| *o == "bind" || *o == "rbind") || m["type"] == "bind";
                    Mount {
                        kind: if bind { "bind".to_owned() } else { s(&m["type"]) },
                        source: s(&m["source"]),
                        destination: s(&m["destination"]),
                        read_write: !options.contains(&"ro"),
                    }
                })
                .filter(|m| m.kind == "bind")
                .collect()
        })
        .unwrap_or_default();
    let bounding: Vec<String> = spec["process"]["capabilities"]["bounding"]
        .as_array()
        .map(|caps| caps.iter().filter_map(Value::as_str).map(str::to_owned).collect())
        .unwrap_or_default();
    let cap_add: Vec<String> =
        bounding.into_iter().filter(|c| !DEFAULT_CAPABILITIES.contains(&c.trim_start_matches("CAP_"))).collect();
    let mut security_opt = Vec::new();
    if spec["linux"]["seccomp"].is_null() {
        security_opt.push("seccomp=unconfined".to_owned());
    }
    if spec["process"]["noNewPrivileges"].as_bool() == Some(true) {
        security_opt.push("no-new-privileges".to_owned());
    }
    let name = annotation(spec, &["io.kubernetes.cri.container-name", "io.kubernetes.container.name"]);
    ContainerInfo {
        source: crate::docker::Source::Bundle,
        id: id.to_owned(),
        name: name.map(str::to_owned).unwrap_or_else(|| id.chars().take(12).collect()),
        image: annotation(spec, &["io.kubernetes.cri.image-name", "io.kubernetes.cri-o.ImageName"])
            .unwrap_or_default()
            .to_owned(),
        pid_mode: if shares_host_pid(spec) { "host".to_owned() } else { String::new() },
        cap_add,
        security_opt,
        mounts,
        pod: annotation(spec, &["io.kubernetes.cri.sandbox-name", "io.kubernetes.pod.name"]).map(str::to_owned),
        namespace: annotation(spec, &["io.kubernetes.cri.sandbox-namespace", "io.kubernetes.pod.namespace"])
            .map(str::to_owned),
        ..ContainerInfo::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn containerd_spec() -> Value {
        serde_json::json!({
            "ociVersion": "1.0.2",
            "process": {
                "args": ["nginx"],
                "noNewPrivileges": true,
                "capabilities": {"bounding": ["CAP_CHOWN", "CAP_KILL", "CAP_SYS_ADMIN"]}
            },
            "mounts": [
                {"destination": "/proc", "type": "proc", "source": "proc"},
                {"destination": "/etc/hosts", "type": "bind", "source": "/var/lib/kubelet/pods/u/etc-hosts", "options": ["rbind", "rw"]},
                {"destination": "/host/etc", "type": "bind", "source": "/etc", "options": ["rbind", "ro"]}
            ],
            "annotations": {
                "io.kubernetes.cri.container-type": "container",
                "io.kubernetes.cri.container-name": "web",
                "io.kubernetes.cri.image-name": "registry.local/shop/web:1.4",
                "io.kubernetes.cri.sandbox-name": "web-7d9c",
                "io.kubernetes.cri.sandbox-namespace": "shop"
            },
            "linux": {
                "namespaces": [{"type": "pid"}, {"type": "mount"}],
                "seccomp": {"defaultAction": "SCMP_ACT_ERRNO"}
            }
        })
    }

    #[test]
    fn containerd_annotations_name_the_pod_and_image() {
        let info = container_info(&"a".repeat(64), &containerd_spec());
        assert_eq!(info.name, "web");
        assert_eq!(info.image, "registry.local/shop/web:1.4");
        assert_eq!((info.pod.as_deref(), info.namespace.as_deref()), (Some("web-7d9c"), Some("shop")));
        assert_eq!(info.cap_add, vec!["CAP_SYS_ADMIN"]);
        assert_eq!(info.security_opt, vec!["no-new-privileges"]);
        assert_eq!(info.pid_mode, "");
        let binds: Vec<(&str, &str, bool)> =
            info.mounts.iter().map(|m| (m.source.as_str(), m.destination.as_str(), m.read_write)).collect();
        assert_eq!(
            binds,
            vec![("/var/lib/kubelet/pods/u/etc-hosts", "/etc/hosts", true), ("/etc", "/host/etc", false)]
        );
        assert!(!is_sandbox(&containerd_spec()));
    }

    #[test]
    fn crio_annotations_and_a_host_pid_namespace() {
        let spec = serde_json::json!({
            "annotations": {
                "io.kubernetes.container.name": "db",
                "io.kubernetes.cri-o.ImageName": "postgres:16",
                "io.kubernetes.pod.name": "db-0",
                "io.kubernetes.pod.namespace": "data",
                "io.kubernetes.cri-o.ContainerType": "container"
            },
            "linux": {"namespaces": [{"type": "mount"}]}
        });
        let info = container_info(&"b".repeat(64), &spec);
        assert_eq!((info.name.as_str(), info.image.as_str()), ("db", "postgres:16"));
        assert_eq!((info.pod.as_deref(), info.namespace.as_deref()), (Some("db-0"), Some("data")));
        assert_eq!(info.pid_mode, "host");
        assert_eq!(info.security_opt, vec!["seccomp=unconfined"]);
        let joined = serde_json::json!({"linux": {"namespaces": [{"type": "pid", "path": "/proc/1/ns/pid"}]}});
        assert!(shares_host_pid(&joined));
    }

    #[test]
    fn a_bare_spec_gives_the_short_id_and_no_image() {
        let info = container_info(&"c".repeat(64), &serde_json::json!({"annotations": {"x": 1}, "mounts": "no"}));
        assert_eq!((info.name.as_str(), info.image.as_str()), ("cccccccccccc", ""));
        assert!(info.mounts.is_empty() && info.pod.is_none());
        let sandbox = serde_json::json!({"annotations": {"io.kubernetes.cri.container-type": "sandbox"}});
        assert!(is_sandbox(&sandbox));
    }

    #[test]
    fn unreadable_bundles_are_errors_and_bad_ids_find_nothing() {
        let dir = tempfile::tempdir().unwrap();
        assert!(read_spec(dir.path()).is_err());
        std::fs::write(dir.path().join("config.json"), b"{not json").unwrap();
        assert!(read_spec(dir.path()).is_err());
        std::fs::write(dir.path().join("config.json"), br#"{"ociVersion":"1.0.2"}"#).unwrap();
        assert_eq!(read_spec(dir.path()).unwrap()["ociVersion"], "1.0.2");
        assert_eq!(find_bundle("../../etc"), None);
        assert_eq!(find_bundle(""), None);
    }
}
