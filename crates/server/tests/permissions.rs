//! The permission walk: every operation in the served OpenAPI document is guarded by one
//! of the 18 actions (or is public, signed-in or node-only), a user holding only that
//! action may call it, and a user holding everything but that action gets 403.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::harness::{TestServer, each_backend};

const MISSING: &str = "00000000-0000-0000-0000-000000000000";

/// (method, concrete path, guard, has a body) for every operation in the document.
fn operations(doc: &Value) -> Vec<(Method, String, String, bool)> {
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().unwrap() {
            let guard =
                op["x-cguard-guard"].as_str().unwrap_or_else(|| panic!("{method} {path} has no guard")).to_string();
            let concrete = path.replace("{id}", MISSING).replace("{user_id}", MISSING);
            let m: Method = method.to_ascii_uppercase().parse().unwrap();
            let body = op.get("requestBody").is_some();
            out.push((m, concrete, guard, body));
        }
    }
    out
}

async fn call(s: &TestServer, m: &Method, path: &str, token: Option<&str>, body: bool) -> (StatusCode, Value) {
    s.call(m.clone(), path, token, body.then(|| json!({}))).await
}

#[tokio::test]
async fn every_route_is_guarded_by_exactly_its_action() {
    each_backend(|s| async move {
        let (status, doc) = s.call(Method::GET, "/api/v1/openapi.json", None, None).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(doc["openapi"], "3.1.0");
        let admin = s.admin().await;
        let ops = operations(&doc);
        let actions: Vec<&str> = iam::Action::ALL.iter().map(|a| a.as_str()).collect();
        let mut checked = 0;
        for action in &actions {
            let only =
                s.user_with(&admin, &format!("only{checked}"), json!([{"Effect": "Allow", "Action": [action]}])).await;
            let without = s
                .user_with(
                    &admin,
                    &format!("without{checked}"),
                    json!([{"Effect": "Allow", "Action": ["cgs:*"]}, {"Effect": "Deny", "Action": [action]}]),
                )
                .await;
            checked += 1;
            for (m, path, guard, body) in ops.iter().filter(|o| o.2 == *action) {
                let (status, problem) = call(&s, m, path, Some(&only), *body).await;
                assert!(
                    status != StatusCode::FORBIDDEN && status != StatusCode::UNAUTHORIZED,
                    "{m} {path} ({guard}) refused a user holding exactly {action}: {status} {problem}"
                );
                assert!(!status.is_server_error(), "{m} {path}: {status} {problem}");
                let (status, problem) = call(&s, m, path, Some(&without), *body).await;
                assert_eq!(status, StatusCode::FORBIDDEN, "{m} {path} ({guard}) let a user without {action} in");
                assert_eq!(problem["code"], "forbidden");
                assert_eq!(problem["action"], *action);
            }
        }
        // Every guard is an action, or one of the three non-action guards.
        for (m, path, guard, body) in &ops {
            match guard.as_str() {
                "public" => {
                    let (status, _) = call(&s, m, path, None, *body).await;
                    assert!(!status.is_server_error(), "{m} {path}: {status}");
                }
                "signed-in" => {
                    let (status, _) = call(&s, m, path, None, *body).await;
                    assert_eq!(status, StatusCode::UNAUTHORIZED, "{m} {path} without a token");
                    // A session of its own: one of these routes is logout.
                    let session = s.admin().await;
                    let (status, _) = call(&s, m, path, Some(&session), *body).await;
                    assert_ne!(status, StatusCode::UNAUTHORIZED, "{m} {path} with a session");
                }
                "session" => {
                    let (status, _) = call(&s, m, path, None, *body).await;
                    assert_eq!(status, StatusCode::UNAUTHORIZED, "{m} {path} without a token");
                    let (status, _) = call(&s, m, path, Some(&admin), *body).await;
                    assert_ne!(status, StatusCode::UNAUTHORIZED, "{m} {path} with a session");
                    let token = json!({"name": "walk", "scope": ["*"], "expires_in_days": 1});
                    let (_, token) = s.post("/api/v1/auth/tokens", &admin, token).await;
                    let (status, _) = call(&s, m, path, token["secret"].as_str(), *body).await;
                    assert_eq!(status, StatusCode::FORBIDDEN, "{m} {path} with an API token");
                }
                "node" => {
                    let (status, _) = call(&s, m, path, Some(&admin), *body).await;
                    assert_eq!(status, StatusCode::UNAUTHORIZED, "{m} {path} takes only node credentials");
                }
                action => assert!(actions.contains(&action), "{m} {path}: unknown guard {action}"),
            }
            // No credential at all is never enough for a guarded route.
            if guard != "public" {
                let (status, _) = call(&s, m, path, None, *body).await;
                assert_eq!(status, StatusCode::UNAUTHORIZED, "{m} {path} without credentials");
            }
        }
        assert_eq!(checked, 18);
    })
    .await;
}

#[test]
fn the_document_and_the_route_table_agree() {
    let doc = server::openapi::document();
    let mut documented: Vec<(String, String)> = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            documented.push((method.to_ascii_uppercase(), path.clone()));
        }
    }
    let mut routed: Vec<(String, String)> =
        server::routes::all().iter().map(|r| (r.method.to_string(), r.path.to_string())).collect();
    documented.sort();
    routed.sort();
    assert_eq!(documented, routed);
}

#[test]
fn docs_permissions_md_is_the_route_table() {
    let file = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/permissions.md");
    let text = std::fs::read_to_string(&file).expect("docs/permissions.md");
    let table = server::routes::permissions_table();
    assert!(text.contains(&table), "docs/permissions.md is out of date; its table must be exactly:\n{table}");
}

#[tokio::test]
async fn an_api_token_does_only_what_its_scope_and_its_user_allow() {
    each_backend(|s| async move {
        let admin = s.admin().await;
        let (status, token) = s
            .post("/api/v1/auth/tokens", &admin, json!({"name": "ci", "scope": ["cgs:*:list"], "expires_in_days": 1}))
            .await;
        assert_eq!(status, StatusCode::CREATED, "{token}");
        let secret = token["secret"].as_str().unwrap();
        assert!(secret.starts_with("cgs_t_"));
        assert_eq!(s.get("/api/v1/clusters", secret).await.0, StatusCode::OK);
        let (status, p) = s.post("/api/v1/clusters", secret, json!({"name": "c", "kind": "hosts"})).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{p}");
        assert_eq!(s.get("/api/v1/users", secret).await.0, StatusCode::FORBIDDEN, "privilege:get is out of scope");
        // The secret is shown once.
        let (_, list) = s.get("/api/v1/auth/tokens", &admin).await;
        assert!(list[0].get("secret").is_none());
        let id = token["id"].as_str().unwrap();
        let (status, _) = s.call(Method::DELETE, &format!("/api/v1/auth/tokens/{id}"), Some(&admin), None).await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        assert_eq!(s.get("/api/v1/clusters", secret).await.0, StatusCode::UNAUTHORIZED);

        // A read-only user's token with scope * still cannot write.
        let reader =
            s.user_with(&admin, "reader", json!([{"Effect": "Allow", "Action": ["cgs:*:list", "cgs:*:get"]}])).await;
        let (_, t) =
            s.post("/api/v1/auth/tokens", &reader, json!({"name": "all", "scope": ["*"], "expires_in_days": 1})).await;
        let t = t["secret"].as_str().unwrap();
        assert_eq!(s.get("/api/v1/clusters", t).await.0, StatusCode::OK);
        assert_eq!(s.post("/api/v1/clusters", t, json!({"name": "c", "kind": "hosts"})).await.0, StatusCode::FORBIDDEN);
        let (status, p) =
            s.post("/api/v1/auth/tokens", &admin, json!({"name": "x", "scope": [], "expires_in_days": 1})).await;
        assert_eq!((status, p["field"].as_str()), (StatusCode::BAD_REQUEST, Some("scope")));
    })
    .await;
}

#[tokio::test]
async fn a_scoped_api_token_neither_mints_nor_revokes_tokens() {
    each_backend(|s| async move {
        let admin = s.admin().await;
        let make = |scope: Value| {
            let s = &s;
            let admin = admin.clone();
            async move {
                let (status, t) = s
                    .post("/api/v1/auth/tokens", &admin, json!({"name": "t", "scope": scope, "expires_in_days": 1}))
                    .await;
                assert_eq!(status, StatusCode::CREATED, "{t}");
                t
            }
        };
        let narrow = make(json!(["cgs:*:list"])).await;
        let other = make(json!(["*"])).await;
        let narrow_secret = narrow["secret"].as_str().unwrap();
        let wider = json!({"name": "wider", "scope": ["*"], "expires_in_days": 1});
        let (status, p) = s.post("/api/v1/auth/tokens", narrow_secret, wider).await;
        assert_eq!((status, p["code"].as_str()), (StatusCode::FORBIDDEN, Some("forbidden")), "{p}");
        let path = format!("/api/v1/auth/tokens/{}", other["id"].as_str().unwrap());
        let (status, p) = s.call(Method::DELETE, &path, Some(narrow_secret), None).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{p}");
        assert_eq!(s.get("/api/v1/clusters", other["secret"].as_str().unwrap()).await.0, StatusCode::OK);
        // What it may still do about itself: read, and sign itself out.
        assert_eq!(s.get("/api/v1/auth/tokens", narrow_secret).await.0, StatusCode::OK);
        let (status, _) = s.call(Method::POST, "/api/v1/auth/logout", Some(narrow_secret), None).await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        assert_eq!(s.get("/api/v1/clusters", narrow_secret).await.0, StatusCode::UNAUTHORIZED);
    })
    .await;
}
