//! Scratch databases for tests and benchmarks: a fresh SQLite file or a fresh PostgreSQL
//! database made through an administrative URL, dropped again when done.

use std::path::PathBuf;

use crate::{Backend, Result, StoreError};

/// Where the administrative PostgreSQL URL for scratch databases is found: the
/// environment variable `CGUARD_TEST_POSTGRES`, else the file that
/// `scripts/start-services.sh` writes (`.cache/postgres-test-url` in the checkout).
pub fn postgres_admin_url() -> Option<String> {
    if let Ok(url) = std::env::var("CGUARD_TEST_POSTGRES") {
        return Some(url);
    }
    let file = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../.cache/postgres-test-url");
    std::fs::read_to_string(file).ok().map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
}

/// A database that exists until [`ScratchDb::drop_now`] (PostgreSQL) or until the
/// temporary directory goes (SQLite).
#[derive(Debug)]
pub struct ScratchDb {
    pub url: String,
    pub backend: Backend,
    admin_url: Option<String>,
    name: Option<String>,
    _dir: Option<tempdir::Dir>,
}

mod tempdir {
    /// A private temporary directory removed on drop.
    #[derive(Debug)]
    pub struct Dir(pub std::path::PathBuf);
    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

impl ScratchDb {
    /// A fresh, empty database of the given backend.
    pub async fn new(backend: Backend) -> Result<ScratchDb> {
        let unique = format!("{}_{}", std::process::id(), crate::sql::now_ms());
        let unique = format!("{unique}_{}", COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed));
        match backend {
            Backend::Sqlite => {
                let dir = std::env::temp_dir().join(format!("cguard-scratch-{unique}"));
                std::fs::create_dir_all(&dir).map_err(|e| StoreError::Corrupt(format!("{}: {e}", dir.display())))?;
                let url = format!("sqlite://{}/cguard.db", dir.display());
                Ok(ScratchDb { url, backend, admin_url: None, name: None, _dir: Some(tempdir::Dir(dir)) })
            }
            Backend::Postgres => {
                let admin = postgres_admin_url().ok_or_else(|| {
                    StoreError::BadUrl(
                        "no PostgreSQL for scratch databases: run scripts/start-services.sh or set CGUARD_TEST_POSTGRES"
                            .into(),
                    )
                })?;
                let name = format!("cguard_scratch_{unique}");
                sqlx::any::install_default_drivers();
                let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(&admin).await?;
                sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}"))).execute(&mut conn).await?;
                let base = admin.rsplit_once('/').map_or(admin.as_str(), |(b, _)| b);
                let url = format!("{base}/{name}");
                Ok(ScratchDb { url, backend, admin_url: Some(admin), name: Some(name), _dir: None })
            }
        }
    }

    /// Drops a PostgreSQL scratch database (SQLite files go with the directory).
    pub async fn drop_now(mut self) -> Result<()> {
        if let (Some(admin), Some(name)) = (self.admin_url.take(), self.name.take()) {
            let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(&admin).await?;
            let drop = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
            // A session the server has not finished closing can make one attempt fail.
            let mut attempt = 0;
            loop {
                match sqlx::query(sqlx::AssertSqlSafe(drop.clone())).execute(&mut conn).await {
                    Ok(_) => break,
                    Err(_) if attempt < 4 => {
                        attempt += 1;
                        tokio::time::sleep(std::time::Duration::from_millis(200 * attempt)).await;
                    }
                    Err(e) => return Err(e.into()),
                }
            }
        }
        Ok(())
    }
}

static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
