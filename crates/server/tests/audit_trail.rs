//! Audit records: the seed's event names, denied attempts, filters, redaction, export.

use reqwest::StatusCode;
use serde_json::json;

use crate::harness::each_backend;

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

        let v = store::verify_audit(s.store.as_ref()).await.unwrap();
        assert!(v.problems.is_empty() && v.records as usize == seqs.len());
    })
    .await;
}
