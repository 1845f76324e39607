//! Kubeconfig files (`kind: Config`), as `kubectl` writes them, in YAML or JSON.
//!
//! The server keeps a cluster's kubeconfig and talks to the cluster with it, long after the
//! user uploaded it, from another machine. So only what the file itself holds can be used:
//! references to files (`certificate-authority`, `client-certificate`, `client-key`,
//! `tokenFile`) and credential plugins (`exec`, `auth-provider`) are refused with a message
//! that says how to make the file self-contained.

use std::fmt;

use base64::Engine as _;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use serde_json::{Map, Value};

use crate::error::KubeconfigError;
use crate::target::{Auth, Target, check_server_url};

/// The largest kubeconfig accepted, in bytes. Real ones, with embedded certificates for
/// dozens of clusters, stay far below it.
pub const MAX_KUBECONFIG_BYTES: usize = 1 << 20;

/// The most `[` and `{` a YAML kubeconfig may hold. The YAML parser's time grows with the
/// square of the nesting depth of flow collections (a megabyte of `[` takes minutes);
/// `kubectl` writes block style, so real kubeconfigs hold a handful. JSON is not limited:
/// its parser is linear.
pub const MAX_YAML_FLOW_BRACKETS: usize = 10_000;

/// Names longer than this are shortened in error messages.
const SHOWN_NAME_CHARS: usize = 80;

/// A parsed kubeconfig: its named clusters, contexts and users and its current context.
/// Nothing is checked beyond the structure until a context is resolved with [`Self::target`],
/// so entries the server never uses (another user's exec plugin) do not matter.
#[derive(Clone, PartialEq)]
pub struct Kubeconfig {
    current_context: Option<String>,
    clusters: Vec<Entry>,
    contexts: Vec<Entry>,
    users: Vec<Entry>,
}

/// One named entry of `clusters`, `contexts` or `users`: the name and the inner mapping.
#[derive(Clone, PartialEq)]
struct Entry {
    name: String,
    body: Map<String, Value>,
}

impl fmt::Debug for Kubeconfig {
    /// Names only: user entries hold secrets.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names = |entries: &[Entry]| entries.iter().map(|e| e.name.clone()).collect::<Vec<_>>();
        f.debug_struct("Kubeconfig")
            .field("current_context", &self.current_context)
            .field("clusters", &names(&self.clusters))
            .field("contexts", &names(&self.contexts))
            .field("users", &names(&self.users))
            .finish()
    }
}

impl Kubeconfig {
    /// Parses a kubeconfig in YAML or JSON (a document starting with `{` is read as JSON).
    /// Never panics, whatever the input.
    pub fn parse(text: &str) -> Result<Kubeconfig, KubeconfigError> {
        if text.len() > MAX_KUBECONFIG_BYTES {
            return Err(KubeconfigError::TooLarge { bytes: text.len(), max: MAX_KUBECONFIG_BYTES });
        }
        let trimmed = text.trim_start_matches('\u{feff}').trim();
        if trimmed.is_empty() {
            return Err(KubeconfigError::Empty);
        }
        let document: Value = if trimmed.starts_with('{') {
            serde_json::from_str(trimmed)
                .map_err(|e| KubeconfigError::Syntax { format: "JSON", message: e.to_string() })?
        } else {
            let brackets = trimmed.bytes().filter(|b| matches!(b, b'[' | b'{')).count();
            if brackets > MAX_YAML_FLOW_BRACKETS {
                return Err(KubeconfigError::Syntax {
                    format: "YAML",
                    message: format!(
                        "it holds {brackets} `[` and `{{`; at most {MAX_YAML_FLOW_BRACKETS} are parsed (write it in block \
                         style, as kubectl does, or in JSON)"
                    ),
                });
            }
            serde_yaml::from_str(trimmed)
                .map_err(|e| KubeconfigError::Syntax { format: "YAML", message: e.to_string() })?
        };
        let Value::Object(top) = document else {
            return Err(KubeconfigError::NotAMapping);
        };
        if let Some(kind) = string_field(&top, "kind", "the kubeconfig")?
            && kind != "Config"
        {
            return Err(KubeconfigError::NotAKubeconfig { kind: shown(kind) });
        }
        Ok(Kubeconfig {
            current_context: string_field(&top, "current-context", "the kubeconfig")?.map(str::to_owned),
            clusters: entries(&top, "clusters", "cluster")?,
            contexts: entries(&top, "contexts", "context")?,
            users: entries(&top, "users", "user")?,
        })
    }

    /// The current context's name, when the kubeconfig sets one.
    pub fn current_context(&self) -> Option<&str> {
        self.current_context.as_deref()
    }

    /// The names of the contexts, in the file's order.
    pub fn context_names(&self) -> Vec<&str> {
        self.contexts.iter().map(|e| e.name.as_str()).collect()
    }

    /// Resolves `context` (or the current context when `None`) into a [`Target`]: its
    /// cluster's server and CA, its user's credential, its namespace. Refuses, with a message
    /// that says what to do, a missing context, cluster or user, a server URL that is not
    /// https (plain http is refused, loopback included), references to files, credential
    /// plugins, impersonation and proxies.
    pub fn target(&self, context: Option<&str>) -> Result<Target, KubeconfigError> {
        let available = || self.contexts.iter().map(|e| shown(&e.name)).collect::<Vec<_>>();
        let name = match context.filter(|c| !c.is_empty()).or(self.current_context.as_deref()) {
            Some(name) => name,
            None => return Err(KubeconfigError::NoCurrentContext { available: available() }),
        };
        let context = find(&self.contexts, name)
            .ok_or_else(|| KubeconfigError::MissingContext { name: shown(name), available: available() })?;
        let location = format!("context \"{}\"", shown(&context.name));
        let cluster_name = string_field(&context.body, "cluster", &location)?.ok_or_else(|| {
            KubeconfigError::InvalidField { location: location.clone(), field: "cluster".into(), expected: "set" }
        })?;
        let cluster = find(&self.clusters, cluster_name).ok_or_else(|| KubeconfigError::MissingCluster {
            context: shown(&context.name),
            name: shown(cluster_name),
        })?;
        let user = match string_field(&context.body, "user", &location)? {
            None => None,
            Some(user_name) => Some(find(&self.users, user_name).ok_or_else(|| KubeconfigError::MissingUser {
                context: shown(&context.name),
                name: shown(user_name),
            })?),
        };
        let namespace = string_field(&context.body, "namespace", &location)?.map(str::to_owned);
        let (server, ca_pem, insecure_skip_tls_verify) = resolve_cluster(cluster)?;
        let auth = match user {
            Some(user) => resolve_user(user)?,
            None => Auth::None,
        };
        Ok(Target {
            context: context.name.clone(),
            cluster: cluster.name.clone(),
            user: user.map(|u| u.name.clone()),
            server,
            ca_pem,
            insecure_skip_tls_verify,
            namespace,
            auth,
        })
    }
}

/// The server URL, CA certificates and `insecure-skip-tls-verify` of a cluster entry.
fn resolve_cluster(cluster: &Entry) -> Result<(String, Option<Vec<u8>>, bool), KubeconfigError> {
    let location = format!("cluster \"{}\"", shown(&cluster.name));
    let body = &cluster.body;
    for (field, reason) in [
        ("proxy-url", "the server connects to the API server directly"),
        ("tls-server-name", "the API server's certificate must name the host of `server`"),
    ] {
        if string_field(body, field, &location)?.is_some() {
            return Err(KubeconfigError::Unsupported { location, field: field.to_owned(), reason });
        }
    }
    let server = string_field(body, "server", &location)?
        .ok_or_else(|| KubeconfigError::MissingServer { cluster: shown(&cluster.name) })?;
    let server = check_server_url(server)
        .map_err(|reason| KubeconfigError::InvalidServer { cluster: shown(&cluster.name), reason })?;
    let ca_pem = match string_field(body, "certificate-authority-data", &location)? {
        Some(data) => Some(pem_field(data, &location, "certificate-authority-data", "CERTIFICATE")?),
        None => match string_field(body, "certificate-authority", &location)? {
            Some(path) => {
                return Err(KubeconfigError::FileReference {
                    location,
                    field: "certificate-authority",
                    path: shown(path),
                });
            }
            None => None,
        },
    };
    let insecure = bool_field(body, "insecure-skip-tls-verify", &location)?.unwrap_or(false);
    if insecure && ca_pem.is_some() {
        return Err(KubeconfigError::InsecureWithCa { cluster: shown(&cluster.name) });
    }
    Ok((server, ca_pem, insecure))
}

/// The credential of a user entry.
fn resolve_user(user: &Entry) -> Result<Auth, KubeconfigError> {
    let name = shown(&user.name);
    let location = format!("user \"{name}\"");
    let body = &user.body;
    if let Some(exec) = present(body, "exec") {
        let command = exec.get("command").and_then(Value::as_str).filter(|c| !c.is_empty()).unwrap_or("(no command)");
        return Err(KubeconfigError::ExecPlugin { user: name, command: shown(command) });
    }
    if let Some(provider) = present(body, "auth-provider") {
        let provider = provider.get("name").and_then(Value::as_str).filter(|p| !p.is_empty()).unwrap_or("(unnamed)");
        return Err(KubeconfigError::AuthProvider { user: name, provider: shown(provider) });
    }
    if let Some(path) = string_field(body, "tokenFile", &location)? {
        return Err(KubeconfigError::TokenFile { location, path: shown(path) });
    }
    for field in ["as", "as-uid", "as-groups", "as-user-extra"] {
        if present(body, field).is_some() {
            let reason = "the server acts as the kubeconfig's user itself";
            return Err(KubeconfigError::Unsupported { location, field: field.to_owned(), reason });
        }
    }
    let certificate = embedded_pem(body, &location, ("client-certificate-data", "client-certificate"), "CERTIFICATE")?;
    let key = embedded_pem(body, &location, ("client-key-data", "client-key"), "PRIVATE KEY")?;
    let token = string_field(body, "token", &location)?;
    let username = string_field(body, "username", &location)?;
    let password = string_field(body, "password", &location)?;

    let mut kinds = Vec::new();
    if certificate.is_some() || key.is_some() {
        kinds.push("client certificate");
    }
    if token.is_some() {
        kinds.push("token");
    }
    if username.is_some() || password.is_some() {
        kinds.push("username and password");
    }
    if kinds.len() > 1 {
        return Err(KubeconfigError::MultipleCredentials { user: name, kinds });
    }
    let incomplete =
        |present, missing| Err(KubeconfigError::IncompleteCredential { user: name.clone(), present, missing });
    Ok(match (certificate, key, token, username, password) {
        (Some(certificate_pem), Some(key_pem), ..) => Auth::ClientCertificate { certificate_pem, key_pem },
        (Some(_), None, ..) => return incomplete("client-certificate-data", "client-key-data"),
        (None, Some(_), ..) => return incomplete("client-key-data", "client-certificate-data"),
        (None, None, Some(token), ..) => Auth::Bearer { token: token.to_owned() },
        (None, None, None, Some(username), Some(password)) => {
            Auth::Basic { username: username.to_owned(), password: password.to_owned() }
        }
        (None, None, None, Some(_), None) => return incomplete("username", "password"),
        (None, None, None, None, Some(_)) => return incomplete("password", "username"),
        (None, None, None, None, None) => Auth::None,
    })
}

/// A PEM block embedded as base64 in `fields.0`, or, when only `fields.1` (a file) is
/// given, the refusal that says to embed it. As `kubectl` does, the embedded data wins
/// over a file named beside it.
fn embedded_pem(
    body: &Map<String, Value>,
    location: &str,
    fields: (&'static str, &'static str),
    expected: &'static str,
) -> Result<Option<Vec<u8>>, KubeconfigError> {
    if let Some(data) = string_field(body, fields.0, location)? {
        return pem_field(data, location, fields.0, expected).map(Some);
    }
    match string_field(body, fields.1, location)? {
        Some(path) => {
            Err(KubeconfigError::FileReference { location: location.to_owned(), field: fields.1, path: shown(path) })
        }
        None => Ok(None),
    }
}

/// Decodes a `*-data` field (base64 of PEM) and checks that it holds a PEM block whose
/// label ends with `expected` (`CERTIFICATE`, `PRIVATE KEY`: RSA, EC and PKCS#8 keys).
fn pem_field(
    data: &str,
    location: &str,
    field: &'static str,
    expected: &'static str,
) -> Result<Vec<u8>, KubeconfigError> {
    const LENIENT: GeneralPurpose = GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
    );
    let compact: String = data.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    let bytes = LENIENT
        .decode(compact.as_bytes())
        .map_err(|_| KubeconfigError::InvalidBase64 { location: location.to_owned(), field })?;
    let text = String::from_utf8_lossy(&bytes);
    let has_block = text.lines().any(|line| {
        line.trim()
            .strip_prefix("-----BEGIN ")
            .and_then(|rest| rest.strip_suffix("-----"))
            .is_some_and(|label| label.ends_with(expected))
    });
    if !has_block {
        return Err(KubeconfigError::NotPem { location: location.to_owned(), field, expected });
    }
    Ok(bytes)
}

/// The named entries of a top-level list (`clusters`), each `{name, <inner>: {...}}`.
fn entries(top: &Map<String, Value>, list: &'static str, inner: &str) -> Result<Vec<Entry>, KubeconfigError> {
    let items = match top.get(list) {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(items)) => items,
        Some(_) => {
            return Err(KubeconfigError::InvalidField {
                location: "the kubeconfig".into(),
                field: list.into(),
                expected: "a list",
            });
        }
    };
    let mut out: Vec<Entry> = Vec::with_capacity(items.len());
    for (index, item) in items.iter().enumerate() {
        let location = format!("{list}[{index}]");
        let Value::Object(item) = item else {
            return Err(KubeconfigError::InvalidField { location, field: inner.into(), expected: "a mapping" });
        };
        let name = string_field(item, "name", &location)?
            .ok_or_else(|| KubeconfigError::InvalidField {
                location: location.clone(),
                field: "name".into(),
                expected: "a non-empty string",
            })?
            .to_owned();
        let body = match item.get(inner) {
            None | Some(Value::Null) => Map::new(),
            Some(Value::Object(body)) => body.clone(),
            Some(_) => {
                return Err(KubeconfigError::InvalidField { location, field: inner.into(), expected: "a mapping" });
            }
        };
        if out.iter().any(|e| e.name == name) {
            return Err(KubeconfigError::Duplicate { what: list, name: shown(&name) });
        }
        out.push(Entry { name, body });
    }
    Ok(out)
}

fn find<'a>(entries: &'a [Entry], name: &str) -> Option<&'a Entry> {
    entries.iter().find(|e| e.name == name)
}

/// A string field; absent, null and `""` are all "not set", as for `kubectl`.
fn string_field<'a>(
    body: &'a Map<String, Value>,
    field: &str,
    location: &str,
) -> Result<Option<&'a str>, KubeconfigError> {
    match body.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.is_empty() => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(KubeconfigError::InvalidField {
            location: location.to_owned(),
            field: field.to_owned(),
            expected: "a string",
        }),
    }
}

fn bool_field(body: &Map<String, Value>, field: &str, location: &str) -> Result<Option<bool>, KubeconfigError> {
    match body.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(_) => Err(KubeconfigError::InvalidField {
            location: location.to_owned(),
            field: field.to_owned(),
            expected: "true or false",
        }),
    }
}

/// A field that is set to something (not absent, null, empty string or empty mapping).
fn present<'a>(body: &'a Map<String, Value>, field: &str) -> Option<&'a Value> {
    body.get(field).filter(|v| match v {
        Value::Null => false,
        Value::String(s) => !s.is_empty(),
        Value::Object(m) => !m.is_empty(),
        Value::Array(a) => !a.is_empty(),
        _ => true,
    })
}

/// A name as shown in a message: at most [`SHOWN_NAME_CHARS`] characters, control
/// characters replaced.
fn shown(name: &str) -> String {
    let mut out: String = name.chars().take(SHOWN_NAME_CHARS).map(|c| if c.is_control() { '?' } else { c }).collect();
    if name.chars().count() > SHOWN_NAME_CHARS {
        out.push('…');
    }
    out
}
