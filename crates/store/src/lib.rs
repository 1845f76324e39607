//! Persistence of the control plane behind one trait, [`Store`], with a SQLite (embedded,
//! default) and a PostgreSQL backend. Callers see records and filters, never SQL.
//!
//! Both backends run the same portable SQL through sqlx's `Any` driver; what differs
//! between them (migrations, write serialisation, connection settings) is in
//! [`Backend`]. Nothing is kept in process memory that another server replica would need:
//! replicas on one PostgreSQL database are interchangeable.

mod audit_chain;
mod backend;
mod detections;
mod enrolment;
mod findings;
mod images;
mod jobs;
mod migrate;
mod records;
pub mod scratch;
mod sql;
mod vuln_ignores;
mod vuln_views;

pub use audit_chain::{
    AuditKey, ChainProblem, Checkpoint, KEYED_PREFIX, chain_hash, is_keyed, keyed_chain_hash, verify_chain,
};
pub use backend::Backend;
pub use detections::{BaselineRow, CheckTally, DetectionViews, Detections, MalwareRow, Place};
pub use enrolment::{Enrolment, EnrolmentStore};
pub use findings::{FindingRow, StoredFinding};
pub use images::{
    CatalogEntry, CatalogFilter, FoundCounts, ImageRow, ImageStore, MatchCounts, NewResult, RegistryRow, ScanRow,
    VersionRow,
};
pub use jobs::{Claim, JobEnd, JobFilter, JobRow, JobStore, NewJob};
pub use records::*;
pub use sql::SqlStore;
pub use vuln_ignores::{IgnoreRow, IgnoreStore};
pub use vuln_views::{AffectedRow, VersionTally, VulnFilter, VulnRow, VulnViews};

use async_trait::async_trait;

/// What went wrong in the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("{0} already exists")]
    Conflict(String),
    #[error("{0} not found")]
    NotFound(String),
    #[error("unsupported database URL {0:?}: use sqlite://PATH or postgres://…")]
    BadUrl(String),
    #[error("migration {version} failed: {source}")]
    Migration { version: i64, source: sqlx::Error },
    #[error("the database schema is version {found}, newer than this program's {known}")]
    SchemaTooNew { found: i64, known: i64 },
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Opens the database at `url` (`sqlite://PATH` or `postgres://…`) and brings its schema
/// up to date.
pub async fn open(url: &str) -> Result<SqlStore> {
    SqlStore::connect(url).await
}

/// Everything the control plane persists.
#[async_trait]
pub trait Store: Send + Sync + std::fmt::Debug {
    fn backend(&self) -> Backend;
    /// Image security records, in the same database.
    fn images(&self) -> &dyn ImageStore;
    /// The job queue, in the same database.
    fn jobs(&self) -> &dyn JobStore;
    /// Enrolment tokens and the enrolment of nodes.
    fn enrolment(&self) -> &dyn EnrolmentStore;
    /// Vulnerabilities across images.
    fn vuln_views(&self) -> &dyn VulnViews;
    /// Malicious files and baseline results across images.
    fn detections(&self) -> &dyn DetectionViews;
    /// Decisions to ignore vulnerabilities.
    fn ignores(&self) -> &dyn IgnoreStore;

    // Users
    async fn create_user(&self, user: &UserRow) -> Result<()>;
    async fn user(&self, id: &str) -> Result<Option<UserRow>>;
    async fn user_by_name(&self, name: &str) -> Result<Option<UserRow>>;
    async fn list_users(&self, page: &PageReq) -> Result<(Vec<UserRow>, u64)>;
    async fn update_user(&self, user: &UserRow) -> Result<()>;
    /// Like [`Store::update_user`] (for a new password), and in the same transaction
    /// revokes every session and API token of the user except `keep_token` (a token id).
    /// Returns how many were revoked.
    async fn update_user_revoking_tokens(&self, user: &UserRow, now: i64, keep_token: Option<&str>) -> Result<u64>;
    async fn delete_user(&self, id: &str) -> Result<bool>;
    /// Takes one sign-in try for the user, counted as a failure until
    /// [`Store::reset_login_failures`] says it succeeded: unless the account is locked at
    /// `now`, adds one to its failures and locks it for `lock_ms` once `threshold` in a row
    /// are reached. One statement, so that concurrent tries are all counted. Whether the
    /// try may go on (false: the account is locked).
    async fn take_login_attempt(&self, id: &str, now: i64, threshold: i64, lock_ms: i64) -> Result<bool>;
    async fn reset_login_failures(&self, id: &str) -> Result<()>;

    // Groups
    async fn create_group(&self, group: &GroupRow) -> Result<()>;
    async fn group(&self, id: &str) -> Result<Option<GroupRow>>;
    async fn list_groups(&self, page: &PageReq) -> Result<(Vec<GroupRow>, u64)>;
    async fn delete_group(&self, id: &str) -> Result<bool>;
    async fn set_membership(&self, group_id: &str, user_id: &str, member: bool) -> Result<bool>;

    // Permission policies and their attachments
    async fn create_iam_policy(&self, policy: &IamPolicyRow) -> Result<()>;
    async fn iam_policy(&self, id: &str) -> Result<Option<IamPolicyRow>>;
    async fn list_iam_policies(&self, page: &PageReq) -> Result<(Vec<IamPolicyRow>, u64)>;
    async fn update_iam_policy(&self, policy: &IamPolicyRow) -> Result<()>;
    async fn delete_iam_policy(&self, id: &str) -> Result<bool>;
    async fn set_attachment(&self, policy_id: &str, principal: &Principal, attached: bool) -> Result<bool>;
    /// The policies that apply to a user: attached to the user or to one of its groups.
    async fn policies_of_user(&self, user_id: &str) -> Result<Vec<IamPolicyRow>>;

    // Bearer credentials: login sessions and API tokens
    async fn create_token(&self, token: &TokenRow) -> Result<()>;
    async fn token_by_hash(&self, secret_hash: &str) -> Result<Option<TokenRow>>;
    async fn list_tokens(&self, user_id: &str, kind: TokenKind) -> Result<Vec<TokenRow>>;
    async fn revoke_token(&self, id: &str, now: i64) -> Result<bool>;

    // Audit
    /// Appends a record at the end of the hash chain, keyed under `key`, and returns it as
    /// stored.
    async fn append_audit(&self, record: &NewAudit, key: &AuditKey) -> Result<AuditRow>;
    async fn query_audit(&self, filter: &AuditFilter, page: &PageReq) -> Result<(Vec<AuditRow>, u64)>;
    /// Records with `seq > after`, in chain order, at most `limit`.
    async fn audit_after(&self, after: i64, limit: u32) -> Result<Vec<AuditRow>>;
    /// Where the chain starts: the last pruned record's sequence number and hash.
    async fn audit_anchor(&self) -> Result<(i64, String)>;
    /// Removes records older than `before` (ms), keeping the chain verifiable.
    async fn prune_audit(&self, before: i64) -> Result<u64>;

    // Security policies
    async fn create_security_policy(&self, policy: &SecurityPolicyRow) -> Result<()>;
    async fn security_policy(&self, id: &str) -> Result<Option<SecurityPolicyRow>>;
    async fn list_security_policies(&self, page: &PageReq) -> Result<(Vec<SecurityPolicyRow>, u64)>;
    async fn update_security_policy(&self, policy: &SecurityPolicyRow) -> Result<()>;
    async fn delete_security_policy(&self, id: &str) -> Result<bool>;
    async fn set_policy_images(&self, policy_id: &str, images: &[String], associated: bool, now: i64) -> Result<()>;
    /// The highest revision of any policy change: shields poll by it.
    async fn policy_revision(&self) -> Result<i64>;

    // Clusters, nodes and enrolment
    async fn create_cluster(&self, cluster: &ClusterRow) -> Result<()>;
    async fn cluster(&self, id: &str) -> Result<Option<ClusterRow>>;
    async fn list_clusters(&self, page: &PageReq) -> Result<(Vec<ClusterRow>, u64)>;
    async fn update_cluster(&self, cluster: &ClusterRow) -> Result<()>;
    async fn delete_cluster(&self, id: &str) -> Result<bool>;

    /// Lets the next enrolment under this node's name, until `until` (ms), replace it.
    /// Returns the node, `None` when there is no such node.
    async fn allow_reenrol(&self, node_id: &str, until: i64) -> Result<Option<NodeRow>>;
    async fn node_by_credential(&self, credential_hash: &str) -> Result<Option<NodeRow>>;
    async fn heartbeat(&self, node_id: &str, shield_version: &str, facts: &str, now: i64) -> Result<()>;
    /// The enrolment order (enrolled_at, id) of the node at place `n` (from 0) among all
    /// nodes: the first nodes are covered by normal quotas.
    async fn node_at(&self, n: u64) -> Result<Option<(i64, String)>>;
    /// A cluster's nodes: (all, those whose last heartbeat is at or after `online_after`).
    async fn node_counts(&self, cluster_id: &str, online_after: i64) -> Result<(u64, u64)>;
    /// Removes a cluster's nodes (their credentials stop working).
    async fn delete_nodes(&self, cluster_id: &str) -> Result<u64>;
    async fn list_nodes(&self, cluster_id: Option<&str>, page: &PageReq) -> Result<(Vec<NodeRow>, u64)>;

    // Quotas
    async fn create_quotas(&self, quotas: &[QuotaRow]) -> Result<()>;
    async fn quota(&self, id: &str) -> Result<Option<QuotaRow>>;
    async fn list_quotas(&self, page: &PageReq) -> Result<(Vec<QuotaRow>, u64)>;
    async fn update_quota(&self, quota: &QuotaRow) -> Result<()>;
    async fn delete_quota(&self, id: &str) -> Result<bool>;
    /// Quotas in a state.
    async fn count_quotas(&self, state: &str) -> Result<u64>;

    /// Records that these nodes were protected on demand during the hour starting at
    /// `hour` (ms); recording the same hour twice counts once.
    async fn record_on_demand_hour(&self, node_ids: &[String], hour: i64) -> Result<()>;
    /// Node-hours protected on demand since `since` (ms).
    async fn on_demand_hours(&self, since: i64) -> Result<u64>;

    // Settings (small key-value records: the service authorization, job schedules)
    async fn setting(&self, key: &str) -> Result<Option<String>>;
    async fn set_setting(&self, key: &str, value: &str) -> Result<()>;
    async fn delete_setting(&self, key: &str) -> Result<bool>;
    /// Stores a setting unless one of that key exists; whether it was stored.
    async fn put_setting_if_absent(&self, key: &str, value: &str) -> Result<bool>;
    /// Takes the named job's lease until `until` if it is free or expired; exactly one
    /// replica wins.
    async fn try_lease(&self, job: &str, owner: &str, now: i64, until: i64) -> Result<bool>;

    // Runtime events
    /// Stores a batch; events whose id is already stored are counted as duplicates.
    /// Returns (accepted, duplicates). Durable once it returns.
    async fn ingest_events(&self, events: &[EventRow]) -> Result<(u64, u64)>;
    async fn list_events(&self, filter: &EventFilter, page: &PageReq) -> Result<(Vec<EventRow>, u64)>;
    async fn event(&self, id: &str) -> Result<Option<EventRow>>;
}

/// The outcome of checking the audit chain.
#[derive(Debug, Clone)]
pub struct AuditVerification {
    /// Records checked (those kept since the last pruning, or since the checkpoint).
    pub records: u64,
    /// Of those, records written before the chain was keyed (version 1): a writer of the
    /// database could have rewritten them; only a checkpoint protects them.
    pub unkeyed: u64,
    /// Where the check started (the last pruned record, or the checkpoint) and ended.
    pub anchor_seq: i64,
    pub head_seq: i64,
    pub head_hash: String,
    pub problems: Vec<ChainProblem>,
}

impl AuditVerification {
    /// The chain's head as a checkpoint.
    pub fn head(&self) -> Checkpoint {
        Checkpoint { seq: self.head_seq, hash: self.head_hash.clone() }
    }
}

/// Walks the audit log from its anchor to its head and checks every link.
pub async fn verify_audit(store: &dyn Store, key: &AuditKey) -> Result<AuditVerification> {
    let (anchor_seq, anchor_hash) = store.audit_anchor().await?;
    verify_from(store, key, anchor_seq, anchor_hash, Vec::new()).await
}

/// The chain's head: the newest record's sequence number and hash (the anchor's when the
/// log is empty), for the operator to keep outside the database.
pub async fn audit_checkpoint(store: &dyn Store) -> Result<Checkpoint> {
    let (seq, hash) = store.audit_anchor().await?;
    let mut head = Checkpoint { seq, hash };
    loop {
        let rows = store.audit_after(head.seq, 5000).await?;
        match rows.last() {
            Some(last) => head = Checkpoint { seq: last.seq, hash: last.hash.clone() },
            None => return Ok(head),
        }
    }
}

/// Checks that the record at `checkpoint` is still in the log with the checkpoint's hash,
/// and the chain from it to the head. Removing the oldest records past the checkpoint, or
/// rewriting the chain, shows as a problem. A checkpoint whose record was pruned (older
/// than the retention) cannot be checked: that is a problem too, since removing the oldest
/// records and moving the anchor looks the same from inside the database.
pub async fn verify_audit_from(
    store: &dyn Store,
    key: &AuditKey,
    checkpoint: &Checkpoint,
) -> Result<AuditVerification> {
    let (anchor_seq, anchor_hash) = store.audit_anchor().await?;
    let failed = |problem| AuditVerification {
        records: 0,
        unkeyed: 0,
        anchor_seq: checkpoint.seq,
        head_seq: checkpoint.seq,
        head_hash: checkpoint.hash.clone(),
        problems: vec![problem],
    };
    if checkpoint.seq < anchor_seq {
        return Ok(failed(ChainProblem::CheckpointPruned { seq: checkpoint.seq, anchor_seq }));
    }
    let mut problems = Vec::new();
    if checkpoint.seq == anchor_seq {
        // The checkpoint's record is the last one pruned: the anchor keeps its hash.
        if anchor_hash != checkpoint.hash {
            problems.push(ChainProblem::CheckpointMismatch { seq: checkpoint.seq });
        }
    } else {
        let row = store.audit_after(checkpoint.seq - 1, 1).await?.into_iter().next();
        match row {
            Some(row) if row.seq == checkpoint.seq => {
                if row.hash != checkpoint.hash {
                    problems.push(ChainProblem::CheckpointMismatch { seq: checkpoint.seq });
                }
            }
            _ => return Ok(failed(ChainProblem::CheckpointMissing { seq: checkpoint.seq })),
        }
    }
    verify_from(store, key, checkpoint.seq, checkpoint.hash.clone(), problems).await
}

/// Checks the records after `(seq, hash)` to the head.
async fn verify_from(
    store: &dyn Store,
    key: &AuditKey,
    start_seq: i64,
    start_hash: String,
    mut problems: Vec<ChainProblem>,
) -> Result<AuditVerification> {
    let (mut seq, mut hash) = (start_seq, start_hash);
    let (mut records, mut unkeyed) = (0u64, 0u64);
    loop {
        let rows = store.audit_after(seq, 5000).await?;
        if rows.is_empty() {
            break;
        }
        records += rows.len() as u64;
        unkeyed += rows.iter().filter(|r| !is_keyed(&r.hash)).count() as u64;
        let (found, s, h) = verify_chain(key, seq, &hash, &rows);
        problems.extend(found);
        (seq, hash) = (s, h);
    }
    Ok(AuditVerification { records, unkeyed, anchor_seq: start_seq, head_seq: seq, head_hash: hash, problems })
}
