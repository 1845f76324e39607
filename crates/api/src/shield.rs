//! The protocol between a shield and the server: enrolment, heartbeats, policy fetch and
//! batched, idempotent event ingest.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::policy::SecurityPolicy;

/// A node asks to join a cluster with the cluster's enrolment token.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EnrolRequest {
    pub token: String,
    /// The node's name (host name).
    pub node_name: String,
    pub shield_version: String,
    #[serde(default)]
    #[schema(value_type = Object)]
    pub facts: serde_json::Value,
}

/// The node's own credential, shown once: it authenticates the node's later calls as
/// `Authorization: Bearer …`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct EnrolResponse {
    pub node_id: String,
    pub cluster_id: String,
    pub credential: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Heartbeat {
    pub shield_version: String,
    #[serde(default)]
    #[schema(value_type = Object)]
    pub facts: serde_json::Value,
    /// The policy revision the shield holds; the answer says whether a newer one exists.
    #[serde(default)]
    pub policy_revision: i64,
    /// The images the node's engine holds (at most 2,000), for the catalogue's local images.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub local_images: Vec<LocalImage>,
}

/// An image a node's engine holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LocalImage {
    /// The engine's image id (`sha256:` of the config).
    pub id: String,
    /// `repository:tag` names.
    #[serde(default)]
    pub repo_tags: Vec<String>,
    /// `repository@sha256:…` of the registry manifests it was pulled as.
    #[serde(default)]
    pub repo_digests: Vec<String>,
    #[serde(default)]
    pub size: u64,
    /// Creation time, seconds since the epoch.
    #[serde(default)]
    pub created: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct HeartbeatResponse {
    /// The current policy revision: fetch policies when it differs from the shield's.
    pub policy_revision: i64,
    /// Seconds until the next heartbeat is expected.
    pub interval_seconds: u32,
    /// Local images (engine ids) the server asks this node to scan and upload.
    #[serde(default)]
    pub scan_images: Vec<String>,
}

/// The result of scanning a local image on its node: the report without vulnerabilities
/// (the server matches them), packed as `scan::packed` writes it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LocalScan {
    /// The engine's image id, as the node reported it.
    pub image_id: String,
    /// zstd-compressed JSON report, base64.
    pub report: String,
}

/// The answer to an uploaded scan.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct LocalScanResult {
    /// The digest the result is kept under.
    pub digest: String,
}

/// The policies a node's containers need.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct NodePolicies {
    pub revision: i64,
    pub policies: Vec<SecurityPolicy>,
}

/// A process in an event's process tree, the process itself first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ProcessInfo {
    pub pid: i64,
    pub exe: String,
    #[serde(default)]
    pub argv: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ContainerRef {
    pub id: String,
    pub name: String,
    /// The Kubernetes pod and namespace, for a container a kubelet created (its
    /// `io.kubernetes.pod.name` and `io.kubernetes.pod.namespace` labels).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pod: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
}

/// A runtime event (SPEC 4). `id` is chosen by the shield and makes ingest idempotent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RuntimeEvent {
    /// 1 to 128 characters: letters, digits, `-`, `_`, `.`, `:`.
    pub id: String,
    #[schema(format = DateTime)]
    pub time: String,
    /// `escape`, `syscall`, `process`, `file` or `environment`.
    pub category: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub container: ContainerRef,
    pub image: String,
    pub description: String,
    #[serde(default)]
    pub blocked: bool,
    #[serde(default)]
    pub process_tree: Vec<ProcessInfo>,
    #[serde(default)]
    pub solution: String,
    /// Filled by the server from the node's credential.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster: Option<String>,
}

/// The event categories of SPEC 4.
pub const CATEGORIES: [&str; 5] = ["escape", "syscall", "process", "file", "environment"];

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EventBatch {
    /// At most 1,000 events.
    pub events: Vec<RuntimeEvent>,
}

/// The answer to a batch: every event of it is on disk once the answer is sent.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct IngestResult {
    /// Events stored by this call.
    pub accepted: u64,
    /// Events that were already stored (a retried batch).
    pub duplicates: u64,
}

impl RuntimeEvent {
    /// Checks what the server relies on: id syntax, category, field sizes.
    pub fn validate(&self) -> Result<(), String> {
        let id_ok = !self.id.is_empty()
            && self.id.len() <= 128
            && self.id.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':'));
        if !id_ok {
            return Err(format!("event id {:?} is not 1-128 letters, digits, '-', '_', '.', ':'", self.id));
        }
        if !CATEGORIES.contains(&self.category.as_str()) {
            return Err(format!("event {}: category {:?} is not one of {CATEGORIES:?}", self.id, self.category));
        }
        let text = [&self.kind, &self.container.id, &self.container.name, &self.image, &self.solution];
        if text.iter().any(|s| s.len() > 1024) || self.description.len() > 16384 || self.process_tree.len() > 64 {
            return Err(format!("event {}: a field is too long", self.id));
        }
        Ok(())
    }
}
