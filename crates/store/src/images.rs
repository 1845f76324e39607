//! Image security records: registries, the catalogue (images and their versions), scan
//! results per digest. A trait of its own, beside [`crate::Store`].

use async_trait::async_trait;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::sql::{Bind, SqlStore, conflict_or, flag, now_ms, order_by};
use crate::{Detections, FindingRow, PageReq, Result, StoreError, StoredFinding};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistryRow {
    pub id: String,
    pub name: String,
    /// private | official
    pub kind: String,
    /// For official registries: the watched `repository:tag` references.
    pub watched: Vec<String>,
    /// `https://host[:port]` or `http://host[:port]`.
    pub url: String,
    pub username: String,
    /// Sealed by the server; empty when there is no password.
    pub password_sealed: String,
    pub insecure: bool,
    pub ca_pem: String,
    pub sync_interval_hours: i64,
    /// never | syncing | ok | failed
    pub sync_state: String,
    pub last_sync_at: Option<i64>,
    pub last_sync_error: String,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageRow {
    pub id: String,
    /// local | private | official
    pub kind: String,
    pub registry_id: String,
    pub registry_host: String,
    pub repository: String,
    pub organisation: String,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionRow {
    pub id: String,
    pub image_id: String,
    pub tag: String,
    pub digest: String,
    pub size: i64,
    pub pushed_at: Option<i64>,
    pub seen_at: i64,
}

/// The latest scan of a digest and its counts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScanRow {
    pub digest: String,
    /// scanning | completed | failed
    pub status: String,
    pub error: String,
    pub scanned_at: Option<i64>,
    pub matched_db: String,
    pub matched_at: Option<i64>,
    pub fix_asap: i64,
    pub can_delay: i64,
    pub no_need_now: i64,
    pub malware: i64,
    pub secrets: i64,
    pub baseline_failed: i64,
    pub packages: i64,
    pub size: i64,
    pub updated_at: i64,
}

/// A completed scan to keep: its report (compressed text), what it found besides
/// vulnerabilities, and its first match against database `db`.
#[derive(Debug, Clone, Copy)]
pub struct NewResult<'a> {
    pub report: &'a str,
    pub found: &'a FoundCounts,
    pub counts: &'a MatchCounts,
    pub findings: &'a [FindingRow],
    pub detections: &'a Detections,
    pub db: &'a str,
}

/// One version in the catalogue with its image and its digest's scan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogEntry {
    pub image: ImageRow,
    pub version: VersionRow,
    pub scan: Option<ScanRow>,
}

/// Which versions a catalogue list shows.
#[derive(Debug, Clone, Default)]
pub struct CatalogFilter {
    pub kind: Option<String>,
    pub registry_id: Option<String>,
    /// Part of the repository or the tag, any case.
    pub text: Option<String>,
    pub image_id: Option<String>,
    /// not-scanned | scanning | completed | failed
    pub status: Option<String>,
}

/// Findings per urgency: of a scan as matched against a database, of a version or of a
/// view.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MatchCounts {
    pub fix_asap: i64,
    pub can_delay: i64,
    pub no_need_now: i64,
}

impl MatchCounts {
    pub fn total(&self) -> i64 {
        self.fix_asap + self.can_delay + self.no_need_now
    }
}

/// Counts of what a scan found besides vulnerabilities.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FoundCounts {
    pub malware: i64,
    pub secrets: i64,
    pub baseline_failed: i64,
    pub packages: i64,
    pub size: i64,
}

/// Image security persistence.
#[async_trait]
pub trait ImageStore: Send + Sync + std::fmt::Debug {
    // Registries
    async fn create_registry(&self, r: &RegistryRow) -> Result<()>;
    async fn registry(&self, id: &str) -> Result<Option<RegistryRow>>;
    async fn list_registries(&self, page: &PageReq) -> Result<(Vec<RegistryRow>, u64)>;
    async fn update_registry(&self, r: &RegistryRow) -> Result<()>;
    /// Removes a registry and the images it held (their scan results stay for digests
    /// other images still name).
    async fn delete_registry(&self, id: &str) -> Result<bool>;
    async fn set_registry_sync(&self, id: &str, state: &str, error: &str, at: Option<i64>) -> Result<()>;

    // Catalogue
    /// The image of (kind, registry, repository), created when missing.
    async fn upsert_image(&self, image: &ImageRow) -> Result<ImageRow>;
    async fn image(&self, id: &str) -> Result<Option<ImageRow>>;
    /// Sets the tag of an image to a digest; returns whether the digest is new for that tag.
    async fn upsert_version(&self, v: &VersionRow) -> Result<bool>;
    /// Removes the versions of an image whose tag is not in `keep`; returns how many.
    async fn prune_versions(&self, image_id: &str, keep: &[String]) -> Result<u64>;
    /// Removes the images of a registry whose repository is not in `keep`.
    async fn prune_images(&self, registry_id: &str, keep: &[String]) -> Result<u64>;
    async fn version(&self, id: &str) -> Result<Option<CatalogEntry>>;
    async fn list_catalog(&self, filter: &CatalogFilter, page: &PageReq) -> Result<(Vec<CatalogEntry>, u64)>;
    /// Every version that names `digest`.
    async fn versions_of_digest(&self, digest: &str) -> Result<Vec<CatalogEntry>>;

    // Scans and results
    async fn scan(&self, digest: &str) -> Result<Option<ScanRow>>;
    /// The scans of these digests that exist (at most 1,000 digests).
    async fn scans(&self, digests: &[String]) -> Result<Vec<ScanRow>>;
    async fn set_scan_state(&self, digest: &str, status: &str, error: &str) -> Result<()>;
    /// Stores a completed scan: its report (compressed text), what it found and its first
    /// match, replacing the digest's previous result.
    async fn store_result(&self, digest: &str, result: &NewResult<'_>) -> Result<()>;
    async fn result(&self, digest: &str) -> Result<Option<String>>;
    /// Records a new match of a stored result: its counts and its findings (those it no
    /// longer reports are kept as gone).
    async fn set_match(&self, digest: &str, counts: &MatchCounts, findings: &[FindingRow], db: &str) -> Result<()>;
    /// Every finding of a digest, current and gone.
    async fn findings(&self, digest: &str) -> Result<Vec<StoredFinding>>;
    /// Digests with a stored result matched against another database than `db`, at most `limit`.
    async fn digests_to_rematch(&self, db: &str, limit: u32) -> Result<Vec<String>>;
}

const CATALOG_SELECT: &str = "SELECT i.id AS i_id, i.kind, i.registry_id, i.registry_host, i.repository, \
     i.organisation, i.created_at AS i_created, i.updated_at AS i_updated, v.id AS v_id, v.tag, v.digest, v.size, \
     v.pushed_at, v.seen_at, s.digest AS s_digest, s.status, s.error, s.scanned_at, s.matched_db, s.matched_at, \
     s.fix_asap, s.can_delay, s.no_need_now, s.malware, s.secrets, s.baseline_failed, s.packages, \
     s.size AS s_size, s.updated_at AS s_updated \
     FROM image_versions v JOIN images i ON i.id = v.image_id LEFT JOIN image_scans s ON s.digest = v.digest";

fn registry_from(row: &AnyRow) -> Result<RegistryRow> {
    let watched: String = row.try_get("watched")?;
    Ok(RegistryRow {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        kind: row.try_get("kind")?,
        watched: serde_json::from_str(&watched).map_err(|e| StoreError::Corrupt(format!("watched images: {e}")))?,
        url: row.try_get("url")?,
        username: row.try_get("username")?,
        password_sealed: row.try_get("password_sealed")?,
        insecure: row.try_get::<i64, _>("insecure")? != 0,
        ca_pem: row.try_get("ca_pem")?,
        sync_interval_hours: row.try_get("sync_interval_hours")?,
        sync_state: row.try_get("sync_state")?,
        last_sync_at: row.try_get("last_sync_at")?,
        last_sync_error: row.try_get("last_sync_error")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

fn image_from(row: &AnyRow) -> Result<ImageRow> {
    Ok(ImageRow {
        id: row.try_get("id")?,
        kind: row.try_get("kind")?,
        registry_id: row.try_get("registry_id")?,
        registry_host: row.try_get("registry_host")?,
        repository: row.try_get("repository")?,
        organisation: row.try_get("organisation")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

fn scan_from(row: &AnyRow, prefix: bool) -> Result<ScanRow> {
    let (digest, size, updated) =
        if prefix { ("s_digest", "s_size", "s_updated") } else { ("digest", "size", "updated_at") };
    Ok(ScanRow {
        digest: row.try_get(digest)?,
        status: row.try_get("status")?,
        error: row.try_get("error")?,
        scanned_at: row.try_get("scanned_at")?,
        matched_db: row.try_get("matched_db")?,
        matched_at: row.try_get("matched_at")?,
        fix_asap: row.try_get("fix_asap")?,
        can_delay: row.try_get("can_delay")?,
        no_need_now: row.try_get("no_need_now")?,
        malware: row.try_get("malware")?,
        secrets: row.try_get("secrets")?,
        baseline_failed: row.try_get("baseline_failed")?,
        packages: row.try_get("packages")?,
        size: row.try_get(size)?,
        updated_at: row.try_get(updated)?,
    })
}

fn entry_from(row: &AnyRow) -> Result<CatalogEntry> {
    let image = ImageRow {
        id: row.try_get("i_id")?,
        kind: row.try_get("kind")?,
        registry_id: row.try_get("registry_id")?,
        registry_host: row.try_get("registry_host")?,
        repository: row.try_get("repository")?,
        organisation: row.try_get("organisation")?,
        created_at: row.try_get("i_created")?,
        updated_at: row.try_get("i_updated")?,
    };
    let version = VersionRow {
        id: row.try_get("v_id")?,
        image_id: image.id.clone(),
        tag: row.try_get("tag")?,
        digest: row.try_get("digest")?,
        size: row.try_get("size")?,
        pushed_at: row.try_get("pushed_at")?,
        seen_at: row.try_get("seen_at")?,
    };
    let scan = match row.try_get::<Option<String>, _>("s_digest")? {
        Some(_) => Some(scan_from(row, true)?),
        None => None,
    };
    Ok(CatalogEntry { image, version, scan })
}

/// `LIKE` pattern for text anywhere, with the caller's wildcards taken literally.
pub(crate) fn contains_pattern(text: &str) -> String {
    let mut out = String::from("%");
    for c in text.to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

fn catalog_where(f: &CatalogFilter) -> (String, Vec<Bind>) {
    let mut clauses = Vec::new();
    let mut binds = Vec::new();
    for (column, value) in [("i.kind", &f.kind), ("i.registry_id", &f.registry_id), ("i.id", &f.image_id)] {
        if let Some(v) = value {
            binds.push(Bind::Text(v.clone()));
            clauses.push(format!("{column} = ${}", binds.len()));
        }
    }
    if let Some(text) = f.text.as_deref().filter(|t| !t.is_empty()) {
        binds.push(Bind::Text(contains_pattern(text)));
        let n = binds.len();
        clauses.push(format!(
            "(LOWER(i.repository) LIKE ${n} ESCAPE '\\' OR LOWER(v.tag) LIKE ${n} ESCAPE '\\' \
             OR LOWER(i.organisation) LIKE ${n} ESCAPE '\\')"
        ));
    }
    if let Some(status) = &f.status {
        if status == "not-scanned" {
            clauses.push("s.digest IS NULL".into());
        } else {
            binds.push(Bind::Text(status.clone()));
            clauses.push(format!("s.status = ${}", binds.len()));
        }
    }
    let sql = if clauses.is_empty() { String::new() } else { format!(" WHERE {}", clauses.join(" AND ")) };
    (sql, binds)
}

type AnyQuery<'q> = sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments>;

/// Binds $1 to $10 of the registry statements: what a user sets.
fn bind_registry<'q>(q: AnyQuery<'q>, r: &'q RegistryRow) -> AnyQuery<'q> {
    q.bind(&r.id)
        .bind(&r.name)
        .bind(&r.url)
        .bind(&r.username)
        .bind(&r.password_sealed)
        .bind(flag(r.insecure))
        .bind(&r.ca_pem)
        .bind(r.sync_interval_hours)
        .bind(r.updated_at)
        .bind(serde_json::to_string(&r.watched).unwrap_or_else(|_| "[]".into()))
}

#[async_trait]
impl ImageStore for SqlStore {
    async fn create_registry(&self, r: &RegistryRow) -> Result<()> {
        let _w = self.writing().await;
        let insert = sqlx::query(
            "INSERT INTO registries (id, name, url, username, password_sealed, insecure, ca_pem, sync_interval_hours, \
             updated_at, watched, sync_state, last_sync_at, last_sync_error, created_at, kind) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
        );
        bind_registry(insert, r)
            .bind(&r.sync_state)
            .bind(r.last_sync_at)
            .bind(&r.last_sync_error)
            .bind(r.created_at)
            .bind(&r.kind)
            .execute(&self.pool)
            .await
            .map_err(|e| conflict_or(e, format!("registry {:?}", r.name)))?;
        Ok(())
    }

    async fn registry(&self, id: &str) -> Result<Option<RegistryRow>> {
        let row = sqlx::query("SELECT * FROM registries WHERE id = $1").bind(id).fetch_optional(&self.pool).await?;
        row.as_ref().map(registry_from).transpose()
    }

    async fn list_registries(&self, page: &PageReq) -> Result<(Vec<RegistryRow>, u64)> {
        let total = self.count("SELECT COUNT(*) FROM registries", &[]).await?;
        let sql = format!("SELECT * FROM registries{}", order_by(page, &["name", "created_at"], "name"));
        let rows = self.rows(&sql, &[]).await?;
        Ok((rows.iter().map(registry_from).collect::<Result<_>>()?, total))
    }

    async fn update_registry(&self, r: &RegistryRow) -> Result<()> {
        let _w = self.writing().await;
        let update = sqlx::query(
            "UPDATE registries SET name = $2, url = $3, username = $4, password_sealed = $5, insecure = $6, \
             ca_pem = $7, sync_interval_hours = $8, updated_at = $9, watched = $10 WHERE id = $1",
        );
        let done = bind_registry(update, r)
            .execute(&self.pool)
            .await
            .map_err(|e| conflict_or(e, format!("registry {:?}", r.name)))?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!("registry {}", r.id)));
        }
        Ok(())
    }

    async fn delete_registry(&self, id: &str) -> Result<bool> {
        let _w = self.writing().await;
        let mut tx = self.pool.begin().await?;
        sqlx::query("DELETE FROM images WHERE registry_id = $1 AND kind = 'private'")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        let done = sqlx::query("DELETE FROM registries WHERE id = $1").bind(id).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(done.rows_affected() > 0)
    }

    async fn set_registry_sync(&self, id: &str, state: &str, error: &str, at: Option<i64>) -> Result<()> {
        let _w = self.writing().await;
        sqlx::query(
            "UPDATE registries SET sync_state = $2, last_sync_error = $3, \
             last_sync_at = COALESCE($4, last_sync_at) WHERE id = $1",
        )
        .bind(id)
        .bind(state)
        .bind(error)
        .bind(at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn upsert_image(&self, image: &ImageRow) -> Result<ImageRow> {
        let find = "SELECT * FROM images WHERE kind = $1 AND registry_id = $2 AND repository = $3";
        let found = sqlx::query(find)
            .bind(&image.kind)
            .bind(&image.registry_id)
            .bind(&image.repository)
            .fetch_optional(&self.pool)
            .await?;
        if let Some(row) = found {
            return image_from(&row);
        }
        let _w = self.writing().await;
        let inserted = sqlx::query(
            "INSERT INTO images (id, kind, registry_id, registry_host, repository, organisation, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(&image.id)
        .bind(&image.kind)
        .bind(&image.registry_id)
        .bind(&image.registry_host)
        .bind(&image.repository)
        .bind(&image.organisation)
        .bind(image.created_at)
        .bind(image.updated_at)
        .execute(&self.pool)
        .await;
        match inserted {
            Ok(_) => Ok(image.clone()),
            // Another writer (a replica) made it meanwhile.
            Err(e) if crate::sql::is_unique_violation(&e) => {
                let row = sqlx::query(find)
                    .bind(&image.kind)
                    .bind(&image.registry_id)
                    .bind(&image.repository)
                    .fetch_one(&self.pool)
                    .await?;
                image_from(&row)
            }
            Err(e) => Err(e.into()),
        }
    }

    async fn image(&self, id: &str) -> Result<Option<ImageRow>> {
        let row = sqlx::query("SELECT * FROM images WHERE id = $1").bind(id).fetch_optional(&self.pool).await?;
        row.as_ref().map(image_from).transpose()
    }

    async fn upsert_version(&self, v: &VersionRow) -> Result<bool> {
        let _w = self.writing().await;
        let mut tx = self.pool.begin().await?;
        let old: Option<String> =
            sqlx::query_scalar("SELECT digest FROM image_versions WHERE image_id = $1 AND tag = $2")
                .bind(&v.image_id)
                .bind(&v.tag)
                .fetch_optional(&mut *tx)
                .await?;
        let changed = old.as_deref() != Some(v.digest.as_str());
        sqlx::query(
            "INSERT INTO image_versions (id, image_id, tag, digest, size, pushed_at, seen_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (image_id, tag) DO UPDATE SET \
             digest = EXCLUDED.digest, size = EXCLUDED.size, pushed_at = EXCLUDED.pushed_at, seen_at = EXCLUDED.seen_at",
        )
        .bind(&v.id)
        .bind(&v.image_id)
        .bind(&v.tag)
        .bind(&v.digest)
        .bind(v.size)
        .bind(v.pushed_at)
        .bind(v.seen_at)
        .execute(&mut *tx)
        .await?;
        if changed {
            sqlx::query("UPDATE images SET updated_at = $2 WHERE id = $1")
                .bind(&v.image_id)
                .bind(v.seen_at)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(changed)
    }

    async fn prune_versions(&self, image_id: &str, keep: &[String]) -> Result<u64> {
        let tags: Vec<String> = sqlx::query_scalar("SELECT tag FROM image_versions WHERE image_id = $1")
            .bind(image_id)
            .fetch_all(&self.pool)
            .await?;
        let _w = self.writing().await;
        let mut removed = 0;
        for tag in tags.iter().filter(|t| !keep.contains(t)) {
            removed += sqlx::query("DELETE FROM image_versions WHERE image_id = $1 AND tag = $2")
                .bind(image_id)
                .bind(tag)
                .execute(&self.pool)
                .await?
                .rows_affected();
        }
        Ok(removed)
    }

    async fn prune_images(&self, registry_id: &str, keep: &[String]) -> Result<u64> {
        let rows: Vec<(String, String)> = sqlx::query_as("SELECT id, repository FROM images WHERE registry_id = $1")
            .bind(registry_id)
            .fetch_all(&self.pool)
            .await?;
        let _w = self.writing().await;
        let mut removed = 0;
        for (id, _) in rows.iter().filter(|(_, repo)| !keep.contains(repo)) {
            removed +=
                sqlx::query("DELETE FROM images WHERE id = $1").bind(id).execute(&self.pool).await?.rows_affected();
        }
        Ok(removed)
    }

    async fn version(&self, id: &str) -> Result<Option<CatalogEntry>> {
        let rows = self.rows(&format!("{CATALOG_SELECT} WHERE v.id = $1"), &[Bind::Text(id.to_owned())]).await?;
        rows.first().map(entry_from).transpose()
    }

    async fn list_catalog(&self, filter: &CatalogFilter, page: &PageReq) -> Result<(Vec<CatalogEntry>, u64)> {
        let (clause, binds) = catalog_where(filter);
        let count_sql = format!(
            "SELECT COUNT(*) FROM image_versions v JOIN images i ON i.id = v.image_id \
             LEFT JOIN image_scans s ON s.digest = v.digest{clause}"
        );
        let total = self.count(&count_sql, &binds).await?;
        // Sorting columns are qualified aliases; the allow-list keeps it to these.
        let order = order_by(page, &["repository", "tag", "seen_at", "pushed_at", "size"], "repository")
            .replacen(" id ", " v.id ", 1);
        let rows = self.rows(&format!("{CATALOG_SELECT}{clause}{order}"), &binds).await?;
        Ok((rows.iter().map(entry_from).collect::<Result<_>>()?, total))
    }

    async fn versions_of_digest(&self, digest: &str) -> Result<Vec<CatalogEntry>> {
        let sql = format!("{CATALOG_SELECT} WHERE v.digest = $1 ORDER BY i.repository, v.tag");
        let rows = self.rows(&sql, &[Bind::Text(digest.to_owned())]).await?;
        rows.iter().map(entry_from).collect()
    }

    async fn scan(&self, digest: &str) -> Result<Option<ScanRow>> {
        let row =
            sqlx::query("SELECT * FROM image_scans WHERE digest = $1").bind(digest).fetch_optional(&self.pool).await?;
        row.as_ref().map(|r| scan_from(r, false)).transpose()
    }

    async fn scans(&self, digests: &[String]) -> Result<Vec<ScanRow>> {
        if digests.is_empty() {
            return Ok(Vec::new());
        }
        let digests = &digests[..digests.len().min(1000)];
        let marks: Vec<String> = (1..=digests.len()).map(|n| format!("${n}")).collect();
        let sql = format!("SELECT * FROM image_scans WHERE digest IN ({})", marks.join(", "));
        let binds: Vec<Bind> = digests.iter().map(|d| Bind::Text(d.clone())).collect();
        self.rows(&sql, &binds).await?.iter().map(|r| scan_from(r, false)).collect()
    }

    async fn set_scan_state(&self, digest: &str, status: &str, error: &str) -> Result<()> {
        let _w = self.writing().await;
        let now = now_ms();
        sqlx::query(
            "INSERT INTO image_scans (digest, status, error, updated_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (digest) DO UPDATE SET status = $2, error = $3, updated_at = $4",
        )
        .bind(digest)
        .bind(status)
        .bind(error)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn store_result(&self, digest: &str, result: &NewResult<'_>) -> Result<()> {
        let NewResult { report, found, counts, findings, detections, db } = *result;
        let _w = self.writing().await;
        let now = now_ms();
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO image_results (digest, report, stored_at) VALUES ($1, $2, $3) \
             ON CONFLICT (digest) DO UPDATE SET report = $2, stored_at = $3",
        )
        .bind(digest)
        .bind(report)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO image_scans (digest, status, error, scanned_at, matched_db, matched_at, fix_asap, can_delay, \
             no_need_now, malware, secrets, baseline_failed, packages, size, updated_at) \
             VALUES ($1, 'completed', '', $2, $3, $2, $4, $5, $6, $7, $8, $9, $10, $11, $2) \
             ON CONFLICT (digest) DO UPDATE SET status = 'completed', error = '', scanned_at = $2, matched_db = $3, \
             matched_at = $2, fix_asap = $4, can_delay = $5, no_need_now = $6, malware = $7, secrets = $8, \
             baseline_failed = $9, packages = $10, size = $11, updated_at = $2",
        )
        .bind(digest)
        .bind(now)
        .bind(db)
        .bind(counts.fix_asap)
        .bind(counts.can_delay)
        .bind(counts.no_need_now)
        .bind(found.malware)
        .bind(found.secrets)
        .bind(found.baseline_failed)
        .bind(found.packages)
        .bind(found.size)
        .execute(&mut *tx)
        .await?;
        crate::findings::replace(&mut tx, digest, findings, now).await?;
        crate::detections::replace(&mut tx, digest, detections, now).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn result(&self, digest: &str) -> Result<Option<String>> {
        Ok(sqlx::query_scalar("SELECT report FROM image_results WHERE digest = $1")
            .bind(digest)
            .fetch_optional(&self.pool)
            .await?)
    }

    async fn set_match(&self, digest: &str, counts: &MatchCounts, findings: &[FindingRow], db: &str) -> Result<()> {
        let _w = self.writing().await;
        let now = now_ms();
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "UPDATE image_scans SET matched_db = $2, matched_at = $3, fix_asap = $4, can_delay = $5, no_need_now = $6 \
             WHERE digest = $1",
        )
        .bind(digest)
        .bind(db)
        .bind(now)
        .bind(counts.fix_asap)
        .bind(counts.can_delay)
        .bind(counts.no_need_now)
        .execute(&mut *tx)
        .await?;
        crate::findings::replace(&mut tx, digest, findings, now).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn findings(&self, digest: &str) -> Result<Vec<StoredFinding>> {
        self.findings_of(digest).await
    }

    async fn digests_to_rematch(&self, db: &str, limit: u32) -> Result<Vec<String>> {
        Ok(sqlx::query_scalar(
            "SELECT s.digest FROM image_scans s JOIN image_results r ON r.digest = s.digest \
             WHERE s.matched_db <> $1 ORDER BY s.digest LIMIT $2",
        )
        .bind(db)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_text_is_taken_literally() {
        assert_eq!(contains_pattern("Team_1%"), "%team\\_1\\%%");
    }
}
