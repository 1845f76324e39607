//! Paging of list endpoints.

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// The largest page a list endpoint returns.
pub const MAX_LIMIT: u32 = 1000;
/// The page size when the caller gives none.
pub const DEFAULT_LIMIT: u32 = 50;

/// `?limit=&offset=&sort=` of every list endpoint. `sort` names a field; a leading `-`
/// sorts descending. Each endpoint documents the fields it sorts by.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Items per page, 1 to 1000 (default 50).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u32>,
    /// Items to skip.
    #[param(minimum = 0)]
    pub offset: Option<u64>,
    /// Field to sort by; prefix with `-` for descending order.
    pub sort: Option<String>,
}

/// One page of a list.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Items matching the filter, over all pages.
    pub total: u64,
    pub limit: u32,
    pub offset: u64,
}
