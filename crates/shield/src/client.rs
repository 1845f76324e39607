//! The shield's side of the server API (`api::shield`): enrolment, heartbeats, policy
//! fetch and event ingest, over HTTP(S) with bounded timeouts. The node credential is sent
//! as a bearer token and never logged.

use std::time::Duration;

use api::shield::{EnrolRequest, EnrolResponse, EventBatch, Heartbeat, HeartbeatResponse, IngestResult, NodePolicies};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// How long one request may take, connection included.
const TIMEOUT: Duration = Duration::from_secs(20);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// A failed call to the server.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// Not reachable, or the exchange broke: worth retrying.
    #[error("the server at {url} cannot be reached: {message}")]
    Unreachable { url: String, message: String },
    /// The server answered with an error status; `code` is its problem code.
    #[error("the server refused {what}: HTTP {status} {code}: {detail}")]
    Refused { what: &'static str, status: u16, code: String, detail: String },
    /// An answer that is not what the API describes.
    #[error("unexpected answer to {what}: {message}")]
    Answer { what: &'static str, message: String },
    #[error("the server URL {0:?} is not an http:// or https:// URL")]
    Url(String),
}

impl ClientError {
    /// Whether the node credential itself was refused (the node was removed, or the
    /// cluster's protection turned off).
    pub fn is_unauthorised(&self) -> bool {
        matches!(self, ClientError::Refused { status: 401, .. })
    }

    /// Whether trying the same call again later can succeed.
    pub fn is_transient(&self) -> bool {
        match self {
            ClientError::Unreachable { .. } => true,
            ClientError::Refused { status, .. } => *status >= 500 || *status == 429 || *status == 408,
            _ => false,
        }
    }
}

/// A client of one server, optionally with the node's credential.
#[derive(Clone)]
pub struct ServerClient {
    base: String,
    credential: Option<String>,
    http: reqwest::blocking::Client,
}

impl std::fmt::Debug for ServerClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerClient").field("base", &self.base).finish_non_exhaustive()
    }
}

impl ServerClient {
    /// A client of the server at `base` (`http://host:port`, no path).
    pub fn new(base: &str) -> Result<ServerClient, ClientError> {
        let base = base.trim_end_matches('/').to_owned();
        if !(base.starts_with("http://") || base.starts_with("https://")) || base.contains(char::is_whitespace) {
            return Err(ClientError::Url(base));
        }
        let http = reqwest::blocking::Client::builder()
            .timeout(TIMEOUT)
            .connect_timeout(CONNECT_TIMEOUT)
            .user_agent(concat!("cguard-shield/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| ClientError::Unreachable { url: base.clone(), message: e.to_string() })?;
        Ok(ServerClient { base, credential: None, http })
    }

    /// The same client, authenticating as the node with `credential`.
    pub fn with_credential(mut self, credential: String) -> ServerClient {
        self.credential = Some(credential);
        self
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    pub fn enrol(&self, request: &EnrolRequest) -> Result<EnrolResponse, ClientError> {
        self.call("enrolment", reqwest::Method::POST, "/api/v1/shield/enrol", Some(request))
    }

    pub fn heartbeat(&self, beat: &Heartbeat) -> Result<HeartbeatResponse, ClientError> {
        self.call("the heartbeat", reqwest::Method::POST, "/api/v1/shield/heartbeat", Some(beat))
    }

    pub fn policies(&self) -> Result<NodePolicies, ClientError> {
        self.call::<(), _>("the policy fetch", reqwest::Method::GET, "/api/v1/shield/policies", None)
    }

    pub fn upload_scan(&self, scan: &api::shield::LocalScan) -> Result<api::shield::LocalScanResult, ClientError> {
        self.call("the scan upload", reqwest::Method::POST, "/api/v1/shield/scans", Some(scan))
    }

    pub fn ingest(&self, batch: &EventBatch) -> Result<IngestResult, ClientError> {
        self.call("the event batch", reqwest::Method::POST, "/api/v1/shield/events", Some(batch))
    }

    fn call<B: Serialize, R: DeserializeOwned>(
        &self,
        what: &'static str,
        method: reqwest::Method,
        path: &str,
        body: Option<&B>,
    ) -> Result<R, ClientError> {
        let url = format!("{}{path}", self.base);
        let mut request = self.http.request(method, &url);
        if let Some(credential) = &self.credential {
            request = request.bearer_auth(credential);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        let unreachable = |e: reqwest::Error| ClientError::Unreachable { url: url.clone(), message: e.to_string() };
        let response = request.send().map_err(unreachable)?;
        let status = response.status().as_u16();
        let bytes = response.bytes().map_err(unreachable)?;
        if !(200..300).contains(&status) {
            let problem: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or_default();
            return Err(ClientError::Refused {
                what,
                status,
                code: problem["code"].as_str().unwrap_or("unknown").to_owned(),
                detail: problem["detail"].as_str().unwrap_or("").chars().take(500).collect(),
            });
        }
        serde_json::from_slice(&bytes).map_err(|e| ClientError::Answer { what, message: e.to_string() })
    }
}
