//! The [`Store`] implementation for both backends: portable SQL through sqlx's `Any`
//! driver. Placeholders are `$1…` (both backends accept them); times and flags are BIGINT.

use async_trait::async_trait;
use sqlx::any::{AnyPoolOptions, AnyRow};
// Dynamic SQL is built only from table and column names in this file (sort columns come
// from allow-lists); every value is a bound parameter.
use sqlx::{AnyPool, AssertSqlSafe, Row};
use tokio::sync::{Mutex, MutexGuard};

use crate::records::*;
use crate::{Backend, Result, Store, StoreError};

pub(crate) fn now_ms() -> i64 {
    let d = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// The store over SQLite or PostgreSQL.
#[derive(Debug)]
pub struct SqlStore {
    pub(crate) pool: AnyPool,
    pub(crate) backend: Backend,
    /// SQLite allows one writer: writes in this process take turns here rather than
    /// failing with "database is locked". PostgreSQL needs no such lock.
    write_lock: Option<Mutex<()>>,
}

const AUDIT_LOCK_KEY: i64 = 0x0061_7564_6974; // "audit"

/// A value bound to a dynamically built query.
#[derive(Debug, Clone)]
pub(crate) enum Bind {
    Text(String),
    Int(i64),
}

pub(crate) fn is_unique_violation(e: &sqlx::Error) -> bool {
    e.as_database_error().is_some_and(|d| d.is_unique_violation())
}

pub(crate) fn conflict_or(e: sqlx::Error, what: impl Into<String>) -> StoreError {
    if is_unique_violation(&e) { StoreError::Conflict(what.into()) } else { StoreError::Database(e) }
}

pub(crate) fn flag(b: bool) -> i64 {
    i64::from(b)
}

fn json_list(v: &[String]) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "[]".into())
}

fn parse_list(s: &str, what: &str) -> Result<Vec<String>> {
    serde_json::from_str(s).map_err(|e| StoreError::Corrupt(format!("{what}: {e}")))
}

/// `ORDER BY` for a list: the requested column if the list allows it, else the default.
pub(crate) fn order_by(page: &PageReq, allowed: &[&str], default: &str) -> String {
    let column = page.sort.as_deref().filter(|s| allowed.contains(s)).unwrap_or(default);
    let dir = if page.descending { "DESC" } else { "ASC" };
    format!(" ORDER BY {column} {dir}, id {dir} LIMIT {} OFFSET {}", page.limit.max(1), page.offset)
}

fn user_from(row: &AnyRow) -> Result<UserRow> {
    Ok(UserRow {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        email: row.try_get("email")?,
        password_hash: row.try_get("password_hash")?,
        created_at: row.try_get("created_at")?,
        failed_logins: row.try_get("failed_logins")?,
        locked_until: row.try_get("locked_until")?,
        disabled: row.try_get::<i64, _>("disabled")? != 0,
    })
}

fn iam_policy_from(row: &AnyRow) -> Result<IamPolicyRow> {
    Ok(IamPolicyRow {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        description: row.try_get("description")?,
        system: row.try_get::<i64, _>("system")? != 0,
        document: row.try_get("document")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

fn token_from(row: &AnyRow) -> Result<TokenRow> {
    let kind: String = row.try_get("kind")?;
    Ok(TokenRow {
        id: row.try_get("id")?,
        user_id: row.try_get("user_id")?,
        kind: if kind == "api" { TokenKind::Api } else { TokenKind::Session },
        name: row.try_get("name")?,
        secret_hash: row.try_get("secret_hash")?,
        scope: row.try_get("scope")?,
        created_at: row.try_get("created_at")?,
        expires_at: row.try_get("expires_at")?,
        revoked_at: row.try_get("revoked_at")?,
        csrf_hash: row.try_get("csrf_hash")?,
    })
}

fn audit_from(row: &AnyRow) -> Result<AuditRow> {
    Ok(AuditRow {
        seq: row.try_get("seq")?,
        record: NewAudit {
            id: row.try_get("id")?,
            time: row.try_get("time")?,
            event_name: row.try_get("event_name")?,
            event_type: row.try_get("event_type")?,
            source: row.try_get("source")?,
            resource_type: row.try_get("resource_type")?,
            resource_id: row.try_get("resource_id")?,
            resource_name: row.try_get("resource_name")?,
            operator: row.try_get("operator")?,
            level: row.try_get("level")?,
            outcome: row.try_get("outcome")?,
            request: row.try_get("request")?,
            result: row.try_get("result")?,
        },
        prev_hash: row.try_get("prev_hash")?,
        hash: row.try_get("hash")?,
    })
}

fn security_policy_from(row: &AnyRow) -> Result<SecurityPolicyRow> {
    Ok(SecurityPolicyRow {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        mode: row.try_get("mode")?,
        process_whitelist: parse_list(&row.try_get::<String, _>("process_whitelist")?, "process whitelist")?,
        file_protection: parse_list(&row.try_get::<String, _>("file_protection")?, "file protection list")?,
        images: Vec::new(),
        revision: row.try_get("revision")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

fn cluster_from(row: &AnyRow) -> Result<ClusterRow> {
    Ok(ClusterRow {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        kind: row.try_get("kind")?,
        protection: row.try_get::<i64, _>("protection")? != 0,
        disclaimer_by: row.try_get("disclaimer_by")?,
        disclaimer_at: row.try_get("disclaimer_at")?,
        created_at: row.try_get("created_at")?,
        kubeconfig_sealed: row.try_get("kubeconfig_sealed")?,
        api_server: row.try_get("api_server")?,
    })
}

pub(crate) fn node_from(row: &AnyRow) -> Result<NodeRow> {
    Ok(NodeRow {
        id: row.try_get("id")?,
        cluster_id: row.try_get("cluster_id")?,
        name: row.try_get("name")?,
        credential_hash: row.try_get("credential_hash")?,
        shield_version: row.try_get("shield_version")?,
        facts: row.try_get("facts")?,
        enrolled_at: row.try_get("enrolled_at")?,
        last_heartbeat: row.try_get("last_heartbeat")?,
        enrolment_token_id: row.try_get("enrolment_token_id")?,
    })
}

fn quota_from(row: &AnyRow) -> Result<QuotaRow> {
    Ok(QuotaRow {
        id: row.try_get("id")?,
        edition: row.try_get("edition")?,
        state: row.try_get("state")?,
        months: row.try_get("months")?,
        auto_renew: row.try_get::<i64, _>("auto_renew")? != 0,
        created_at: row.try_get("created_at")?,
        expires_at: row.try_get("expires_at")?,
        frozen_at: row.try_get("frozen_at")?,
    })
}

fn event_from(row: &AnyRow) -> Result<EventRow> {
    Ok(EventRow {
        id: row.try_get("id")?,
        node_id: row.try_get("node_id")?,
        cluster_id: row.try_get("cluster_id")?,
        time: row.try_get("time")?,
        received_at: row.try_get("received_at")?,
        category: row.try_get("category")?,
        kind: row.try_get("kind")?,
        container_id: row.try_get("container_id")?,
        container_name: row.try_get("container_name")?,
        image: row.try_get("image")?,
        blocked: row.try_get::<i64, _>("blocked")? != 0,
        body: row.try_get("body")?,
    })
}

impl SqlStore {
    /// Connects to `sqlite://PATH` (created if missing) or `postgres://…` and migrates.
    pub async fn connect(url: &str) -> Result<SqlStore> {
        sqlx::any::install_default_drivers();
        let backend = Backend::from_url(url).ok_or_else(|| StoreError::BadUrl(redact_url(url)))?;
        let url = match backend {
            Backend::Sqlite if !url.contains('?') => format!("{url}?mode=rwc"),
            _ => url.to_string(),
        };
        let sqlite = backend == Backend::Sqlite;
        let pool = AnyPoolOptions::new()
            .max_connections(if sqlite { 8 } else { 16 })
            .acquire_timeout(std::time::Duration::from_secs(30))
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    if sqlite {
                        // WAL: readers never wait for the writer. FULL: a commit is on disk
                        // when it returns, which is what an acknowledged event promises.
                        sqlx::raw_sql(
                            "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; \
                             PRAGMA foreign_keys=ON; PRAGMA busy_timeout=30000;",
                        )
                        .execute(&mut *conn)
                        .await?;
                    }
                    Ok(())
                })
            })
            .connect(&url)
            .await?;
        crate::migrate::migrate(&pool, backend).await?;
        Ok(SqlStore { pool, backend, write_lock: sqlite.then(|| Mutex::new(())) })
    }

    pub(crate) async fn writing(&self) -> Option<MutexGuard<'_, ()>> {
        match &self.write_lock {
            Some(lock) => Some(lock.lock().await),
            None => None,
        }
    }

    pub(crate) async fn count(&self, sql: &str, binds: &[Bind]) -> Result<u64> {
        let mut q = sqlx::query_scalar::<_, i64>(AssertSqlSafe(sql.to_string()));
        for b in binds {
            q = match b {
                Bind::Text(s) => q.bind(s.clone()),
                Bind::Int(i) => q.bind(*i),
            };
        }
        Ok(u64::try_from(q.fetch_one(&self.pool).await?).unwrap_or(0))
    }

    pub(crate) async fn rows(&self, sql: &str, binds: &[Bind]) -> Result<Vec<AnyRow>> {
        let mut q = sqlx::query(AssertSqlSafe(sql.to_string()));
        for b in binds {
            q = match b {
                Bind::Text(s) => q.bind(s.clone()),
                Bind::Int(i) => q.bind(*i),
            };
        }
        Ok(q.fetch_all(&self.pool).await?)
    }

    async fn list<T>(
        &self,
        table: &str,
        page: &PageReq,
        sortable: &[&str],
        default: &str,
        decode: fn(&AnyRow) -> Result<T>,
    ) -> Result<(Vec<T>, u64)> {
        let total = self.count(&format!("SELECT COUNT(*) FROM {table}"), &[]).await?;
        let rows = self.rows(&format!("SELECT * FROM {table}{}", order_by(page, sortable, default)), &[]).await?;
        Ok((rows.iter().map(decode).collect::<Result<_>>()?, total))
    }

    async fn delete(&self, table: &str, id: &str) -> Result<bool> {
        let _w = self.writing().await;
        let done = sqlx::query(AssertSqlSafe(format!("DELETE FROM {table} WHERE id = $1")))
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn group_members(&self, group_id: &str) -> Result<Vec<String>> {
        Ok(sqlx::query_scalar("SELECT user_id FROM group_members WHERE group_id = $1 ORDER BY user_id")
            .bind(group_id)
            .fetch_all(&self.pool)
            .await?)
    }

    async fn policy_images(&self, policy_id: &str) -> Result<Vec<String>> {
        Ok(sqlx::query_scalar("SELECT image FROM policy_images WHERE policy_id = $1 ORDER BY image")
            .bind(policy_id)
            .fetch_all(&self.pool)
            .await?)
    }

    async fn bump_revision(&self, conn: &mut sqlx::AnyConnection) -> Result<i64> {
        Ok(sqlx::query_scalar("UPDATE policy_revision SET revision = revision + 1 WHERE id = 1 RETURNING revision")
            .fetch_one(conn)
            .await?)
    }
}

/// The URL without its password, for messages.
pub(crate) fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            let user = creds.split(':').next().unwrap_or("");
            format!("{}{user}:***{}", &url[..s + 3], &url[at..])
        }
        _ => url.to_string(),
    }
}

/// The update of a user's row, inside a caller's transaction.
async fn update_user_in(conn: &mut sqlx::AnyConnection, u: &UserRow) -> Result<()> {
    let done = sqlx::query(
        "UPDATE users SET email = $2, password_hash = $3, failed_logins = $4, locked_until = $5, disabled = $6 \
         WHERE id = $1",
    )
    .bind(&u.id)
    .bind(&u.email)
    .bind(&u.password_hash)
    .bind(u.failed_logins)
    .bind(u.locked_until)
    .bind(flag(u.disabled))
    .execute(&mut *conn)
    .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound(format!("user {}", u.id)));
    }
    Ok(())
}

fn audit_where(f: &AuditFilter) -> (String, Vec<Bind>) {
    let mut clauses = Vec::new();
    let mut binds = Vec::new();
    let text = [
        ("event_type", &f.event_type),
        ("source", &f.source),
        ("resource_type", &f.resource_type),
        ("event_name", &f.event_name),
        ("resource_id", &f.resource_id),
        ("resource_name", &f.resource_name),
        ("operator", &f.operator),
        ("level", &f.level),
    ];
    for (column, value) in text {
        if let Some(v) = value {
            binds.push(Bind::Text(v.clone()));
            clauses.push(format!("{column} = ${}", binds.len()));
        }
    }
    if let Some(from) = f.from {
        binds.push(Bind::Int(from));
        clauses.push(format!("time >= ${}", binds.len()));
    }
    if let Some(to) = f.to {
        binds.push(Bind::Int(to));
        clauses.push(format!("time <= ${}", binds.len()));
    }
    if let Some(after) = f.after_seq {
        binds.push(Bind::Int(after));
        clauses.push(format!("seq > ${}", binds.len()));
    }
    let sql = if clauses.is_empty() { String::new() } else { format!(" WHERE {}", clauses.join(" AND ")) };
    (sql, binds)
}

fn event_where(f: &EventFilter) -> (String, Vec<Bind>) {
    let mut clauses = Vec::new();
    let mut binds = Vec::new();
    for (column, value) in [("category", &f.category), ("node_id", &f.node_id), ("cluster_id", &f.cluster_id)] {
        if let Some(v) = value {
            binds.push(Bind::Text(v.clone()));
            clauses.push(format!("{column} = ${}", binds.len()));
        }
    }
    if let Some(from) = f.from {
        binds.push(Bind::Int(from));
        clauses.push(format!("time >= ${}", binds.len()));
    }
    if let Some(to) = f.to {
        binds.push(Bind::Int(to));
        clauses.push(format!("time <= ${}", binds.len()));
    }
    let sql = if clauses.is_empty() { String::new() } else { format!(" WHERE {}", clauses.join(" AND ")) };
    (sql, binds)
}

#[async_trait]
impl Store for SqlStore {
    fn backend(&self) -> Backend {
        self.backend
    }

    fn images(&self) -> &dyn crate::ImageStore {
        self
    }

    fn jobs(&self) -> &dyn crate::JobStore {
        self
    }

    fn enrolment(&self) -> &dyn crate::EnrolmentStore {
        self
    }

    fn vuln_views(&self) -> &dyn crate::VulnViews {
        self
    }

    fn ignores(&self) -> &dyn crate::IgnoreStore {
        self
    }

    fn detections(&self) -> &dyn crate::DetectionViews {
        self
    }

    async fn create_user(&self, u: &UserRow) -> Result<()> {
        let _w = self.writing().await;
        sqlx::query(
            "INSERT INTO users (id, name, email, password_hash, created_at, failed_logins, locked_until, disabled) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(&u.id)
        .bind(&u.name)
        .bind(&u.email)
        .bind(&u.password_hash)
        .bind(u.created_at)
        .bind(u.failed_logins)
        .bind(u.locked_until)
        .bind(flag(u.disabled))
        .execute(&self.pool)
        .await
        .map_err(|e| conflict_or(e, format!("user {:?}", u.name)))?;
        Ok(())
    }

    async fn user(&self, id: &str) -> Result<Option<UserRow>> {
        let row = sqlx::query("SELECT * FROM users WHERE id = $1").bind(id).fetch_optional(&self.pool).await?;
        row.as_ref().map(user_from).transpose()
    }

    async fn user_by_name(&self, name: &str) -> Result<Option<UserRow>> {
        let row = sqlx::query("SELECT * FROM users WHERE name = $1").bind(name).fetch_optional(&self.pool).await?;
        row.as_ref().map(user_from).transpose()
    }

    async fn list_users(&self, page: &PageReq) -> Result<(Vec<UserRow>, u64)> {
        self.list("users", page, &["name", "created_at"], "name", user_from).await
    }

    async fn update_user(&self, u: &UserRow) -> Result<()> {
        let _w = self.writing().await;
        let mut tx = self.pool.begin().await?;
        update_user_in(&mut tx, u).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn update_user_revoking_tokens(&self, u: &UserRow, now: i64, keep_token: Option<&str>) -> Result<u64> {
        let _w = self.writing().await;
        let mut tx = self.pool.begin().await?;
        update_user_in(&mut tx, u).await?;
        let done =
            sqlx::query("UPDATE tokens SET revoked_at = $2 WHERE user_id = $1 AND revoked_at IS NULL AND id <> $3")
                .bind(&u.id)
                .bind(now)
                .bind(keep_token.unwrap_or(""))
                .execute(&mut *tx)
                .await?;
        tx.commit().await?;
        Ok(done.rows_affected())
    }

    async fn delete_user(&self, id: &str) -> Result<bool> {
        {
            let _w = self.writing().await;
            sqlx::query("DELETE FROM policy_attachments WHERE principal_type = 'user' AND principal_id = $1")
                .bind(id)
                .execute(&self.pool)
                .await?;
        }
        self.delete("users", id).await
    }

    async fn take_login_attempt(&self, id: &str, now: i64, threshold: i64, lock_ms: i64) -> Result<bool> {
        let _w = self.writing().await;
        let done = sqlx::query(
            "UPDATE users SET failed_logins = failed_logins + 1, \
             locked_until = CASE WHEN failed_logins + 1 >= $2 THEN $3 ELSE locked_until END \
             WHERE id = $1 AND (locked_until IS NULL OR locked_until <= $4)",
        )
        .bind(id)
        .bind(threshold)
        .bind(now + lock_ms)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn reset_login_failures(&self, id: &str) -> Result<()> {
        let _w = self.writing().await;
        sqlx::query("UPDATE users SET failed_logins = 0, locked_until = NULL WHERE id = $1")
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn create_group(&self, g: &GroupRow) -> Result<()> {
        let _w = self.writing().await;
        sqlx::query("INSERT INTO groups (id, name, description, created_at) VALUES ($1, $2, $3, $4)")
            .bind(&g.id)
            .bind(&g.name)
            .bind(&g.description)
            .bind(g.created_at)
            .execute(&self.pool)
            .await
            .map_err(|e| conflict_or(e, format!("group {:?}", g.name)))?;
        Ok(())
    }

    async fn group(&self, id: &str) -> Result<Option<GroupRow>> {
        let row = sqlx::query("SELECT * FROM groups WHERE id = $1").bind(id).fetch_optional(&self.pool).await?;
        let Some(row) = row else { return Ok(None) };
        let members = self.group_members(id).await?;
        Ok(Some(GroupRow {
            id: row.try_get("id")?,
            name: row.try_get("name")?,
            description: row.try_get("description")?,
            created_at: row.try_get("created_at")?,
            members,
        }))
    }

    async fn list_groups(&self, page: &PageReq) -> Result<(Vec<GroupRow>, u64)> {
        let (groups, total) = self
            .list("groups", page, &["name", "created_at"], "name", |row| {
                Ok(GroupRow {
                    id: row.try_get("id")?,
                    name: row.try_get("name")?,
                    description: row.try_get("description")?,
                    created_at: row.try_get("created_at")?,
                    members: Vec::new(),
                })
            })
            .await?;
        let mut out = Vec::with_capacity(groups.len());
        for mut g in groups {
            g.members = self.group_members(&g.id).await?;
            out.push(g);
        }
        Ok((out, total))
    }

    async fn delete_group(&self, id: &str) -> Result<bool> {
        {
            let _w = self.writing().await;
            sqlx::query("DELETE FROM policy_attachments WHERE principal_type = 'group' AND principal_id = $1")
                .bind(id)
                .execute(&self.pool)
                .await?;
        }
        self.delete("groups", id).await
    }

    async fn set_membership(&self, group_id: &str, user_id: &str, member: bool) -> Result<bool> {
        let _w = self.writing().await;
        let sql = if member {
            "INSERT INTO group_members (group_id, user_id) VALUES ($1, $2) ON CONFLICT DO NOTHING"
        } else {
            "DELETE FROM group_members WHERE group_id = $1 AND user_id = $2"
        };
        let done = sqlx::query(sql).bind(group_id).bind(user_id).execute(&self.pool).await?;
        Ok(done.rows_affected() > 0)
    }

    async fn create_iam_policy(&self, p: &IamPolicyRow) -> Result<()> {
        let _w = self.writing().await;
        sqlx::query(
            "INSERT INTO iam_policies (id, name, description, system, document, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&p.id)
        .bind(&p.name)
        .bind(&p.description)
        .bind(flag(p.system))
        .bind(&p.document)
        .bind(p.created_at)
        .bind(p.updated_at)
        .execute(&self.pool)
        .await
        .map_err(|e| conflict_or(e, format!("policy {:?}", p.name)))?;
        Ok(())
    }

    async fn iam_policy(&self, id: &str) -> Result<Option<IamPolicyRow>> {
        let row = sqlx::query("SELECT * FROM iam_policies WHERE id = $1").bind(id).fetch_optional(&self.pool).await?;
        row.as_ref().map(iam_policy_from).transpose()
    }

    async fn list_iam_policies(&self, page: &PageReq) -> Result<(Vec<IamPolicyRow>, u64)> {
        self.list("iam_policies", page, &["name", "created_at", "updated_at"], "name", iam_policy_from).await
    }

    async fn update_iam_policy(&self, p: &IamPolicyRow) -> Result<()> {
        let _w = self.writing().await;
        let done = sqlx::query(
            "UPDATE iam_policies SET name = $2, description = $3, document = $4, updated_at = $5 WHERE id = $1",
        )
        .bind(&p.id)
        .bind(&p.name)
        .bind(&p.description)
        .bind(&p.document)
        .bind(p.updated_at)
        .execute(&self.pool)
        .await
        .map_err(|e| conflict_or(e, format!("policy {:?}", p.name)))?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!("policy {}", p.id)));
        }
        Ok(())
    }

    async fn delete_iam_policy(&self, id: &str) -> Result<bool> {
        self.delete("iam_policies", id).await
    }

    async fn set_attachment(&self, policy_id: &str, principal: &Principal, attached: bool) -> Result<bool> {
        let _w = self.writing().await;
        let (kind, pid) = match principal {
            Principal::User(id) => ("user", id),
            Principal::Group(id) => ("group", id),
        };
        let sql = if attached {
            "INSERT INTO policy_attachments (policy_id, principal_type, principal_id) VALUES ($1, $2, $3) \
             ON CONFLICT DO NOTHING"
        } else {
            "DELETE FROM policy_attachments WHERE policy_id = $1 AND principal_type = $2 AND principal_id = $3"
        };
        let done = sqlx::query(sql).bind(policy_id).bind(kind).bind(pid).execute(&self.pool).await?;
        Ok(done.rows_affected() > 0)
    }

    async fn policies_of_user(&self, user_id: &str) -> Result<Vec<IamPolicyRow>> {
        let rows = sqlx::query(
            "SELECT * FROM iam_policies WHERE id IN ( \
               SELECT policy_id FROM policy_attachments WHERE principal_type = 'user' AND principal_id = $1 \
               UNION \
               SELECT a.policy_id FROM policy_attachments a JOIN group_members m \
                 ON a.principal_type = 'group' AND a.principal_id = m.group_id WHERE m.user_id = $1) \
             ORDER BY name",
        )
        .bind(user_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(iam_policy_from).collect()
    }

    async fn create_token(&self, t: &TokenRow) -> Result<()> {
        let _w = self.writing().await;
        sqlx::query(
            "INSERT INTO tokens (id, user_id, kind, name, secret_hash, scope, created_at, expires_at, revoked_at, \
             csrf_hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(&t.id)
        .bind(&t.user_id)
        .bind(t.kind.as_str())
        .bind(&t.name)
        .bind(&t.secret_hash)
        .bind(&t.scope)
        .bind(t.created_at)
        .bind(t.expires_at)
        .bind(t.revoked_at)
        .bind(&t.csrf_hash)
        .execute(&self.pool)
        .await
        .map_err(|e| conflict_or(e, "token"))?;
        Ok(())
    }

    async fn token_by_hash(&self, secret_hash: &str) -> Result<Option<TokenRow>> {
        let row = sqlx::query("SELECT * FROM tokens WHERE secret_hash = $1")
            .bind(secret_hash)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(token_from).transpose()
    }

    async fn list_tokens(&self, user_id: &str, kind: TokenKind) -> Result<Vec<TokenRow>> {
        let rows = sqlx::query("SELECT * FROM tokens WHERE user_id = $1 AND kind = $2 ORDER BY created_at, id")
            .bind(user_id)
            .bind(kind.as_str())
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(token_from).collect()
    }

    async fn revoke_token(&self, id: &str, now: i64) -> Result<bool> {
        let _w = self.writing().await;
        let done = sqlx::query("UPDATE tokens SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL")
            .bind(id)
            .bind(now)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn append_audit(&self, r: &NewAudit, key: &crate::AuditKey) -> Result<AuditRow> {
        let _w = self.writing().await;
        let mut tx = self.pool.begin().await?;
        if self.backend == Backend::Postgres {
            // Replicas append one at a time, so that the chain stays a line.
            sqlx::query("SELECT pg_advisory_xact_lock($1)").bind(AUDIT_LOCK_KEY).execute(&mut *tx).await?;
        }
        let last =
            sqlx::query("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1").fetch_optional(&mut *tx).await?;
        let (prev_seq, prev_hash) = match last {
            Some(row) => (row.try_get::<i64, _>("seq")?, row.try_get::<String, _>("hash")?),
            None => {
                let row = sqlx::query("SELECT seq, hash FROM audit_anchor WHERE id = 1").fetch_one(&mut *tx).await?;
                (row.try_get("seq")?, row.try_get("hash")?)
            }
        };
        let seq = prev_seq + 1;
        let hash = crate::keyed_chain_hash(key, &prev_hash, seq, r);
        sqlx::query(
            "INSERT INTO audit_log (seq, id, time, event_name, event_type, source, resource_type, resource_id, \
             resource_name, operator, level, outcome, request, result, prev_hash, hash) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)",
        )
        .bind(seq)
        .bind(&r.id)
        .bind(r.time)
        .bind(&r.event_name)
        .bind(&r.event_type)
        .bind(&r.source)
        .bind(&r.resource_type)
        .bind(&r.resource_id)
        .bind(&r.resource_name)
        .bind(&r.operator)
        .bind(&r.level)
        .bind(&r.outcome)
        .bind(&r.request)
        .bind(&r.result)
        .bind(&prev_hash)
        .bind(&hash)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(AuditRow { seq, record: r.clone(), prev_hash, hash })
    }

    async fn query_audit(&self, filter: &AuditFilter, page: &PageReq) -> Result<(Vec<AuditRow>, u64)> {
        let (sql_where, binds) = audit_where(filter);
        let total = self.count(&format!("SELECT COUNT(*) FROM audit_log{sql_where}"), &binds).await?;
        let sortable = ["seq", "time", "event_name", "operator", "level", "resource_type"];
        let column = page.sort.as_deref().filter(|s| sortable.contains(s)).unwrap_or("seq");
        let dir = if page.descending { "DESC" } else { "ASC" };
        let sql = format!(
            "SELECT * FROM audit_log{sql_where} ORDER BY {column} {dir}, seq {dir} LIMIT {} OFFSET {}",
            page.limit.max(1),
            page.offset
        );
        let rows = self.rows(&sql, &binds).await?;
        Ok((rows.iter().map(audit_from).collect::<Result<_>>()?, total))
    }

    async fn audit_after(&self, after: i64, limit: u32) -> Result<Vec<AuditRow>> {
        let rows = sqlx::query("SELECT * FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT $2")
            .bind(after)
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(audit_from).collect()
    }

    async fn audit_anchor(&self) -> Result<(i64, String)> {
        let row = sqlx::query("SELECT seq, hash FROM audit_anchor WHERE id = 1").fetch_one(&self.pool).await?;
        Ok((row.try_get("seq")?, row.try_get("hash")?))
    }

    async fn prune_audit(&self, before: i64) -> Result<u64> {
        let _w = self.writing().await;
        let mut tx = self.pool.begin().await?;
        if self.backend == Backend::Postgres {
            sqlx::query("SELECT pg_advisory_xact_lock($1)").bind(AUDIT_LOCK_KEY).execute(&mut *tx).await?;
        }
        // Records go in chain order, so the anchor is the last one removed; the newest
        // record always stays, so that the chain's head is never lost.
        let last = sqlx::query(
            "SELECT seq, hash FROM audit_log WHERE time < $1 AND seq < (SELECT MAX(seq) FROM audit_log) \
             ORDER BY seq DESC LIMIT 1",
        )
        .bind(before)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(last) = last else { return Ok(0) };
        let (seq, hash): (i64, String) = (last.try_get("seq")?, last.try_get("hash")?);
        let done = sqlx::query("DELETE FROM audit_log WHERE seq <= $1").bind(seq).execute(&mut *tx).await?;
        sqlx::query("UPDATE audit_anchor SET seq = $1, hash = $2 WHERE id = 1")
            .bind(seq)
            .bind(&hash)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(done.rows_affected())
    }

    async fn create_security_policy(&self, p: &SecurityPolicyRow) -> Result<()> {
        let _w = self.writing().await;
        let mut tx = self.pool.begin().await?;
        let revision = self.bump_revision(&mut tx).await?;
        sqlx::query(
            "INSERT INTO security_policies (id, name, mode, process_whitelist, file_protection, revision, \
             created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(&p.id)
        .bind(&p.name)
        .bind(&p.mode)
        .bind(json_list(&p.process_whitelist))
        .bind(json_list(&p.file_protection))
        .bind(revision)
        .bind(p.created_at)
        .bind(p.updated_at)
        .execute(&mut *tx)
        .await
        .map_err(|e| conflict_or(e, format!("policy {:?}", p.name)))?;
        tx.commit().await?;
        Ok(())
    }

    async fn security_policy(&self, id: &str) -> Result<Option<SecurityPolicyRow>> {
        let row =
            sqlx::query("SELECT * FROM security_policies WHERE id = $1").bind(id).fetch_optional(&self.pool).await?;
        let Some(row) = row else { return Ok(None) };
        let mut p = security_policy_from(&row)?;
        p.images = self.policy_images(id).await?;
        Ok(Some(p))
    }

    async fn list_security_policies(&self, page: &PageReq) -> Result<(Vec<SecurityPolicyRow>, u64)> {
        let (policies, total) = self
            .list("security_policies", page, &["name", "created_at", "updated_at"], "name", security_policy_from)
            .await?;
        let mut out = Vec::with_capacity(policies.len());
        for mut p in policies {
            p.images = self.policy_images(&p.id).await?;
            out.push(p);
        }
        Ok((out, total))
    }

    async fn update_security_policy(&self, p: &SecurityPolicyRow) -> Result<()> {
        let _w = self.writing().await;
        let mut tx = self.pool.begin().await?;
        let revision = self.bump_revision(&mut tx).await?;
        let done = sqlx::query(
            "UPDATE security_policies SET name = $2, mode = $3, process_whitelist = $4, file_protection = $5, \
             revision = $6, updated_at = $7 WHERE id = $1",
        )
        .bind(&p.id)
        .bind(&p.name)
        .bind(&p.mode)
        .bind(json_list(&p.process_whitelist))
        .bind(json_list(&p.file_protection))
        .bind(revision)
        .bind(p.updated_at)
        .execute(&mut *tx)
        .await
        .map_err(|e| conflict_or(e, format!("policy {:?}", p.name)))?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!("policy {}", p.id)));
        }
        tx.commit().await?;
        Ok(())
    }

    async fn delete_security_policy(&self, id: &str) -> Result<bool> {
        let _w = self.writing().await;
        let mut tx = self.pool.begin().await?;
        let done = sqlx::query("DELETE FROM security_policies WHERE id = $1").bind(id).execute(&mut *tx).await?;
        if done.rows_affected() > 0 {
            self.bump_revision(&mut tx).await?;
        }
        tx.commit().await?;
        Ok(done.rows_affected() > 0)
    }

    async fn set_policy_images(&self, policy_id: &str, images: &[String], associated: bool, now: i64) -> Result<()> {
        let _w = self.writing().await;
        let mut tx = self.pool.begin().await?;
        for image in images {
            let q = if associated {
                sqlx::query(
                    "INSERT INTO policy_images (policy_id, image, created_at) VALUES ($1, $2, $3) \
                     ON CONFLICT DO NOTHING",
                )
                .bind(policy_id)
                .bind(image)
                .bind(now)
            } else {
                sqlx::query("DELETE FROM policy_images WHERE policy_id = $1 AND image = $2").bind(policy_id).bind(image)
            };
            q.execute(&mut *tx).await?;
        }
        let revision = self.bump_revision(&mut tx).await?;
        sqlx::query("UPDATE security_policies SET revision = $2, updated_at = $3 WHERE id = $1")
            .bind(policy_id)
            .bind(revision)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn policy_revision(&self) -> Result<i64> {
        Ok(sqlx::query_scalar("SELECT revision FROM policy_revision WHERE id = 1").fetch_one(&self.pool).await?)
    }

    async fn create_cluster(&self, c: &ClusterRow) -> Result<()> {
        let _w = self.writing().await;
        sqlx::query(
            "INSERT INTO clusters (id, name, kind, protection, disclaimer_by, disclaimer_at, created_at, \
             kubeconfig_sealed, api_server) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(&c.id)
        .bind(&c.name)
        .bind(&c.kind)
        .bind(flag(c.protection))
        .bind(&c.disclaimer_by)
        .bind(c.disclaimer_at)
        .bind(c.created_at)
        .bind(&c.kubeconfig_sealed)
        .bind(&c.api_server)
        .execute(&self.pool)
        .await
        .map_err(|e| conflict_or(e, format!("cluster {:?}", c.name)))?;
        Ok(())
    }

    async fn cluster(&self, id: &str) -> Result<Option<ClusterRow>> {
        let row = sqlx::query("SELECT * FROM clusters WHERE id = $1").bind(id).fetch_optional(&self.pool).await?;
        row.as_ref().map(cluster_from).transpose()
    }

    async fn list_clusters(&self, page: &PageReq) -> Result<(Vec<ClusterRow>, u64)> {
        self.list("clusters", page, &["name", "created_at"], "name", cluster_from).await
    }

    async fn update_cluster(&self, c: &ClusterRow) -> Result<()> {
        let _w = self.writing().await;
        let done = sqlx::query(
            "UPDATE clusters SET name = $2, protection = $3, disclaimer_by = $4, disclaimer_at = $5 WHERE id = $1",
        )
        .bind(&c.id)
        .bind(&c.name)
        .bind(flag(c.protection))
        .bind(&c.disclaimer_by)
        .bind(c.disclaimer_at)
        .execute(&self.pool)
        .await
        .map_err(|e| conflict_or(e, format!("cluster {:?}", c.name)))?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!("cluster {}", c.id)));
        }
        Ok(())
    }

    async fn delete_cluster(&self, id: &str) -> Result<bool> {
        self.delete("clusters", id).await
    }

    async fn put_setting_if_absent(&self, key: &str, value: &str) -> Result<bool> {
        let _w = self.writing().await;
        let done = sqlx::query("INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING")
            .bind(key)
            .bind(value)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn allow_reenrol(&self, node_id: &str, until: i64) -> Result<Option<NodeRow>> {
        {
            let _w = self.writing().await;
            sqlx::query("UPDATE nodes SET reenrol_until = $2 WHERE id = $1")
                .bind(node_id)
                .bind(until)
                .execute(&self.pool)
                .await?;
        }
        let row = sqlx::query("SELECT * FROM nodes WHERE id = $1").bind(node_id).fetch_optional(&self.pool).await?;
        row.as_ref().map(node_from).transpose()
    }

    async fn node_by_credential(&self, credential_hash: &str) -> Result<Option<NodeRow>> {
        let row = sqlx::query("SELECT * FROM nodes WHERE credential_hash = $1")
            .bind(credential_hash)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(node_from).transpose()
    }

    async fn heartbeat(&self, node_id: &str, shield_version: &str, facts: &str, now: i64) -> Result<()> {
        let _w = self.writing().await;
        sqlx::query("UPDATE nodes SET shield_version = $2, facts = $3, last_heartbeat = $4 WHERE id = $1")
            .bind(node_id)
            .bind(shield_version)
            .bind(facts)
            .bind(now)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn node_at(&self, n: u64) -> Result<Option<(i64, String)>> {
        let row = sqlx::query("SELECT enrolled_at, id FROM nodes ORDER BY enrolled_at, id LIMIT 1 OFFSET $1")
            .bind(i64::try_from(n).unwrap_or(i64::MAX))
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| Ok((r.try_get("enrolled_at")?, r.try_get("id")?))).transpose()
    }

    async fn node_counts(&self, cluster_id: &str, online_after: i64) -> Result<(u64, u64)> {
        let id = Bind::Text(cluster_id.to_owned());
        let all = self.count("SELECT COUNT(*) FROM nodes WHERE cluster_id = $1", std::slice::from_ref(&id)).await?;
        let online = self
            .count(
                "SELECT COUNT(*) FROM nodes WHERE cluster_id = $1 AND last_heartbeat >= $2",
                &[id, Bind::Int(online_after)],
            )
            .await?;
        Ok((all, online))
    }

    async fn delete_nodes(&self, cluster_id: &str) -> Result<u64> {
        let _w = self.writing().await;
        let done = sqlx::query("DELETE FROM nodes WHERE cluster_id = $1").bind(cluster_id).execute(&self.pool).await?;
        Ok(done.rows_affected())
    }

    async fn list_nodes(&self, cluster_id: Option<&str>, page: &PageReq) -> Result<(Vec<NodeRow>, u64)> {
        let (sql_where, binds) = match cluster_id {
            Some(c) => (" WHERE cluster_id = $1", vec![Bind::Text(c.to_string())]),
            None => ("", Vec::new()),
        };
        let total = self.count(&format!("SELECT COUNT(*) FROM nodes{sql_where}"), &binds).await?;
        let order = order_by(page, &["name", "enrolled_at", "last_heartbeat"], "name");
        let rows = self.rows(&format!("SELECT * FROM nodes{sql_where}{order}"), &binds).await?;
        Ok((rows.iter().map(node_from).collect::<Result<_>>()?, total))
    }

    async fn create_quotas(&self, quotas: &[QuotaRow]) -> Result<()> {
        let _w = self.writing().await;
        let mut tx = self.pool.begin().await?;
        for q in quotas {
            sqlx::query(
                "INSERT INTO quotas (id, edition, state, months, auto_renew, created_at, expires_at, frozen_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(&q.id)
            .bind(&q.edition)
            .bind(&q.state)
            .bind(q.months)
            .bind(flag(q.auto_renew))
            .bind(q.created_at)
            .bind(q.expires_at)
            .bind(q.frozen_at)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn quota(&self, id: &str) -> Result<Option<QuotaRow>> {
        let row = sqlx::query("SELECT * FROM quotas WHERE id = $1").bind(id).fetch_optional(&self.pool).await?;
        row.as_ref().map(quota_from).transpose()
    }

    async fn list_quotas(&self, page: &PageReq) -> Result<(Vec<QuotaRow>, u64)> {
        self.list("quotas", page, &["created_at", "expires_at", "state"], "created_at", quota_from).await
    }

    async fn update_quota(&self, q: &QuotaRow) -> Result<()> {
        let _w = self.writing().await;
        let done = sqlx::query(
            "UPDATE quotas SET state = $2, months = $3, auto_renew = $4, expires_at = $5, frozen_at = $6 WHERE id = $1",
        )
        .bind(&q.id)
        .bind(&q.state)
        .bind(q.months)
        .bind(flag(q.auto_renew))
        .bind(q.expires_at)
        .bind(q.frozen_at)
        .execute(&self.pool)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!("quota {}", q.id)));
        }
        Ok(())
    }

    async fn delete_quota(&self, id: &str) -> Result<bool> {
        self.delete("quotas", id).await
    }

    async fn record_on_demand_hour(&self, node_ids: &[String], hour: i64) -> Result<()> {
        let _w = self.writing().await;
        let mut tx = self.pool.begin().await?;
        for id in node_ids {
            sqlx::query("INSERT INTO on_demand_hours (node_id, hour) VALUES ($1, $2) ON CONFLICT DO NOTHING")
                .bind(id)
                .bind(hour)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn count_quotas(&self, state: &str) -> Result<u64> {
        self.count("SELECT COUNT(*) FROM quotas WHERE state = $1", &[Bind::Text(state.to_owned())]).await
    }

    async fn on_demand_hours(&self, since: i64) -> Result<u64> {
        self.count("SELECT COUNT(*) FROM on_demand_hours WHERE hour >= $1", &[Bind::Int(since)]).await
    }

    async fn setting(&self, key: &str) -> Result<Option<String>> {
        Ok(sqlx::query_scalar("SELECT value FROM settings WHERE key = $1").bind(key).fetch_optional(&self.pool).await?)
    }

    async fn set_setting(&self, key: &str, value: &str) -> Result<()> {
        let _w = self.writing().await;
        sqlx::query(
            "INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
        )
        .bind(key)
        .bind(value)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn delete_setting(&self, key: &str) -> Result<bool> {
        let _w = self.writing().await;
        let done = sqlx::query("DELETE FROM settings WHERE key = $1").bind(key).execute(&self.pool).await?;
        Ok(done.rows_affected() > 0)
    }

    async fn try_lease(&self, job: &str, owner: &str, now: i64, until: i64) -> Result<bool> {
        let _w = self.writing().await;
        let done = sqlx::query(
            "INSERT INTO job_leases (job, owner, until) VALUES ($1, $2, $4) \
             ON CONFLICT (job) DO UPDATE SET owner = EXCLUDED.owner, until = EXCLUDED.until \
             WHERE job_leases.until < $3 OR job_leases.owner = $2",
        )
        .bind(job)
        .bind(owner)
        .bind(now)
        .bind(until)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn ingest_events(&self, events: &[EventRow]) -> Result<(u64, u64)> {
        let _w = self.writing().await;
        let mut tx = self.pool.begin().await?;
        let mut accepted = 0;
        for e in events {
            let done = sqlx::query(
                "INSERT INTO runtime_events (id, node_id, cluster_id, time, received_at, category, kind, \
                 container_id, container_name, image, blocked, body) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) ON CONFLICT (id) DO NOTHING",
            )
            .bind(&e.id)
            .bind(&e.node_id)
            .bind(&e.cluster_id)
            .bind(e.time)
            .bind(e.received_at)
            .bind(&e.category)
            .bind(&e.kind)
            .bind(&e.container_id)
            .bind(&e.container_name)
            .bind(&e.image)
            .bind(flag(e.blocked))
            .bind(&e.body)
            .execute(&mut *tx)
            .await?;
            accepted += done.rows_affected();
        }
        tx.commit().await?;
        Ok((accepted, events.len() as u64 - accepted))
    }

    async fn list_events(&self, filter: &EventFilter, page: &PageReq) -> Result<(Vec<EventRow>, u64)> {
        let (sql_where, binds) = event_where(filter);
        let total = self.count(&format!("SELECT COUNT(*) FROM runtime_events{sql_where}"), &binds).await?;
        let order = order_by(page, &["time", "received_at", "category", "kind"], "time");
        let rows = self.rows(&format!("SELECT * FROM runtime_events{sql_where}{order}"), &binds).await?;
        Ok((rows.iter().map(event_from).collect::<Result<_>>()?, total))
    }

    async fn event(&self, id: &str) -> Result<Option<EventRow>> {
        let row = sqlx::query("SELECT * FROM runtime_events WHERE id = $1").bind(id).fetch_optional(&self.pool).await?;
        row.as_ref().map(event_from).transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_stay_out_of_messages() {
        assert_eq!(redact_url("postgres://u:secret@127.0.0.1:5432/db"), "postgres://u:***@127.0.0.1:5432/db");
        assert_eq!(redact_url("sqlite:///tmp/x.db"), "sqlite:///tmp/x.db");
    }

    #[test]
    fn sorting_takes_only_allowed_columns() {
        let page = PageReq { limit: 10, offset: 20, sort: Some("name; DROP TABLE users".into()), descending: true };
        assert_eq!(order_by(&page, &["name"], "created_at"), " ORDER BY created_at DESC, id DESC LIMIT 10 OFFSET 20");
    }
}
