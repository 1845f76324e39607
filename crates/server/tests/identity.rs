//! Sign-in, lockout, users, groups and permission policies.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::harness::{ADMIN_PASSWORD, each_backend};

#[tokio::test]
async fn repeated_failures_lock_the_account() {
    each_backend(|s| async move {
        let admin = s.admin().await;
        let (_, user) = s.post("/api/v1/users", &admin, json!({"name": "bob", "password": "bob-password-123"})).await;
        let login = |pw: &'static str| {
            let s = &s;
            async move {
                s.call(Method::POST, "/api/v1/auth/login", None, Some(json!({"username": "bob", "password": pw}))).await
            }
        };
        for _ in 0..3 {
            let (status, p) = login("wrong-password-1").await;
            assert_eq!((status, p["code"].as_str()), (StatusCode::UNAUTHORIZED, Some("unauthenticated")));
        }
        let (status, p) = login("bob-password-123").await;
        assert_eq!((status, p["code"].as_str()), (StatusCode::UNAUTHORIZED, Some("unauthenticated")), "{p}");
        let (_, bob) = s.get(&format!("/api/v1/users/{}", user["id"].as_str().unwrap()), &admin).await;
        assert!(bob["locked_until"].is_string(), "the lock shows to administrators: {bob}");
        // An administrator's password reset clears the lock.
        let path = format!("/api/v1/users/{}", user["id"].as_str().unwrap());
        let (status, _) =
            s.call(Method::PATCH, &path, Some(&admin), Some(json!({"password": "bob-new-password"}))).await;
        assert_eq!(status, StatusCode::OK);
        s.login("bob", "bob-new-password").await;
        // A missing account answers like a wrong password.
        let (status, p) = s
            .call(Method::POST, "/api/v1/auth/login", None, Some(json!({"username": "nobody", "password": "x"})))
            .await;
        assert_eq!((status, p["detail"].as_str()), (StatusCode::UNAUTHORIZED, Some("wrong user name or password")));
    })
    .await;
}

#[tokio::test]
async fn a_new_user_can_do_nothing_and_deny_wins_over_allow() {
    each_backend(|s| async move {
        let admin = s.admin().await;
        let (_, user) = s.post("/api/v1/users", &admin, json!({"name": "carol", "password": "carol-password-1"})).await;
        let carol = s.login("carol", "carol-password-1").await;
        let (status, p) = s.get("/api/v1/clusters", &carol).await;
        assert_eq!((status, p["action"].as_str()), (StatusCode::FORBIDDEN, Some("cgs:cluster:list")));
        let (_, me) = s.get("/api/v1/auth/me", &carol).await;
        assert_eq!(me["actions"], json!([]));

        // FullAccess through a group, plus the seed's example 2 Deny on the user.
        let (_, group) = s.post("/api/v1/groups", &admin, json!({"name": "ops"})).await;
        let gid = group["id"].as_str().unwrap();
        let uid = user["id"].as_str().unwrap();
        let (status, _) = s.call(Method::PUT, &format!("/api/v1/groups/{gid}/members/{uid}"), Some(&admin), None).await;
        assert_eq!(status, StatusCode::OK);
        let (_, list) = s.get("/api/v1/iam/policies?limit=100", &admin).await;
        let full = list["items"].as_array().unwrap().iter().find(|p| p["name"] == "CGS FullAccess").unwrap();
        assert_eq!(full["kind"], "system");
        let attach = json!({"principal_type": "group", "principal_id": gid});
        s.post(&format!("/api/v1/iam/policies/{}/attach", full["id"].as_str().unwrap()), &admin, attach).await;
        let deny = json!({"name": "no-config", "document": {"Version": "1.1", "Statement": [{"Action": ["cgs:configuration:operate"], "Effect": "Deny"}]}});
        let (_, deny) = s.post("/api/v1/iam/policies", &admin, deny).await;
        let attach = json!({"principal_type": "user", "principal_id": uid});
        s.post(&format!("/api/v1/iam/policies/{}/attach", deny["id"].as_str().unwrap()), &admin, attach).await;

        assert_eq!(s.get("/api/v1/clusters", &carol).await.0, StatusCode::OK);
        let (status, p) = s.post("/api/v1/policies", &carol, json!({"name": "x"})).await;
        assert_eq!((status, p["action"].as_str()), (StatusCode::FORBIDDEN, Some("cgs:configuration:operate")));
        let (_, me) = s.get("/api/v1/auth/me", &carol).await;
        assert_eq!(me["actions"].as_array().unwrap().len(), 16);
        // FullAccess reads users and policies but grants nothing: not even to itself.
        assert_eq!(s.get("/api/v1/users", &carol).await.0, StatusCode::OK);
        let (_, list) = s.get("/api/v1/iam/policies?limit=100", &carol).await;
        let administrator =
            list["items"].as_array().unwrap().iter().find(|p| p["name"] == "CGS Administrator").unwrap()["id"].clone();
        let attach = json!({"principal_type": "user", "principal_id": uid});
        let path = format!("/api/v1/iam/policies/{}/attach", administrator.as_str().unwrap());
        let (status, p) = s.post(&path, &carol, attach).await;
        assert_eq!((status, p["action"].as_str()), (StatusCode::FORBIDDEN, Some("cgs:privilege:operate")));
        let (status, _) = s.post("/api/v1/users", &carol, json!({"name": "mallory", "password": "mallory-pw-123"})).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
    })
    .await;
}

#[tokio::test]
async fn policies_are_validated_and_system_ones_are_fixed() {
    each_backend(|s| async move {
        let admin = s.admin().await;
        let bad = json!({"name": "typo", "document": {"Version": "1.1", "Statement": [{"Effect": "Allow", "Action": ["cgs:cluster:lst"]}]}});
        let (status, p) = s.post("/api/v1/iam/policies", &admin, bad).await;
        assert_eq!((status, p["field"].as_str()), (StatusCode::BAD_REQUEST, Some("document")), "{p}");
        assert!(p["detail"].as_str().unwrap().contains("cgs:cluster:lst"), "{p}");
        let bad = json!({"name": "v", "document": {"Version": "1.0", "Statement": [{"Effect": "Allow", "Action": ["cgs:*"]}]}});
        assert_eq!(s.post("/api/v1/iam/policies", &admin, bad).await.0, StatusCode::BAD_REQUEST);
        let (_, list) = s.get("/api/v1/iam/policies", &admin).await;
        let names: Vec<&str> = list["items"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap()).collect();
        for n in ["CGS Administrator", "CGS FullAccess", "CGS ReadOnlyAccess"] {
            assert!(names.contains(&n), "{names:?}");
        }
        let sys = list["items"][0]["id"].as_str().unwrap();
        let (status, _) = s.call(Method::DELETE, &format!("/api/v1/iam/policies/{sys}"), Some(&admin), None).await;
        assert_eq!(status, StatusCode::CONFLICT);
        // Unknown fields and wrong types are 400 problems, never 5xx.
        let (status, p) = s.post("/api/v1/users", &admin, json!({"name": "x", "password": 5})).await;
        assert_eq!((status, p["code"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_request")));
        let (status, _) = s.post("/api/v1/users", &admin, json!({"name": "x", "password": "long-enough-pw", "role": "admin"})).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        let (status, p) = s.post("/api/v1/users", &admin, json!({"name": "short", "password": "short"})).await;
        assert_eq!((status, p["field"].as_str()), (StatusCode::BAD_REQUEST, Some("password")));
        let (status, _) = s.get("/api/v1/users?limit=0", &admin).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        let (status, p) = s.get("/api/v1/users?sort=password_hash", &admin).await;
        assert_eq!((status, p["field"].as_str()), (StatusCode::BAD_REQUEST, Some("sort")));
        // Logout ends the session.
        let (status, _) = s.call(Method::POST, "/api/v1/auth/logout", Some(&admin), None).await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        assert_eq!(s.get("/api/v1/auth/me", &admin).await.0, StatusCode::UNAUTHORIZED);
        s.login("admin", ADMIN_PASSWORD).await;
    })
    .await;
}

#[tokio::test]
async fn a_first_start_without_a_password_makes_a_random_one() {
    let db = store::scratch::ScratchDb::new(store::Backend::Sqlite).await.unwrap();
    let st = store::open(&db.url).await.unwrap();
    let password = server::bootstrap(&st, None).await.unwrap().expect("a generated password");
    assert!(password.len() >= 20);
    assert_eq!(server::bootstrap(&st, None).await.unwrap(), None, "a second start prints nothing");
    let admin = store::Store::user_by_name(&st, "admin").await.unwrap().unwrap();
    assert!(admin.password_hash.starts_with("$argon2id$"));
    assert!(!admin.password_hash.contains(&password));
}

#[tokio::test]
async fn the_console_cookie_needs_the_csrf_token_to_change_anything() {
    each_backend(|s| async move {
        let client = reqwest::Client::new();
        let resp = client
            .post(format!("{}/api/v1/auth/login", s.base))
            .json(&json!({"username": "admin", "password": ADMIN_PASSWORD}))
            .send()
            .await
            .unwrap();
        let cookie = resp.headers()["set-cookie"].to_str().unwrap().to_string();
        assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"), "{cookie}");
        let body: serde_json::Value = resp.json().await.unwrap();
        let csrf = body["csrf_token"].as_str().unwrap().to_string();
        let session = cookie.split(';').next().unwrap().to_string();

        let get = client.get(format!("{}/api/v1/auth/me", s.base)).header("cookie", &session).send().await.unwrap();
        assert_eq!(get.status(), StatusCode::OK, "reads work with the cookie alone");
        let url = format!("{}/api/v1/groups", s.base);
        let forged =
            client.post(&url).header("cookie", &session).json(&json!({"name": "forged"})).send().await.unwrap();
        assert_eq!(forged.status(), StatusCode::FORBIDDEN);
        let p: serde_json::Value = forged.json().await.unwrap();
        assert_eq!(p["code"], "csrf_token_invalid");
        let wrong = client
            .post(&url)
            .header("cookie", &session)
            .header("x-csrf-token", "cgs_c_wrong")
            .json(&json!({"name": "forged"}))
            .send()
            .await
            .unwrap();
        assert_eq!(wrong.status(), StatusCode::FORBIDDEN);
        let ok = client
            .post(&url)
            .header("cookie", &session)
            .header("x-csrf-token", &csrf)
            .json(&json!({"name": "real"}))
            .send()
            .await
            .unwrap();
        assert_eq!(ok.status(), StatusCode::CREATED);
        let (_, audit) = s.get("/api/v1/audit/records?event_name=addGroup&level=warning", &s.admin().await).await;
        assert_eq!(audit["total"], 2, "refused CSRF attempts are audited: {audit}");
        assert!(
            audit["items"].as_array().unwrap().iter().all(|r| r["outcome"] == "denied" && r["operator"] == "admin")
        );
    })
    .await;
}

#[tokio::test]
async fn a_new_password_revokes_the_users_sessions_and_tokens() {
    each_backend(|s| async move {
        let admin = s.admin().await;
        let other_admin_session = s.admin().await;
        let (_, user) = s.post("/api/v1/users", &admin, json!({"name": "frank", "password": "frank-password-1"})).await;
        let frank = s.login("frank", "frank-password-1").await;
        let (status, token) =
            s.post("/api/v1/auth/tokens", &frank, json!({"name": "ci", "scope": ["*"], "expires_in_days": 1})).await;
        assert_eq!(status, StatusCode::CREATED, "{token}");
        let api_token = token["secret"].as_str().unwrap().to_string();
        assert_eq!(s.get("/api/v1/auth/me", &frank).await.0, StatusCode::OK);
        assert_eq!(s.get("/api/v1/auth/me", &api_token).await.0, StatusCode::OK);

        let path = format!("/api/v1/users/{}", user["id"].as_str().unwrap());
        let (status, _) =
            s.call(Method::PATCH, &path, Some(&admin), Some(json!({"password": "frank-new-password"}))).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(s.get("/api/v1/auth/me", &frank).await.0, StatusCode::UNAUTHORIZED, "the old session");
        assert_eq!(s.get("/api/v1/auth/me", &api_token).await.0, StatusCode::UNAUTHORIZED, "the old API token");
        let frank = s.login("frank", "frank-new-password").await;
        assert_eq!(s.get("/api/v1/auth/me", &frank).await.0, StatusCode::OK);
        // Changing one's own password keeps this request's session, and only it.
        let (_, me) = s.get("/api/v1/auth/me", &admin).await;
        let own = format!("/api/v1/users/{}", me["user"]["id"].as_str().unwrap());
        let (status, _) =
            s.call(Method::PATCH, &own, Some(&admin), Some(json!({"password": "admin-new-password"}))).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(s.get("/api/v1/auth/me", &admin).await.0, StatusCode::OK);
        assert_eq!(s.get("/api/v1/auth/me", &other_admin_session).await.0, StatusCode::UNAUTHORIZED);
        // An e-mail change alone revokes nothing.
        let (status, _) = s.call(Method::PATCH, &path, Some(&admin), Some(json!({"email": "f@example.com"}))).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(s.get("/api/v1/auth/me", &frank).await.0, StatusCode::OK);
    })
    .await;
}

#[tokio::test]
async fn every_refused_login_gets_the_same_answer() {
    each_backend(|s| async move {
        let admin = s.admin().await;
        for name in ["hank", "ivy"] {
            let (status, _) =
                s.post("/api/v1/users", &admin, json!({"name": name, "password": format!("{name}-password-12")})).await;
            assert_eq!(status, StatusCode::CREATED);
        }
        let (_, ivy) = s.get("/api/v1/users?sort=name", &admin).await;
        let ivy = ivy["items"].as_array().unwrap().iter().find(|u| u["name"] == "ivy").unwrap()["id"].clone();
        let path = format!("/api/v1/users/{}", ivy.as_str().unwrap());
        assert_eq!(s.call(Method::PATCH, &path, Some(&admin), Some(json!({"disabled": true}))).await.0, StatusCode::OK);
        let login = |user: &'static str, password: &'static str| {
            let s = &s;
            async move {
                let body = json!({"username": user, "password": password});
                s.call(Method::POST, "/api/v1/auth/login", None, Some(body)).await
            }
        };
        let wrong = login("hank", "not-hanks-password").await;
        assert_eq!(wrong.0, StatusCode::UNAUTHORIZED, "{}", wrong.1);
        let missing = login("nobody", "hank-password-12").await;
        let disabled = login("ivy", "ivy-password-12").await;
        for _ in 0..3 {
            login("hank", "not-hanks-password").await;
        }
        let locked = login("hank", "hank-password-12").await;
        for (what, answer) in [("missing", &missing), ("disabled", &disabled), ("locked", &locked)] {
            assert_eq!(answer, &wrong, "a {what} account answers like a wrong password");
        }
    })
    .await;
}

#[tokio::test]
async fn a_later_start_brings_the_system_policies_up_to_date() {
    let db = store::scratch::ScratchDb::new(store::Backend::Sqlite).await.unwrap();
    let st = store::open(&db.url).await.unwrap();
    server::bootstrap(&st, Some(ADMIN_PASSWORD)).await.unwrap();
    // As an earlier version stored it.
    let mut full = store::Store::iam_policy(&st, "system-cgs-fullaccess").await.unwrap().unwrap();
    full.document = r#"{"Version":"1.1","Statement":[{"Effect":"Allow","Action":["cgs:*"]}]}"#.into();
    store::Store::update_iam_policy(&st, &full).await.unwrap();
    assert_eq!(server::bootstrap(&st, None).await.unwrap(), None);
    let full = store::Store::iam_policy(&st, "system-cgs-fullaccess").await.unwrap().unwrap();
    assert_eq!(full.document, iam::SystemPolicy::FullAccess.document().to_json());
    assert!(!full.document.contains("cgs:*\""), "{}", full.document);
}

#[tokio::test]
async fn a_client_address_that_fails_too_often_is_throttled_whatever_the_account() {
    each_backend(|s| async move {
        let admin = s.admin().await;
        let login = |user: String, password: &str| {
            let body = json!({"username": user, "password": password});
            s.call(Method::POST, "/api/v1/auth/login", None, Some(body))
        };
        // Guessing across many accounts (none of which is locked by it).
        for n in 0..20 {
            assert_eq!(login(format!("nobody-{n}"), "guess-password-1").await.0, StatusCode::UNAUTHORIZED);
        }
        let (status, problem) = login("admin".into(), ADMIN_PASSWORD).await;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{problem}");
        assert_eq!(problem["code"], "too_many_requests");
        // A signed-in session is not affected.
        assert_eq!(s.get("/api/v1/auth/me", &admin).await.0, StatusCode::OK);
    })
    .await;
}
