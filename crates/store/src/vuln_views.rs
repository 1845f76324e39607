//! Vulnerabilities across images (SPEC 3.1–3.3): what the current findings of every
//! image version of one kind (local, private, official) add up to. A version counts its
//! digest's current findings; findings that a later match dropped, and ignored ones, do
//! not count (ignored ones stay listed, marked).

use async_trait::async_trait;
use sqlx::Row;

use crate::images::contains_pattern;
use crate::sql::{Bind, SqlStore};
use crate::vuln_ignores::IGNORED;
use crate::{PageReq, Result, StoreError};

/// Findings per urgency.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UrgencyTally {
    pub fix_asap: i64,
    pub can_delay: i64,
    pub no_need_now: i64,
}

impl UrgencyTally {
    pub fn total(&self) -> i64 {
        self.fix_asap + self.can_delay + self.no_need_now
    }
}

/// An image version with its current findings per urgency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionTally {
    pub version_id: String,
    pub image_id: String,
    pub repository: String,
    pub tag: String,
    pub counts: UrgencyTally,
}

/// One vulnerability across the versions of a view.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VulnRow {
    pub vuln_id: String,
    /// Its most urgent finding's urgency.
    pub urgency: String,
    pub cves: Vec<String>,
    /// Versions that have it now, not ignored.
    pub affected_versions: i64,
    /// Versions that have it now, ignored.
    pub ignored_versions: i64,
    /// Packages it was found in.
    pub packages: Vec<String>,
}

/// Which vulnerabilities a list shows.
#[derive(Debug, Clone, Default)]
pub struct VulnFilter {
    /// `local`, `private` or `official`.
    pub kind: String,
    pub urgency: Option<String>,
    /// Part of the id, a CVE id or a package name (case-insensitive).
    pub text: Option<String>,
}

#[async_trait]
pub trait VulnViews: Send + Sync {
    /// The view's findings per urgency and the (at most) `top` versions with the most, as
    /// decisions to ignore stand at `now`.
    async fn vuln_summary(&self, kind: &str, top: u32, now: i64) -> Result<(UrgencyTally, Vec<VersionTally>)>;
    /// The view's vulnerabilities, most widespread first, and how many there are.
    async fn vuln_list(&self, filter: &VulnFilter, page: &PageReq, now: i64) -> Result<(Vec<VulnRow>, u64)>;
    /// The current findings per urgency, not ignored at `now`, of these versions (at most
    /// 1,000); a version without findings is absent.
    async fn version_counts(&self, version_ids: &[String], now: i64) -> Result<Vec<(String, UrgencyTally)>>;
}

/// The current findings of the versions of kind `$1`; `$2` is the time decisions are
/// judged at.
const CURRENT: &str = "FROM image_findings f JOIN image_versions v ON v.digest = f.digest \
     JOIN images i ON i.id = v.image_id WHERE i.kind = $1 AND f.gone_at IS NULL";

fn ignored() -> String {
    IGNORED.replace("$NOW", "$2")
}

const TALLY: &str = "SUM(CASE WHEN f.urgency = 'fix-asap' THEN 1 ELSE 0 END) AS fix_asap, \
     SUM(CASE WHEN f.urgency = 'can-delay' THEN 1 ELSE 0 END) AS can_delay, \
     SUM(CASE WHEN f.urgency = 'no-need-now' THEN 1 ELSE 0 END) AS no_need_now";

/// Urgencies by rank, most urgent first.
const URGENCIES: [&str; 3] = ["fix-asap", "can-delay", "no-need-now"];

fn tally_from(row: &sqlx::any::AnyRow) -> Result<UrgencyTally> {
    let n = |c: &str| -> Result<i64> { Ok(row.try_get::<Option<i64>, _>(c)?.unwrap_or(0)) };
    Ok(UrgencyTally { fix_asap: n("fix_asap")?, can_delay: n("can_delay")?, no_need_now: n("no_need_now")? })
}

fn list_where(f: &VulnFilter, now: i64) -> (String, Vec<Bind>) {
    let mut sql = String::from(CURRENT);
    let mut binds = vec![Bind::Text(f.kind.clone()), Bind::Int(now)];
    if let Some(u) = &f.urgency {
        binds.push(Bind::Text(u.clone()));
        sql.push_str(&format!(" AND f.urgency = ${}", binds.len()));
    }
    if let Some(text) = f.text.as_deref().filter(|t| !t.is_empty()) {
        binds.push(Bind::Text(contains_pattern(text)));
        let n = binds.len();
        sql.push_str(&format!(
            " AND (LOWER(f.vuln_id) LIKE ${n} ESCAPE '\\' OR LOWER(f.cves) LIKE ${n} ESCAPE '\\' \
             OR LOWER(f.package) LIKE ${n} ESCAPE '\\')"
        ));
    }
    (sql, binds)
}

#[async_trait]
impl VulnViews for SqlStore {
    async fn vuln_summary(&self, kind: &str, top: u32, now: i64) -> Result<(UrgencyTally, Vec<VersionTally>)> {
        let binds = [Bind::Text(kind.to_owned()), Bind::Int(now)];
        let counted = format!("{CURRENT} AND NOT {}", ignored());
        let all = self.rows(&format!("SELECT {TALLY} {counted}"), &binds).await?;
        let counts = all.first().map(tally_from).transpose()?.unwrap_or_default();
        let rows = self
            .rows(
                &format!(
                    "SELECT v.id AS version_id, i.id AS image_id, i.repository, v.tag, COUNT(*) AS n, {TALLY} {counted} \
                     GROUP BY v.id, i.id, i.repository, v.tag ORDER BY n DESC, i.repository, v.tag LIMIT {top}"
                ),
                &binds,
            )
            .await?;
        let top = rows
            .iter()
            .map(|r| {
                Ok(VersionTally {
                    version_id: r.try_get("version_id")?,
                    image_id: r.try_get("image_id")?,
                    repository: r.try_get("repository")?,
                    tag: r.try_get("tag")?,
                    counts: tally_from(r)?,
                })
            })
            .collect::<Result<_>>()?;
        Ok((counts, top))
    }

    async fn version_counts(&self, version_ids: &[String], now: i64) -> Result<Vec<(String, UrgencyTally)>> {
        if version_ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut binds = vec![Bind::Int(now)];
        binds.extend(version_ids.iter().take(1000).map(|id| Bind::Text(id.clone())));
        let marks: Vec<String> = (2..=binds.len()).map(|n| format!("${n}")).collect();
        let rows = self
            .rows(
                &format!(
                    "SELECT v.id AS version_id, {TALLY} FROM image_findings f \
                     JOIN image_versions v ON v.digest = f.digest JOIN images i ON i.id = v.image_id \
                     WHERE v.id IN ({}) AND f.gone_at IS NULL AND NOT {} GROUP BY v.id",
                    marks.join(", "),
                    IGNORED.replace("$NOW", "$1")
                ),
                &binds,
            )
            .await?;
        rows.iter().map(|r| Ok((r.try_get("version_id")?, tally_from(r)?))).collect()
    }

    async fn vuln_list(&self, f: &VulnFilter, page: &PageReq, now: i64) -> Result<(Vec<VulnRow>, u64)> {
        let (from, binds) = list_where(f, now);
        let ignored = ignored();
        let total = self.count(&format!("SELECT COUNT(DISTINCT f.vuln_id) {from}"), &binds).await?;
        let rank = "MIN(CASE f.urgency WHEN 'fix-asap' THEN 0 WHEN 'can-delay' THEN 1 ELSE 2 END)";
        let order = match page.sort.as_deref() {
            Some("id") => "f.vuln_id",
            Some("urgency") => "urgency_rank",
            _ => "affected",
        };
        // Most affected first by default; ties by id.
        let dir = if page.descending == (order == "affected") { "ASC" } else { "DESC" };
        let rows = self
            .rows(
                &format!(
                    "SELECT f.vuln_id, {rank} AS urgency_rank, MAX(f.cves) AS cves, \
                     COUNT(DISTINCT CASE WHEN {ignored} THEN NULL ELSE v.id END) AS affected, \
                     COUNT(DISTINCT CASE WHEN {ignored} THEN v.id ELSE NULL END) AS ignored_versions \
                     {from} GROUP BY f.vuln_id ORDER BY {order} {dir}, f.vuln_id LIMIT {} OFFSET {}",
                    page.limit.max(1),
                    page.offset
                ),
                &binds,
            )
            .await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            let cves: String = r.try_get("cves")?;
            let rank: i64 = r.try_get::<Option<i64>, _>("urgency_rank")?.unwrap_or(2);
            out.push(VulnRow {
                vuln_id: r.try_get("vuln_id")?,
                urgency: URGENCIES[usize::try_from(rank).unwrap_or(2).min(2)].to_owned(),
                cves: serde_json::from_str(&cves).map_err(|e| StoreError::Corrupt(format!("finding CVEs: {e}")))?,
                affected_versions: r.try_get("affected")?,
                ignored_versions: r.try_get("ignored_versions")?,
                packages: Vec::new(),
            });
        }
        // The packages of the page's vulnerabilities, in one more query.
        if !out.is_empty() {
            let mut b = binds.clone();
            let first = b.len() + 1;
            let marks: Vec<String> = (0..out.len()).map(|i| format!("${}", first + i)).collect();
            b.extend(out.iter().map(|v| Bind::Text(v.vuln_id.clone())));
            let rows = self
                .rows(
                    &format!(
                        "SELECT DISTINCT f.vuln_id, f.package {from} AND f.vuln_id IN ({}) ORDER BY f.package",
                        marks.join(", ")
                    ),
                    &b,
                )
                .await?;
            for r in &rows {
                let id: String = r.try_get("vuln_id")?;
                let package: String = r.try_get("package")?;
                if let Some(v) = out.iter_mut().find(|v| v.vuln_id == id) {
                    v.packages.push(package);
                }
            }
        }
        Ok((out, total))
    }
}
