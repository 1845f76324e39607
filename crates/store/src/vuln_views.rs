//! Vulnerabilities across images (SPEC 3.1–3.3): what the current findings of every
//! image version of one kind (local, private, official) add up to. A version counts its
//! digest's current findings; findings that a later match dropped, and ignored ones, do
//! not count (ignored ones stay listed, marked).
//!
//! The views read two small tables kept from the findings (migration 0011): a tally per
//! version and a row per view and vulnerability. Writes mark what they change (a match
//! marks its digest and the vulnerabilities it had; a decision marks its vulnerability);
//! versions added or removed and decisions that lapsed are found at the next read, which
//! brings the marked rows up to date first ([`VulnViews::refresh`]). So a view costs the
//! same whatever the number of findings, and a change costs what it touches.

use async_trait::async_trait;
use sqlx::{AssertSqlSafe, Row};

use crate::images::contains_pattern;
use crate::sql::{Bind, SqlStore};
use crate::vuln_ignores::IGNORED;
use crate::{Backend, MatchCounts, PageReq, Result, StoreError};

/// An image version with its current findings per urgency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionTally {
    pub version_id: String,
    pub image_id: String,
    pub repository: String,
    pub tag: String,
    pub counts: MatchCounts,
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
    /// Versions that ever had it, in any kept finding (a later scan or database may have
    /// dropped it).
    pub ever_versions: i64,
    /// Packages it was found in, sorted.
    pub packages: Vec<String>,
    /// The fixes known now, `package to version`, sorted.
    pub fixes: Vec<String>,
}

/// One finding of a vulnerability in one version of a view, now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AffectedRow {
    pub image_id: String,
    pub repository: String,
    pub organisation: String,
    pub version_id: String,
    pub tag: String,
    pub size: i64,
    pub package: String,
    pub installed_version: String,
    pub fixed_version: String,
    pub urgency: String,
    pub cves: Vec<String>,
    pub ignored: bool,
}

/// Which vulnerabilities a list shows.
#[derive(Debug, Clone, Default)]
pub struct VulnFilter {
    /// `local`, `private` or `official`.
    pub kind: String,
    /// Vulnerabilities whose most urgent finding has this urgency.
    pub urgency: Option<String>,
    /// Part of the id, a CVE id or a package name (case-insensitive).
    pub text: Option<String>,
}

#[async_trait]
pub trait VulnViews: Send + Sync {
    /// Brings what changed since the last read up to date, as decisions stand at `now`
    /// (every view calls it first).
    async fn refresh(&self, now: i64) -> Result<()>;
    /// The view's findings per urgency and the (at most) `top` versions with the most.
    async fn vuln_summary(&self, kind: &str, top: u32, now: i64) -> Result<(MatchCounts, Vec<VersionTally>)>;
    /// The view's vulnerabilities, most widespread first, and how many there are.
    async fn vuln_list(&self, filter: &VulnFilter, page: &PageReq, now: i64) -> Result<(Vec<VulnRow>, u64)>;
    /// The package URLs a vulnerability was ever found in (at most 1,000).
    async fn vuln_purls(&self, vuln_id: &str) -> Result<Vec<String>>;
    /// Where a vulnerability is now in a view: its current findings, by repository and tag
    /// (at most `limit`).
    async fn vuln_affected(&self, kind: &str, vuln_id: &str, now: i64, limit: u32) -> Result<Vec<AffectedRow>>;
    /// The current findings per urgency, not ignored at `now`, of these versions (at most
    /// 1,000); a version without findings is absent.
    async fn version_counts(&self, version_ids: &[String], now: i64) -> Result<Vec<(String, MatchCounts)>>;
}

/// A new mark's key prefix: unique, so that marks are only ever inserted.
pub(crate) fn new_mark() -> String {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    format!("{:x}-{}-{n}:", std::process::id(), crate::sql::now_ms())
}

/// Urgencies by rank, most urgent first.
const URGENCIES: [&str; 3] = ["fix-asap", "can-delay", "no-need-now"];
const REFRESH_LOCK: i64 = 0x7675_6c6e_7669_6577; // "vulnview"

/// Versions added, removed or pointed at another digest since their tally was made.
const VERSIONS_CHANGED: &str = "SELECT v.digest FROM image_versions v \
     LEFT JOIN version_vuln_tallies t ON t.version_id = v.id WHERE t.version_id IS NULL OR t.digest <> v.digest \
     UNION SELECT t.digest FROM version_vuln_tallies t LEFT JOIN image_versions v ON v.id = t.version_id \
     WHERE v.id IS NULL";

/// What decisions take off each version of kind `$1` (joined as `g` to tallies `t`).
const OFF: &str = "LEFT JOIN (SELECT version_id, CAST(SUM(fix_asap) AS BIGINT) AS fix_asap, \
     CAST(SUM(can_delay) AS BIGINT) AS can_delay, CAST(SUM(no_need_now) AS BIGINT) AS no_need_now, \
     CAST(SUM(total) AS BIGINT) AS total FROM version_ignored WHERE kind = $1 GROUP BY version_id) g \
     ON g.version_id = t.version_id";

/// A version's counts less what decisions take off.
const NET: &str = "t.fix_asap - COALESCE(g.fix_asap, 0) AS fix_asap, t.can_delay - COALESCE(g.can_delay, 0) AS can_delay, \
     t.no_need_now - COALESCE(g.no_need_now, 0) AS no_need_now";

/// Decisions that lapsed between the last refresh ($1) and now ($2).
const LAPSED: &str = "SELECT vuln_id FROM vuln_ignores WHERE expires_at > $1 AND expires_at <= $2";

fn tally_from(row: &sqlx::any::AnyRow) -> Result<MatchCounts> {
    let n = |c: &str| -> Result<i64> { Ok(row.try_get::<Option<i64>, _>(c)?.unwrap_or(0)) };
    Ok(MatchCounts { fix_asap: n("fix_asap")?, can_delay: n("can_delay")?, no_need_now: n("no_need_now")? })
}

impl SqlStore {
    async fn refresh_needed(&self, now: i64) -> Result<bool> {
        let last: i64 =
            sqlx::query_scalar("SELECT refreshed_at FROM vuln_view_state WHERE id = 1").fetch_one(&self.pool).await?;
        let needed: i64 = sqlx::query_scalar(AssertSqlSafe(format!(
            "SELECT CASE WHEN EXISTS (SELECT 1 FROM vuln_view_dirty) OR EXISTS (SELECT 1 FROM digest_view_dirty) \
             OR EXISTS (SELECT 1 FROM digest_vulns_dirty) \
             OR EXISTS ({LAPSED}) OR EXISTS ({VERSIONS_CHANGED}) THEN 1 ELSE 0 END"
        )))
        .bind(last)
        .bind(now)
        .fetch_one(&self.pool)
        .await?;
        Ok(needed == 1)
    }

    async fn refresh_in(&self, tx: &mut sqlx::Transaction<'_, sqlx::Any>, now: i64) -> Result<()> {
        let last: i64 =
            sqlx::query_scalar("SELECT refreshed_at FROM vuln_view_state WHERE id = 1").fetch_one(&mut **tx).await?;
        let exec = |sql: String| sqlx::query(AssertSqlSafe(sql));
        // What changed without a mark: decisions that lapsed, versions added or removed.
        let mark = new_mark();
        exec(format!(
            "INSERT INTO vuln_view_dirty (mark, vuln_id) SELECT $3 || vuln_id, vuln_id FROM ({LAPSED}) l \
             WHERE vuln_id <> '' GROUP BY vuln_id"
        ))
        .bind(last)
        .bind(now)
        .bind(&mark)
        .execute(&mut **tx)
        .await?;
        // Found once, marked for both: the versions' tallies and their vulnerabilities.
        exec(format!(
            "INSERT INTO digest_vulns_dirty (mark, digest) SELECT $1 || digest, digest FROM ({VERSIONS_CHANGED}) c \
             WHERE digest IS NOT NULL GROUP BY digest"
        ))
        .bind(&mark)
        .execute(&mut **tx)
        .await?;
        exec(
            "INSERT INTO digest_view_dirty (mark, digest) SELECT mark, digest FROM digest_vulns_dirty \
              WHERE substr(mark, 1, length($1)) = $1"
                .into(),
        )
        .bind(&mark)
        .execute(&mut **tx)
        .await?;
        // A digest whose versions changed changes the counts of every vulnerability it has
        // or had.
        exec(
            "INSERT INTO vuln_view_dirty (mark, vuln_id) SELECT $1 || 'x' || f.vuln_id, f.vuln_id FROM image_findings f \
              WHERE f.digest IN (SELECT digest FROM digest_vulns_dirty) GROUP BY f.vuln_id"
                .into(),
        )
        .bind(&mark)
        .execute(&mut **tx)
        .await?;

        // Claim what is marked now: marks that writers add from here on wait for the next
        // refresh (every step below reads the claimed rows only, and only they are removed).
        for table in ["vuln_view_dirty", "digest_view_dirty", "digest_vulns_dirty"] {
            exec(format!("UPDATE {table} SET claim = 1")).execute(&mut **tx).await?;
        }

        // The tallies of the marked digests' versions, decisions aside.
        exec(
            "DELETE FROM version_vuln_tallies WHERE digest IN (SELECT digest FROM digest_view_dirty WHERE claim = 1) \
              OR version_id IN (SELECT id FROM image_versions WHERE digest IN (SELECT digest FROM digest_view_dirty WHERE claim = 1)) \
              OR version_id NOT IN (SELECT id FROM image_versions)"
                .into(),
        )
        .execute(&mut **tx)
        .await?;
        let counted = |urgency: &str| format!("SUM(CASE WHEN f.urgency = '{urgency}' THEN 1 ELSE 0 END)");
        let tally = format!("{}, {}, {}", counted("fix-asap"), counted("can-delay"), counted("no-need-now"));
        exec(format!(
            "INSERT INTO version_vuln_tallies (version_id, digest, kind, fix_asap, can_delay, no_need_now, total) \
             SELECT v.id, v.digest, i.kind, {tally}, SUM(CASE WHEN f.digest IS NOT NULL THEN 1 ELSE 0 END) \
             FROM image_versions v JOIN images i ON i.id = v.image_id \
             LEFT JOIN image_findings f ON f.digest = v.digest AND f.gone_at IS NULL \
             WHERE v.digest IN (SELECT digest FROM digest_view_dirty WHERE claim = 1) GROUP BY v.id, v.digest, i.kind"
        ))
        .execute(&mut **tx)
        .await?;

        // What decisions take off each version: for the marked vulnerabilities everywhere,
        // for the marked digests' versions every vulnerability with a decision.
        let ignored = IGNORED.replace("$NOW", "$1");
        exec(
            "DELETE FROM version_ignored WHERE vuln_id IN (SELECT vuln_id FROM vuln_view_dirty WHERE claim = 1) \
              OR version_id IN (SELECT id FROM image_versions WHERE digest IN (SELECT digest FROM digest_view_dirty WHERE claim = 1)) \
              OR version_id NOT IN (SELECT id FROM image_versions)"
                .into(),
        )
        .execute(&mut **tx)
        .await?;
        let insert_ignored = "INSERT INTO version_ignored (version_id, vuln_id, kind, fix_asap, can_delay, no_need_now, \
             total) SELECT v.id, f.vuln_id, i.kind";
        let from =
            "FROM image_findings f JOIN image_versions v ON v.digest = f.digest JOIN images i ON i.id = v.image_id";
        exec(format!(
            "{insert_ignored}, {tally}, COUNT(*) {from} WHERE f.gone_at IS NULL \
             AND f.vuln_id IN (SELECT vuln_id FROM vuln_view_dirty WHERE claim = 1) AND {ignored} GROUP BY v.id, f.vuln_id, i.kind"
        ))
        .bind(now)
        .execute(&mut **tx)
        .await?;
        exec(format!(
            "{insert_ignored}, {tally}, COUNT(*) {from} \
             WHERE f.digest IN (SELECT digest FROM digest_view_dirty WHERE claim = 1) AND f.gone_at IS NULL \
             AND f.vuln_id IN (SELECT vuln_id FROM vuln_ignores) \
             AND f.vuln_id NOT IN (SELECT vuln_id FROM vuln_view_dirty WHERE claim = 1) AND {ignored} \
             GROUP BY v.id, f.vuln_id, i.kind"
        ))
        .bind(now)
        .execute(&mut **tx)
        .await?;

        let (packages, fixes) = match self.backend {
            Backend::Postgres => (
                "string_agg(DISTINCT f.package, ',')",
                "string_agg(DISTINCT CASE WHEN f.gone_at IS NULL AND f.fixed_version <> '' \
                 THEN f.package || ' to ' || f.fixed_version END, ',')",
            ),
            Backend::Sqlite => (
                "group_concat(DISTINCT f.package)",
                "group_concat(DISTINCT CASE WHEN f.gone_at IS NULL AND f.fixed_version <> '' \
                 THEN f.package || ' to ' || f.fixed_version END)",
            ),
        };
        exec(
            "DELETE FROM vuln_view_stats WHERE vuln_id IN (SELECT vuln_id FROM vuln_view_dirty WHERE claim = 1)".into(),
        )
        .execute(&mut **tx)
        .await?;
        // Every kept finding, gone ones for the history: the current ones decide the
        // urgency and the counts.
        exec(format!(
            "INSERT INTO vuln_view_stats (kind, vuln_id, urgency_rank, cves, packages, fixes, search, affected, \
             ignored, ever) SELECT i.kind, f.vuln_id, \
             MIN(CASE WHEN f.gone_at IS NOT NULL THEN 3 WHEN f.urgency = 'fix-asap' THEN 0 \
             WHEN f.urgency = 'can-delay' THEN 1 ELSE 2 END), MAX(f.cves), \
             {packages}, COALESCE({fixes}, ''), LOWER(f.vuln_id || ' ' || MAX(f.cves) || ' ' || {packages}), \
             COUNT(DISTINCT CASE WHEN f.gone_at IS NULL AND NOT {ignored} THEN v.id ELSE NULL END), \
             COUNT(DISTINCT CASE WHEN f.gone_at IS NULL AND {ignored} THEN v.id ELSE NULL END), \
             COUNT(DISTINCT v.id) \
             FROM image_findings f JOIN image_versions v ON v.digest = f.digest JOIN images i ON i.id = v.image_id \
             WHERE f.vuln_id IN (SELECT vuln_id FROM vuln_view_dirty WHERE claim = 1) GROUP BY i.kind, f.vuln_id"
        ))
        .bind(now)
        .execute(&mut **tx)
        .await?;
        for table in ["vuln_view_dirty", "digest_view_dirty", "digest_vulns_dirty"] {
            exec(format!("DELETE FROM {table} WHERE claim = 1")).execute(&mut **tx).await?;
        }
        sqlx::query("UPDATE vuln_view_state SET refreshed_at = $1 WHERE id = 1").bind(now).execute(&mut **tx).await?;
        Ok(())
    }
}

#[async_trait]
impl VulnViews for SqlStore {
    async fn refresh(&self, now: i64) -> Result<()> {
        if !self.refresh_needed(now).await? {
            return Ok(());
        }
        let _w = self.writing().await;
        let postgres = self.backend == Backend::Postgres;
        let mut conn = self.pool.acquire().await?;
        if postgres {
            // One refresh at a time across replicas, locked before the transaction begins so
            // that its snapshot holds what the previous refresh wrote.
            sqlx::query("SELECT pg_advisory_lock($1)").bind(REFRESH_LOCK).execute(&mut *conn).await?;
        }
        let outcome = async {
            let mut tx = sqlx::Acquire::begin(&mut *conn).await?;
            self.refresh_in(&mut tx, now).await?;
            tx.commit().await?;
            Ok(())
        }
        .await;
        if postgres
            && sqlx::query("SELECT pg_advisory_unlock($1)").bind(REFRESH_LOCK).execute(&mut *conn).await.is_err()
        {
            // A connection that may still hold the lock is not given back to the pool.
            drop(conn.detach());
        }
        outcome
    }

    async fn vuln_summary(&self, kind: &str, top: u32, now: i64) -> Result<(MatchCounts, Vec<VersionTally>)> {
        self.refresh(now).await?;
        let binds = [Bind::Text(kind.to_owned())];
        let sum = |table: &str| {
            format!(
                "SELECT CAST(SUM(fix_asap) AS BIGINT) AS fix_asap, CAST(SUM(can_delay) AS BIGINT) AS can_delay, \
                 CAST(SUM(no_need_now) AS BIGINT) AS no_need_now FROM {table} WHERE kind = $1"
            )
        };
        let all = self.rows(&sum("version_vuln_tallies"), &binds).await?;
        let all = all.first().map(tally_from).transpose()?.unwrap_or_default();
        let off = self.rows(&sum("version_ignored"), &binds).await?;
        let off = off.first().map(tally_from).transpose()?.unwrap_or_default();
        let counts = MatchCounts {
            fix_asap: all.fix_asap - off.fix_asap,
            can_delay: all.can_delay - off.can_delay,
            no_need_now: all.no_need_now - off.no_need_now,
        };
        let rows = self
            .rows(
                &format!(
                    "SELECT t.version_id, i.id AS image_id, i.repository, v.tag, {NET} FROM version_vuln_tallies t \
                     {OFF} JOIN image_versions v ON v.id = t.version_id JOIN images i ON i.id = v.image_id \
                     WHERE t.kind = $1 AND t.total - COALESCE(g.total, 0) > 0 \
                     ORDER BY t.total - COALESCE(g.total, 0) DESC, i.repository, v.tag LIMIT {top}"
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

    async fn vuln_purls(&self, vuln_id: &str) -> Result<Vec<String>> {
        Ok(sqlx::query_scalar(
            "SELECT DISTINCT purl FROM image_findings WHERE vuln_id = $1 AND purl <> '' ORDER BY purl LIMIT 1000",
        )
        .bind(vuln_id)
        .fetch_all(&self.pool)
        .await?)
    }

    async fn vuln_affected(&self, kind: &str, vuln_id: &str, now: i64, limit: u32) -> Result<Vec<AffectedRow>> {
        let ignored = IGNORED.replace("$NOW", "$3");
        let rows = self
            .rows(
                &format!(
                    "SELECT i.id AS image_id, i.repository, i.organisation, v.id AS version_id, v.tag, v.size, \
                     f.package, f.installed_version, f.fixed_version, f.urgency, f.cves, \
                     CASE WHEN {ignored} THEN 1 ELSE 0 END AS ignored \
                     FROM image_findings f JOIN image_versions v ON v.digest = f.digest \
                     JOIN images i ON i.id = v.image_id \
                     WHERE i.kind = $1 AND f.vuln_id = $2 AND f.gone_at IS NULL \
                     ORDER BY i.repository, v.tag, f.package, f.installed_version LIMIT {limit}"
                ),
                &[Bind::Text(kind.to_owned()), Bind::Text(vuln_id.to_owned()), Bind::Int(now)],
            )
            .await?;
        rows.iter()
            .map(|r| {
                let cves: String = r.try_get("cves")?;
                Ok(AffectedRow {
                    image_id: r.try_get("image_id")?,
                    repository: r.try_get("repository")?,
                    organisation: r.try_get("organisation")?,
                    version_id: r.try_get("version_id")?,
                    tag: r.try_get("tag")?,
                    size: r.try_get("size")?,
                    package: r.try_get("package")?,
                    installed_version: r.try_get("installed_version")?,
                    fixed_version: r.try_get("fixed_version")?,
                    urgency: r.try_get("urgency")?,
                    cves: serde_json::from_str(&cves).map_err(|e| StoreError::Corrupt(format!("finding CVEs: {e}")))?,
                    ignored: r.try_get::<i64, _>("ignored")? != 0,
                })
            })
            .collect()
    }

    async fn version_counts(&self, version_ids: &[String], now: i64) -> Result<Vec<(String, MatchCounts)>> {
        if version_ids.is_empty() {
            return Ok(Vec::new());
        }
        self.refresh(now).await?;
        let binds: Vec<Bind> = version_ids.iter().take(1000).map(|id| Bind::Text(id.clone())).collect();
        let marks: Vec<String> = (1..=binds.len()).map(|n| format!("${n}")).collect();
        let marks = marks.join(", ");
        let off = OFF.replace("WHERE kind = $1", &format!("WHERE version_id IN ({marks})"));
        let rows = self
            .rows(
                &format!(
                    "SELECT t.version_id, {NET} FROM version_vuln_tallies t {off} \
                     WHERE t.version_id IN ({marks}) AND t.total - COALESCE(g.total, 0) > 0"
                ),
                &binds,
            )
            .await?;
        rows.iter().map(|r| Ok((r.try_get("version_id")?, tally_from(r)?))).collect()
    }

    async fn vuln_list(&self, f: &VulnFilter, page: &PageReq, now: i64) -> Result<(Vec<VulnRow>, u64)> {
        self.refresh(now).await?;
        // Vulnerabilities some version has now (ignored or not); history alone is not listed.
        let mut sql = String::from(" FROM vuln_view_stats WHERE kind = $1 AND affected + ignored > 0");
        let mut binds = vec![Bind::Text(f.kind.clone())];
        if let Some(u) = &f.urgency {
            let rank = URGENCIES.iter().position(|x| x == u).unwrap_or(URGENCIES.len());
            binds.push(Bind::Int(i64::try_from(rank).unwrap_or(i64::MAX)));
            sql.push_str(&format!(" AND urgency_rank = ${}", binds.len()));
        }
        if let Some(text) = f.text.as_deref().filter(|t| !t.is_empty()) {
            binds.push(Bind::Text(contains_pattern(text)));
            sql.push_str(&format!(" AND search LIKE ${} ESCAPE '\\'", binds.len()));
        }
        let total = self.count(&format!("SELECT COUNT(*){sql}"), &binds).await?;
        let order = match page.sort.as_deref() {
            Some("id") => "vuln_id",
            Some("urgency") => "urgency_rank",
            _ => "affected",
        };
        // Most affected first by default; ties by id.
        let dir = if page.descending == (order == "affected") { "ASC" } else { "DESC" };
        let rows = self
            .rows(
                &format!(
                    "SELECT vuln_id, urgency_rank, cves, packages, fixes, affected, ignored, ever{sql} \
                     ORDER BY {order} {dir}, vuln_id LIMIT {} OFFSET {}",
                    page.limit.max(1),
                    page.offset
                ),
                &binds,
            )
            .await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            let cves: String = r.try_get("cves")?;
            let rank: i64 = r.try_get("urgency_rank")?;
            let packages: String = r.try_get("packages")?;
            let mut packages: Vec<String> = packages.split(',').filter(|p| !p.is_empty()).map(str::to_owned).collect();
            packages.sort();
            let fixes: String = r.try_get("fixes")?;
            let mut fixes: Vec<String> = fixes.split(',').filter(|p| !p.is_empty()).map(str::to_owned).collect();
            fixes.sort();
            out.push(VulnRow {
                vuln_id: r.try_get("vuln_id")?,
                urgency: URGENCIES[usize::try_from(rank).unwrap_or(2).min(2)].to_owned(),
                cves: serde_json::from_str(&cves).map_err(|e| StoreError::Corrupt(format!("finding CVEs: {e}")))?,
                affected_versions: r.try_get("affected")?,
                ignored_versions: r.try_get("ignored")?,
                ever_versions: r.try_get("ever")?,
                packages,
                fixes,
            });
        }
        Ok((out, total))
    }
}
