//! Local users (SPEC 9).

use api::iam::{User, UserCreate, UserUpdate};
use api::{Page, PageQuery};
use axum::Extension;
use axum::extract::State;
use axum::http::StatusCode;

use super::{Json, Path, Query, new_id, not_found, page, page_of, user_of};
use crate::auth::{self, Caller};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::timefmt::{now_ms, rfc3339};

pub fn to_api(u: &store::UserRow) -> User {
    User {
        id: u.id.clone(),
        name: u.name.clone(),
        email: u.email.clone(),
        created_at: rfc3339(u.created_at),
        locked_until: u.locked_until.filter(|t| *t > now_ms()).map(rfc3339),
        disabled: u.disabled,
    }
}

pub fn check_name(name: &str) -> ApiResult<()> {
    let ok = (1..=64).contains(&name.chars().count())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@'));
    if ok { Ok(()) } else { Err(ApiError::invalid("name", "1-64 characters: letters, digits, '.', '_', '-', '@'")) }
}

fn check_email(email: &Option<String>) -> ApiResult<()> {
    match email {
        Some(e) if e.len() > 254 || !e.contains('@') || e.chars().any(char::is_whitespace) => {
            Err(ApiError::invalid("email", "is not an e-mail address"))
        }
        _ => Ok(()),
    }
}

/// List users.
#[utoipa::path(get, path = "/api/v1/users", tag = "identity", params(PageQuery),
    responses((status = 200, body = Page<User>)))]
pub async fn list(State(st): State<AppState>, Query(q): Query<PageQuery>) -> ApiResult<Json<Page<User>>> {
    let p = page(&q, &["name", "created_at"])?;
    let (rows, total) = st.store.list_users(&p).await?;
    Ok(Json(page_of(rows.iter().map(to_api).collect(), total, &p)))
}

/// Create a user. It holds no permission until a policy is attached to it or its group.
#[utoipa::path(post, path = "/api/v1/users", tag = "identity", request_body = UserCreate,
    responses((status = 201, body = User)))]
pub async fn create(State(st): State<AppState>, Json(body): Json<UserCreate>) -> ApiResult<(StatusCode, Json<User>)> {
    check_name(&body.name)?;
    auth::check_password_rules(&body.password)?;
    check_email(&body.email)?;
    let row = store::UserRow {
        id: new_id(),
        name: body.name,
        email: body.email,
        password_hash: auth::hash_password(&body.password).await?,
        created_at: now_ms(),
        failed_logins: 0,
        locked_until: None,
        disabled: false,
    };
    st.store.create_user(&row).await?;
    Ok((StatusCode::CREATED, Json(to_api(&row))))
}

/// Get a user.
#[utoipa::path(get, path = "/api/v1/users/{id}", tag = "identity", params(("id" = String, Path)),
    responses((status = 200, body = User)))]
pub async fn get_one(State(st): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<User>> {
    let row = st.store.user(&id).await?.ok_or_else(|| not_found("user", &id))?;
    Ok(Json(to_api(&row)))
}

/// Change a user's e-mail, password or disabled flag. A new password clears a lockout and
/// revokes every session and API token of the user, except the one of this request when
/// users change their own password (so that they stay signed in).
#[utoipa::path(patch, path = "/api/v1/users/{id}", tag = "identity", params(("id" = String, Path)),
    request_body = UserUpdate, responses((status = 200, body = User)))]
pub async fn update(
    State(st): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    Json(body): Json<UserUpdate>,
) -> ApiResult<Json<User>> {
    let mut row = st.store.user(&id).await?.ok_or_else(|| not_found("user", &id))?;
    if body.email.is_some() {
        check_email(&body.email)?;
        row.email = body.email;
    }
    if let Some(disabled) = body.disabled {
        if disabled && user_of(&caller)?.user.id == id {
            return Err(ApiError::Conflict("you cannot disable your own account".into()));
        }
        row.disabled = disabled;
    }
    let Some(password) = body.password else {
        st.store.update_user(&row).await?;
        return Ok(Json(to_api(&row)));
    };
    auth::check_password_rules(&password)?;
    row.password_hash = auth::hash_password(&password).await?;
    row.failed_logins = 0;
    row.locked_until = None;
    let caller = user_of(&caller)?;
    let keep = (caller.user.id == id).then_some(caller.token_id.as_str());
    st.store.update_user_revoking_tokens(&row, now_ms(), keep).await?;
    Ok(Json(to_api(&row)))
}

/// Delete a user (not yourself).
#[utoipa::path(delete, path = "/api/v1/users/{id}", tag = "identity", params(("id" = String, Path)),
    responses((status = 204, description = "deleted")))]
pub async fn remove(
    State(st): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    if user_of(&caller)?.user.id == id {
        return Err(ApiError::Conflict("you cannot delete your own account".into()));
    }
    if st.store.delete_user(&id).await? { Ok(StatusCode::NO_CONTENT) } else { Err(not_found("user", &id)) }
}
