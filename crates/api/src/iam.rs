//! Users, groups, permission policies, API tokens and logins.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A local user. The password hash never leaves the server.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct User {
    pub id: String,
    pub name: String,
    pub email: Option<String>,
    #[schema(format = DateTime)]
    pub created_at: String,
    /// Set while the account is locked after repeated failed logins.
    #[schema(format = DateTime)]
    pub locked_until: Option<String>,
    pub disabled: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserCreate {
    /// 1-64 characters: letters, digits, `.`, `_`, `-`, `@`.
    #[schema(pattern = "^[A-Za-z0-9._@-]{1,64}$")]
    pub name: String,
    /// 12 to 256 characters.
    #[schema(min_length = 12, max_length = 256)]
    pub password: String,
    #[serde(default)]
    pub email: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserUpdate {
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub disabled: Option<bool>,
    /// A new password (12 to 256 characters). Clears a lockout.
    #[serde(default)]
    #[schema(min_length = 12, max_length = 256)]
    pub password: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Group {
    pub id: String,
    pub name: String,
    pub description: String,
    pub members: Vec<String>,
    #[schema(format = DateTime)]
    pub created_at: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GroupCreate {
    #[schema(pattern = "^[A-Za-z0-9._@-]{1,64}$")]
    pub name: String,
    #[serde(default)]
    pub description: String,
}

/// A permission policy: one of the three system policies or a custom one in the seed's
/// JSON syntax (`{"Version":"1.1","Statement":[...]}`).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct IamPolicy {
    pub id: String,
    pub name: String,
    pub description: String,
    /// `system` for the three built-in policies, `custom` otherwise.
    pub kind: String,
    #[schema(value_type = Object)]
    pub document: serde_json::Value,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IamPolicyWrite {
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[schema(value_type = Object)]
    pub document: serde_json::Value,
}

/// Attach or detach a policy to a user or a group.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Attachment {
    /// `user` or `group`.
    #[schema(pattern = "^(user|group)$")]
    pub principal_type: String,
    pub principal_id: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    pub username: String,
    pub password: String,
}

/// A bearer token for `Authorization: Bearer …`, valid until `expires_at`. The same
/// session is also set as an HttpOnly cookie for the console; requests that change state
/// with the cookie must send `csrf_token` in the `X-CSRF-Token` header.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct LoginResponse {
    pub token: String,
    pub csrf_token: String,
    #[schema(format = DateTime)]
    pub expires_at: String,
    pub user: User,
}

/// The caller, and what it may do.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Identity {
    pub user: User,
    /// The actions the caller holds (policies and, for API tokens, the token's scope).
    pub actions: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenCreate {
    pub name: String,
    /// Action patterns the token is limited to (e.g. `["cgs:*:list"]`; `["*"]` for
    /// everything its user may do).
    pub scope: Vec<String>,
    /// Lifetime in days, 1 to 365.
    #[schema(minimum = 1, maximum = 365)]
    pub expires_in_days: u32,
}

/// An API token. `secret` is present only in the response that creates it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ApiToken {
    pub id: String,
    pub name: String,
    pub user_id: String,
    pub scope: Vec<String>,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub expires_at: String,
    #[schema(format = DateTime)]
    pub revoked_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
}
