//! A tiny token server for the bearer flow: it checks basic credentials, records what it
//! was asked, and issues RS256 JWTs (with an `x5c` header) that the registry accepts.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};

use testkit::pki::{SigningKey, sign_rs256};

pub const SERVICE: &str = "cguard-test-registry";
pub const ISSUER: &str = "cguard-test-issuer";

/// Signs tokens the registry trusts.
pub struct Issuer {
    key: SigningKey,
    serial: AtomicU64,
}

impl Issuer {
    pub fn new(key: SigningKey) -> Self {
        Issuer { key, serial: AtomicU64::new(0) }
    }

    pub fn root_cert(&self) -> &PathBuf {
        &self.key.cert_pem
    }

    /// A token for `subject` granting `actions` on `repository`.
    pub fn mint(&self, subject: &str, repository: &str, actions: &[&str]) -> String {
        let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs();
        let header = serde_json::json!({"typ": "JWT", "alg": "RS256", "x5c": [STANDARD.encode(&self.key.cert_der)]});
        let claims = serde_json::json!({
            "iss": ISSUER,
            "sub": subject,
            "aud": SERVICE,
            "exp": now + 300,
            "nbf": now - 10,
            "iat": now,
            "jti": format!("cguard-test-{}", self.serial.fetch_add(1, Ordering::Relaxed)),
            "access": [{"type": "repository", "name": repository, "actions": actions}],
        });
        let signing_input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(serde_json::to_vec(&header).unwrap()),
            URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims).unwrap())
        );
        let signature = sign_rs256(&self.key.key, signing_input.as_bytes());
        format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(signature))
    }
}

/// One request the token server answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRequest {
    /// Username of the basic credentials sent, if any.
    pub user: Option<String>,
    pub service: Option<String>,
    pub scope: Option<String>,
    pub granted: bool,
}

pub struct TokenServer {
    /// `http://127.0.0.1:PORT/token`.
    pub realm: String,
    requests: Arc<Mutex<Vec<TokenRequest>>>,
    stop: Arc<AtomicBool>,
    port: u16,
    thread: Option<JoinHandle<()>>,
}

impl TokenServer {
    /// Serves tokens to `user` with `password`; everybody else gets a 401.
    pub fn start(issuer: Arc<Issuer>, user: &str, password: &str) -> TokenServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (seen, stopping) = (requests.clone(), stop.clone());
        let expected = format!("Basic {}", STANDARD.encode(format!("{user}:{password}")));
        let thread = std::thread::spawn(move || {
            for stream in listener.incoming() {
                if stopping.load(Ordering::SeqCst) {
                    break;
                }
                if let Ok(stream) = stream {
                    // A broken client connection only ends that request.
                    let _ = serve(stream, &issuer, &expected, &seen);
                }
            }
        });
        TokenServer { realm: format!("http://127.0.0.1:{port}/token"), requests, stop, port, thread: Some(thread) }
    }

    pub fn requests(&self) -> Vec<TokenRequest> {
        self.requests.lock().unwrap().clone()
    }
}

impl Drop for TokenServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wakes the accept loop so that it sees the flag.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn serve(stream: TcpStream, issuer: &Issuer, expected: &str, seen: &Mutex<Vec<TokenRequest>>) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut request_line = String::new();
    reader.read_line(&mut request_line)?;
    let mut authorization = None;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 || line.trim().is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':')
            && name.eq_ignore_ascii_case("authorization")
        {
            authorization = Some(value.trim().to_owned());
        }
    }
    let target = request_line.split_whitespace().nth(1).unwrap_or("");
    let query = target.split_once('?').map_or("", |(_, q)| q);
    let param = |name: &str| {
        query.split('&').filter_map(|kv| kv.split_once('=')).find(|(k, _)| *k == name).map(|(_, v)| decode(v))
    };
    let user = authorization
        .as_deref()
        .and_then(|a| a.strip_prefix("Basic "))
        .and_then(|b| STANDARD.decode(b).ok())
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|s| s.split_once(':').map(|(u, _)| u.to_owned()));
    let granted = authorization.as_deref() == Some(expected);
    let scope = param("scope");
    seen.lock().unwrap().push(TokenRequest {
        user: user.clone(),
        service: param("service"),
        scope: scope.clone(),
        granted,
    });
    let (status, body) = if granted {
        // scope = repository:NAME:ACTIONS
        let (repository, actions) = scope
            .as_deref()
            .and_then(|s| s.strip_prefix("repository:"))
            .and_then(|s| s.rsplit_once(':'))
            .map_or((String::new(), String::new()), |(n, a)| (n.to_owned(), a.to_owned()));
        let actions: Vec<&str> = actions.split(',').filter(|a| !a.is_empty()).collect();
        let token = issuer.mint(user.as_deref().unwrap_or(""), &repository, &actions);
        ("200 OK", serde_json::json!({"access_token": token, "expires_in": 300}).to_string())
    } else {
        ("401 Unauthorized", r#"{"details":"incorrect username or password"}"#.to_owned())
    };
    let mut stream = stream;
    write!(
        stream,
        "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )?;
    stream.flush()
}

/// Decodes `application/x-www-form-urlencoded` text.
fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("");
                match u8::from_str_radix(hex, 16) {
                    Ok(b) => {
                        out.push(b);
                        i += 2;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}
