//! Protection objects (SPEC 1, 6): clusters, nodes, quotas and the service authorization.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Cluster {
    pub id: String,
    pub name: String,
    /// `kubernetes` or `hosts` (plain Docker/containerd hosts enrolled with a token).
    pub kind: String,
    /// `on` or `off`.
    pub protection: String,
    pub node_total: u64,
    /// Nodes whose state is `running`.
    pub nodes_available: u64,
    pub shields_online: u64,
    /// Who accepted the disclaimer when protection was last enabled, and when.
    pub disclaimer_accepted_by: Option<String>,
    #[schema(format = DateTime)]
    pub disclaimer_accepted_at: Option<String>,
    #[schema(format = DateTime)]
    pub created_at: String,
    /// A Kubernetes cluster's API server (its kubeconfig is kept sealed and never shown).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_server: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClusterCreate {
    /// 1-64 characters: letters, digits, `-`, `_`, `.`.
    #[schema(pattern = "^[A-Za-z0-9._-]{1,64}$")]
    pub name: String,
    /// `hosts`: plain Docker or containerd hosts enrolled with a token; `kubernetes`: the
    /// shield runs as a DaemonSet applied through the cluster's API (needs `kubeconfig`).
    #[schema(pattern = "^(hosts|kubernetes)$")]
    pub kind: String,
    /// For `kubernetes`: a kubeconfig with embedded credentials (`kubectl config view --raw
    /// --flatten`); sealed at rest and never returned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kubeconfig: Option<String>,
    /// For `kubernetes`: the kubeconfig's context to use (default: its current context).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<String>,
}

/// Turn a cluster's protection on: the disclaimer must be accepted.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProtectionOpen {
    pub accept_disclaimer: bool,
    /// The most new nodes the enrolment token may enrol (1: single use); omitted: no cap
    /// beyond the token's 30 days.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 1, maximum = 100000)]
    pub max_nodes: Option<u32>,
}

/// A further enrolment token for a protected cluster, e.g. a single-use token for one
/// new host, beside the tokens already handed out.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EnrolmentTokenCreate {
    /// The most new nodes the token may enrol (1: single use); omitted: no cap.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 1, maximum = 100000)]
    pub max_nodes: Option<u32>,
    /// Hours until the token expires, 1 to 720 (30 days, the default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 1, maximum = 720)]
    pub expires_in_hours: Option<u32>,
}

/// An enrolment token, without its secret (shown only when it is issued).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct EnrolmentToken {
    pub id: String,
    pub cluster_id: String,
    /// `active`, `used-up` (its cap is reached), `expired` or `revoked`.
    pub state: String,
    pub max_nodes: Option<u64>,
    /// New nodes it enrolled (renewing a node's credential does not count).
    pub nodes_enrolled: u64,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub expires_at: String,
    #[schema(format = DateTime)]
    pub revoked_at: Option<String>,
}

/// A newly issued enrolment token: its secret and the install command are shown once.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct EnrolmentTokenIssued {
    pub details: EnrolmentToken,
    pub enrolment_token: String,
    pub install_command: String,
}

/// The outcome of revoking an enrolment token.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct EnrolmentTokenRevoked {
    pub details: EnrolmentToken,
    /// Nodes removed with it (`remove_nodes=true`), with their on-demand hours.
    pub nodes_removed: u64,
}

/// The result of turning protection on for a cluster of plain hosts: the enrolment token
/// (shown once) and the command that installs the shield on a host.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ProtectionResult {
    pub cluster: Cluster,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enrolment_token: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub install_command: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Node {
    pub id: String,
    pub cluster_id: String,
    pub name: String,
    /// `running` or `unavailable`.
    pub state: String,
    /// `unregistered`, `online` or `offline` (heartbeats stopped).
    pub shield_state: String,
    pub shield_version: Option<String>,
    /// `normal` when a normal quota covers the node, `on-demand` otherwise.
    pub billing: String,
    #[schema(format = DateTime)]
    pub last_heartbeat: Option<String>,
    #[schema(value_type = Object)]
    pub facts: serde_json::Value,
    /// The enrolment token that enrolled the node (or last renewed its enrolment).
    pub enrolment_token_id: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Quota {
    pub id: String,
    /// `enterprise`.
    pub edition: String,
    /// `normal`, `expired` or `frozen`.
    pub state: String,
    pub months: u32,
    pub auto_renew: bool,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub expires_at: String,
    /// Seconds until expiry (negative once expired).
    pub expires_in_seconds: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QuotaPurchase {
    /// How many quotas (1 to 1000); the first purchase is at least the configured minimum (10).
    #[schema(minimum = 1, maximum = 1000)]
    pub count: u32,
    /// 1 to 9 months, or 12 for a year.
    #[schema(minimum = 1, maximum = 12)]
    pub months: u32,
    #[serde(default)]
    pub auto_renew: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QuotaRenew {
    /// 1 to 9 months, or 12 for a year.
    pub months: u32,
}

/// Totals of the protection list (SPEC 6).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ProtectionSummary {
    pub clusters_protected: u64,
    pub clusters_unprotected: u64,
    pub nodes_protected: u64,
    pub nodes_on_demand: u64,
    /// Node-hours protected on demand in the last 30 days.
    pub on_demand_node_hours_30d: u64,
    pub quotas_normal: u64,
    pub quotas_expired: u64,
    pub quotas_frozen: u64,
}

/// The service authorization (SPEC 1.1).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Authorization {
    pub granted: bool,
    pub granted_by: Option<String>,
    #[schema(format = DateTime)]
    pub granted_at: Option<String>,
}
