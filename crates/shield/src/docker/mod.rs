//! The Docker engine API, over its unix socket: the container list, `inspect`, image
//! digests and the `/events` stream, reduced to what the shield needs to attribute events
//! and check a container's configuration.

mod events;
use image::source::docker::http::{self, HttpError};

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;

use crate::error::DockerError;

pub use events::{ContainerAction, DockerEvent, EventStream, parse_event};

/// Default location of the engine's socket.
pub const DEFAULT_SOCKET: &str = "/var/run/docker.sock";

/// How long one request may wait for the engine.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// Largest JSON answer accepted (a container list of a busy node fits many times).
const MAX_BODY: u64 = 32 << 20;

/// A client of one engine. Each request uses its own connection, so the client is cheap to
/// clone and to share between threads.
#[derive(Debug, Clone)]
pub struct DockerClient {
    socket: PathBuf,
}

/// A mount of a container, as `inspect` reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mount {
    /// `bind`, `volume`, `tmpfs`, ...
    pub kind: String,
    /// The host path (for a bind mount) or the volume's directory.
    pub source: String,
    /// The path inside the container.
    pub destination: String,
    pub read_write: bool,
}

/// Who described a container.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Source {
    /// The Docker engine's `inspect`; its events say when the container goes away.
    #[default]
    Docker,
    /// The Docker engine's container list, which lacks the security settings.
    DockerList,
    /// containerd's API.
    Containerd,
    /// The container's OCI bundle on disk.
    Bundle,
    /// Nothing described it: only its id is known.
    Unknown,
}

/// What the shield keeps of a container.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ContainerInfo {
    /// Who described it.
    pub source: Source,
    /// The full 64-hex id (Docker's; containerd and CRI-O ids as they are).
    pub id: String,
    /// The name without Docker's leading `/`.
    pub name: String,
    /// The image as the container was created with (`Config.Image`, e.g. `nginx:1.25`).
    pub image: String,
    /// The image id (`sha256:…`).
    pub image_id: String,
    /// The image's `repo@sha256:…` references.
    pub image_digests: Vec<String>,
    /// The host pid of the container's first process; 0 when it is not running.
    pub pid: u32,
    pub running: bool,
    pub privileged: bool,
    /// `HostConfig.CapAdd` as written (`SYS_ADMIN`, `CAP_NET_ADMIN`, `ALL`).
    pub cap_add: Vec<String>,
    /// `HostConfig.SecurityOpt` (`seccomp=unconfined`, `no-new-privileges`, ...).
    pub security_opt: Vec<String>,
    /// `HostConfig.PidMode` (`host` shares the host's pid namespace).
    pub pid_mode: String,
    pub mounts: Vec<Mount>,
    /// The Kubernetes pod and namespace of a container a kubelet created (labels
    /// `io.kubernetes.pod.name`, `io.kubernetes.pod.namespace`).
    pub pod: Option<String>,
    pub namespace: Option<String>,
}

/// A label's value in a `Labels` object, when set and of a sane length.
fn label(labels: &Value, name: &str) -> Option<String> {
    labels[name].as_str().filter(|l| !l.is_empty() && l.len() <= 253).map(str::to_owned)
}

/// The engine's 64-hex container id in `v["Id"]`; `what` names the answer in the error.
fn container_id(v: &Value, what: &str) -> Result<String, String> {
    let id = v["Id"].as_str().unwrap_or_default();
    if id.len() != 64 || !id.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(format!("{what} without a container id ({id:?})"));
    }
    Ok(id.to_owned())
}

/// The `Mounts` list of an `inspect` answer or of a container list entry.
fn mounts(list: &Value) -> Vec<Mount> {
    let s = |v: &Value| v.as_str().unwrap_or_default().to_owned();
    let Some(list) = list.as_array() else { return Vec::new() };
    list.iter()
        .map(|m| Mount {
            kind: s(&m["Type"]),
            source: s(&m["Source"]),
            destination: s(&m["Destination"]),
            read_write: m["RW"].as_bool().unwrap_or(true),
        })
        .collect()
}

impl ContainerInfo {
    /// Reads the fields of an `inspect` answer. Missing optional fields are empty; a
    /// missing id is an error.
    pub fn from_inspect(v: &Value) -> Result<ContainerInfo, String> {
        let s = |v: &Value| v.as_str().unwrap_or_default().to_owned();
        let strings = |v: &Value| -> Vec<String> {
            v.as_array().map(|a| a.iter().filter_map(|x| x.as_str().map(str::to_owned)).collect()).unwrap_or_default()
        };
        let id = container_id(v, "inspect answer")?;
        let host = &v["HostConfig"];
        // Older engines report mounts in `HostConfig.Binds` only; `Mounts` is the full list.
        let mounts = mounts(&v["Mounts"]);
        Ok(ContainerInfo {
            source: Source::Docker,
            id,
            name: s(&v["Name"]).trim_start_matches('/').to_owned(),
            image: s(&v["Config"]["Image"]),
            image_id: s(&v["Image"]),
            image_digests: Vec::new(),
            pid: v["State"]["Pid"].as_u64().and_then(|p| u32::try_from(p).ok()).unwrap_or(0),
            running: v["State"]["Running"].as_bool().unwrap_or(false),
            privileged: host["Privileged"].as_bool().unwrap_or(false),
            cap_add: strings(&host["CapAdd"]),
            security_opt: strings(&host["SecurityOpt"]),
            pid_mode: s(&host["PidMode"]),
            mounts,
            pod: label(&v["Config"]["Labels"], "io.kubernetes.pod.name"),
            namespace: label(&v["Config"]["Labels"], "io.kubernetes.pod.namespace"),
        })
    }

    /// Reads an entry of the container list (`/containers/json`): id, name, image, labels
    /// and mounts. The security options are not in it (they stay empty).
    pub fn from_summary(v: &Value) -> Result<ContainerInfo, String> {
        let s = |v: &Value| v.as_str().unwrap_or_default().to_owned();
        let id = container_id(v, "container list entry")?;
        let mounts = mounts(&v["Mounts"]);
        let name = v["Names"].as_array().and_then(|n| n.first()).map(s).unwrap_or_default();
        Ok(ContainerInfo {
            source: Source::DockerList,
            id,
            name: name.trim_start_matches('/').to_owned(),
            image: s(&v["Image"]),
            image_id: s(&v["ImageID"]),
            running: v["State"] == "running",
            mounts,
            pod: label(&v["Labels"], "io.kubernetes.pod.name"),
            namespace: label(&v["Labels"], "io.kubernetes.pod.namespace"),
            ..ContainerInfo::default()
        })
    }

    /// Whether its security settings (privileges, capabilities, seccomp, mounts) are known,
    /// so that its environment can be checked.
    pub fn settings_known(&self) -> bool {
        !matches!(self.source, Source::DockerList | Source::Unknown)
    }

    /// The id's first 12 characters, as `docker ps` shows it.
    pub fn short_id(&self) -> &str {
        self.id.get(..12).unwrap_or(&self.id)
    }
}

impl DockerClient {
    pub fn new(socket: impl Into<PathBuf>) -> DockerClient {
        DockerClient { socket: socket.into() }
    }

    pub fn socket(&self) -> &Path {
        &self.socket
    }

    fn get_json(&self, target: &str) -> Result<Value, DockerError> {
        let (response, _) = http::get(&self.socket, target, Some(REQUEST_TIMEOUT)).map_err(|e| match e {
            HttpError::Connect(source) => DockerError::Connect { socket: self.socket.display().to_string(), source },
            HttpError::Exchange(source) => DockerError::Exchange { target: target.to_owned(), source },
        })?;
        let status = response.status;
        let body = response
            .read_capped(MAX_BODY)
            .map_err(|source| DockerError::Exchange { target: target.to_owned(), source })?;
        let value: Value = serde_json::from_slice(&body)
            .map_err(|e| DockerError::Answer { target: target.to_owned(), message: e.to_string() })?;
        if status != 200 {
            let message = value["message"].as_str().unwrap_or("no message").to_owned();
            return Err(DockerError::Status { target: target.to_owned(), status, message });
        }
        Ok(value)
    }

    /// All containers (running or not), as the engine's list describes them (see
    /// [`DockerClient::summary`]).
    pub fn list(&self) -> Result<Vec<ContainerInfo>, DockerError> {
        let value = self.get_json("/containers/json?all=1")?;
        let list = value.as_array().ok_or_else(|| DockerError::Answer {
            target: "/containers/json".into(),
            message: "not a JSON array".into(),
        })?;
        Ok(list.iter().filter_map(|c| ContainerInfo::from_summary(c).ok()).collect())
    }

    /// Inspects a container (by id or name), with its image's digests. `Ok(None)` when
    /// the engine does not know it (any more).
    pub fn inspect(&self, id: &str) -> Result<Option<ContainerInfo>, DockerError> {
        if id.is_empty() || !id.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')) {
            return Ok(None);
        }
        let target = format!("/containers/{id}/json");
        let value = match self.get_json(&target) {
            Ok(v) => v,
            Err(DockerError::Status { status: 404, .. }) => return Ok(None),
            Err(e) => return Err(e),
        };
        let mut info = ContainerInfo::from_inspect(&value)
            .map_err(|message| DockerError::Answer { target: target.clone(), message })?;
        info.image_digests = self.image_digests(&info.image_id);
        Ok(Some(info))
    }

    /// What the engine's container list says of a container: its name, image, labels and
    /// mounts, but not its security options. Unlike `inspect`, the list never waits for a
    /// container being started (the engine holds the container while it starts it, and
    /// `inspect` would wait for the very start the shield is asked to let through).
    pub fn summary(&self, id: &str) -> Result<Option<ContainerInfo>, DockerError> {
        if !crate::runtime::is_valid_id(id) {
            return Ok(None);
        }
        let filters = format!(r#"{{"id":["{id}"]}}"#);
        let target = format!("/containers/json?all=1&filters={}", percent_encode(&filters));
        let value = self.get_json(&target)?;
        let Some(found) = value.as_array().and_then(|list| list.iter().find(|c| c["Id"] == id)) else {
            return Ok(None);
        };
        let mut info = ContainerInfo::from_summary(found)
            .map_err(|message| DockerError::Answer { target: target.clone(), message })?;
        info.image_digests = self.image_digests(&info.image_id);
        Ok(Some(info))
    }

    /// The `repo@sha256:…` references of an image id; none for an image removed after
    /// the container was created (not an error).
    fn image_digests(&self, image_id: &str) -> Vec<String> {
        let Some(hex) = image_id.strip_prefix("sha256:").filter(|h| h.chars().all(|c| c.is_ascii_hexdigit())) else {
            return Vec::new();
        };
        match self.get_json(&format!("/images/sha256:{hex}/json")) {
            Ok(image) => image["RepoDigests"]
                .as_array()
                .map(|a| a.iter().filter_map(|d| d.as_str()).map(crate::normalise_image).collect())
                .unwrap_or_default(),
            Err(_) => Vec::new(),
        }
    }

    /// The references of the node's images (`RepoTags` and `RepoDigests`), sorted: the
    /// images a container on this node can be created from.
    pub fn image_references(&self) -> Result<Vec<String>, DockerError> {
        let value = self.get_json("/images/json")?;
        let list = value
            .as_array()
            .ok_or_else(|| DockerError::Answer { target: "/images/json".into(), message: "not a JSON array".into() })?;
        let mut out: Vec<String> = list
            .iter()
            .flat_map(|i| {
                let tags = i["RepoTags"].as_array().into_iter().flatten();
                tags.chain(i["RepoDigests"].as_array().into_iter().flatten())
            })
            .filter_map(|r| r.as_str())
            .filter(|r| !r.starts_with("<none>"))
            .map(str::to_owned)
            .collect();
        out.sort_unstable();
        out.dedup();
        Ok(out)
    }

    /// The images the engine holds, with their ids, names and sizes.
    pub fn local_images(&self) -> Result<Vec<api::shield::LocalImage>, DockerError> {
        let value = self.get_json("/images/json")?;
        let list = value
            .as_array()
            .ok_or_else(|| DockerError::Answer { target: "/images/json".into(), message: "not a JSON array".into() })?;
        let names = |v: &Value| -> Vec<String> {
            v.as_array()
                .into_iter()
                .flatten()
                .filter_map(|r| r.as_str())
                .filter(|r| !r.starts_with("<none>"))
                .map(str::to_owned)
                .collect()
        };
        let mut out: Vec<api::shield::LocalImage> = list
            .iter()
            .filter_map(|i| {
                Some(api::shield::LocalImage {
                    id: i["Id"].as_str()?.to_owned(),
                    repo_tags: names(&i["RepoTags"]),
                    repo_digests: names(&i["RepoDigests"]),
                    size: i["Size"].as_u64().unwrap_or(0),
                    created: i["Created"].as_i64().unwrap_or(0),
                })
            })
            .collect();
        out.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(out)
    }

    /// Opens the container event stream (create, start, die, destroy).
    pub fn events(&self) -> Result<EventStream, DockerError> {
        let filters = r#"{"type":["container"],"event":["create","start","die","destroy"]}"#;
        let target = format!("/events?filters={}", percent_encode(filters));
        let (response, control) = http::get(&self.socket, &target, None).map_err(|e| match e {
            HttpError::Connect(source) => DockerError::Connect { socket: self.socket.display().to_string(), source },
            HttpError::Exchange(source) => DockerError::Exchange { target: target.clone(), source },
        })?;
        if response.status != 200 {
            return Err(DockerError::Status {
                target,
                status: response.status,
                message: "event stream refused".into(),
            });
        }
        Ok(EventStream::new(response.body, control))
    }
}

/// Percent-encodes a query value (everything but unreserved characters).
fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 3);
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inspect_answers_are_read() {
        let id = "a".repeat(64);
        let v: Value = serde_json::from_str(&format!(
            r#"{{"Id":"{id}","Name":"/web","Image":"sha256:{id}","Config":{{"Image":"nginx:1.25",
            "Labels":{{"io.kubernetes.pod.name":"web-7f9c","io.kubernetes.pod.namespace":"shop"}}}},
            "State":{{"Pid":42,"Running":true}},
            "HostConfig":{{"Privileged":true,"CapAdd":["SYS_ADMIN"],"SecurityOpt":["seccomp=unconfined"],"PidMode":""}},
            "Mounts":[{{"Type":"bind","Source":"/etc","Destination":"/host/etc","RW":false}}]}}"#
        ))
        .unwrap();
        let info = ContainerInfo::from_inspect(&v).unwrap();
        assert_eq!((info.name.as_str(), info.image.as_str(), info.pid, info.running), ("web", "nginx:1.25", 42, true));
        assert!(info.privileged);
        assert_eq!(info.cap_add, vec!["SYS_ADMIN"]);
        assert_eq!(info.mounts[0].destination, "/host/etc");
        assert!(!info.mounts[0].read_write);
        assert_eq!(info.short_id(), &id[..12]);
        assert_eq!((info.pod.as_deref(), info.namespace.as_deref()), (Some("web-7f9c"), Some("shop")));
        assert!(info.settings_known());
    }

    #[test]
    fn inspect_answers_without_id_or_with_odd_fields_are_handled() {
        assert!(ContainerInfo::from_inspect(&serde_json::json!({})).is_err());
        assert!(ContainerInfo::from_inspect(&serde_json::json!({"Id": "xyz"})).is_err());
        let odd = serde_json::json!({"Id": "b".repeat(64), "State": {"Pid": -1}, "Mounts": "no", "HostConfig": 3});
        let info = ContainerInfo::from_inspect(&odd).unwrap();
        assert_eq!((info.pid, info.mounts.len(), info.privileged), (0, 0, false));
        let labels = serde_json::json!({"Id": "c".repeat(64), "Config": {"Labels": {"io.kubernetes.pod.name": 7,
            "io.kubernetes.pod.namespace": ""}}});
        let info = ContainerInfo::from_inspect(&labels).unwrap();
        assert_eq!((info.pod, info.namespace), (None, None), "not text, or empty: no pod");
    }

    #[test]
    fn container_list_entries_are_read() {
        let id = "d".repeat(64);
        let v = serde_json::json!({"Id": id, "Names": ["/shop-web"], "Image": "nginx:1.25", "ImageID": "sha256:ab",
            "State": "created", "Labels": {"io.kubernetes.pod.name": "web-1"},
            "Mounts": [{"Type": "bind", "Source": "/etc", "Destination": "/host/etc", "RW": false}]});
        let info = ContainerInfo::from_summary(&v).unwrap();
        assert_eq!((info.name.as_str(), info.image.as_str(), info.running), ("shop-web", "nginx:1.25", false));
        assert_eq!((info.pod.as_deref(), info.mounts.len()), (Some("web-1"), 1));
        assert!(info.security_opt.is_empty() && info.pid == 0);
        assert!(!info.settings_known(), "the list has no security settings");
        assert!(ContainerInfo::from_summary(&serde_json::json!({"Names": 3})).is_err());
    }

    #[test]
    fn query_values_are_encoded() {
        assert_eq!(percent_encode(r#"{"a":["b c"]}"#), "%7B%22a%22%3A%5B%22b%20c%22%5D%7D");
    }
}
