//! Writing audit records (SPEC 8) for every operation that changes state, whatever its
//! outcome. Called by the route guard; handlers never write audit records themselves.

use axum::body::{Body, Bytes};
use axum::response::Response;
use serde_json::Value;

use crate::auth::Caller;
use crate::error::ApiError;
use crate::state::AppState;
use crate::timefmt::now_ms;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Normal,
    Warning,
    Incident,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Normal => "normal",
            Level::Warning => "warning",
            Level::Incident => "incident",
        }
    }
}

/// The audit event of a route.
#[derive(Debug, Clone, Copy)]
pub struct AuditSpec {
    pub event: &'static str,
    pub resource_type: &'static str,
    pub level: Level,
    /// The event instead of `event` when the request body names an `image_id` (the seed
    /// tells "ignore for all images" and "for one image" apart).
    pub image_event: Option<&'static str>,
}

impl AuditSpec {
    /// The event of a request with this body.
    pub fn event_for(&self, request_json: &Value) -> &'static str {
        match self.image_event {
            Some(e) if request_json.get("image_id").is_some_and(|v| !v.is_null()) => e,
            _ => self.event,
        }
    }
}

pub struct Attempt<'a> {
    pub spec: AuditSpec,
    pub route_path: &'static str,
    pub path: &'a str,
    pub caller: &'a Caller,
    /// The client's address, when the server was given it.
    pub client: Option<std::net::SocketAddr>,
}

/// The `request` part of a record: path, client address, body.
fn request_record(attempt: &Attempt<'_>, body: serde_json::Value) -> serde_json::Value {
    serde_json::json!({
        "path": redact_secrets(attempt.path),
        "client": attempt.client.map(|c| c.to_string()),
        "body": body,
    })
}

/// Keys whose values never reach the audit log.
const SECRET_KEYS: [&str; 7] =
    ["password", "secret", "token", "credential", "kubeconfig", "private_key", "authorization"];

/// Replaces the values of secret-looking keys, at any depth, with `"***"`, and every
/// secret the server issues wherever it appears in a string or a key ([`redact_secrets`]).
pub fn redact(v: &mut Value) {
    match v {
        Value::Object(map) => {
            let entries = std::mem::take(map);
            for (k, mut val) in entries {
                let key = k.to_ascii_lowercase();
                if SECRET_KEYS.iter().any(|s| key.contains(s)) && !val.is_null() {
                    val = Value::String("***".into());
                } else {
                    redact(&mut val);
                }
                map.insert(redact_secrets(&k).into_owned(), val);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(redact),
        Value::String(s) => {
            if let std::borrow::Cow::Owned(redacted) = redact_secrets(s) {
                *s = redacted;
            }
        }
        _ => {}
    }
}

/// Replaces every secret the server issues (sessions, API tokens, node credentials,
/// enrolment tokens, CSRF tokens: `cgs_` + one letter + `_` + base64url, see
/// `auth::new_secret`) inside `text` by its prefix and `***`: `cgs_e_***`. Any letter is
/// taken, so that a secret format added later is covered too.
pub fn redact_secrets(text: &str) -> std::borrow::Cow<'_, str> {
    let bytes = text.as_bytes();
    let is_secret_char = |b: u8| b.is_ascii_alphanumeric() || b == b'-' || b == b'_';
    let mut out: Option<String> = None;
    let (mut copied, mut i) = (0, 0);
    while let Some(found) = text[i..].find("cgs_") {
        let start = i + found;
        let prefix_end = start + 6;
        let is_prefix = bytes.len() > prefix_end
            && bytes[start + 4].is_ascii_lowercase()
            && bytes[start + 5] == b'_'
            && is_secret_char(bytes[prefix_end]);
        if !is_prefix {
            i = start + 4;
            continue;
        }
        let mut end = prefix_end;
        while end < bytes.len() && is_secret_char(bytes[end]) {
            end += 1;
        }
        let o = out.get_or_insert_with(|| String::with_capacity(text.len()));
        o.push_str(&text[copied..prefix_end]);
        o.push_str("***");
        (copied, i) = (end, end);
    }
    match out {
        Some(mut o) => {
            o.push_str(&text[copied..]);
            std::borrow::Cow::Owned(o)
        }
        None => std::borrow::Cow::Borrowed(text),
    }
}

/// The most of an anonymous caller's request body that a record keeps: a public route
/// (sign-in, enrolment) takes bodies from anyone, and the audit log is not their store.
const MAX_ANONYMOUS_BODY: usize = 16 << 10;

/// The request body a record keeps from this caller: all of it, or at most
/// [`MAX_ANONYMOUS_BODY`] from an anonymous caller.
fn request_limit(caller: &Caller) -> usize {
    if matches!(caller, Caller::Anonymous) { MAX_ANONYMOUS_BODY } else { usize::MAX }
}

fn body_json(bytes: &[u8], limit: usize) -> Value {
    if bytes.is_empty() {
        return Value::Null;
    }
    if bytes.len() > limit {
        return Value::String(format!("<{} bytes, not recorded>", bytes.len()));
    }
    let mut v =
        serde_json::from_slice(bytes).unwrap_or_else(|_| Value::String(format!("<{} bytes, not JSON>", bytes.len())));
    redact(&mut v);
    v
}

/// The `{id}` of the route, read from the request path.
fn path_id(route_path: &str, path: &str) -> String {
    route_path
        .split('/')
        .zip(path.split('/'))
        .find(|(t, _)| *t == "{id}")
        .map(|(_, v)| v.to_string())
        .unwrap_or_default()
}

fn text_at(v: &Value, keys: &[&str]) -> Option<String> {
    let mut cur = v;
    for k in keys {
        cur = cur.get(k)?;
    }
    cur.as_str().map(str::to_string)
}

/// The fields of a record that the request alone decides.
fn record_of(attempt: &Attempt<'_>, request_json: &Value) -> store::NewAudit {
    let mut operator = attempt.caller.operator();
    if attempt.spec.event == "login" {
        // The attempted account is both the operator and the resource.
        if let Some(name) = text_at(request_json, &["username"]) {
            operator = name;
        }
    }
    let mut resource_name = String::new();
    for keys in [&["name"][..], &["username"], &["node_name"]] {
        if resource_name.is_empty()
            && let Some(name) = text_at(request_json, keys)
        {
            resource_name = name;
        }
    }
    store::NewAudit {
        id: uuid::Uuid::new_v4().to_string(),
        time: now_ms(),
        event_name: attempt.spec.event_for(request_json).into(),
        event_type: "management".into(),
        source: "cgs".into(),
        resource_type: attempt.spec.resource_type.into(),
        resource_id: redact_secrets(&path_id(attempt.route_path, attempt.path)).into_owned(),
        resource_name,
        operator,
        level: attempt.spec.level.as_str().into(),
        outcome: "attempt".into(),
        request: String::new(),
        result: "{}".into(),
    }
}

/// Writes the `attempt` record of an operation that is about to run, and returns its id.
/// The operation must not run when this fails: nothing changes without its record.
pub async fn record_attempt(state: &AppState, attempt: &Attempt<'_>, request: &Bytes) -> Result<String, ApiError> {
    let request_json = body_json(request, request_limit(attempt.caller));
    let mut record = record_of(attempt, &request_json);
    record.request = request_record(attempt, request_json).to_string();
    match state.store.append_audit(&record, &state.audit_key).await {
        Ok(_) => Ok(record.id),
        Err(e) => {
            tracing::error!(event = attempt.spec.event, error = %e, "could not write an audit record: operation refused");
            Err(ApiError::AuditUnavailable)
        }
    }
}

/// Writes the record of an operation's outcome and gives back the response unchanged.
/// `attempt_id` names the operation's `attempt` record, when it has one.
pub async fn finish(
    state: &AppState,
    attempt: Attempt<'_>,
    request: &Bytes,
    resp: Response,
    attempt_id: Option<&str>,
) -> Response {
    let (parts, body) = resp.into_parts();
    let bytes = axum::body::to_bytes(body, usize::MAX).await.unwrap_or_default();
    let status = parts.status;
    let outcome = if status.is_success() {
        "success"
    } else if status == 401 || status == 403 {
        "denied"
    } else {
        "failure"
    };
    let request_json = body_json(request, request_limit(attempt.caller));
    let result_json = body_json(&bytes, usize::MAX);
    let mut record = record_of(&attempt, &request_json);
    if record.resource_id.is_empty() {
        for keys in [&["id"][..], &["user", "id"], &["cluster", "id"], &["node_id"]] {
            if record.resource_id.is_empty()
                && let Some(id) = text_at(&result_json, keys)
            {
                record.resource_id = id;
            }
        }
    }
    for keys in [&["name"][..], &["user", "name"], &["cluster", "name"]] {
        if let Some(name) = text_at(&result_json, keys) {
            record.resource_name = name;
            break;
        }
    }
    let level = match outcome {
        "success" => attempt.spec.level,
        _ if attempt.spec.level == Level::Normal => Level::Warning,
        _ => Level::Incident,
    };
    record.level = level.as_str().into();
    record.outcome = outcome.into();
    let mut request = request_record(&attempt, request_json);
    if let Some(id) = attempt_id {
        request["attempt"] = id.into();
    }
    record.request = request.to_string();
    record.result = serde_json::json!({ "status": status.as_u16(), "body": result_json }).to_string();
    if let Err(e) = state.store.append_audit(&record, &state.audit_key).await {
        // The attempt record, written before the operation ran, stays.
        tracing::error!(event = attempt.spec.event, error = %e, "could not write an audit record");
    }
    Response::from_parts(parts, Body::from(bytes))
}

/// Records a request refused for want of a valid credential, compactly (method, path,
/// client address, reason; the body is never read) and at most `per_minute` times a minute
/// per route; the records left out are counted in the route's next one (`suppressed`).
pub async fn refused_unauthenticated(state: &AppState, refused: Refused<'_>, error: &ApiError) {
    let Some(suppressed) = state.audit_limiter.admit(refused.method, refused.route_path, now_ms()) else {
        return;
    };
    let mut request = serde_json::json!({
        "method": refused.method,
        "path": redact_secrets(refused.path),
        "client": refused.client.map(|c| c.to_string()),
    });
    if suppressed > 0 {
        request["suppressed"] = suppressed.into();
    }
    let problem = error.problem();
    let record = store::NewAudit {
        id: uuid::Uuid::new_v4().to_string(),
        time: now_ms(),
        event_name: refused.spec.event.into(),
        event_type: "management".into(),
        source: "cgs".into(),
        resource_type: refused.spec.resource_type.into(),
        resource_id: redact_secrets(&path_id(refused.route_path, refused.path)).chars().take(200).collect(),
        resource_name: String::new(),
        operator: "anonymous".into(),
        level: if refused.spec.level == Level::Normal { Level::Warning } else { Level::Incident }.as_str().into(),
        outcome: "denied".into(),
        request: request.to_string(),
        result: serde_json::json!({ "status": problem.status, "reason": problem.detail }).to_string(),
    };
    if let Err(e) = state.store.append_audit(&record, &state.audit_key).await {
        tracing::error!(event = refused.spec.event, error = %e, "could not write an audit record");
    }
}

/// A request the guard refused before knowing who sent it.
pub struct Refused<'a> {
    pub spec: AuditSpec,
    pub method: &'a str,
    pub route_path: &'static str,
    pub path: &'a str,
    pub client: Option<std::net::SocketAddr>,
}

/// How many records of refused unauthenticated requests each route may write a minute.
/// Per server process: each replica has its own budget.
#[derive(Debug)]
pub struct AnonymousLimiter {
    per_minute: u32,
    windows: std::sync::Mutex<std::collections::HashMap<String, Window>>,
}

#[derive(Debug, Default)]
struct Window {
    minute: i64,
    written: u32,
    suppressed: u64,
}

impl AnonymousLimiter {
    pub fn new(per_minute: u32) -> AnonymousLimiter {
        AnonymousLimiter { per_minute, windows: Default::default() }
    }

    /// Whether a record may be written now for this route; if so, how many were left out
    /// since the last one written (to be said in it).
    pub fn admit(&self, method: &str, route_path: &str, now: i64) -> Option<u64> {
        let mut windows = self.windows.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let w = windows.entry(format!("{method} {route_path}")).or_default();
        let minute = now.div_euclid(60_000);
        if w.minute != minute {
            (w.minute, w.written) = (minute, 0);
        }
        if w.written >= self.per_minute {
            w.suppressed += 1;
            return None;
        }
        w.written += 1;
        Some(std::mem::take(&mut w.suppressed))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_redacted_at_any_depth() {
        let mut v = serde_json::json!({
            "username": "alice", "password": "hunter2hunter2",
            "nested": [{"token": "cgs_t_x", "Kubeconfig": "apiVersion: v1", "keep": 1}],
            "credential": null
        });
        redact(&mut v);
        assert_eq!(v["password"], "***");
        assert_eq!(v["nested"][0]["token"], "***");
        assert_eq!(v["nested"][0]["Kubeconfig"], "***");
        assert_eq!(v["nested"][0]["keep"], 1);
        assert_eq!(v["username"], "alice");
        assert!(v["credential"].is_null());
    }

    #[test]
    fn issued_secrets_are_redacted_inside_any_string() {
        let mut v = serde_json::json!({
            "install_command": "CGUARD_ENROLMENT_TOKEN=cgs_e_AbC-d_9 cguard shield --server http://x",
            "nested": [["see cgs_n_zz and cgs_t_yy."]],
            "cgs_s_key": 1,
            "keep": "cgs_ cgs_x cgs_e_ nocgs_ab",
        });
        redact(&mut v);
        assert_eq!(v["install_command"], "CGUARD_ENROLMENT_TOKEN=cgs_e_*** cguard shield --server http://x");
        assert_eq!(v["nested"][0][0], "see cgs_n_*** and cgs_t_***.");
        assert_eq!(v["cgs_s_***"], 1);
        assert_eq!(v["keep"], "cgs_ cgs_x cgs_e_ nocgs_ab");
    }

    #[test]
    fn anonymous_records_are_limited_per_route_and_minute() {
        let limiter = AnonymousLimiter::new(2);
        let minute = 60_000 * 1_000;
        assert_eq!(limiter.admit("POST", "/a", minute), Some(0));
        assert_eq!(limiter.admit("POST", "/a", minute + 1), Some(0));
        assert_eq!(limiter.admit("POST", "/a", minute + 2), None);
        assert_eq!(limiter.admit("POST", "/a", minute + 3), None);
        assert_eq!(limiter.admit("DELETE", "/a", minute + 4), Some(0), "another route has its own budget");
        assert_eq!(limiter.admit("POST", "/a", minute + 60_000), Some(2), "the next record counts the left out");
        assert_eq!(limiter.admit("POST", "/a", minute + 60_001), Some(0));
    }

    #[test]
    fn the_resource_id_comes_from_the_path() {
        assert_eq!(path_id("/api/v1/users/{id}", "/api/v1/users/u-1"), "u-1");
        assert_eq!(path_id("/api/v1/groups/{id}/members/{user_id}", "/api/v1/groups/g/members/u"), "g");
        assert_eq!(path_id("/api/v1/users", "/api/v1/users"), "");
    }
}
