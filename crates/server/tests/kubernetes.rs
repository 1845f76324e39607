//! Kubernetes clusters: the kubeconfig is checked at registration, sealed at rest and never
//! shown; turning protection on applies the shield through the cluster's API, and when
//! that API server cannot be reached nothing changes and the caller is told why.
//! (No Kubernetes API server exists on the test machine: only the failure paths of apply
//! run here, against a closed port and a TLS server that refuses every request.)

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;

use base64::Engine as _;
use reqwest::StatusCode;
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use serde_json::json;

use crate::harness::each_backend;

const TOKEN: &str = "kube-secret-token-5d41402abc4b2a76";

/// A kubeconfig with a bearer token, for an API server on a loopback port nobody listens on.
fn kubeconfig(port: u16) -> String {
    format!(
        "apiVersion: v1\nkind: Config\ncurrent-context: test\nclusters:\n- name: test\n  cluster:\n    server: \
         https://127.0.0.1:{port}\ncontexts:\n- name: test\n  context:\n    cluster: test\n    user: admin\nusers:\n- \
         name: admin\n  user:\n    token: {TOKEN}\n"
    )
}

fn closed_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

#[tokio::test]
async fn a_kubernetes_cluster_keeps_its_kubeconfig_sealed_and_reports_an_unreachable_api() {
    each_backend(|s| async move {
        let admin = s.admin().await;
        let port = closed_port();
        let body = json!({"name": "k8s-prod", "kind": "kubernetes", "kubeconfig": kubeconfig(port)});
        let (status, cluster) = s.post("/api/v1/clusters", &admin, body).await;
        assert_eq!(status, StatusCode::CREATED, "{cluster}");
        assert_eq!(cluster["kind"], "kubernetes");
        assert_eq!(cluster["api_server"], format!("https://127.0.0.1:{port}"));
        assert!(!cluster.to_string().contains(TOKEN), "the kubeconfig is never shown: {cluster}");
        let id = cluster["id"].as_str().unwrap().to_owned();
        let (_, got) = s.get(&format!("/api/v1/clusters/{id}"), &admin).await;
        assert!(!got.to_string().contains(TOKEN) && !got.to_string().contains("kubeconfig"), "{got}");

        // At rest: sealed, not in clear.
        let row = s.store.cluster(&id).await.unwrap().unwrap();
        let sealed = row.kubeconfig_sealed.unwrap();
        assert!(sealed.starts_with("v1:") && !sealed.contains(TOKEN) && !sealed.contains("127.0.0.1"));

        // Protection on: the API server is down, so nothing changes and the caller is told.
        assert_eq!(s.call(reqwest::Method::PUT, "/api/v1/authorization", Some(&admin), None).await.0, StatusCode::OK);
        let open = format!("/api/v1/clusters/{id}/protection/open");
        let (status, p) = s.post(&open, &admin, json!({"accept_disclaimer": true})).await;
        assert_eq!(status, StatusCode::BAD_GATEWAY, "{p}");
        assert_eq!(p["code"], "cluster_api_failed");
        let detail = p["detail"].as_str().unwrap();
        assert!(detail.contains(&format!("127.0.0.1:{port}")), "{detail}");
        assert!(!detail.contains(TOKEN), "{detail}");
        let (_, after) = s.get(&format!("/api/v1/clusters/{id}"), &admin).await;
        assert_eq!(after["protection"], "off");
        // The failed attempt is in the audit log, without the kubeconfig's secrets.
        let (_, audit) = s.get("/api/v1/audit/records?limit=1000", &admin).await;
        let text = audit.to_string();
        assert!(text.contains("openClusterProtect"), "{text}");
        assert!(!text.contains(TOKEN), "a secret reached the audit log");
    })
    .await;
}

#[tokio::test]
async fn kubeconfigs_that_cannot_be_used_are_refused_with_the_reason() {
    each_backend(|s| async move {
        let admin = s.admin().await;
        let exec = kubeconfig(1).replace(
            &format!("token: {TOKEN}"),
            "exec:\n      apiVersion: client.authentication.k8s.io/v1\n      command: aws",
        );
        let file = kubeconfig(1).replace("    server:", "    certificate-authority: /etc/ca.pem\n    server:");
        let plain_http = kubeconfig(8080).replace("https://127.0.0.1", "http://127.0.0.1");
        let cases = [
            (json!({"name": "a", "kind": "kubernetes"}), "needs one"),
            (json!({"name": "b", "kind": "kubernetes", "kubeconfig": "{{{ not yaml"}), ""),
            (json!({"name": "c", "kind": "kubernetes", "kubeconfig": exec}), "exec"),
            (json!({"name": "d", "kind": "kubernetes", "kubeconfig": file}), "certificate-authority"),
            (json!({"name": "e", "kind": "kubernetes", "kubeconfig": kubeconfig(1), "context": "nope"}), "nope"),
            (json!({"name": "f", "kind": "hosts", "kubeconfig": kubeconfig(1)}), "only a 'kubernetes' cluster"),
            (json!({"name": "g", "kind": "kubernetes", "kubeconfig": plain_http}), "server must use https"),
        ];
        for (body, says) in cases {
            let (status, p) = s.post("/api/v1/clusters", &admin, body.clone()).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {p}");
            assert_eq!(p["field"], "kubeconfig", "{p}");
            assert!(p["detail"].as_str().unwrap().contains(says), "{body}: {p}");
            assert!(!p.to_string().contains(TOKEN), "{p}");
        }
        let (_, list) = s.get("/api/v1/clusters", &admin).await;
        assert_eq!(list["total"], 0, "nothing was created");
    })
    .await;
}

/// A Kubernetes API server that refuses every request: TLS on a loopback port (a
/// certificate for 127.0.0.1 signed by a test CA), each answer `status` with `body`.
struct RefusingApiServer {
    port: u16,
    ca_pem: Vec<u8>,
    _dir: tempfile::TempDir,
}

impl RefusingApiServer {
    fn start(status_line: &str, body: &str) -> RefusingApiServer {
        let dir = tempfile::tempdir().unwrap();
        let tls = testkit::pki::server_tls(dir.path());
        let certs: Vec<CertificateDer<'static>> =
            CertificateDer::pem_file_iter(&tls.cert).unwrap().collect::<Result<_, _>>().unwrap();
        let key = PrivateKeyDer::from_pem_file(&tls.key).unwrap();
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(certs, key)
            .unwrap();
        let config = Arc::new(config);
        let answer = format!(
            "HTTP/1.1 {status_line}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: \
             close\r\n\r\n{body}",
            body.len()
        );
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let conn = rustls::ServerConnection::new(config.clone()).unwrap();
                let mut tls = rustls::StreamOwned::new(conn, stream);
                if read_request(&mut tls).is_ok() {
                    let _ = tls.write_all(answer.as_bytes());
                    tls.conn.send_close_notify();
                    let _ = tls.flush();
                }
            }
        });
        RefusingApiServer { port, ca_pem: std::fs::read(&tls.ca_cert).unwrap(), _dir: dir }
    }

    /// A kubeconfig for this server: its CA and a bearer token.
    fn kubeconfig(&self) -> String {
        let ca = base64::engine::general_purpose::STANDARD.encode(&self.ca_pem);
        kubeconfig(self.port).replace("    server:", &format!("    certificate-authority-data: {ca}\n    server:"))
    }
}

/// Reads one request: its head, and as many body bytes as its `Content-Length` says.
fn read_request(stream: &mut rustls::StreamOwned<rustls::ServerConnection, TcpStream>) -> std::io::Result<()> {
    let mut data = Vec::new();
    let mut buf = [0u8; 4096];
    let head_end = loop {
        if let Some(i) = data.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let n = stream.read(&mut buf)?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        data.extend_from_slice(&buf[..n]);
    };
    let head = String::from_utf8_lossy(&data[..head_end]).to_lowercase();
    let length: usize =
        head.lines().find_map(|l| l.strip_prefix("content-length:")).and_then(|v| v.trim().parse().ok()).unwrap_or(0);
    while data.len() < head_end + length {
        let n = stream.read(&mut buf)?;
        if n == 0 {
            break;
        }
        data.extend_from_slice(&buf[..n]);
    }
    Ok(())
}

#[tokio::test]
async fn a_refusing_api_server_is_named_by_its_status_never_by_its_body() {
    const MARKER: &str = "remote-body-marker-c0ffee";
    let body = format!(
        r#"{{"kind":"Status","apiVersion":"v1","status":"Failure","message":"namespaces is forbidden: {MARKER}",
            "reason":"Forbidden","details":{{"kind":"{MARKER}"}},"code":403}}"#
    );
    let server = Arc::new(RefusingApiServer::start(&format!("403 {MARKER}"), &body));
    each_backend(|s| {
        let server = server.clone();
        async move {
            let admin = s.admin().await;
            let body = json!({"name": "k8s-refusing", "kind": "kubernetes", "kubeconfig": server.kubeconfig()});
            let (status, cluster) = s.post("/api/v1/clusters", &admin, body).await;
            assert_eq!(status, StatusCode::CREATED, "{cluster}");
            let id = cluster["id"].as_str().unwrap().to_owned();

            assert_eq!(
                s.call(reqwest::Method::PUT, "/api/v1/authorization", Some(&admin), None).await.0,
                StatusCode::OK
            );
            let open = format!("/api/v1/clusters/{id}/protection/open");
            let (status, p) = s.post(&open, &admin, json!({"accept_disclaimer": true})).await;
            assert_eq!(status, StatusCode::BAD_GATEWAY, "{p}");
            assert_eq!(p["code"], "cluster_api_failed");
            let detail = p["detail"].as_str().unwrap();
            assert!(detail.contains("HTTP 403 Forbidden (reason Forbidden, code 403)"), "{detail}");
            assert!(!p.to_string().contains(MARKER), "the remote body reached the answer: {p}");
            let (_, after) = s.get(&format!("/api/v1/clusters/{id}"), &admin).await;
            assert_eq!(after["protection"], "off");

            let (_, audit) = s.get("/api/v1/audit/records?limit=1000", &admin).await;
            let text = audit.to_string();
            assert!(text.contains("openClusterProtect") && text.contains("HTTP 403"), "{text}");
            assert!(!text.contains(MARKER), "the remote body reached the audit log: {text}");
        }
    })
    .await;
}
