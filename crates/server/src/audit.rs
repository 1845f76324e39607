//! Writing audit records (SPEC 8) for every operation that changes state, whatever its
//! outcome. Called by the route guard; handlers never write audit records themselves.

use axum::body::{Body, Bytes};
use axum::response::Response;
use serde_json::Value;

use crate::auth::Caller;
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
}

pub struct Attempt<'a> {
    pub spec: AuditSpec,
    pub route_path: &'static str,
    pub path: &'a str,
    pub caller: &'a Caller,
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

fn body_json(bytes: &[u8]) -> Value {
    if bytes.is_empty() {
        return Value::Null;
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

/// Writes the record of an attempt and gives back the response unchanged.
pub async fn finish(state: &AppState, attempt: Attempt<'_>, request: &Bytes, resp: Response) -> Response {
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
    let request_json = body_json(request);
    let result_json = body_json(&bytes);
    let mut operator = attempt.caller.operator();
    let mut resource_id = path_id(attempt.route_path, attempt.path);
    let mut resource_name = String::new();
    for keys in [&["id"][..], &["user", "id"], &["cluster", "id"], &["node_id"]] {
        if resource_id.is_empty()
            && let Some(id) = text_at(&result_json, keys)
        {
            resource_id = id;
        }
    }
    for keys in [&["name"][..], &["user", "name"], &["cluster", "name"]] {
        if resource_name.is_empty()
            && let Some(name) = text_at(&result_json, keys)
        {
            resource_name = name;
        }
    }
    for keys in [&["name"][..], &["username"], &["node_name"]] {
        if resource_name.is_empty()
            && let Some(name) = text_at(&request_json, keys)
        {
            resource_name = name;
        }
    }
    if attempt.spec.event == "login" {
        // The attempted account is both the operator and the resource.
        if let Some(name) = text_at(&request_json, &["username"]) {
            operator = name;
        }
    }
    let level = match outcome {
        "success" => attempt.spec.level,
        _ if attempt.spec.level == Level::Normal => Level::Warning,
        _ => Level::Incident,
    };
    let record = store::NewAudit {
        id: uuid::Uuid::new_v4().to_string(),
        time: now_ms(),
        event_name: attempt.spec.event.into(),
        event_type: "management".into(),
        source: "cgs".into(),
        resource_type: attempt.spec.resource_type.into(),
        resource_id,
        resource_name,
        operator,
        level: level.as_str().into(),
        outcome: outcome.into(),
        request: serde_json::json!({ "path": redact_secrets(attempt.path), "body": request_json }).to_string(),
        result: serde_json::json!({ "status": status.as_u16(), "body": result_json }).to_string(),
    };
    if let Err(e) = state.store.append_audit(&record).await {
        tracing::error!(event = attempt.spec.event, error = %e, "could not write an audit record");
    }
    Response::from_parts(parts, Body::from(bytes))
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
    fn the_resource_id_comes_from_the_path() {
        assert_eq!(path_id("/api/v1/users/{id}", "/api/v1/users/u-1"), "u-1");
        assert_eq!(path_id("/api/v1/groups/{id}/members/{user_id}", "/api/v1/groups/g/members/u"), "g");
        assert_eq!(path_id("/api/v1/users", "/api/v1/users"), "");
    }
}
