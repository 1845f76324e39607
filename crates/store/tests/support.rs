//! Runs a test body against a scratch database of each backend.

use std::future::Future;

use store::scratch::ScratchDb;
use store::{Backend, SqlStore};

pub const BACKENDS: [Backend; 2] = [Backend::Sqlite, Backend::Postgres];

/// Calls `body` with a fresh store on SQLite, then on PostgreSQL.
pub async fn each_backend<F, Fut>(body: F)
where
    F: Fn(SqlStore, String) -> Fut,
    Fut: Future<Output = ()>,
{
    for backend in BACKENDS {
        let db = ScratchDb::new(backend).await.unwrap_or_else(|e| panic!("{backend:?} scratch database: {e}"));
        let store = store::open(&db.url).await.unwrap_or_else(|e| panic!("{backend:?}: {e}"));
        body(store, db.url.clone()).await;
        db.drop_now().await.unwrap();
    }
}

pub fn id(prefix: &str, n: usize) -> String {
    format!("{prefix}-{n}")
}
