//! The records the store keeps. Times are milliseconds since the Unix epoch; JSON
//! documents are kept as text exactly as given.

/// Paging and sorting of a list. `sort` is a column name from the list's allow-list;
/// anything else sorts by the default order.
#[derive(Debug, Clone)]
pub struct PageReq {
    pub limit: u32,
    pub offset: u64,
    pub sort: Option<String>,
    pub descending: bool,
}

impl Default for PageReq {
    fn default() -> Self {
        PageReq { limit: 50, offset: 0, sort: None, descending: false }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct UserRow {
    pub id: String,
    pub name: String,
    pub email: Option<String>,
    /// PHC string (argon2id).
    pub password_hash: String,
    pub created_at: i64,
    pub failed_logins: i64,
    pub locked_until: Option<i64>,
    pub disabled: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct GroupRow {
    pub id: String,
    pub name: String,
    pub description: String,
    pub created_at: i64,
    /// User ids, filled when read.
    pub members: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct IamPolicyRow {
    pub id: String,
    pub name: String,
    pub description: String,
    pub system: bool,
    /// The policy document as JSON text.
    pub document: String,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    User(String),
    Group(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    /// Made by a login; the console's session and the CLI's bearer token.
    Session,
    /// Made by a user for scripts, with a scope.
    Api,
}

impl TokenKind {
    pub fn as_str(self) -> &'static str {
        match self {
            TokenKind::Session => "session",
            TokenKind::Api => "api",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct TokenRow {
    pub id: String,
    pub user_id: String,
    pub kind: TokenKind,
    pub name: String,
    /// SHA-256 of the secret, hex. The secret itself is never stored.
    pub secret_hash: String,
    /// Action patterns as a JSON array.
    pub scope: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub revoked_at: Option<i64>,
    /// For sessions: SHA-256 of the CSRF token that cookie-authenticated changes must
    /// present.
    pub csrf_hash: Option<String>,
}

/// An audit record before it is chained.
#[derive(Debug, Clone, PartialEq)]
pub struct NewAudit {
    pub id: String,
    pub time: i64,
    pub event_name: String,
    pub event_type: String,
    pub source: String,
    pub resource_type: String,
    pub resource_id: String,
    pub resource_name: String,
    pub operator: String,
    pub level: String,
    pub outcome: String,
    /// JSON text, secrets already redacted.
    pub request: String,
    pub result: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct AuditRow {
    pub seq: i64,
    pub record: NewAudit,
    pub prev_hash: String,
    pub hash: String,
}

/// Audit query filters; `None` matches everything. Text filters match exactly.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub event_type: Option<String>,
    pub source: Option<String>,
    pub resource_type: Option<String>,
    pub event_name: Option<String>,
    pub resource_id: Option<String>,
    pub resource_name: Option<String>,
    pub operator: Option<String>,
    pub level: Option<String>,
    pub from: Option<i64>,
    pub to: Option<i64>,
    /// Only records after this sequence number (to read the log in chain order, page after
    /// page, without offsets that records removed meanwhile would shift).
    pub after_seq: Option<i64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SecurityPolicyRow {
    pub id: String,
    pub name: String,
    pub mode: String,
    pub process_whitelist: Vec<String>,
    pub file_protection: Vec<String>,
    /// Filled when read.
    pub images: Vec<String>,
    pub revision: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ClusterRow {
    pub id: String,
    pub name: String,
    pub kind: String,
    pub protection: bool,
    pub disclaimer_by: Option<String>,
    pub disclaimer_at: Option<i64>,
    pub created_at: i64,
    /// A Kubernetes cluster's kubeconfig, sealed by the server (`v1:…`); never in clear.
    pub kubeconfig_sealed: Option<String>,
    /// A Kubernetes cluster's API server URL.
    pub api_server: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct EnrolmentTokenRow {
    pub id: String,
    pub cluster_id: String,
    pub secret_hash: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub revoked_at: Option<i64>,
    /// At most this many new nodes (1: single use); `None`: no cap.
    pub max_nodes: Option<i64>,
    /// New nodes enrolled with it so far.
    pub nodes_enrolled: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct NodeRow {
    pub id: String,
    pub cluster_id: String,
    pub name: String,
    pub credential_hash: String,
    pub shield_version: String,
    /// JSON text.
    pub facts: String,
    pub enrolled_at: i64,
    pub last_heartbeat: Option<i64>,
    /// The token that enrolled it (or last renewed its enrolment).
    pub enrolment_token_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct QuotaRow {
    pub id: String,
    pub edition: String,
    /// `normal`, `expired` or `frozen`.
    pub state: String,
    pub months: i64,
    pub auto_renew: bool,
    pub created_at: i64,
    pub expires_at: i64,
    pub frozen_at: Option<i64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct EventRow {
    pub id: String,
    pub node_id: String,
    pub cluster_id: String,
    pub time: i64,
    pub received_at: i64,
    pub category: String,
    pub kind: String,
    pub container_id: String,
    pub container_name: String,
    pub image: String,
    pub blocked: bool,
    /// The whole event as JSON text.
    pub body: String,
}

#[derive(Debug, Clone, Default)]
pub struct EventFilter {
    pub category: Option<String>,
    pub node_id: Option<String>,
    pub cluster_id: Option<String>,
    pub from: Option<i64>,
    pub to: Option<i64>,
}
