//! Audit records (SPEC 8).

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// One audit record. `hash` chains it to the record before it (`prev_hash`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AuditRecord {
    pub seq: i64,
    pub id: String,
    #[schema(format = DateTime)]
    pub time: String,
    /// The seed's event names, e.g. `addPolicy`, `openClusterProtect`.
    pub event_name: String,
    /// `management` for API operations, `system` for what the service does itself.
    pub event_type: String,
    /// `cgs` for the service.
    pub source: String,
    pub resource_type: String,
    pub resource_id: String,
    pub resource_name: String,
    pub operator: String,
    /// `normal`, `warning` or `incident`.
    pub level: String,
    /// `success`, `failure` or `denied`.
    pub outcome: String,
    /// The request, secrets redacted.
    #[schema(value_type = Object)]
    pub request: serde_json::Value,
    #[schema(value_type = Object)]
    pub result: serde_json::Value,
    pub prev_hash: String,
    pub hash: String,
}

/// Filters of the audit query (SPEC 8): every field optional.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    pub event_type: Option<String>,
    pub source: Option<String>,
    pub resource_type: Option<String>,
    pub event_name: Option<String>,
    pub resource_id: Option<String>,
    pub resource_name: Option<String>,
    pub operator: Option<String>,
    /// `normal`, `warning` or `incident`.
    pub level: Option<String>,
    /// `hour`, `day` or `week`: records of the last hour, day or week.
    pub last: Option<String>,
    /// Custom range start (RFC 3339).
    pub from: Option<String>,
    /// Custom range end (RFC 3339).
    pub to: Option<String>,
}
