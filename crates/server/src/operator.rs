//! What an operator does on the server's host, with the database at hand and no API
//! session: unlock an account, set a new password (`cguard user …`). Both are written to
//! the audit log as the host's operator.

use store::Store;

use crate::auth;
use crate::error::ApiError;
use crate::timefmt::now_ms;

async fn user(store: &dyn Store, name: &str) -> Result<store::UserRow, ApiError> {
    store.user_by_name(name).await?.ok_or_else(|| ApiError::NotFound(format!("user {name:?} not found")))
}

async fn audit(store: &dyn Store, key: &store::AuditKey, event: &str, user: &store::UserRow) -> Result<(), ApiError> {
    let record = store::NewAudit {
        id: uuid::Uuid::new_v4().to_string(),
        time: now_ms(),
        event_name: event.into(),
        event_type: "management".into(),
        source: "cgs".into(),
        resource_type: "user".into(),
        resource_id: user.id.clone(),
        resource_name: user.name.clone(),
        operator: "host-operator".into(),
        level: "warning".into(),
        outcome: "success".into(),
        request: serde_json::json!({ "path": "cguard user", "client": "host", "body": null }).to_string(),
        result: "{}".into(),
    };
    store.append_audit(&record, key).await.map(|_| ()).map_err(|_| ApiError::AuditUnavailable)
}

/// Clears a lockout (failed logins and lock time).
pub async fn unlock_user(store: &dyn Store, key: &store::AuditKey, name: &str) -> Result<(), ApiError> {
    let user = user(store, name).await?;
    audit(store, key, "unlockUser", &user).await?;
    store.reset_login_failures(&user.id).await?;
    Ok(())
}

/// Sets a new password (checked against the password rules), clears a lockout, and
/// revokes every session and API token of the user; returns how many were revoked.
pub async fn reset_password(
    store: &dyn Store,
    key: &store::AuditKey,
    name: &str,
    password: &str,
) -> Result<u64, ApiError> {
    auth::check_password_rules(password)?;
    let mut user = user(store, name).await?;
    user.password_hash = auth::hash_password(password).await?;
    user.failed_logins = 0;
    user.locked_until = None;
    audit(store, key, "resetPassword", &user).await?;
    Ok(store.update_user_revoking_tokens(&user, now_ms(), None).await?)
}
