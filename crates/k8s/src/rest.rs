//! The requests [`crate::Cluster`] sends, built by pure functions: the REST path of each
//! kind, server-side apply, deletion of the shield, and the reading of the answers
//! (`Status` objects, `/version`). Nothing here does I/O, so all of it is tested without an
//! API server.

use std::fmt;

use serde_json::Value;

use crate::error::K8sError;
use crate::manifest::{DAEMONSET_NAME, SECRET_NAME, SERVICE_ACCOUNT_NAME};

/// The field manager of every server-side apply: the fields cguard sets are owned by it.
pub const FIELD_MANAGER: &str = "cguard";
/// The content type of a server-side apply patch (JSON is valid YAML).
pub const APPLY_PATCH_CONTENT_TYPE: &str = "application/apply-patch+yaml";
/// The longest `Status.reason` kept (the API's reasons are short CamelCase words).
const MAX_REASON_CHARS: usize = 64;

/// An HTTP method of the API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Get,
    Patch,
    Delete,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Patch => "PATCH",
            Method::Delete => "DELETE",
        }
    }
}

/// One request to the API server, relative to its base URL.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiRequest {
    pub method: Method,
    /// The path below the server's base URL, starting with `/`.
    pub path: String,
    /// Query parameters, in order (names and values need no escaping).
    pub query: Vec<(&'static str, String)>,
    /// The body's content type, when there is a body.
    pub content_type: Option<&'static str>,
    /// The body (a Secret's body holds the token: it is never shown).
    pub body: Option<Vec<u8>>,
    /// Whether a 404 answer counts as done (deleting what is already gone).
    pub not_found_ok: bool,
}

impl ApiRequest {
    /// `METHOD /path`, for messages.
    pub fn describe(&self) -> String {
        format!("{} {}", self.method.as_str(), self.path)
    }

    /// The path with its query string.
    pub fn path_and_query(&self) -> String {
        if self.query.is_empty() {
            return self.path.clone();
        }
        let query: Vec<String> = self.query.iter().map(|(k, v)| format!("{k}={v}")).collect();
        format!("{}?{}", self.path, query.join("&"))
    }
}

impl fmt::Debug for ApiRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiRequest")
            .field("method", &self.method)
            .field("path", &self.path)
            .field("query", &self.query)
            .field("content_type", &self.content_type)
            .field("body", &self.body.as_ref().map(|b| format!("<{} bytes>", b.len())))
            .field("not_found_ok", &self.not_found_ok)
            .finish()
    }
}

/// The kinds this client can address: (apiVersion, kind, resource, namespaced).
const KINDS: &[(&str, &str, &str, bool)] = &[
    ("v1", "Namespace", "namespaces", false),
    ("v1", "ServiceAccount", "serviceaccounts", true),
    ("v1", "Secret", "secrets", true),
    ("v1", "ConfigMap", "configmaps", true),
    ("v1", "Service", "services", true),
    ("apps/v1", "DaemonSet", "daemonsets", true),
    ("apps/v1", "Deployment", "deployments", true),
    ("rbac.authorization.k8s.io/v1", "ClusterRole", "clusterroles", false),
    ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding", "clusterrolebindings", false),
    ("rbac.authorization.k8s.io/v1", "Role", "roles", true),
    ("rbac.authorization.k8s.io/v1", "RoleBinding", "rolebindings", true),
];

/// The REST path of an object: `/api/v1/namespaces/NS/secrets/NAME`,
/// `/apis/apps/v1/namespaces/NS/daemonsets/NAME`, `/api/v1/namespaces/NAME`. Names are
/// checked (DNS-1123 subdomain; namespaces: DNS-1123 label), so no value can change the
/// path's shape. A namespaced kind needs a namespace; a cluster-scoped one ignores it.
pub fn resource_path(api_version: &str, kind: &str, namespace: Option<&str>, name: &str) -> Result<String, K8sError> {
    let Some(&(_, _, resource, namespaced)) = KINDS.iter().find(|(v, k, ..)| *v == api_version && *k == kind) else {
        return Err(invalid(format!("the kind {kind} ({api_version}) is not one this client applies")));
    };
    check_name(name, kind == "Namespace")?;
    let base = if api_version.contains('/') { format!("/apis/{api_version}") } else { format!("/api/{api_version}") };
    if !namespaced {
        return Ok(format!("{base}/{resource}/{name}"));
    }
    let Some(namespace) = namespace else {
        return Err(invalid(format!("the {kind} {name} has no metadata.namespace")));
    };
    check_name(namespace, true)?;
    Ok(format!("{base}/namespaces/{namespace}/{resource}/{name}"))
}

/// `GET /version`.
pub fn version_request() -> ApiRequest {
    ApiRequest {
        method: Method::Get,
        path: "/version".into(),
        query: Vec::new(),
        content_type: None,
        body: None,
        not_found_ok: false,
    }
}

/// The server-side apply of `object`: `PATCH PATH?fieldManager=cguard&force=true` with the
/// object as JSON (`force`: cguard owns these objects and takes over fields another manager
/// set, e.g. after a `kubectl apply` by hand).
pub fn apply_request(object: &Value) -> Result<ApiRequest, K8sError> {
    let text = |pointer: &str| object.pointer(pointer).and_then(Value::as_str);
    let api_version = text("/apiVersion").ok_or_else(|| invalid("the object has no apiVersion".into()))?;
    let kind = text("/kind").ok_or_else(|| invalid("the object has no kind".into()))?;
    let name = text("/metadata/name").ok_or_else(|| invalid(format!("the {kind} has no metadata.name")))?;
    let path = resource_path(api_version, kind, text("/metadata/namespace"), name)?;
    let body = serde_json::to_vec(object).map_err(|e| invalid(format!("the {kind} {name} cannot be encoded: {e}")))?;
    Ok(ApiRequest {
        method: Method::Patch,
        path,
        query: vec![("fieldManager", FIELD_MANAGER.into()), ("force", "true".into())],
        content_type: Some(APPLY_PATCH_CONTENT_TYPE),
        body: Some(body),
        not_found_ok: false,
    })
}

/// The deletions that remove the shield from `namespace`: its DaemonSet (its pods with it:
/// `propagationPolicy=Background`), Secret and ServiceAccount. A 404 counts as done. The
/// namespace itself stays: other objects may live in it.
pub fn delete_shield_requests(namespace: &str) -> Result<Vec<ApiRequest>, K8sError> {
    [
        ("apps/v1", "DaemonSet", DAEMONSET_NAME),
        ("v1", "Secret", SECRET_NAME),
        ("v1", "ServiceAccount", SERVICE_ACCOUNT_NAME),
    ]
    .into_iter()
    .map(|(api_version, kind, name)| {
        Ok(ApiRequest {
            method: Method::Delete,
            path: resource_path(api_version, kind, Some(namespace), name)?,
            query: vec![("propagationPolicy", "Background".into())],
            content_type: None,
            body: None,
            not_found_ok: true,
        })
    })
    .collect()
}

/// The error for an answer with status `status` (not 2xx): the status, and the `reason`
/// and `code` of the body when it is a Kubernetes `Status` object. Nothing else of the body
/// is kept: it comes from a remote server and ends up in the API's answer and the audit
/// log, so a reason that is not a plain CamelCase word is dropped too.
pub fn refusal(request: &str, status: u16, body: &[u8]) -> K8sError {
    let parsed: Option<Value> = serde_json::from_slice(body).ok();
    let status_object = parsed.as_ref().filter(|v| v.get("kind").and_then(Value::as_str) == Some("Status"));
    let reason = status_object
        .and_then(|s| s.get("reason"))
        .and_then(Value::as_str)
        .filter(|r| !r.is_empty() && r.len() <= MAX_REASON_CHARS && r.chars().all(|c| c.is_ascii_alphanumeric()))
        .map(str::to_owned);
    let code = status_object
        .and_then(|s| s.get("code"))
        .and_then(Value::as_u64)
        .and_then(|c| u16::try_from(c).ok())
        .filter(|c| (100..600).contains(c));
    K8sError::Refused { request: request.to_owned(), status, reason, code }
}

/// The API server's version (`GET /version`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ServerVersion {
    pub major: String,
    pub minor: String,
    #[serde(rename = "gitVersion")]
    pub git_version: String,
    #[serde(default)]
    pub platform: String,
}

/// Reads the body of `GET /version`.
pub fn parse_version(body: &[u8]) -> Result<ServerVersion, K8sError> {
    // The body is not quoted, nor serde's message (which can quote a value of it).
    serde_json::from_slice(body).map_err(|_| K8sError::UnexpectedAnswer {
        request: version_request().describe(),
        message: format!("the answer ({} bytes) is not a Kubernetes version object", body.len()),
    })
}

/// Checks a DNS-1123 subdomain (or, with `label`, a DNS-1123 label: no dots, 63 characters).
fn check_name(name: &str, label: bool) -> Result<(), K8sError> {
    let max = if label { 63 } else { 253 };
    let allowed = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || (!label && c == '.');
    let alnum = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit();
    let ok = !name.is_empty()
        && name.len() <= max
        && name.chars().all(allowed)
        && name.starts_with(alnum)
        && name.ends_with(alnum)
        && !name.split('.').any(|part| part.is_empty() || part.starts_with('-') || part.ends_with('-'));
    if ok {
        return Ok(());
    }
    let what = if label { "DNS label" } else { "DNS subdomain" };
    let shown: String = name.chars().take(80).map(|c| if c.is_control() { '?' } else { c }).collect();
    Err(invalid(format!(
        "\"{shown}\" is not a valid name (a {what}: lower-case letters, digits and `-`, at most {max} characters)"
    )))
}

fn invalid(message: String) -> K8sError {
    K8sError::InvalidObject { message }
}
