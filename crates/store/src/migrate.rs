//! Schema migrations, run at start. On PostgreSQL an advisory lock makes replicas that
//! start together migrate once.

use sqlx::AnyPool;

use crate::{Backend, Result, StoreError};

const LOCK_KEY: i64 = 0x6367_7561_7264; // "cguard"

pub(crate) async fn migrate(pool: &AnyPool, backend: Backend) -> Result<()> {
    let mut conn = pool.acquire().await?;
    if backend == Backend::Postgres {
        sqlx::query("SELECT pg_advisory_lock($1)").bind(LOCK_KEY).execute(&mut *conn).await?;
    }
    let outcome = run(&mut conn, backend).await;
    if backend == Backend::Postgres {
        sqlx::query("SELECT pg_advisory_unlock($1)").bind(LOCK_KEY).execute(&mut *conn).await?;
    }
    outcome
}

async fn run(conn: &mut sqlx::AnyConnection, backend: Backend) -> Result<()> {
    sqlx::raw_sql(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, applied_at BIGINT NOT NULL)",
    )
    .execute(&mut *conn)
    .await?;
    let current: Option<i64> =
        sqlx::query_scalar("SELECT MAX(version) FROM schema_migrations").fetch_one(&mut *conn).await?;
    let current = current.unwrap_or(0);
    let migrations = backend.migrations();
    let known = migrations.last().map_or(0, |m| m.0);
    if current > known {
        return Err(StoreError::SchemaTooNew { found: current, known });
    }
    for &(version, sql) in migrations.iter().filter(|m| m.0 > current) {
        let apply = async {
            let mut tx = sqlx::Acquire::begin(&mut *conn).await?;
            sqlx::raw_sql(sql).execute(&mut *tx).await?;
            sqlx::query("INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)")
                .bind(version)
                .bind(crate::sql::now_ms())
                .execute(&mut *tx)
                .await?;
            tx.commit().await
        };
        apply.await.map_err(|source| StoreError::Migration { version, source })?;
        tracing::info!(version, backend = backend.name(), "applied schema migration");
    }
    Ok(())
}
