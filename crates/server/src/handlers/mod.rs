//! Request handlers, one module per resource. Guards and audit records are not their
//! business: the route table and its middleware do both.

pub mod audit_log;
pub mod authorization;
pub mod clusters;
pub mod detections;
pub mod enrolment;
pub mod events;
pub mod export;
pub mod groups;
pub mod housekeeping;
pub mod iam_policies;
pub mod images;
pub mod jobs;
pub mod kubernetes;
pub mod meta;
pub mod policies;
pub mod quotas;
pub mod registries;
pub mod session;
pub mod shield;
pub mod users;
pub mod vulnerabilities;

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts};

use crate::auth::{Caller, UserCaller};
use crate::error::{ApiError, ApiResult};

/// `axum::Json` with errors as problem documents.
#[derive(Debug, FromRequest)]
#[from_request(via(axum::Json), rejection(ApiError))]
pub struct Json<T>(pub T);

impl<T: serde::Serialize> axum::response::IntoResponse for Json<T> {
    fn into_response(self) -> axum::response::Response {
        axum::Json(self.0).into_response()
    }
}

/// `axum::extract::Query` with errors as problem documents.
#[derive(Debug, FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ApiError))]
pub struct Query<T>(pub T);

/// `axum::extract::Path` with errors as problem documents.
#[derive(Debug, FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(ApiError))]
pub struct Path<T>(pub T);

impl From<JsonRejection> for ApiError {
    fn from(r: JsonRejection) -> ApiError {
        match r {
            JsonRejection::MissingJsonContentType(_) => {
                ApiError::bad_request("the request body must be JSON (Content-Type: application/json)")
            }
            other => ApiError::bad_request(format!("invalid JSON body: {}", other.body_text())),
        }
    }
}

impl From<QueryRejection> for ApiError {
    fn from(r: QueryRejection) -> ApiError {
        ApiError::bad_request(format!("invalid query: {}", r.body_text()))
    }
}

impl From<PathRejection> for ApiError {
    fn from(r: PathRejection) -> ApiError {
        ApiError::bad_request(format!("invalid path: {}", r.body_text()))
    }
}

/// Turns `?limit&offset&sort` into the store's paging, refusing sort fields the list
/// does not have.
pub fn page(q: &api::PageQuery, sortable: &[&str]) -> ApiResult<store::PageReq> {
    let limit = q.limit.unwrap_or(api::page::DEFAULT_LIMIT);
    if !(1..=api::page::MAX_LIMIT).contains(&limit) {
        return Err(ApiError::invalid("limit", "must be 1 to 1000"));
    }
    let offset = q.offset.unwrap_or(0);
    if offset > i64::MAX as u64 / 2 {
        return Err(ApiError::invalid("offset", "is too large"));
    }
    let (sort, descending) = match q.sort.as_deref() {
        None | Some("") => (None, false),
        Some(s) => {
            let (field, desc) = s.strip_prefix('-').map_or((s, false), |f| (f, true));
            if !sortable.contains(&field) {
                return Err(ApiError::invalid("sort", format!("sorts by one of {sortable:?}, optionally with '-'")));
            }
            (Some(field.to_string()), desc)
        }
    };
    Ok(store::PageReq { limit, offset, sort, descending })
}

/// Every row of a list, read from the store 1,000 at a time in `sort` order.
pub async fn every<T, F, Fut>(sort: Option<&str>, list: F) -> ApiResult<Vec<T>>
where
    F: FnMut(store::PageReq) -> Fut,
    Fut: std::future::Future<Output = store::Result<(Vec<T>, u64)>>,
{
    Ok(domain::every(sort, list).await?)
}

pub fn page_of<T>(items: Vec<T>, total: u64, p: &store::PageReq) -> api::Page<T> {
    api::Page { items, total, limit: p.limit, offset: p.offset }
}

/// The signed-in user behind a request (routes guarded by an action or `SignedIn`).
pub fn user_of(caller: &Caller) -> ApiResult<&UserCaller> {
    match caller {
        Caller::User(u) => Ok(u),
        _ => Err(ApiError::Unauthenticated("this operation needs a signed-in user".into())),
    }
}

pub fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// An identifier from a path: our ids are UUIDs; anything else cannot exist.
pub fn not_found(what: &str, id: &str) -> ApiError {
    let shown: String = id.chars().take(80).collect();
    ApiError::NotFound(format!("{what} {shown:?} not found"))
}
