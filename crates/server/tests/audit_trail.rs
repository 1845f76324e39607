//! Audit records: the seed's event names, denied attempts, filters, redaction, export.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::harness::{ADMIN_PASSWORD, each_backend};

#[tokio::test]
async fn changes_and_refusals_are_audited_without_secrets() {
    each_backend(|s| async move {
        let admin = s.admin().await;
        let (_, policy) =
            s.post("/api/v1/policies", &admin, json!({"name": "web", "processWhitelist": ["/usr/sbin/nginx"]})).await;
        let pid = policy["id"].as_str().unwrap();
        s.post(&format!("/api/v1/policies/{pid}/images/apply"), &admin, json!({"images": ["nginx:1.25"]})).await;
        s.post("/api/v1/users", &admin, json!({"name": "dave", "password": "dave-password-12"})).await;
        let dave = s.login("dave", "dave-password-12").await;
        let (status, _) = s.post("/api/v1/policies", &dave, json!({"name": "sneaky"})).await;
        assert_eq!(status, StatusCode::FORBIDDEN);

        let (_, page) = s.get("/api/v1/audit/records?limit=100", &admin).await;
        let records = page["items"].as_array().unwrap();
        let find = |event: &str, outcome: &str| {
            records
                .iter()
                .find(|r| r["event_name"] == event && r["outcome"] == outcome)
                .unwrap_or_else(|| panic!("no {event}/{outcome} record in {records:#?}"))
        };
        let add = find("addPolicy", "success");
        assert_eq!((add["operator"].as_str(), add["resource_name"].as_str()), (Some("admin"), Some("web")));
        assert_eq!(add["resource_id"], pid);
        assert_eq!(
            (add["level"].as_str(), add["source"].as_str(), add["event_type"].as_str()),
            (Some("normal"), Some("cgs"), Some("management"))
        );
        assert_eq!(find("imageApplyPolicy", "success")["resource_id"], pid);
        // Each record names the client's address.
        let client = add["request"]["client"].as_str().unwrap_or_default();
        assert!(client.starts_with("127.0.0.1:"), "no client address in {add}");
        assert!(
            find("addPolicy", "attempt")["request"]["client"].as_str().is_some_and(|c| c.starts_with("127.0.0.1:"))
        );
        let denied = find("addPolicy", "denied");
        assert_eq!((denied["operator"].as_str(), denied["level"].as_str()), (Some("dave"), Some("warning")));
        let user = find("addUser", "success");
        assert_eq!(user["request"]["body"]["password"], "***");
        let login = find("login", "success");
        assert_eq!(login["result"]["body"]["token"], "***");
        let text = serde_json::to_string(&page).unwrap();
        assert!(!text.contains("dave-password-12") && !text.contains("cgs_s_"), "a secret reached the audit log");

        // Filters of the seed.
        let (_, f) = s.get("/api/v1/audit/records?operator=dave&level=warning&last=hour", &admin).await;
        assert_eq!(f["total"], 1);
        let (_, f) = s.get(&format!("/api/v1/audit/records?resource_id={pid}&event_name=addPolicy"), &admin).await;
        assert_eq!(f["total"], 1);
        let (_, f) = s.get("/api/v1/audit/records?from=2000-01-01T00:00:00Z&to=2000-01-02T00:00:00Z", &admin).await;
        assert_eq!(f["total"], 0);
        let (status, p) = s.get("/api/v1/audit/records?last=month", &admin).await;
        assert_eq!((status, p["field"].as_str()), (StatusCode::BAD_REQUEST, Some("last")));

        // Export: JSON lines, oldest first, each a whole record.
        let resp = reqwest::Client::new()
            .get(format!("{}/api/v1/audit/export", s.base))
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.headers()["content-type"], "application/x-ndjson");
        let text = resp.text().await.unwrap();
        let seqs: Vec<i64> = text
            .lines()
            .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["seq"].as_i64().unwrap())
            .collect();
        assert!(seqs.len() >= 6 && seqs.windows(2).all(|w| w[0] < w[1]), "{seqs:?}");

        let v = store::verify_audit(s.store.as_ref(), &s.state.audit_key).await.unwrap();
        assert!(v.problems.is_empty() && v.records as usize == seqs.len());
        // The server keys the chain with the key derived from its secret key: every record
        // is keyed, and another key does not verify it.
        assert_eq!(v.unkeyed, 0);
        assert!(v.head_hash.starts_with(store::KEYED_PREFIX), "{}", v.head_hash);
        let other = server::secrets::SecretKey::ephemeral().audit_key();
        assert!(!store::verify_audit(s.store.as_ref(), &other).await.unwrap().problems.is_empty());
    })
    .await;
}

/// Every secret the server issues or receives in a flow that makes one of each kind: none
/// reaches an audit record, by key name or by value (the install command embeds the
/// enrolment token in a string).
#[tokio::test]
async fn no_issued_secret_reaches_the_audit_log() {
    each_backend(|s| async move {
        let mut secrets: Vec<String> = vec![ADMIN_PASSWORD.into()];
        let login = json!({"username": "admin", "password": ADMIN_PASSWORD});
        let (status, session) = s.call(Method::POST, "/api/v1/auth/login", None, Some(login)).await;
        assert_eq!(status, StatusCode::OK);
        let admin = session["token"].as_str().unwrap().to_string();
        secrets.push(admin.clone());
        secrets.push(session["csrf_token"].as_str().unwrap().into());

        let (status, _) =
            s.post("/api/v1/users", &admin, json!({"name": "erin", "password": "erin-password-12"})).await;
        assert_eq!(status, StatusCode::CREATED);
        secrets.push("erin-password-12".into());
        secrets.push(s.login("erin", "erin-password-12").await);

        let token = json!({"name": "ci", "scope": ["cgs:*:list"], "expires_in_days": 1});
        let (status, token) = s.post("/api/v1/auth/tokens", &admin, token).await;
        assert_eq!(status, StatusCode::CREATED);
        secrets.push(token["secret"].as_str().unwrap().into());

        s.call(Method::PUT, "/api/v1/authorization", Some(&admin), None).await;
        let (_, cluster) = s.post("/api/v1/clusters", &admin, json!({"name": "edge", "kind": "hosts"})).await;
        let open = format!("/api/v1/clusters/{}/protection/open", cluster["id"].as_str().unwrap());
        let (status, opened) = s.post(&open, &admin, json!({"accept_disclaimer": true})).await;
        assert_eq!(status, StatusCode::OK, "{opened}");
        let enrolment = opened["enrolment_token"].as_str().unwrap().to_string();
        assert!(opened["install_command"].as_str().unwrap().contains(&enrolment));
        secrets.push(enrolment.clone());

        let enrol = json!({"token": enrolment, "node_name": "edge-1", "shield_version": "0.1.0"});
        let (status, node) = s.call(Method::POST, "/api/v1/shield/enrol", None, Some(enrol)).await;
        assert_eq!(status, StatusCode::CREATED, "{node}");
        secrets.push(node["credential"].as_str().unwrap().into());

        // A secret sent where no key names it (a group's description) is redacted too.
        let description = format!("ask for {} on the wiki", secrets[1]);
        let (status, _) = s.post("/api/v1/groups", &admin, json!({"name": "ops", "description": description})).await;
        assert_eq!(status, StatusCode::CREATED);

        let mut records = Vec::new();
        let mut offset = 0;
        loop {
            let (_, page) = s.get(&format!("/api/v1/audit/records?limit=100&offset={offset}"), &admin).await;
            let items = page["items"].as_array().unwrap().clone();
            offset += items.len();
            records.extend(items);
            if offset as u64 >= page["total"].as_u64().unwrap() {
                break;
            }
        }
        let events: Vec<&str> = records.iter().map(|r| r["event_name"].as_str().unwrap()).collect();
        for e in ["login", "addUser", "createApiToken", "openClusterProtect", "registerShield", "addGroup"] {
            assert!(events.contains(&e), "{e} missing from {events:?}");
        }
        let export = reqwest::Client::new()
            .get(format!("{}/api/v1/audit/export", s.base))
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert_eq!(export.lines().count(), records.len());
        let queried = serde_json::to_string(&records).unwrap();
        for secret in &secrets {
            assert!(!queried.contains(secret.as_str()), "{secret} is in an audit record: {queried}");
            assert!(!export.contains(secret.as_str()), "{secret} is in the audit export: {export}");
        }
        assert!(export.contains("CGUARD_ENROLMENT_TOKEN=cgs_e_***"), "{export}");
    })
    .await;
}

#[tokio::test]
async fn unauthenticated_attempts_are_recorded_compactly_and_limited() {
    each_backend(|s| async move {
        let admin = s.admin().await;
        let big = json!({"name": "x".repeat(100_000), "password": "p".repeat(20)});
        let sent = 50;
        for n in 0..sent {
            let token = (n % 2 == 0).then_some("cgs_s_forged");
            let (status, _) = s.call(Method::POST, "/api/v1/users", token, Some(big.clone())).await;
            assert_eq!(status, StatusCode::UNAUTHORIZED);
        }
        let (_, page) = s.get("/api/v1/audit/records?event_name=addUser&limit=1000", &admin).await;
        let records = page["items"].as_array().unwrap();
        // 20 a minute per route; the requests may straddle two minutes.
        assert!(!records.is_empty() && records.len() <= 40, "{} records", records.len());
        for r in records {
            assert_eq!((r["operator"].as_str(), r["outcome"].as_str()), (Some("anonymous"), Some("denied")));
            assert_eq!(
                (r["request"]["method"].as_str(), r["request"]["path"].as_str()),
                (Some("POST"), Some("/api/v1/users"))
            );
            assert!(r["request"].get("body").is_none(), "{r}");
            assert_eq!(r["result"]["status"], 401);
            assert!(r["result"]["reason"].is_string(), "{r}");
            assert!(serde_json::to_string(r).unwrap().len() < 2000, "{r}");
        }
        let (status, _) = s.call(Method::POST, "/api/v1/users", None, Some(json!({}))).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        let (_, users) = s.get("/api/v1/users", &admin).await;
        assert_eq!(users["total"], 1, "only the administrator");
    })
    .await;
}

/// Makes every insert into the audit log fail, as a full disk would.
async fn break_the_audit_log(s: &crate::harness::TestServer) {
    use sqlx::Connection;
    sqlx::any::install_default_drivers();
    let mut conn = sqlx::AnyConnection::connect(&s.db_url).await.unwrap();
    let sql = match s.backend {
        store::Backend::Sqlite => {
            "CREATE TRIGGER audit_full BEFORE INSERT ON audit_log BEGIN SELECT RAISE(FAIL, 'disk full'); END;"
        }
        store::Backend::Postgres => {
            "CREATE FUNCTION audit_full() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'disk full'; END $$; \
             CREATE TRIGGER audit_full BEFORE INSERT ON audit_log FOR EACH ROW EXECUTE FUNCTION audit_full();"
        }
    };
    sqlx::raw_sql(sql).execute(&mut conn).await.unwrap();
    conn.close().await.unwrap();
}

#[tokio::test]
async fn a_change_that_cannot_be_audited_does_not_happen() {
    each_backend(|s| async move {
        let admin = s.admin().await;
        break_the_audit_log(&s).await;
        let (status, p) =
            s.post("/api/v1/users", &admin, json!({"name": "gina", "password": "gina-password-12"})).await;
        assert_eq!((status, p["code"].as_str()), (StatusCode::SERVICE_UNAVAILABLE, Some("audit_unavailable")), "{p}");
        assert!(s.store.user_by_name("gina").await.unwrap().is_none(), "the user was created without a record");
        let (status, _) = s.post("/api/v1/groups", &admin, json!({"name": "ops"})).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        let (_, groups) = s.get("/api/v1/groups", &admin).await;
        assert_eq!(groups["total"], 0);
        let login = json!({"username": "admin", "password": crate::harness::ADMIN_PASSWORD});
        let (status, body) = s.call(Method::POST, "/api/v1/auth/login", None, Some(login)).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "no session without its record: {body}");
        // Reads need no record.
        assert_eq!(s.get("/api/v1/users", &admin).await.0, StatusCode::OK);
    })
    .await;
}

#[tokio::test]
async fn the_export_is_streamed_in_chain_order() {
    each_backend(|s| async move {
        let admin = s.admin().await;
        for n in 0..3 {
            s.post("/api/v1/groups", &admin, json!({"name": format!("g{n}")})).await;
        }
        let resp = reqwest::Client::new()
            .get(format!("{}/api/v1/audit/export?event_name=addGroup", s.base))
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::OK);
        assert!(
            resp.headers().get("content-length").is_none(),
            "a streamed answer has no length: {:?}",
            resp.headers()
        );
        let text = resp.text().await.unwrap();
        let seqs: Vec<i64> = text
            .lines()
            .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["seq"].as_i64().unwrap())
            .collect();
        assert_eq!(seqs.len(), 6, "an attempt and an outcome per group: {text}");
        assert!(seqs.windows(2).all(|w| w[0] < w[1]), "{seqs:?}");
    })
    .await;
}
