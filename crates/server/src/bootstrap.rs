//! First start: the system permission policies and the administrator account.

use crate::auth;
use crate::error::ApiError;
use crate::timefmt::now_ms;
use store::{IamPolicyRow, Principal, Store, StoreError, UserRow};

/// The stored id of a system policy.
pub fn system_policy_id(p: iam::SystemPolicy) -> &'static str {
    match p {
        iam::SystemPolicy::Administrator => "system-cgs-administrator",
        iam::SystemPolicy::FullAccess => "system-cgs-fullaccess",
        iam::SystemPolicy::ReadOnlyAccess => "system-cgs-readonlyaccess",
    }
}

/// Creates what a first start needs; harmless on later starts and when several replicas
/// start at once. Returns the administrator's password when it was generated here (it
/// is printed once and never stored in clear).
pub async fn bootstrap(store: &dyn Store, admin_password: Option<&str>) -> Result<Option<String>, ApiError> {
    let now = now_ms();
    for p in iam::SystemPolicy::ALL {
        let row = IamPolicyRow {
            id: system_policy_id(p).into(),
            name: p.name().into(),
            description: p.description().into(),
            system: true,
            document: p.document().to_json(),
            created_at: now,
            updated_at: now,
        };
        match store.create_iam_policy(&row).await {
            Ok(()) => {}
            // Made by an earlier start: brought up to date when this version changed it.
            Err(StoreError::Conflict(_)) => {
                if let Some(stored) = store.iam_policy(&row.id).await?
                    && (stored.document != row.document || stored.description != row.description)
                {
                    store.update_iam_policy(&IamPolicyRow { created_at: stored.created_at, ..row }).await?;
                }
            }
            Err(e) => return Err(e.into()),
        }
    }
    let (_, users) = store.list_users(&store::PageReq { limit: 1, ..Default::default() }).await?;
    if users > 0 {
        return Ok(None);
    }
    let (password, generated) = match admin_password {
        Some(p) => {
            auth::check_password_rules(p)
                .map_err(|_| ApiError::invalid("CGUARD_ADMIN_PASSWORD", "must be 12 to 256 characters"))?;
            (p.to_string(), false)
        }
        None => (auth::new_secret("")[..24].to_string(), true),
    };
    let admin = UserRow {
        id: uuid::Uuid::new_v4().to_string(),
        name: "admin".into(),
        email: None,
        password_hash: auth::hash_password(&password).await?,
        created_at: now,
        failed_logins: 0,
        locked_until: None,
        disabled: false,
    };
    match store.create_user(&admin).await {
        Ok(()) => {}
        // Another replica created it first: its password is the one printed there.
        Err(StoreError::Conflict(_)) => return Ok(None),
        Err(e) => return Err(e.into()),
    }
    let admin_policy = system_policy_id(iam::SystemPolicy::Administrator);
    store.set_attachment(admin_policy, &Principal::User(admin.id.clone()), true).await?;
    Ok(generated.then_some(password))
}
