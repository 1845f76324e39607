//! The HTTP side of the registry source: choosing HTTPS or plain HTTP, answering
//! authentication challenges (basic, or bearer tokens from the registry's token server),
//! and turning failures into errors that say what went wrong.

use std::collections::HashMap;
use std::io::Read;
use std::sync::Mutex;
use std::time::Duration;

use reqwest::StatusCode;
use reqwest::blocking::{Client, RequestBuilder, Response};
use reqwest::header::{ACCEPT, CONTENT_LENGTH, HeaderMap, WWW_AUTHENTICATE};

use super::auth::{self, Challenge, Credentials};
use super::reference::{Reference, is_loopback_host};
use crate::source::OpenOptions;
use crate::{Error, Limits};

/// Time allowed to open a connection.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(15);
/// Time allowed for one blocking step (the response headers, or one read of a body): a
/// stalled transfer fails instead of hanging, while a long layer download does not.
const STALL_TIMEOUT: Duration = Duration::from_secs(120);
/// Most bytes of an error body read to find the registry's message.
const ERROR_BODY_CAP: u64 = 64 * 1024;
/// Longest registry error message quoted.
const MESSAGE_CAP: usize = 300;

/// How requests to the registry authenticate, as learned from its challenges.
#[derive(Debug, Clone)]
enum Mode {
    Anonymous,
    Basic,
    /// Bearer tokens from the registry's token server, fetched per scope on demand.
    Bearer,
}

struct AuthState {
    mode: Mode,
    /// Bearer tokens by scope (`repository:team/app:pull`).
    tokens: HashMap<String, String>,
}

/// A connection to one repository of one registry.
pub(crate) struct RegistryClient {
    http: Client,
    /// The registry as the reference names it, for messages.
    registry: String,
    /// `https://host[:port]` or `http://host[:port]`, chosen when connecting.
    base: String,
    repository: String,
    credentials: Option<Credentials>,
    insecure: Vec<String>,
    auth: Mutex<AuthState>,
}

impl RegistryClient {
    /// Connects to the registry of `reference`: finds the credentials, picks the scheme and
    /// learns how the registry wants requests authenticated.
    pub fn connect(reference: &Reference, options: &OpenOptions) -> Result<Self, Error> {
        let credentials = auth::find_credentials(options, &reference.registry)?;
        let http = build_http(reference, options)?;
        let host = reference.api_host().to_owned();
        let mut client = RegistryClient {
            http,
            registry: reference.registry.clone(),
            base: String::new(),
            repository: reference.repository.clone(),
            credentials,
            insecure: options.insecure_registries.clone(),
            auth: Mutex::new(AuthState { mode: Mode::Anonymous, tokens: HashMap::new() }),
        };
        let allow_http =
            is_loopback_host(&host) || client.is_insecure(&reference.registry) || client.is_insecure(&host);
        client.ping(&host, allow_http)?;
        Ok(client)
    }

    /// The repository the client was connected for.
    pub fn repository(&self) -> &str {
        &self.repository
    }

    fn is_insecure(&self, host: &str) -> bool {
        self.insecure.iter().any(|h| h.eq_ignore_ascii_case(host))
    }

    /// `GET /v2/`: finds a scheme that answers and the authentication the registry asks
    /// for. HTTPS is always tried first; loopback and insecure registries fall back to
    /// plain HTTP when no TLS connection can be made.
    fn ping(&mut self, host: &str, allow_http: bool) -> Result<(), Error> {
        let schemes: &[&str] = if allow_http { &["https", "http"] } else { &["https"] };
        let mut failures = Vec::new();
        for scheme in schemes {
            let url = format!("{scheme}://{host}/v2/");
            tracing::debug!(%url, "pinging registry");
            let response = match self.http.get(&url).send() {
                Ok(r) => r,
                Err(e) => {
                    failures.push(format!("{scheme}: {}", error_chain(&e)));
                    continue;
                }
            };
            self.base = format!("{scheme}://{host}");
            let earlier = if failures.is_empty() { String::new() } else { format!(" (after {})", failures.join("; ")) };
            let status = response.status();
            if status.is_success() {
                return Ok(());
            }
            if status == StatusCode::UNAUTHORIZED {
                let mode = match challenge_of(response.headers()) {
                    Some(Challenge::Basic) => Mode::Basic,
                    Some(Challenge::Bearer { .. }) => Mode::Bearer,
                    None => {
                        return Err(self.registry_error(format!(
                            "asks for authentication the client cannot give (WWW-Authenticate: {:?}){earlier}",
                            header_text(response.headers(), WWW_AUTHENTICATE)
                        )));
                    }
                };
                self.lock_auth().mode = mode;
                return Ok(());
            }
            let message = error_message(response);
            if !failures.is_empty() {
                // HTTPS failed and plain HTTP got an error page: most often a TLS registry
                // whose certificate is not trusted, and the HTTPS failure says why.
                return Err(self.registry_error(format!(
                    "no usable connection: {}, and plain HTTP answered {message}{}",
                    failures.join("; "),
                    ca_hint(&failures)
                )));
            }
            return Err(self.registry_error(format!(
                "does not answer the registry API at {url}: {message}; is it an OCI distribution registry?"
            )));
        }
        Err(Error::io(
            format!("registry {} is not reachable", self.registry),
            std::io::Error::other(format!("{}{}", failures.join("; "), ca_hint(&failures))),
        ))
    }

    /// GETs `/v2/<repository>/<path>`, authenticating as the registry asks, and returns the
    /// response once it succeeded. `what` names the object for error messages.
    pub fn get(&self, path: &str, accept: Option<&str>, what: &str) -> Result<Response, Error> {
        self.get_in(&self.repository, path, accept, what)
    }

    /// Like [`RegistryClient::get`], in another repository of the same registry.
    pub fn get_in(&self, repository: &str, path: &str, accept: Option<&str>, what: &str) -> Result<Response, Error> {
        let scope = format!("repository:{repository}:pull");
        self.get_url(&format!("{repository}/{path}"), &scope, accept, what, repository)
    }

    /// GETs `/v2/<path>` (which may carry a query) with the token scope `scope`.
    pub fn get_url(
        &self,
        path: &str,
        scope: &str,
        accept: Option<&str>,
        what: &str,
        repository: &str,
    ) -> Result<Response, Error> {
        let url = format!("{}/v2/{}", self.base, path);
        let mut retried = false;
        loop {
            let mut request = self.http.get(&url);
            if let Some(accept) = accept {
                request = request.header(ACCEPT, accept);
            }
            request = self.authorize(request, scope);
            tracing::debug!(%url, "GET");
            let response = request.send().map_err(|e| self.transport_error(&e))?;
            let status = response.status();
            if status.is_success() {
                return Ok(response);
            }
            if status == StatusCode::UNAUTHORIZED && !retried {
                retried = true;
                if self.answer_challenge(response.headers(), scope)? {
                    continue;
                }
            }
            return Err(self.status_error(response, what, repository));
        }
    }

    /// Adds the authorization the registry asked for to `request`.
    fn authorize(&self, request: RequestBuilder, scope: &str) -> RequestBuilder {
        let state = self.lock_auth();
        match (&state.mode, &self.credentials) {
            (Mode::Basic, Some(c)) => request.basic_auth(&c.username, Some(&c.password)),
            (Mode::Bearer, _) => match state.tokens.get(scope) {
                Some(token) => request.bearer_auth(token),
                None => request,
            },
            _ => request,
        }
    }

    /// Reacts to a 401: fetches a bearer token or switches to basic authentication.
    /// Returns whether the request is worth sending again.
    fn answer_challenge(&self, headers: &HeaderMap, default_scope: &str) -> Result<bool, Error> {
        match challenge_of(headers) {
            Some(Challenge::Basic) => {
                let mut state = self.lock_auth();
                let was_basic = matches!(state.mode, Mode::Basic);
                state.mode = Mode::Basic;
                Ok(self.credentials.is_some() && !was_basic)
            }
            Some(Challenge::Bearer { realm, service, scope }) => {
                // The registry names the scope it wants; the default covers registries
                // that leave it out.
                let scope = scope.unwrap_or_else(|| default_scope.to_owned());
                let token = self.fetch_token(&realm, service.as_deref(), &scope)?;
                let mut state = self.lock_auth();
                state.mode = Mode::Bearer;
                state.tokens.insert(default_scope.to_owned(), token.clone());
                state.tokens.insert(scope, token);
                Ok(true)
            }
            None => Ok(false),
        }
    }

    /// Asks the token server at `realm` for a token for `scope`, sending the basic
    /// credentials when there are any.
    fn fetch_token(&self, realm: &str, service: Option<&str>, scope: &str) -> Result<String, Error> {
        let mut url = reqwest::Url::parse(realm)
            .map_err(|e| self.registry_error(format!("names an invalid token server {realm:?}: {e}")))?;
        if !matches!(url.scheme(), "https" | "http") {
            return Err(self.registry_error(format!("names a token server that is not HTTP: {realm:?}")));
        }
        let realm_host = match (url.host_str(), url.port()) {
            (Some(h), Some(p)) => format!("{h}:{p}"),
            (Some(h), None) => h.to_owned(),
            (None, _) => return Err(self.registry_error(format!("names a token server without a host: {realm:?}"))),
        };
        {
            let mut query = url.query_pairs_mut();
            if let Some(service) = service {
                query.append_pair("service", service);
            }
            query.append_pair("scope", scope);
        }
        let mut request = self.http.get(url.clone());
        if let Some(c) = &self.credentials {
            // Passwords go over plain HTTP only to this machine or to hosts the user
            // marked insecure.
            let plain_ok = is_loopback_host(&realm_host) || self.is_insecure(&realm_host);
            if url.scheme() == "http" && !plain_ok {
                return Err(self.registry_error(format!(
                    "sends clients to the plain-HTTP token server {realm_host}; refusing to send credentials \
                     there (add it to the insecure registries to allow it)"
                )));
            }
            request = request.basic_auth(&c.username, Some(&c.password));
        }
        tracing::debug!(realm = %realm_host, scope, "requesting bearer token");
        let response = request.send().map_err(|e| {
            Error::io(format!("token server {realm_host} is not reachable"), std::io::Error::other(error_chain(&e)))
        })?;
        let status = response.status();
        if !status.is_success() {
            let message = error_message(response);
            return Err(self.registry_error(format!(
                "token server {realm_host} refused a token for {scope}: {message}; credentials tried: {}",
                auth::describe(self.credentials.as_ref())
            )));
        }
        let cap = Limits::default().max_document_bytes;
        let body = read_capped(response, cap).map_err(|why| self.registry_error(format!("token server: {why}")))?;
        auth::parse_token_answer(&body).map_err(|why| self.registry_error(format!("token server {realm_host}: {why}")))
    }

    fn lock_auth(&self) -> std::sync::MutexGuard<'_, AuthState> {
        // The state holds no invariant a panicking holder could break halfway.
        self.auth.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub fn registry_error(&self, message: String) -> Error {
        Error::Registry { registry: self.registry.clone(), message }
    }

    fn transport_error(&self, e: &reqwest::Error) -> Error {
        Error::io(format!("registry {} is not reachable", self.registry), std::io::Error::other(error_chain(e)))
    }

    /// Turns a failed response into an error naming the object, the status and the
    /// registry's own message.
    fn status_error(&self, response: Response, what: &str, repository: &str) -> Error {
        let status = response.status();
        let message = error_message(response);
        match status {
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => self.registry_error(format!(
                "refused access to {what} in {repository}: {message}; credentials tried: {}",
                auth::describe(self.credentials.as_ref())
            )),
            StatusCode::NOT_FOUND => Error::NotFound(format!("{what} in {}/{repository}: {message}", self.registry)),
            _ => self.registry_error(format!("failed to serve {what} of {repository}: {message}")),
        }
    }
}

/// Builds the HTTP client: the extra CA when one is given, no proxy for loopback
/// registries (a proxy cannot reach them), redirects followed (blob stores).
fn build_http(reference: &Reference, options: &OpenOptions) -> Result<Client, Error> {
    let mut builder = Client::builder()
        .user_agent(concat!("cguard/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(CONNECT_TIMEOUT)
        .timeout(STALL_TIMEOUT)
        .redirect(reqwest::redirect::Policy::limited(10));
    if reference.is_loopback() {
        builder = builder.no_proxy();
    }
    if let Some(path) = &options.ca_file {
        let cap = Limits::default().max_document_bytes;
        let file = std::fs::File::open(path).map_err(|e| Error::io(format!("CA file {}", path.display()), e))?;
        let mut pem = Vec::new();
        file.take(cap).read_to_end(&mut pem).map_err(|e| Error::io(format!("CA file {}", path.display()), e))?;
        let certs = reqwest::Certificate::from_pem_bundle(&pem)
            .map_err(|e| Error::Format(format!("CA file {}: {e}", path.display())))?;
        if certs.is_empty() {
            return Err(Error::Format(format!("CA file {}: no PEM certificate in it", path.display())));
        }
        for cert in certs {
            builder = builder.add_root_certificate(cert);
        }
    }
    builder.build().map_err(|e| Error::Registry {
        registry: reference.registry.clone(),
        message: format!("cannot set up the HTTP client: {}", error_chain(&e)),
    })
}

/// Advice for TLS failures caused by a certificate the client does not trust.
fn ca_hint(failures: &[String]) -> &'static str {
    if failures.iter().any(|f| f.contains("certificate")) {
        "; if the registry uses a private CA, give its certificate as the CA file"
    } else {
        ""
    }
}

/// The challenge to answer among the `WWW-Authenticate` headers: bearer before basic.
fn challenge_of(headers: &HeaderMap) -> Option<Challenge> {
    let challenges: Vec<Challenge> = headers
        .get_all(WWW_AUTHENTICATE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(auth::parse_challenge)
        .collect();
    challenges.iter().find(|c| matches!(c, Challenge::Bearer { .. })).or_else(|| challenges.first()).cloned()
}

fn header_text(headers: &HeaderMap, name: reqwest::header::HeaderName) -> String {
    headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("").chars().take(MESSAGE_CAP).collect()
}

/// Reads a whole body of at most `cap` bytes.
pub(crate) fn read_capped(response: Response, cap: u64) -> Result<Vec<u8>, String> {
    let declared = response.headers().get(CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if declared.is_some_and(|n| n > cap) {
        return Err(format!("document larger than {cap} bytes"));
    }
    let mut body = Vec::new();
    response.take(cap + 1).read_to_end(&mut body).map_err(|e| format!("reading the answer: {e}"))?;
    if body.len() as u64 > cap {
        return Err(format!("document larger than {cap} bytes"));
    }
    Ok(body)
}

#[derive(serde::Deserialize)]
struct ErrorBody {
    #[serde(default)]
    errors: Vec<ErrorItem>,
}

#[derive(serde::Deserialize)]
struct ErrorItem {
    #[serde(default)]
    code: String,
    #[serde(default)]
    message: String,
}

/// `STATUS (CODE: message)` from a failed response: the distribution API's JSON errors
/// when the body has them, else the start of the body as text.
fn error_message(response: Response) -> String {
    let status = response.status();
    let status_text = format!("{} {}", status.as_u16(), status.canonical_reason().unwrap_or(""));
    let mut body = Vec::new();
    // The body only decorates the message; a failure to read it loses nothing.
    let _ = response.take(ERROR_BODY_CAP).read_to_end(&mut body);
    let detail = match serde_json::from_slice::<ErrorBody>(&body) {
        Ok(parsed) if !parsed.errors.is_empty() => {
            parsed.errors.iter().map(|e| format!("{}: {}", e.code, e.message)).collect::<Vec<_>>().join("; ")
        }
        _ => String::from_utf8_lossy(&body).split_whitespace().collect::<Vec<_>>().join(" "),
    };
    let detail: String = detail.chars().filter(|c| !c.is_control()).take(MESSAGE_CAP).collect();
    if detail.is_empty() { status_text.trim_end().to_owned() } else { format!("{} ({detail})", status_text.trim_end()) }
}

/// An error and its causes, joined: reqwest's own message alone rarely says why.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut parts = vec![e.to_string()];
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        source = s.source();
    }
    parts.join(": ")
}
