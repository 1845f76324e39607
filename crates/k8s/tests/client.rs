//! `Cluster::connect` and its requests where no API server answers: a closed port, a
//! listener that closes, a listener that does not speak TLS, and TLS handshakes with
//! `openssl s_server` (a TLS server that answers any request with an HTML page).

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use k8s::{Auth, Cluster, K8sError, Target};

use crate::common::{KEY_PEM, pki};

fn target(server: &str) -> Target {
    Target {
        context: "ctx".into(),
        cluster: "c".into(),
        user: Some("u".into()),
        server: server.into(),
        ca_pem: None,
        insecure_skip_tls_verify: false,
        namespace: None,
        auth: Auth::Bearer { token: "t0ken-never-shown".into() },
    }
}

/// A port nothing listens on.
fn closed_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A listener that accepts each connection and calls `handle` with it, in a thread.
fn listener(handle: fn(TcpStream)) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            handle(stream);
        }
    });
    port
}

fn assert_no_secret(e: &K8sError) {
    let shown = format!("{e} {e:?}");
    assert!(!shown.contains("t0ken-never-shown"), "{shown}");
}

#[tokio::test]
async fn a_closed_port_is_unreachable_at_once() {
    let server = format!("https://127.0.0.1:{}", closed_port());
    let cluster = Cluster::connect(&target(&server)).unwrap();
    assert_eq!(cluster.server(), server);
    let started = Instant::now();
    let e = cluster.version().await.unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(3), "{:?}", started.elapsed());
    match &e {
        K8sError::Unreachable { server: s, message } => {
            assert_eq!(s, &server);
            assert!(message.to_lowercase().contains("refused"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    assert!(e.to_string().starts_with(&format!("cannot reach the Kubernetes API server at {server}: ")), "{e}");
    assert_no_secret(&e);
}

#[test]
fn a_plain_http_target_is_refused_at_connect() {
    for server in ["http://127.0.0.1:8080", "http://localhost:8080", "http://10.0.0.1:6443"] {
        let e = Cluster::connect(&target(server)).unwrap_err();
        assert!(matches!(e, K8sError::InvalidTarget { .. }), "{server}: {e:?}");
        assert!(e.to_string().contains("must use https"), "{e}");
        assert_no_secret(&e);
    }
}

#[tokio::test]
async fn a_listener_that_closes_the_connection() {
    let port = listener(drop);
    let server = format!("https://127.0.0.1:{port}");
    let e = Cluster::connect(&target(&server)).unwrap().version().await.unwrap_err();
    let K8sError::Unreachable { message, .. } = &e else { panic!("{e:?}") };
    let lower = message.to_lowercase();
    assert!(lower.contains("closed") || lower.contains("eof") || lower.contains("reset"), "{message}");
    assert_no_secret(&e);
}

#[tokio::test]
async fn a_listener_that_does_not_speak_tls() {
    let port = listener(|mut stream| {
        let mut buf = [0u8; 1024];
        let _ = stream.read(&mut buf);
        let _ = stream.write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    });
    let server = format!("https://127.0.0.1:{port}");
    let e = Cluster::connect(&target(&server)).unwrap().version().await.unwrap_err();
    match &e {
        K8sError::Tls { server: s, message } => {
            assert_eq!(s, &server);
            assert!(message.contains("does not speak TLS"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    assert!(e.to_string().starts_with("TLS handshake with the Kubernetes API server at"), "{e}");
    assert_no_secret(&e);
}

#[tokio::test]
async fn every_call_reports_the_unreachable_server() {
    let cluster = Cluster::connect(&target(&format!("https://127.0.0.1:{}", closed_port()))).unwrap();
    let objects = k8s::render(&k8s::ShieldDeployment::new("img", "https://s", "c", "tok"));
    assert!(matches!(cluster.apply(&objects).await, Err(K8sError::Unreachable { .. })));
    assert!(matches!(cluster.delete_shield("cguard-system").await, Err(K8sError::Unreachable { .. })));
    // An object that cannot be applied is refused before anything is sent.
    let e = cluster.apply(&[serde_json::json!({"kind": "Secret"})]).await.unwrap_err();
    assert!(matches!(e, K8sError::InvalidObject { .. }), "{e:?}");
    let e = cluster.delete_shield("Bad_Namespace").await.unwrap_err();
    assert!(matches!(e, K8sError::InvalidObject { .. }), "{e:?}");
}

#[test]
fn unusable_tls_material_is_refused_at_connect() {
    let mut t = target("https://127.0.0.1:6443");
    t.ca_pem = Some(b"-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n".to_vec());
    let e = Cluster::connect(&t).unwrap_err();
    assert!(matches!(e, K8sError::InvalidTarget { .. }), "{e:?}");
    assert!(e.to_string().starts_with("the TLS settings for https://127.0.0.1:6443 cannot be used"), "{e}");

    t.ca_pem = Some(b"no PEM block here".to_vec());
    let e = Cluster::connect(&t).unwrap_err();
    assert!(e.to_string().contains("holds no certificate"), "{e}");

    let pki = pki();
    let mut t = target("https://127.0.0.1:6443");
    t.auth = Auth::ClientCertificate { certificate_pem: pki.read("client.pem"), key_pem: KEY_PEM.as_bytes().to_vec() };
    let e = Cluster::connect(&t).unwrap_err();
    assert!(e.to_string().contains("the client certificate or key cannot be used"), "{e}");
    assert!(!format!("{e} {e:?}").contains("MHcCAQEE"), "the key is not shown: {e}");

    t.auth = Auth::ClientCertificate { certificate_pem: pki.read("client.pem"), key_pem: pki.read("client.key") };
    Cluster::connect(&t).unwrap();

    t.auth = Auth::Bearer { token: "t0ken-never-shown\nX-Injected: 1".into() };
    let e = Cluster::connect(&t).unwrap_err();
    assert!(e.to_string().contains("the token holds characters that an HTTP header cannot carry"), "{e}");
    assert_no_secret(&e);

    t.auth = Auth::Basic { username: "me".into(), password: "pw".into() };
    let cluster = Cluster::connect(&t).unwrap();
    let shown = format!("{cluster:?}");
    assert!(shown.contains("<redacted>") && !shown.contains("bWU6cHc"), "{shown}");
}

/// `openssl s_server` with the test server certificate (for 127.0.0.1, signed by `ca`),
/// killed when dropped.
struct TlsServer {
    child: Child,
    port: u16,
}

impl TlsServer {
    fn start(extra: &[&str]) -> TlsServer {
        let pki = pki();
        let port = closed_port();
        let accept = format!("127.0.0.1:{port}");
        let child = Command::new("openssl")
            .args(["s_server", "-quiet", "-www", "-accept", &accept, "-cert", "server.pem", "-key", "server.key"])
            .args(extra)
            .current_dir(&pki.dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("openssl s_server starts");
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "openssl s_server did not listen on {port}");
            std::thread::sleep(Duration::from_millis(20));
        }
        TlsServer { child, port }
    }
}

impl Drop for TlsServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test]
async fn tls_trusts_the_kubeconfig_ca_only() {
    let pki = pki();
    let server = TlsServer::start(&[]);
    let url = format!("https://127.0.0.1:{}", server.port);

    // The right CA: the handshake succeeds and the HTML page is not a version object.
    let mut t = target(&url);
    t.ca_pem = Some(pki.read("ca.pem"));
    let e = Cluster::connect(&t).unwrap().version().await.unwrap_err();
    assert!(matches!(e, K8sError::UnexpectedAnswer { .. }), "{e:?}");

    // Another CA: refused, and the message says why.
    t.ca_pem = Some(pki.read("other-ca.pem"));
    let e = Cluster::connect(&t).unwrap().version().await.unwrap_err();
    let K8sError::Tls { message, .. } = &e else { panic!("{e:?}") };
    assert!(message.contains("not signed by a trusted authority"), "{message}");

    // No CA in the kubeconfig: only the public web roots are trusted, not the test CA.
    t.ca_pem = None;
    let e = Cluster::connect(&t).unwrap().version().await.unwrap_err();
    assert!(matches!(e, K8sError::Tls { .. }), "{e:?}");

    // insecure-skip-tls-verify: no check at all.
    t.insecure_skip_tls_verify = true;
    let e = Cluster::connect(&t).unwrap().version().await.unwrap_err();
    assert!(matches!(e, K8sError::UnexpectedAnswer { .. }), "{e:?}");

    // The certificate is for 127.0.0.1, not for localhost.
    let mut t = target(&format!("https://localhost:{}", server.port));
    t.ca_pem = Some(pki.read("ca.pem"));
    let e = Cluster::connect(&t).unwrap().version().await.unwrap_err();
    let K8sError::Tls { message, .. } = &e else { panic!("{e:?}") };
    assert!(message.contains("does not name the host"), "{message}");
}

#[tokio::test]
async fn the_client_certificate_is_presented() {
    let pki = pki();
    // The server requires a client certificate signed by the test CA.
    let server = TlsServer::start(&["-Verify", "1", "-CAfile", "ca.pem", "-verify_return_error"]);
    let url = format!("https://127.0.0.1:{}", server.port);
    let mut t = target(&url);
    t.ca_pem = Some(pki.read("ca.pem"));
    t.auth = Auth::ClientCertificate { certificate_pem: pki.read("client.pem"), key_pem: pki.read("client.key") };
    let e = Cluster::connect(&t).unwrap().version().await.unwrap_err();
    assert!(matches!(e, K8sError::UnexpectedAnswer { .. }), "with the certificate, the request is answered: {e:?}");

    t.auth = Auth::None;
    let e = Cluster::connect(&t).unwrap().version().await.unwrap_err();
    assert!(!matches!(e, K8sError::UnexpectedAnswer { .. }), "without it, no answer: {e:?}");
}
