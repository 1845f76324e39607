//! The errors of this crate. Messages name entries, fields and files, never a secret's value.

/// Why a kubeconfig was refused. Each message says what to change.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KubeconfigError {
    #[error("the kubeconfig is {bytes} bytes; at most {max} are accepted")]
    TooLarge { bytes: usize, max: usize },
    #[error("the kubeconfig is empty")]
    Empty,
    #[error("the kubeconfig is not valid {format}: {message}")]
    Syntax { format: &'static str, message: String },
    #[error("the kubeconfig is not a mapping of `clusters`, `contexts`, `users` and `current-context`")]
    NotAMapping,
    #[error("this is a `{kind}` document, not a kubeconfig (`kind: Config`)")]
    NotAKubeconfig { kind: String },
    #[error("{location}: `{field}` must be {expected}")]
    InvalidField { location: String, field: String, expected: &'static str },
    #[error("two {what} are named \"{name}\"")]
    Duplicate { what: &'static str, name: String },
    #[error("the kubeconfig has no current-context; name one of its contexts: {}", list(available))]
    NoCurrentContext { available: Vec<String> },
    #[error("the kubeconfig has no context named \"{name}\"; its contexts: {}", list(available))]
    MissingContext { name: String, available: Vec<String> },
    #[error("context \"{context}\" names the cluster \"{name}\", which the kubeconfig does not define")]
    MissingCluster { context: String, name: String },
    #[error("context \"{context}\" names the user \"{name}\", which the kubeconfig does not define")]
    MissingUser { context: String, name: String },
    #[error("cluster \"{cluster}\" has no `server`")]
    MissingServer { cluster: String },
    #[error("cluster \"{cluster}\": server {reason}")]
    InvalidServer { cluster: String, reason: String },
    #[error(
        "{location}: `{field}` names the file {path}, which the server cannot read; embed the files with \
         `kubectl config view --raw --flatten`"
    )]
    FileReference { location: String, field: &'static str, path: String },
    #[error(
        "{location}: `tokenFile` names the file {path}, which the server cannot read; put the token itself in \
         `token`"
    )]
    TokenFile { location: String, path: String },
    #[error(
        "user \"{user}\" gets its credentials from the exec plugin `{command}`, which the server cannot run; use a \
         ServiceAccount token (`token`) or a client certificate (`client-certificate-data`, `client-key-data`)"
    )]
    ExecPlugin { user: String, command: String },
    #[error(
        "user \"{user}\" gets its credentials from the auth-provider `{provider}`, which the server cannot use; use \
         a ServiceAccount token (`token`) or a client certificate (`client-certificate-data`, `client-key-data`)"
    )]
    AuthProvider { user: String, provider: String },
    #[error("{location}: `{field}` is not supported: {reason}")]
    Unsupported { location: String, field: String, reason: &'static str },
    #[error("{location}: `{field}` is not valid base64")]
    InvalidBase64 { location: String, field: &'static str },
    #[error("{location}: `{field}` does not hold a PEM {expected}")]
    NotPem { location: String, field: &'static str, expected: &'static str },
    #[error("user \"{user}\" has `{present}` without `{missing}`")]
    IncompleteCredential { user: String, present: &'static str, missing: &'static str },
    #[error("user \"{user}\" has more than one kind of credential ({}); keep one", kinds.join(", "))]
    MultipleCredentials { user: String, kinds: Vec<&'static str> },
    #[error("cluster \"{cluster}\" has both a certificate authority and `insecure-skip-tls-verify: true`; keep one")]
    InsecureWithCa { cluster: String },
}

/// `403 Forbidden`: the status and its standard phrase (not the remote server's).
fn http_status(status: u16) -> String {
    match reqwest::StatusCode::from_u16(status).ok().and_then(|s| s.canonical_reason()) {
        Some(phrase) => format!("{status} {phrase}"),
        None => status.to_string(),
    }
}

/// ` (reason Forbidden, code 403)`, or less, or nothing.
fn status_details(reason: Option<&str>, code: Option<u16>) -> String {
    match (reason, code) {
        (Some(reason), Some(code)) => format!(" (reason {reason}, code {code})"),
        (Some(reason), None) => format!(" (reason {reason})"),
        (None, Some(code)) => format!(" (code {code})"),
        (None, None) => String::new(),
    }
}

fn list(names: &[String]) -> String {
    if names.is_empty() {
        return "none".to_owned();
    }
    names.iter().map(|n| format!("\"{n}\"")).collect::<Vec<_>>().join(", ")
}

/// What went wrong talking to a cluster's API server.
#[derive(Debug, thiserror::Error)]
pub enum K8sError {
    /// The TLS material of the target cannot be used (the CA or the client certificate).
    #[error("the TLS settings for {server} cannot be used: {message}")]
    InvalidTarget { server: String, message: String },
    /// No answer: the connection was refused, timed out or was closed.
    #[error("cannot reach the Kubernetes API server at {server}: {message}")]
    Unreachable { server: String, message: String },
    /// The TLS handshake failed (an unknown certificate authority, a name mismatch, or a
    /// server that does not speak TLS).
    #[error("TLS handshake with the Kubernetes API server at {server} failed: {message}")]
    Tls { server: String, message: String },
    /// The API server answered with an error status. Only the status and, when the body is a
    /// Kubernetes `Status` object, its `reason` (a CamelCase word) and `code` are kept: the
    /// body itself is never quoted, since what a remote server sends must not reach the
    /// API's answers or the audit log.
    #[error(
        "the Kubernetes API server refused {request}: HTTP {}{}",
        http_status(*status),
        status_details(reason.as_deref(), *code)
    )]
    Refused { request: String, status: u16, reason: Option<String>, code: Option<u16> },
    /// A success status whose body is not what the request returns.
    #[error("unexpected answer to {request}: {message}")]
    UnexpectedAnswer { request: String, message: String },
    /// An object that cannot be applied (no kind or name, an unsupported kind, an invalid name).
    #[error("cannot apply the object: {message}")]
    InvalidObject { message: String },
}
