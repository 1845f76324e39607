//! Decisions to ignore a vulnerability, for all images, one repository or one version.
//! The views read them through [`IGNORED`]; they are kept whether or not any finding
//! matches them now, so that a decision carries to the next tag or the next scan.

use async_trait::async_trait;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::sql::SqlStore;
use crate::{Result, StoreError};

/// One decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IgnoreRow {
    pub id: String,
    pub vuln_id: String,
    /// `all`, `repository` or `version`.
    pub scope: String,
    /// The catalogue image id (`repository`), the version id (`version`), '' (`all`).
    pub subject: String,
    /// `not-affected`, `accepted-risk` or `false-positive`.
    pub kind: String,
    pub justification: String,
    pub reason: String,
    pub author: String,
    pub created_at: i64,
    pub expires_at: Option<i64>,
    pub until_fixed: bool,
}

/// SQL that is true when finding `f` of version `v` (image `i`) is ignored at the time
/// bound as `$NOW` (the caller replaces the placeholder with its parameter number).
pub(crate) const IGNORED: &str = "EXISTS (SELECT 1 FROM vuln_ignores g WHERE g.vuln_id = f.vuln_id \
     AND (g.expires_at IS NULL OR g.expires_at > $NOW) AND (g.until_fixed = 0 OR f.fixed_version = '') \
     AND (g.scope = 'all' OR (g.scope = 'repository' AND g.subject = i.id) \
     OR (g.scope = 'version' AND g.subject = v.id)))";

#[async_trait]
pub trait IgnoreStore: Send + Sync {
    /// Records a decision, replacing the one for the same vulnerability and scope.
    async fn put_ignore(&self, row: &IgnoreRow) -> Result<IgnoreRow>;
    /// Removes a decision; `None` when there was none.
    async fn remove_ignore(&self, vuln_id: &str, scope: &str, subject: &str) -> Result<Option<IgnoreRow>>;
    /// Every decision, for one vulnerability or all, oldest first (at most `limit`).
    async fn list_ignores(&self, vuln_id: Option<&str>, limit: u32) -> Result<Vec<IgnoreRow>>;
    /// The decisions that concern one version: for all images, its repository (catalogue
    /// image `image_id`) or itself.
    async fn ignores_for(&self, image_id: &str, version_id: &str) -> Result<Vec<IgnoreRow>>;
}

impl IgnoreRow {
    /// Whether the decision covers a finding with this fix (`''`: none known) at `now`.
    pub fn covers(&self, fixed_version: &str, now: i64) -> bool {
        self.expires_at.is_none_or(|t| t > now) && (!self.until_fixed || fixed_version.is_empty())
    }
}

fn ignore_from(row: &AnyRow) -> Result<IgnoreRow> {
    Ok(IgnoreRow {
        id: row.try_get("id")?,
        vuln_id: row.try_get("vuln_id")?,
        scope: row.try_get("scope")?,
        subject: row.try_get("subject")?,
        kind: row.try_get("kind")?,
        justification: row.try_get("justification")?,
        reason: row.try_get("reason")?,
        author: row.try_get("author")?,
        created_at: row.try_get("created_at")?,
        expires_at: row.try_get("expires_at")?,
        until_fixed: row.try_get::<i64, _>("until_fixed")? != 0,
    })
}

impl SqlStore {
    /// The views count a vulnerability again (its rows, and what it takes off each version).
    async fn mark_vuln_dirty(&self, vuln_id: &str) -> Result<()> {
        let _w = self.writing().await;
        sqlx::query("INSERT INTO vuln_view_dirty (mark, vuln_id) VALUES ($1, $2)")
            .bind(crate::vuln_views::new_mark())
            .bind(vuln_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn ignore_of(&self, vuln_id: &str, scope: &str, subject: &str) -> Result<Option<IgnoreRow>> {
        let row = sqlx::query("SELECT * FROM vuln_ignores WHERE vuln_id = $1 AND scope = $2 AND subject = $3")
            .bind(vuln_id)
            .bind(scope)
            .bind(subject)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(ignore_from).transpose()
    }
}

#[async_trait]
impl IgnoreStore for SqlStore {
    async fn put_ignore(&self, g: &IgnoreRow) -> Result<IgnoreRow> {
        {
            let _w = self.writing().await;
            sqlx::query(
                "INSERT INTO vuln_ignores (id, vuln_id, scope, subject, kind, justification, reason, author, \
                 created_at, expires_at, until_fixed) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) \
                 ON CONFLICT (vuln_id, scope, subject) DO UPDATE SET kind = EXCLUDED.kind, \
                 justification = EXCLUDED.justification, reason = EXCLUDED.reason, author = EXCLUDED.author, \
                 created_at = EXCLUDED.created_at, expires_at = EXCLUDED.expires_at, until_fixed = EXCLUDED.until_fixed",
            )
            .bind(&g.id)
            .bind(&g.vuln_id)
            .bind(&g.scope)
            .bind(&g.subject)
            .bind(&g.kind)
            .bind(&g.justification)
            .bind(&g.reason)
            .bind(&g.author)
            .bind(g.created_at)
            .bind(g.expires_at)
            .bind(i64::from(g.until_fixed))
            .execute(&self.pool)
            .await?;
        }
        self.mark_vuln_dirty(&g.vuln_id).await?;
        self.ignore_of(&g.vuln_id, &g.scope, &g.subject).await?.ok_or_else(|| StoreError::NotFound("decision".into()))
    }

    async fn remove_ignore(&self, vuln_id: &str, scope: &str, subject: &str) -> Result<Option<IgnoreRow>> {
        let Some(found) = self.ignore_of(vuln_id, scope, subject).await? else {
            return Ok(None);
        };
        {
            let _w = self.writing().await;
            sqlx::query("DELETE FROM vuln_ignores WHERE id = $1").bind(&found.id).execute(&self.pool).await?;
        }
        self.mark_vuln_dirty(vuln_id).await?;
        Ok(Some(found))
    }

    async fn list_ignores(&self, vuln_id: Option<&str>, limit: u32) -> Result<Vec<IgnoreRow>> {
        let rows = match vuln_id {
            Some(v) => {
                sqlx::query("SELECT * FROM vuln_ignores WHERE vuln_id = $1 ORDER BY created_at, id LIMIT $2")
                    .bind(v)
                    .bind(i64::from(limit))
                    .fetch_all(&self.pool)
                    .await?
            }
            None => {
                sqlx::query("SELECT * FROM vuln_ignores ORDER BY created_at, id LIMIT $1")
                    .bind(i64::from(limit))
                    .fetch_all(&self.pool)
                    .await?
            }
        };
        rows.iter().map(ignore_from).collect()
    }

    async fn ignores_for(&self, image_id: &str, version_id: &str) -> Result<Vec<IgnoreRow>> {
        let rows = sqlx::query(
            "SELECT * FROM vuln_ignores WHERE scope = 'all' OR (scope = 'repository' AND subject = $1) \
             OR (scope = 'version' AND subject = $2) ORDER BY created_at, id",
        )
        .bind(image_id)
        .bind(version_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(ignore_from).collect()
    }
}
