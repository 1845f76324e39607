//! Kubernetes clusters: the kubeconfig is checked at registration, sealed at rest and never
//! shown; turning protection on applies the shield through the cluster's API, and when
//! that API server cannot be reached nothing changes and the caller is told why.
//! (No Kubernetes API server exists on the test machine: only the failure path of apply
//! runs here.)

use reqwest::StatusCode;
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
        let cases = [
            (json!({"name": "a", "kind": "kubernetes"}), "needs one"),
            (json!({"name": "b", "kind": "kubernetes", "kubeconfig": "{{{ not yaml"}), ""),
            (json!({"name": "c", "kind": "kubernetes", "kubeconfig": exec}), "exec"),
            (json!({"name": "d", "kind": "kubernetes", "kubeconfig": file}), "certificate-authority"),
            (json!({"name": "e", "kind": "kubernetes", "kubeconfig": kubeconfig(1), "context": "nope"}), "nope"),
            (json!({"name": "f", "kind": "hosts", "kubeconfig": kubeconfig(1)}), "only a 'kubernetes' cluster"),
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
