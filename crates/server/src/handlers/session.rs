//! Signing in and out, the caller's identity, and its API tokens.

use api::iam::{ApiToken, Identity, LoginRequest, LoginResponse, TokenCreate};
use axum::Extension;
use axum::extract::State;
use axum::http::header::SET_COOKIE;
use axum::http::{HeaderName, StatusCode};
use axum::response::AppendHeaders;

use super::{Json, Path, new_id, not_found, user_of};
use crate::auth::{self, Caller};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::timefmt::{DAY_MS, HOUR_MS, now_ms, rfc3339};
use store::{TokenKind, TokenRow};

/// A hash of a random password: verifying against it costs what a real check costs, so
/// a missing account takes as long to refuse as a wrong password.
static DUMMY_HASH: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| auth::hash_password_now(&auth::new_secret("")).unwrap_or_default());

/// Sign in with a user name and password; the answer holds a bearer token.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "identity", request_body = LoginRequest,
    responses((status = 200, body = LoginResponse)), security(()))]
pub async fn login(
    State(st): State<AppState>,
    Extension(client): Extension<crate::throttle::ClientAddr>,
    Json(body): Json<LoginRequest>,
) -> ApiResult<(AppendHeaders<[(HeaderName, String); 1]>, Json<LoginResponse>)> {
    let now = now_ms();
    let ip = client.0.map(|a| a.ip());
    // An address that failed too often this minute is refused before any work.
    if ip.is_some_and(|ip| !st.login_throttle.allows(ip, now)) {
        return Err(ApiError::TooManyRequests(
            "too many failed logins from this address: try again in a minute".into(),
        ));
    }
    let outcome = attempt_login(&st, body, now).await;
    if let (Err(ApiError::Unauthenticated(_)), Some(ip)) = (&outcome, ip) {
        st.login_throttle.failed(ip, now);
    }
    outcome
}

async fn attempt_login(
    st: &AppState,
    body: LoginRequest,
    now: i64,
) -> ApiResult<(AppendHeaders<[(HeaderName, String); 1]>, Json<LoginResponse>)> {
    // One answer for a wrong password and a missing, locked or disabled account, after the
    // same work: it tells nothing about the account.
    let refused = || ApiError::Unauthenticated("wrong user name or password".into());
    if body.username.len() > 256 || body.password.len() > 1024 {
        return Err(refused());
    }
    let user = st.store.user_by_name(&body.username).await?;
    // Each try is counted before the password is checked, by one statement that also
    // refuses a locked account: parallel tries cannot get past the threshold.
    let allowed = match &user {
        Some(u) => {
            let c = &st.config;
            let lock_ms = i64::from(c.lockout_minutes) * 60_000;
            st.store.take_login_attempt(&u.id, now, i64::from(c.lockout_threshold), lock_ms).await?
        }
        None => false,
    };
    let hash = match &user {
        Some(u) if allowed => u.password_hash.clone(),
        _ => DUMMY_HASH.clone(),
    };
    let matches = auth::verify_password(&body.password, &hash).await?;
    let Some(user) = user.filter(|u| allowed && matches && !u.disabled) else {
        return Err(refused());
    };
    st.store.reset_login_failures(&user.id).await?;
    let token = auth::new_secret(auth::SESSION_PREFIX);
    let csrf_token = auth::new_secret(auth::CSRF_PREFIX);
    let expires_at = now + i64::from(st.config.session_hours) * HOUR_MS;
    st.store
        .create_token(&TokenRow {
            id: new_id(),
            user_id: user.id.clone(),
            kind: TokenKind::Session,
            name: "login".into(),
            secret_hash: auth::secret_hash(&token),
            scope: "[]".into(),
            created_at: now,
            expires_at,
            revoked_at: None,
            csrf_hash: Some(auth::secret_hash(&csrf_token)),
        })
        .await?;
    let secure = st.config.public_url.starts_with("https://");
    let cookie = auth::session_cookie_header(&token, (expires_at - now) / 1000, secure);
    let body = LoginResponse { token, csrf_token, expires_at: rfc3339(expires_at), user: super::users::to_api(&user) };
    Ok((AppendHeaders([(SET_COOKIE, cookie)]), Json(body)))
}

/// Sign out: the bearer token of this request stops working.
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "identity", responses((status = 204, description = "signed out")))]
pub async fn logout(
    State(st): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> ApiResult<(StatusCode, AppendHeaders<[(HeaderName, String); 1]>)> {
    let user = user_of(&caller)?;
    st.store.revoke_token(&user.token_id, now_ms()).await?;
    let secure = st.config.public_url.starts_with("https://");
    Ok((StatusCode::NO_CONTENT, AppendHeaders([(SET_COOKIE, auth::session_cookie_header("", 0, secure))])))
}

/// Who the caller is and which actions it holds.
#[utoipa::path(get, path = "/api/v1/auth/me", tag = "identity", responses((status = 200, body = Identity)))]
pub async fn me(Extension(caller): Extension<Caller>) -> ApiResult<Json<Identity>> {
    let user = user_of(&caller)?;
    Ok(Json(Identity {
        user: super::users::to_api(&user.user),
        actions: user.allowed_actions().iter().map(|a| a.as_str().to_string()).collect(),
    }))
}

fn token_to_api(t: &TokenRow) -> ApiToken {
    ApiToken {
        id: t.id.clone(),
        name: t.name.clone(),
        user_id: t.user_id.clone(),
        scope: serde_json::from_str(&t.scope).unwrap_or_default(),
        created_at: rfc3339(t.created_at),
        expires_at: rfc3339(t.expires_at),
        revoked_at: t.revoked_at.map(rfc3339),
        secret: None,
    }
}

/// The caller's API tokens.
#[utoipa::path(get, path = "/api/v1/auth/tokens", tag = "identity", responses((status = 200, body = Vec<ApiToken>)))]
pub async fn list_tokens(
    State(st): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> ApiResult<Json<Vec<ApiToken>>> {
    let user = user_of(&caller)?;
    let rows = st.store.list_tokens(&user.user.id, TokenKind::Api).await?;
    Ok(Json(rows.iter().map(token_to_api).collect()))
}

/// Create an API token limited to a scope; it can never do more than its user. The
/// secret is in this answer only.
#[utoipa::path(post, path = "/api/v1/auth/tokens", tag = "identity", request_body = TokenCreate,
    responses((status = 201, body = ApiToken)))]
pub async fn create_token(
    State(st): State<AppState>,
    Extension(caller): Extension<Caller>,
    Json(body): Json<TokenCreate>,
) -> ApiResult<(StatusCode, Json<ApiToken>)> {
    let user = user_of(&caller)?;
    let n = body.name.chars().count();
    if !(1..=64).contains(&n) || body.name.chars().any(char::is_control) {
        return Err(ApiError::invalid("name", "1-64 characters, no control characters"));
    }
    if !(1..=365).contains(&body.expires_in_days) {
        return Err(ApiError::invalid("expires_in_days", "must be 1 to 365"));
    }
    let scope = iam::Scope::parse(body.scope.iter()).map_err(|e| ApiError::invalid("scope", e.to_string()))?;
    let scope: Vec<String> = scope.patterns().iter().map(|p| p.as_str().to_string()).collect();
    let secret = auth::new_secret(auth::API_TOKEN_PREFIX);
    let now = now_ms();
    let row = TokenRow {
        id: new_id(),
        user_id: user.user.id.clone(),
        kind: TokenKind::Api,
        name: body.name,
        secret_hash: auth::secret_hash(&secret),
        scope: serde_json::to_string(&scope).unwrap_or_else(|_| "[]".into()),
        created_at: now,
        expires_at: now + i64::from(body.expires_in_days) * DAY_MS,
        revoked_at: None,
        csrf_hash: None,
    };
    st.store.create_token(&row).await?;
    let mut out = token_to_api(&row);
    out.secret = Some(secret);
    Ok((StatusCode::CREATED, Json(out)))
}

/// Revoke one of the caller's API tokens.
#[utoipa::path(delete, path = "/api/v1/auth/tokens/{id}", tag = "identity", params(("id" = String, Path)),
    responses((status = 204, description = "revoked")))]
pub async fn revoke_token(
    State(st): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let user = user_of(&caller)?;
    let owned = st.store.list_tokens(&user.user.id, TokenKind::Api).await?.into_iter().any(|t| t.id == id);
    if !owned {
        return Err(not_found("token", &id));
    }
    st.store.revoke_token(&id, now_ms()).await?;
    Ok(StatusCode::NO_CONTENT)
}
