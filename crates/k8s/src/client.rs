//! A client for one cluster's API server, from a resolved [`Target`].

use std::fmt;
use std::time::Duration;

use base64::Engine as _;
use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderValue};
use serde_json::Value;

use crate::error::K8sError;
use crate::rest::{self, ApiRequest, Method, ServerVersion};
use crate::target::{Auth, Target};

/// Longest wait for a connection, and for a whole request.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// The largest answer read; the API's answers to these requests are a few kilobytes.
const MAX_ANSWER_BYTES: usize = 4 << 20;

/// A connection setting for one API server: the TLS trust and identity of its [`Target`],
/// and its credential. Requests are sent with [`Cluster::version`], [`Cluster::apply`] and
/// [`Cluster::delete_shield`].
pub struct Cluster {
    server: String,
    client: reqwest::Client,
    authorization: Option<HeaderValue>,
}

impl fmt::Debug for Cluster {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Cluster")
            .field("server", &self.server)
            .field("authorization", &self.authorization.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

impl Cluster {
    /// Prepares the client: the CA of the target as the only trusted root when it gives one
    /// (the public web roots otherwise), its client certificate, its bearer token or basic
    /// credential, a 10 s timeout, no redirects. Nothing is sent yet.
    pub fn connect(target: &Target) -> Result<Cluster, K8sError> {
        let server = target.server.clone();
        let unusable = |message: String| K8sError::InvalidTarget { server: server.clone(), message };
        // `Kubeconfig::target` only makes https targets; a target built by hand is held to
        // the same rule.
        if !server.starts_with("https://") {
            return Err(unusable("the server must use https: `http://` is refused".into()));
        }
        let mut builder = reqwest::Client::builder()
            .connect_timeout(REQUEST_TIMEOUT)
            .timeout(REQUEST_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("cguard/", env!("CARGO_PKG_VERSION")));
        if let Some(ca) = &target.ca_pem {
            let roots = reqwest::Certificate::from_pem_bundle(ca)
                .map_err(|e| unusable(format!("certificate-authority-data: {}", chain(&e))))?;
            if roots.is_empty() {
                return Err(unusable("certificate-authority-data holds no certificate".into()));
            }
            builder = builder.tls_built_in_root_certs(false);
            for root in roots {
                builder = builder.add_root_certificate(root);
            }
        }
        if target.insecure_skip_tls_verify {
            builder = builder.danger_accept_invalid_certs(true);
        }
        let mut authorization = None;
        match &target.auth {
            Auth::None => {}
            Auth::ClientCertificate { certificate_pem, key_pem } => {
                let mut pem = certificate_pem.clone();
                pem.push(b'\n');
                pem.extend_from_slice(key_pem);
                let bad_identity = |e: reqwest::Error| {
                    unusable(format!("the client certificate or key cannot be used: {}", chain(&e)))
                };
                // The key is only parsed when a client is built: try it alone first, so that
                // the message blames the right part.
                let identity = reqwest::Identity::from_pem(&pem).map_err(bad_identity)?;
                reqwest::Client::builder().identity(identity).build().map_err(bad_identity)?;
                builder = builder.identity(reqwest::Identity::from_pem(&pem).map_err(bad_identity)?);
            }
            Auth::Bearer { token } => {
                authorization = Some(header(&format!("Bearer {}", token.trim()), "the token", &unusable)?);
            }
            Auth::Basic { username, password } => {
                let pair = base64::engine::general_purpose::STANDARD.encode(format!("{username}:{password}"));
                authorization = Some(header(&format!("Basic {pair}"), "the user name", &unusable)?);
            }
        }
        let client = builder.build().map_err(|e| unusable(chain(&e)))?;
        Ok(Cluster { server, client, authorization })
    }

    /// The API server's base URL.
    pub fn server(&self) -> &str {
        &self.server
    }

    /// `GET /version`: checks that the server is reachable and trusted. (The endpoint needs
    /// no credential on most clusters, so this does not prove the credential works.)
    pub async fn version(&self) -> Result<ServerVersion, K8sError> {
        let request = rest::version_request();
        let (status, body) = self.send(&request).await?;
        if !(200..300).contains(&status) {
            return Err(rest::refusal(&request.describe(), status, &body));
        }
        rest::parse_version(&body)
    }

    /// Applies each object in order by server-side apply ([`rest::apply_request`]); stops
    /// at the first refusal.
    pub async fn apply(&self, objects: &[Value]) -> Result<(), K8sError> {
        for object in objects {
            let request = rest::apply_request(object)?;
            let (status, body) = self.send(&request).await?;
            if !(200..300).contains(&status) {
                return Err(rest::refusal(&request.describe(), status, &body));
            }
        }
        Ok(())
    }

    /// Deletes the shield's DaemonSet, Secret and ServiceAccount from `namespace`
    /// ([`rest::delete_shield_requests`]); what is already gone counts as deleted.
    pub async fn delete_shield(&self, namespace: &str) -> Result<(), K8sError> {
        for request in rest::delete_shield_requests(namespace)? {
            let (status, body) = self.send(&request).await?;
            let gone = status == 404 && request.not_found_ok;
            if !(200..300).contains(&status) && !gone {
                return Err(rest::refusal(&request.describe(), status, &body));
            }
        }
        Ok(())
    }

    /// Sends one request; returns the status and the body (at most [`MAX_ANSWER_BYTES`]).
    async fn send(&self, request: &ApiRequest) -> Result<(u16, Vec<u8>), K8sError> {
        let url = format!("{}{}", self.server, request.path_and_query());
        let method = match request.method {
            Method::Get => reqwest::Method::GET,
            Method::Patch => reqwest::Method::PATCH,
            Method::Delete => reqwest::Method::DELETE,
        };
        let mut builder = self.client.request(method, &url).header(ACCEPT, "application/json");
        if let Some(authorization) = &self.authorization {
            builder = builder.header(AUTHORIZATION, authorization.clone());
        }
        if let Some(content_type) = request.content_type {
            builder = builder.header(CONTENT_TYPE, content_type);
        }
        if let Some(body) = &request.body {
            builder = builder.body(body.clone());
        }
        let mut response = builder.send().await.map_err(|e| self.transport_error(&e))?;
        let status = response.status().as_u16();
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| self.transport_error(&e))? {
            if body.len() + chunk.len() > MAX_ANSWER_BYTES {
                return Err(K8sError::UnexpectedAnswer {
                    request: request.describe(),
                    message: format!("the answer is larger than {MAX_ANSWER_BYTES} bytes"),
                });
            }
            body.extend_from_slice(&chunk);
        }
        Ok((status, body))
    }

    fn transport_error(&self, error: &reqwest::Error) -> K8sError {
        let server = self.server.clone();
        if let Some(tls) = rustls_error(error) {
            return K8sError::Tls { server, message: explain_tls(tls) };
        }
        if error.is_timeout() {
            let seconds = REQUEST_TIMEOUT.as_secs();
            return K8sError::Unreachable { server, message: format!("no answer within {seconds} s") };
        }
        K8sError::Unreachable { server, message: chain(error) }
    }
}

/// A header value that is never shown (`Debug` of a sensitive value is hidden too).
fn header(value: &str, what: &str, unusable: &dyn Fn(String) -> K8sError) -> Result<HeaderValue, K8sError> {
    let mut value = HeaderValue::from_str(value)
        .map_err(|_| unusable(format!("{what} holds characters that an HTTP header cannot carry")))?;
    value.set_sensitive(true);
    Ok(value)
}

/// The TLS error behind a request error, if that is what it is. Handshake errors reach us
/// as an `io::Error` wrapping (an `io::Error` wrapping) the `rustls::Error`.
fn rustls_error(error: &reqwest::Error) -> Option<&rustls::Error> {
    let mut current: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(e) = current {
        if let Some(tls) = e.downcast_ref::<rustls::Error>() {
            return Some(tls);
        }
        // `io::Error::source` skips the wrapped error itself: step into it instead.
        current = match e.downcast_ref::<std::io::Error>().and_then(|io| io.get_ref()) {
            Some(inner) => Some(inner as &(dyn std::error::Error + 'static)),
            None => e.source(),
        };
    }
    None
}

fn explain_tls(error: &rustls::Error) -> String {
    use rustls::CertificateError as C;
    let what = match error {
        rustls::Error::InvalidCertificate(C::UnknownIssuer | C::BadSignature) => {
            "the server's certificate is not signed by a trusted authority (certificate-authority-data of the \
             kubeconfig)"
        }
        rustls::Error::InvalidCertificate(C::NotValidForName | C::NotValidForNameContext { .. }) => {
            "the server's certificate does not name the host of `server`"
        }
        rustls::Error::InvalidCertificate(C::Expired | C::ExpiredContext { .. }) => {
            "the server's certificate has expired"
        }
        rustls::Error::InvalidMessage(_) | rustls::Error::InappropriateMessage { .. } => {
            "the server does not speak TLS at this address (is it plain http?)"
        }
        _ => return error.to_string(),
    };
    format!("{what} ({error})")
}

/// An error and its sources, joined; the outermost reqwest message (which repeats the
/// URL) is left out when there is more.
fn chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut current = error.source();
    while let Some(e) = current {
        let text = e.to_string();
        // hyper's "client error (Connect)" adds nothing to what follows it.
        if !text.starts_with("client error (") && !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        current = e.source();
    }
    if parts.is_empty() {
        return error.to_string();
    }
    parts.join(": ")
}
