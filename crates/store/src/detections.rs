//! Malicious files and baseline results of stored results, one row per finding, and the
//! lists across images that read them (SPEC 3.4, 3.5).

use async_trait::async_trait;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::images::contains_pattern;
use crate::sql::{Bind, SqlStore, now_ms};
use crate::{PageReq, Result};

/// A malicious file of a digest.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MalwareRow {
    pub path: String,
    pub rule: String,
    pub file_name: String,
    pub category: String,
    pub description: String,
    pub severity: String,
    pub sha256: String,
    pub size: i64,
}

/// A baseline check's result for a digest.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BaselineRow {
    pub check_id: String,
    pub title: String,
    /// `High`, `Medium` or `Low`.
    pub level: String,
    pub method: String,
    /// `passed`, `failed` or `not-applicable`.
    pub result: String,
    pub problem: String,
    pub advice: String,
}

/// What a result found besides vulnerabilities.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Detections {
    pub malware: Vec<MalwareRow>,
    pub baseline: Vec<BaselineRow>,
}

/// Where a row of a list across images is: the version of one kind that holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place {
    pub kind: String,
    pub organisation: String,
    pub repository: String,
    pub image_id: String,
    pub version_id: String,
    pub tag: String,
}

/// A check across a view: failed in how many versions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckTally {
    pub check_id: String,
    pub title: String,
    pub level: String,
    pub method: String,
    pub failed_versions: i64,
}

#[async_trait]
pub trait DetectionViews: Send + Sync {
    /// Replaces what a digest's result found besides vulnerabilities.
    async fn set_detections(&self, digest: &str, found: &Detections) -> Result<()>;
    /// Malicious files in the versions of a kind, by file name (`text`: part of the name).
    async fn malware_list(
        &self,
        kind: &str,
        text: Option<&str>,
        page: &PageReq,
    ) -> Result<(Vec<(MalwareRow, Place)>, u64)>;
    /// Checks that failed in some version of a kind, by level.
    async fn baseline_list(&self, kind: &str, level: Option<&str>, page: &PageReq) -> Result<(Vec<CheckTally>, u64)>;
    /// The versions of a kind where a check failed, with when the result was made.
    async fn baseline_check(
        &self,
        kind: &str,
        check_id: &str,
        page: &PageReq,
    ) -> Result<(Vec<(BaselineRow, Place, i64)>, u64)>;
}

/// Within a transaction: replaces a digest's rows.
pub(crate) async fn replace(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    digest: &str,
    found: &Detections,
    now: i64,
) -> Result<()> {
    sqlx::query("DELETE FROM image_malware WHERE digest = $1").bind(digest).execute(&mut **tx).await?;
    sqlx::query("DELETE FROM image_baseline WHERE digest = $1").bind(digest).execute(&mut **tx).await?;
    let mut seen = std::collections::HashSet::new();
    for m in found.malware.iter().filter(|m| seen.insert((m.path.as_str(), m.rule.as_str()))) {
        sqlx::query(
            "INSERT INTO image_malware (digest, path, rule, file_name, category, description, severity, sha256, size) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(digest)
        .bind(&m.path)
        .bind(&m.rule)
        .bind(&m.file_name)
        .bind(&m.category)
        .bind(&m.description)
        .bind(&m.severity)
        .bind(&m.sha256)
        .bind(m.size)
        .execute(&mut **tx)
        .await?;
    }
    let mut seen = std::collections::HashSet::new();
    for b in found.baseline.iter().filter(|b| seen.insert(b.check_id.as_str())) {
        sqlx::query(
            "INSERT INTO image_baseline (digest, check_id, title, level, method, result, problem, advice, checked_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(digest)
        .bind(&b.check_id)
        .bind(&b.title)
        .bind(&b.level)
        .bind(&b.method)
        .bind(&b.result)
        .bind(&b.problem)
        .bind(&b.advice)
        .bind(now)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

const PLACE: &str = "i.kind, i.organisation, i.repository, i.id AS image_id, v.id AS version_id, v.tag";

fn place_from(r: &AnyRow) -> Result<Place> {
    Ok(Place {
        kind: r.try_get("kind")?,
        organisation: r.try_get("organisation")?,
        repository: r.try_get("repository")?,
        image_id: r.try_get("image_id")?,
        version_id: r.try_get("version_id")?,
        tag: r.try_get("tag")?,
    })
}

fn limit(page: &PageReq) -> String {
    format!(" LIMIT {} OFFSET {}", page.limit.max(1), page.offset)
}

#[async_trait]
impl DetectionViews for SqlStore {
    async fn set_detections(&self, digest: &str, found: &Detections) -> Result<()> {
        let _w = self.writing().await;
        let mut tx = self.pool.begin().await?;
        replace(&mut tx, digest, found, now_ms()).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn malware_list(
        &self,
        kind: &str,
        text: Option<&str>,
        page: &PageReq,
    ) -> Result<(Vec<(MalwareRow, Place)>, u64)> {
        let mut sql = String::from(
            " FROM image_malware m JOIN image_versions v ON v.digest = m.digest JOIN images i ON i.id = v.image_id \
             WHERE i.kind = $1",
        );
        let mut binds = vec![Bind::Text(kind.to_owned())];
        if let Some(t) = text.filter(|t| !t.is_empty()) {
            binds.push(Bind::Text(contains_pattern(t)));
            sql.push_str(&format!(" AND LOWER(m.file_name) LIKE ${} ESCAPE '\\'", binds.len()));
        }
        let total = self.count(&format!("SELECT COUNT(*){sql}"), &binds).await?;
        let order = match page.sort.as_deref() {
            Some("path") => "m.path",
            Some("type") => "m.category",
            Some("repository") => "i.repository",
            _ => "m.file_name",
        };
        let dir = if page.descending { "DESC" } else { "ASC" };
        let rows = self
            .rows(
                &format!("SELECT m.*, {PLACE}{sql} ORDER BY {order} {dir}, m.path, i.repository, v.tag{}", limit(page)),
                &binds,
            )
            .await?;
        let items = rows
            .iter()
            .map(|r| {
                Ok((
                    MalwareRow {
                        path: r.try_get("path")?,
                        rule: r.try_get("rule")?,
                        file_name: r.try_get("file_name")?,
                        category: r.try_get("category")?,
                        description: r.try_get("description")?,
                        severity: r.try_get("severity")?,
                        sha256: r.try_get("sha256")?,
                        size: r.try_get("size")?,
                    },
                    place_from(r)?,
                ))
            })
            .collect::<Result<_>>()?;
        Ok((items, total))
    }

    async fn baseline_list(&self, kind: &str, level: Option<&str>, page: &PageReq) -> Result<(Vec<CheckTally>, u64)> {
        let mut sql = String::from(
            " FROM image_baseline b JOIN image_versions v ON v.digest = b.digest JOIN images i ON i.id = v.image_id \
             WHERE i.kind = $1 AND b.result = 'failed'",
        );
        let mut binds = vec![Bind::Text(kind.to_owned())];
        if let Some(l) = level {
            binds.push(Bind::Text(l.to_owned()));
            sql.push_str(&format!(" AND b.level = ${}", binds.len()));
        }
        let total = self.count(&format!("SELECT COUNT(DISTINCT b.check_id){sql}"), &binds).await?;
        let order = match page.sort.as_deref() {
            Some("id") => "b.check_id",
            Some("level") => "level_rank",
            _ => "failed",
        };
        let dir = if page.descending == (order == "failed") { "ASC" } else { "DESC" };
        let rows = self
            .rows(
                &format!(
                    "SELECT b.check_id, MAX(b.title) AS title, MAX(b.level) AS level, MAX(b.method) AS method, \
                     MIN(CASE b.level WHEN 'High' THEN 0 WHEN 'Medium' THEN 1 ELSE 2 END) AS level_rank, \
                     COUNT(DISTINCT v.id) AS failed{sql} GROUP BY b.check_id ORDER BY {order} {dir}, b.check_id{}",
                    limit(page)
                ),
                &binds,
            )
            .await?;
        let items = rows
            .iter()
            .map(|r| {
                Ok(CheckTally {
                    check_id: r.try_get("check_id")?,
                    title: r.try_get("title")?,
                    level: r.try_get("level")?,
                    method: r.try_get("method")?,
                    failed_versions: r.try_get("failed")?,
                })
            })
            .collect::<Result<_>>()?;
        Ok((items, total))
    }

    async fn baseline_check(
        &self,
        kind: &str,
        check_id: &str,
        page: &PageReq,
    ) -> Result<(Vec<(BaselineRow, Place, i64)>, u64)> {
        let sql = " FROM image_baseline b JOIN image_versions v ON v.digest = b.digest \
                   JOIN images i ON i.id = v.image_id WHERE i.kind = $1 AND b.check_id = $2 AND b.result = 'failed'";
        let binds = [Bind::Text(kind.to_owned()), Bind::Text(check_id.to_owned())];
        let total = self.count(&format!("SELECT COUNT(*){sql}"), &binds).await?;
        let rows =
            self.rows(&format!("SELECT b.*, {PLACE}{sql} ORDER BY i.repository, v.tag{}", limit(page)), &binds).await?;
        let items = rows
            .iter()
            .map(|r| {
                Ok((
                    BaselineRow {
                        check_id: r.try_get("check_id")?,
                        title: r.try_get("title")?,
                        level: r.try_get("level")?,
                        method: r.try_get("method")?,
                        result: r.try_get("result")?,
                        problem: r.try_get("problem")?,
                        advice: r.try_get("advice")?,
                    },
                    place_from(r)?,
                    r.try_get("checked_at")?,
                ))
            })
            .collect::<Result<_>>()?;
        Ok((items, total))
    }
}
