//! The control plane's domain layer: services with typed states over the store, called
//! by the REST handlers, the console and the background workers alike.
//!
//! - [`imagesec`]: image security (SPEC 3, 5): connected registries, the catalogue of
//!   images and versions, scans per digest, stored results matched against the current
//!   vulnerability database, and the report of a version.
//! - [`jobs`]: the one place for background work: the durable queue's job kinds and
//!   priorities, the worker pool (`jobs::worker::start`) and the scheduler.
//! - [`vulns`]: the server's vulnerability database, reopened when its file is swapped.
//!
//! Architecture invariant: no HTTP here, and nothing kept in memory that another replica
//! would need (the store holds it).

pub mod imagesec;
pub mod jobs;
pub mod seal;
pub mod vulns;

pub use imagesec::{ImageSecurity, ImageSecurityConfig};

/// What a domain operation can fail with; the HTTP layer maps each to a status.
#[derive(Debug, thiserror::Error)]
pub enum DomainError {
    #[error("{field}: {message}")]
    Invalid { field: &'static str, message: String },
    #[error("{0} not found")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    Unavailable(String),
    #[error(transparent)]
    Store(#[from] store::StoreError),
}

impl DomainError {
    pub fn invalid(field: &'static str, message: impl Into<String>) -> DomainError {
        DomainError::Invalid { field, message: message.into() }
    }
}

pub type Result<T, E = DomainError> = std::result::Result<T, E>;

/// Every row of a paged store list, read 1,000 at a time in `sort` order.
pub async fn every<T, F, Fut>(sort: Option<&str>, mut list: F) -> Result<Vec<T>>
where
    F: FnMut(store::PageReq) -> Fut,
    Fut: std::future::Future<Output = store::Result<(Vec<T>, u64)>>,
{
    let mut out = Vec::new();
    loop {
        let page =
            store::PageReq { limit: 1000, offset: out.len() as u64, sort: sort.map(str::to_string), descending: false };
        let (rows, total) = list(page).await?;
        let done = rows.is_empty() || out.len() as u64 + rows.len() as u64 >= total;
        out.extend(rows);
        if done {
            return Ok(out);
        }
    }
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    let d = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// RFC 3339 (UTC, milliseconds) of a time in ms.
pub fn rfc3339(ms: i64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    t.format(&time::format_description::well_known::Rfc3339).unwrap_or_default()
}
