//! The vulnerability findings of stored results, written in the same transaction as the
//! match that produced them, with history: what a new match no longer reports is marked
//! gone, not deleted.

use sqlx::any::AnyRow;
use sqlx::{AssertSqlSafe, Row};

use crate::sql::SqlStore;
use crate::{Result, StoreError};

/// One finding of one digest.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FindingRow {
    /// The distribution's advisory when there is one, else the vulnerability id.
    pub vuln_id: String,
    pub vulnerability: String,
    pub cves: Vec<String>,
    pub package: String,
    pub package_type: String,
    pub purl: String,
    pub installed_version: String,
    /// Empty when no fix is known.
    pub fixed_version: String,
    /// `fix-asap`, `can-delay` or `no-need-now`.
    pub urgency: String,
    /// The digest of the layer that brought the package ('' when unknown).
    pub layer: String,
}

/// A stored finding with its history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredFinding {
    pub digest: String,
    pub finding: FindingRow,
    pub first_seen: i64,
    pub last_seen: i64,
    /// When a match stopped reporting it; `None` while current.
    pub gone_at: Option<i64>,
}

/// Rows per INSERT statement.
const CHUNK: usize = 100;
const COLUMNS: usize = 13;

/// Replaces the current findings of `digest` within a transaction: the previous ones are
/// marked gone at `now`, then this match's findings are written as current (keeping when
/// each was first seen).
pub(crate) async fn replace(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    digest: &str,
    findings: &[FindingRow],
    now: i64,
) -> Result<()> {
    // The views across images count this digest's versions again (marks are only ever
    // inserted: see migration 0011).
    sqlx::query("INSERT INTO digest_view_dirty (mark, digest) VALUES ($1, $2)")
        .bind(crate::vuln_views::new_mark())
        .bind(digest)
        .execute(&mut **tx)
        .await?;
    sqlx::query("UPDATE image_findings SET gone_at = $2 WHERE digest = $1 AND gone_at IS NULL")
        .bind(digest)
        .bind(now)
        .execute(&mut **tx)
        .await?;
    // One finding per key: a match may report a package twice (two paths).
    let mut seen = std::collections::HashSet::new();
    let unique: Vec<&FindingRow> = findings
        .iter()
        .filter(|f| seen.insert((f.vuln_id.as_str(), f.package.as_str(), f.installed_version.as_str())))
        .collect();
    for chunk in unique.chunks(CHUNK) {
        let values: Vec<String> = (0..chunk.len())
            .map(|i| {
                let p: Vec<String> = (1..=COLUMNS).map(|c| format!("${}", i * COLUMNS + c)).collect();
                format!("({}, NULL)", p.join(", "))
            })
            .collect();
        let sql = format!(
            "INSERT INTO image_findings (digest, vuln_id, package, installed_version, vulnerability, cves, \
             package_type, purl, fixed_version, urgency, layer, first_seen, last_seen, gone_at) VALUES {} \
             ON CONFLICT (digest, vuln_id, package, installed_version) DO UPDATE SET \
             vulnerability = EXCLUDED.vulnerability, cves = EXCLUDED.cves, package_type = EXCLUDED.package_type, \
             purl = EXCLUDED.purl, fixed_version = EXCLUDED.fixed_version, urgency = EXCLUDED.urgency, \
             layer = EXCLUDED.layer, last_seen = EXCLUDED.last_seen, gone_at = NULL",
            values.join(", ")
        );
        let mut q = sqlx::query(AssertSqlSafe(sql));
        for f in chunk {
            q = q
                .bind(digest)
                .bind(&f.vuln_id)
                .bind(&f.package)
                .bind(&f.installed_version)
                .bind(&f.vulnerability)
                .bind(serde_json::to_string(&f.cves).unwrap_or_else(|_| "[]".into()))
                .bind(&f.package_type)
                .bind(&f.purl)
                .bind(&f.fixed_version)
                .bind(&f.urgency)
                .bind(&f.layer)
                .bind(now)
                .bind(now);
        }
        q.execute(&mut **tx).await?;
    }
    // And every vulnerability the digest has or had: those it lost, those it gained.
    sqlx::query(
        "INSERT INTO vuln_view_dirty (mark, vuln_id) SELECT $2 || vuln_id, vuln_id FROM image_findings \
         WHERE digest = $1 GROUP BY vuln_id",
    )
    .bind(digest)
    .bind(crate::vuln_views::new_mark())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

fn stored_from(row: &AnyRow) -> Result<StoredFinding> {
    let cves: String = row.try_get("cves")?;
    Ok(StoredFinding {
        digest: row.try_get("digest")?,
        finding: FindingRow {
            vuln_id: row.try_get("vuln_id")?,
            vulnerability: row.try_get("vulnerability")?,
            cves: serde_json::from_str(&cves).map_err(|e| StoreError::Corrupt(format!("finding CVEs: {e}")))?,
            package: row.try_get("package")?,
            package_type: row.try_get("package_type")?,
            purl: row.try_get("purl")?,
            installed_version: row.try_get("installed_version")?,
            fixed_version: row.try_get("fixed_version")?,
            urgency: row.try_get("urgency")?,
            layer: row.try_get("layer")?,
        },
        first_seen: row.try_get("first_seen")?,
        last_seen: row.try_get("last_seen")?,
        gone_at: row.try_get("gone_at")?,
    })
}

impl SqlStore {
    /// Every finding of a digest, current and gone, by id.
    pub(crate) async fn findings_of(&self, digest: &str) -> Result<Vec<StoredFinding>> {
        let rows =
            sqlx::query("SELECT * FROM image_findings WHERE digest = $1 ORDER BY vuln_id, package, installed_version")
                .bind(digest)
                .fetch_all(&self.pool)
                .await?;
        rows.iter().map(stored_from).collect()
    }
}
