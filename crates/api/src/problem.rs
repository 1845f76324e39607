//! Errors as `application/problem+json` (RFC 9457) with a stable `code`.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// An error response. `code` is stable and meant for programs; `detail` is for people.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Problem {
    /// A URI naming the kind of problem (`about:blank` when it is only the status).
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    /// Stable machine-readable code, e.g. `not_found`, `forbidden`, `invalid_request`.
    pub code: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// For validation errors: the field that is wrong.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// For `forbidden`: the action the caller lacks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
}
