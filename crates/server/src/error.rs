//! Errors as `application/problem+json` with a stable `code`.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// An API error. Each variant has a fixed status and `code`.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{detail}")]
    Invalid { field: Option<String>, detail: String },
    #[error("authentication required")]
    Unauthenticated(String),
    #[error("{0}")]
    Forbidden(String, Option<String>),
    /// A cookie-authenticated change without the session's CSRF token.
    #[error("this change needs the session's CSRF token in the X-CSRF-Token header")]
    Csrf,
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    /// An enrolment under a node name that is taken, without proof or permission.
    #[error("{0}")]
    NodeEnrolled(String),
    /// An operation that needs the service authorization before it is granted (SPEC 1.1).
    #[error("{0}")]
    NotAuthorized(String),
    #[error("{0}")]
    TooLarge(String),
    /// A system the server acts on for the caller (a cluster's API server) failed.
    #[error("{0}")]
    Upstream(String),
    /// Too many failed logins from the caller's address.
    #[error("{0}")]
    TooManyRequests(String),
    /// Something the server depends on is not ready (no vulnerability database, ...).
    #[error("{0}")]
    Unavailable(String),
    /// The audit record of a change could not be written, so the change was not made.
    #[error("the audit log cannot be written: the operation was not carried out; try again later")]
    AuditUnavailable,
    #[error("internal error")]
    Internal(String),
}

impl ApiError {
    pub fn invalid(field: impl Into<String>, detail: impl Into<String>) -> ApiError {
        ApiError::Invalid { field: Some(field.into()), detail: detail.into() }
    }

    pub fn bad_request(detail: impl Into<String>) -> ApiError {
        ApiError::Invalid { field: None, detail: detail.into() }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::Invalid { .. } => StatusCode::BAD_REQUEST,
            ApiError::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(..) | ApiError::Csrf => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Conflict(_) | ApiError::NodeEnrolled(_) => StatusCode::CONFLICT,
            ApiError::NotAuthorized(_) => StatusCode::PRECONDITION_REQUIRED,
            ApiError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::Upstream(_) => StatusCode::BAD_GATEWAY,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::TooManyRequests(_) => StatusCode::TOO_MANY_REQUESTS,
            ApiError::AuditUnavailable => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            ApiError::Invalid { .. } => "invalid_request",
            ApiError::Unauthenticated(_) => "unauthenticated",
            ApiError::Forbidden(..) => "forbidden",
            ApiError::Csrf => "csrf_token_invalid",
            ApiError::NotFound(_) => "not_found",
            ApiError::Conflict(_) => "conflict",
            ApiError::NodeEnrolled(_) => "node_already_enrolled",
            ApiError::NotAuthorized(_) => "authorization_required",
            ApiError::TooLarge(_) => "payload_too_large",
            ApiError::Upstream(_) => "cluster_api_failed",
            ApiError::Unavailable(_) => "unavailable",
            ApiError::TooManyRequests(_) => "too_many_requests",
            ApiError::AuditUnavailable => "audit_unavailable",
            ApiError::Internal(_) => "internal_error",
        }
    }

    pub fn problem(&self) -> api::Problem {
        let status = self.status();
        let (field, action) = match self {
            ApiError::Invalid { field, .. } => (field.clone(), None),
            ApiError::Forbidden(_, action) => (None, action.clone()),
            _ => (None, None),
        };
        let detail = match self {
            ApiError::Unauthenticated(d) => d.clone(),
            // Internal details go to the log, not to the caller.
            ApiError::Internal(_) => "the server could not complete the request; see its log".into(),
            other => other.to_string(),
        };
        api::Problem {
            kind: "about:blank".into(),
            title: status.canonical_reason().unwrap_or("Error").into(),
            status: status.as_u16(),
            code: self.code().into(),
            detail: Some(detail),
            field,
            action,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let ApiError::Internal(detail) = &self {
            tracing::error!(%detail, "request failed");
        }
        problem_response(&self.problem())
    }
}

pub fn problem_response(p: &api::Problem) -> Response {
    let status = StatusCode::from_u16(p.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = serde_json::to_vec(p).unwrap_or_default();
    let mut resp = (status, body).into_response();
    resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
    resp
}

impl From<store::StoreError> for ApiError {
    fn from(e: store::StoreError) -> ApiError {
        match e {
            store::StoreError::Conflict(what) => ApiError::Conflict(format!("{what} already exists")),
            store::StoreError::NotFound(what) => ApiError::NotFound(format!("{what} not found")),
            // PostgreSQL refuses NUL characters in text (SQLite keeps them): that is the
            // caller's text, not the server's fault.
            store::StoreError::Database(e) if is_nul_in_text(&e) => {
                ApiError::bad_request("text must not contain NUL characters")
            }
            other => ApiError::Internal(other.to_string()),
        }
    }
}

/// PostgreSQL's `character_not_in_repertoire`: a NUL character in a text value.
fn is_nul_in_text(e: &sqlx::Error) -> bool {
    e.as_database_error().and_then(|d| d.code()).as_deref() == Some("22021")
}

impl From<domain::DomainError> for ApiError {
    fn from(e: domain::DomainError) -> ApiError {
        match e {
            domain::DomainError::Invalid { field, message } => ApiError::invalid(field, message),
            domain::DomainError::NotFound(what) => ApiError::NotFound(format!("{what} not found")),
            domain::DomainError::Conflict(why) => ApiError::Conflict(why),
            domain::DomainError::Unavailable(why) => ApiError::Unavailable(why),
            domain::DomainError::Store(e) => e.into(),
        }
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
