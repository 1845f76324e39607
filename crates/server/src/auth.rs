//! Who is calling: bearer credentials (login sessions, API tokens, node credentials),
//! password hashing and the permission check.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Argon2, password_hash::rand_core::OsRng};
use axum::http::HeaderMap;
use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::error::{ApiError, ApiResult};
use crate::timefmt::now_ms;
use store::{NodeRow, Store, TokenKind, UserRow};

/// Prefixes make a leaked credential recognisable (and secret scanners can find them).
pub const SESSION_PREFIX: &str = "cgs_s_";
pub const API_TOKEN_PREFIX: &str = "cgs_t_";
pub const NODE_PREFIX: &str = "cgs_n_";
pub const ENROLMENT_PREFIX: &str = "cgs_e_";
pub const CSRF_PREFIX: &str = "cgs_c_";
/// The console's session cookie (HttpOnly, SameSite=Strict).
pub const SESSION_COOKIE: &str = "cguard_session";
/// The header that carries a session's CSRF token.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// A new random secret with the given prefix: 256 bits, base64url.
pub fn new_secret(prefix: &str) -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    format!("{prefix}{}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
}

/// What the store keeps of a secret: its SHA-256. Secrets are 256 random bits, so a
/// fast hash is enough; passwords use argon2id instead.
pub fn secret_hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// Password hashes computed at once, at most: argon2id is made to cost memory (19 MiB) and
/// time, so a flood of sign-ins must queue here rather than take every worker thread.
const CONCURRENT_HASHES: usize = 2;

static HASHING: std::sync::LazyLock<std::sync::Arc<tokio::sync::Semaphore>> =
    std::sync::LazyLock::new(|| std::sync::Arc::new(tokio::sync::Semaphore::new(CONCURRENT_HASHES)));

/// Runs `work` on a blocking thread once one of the [`CONCURRENT_HASHES`] slots is free.
/// The slot is held until the work is done, even when the request is abandoned meanwhile.
async fn hashing<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> ApiResult<T> {
    let slot = HASHING.clone().acquire_owned().await.map_err(|e| ApiError::Internal(e.to_string()))?;
    tokio::task::spawn_blocking(move || {
        let _slot = slot;
        work()
    })
    .await
    .map_err(|e| ApiError::Internal(format!("password hashing: {e}")))
}

/// The argon2id hash (PHC string) of a password, computed off the async workers.
pub async fn hash_password(password: &str) -> ApiResult<String> {
    let password = password.to_owned();
    hashing(move || hash_password_now(&password)).await?
}

/// Whether a password matches its hash, checked off the async workers.
pub async fn verify_password(password: &str, phc: &str) -> ApiResult<bool> {
    let (password, phc) = (password.to_owned(), phc.to_owned());
    hashing(move || verify_password_now(&password, &phc)).await
}

/// [`hash_password`] on the calling thread.
pub fn hash_password_now(password: &str) -> ApiResult<String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| ApiError::Internal(format!("hashing a password: {e}")))
}

fn verify_password_now(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc).is_ok_and(|h| Argon2::default().verify_password(password.as_bytes(), &h).is_ok())
}

/// A password the server accepts: 12 to 256 characters.
pub fn check_password_rules(password: &str) -> ApiResult<()> {
    let n = password.chars().count();
    if !(12..=256).contains(&n) {
        return Err(ApiError::invalid("password", "must be 12 to 256 characters"));
    }
    Ok(())
}

/// An authenticated user and what it holds.
#[derive(Debug, Clone)]
pub struct UserCaller {
    pub user: UserRow,
    pub token_id: String,
    pub kind: TokenKind,
    /// For API tokens: the token's scope.
    pub scope: Option<iam::Scope>,
    pub policies: Vec<iam::PolicyDocument>,
    /// For sessions: the hash of the CSRF token.
    pub csrf_hash: Option<String>,
    /// Whether the request authenticated with the console's cookie (not a bearer token).
    pub via_cookie: bool,
}

impl UserCaller {
    pub fn allows(&self, action: iam::Action) -> bool {
        let docs: Vec<&iam::PolicyDocument> = self.policies.iter().collect();
        match &self.scope {
            Some(scope) => scope.allows(&docs, action),
            None => iam::evaluate(&docs, action).is_allowed(),
        }
    }

    pub fn allowed_actions(&self) -> Vec<iam::Action> {
        iam::Action::ALL.into_iter().filter(|a| self.allows(*a)).collect()
    }
}

/// The caller of a request, as the guard established it.
#[derive(Debug, Clone)]
pub enum Caller {
    Anonymous,
    User(Box<UserCaller>),
    Node(Box<NodeRow>),
}

impl Caller {
    /// The operator name written in audit records.
    pub fn operator(&self) -> String {
        match self {
            Caller::Anonymous => "anonymous".into(),
            Caller::User(u) => u.user.name.clone(),
            Caller::Node(n) => format!("node:{}", n.name),
        }
    }
}

pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(axum::http::header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then_some(token.trim())
}

/// The session token from the console's cookie.
pub fn session_cookie(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, value)| value)
}

/// Whether the request carries the CSRF token of the session `caller` signed in with.
pub fn csrf_ok(headers: &HeaderMap, caller: &UserCaller) -> bool {
    let Some(expected) = &caller.csrf_hash else { return false };
    let Some(given) = headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok()) else { return false };
    // Both sides are hex SHA-256 digests: comparing them leaks nothing useful.
    secret_hash(given) == *expected
}

/// `Set-Cookie` for a session (Secure when the server is reached over HTTPS).
pub fn session_cookie_header(token: &str, max_age_seconds: i64, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!("{SESSION_COOKIE}={token}; HttpOnly; SameSite=Strict; Path=/; Max-Age={max_age_seconds}{secure}")
}

/// Resolves a user's bearer token (session or API token).
pub async fn user_from_token(store: &dyn Store, token: &str) -> ApiResult<UserCaller> {
    let unauthenticated = || ApiError::Unauthenticated("the bearer token is invalid, expired or revoked".into());
    if !token.starts_with(SESSION_PREFIX) && !token.starts_with(API_TOKEN_PREFIX) {
        return Err(unauthenticated());
    }
    let row = store.token_by_hash(&secret_hash(token)).await?.ok_or_else(unauthenticated)?;
    if row.revoked_at.is_some() || row.expires_at <= now_ms() {
        return Err(unauthenticated());
    }
    let user = store.user(&row.user_id).await?.ok_or_else(unauthenticated)?;
    if user.disabled {
        return Err(ApiError::Unauthenticated("the account is disabled".into()));
    }
    let mut policies = Vec::new();
    for p in store.policies_of_user(&user.id).await? {
        match iam::PolicyDocument::parse(&p.document) {
            Ok(doc) => policies.push(doc),
            // A stored policy that no longer parses grants nothing; say so in the log.
            Err(e) => tracing::warn!(policy = %p.name, error = %e, "ignoring an invalid stored policy"),
        }
    }
    let scope = match row.kind {
        TokenKind::Session => None,
        TokenKind::Api => {
            let patterns: Vec<String> = serde_json::from_str(&row.scope).unwrap_or_default();
            Some(iam::Scope::parse(patterns).map_err(|_| unauthenticated())?)
        }
    };
    Ok(UserCaller {
        user,
        token_id: row.id,
        kind: row.kind,
        scope,
        policies,
        csrf_hash: row.csrf_hash,
        via_cookie: false,
    })
}

/// Resolves a node's credential.
pub async fn node_from_token(store: &dyn Store, token: &str) -> ApiResult<NodeRow> {
    let unauthenticated = || ApiError::Unauthenticated("the node credential is invalid or was replaced".into());
    if !token.starts_with(NODE_PREFIX) {
        return Err(unauthenticated());
    }
    store.node_by_credential(&secret_hash(token)).await?.ok_or_else(unauthenticated)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn passwords_verify_only_against_their_hash() {
        let h = hash_password("correct horse battery").await.unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("correct horse battery", &h).await.unwrap());
        assert!(!verify_password("correct horse batterx", &h).await.unwrap());
        assert!(!verify_password("anything", "not a phc string").await.unwrap());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn at_most_two_hashes_run_at_once() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static RUNNING: AtomicUsize = AtomicUsize::new(0);
        static MOST: AtomicUsize = AtomicUsize::new(0);
        let work = || {
            let now = RUNNING.fetch_add(1, Ordering::SeqCst) + 1;
            MOST.fetch_max(now, Ordering::SeqCst);
            std::thread::sleep(std::time::Duration::from_millis(50));
            RUNNING.fetch_sub(1, Ordering::SeqCst);
        };
        let tasks: Vec<_> = (0..8).map(|_| tokio::spawn(hashing(work))).collect();
        for t in tasks {
            t.await.unwrap().unwrap();
        }
        let most = MOST.load(Ordering::SeqCst);
        assert!((1..=CONCURRENT_HASHES).contains(&most), "{most} hashes ran at once");
    }

    #[test]
    fn secrets_are_random_and_prefixed() {
        let a = new_secret(SESSION_PREFIX);
        let b = new_secret(SESSION_PREFIX);
        assert_ne!(a, b);
        assert!(a.starts_with("cgs_s_") && a.len() == 6 + 43);
        assert_eq!(secret_hash(&a).len(), 64);
    }
}
