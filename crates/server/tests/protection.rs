//! Authorization, clusters, enrolment, heartbeats, policy fetch, event ingest, quotas.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::harness::each_backend;

fn event(id: &str, category: &str) -> Value {
    json!({
        "id": id, "time": "2020-01-01T00:00:00Z", "category": category, "type": "abnormal-program",
        "container": {"id": "c0ffee", "name": "web"}, "image": "nginx:1.25",
        "description": "/tmp/x is not on the whitelist", "blocked": true,
        "process_tree": [{"pid": 42, "exe": "/tmp/x", "argv": ["/tmp/x"]}], "solution": "check the image"
    })
}

#[tokio::test]
async fn a_host_cluster_enrols_reports_and_is_released() {
    each_backend(|s| async move {
        let admin = s.admin().await;
        let (status, cluster) = s.post("/api/v1/clusters", &admin, json!({"name": "prod", "kind": "hosts"})).await;
        assert_eq!(status, StatusCode::CREATED, "{cluster}");
        let cid = cluster["id"].as_str().unwrap();
        let open = format!("/api/v1/clusters/{cid}/protection/open");
        let (status, p) = s.post(&open, &admin, json!({"accept_disclaimer": true})).await;
        assert_eq!((status, p["code"].as_str()), (StatusCode::PRECONDITION_REQUIRED, Some("authorization_required")));
        let (status, _) = s.call(Method::PUT, "/api/v1/authorization", Some(&admin), None).await;
        assert_eq!(status, StatusCode::OK);
        let (status, p) = s.post(&open, &admin, json!({"accept_disclaimer": false})).await;
        assert_eq!((status, p["field"].as_str()), (StatusCode::BAD_REQUEST, Some("accept_disclaimer")));
        let (status, opened) = s.post(&open, &admin, json!({"accept_disclaimer": true})).await;
        assert_eq!(status, StatusCode::OK, "{opened}");
        assert_eq!(opened["cluster"]["protection"], "on");
        assert_eq!(opened["cluster"]["disclaimer_accepted_by"], "admin");
        let token = opened["enrolment_token"].as_str().unwrap();

        let enrol = json!({"token": token, "node_name": "host-a", "shield_version": "0.1.0", "facts": {"images": ["nginx:1.25"]}});
        let (status, node) = s.call(Method::POST, "/api/v1/shield/enrol", None, Some(enrol.clone())).await;
        assert_eq!(status, StatusCode::CREATED, "{node}");
        let cred = node["credential"].as_str().unwrap().to_string();
        let bad = json!({"token": "cgs_e_forged", "node_name": "host-b", "shield_version": "0.1.0"});
        assert_eq!(s.call(Method::POST, "/api/v1/shield/enrol", None, Some(bad)).await.0, StatusCode::UNAUTHORIZED);

        // Policy fetch: only policies for the node's images, with a revision to poll by.
        let (_, p1) = s.post("/api/v1/policies", &admin, json!({"name": "web", "mode": "enforce", "processWhitelist": ["/usr/sbin/nginx"]})).await;
        s.post("/api/v1/policies", &admin, json!({"name": "other"})).await;
        let (_, applied) = s.post(&format!("/api/v1/policies/{}/images/apply", p1["id"].as_str().unwrap()), &admin, json!({"images": ["nginx:1.25"]})).await;
        let (status, hb) = s.post("/api/v1/shield/heartbeat", &cred, json!({"shield_version": "0.1.1", "facts": {"images": ["nginx:1.25"]}, "policy_revision": 0})).await;
        assert_eq!(status, StatusCode::OK, "{hb}");
        assert_eq!(hb["policy_revision"], applied["revision"]);
        let (_, pols) = s.get("/api/v1/shield/policies", &cred).await;
        assert_eq!(pols["policies"].as_array().unwrap().len(), 1, "{pols}");
        assert_eq!(pols["policies"][0]["name"], "web");

        // Ingest: a retried batch stores nothing twice.
        let batch = json!({"events": [event("e-1", "process"), event("e-2", "file")]});
        let (status, r) = s.post("/api/v1/shield/events", &cred, batch.clone()).await;
        assert_eq!((status, r["accepted"].as_u64(), r["duplicates"].as_u64()), (StatusCode::OK, Some(2), Some(0)));
        let (_, r) = s.post("/api/v1/shield/events", &cred, batch).await;
        assert_eq!((r["accepted"].as_u64(), r["duplicates"].as_u64()), (Some(0), Some(2)));
        let (status, p) = s.post("/api/v1/shield/events", &cred, json!({"events": [event("e-3", "weather")]})).await;
        assert_eq!((status, p["field"].as_str()), (StatusCode::BAD_REQUEST, Some("events")));
        let (_, events) = s.get("/api/v1/runtime/events?category=file&days=1", &admin).await;
        assert_eq!(events["total"], 0, "the events are from 2020");
        let (_, events) = s.get("/api/v1/runtime/events?category=file", &admin).await;
        assert_eq!(events["total"], 1);
        assert_eq!(events["items"][0]["node"], node["node_id"]);
        assert_eq!(events["items"][0]["blocked"], true);

        let (_, c) = s.get(&format!("/api/v1/clusters/{cid}"), &admin).await;
        assert_eq!((c["node_total"].as_u64(), c["shields_online"].as_u64()), (Some(1), Some(1)));
        let (_, nodes) = s.get(&format!("/api/v1/clusters/{cid}/nodes"), &admin).await;
        assert_eq!(nodes["items"][0]["shield_state"], "online");
        assert_eq!(nodes["items"][0]["shield_version"], "0.1.1");
        assert_eq!(nodes["items"][0]["billing"], "on-demand", "no quota bought yet");

        // Closing protection releases the node: its credential stops working.
        let (status, _) = s.post(&format!("/api/v1/clusters/{cid}/protection/close"), &admin, json!({})).await;
        assert_eq!(status, StatusCode::OK);
        let (status, _) = s.post("/api/v1/shield/heartbeat", &cred, json!({"shield_version": "0.1.1"})).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(s.call(Method::POST, "/api/v1/shield/enrol", None, Some(enrol)).await.0, StatusCode::UNAUTHORIZED);

        let (_, audit) = s.get("/api/v1/audit/records?limit=200", &admin).await;
        let events: Vec<&str> = audit["items"].as_array().unwrap().iter().map(|r| r["event_name"].as_str().unwrap()).collect();
        for e in ["registerCgsAgency", "openClusterProtect", "closeClusterProtect", "registerShield", "addCluster"] {
            assert!(events.contains(&e), "{e} missing from {events:?}");
        }
    })
    .await;
}

#[tokio::test]
async fn quotas_follow_the_seed() {
    each_backend(|s| async move {
        let admin = s.admin().await;
        let (status, p) = s.post("/api/v1/quotas", &admin, json!({"count": 5, "months": 1})).await;
        assert_eq!((status, p["field"].as_str()), (StatusCode::BAD_REQUEST, Some("count")), "first purchase >= 10");
        let (status, p) = s.post("/api/v1/quotas", &admin, json!({"count": 10, "months": 10})).await;
        assert_eq!((status, p["field"].as_str()), (StatusCode::BAD_REQUEST, Some("months")));
        let (status, bought) =
            s.post("/api/v1/quotas", &admin, json!({"count": 10, "months": 12, "auto_renew": true})).await;
        assert_eq!(status, StatusCode::CREATED);
        assert_eq!(bought.as_array().unwrap().len(), 10);
        assert!(bought[0]["expires_in_seconds"].as_i64().unwrap() > 364 * 86400);
        let (status, _) = s.post("/api/v1/quotas", &admin, json!({"count": 1, "months": 3})).await;
        assert_eq!(status, StatusCode::CREATED, "later purchases may be small");
        let id = bought[0]["id"].as_str().unwrap();
        let (_, renewed) = s.post(&format!("/api/v1/quotas/{id}/renew"), &admin, json!({"months": 1})).await;
        assert!(renewed["expires_in_seconds"].as_i64().unwrap() > 394 * 86400);
        let (status, _) = s.call(Method::DELETE, &format!("/api/v1/quotas/{id}"), Some(&admin), None).await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        let (_, sum) = s.get("/api/v1/protection/summary", &admin).await;
        assert_eq!(sum["quotas_normal"], 10);
        let (_, page) = s.get("/api/v1/quotas?limit=3&sort=-expires_at", &admin).await;
        assert_eq!((page["total"].as_u64(), page["items"].as_array().unwrap().len()), (Some(10), 3));
    })
    .await;
}

#[tokio::test]
async fn time_moves_quotas_through_their_states_and_counts_on_demand_hours() {
    each_backend(|s| async move {
        let admin = s.admin().await;
        let (_, bought) = s.post("/api/v1/quotas", &admin, json!({"count": 10, "months": 1})).await;
        let (_, renewing) =
            s.post("/api/v1/quotas", &admin, json!({"count": 1, "months": 2, "auto_renew": true})).await;
        let day = 86_400_000i64;
        let now = server_now();
        let ids: Vec<String> =
            bought.as_array().unwrap().iter().map(|q| q["id"].as_str().unwrap().to_string()).collect();
        // Quota 0 just expired, 1 expired 16 days ago, 2 has been frozen past the grace period.
        let mut q0 = s.store.quota(&ids[0]).await.unwrap().unwrap();
        q0.expires_at = now - 1000;
        s.store.update_quota(&q0).await.unwrap();
        let mut q1 = s.store.quota(&ids[1]).await.unwrap().unwrap();
        q1.expires_at = now - 16 * day;
        s.store.update_quota(&q1).await.unwrap();
        let mut q2 = s.store.quota(&ids[2]).await.unwrap().unwrap();
        (q2.state, q2.frozen_at, q2.expires_at) = ("frozen".into(), Some(now - 35 * day), now - 50 * day);
        s.store.update_quota(&q2).await.unwrap();
        let rid = renewing[0]["id"].as_str().unwrap();
        let mut r = s.store.quota(rid).await.unwrap().unwrap();
        r.expires_at = now - 1000;
        s.store.update_quota(&r).await.unwrap();

        // A protected cluster with one online node and 7 normal quotas left: the node is
        // covered; with none left it would be on demand.
        s.call(Method::PUT, "/api/v1/authorization", Some(&admin), None).await;
        let (_, c) = s.post("/api/v1/clusters", &admin, json!({"name": "k", "kind": "hosts"})).await;
        let (_, o) = s
            .post(
                &format!("/api/v1/clusters/{}/protection/open", c["id"].as_str().unwrap()),
                &admin,
                json!({"accept_disclaimer": true}),
            )
            .await;
        let enrol = json!({"token": o["enrolment_token"], "node_name": "n", "shield_version": "0"});
        assert_eq!(s.call(Method::POST, "/api/v1/shield/enrol", None, Some(enrol)).await.0, StatusCode::CREATED);

        let state = server::AppState::new(
            s.store.clone(),
            server::ServerConfig::new("127.0.0.1:1".parse().unwrap(), String::new()),
        );
        server::housekeeping_round(&state).await.unwrap();
        let state_of = |id: String| {
            let st = s.store.clone();
            async move { st.quota(&id).await.unwrap().map(|q| q.state) }
        };
        assert_eq!(state_of(ids[0].clone()).await.as_deref(), Some("expired"));
        assert_eq!(state_of(ids[1].clone()).await.as_deref(), Some("frozen"));
        assert_eq!(state_of(ids[2].clone()).await, None, "deleted after the grace period");
        let renewed = s.store.quota(rid).await.unwrap().unwrap();
        assert_eq!(renewed.state, "normal");
        assert!(renewed.expires_at > now + 59 * day, "auto-renewed for its two months");
        let (_, sum) = s.get("/api/v1/protection/summary", &admin).await;
        assert_eq!(
            (sum["quotas_normal"].as_u64(), sum["quotas_expired"].as_u64(), sum["quotas_frozen"].as_u64()),
            (Some(8), Some(1), Some(1))
        );
        assert_eq!(sum["on_demand_node_hours_30d"], 0, "the node is covered by a normal quota");

        for id in ids.iter().skip(3) {
            s.call(Method::DELETE, &format!("/api/v1/quotas/{id}"), Some(&admin), None).await;
        }
        s.call(Method::DELETE, &format!("/api/v1/quotas/{rid}"), Some(&admin), None).await;
        server::housekeeping_round(&state).await.unwrap();
        server::housekeeping_round(&state).await.unwrap();
        let (_, sum) = s.get("/api/v1/protection/summary", &admin).await;
        assert_eq!((sum["nodes_on_demand"].as_u64(), sum["on_demand_node_hours_30d"].as_u64()), (Some(1), Some(1)));
        let (_, nodes) = s.get("/api/v1/nodes", &admin).await;
        assert_eq!(nodes["items"][0]["billing"], "on-demand");
    })
    .await;
}

fn server_now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64
}

/// Opens protection of a new host cluster and returns (cluster id, enrolment token).
async fn protected_cluster(s: &crate::harness::TestServer, admin: &str, name: &str) -> (String, String) {
    s.call(Method::PUT, "/api/v1/authorization", Some(admin), None).await;
    let (_, c) = s.post("/api/v1/clusters", admin, json!({"name": name, "kind": "hosts"})).await;
    let cid = c["id"].as_str().unwrap().to_string();
    let (status, o) =
        s.post(&format!("/api/v1/clusters/{cid}/protection/open"), admin, json!({"accept_disclaimer": true})).await;
    assert_eq!(status, StatusCode::OK, "{o}");
    (cid, o["enrolment_token"].as_str().unwrap().to_string())
}

#[tokio::test]
async fn an_enrolled_node_name_is_not_taken_over() {
    each_backend(|s| async move {
        let admin = s.admin().await;
        let (_, token) = protected_cluster(&s, &admin, "prod").await;
        let enrol = json!({"token": token, "node_name": "host-a", "shield_version": "0.1.0"});
        let (status, first) = s.call(Method::POST, "/api/v1/shield/enrol", None, Some(enrol.clone())).await;
        assert_eq!(status, StatusCode::CREATED, "{first}");
        let first_cred = first["credential"].as_str().unwrap().to_string();
        let beat = json!({"shield_version": "0.1.0"});

        // The token alone does not take the name over, nor does another node's credential.
        let (status, p) = s.call(Method::POST, "/api/v1/shield/enrol", None, Some(enrol.clone())).await;
        assert_eq!((status, p["code"].as_str()), (StatusCode::CONFLICT, Some("node_already_enrolled")), "{p}");
        let other = json!({"token": token, "node_name": "host-b", "shield_version": "0.1.0"});
        let (_, b) = s.call(Method::POST, "/api/v1/shield/enrol", None, Some(other)).await;
        let b_cred = b["credential"].as_str().unwrap();
        let (status, _) = s.call(Method::POST, "/api/v1/shield/enrol", Some(b_cred), Some(enrol.clone())).await;
        assert_eq!(status, StatusCode::CONFLICT);
        assert_eq!(s.post("/api/v1/shield/heartbeat", &first_cred, beat.clone()).await.0, StatusCode::OK);

        // The node itself renews its credential by proving it holds the current one.
        let (status, renewed) =
            s.call(Method::POST, "/api/v1/shield/enrol", Some(&first_cred), Some(enrol.clone())).await;
        assert_eq!(status, StatusCode::CREATED, "{renewed}");
        assert_eq!(renewed["node_id"], first["node_id"], "the node keeps its id");
        let cred = renewed["credential"].as_str().unwrap().to_string();
        assert_eq!(s.post("/api/v1/shield/heartbeat", &first_cred, beat.clone()).await.0, StatusCode::UNAUTHORIZED);
        assert_eq!(s.post("/api/v1/shield/heartbeat", &cred, beat.clone()).await.0, StatusCode::OK);

        // An operator allows one re-enrolment (a reinstalled host without its credential).
        let node_id = first["node_id"].as_str().unwrap();
        let (status, node) = s.post(&format!("/api/v1/nodes/{node_id}/reenrol"), &admin, json!({})).await;
        assert_eq!((status, node["name"].as_str()), (StatusCode::OK, Some("host-a")), "{node}");
        assert_eq!(s.post("/api/v1/shield/heartbeat", &cred, beat.clone()).await.0, StatusCode::OK, "until replaced");
        let (status, replaced) = s.call(Method::POST, "/api/v1/shield/enrol", None, Some(enrol.clone())).await;
        assert_eq!(status, StatusCode::CREATED, "{replaced}");
        let new_cred = replaced["credential"].as_str().unwrap();
        assert_eq!(s.post("/api/v1/shield/heartbeat", &cred, beat.clone()).await.0, StatusCode::UNAUTHORIZED);
        assert_eq!(s.post("/api/v1/shield/heartbeat", new_cred, beat.clone()).await.0, StatusCode::OK);
        let (status, _) = s.call(Method::POST, "/api/v1/shield/enrol", None, Some(enrol)).await;
        assert_eq!(status, StatusCode::CONFLICT, "the permission is used up");
        let missing = "/api/v1/nodes/00000000-0000-0000-0000-000000000000/reenrol";
        assert_eq!(s.post(missing, &admin, json!({})).await.0, StatusCode::NOT_FOUND);

        let (_, audit) =
            s.get(&format!("/api/v1/audit/records?event_name=allowNodeReenrol&resource_id={node_id}"), &admin).await;
        let outcomes: Vec<(&str, &str)> = audit["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| (r["operator"].as_str().unwrap(), r["outcome"].as_str().unwrap()))
            .collect();
        assert_eq!(outcomes, [("admin", "success"), ("admin", "attempt")], "{audit}");
    })
    .await;
}

#[tokio::test]
async fn a_node_gets_only_the_policies_of_its_images() {
    each_backend(|s| async move {
        let admin = s.admin().await;
        let (_, token) = protected_cluster(&s, &admin, "prod").await;
        let (_, web) = s.post("/api/v1/policies", &admin, json!({"name": "web"})).await;
        let (_, db) = s.post("/api/v1/policies", &admin, json!({"name": "db"})).await;
        s.post("/api/v1/policies", &admin, json!({"name": "loose"})).await;
        let apply = |id: &Value, image: &str| {
            let path = format!("/api/v1/policies/{}/images/apply", id["id"].as_str().unwrap());
            let body = json!({"images": [image]});
            let s = &s;
            let admin = admin.clone();
            async move { s.post(&path, &admin, body).await.0 }
        };
        assert_eq!(apply(&web, "nginx:1.25").await, StatusCode::OK);
        assert_eq!(apply(&db, "postgres:16").await, StatusCode::OK);
        let names = |cred: String| {
            let s = &s;
            async move {
                let (status, p) = s.get("/api/v1/shield/policies", &cred).await;
                assert_eq!(status, StatusCode::OK, "{p}");
                let mut names: Vec<String> =
                    p["policies"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap().into()).collect();
                names.sort();
                names
            }
        };
        // Enrolled without facts: the node reported no images.
        let enrol = json!({"token": token, "node_name": "bare", "shield_version": "0.1.0"});
        let (_, bare) = s.call(Method::POST, "/api/v1/shield/enrol", None, Some(enrol)).await;
        let bare = bare["credential"].as_str().unwrap().to_string();
        assert_eq!(names(bare.clone()).await, Vec::<String>::new());
        let beat = json!({"shield_version": "0.1.0", "facts": {"images": ["docker.io/library/nginx:1.25"]}});
        assert_eq!(s.post("/api/v1/shield/heartbeat", &bare, beat).await.0, StatusCode::OK);
        assert_eq!(names(bare.clone()).await, vec!["web".to_string()]);
        let beat = json!({"shield_version": "0.1.0", "facts": {"images": []}});
        s.post("/api/v1/shield/heartbeat", &bare, beat).await;
        assert_eq!(names(bare).await, Vec::<String>::new());
    })
    .await;
}

#[tokio::test]
async fn a_capped_token_enrols_no_more_nodes_and_a_leaked_one_is_undone_with_its_hours() {
    each_backend(|s| async move {
        let admin = s.admin().await;
        s.call(Method::PUT, "/api/v1/authorization", Some(&admin), None).await;
        let (_, c) = s.post("/api/v1/clusters", &admin, json!({"name": "edge", "kind": "hosts"})).await;
        let cid = c["id"].as_str().unwrap().to_string();
        let open = format!("/api/v1/clusters/{cid}/protection/open");
        let (status, p) = s.post(&open, &admin, json!({"accept_disclaimer": true, "max_nodes": 0})).await;
        assert_eq!((status, p["field"].as_str()), (StatusCode::BAD_REQUEST, Some("max_nodes")), "{p}");
        let (status, o) = s.post(&open, &admin, json!({"accept_disclaimer": true, "max_nodes": 2})).await;
        assert_eq!(status, StatusCode::OK, "{o}");
        let leaked = o["enrolment_token"].as_str().unwrap().to_string();
        let enrol = |token: &str, name: &str, proof: Option<String>| {
            let body = json!({"token": token, "node_name": name, "shield_version": "0.1.0"});
            let s = &s;
            async move { s.call(Method::POST, "/api/v1/shield/enrol", proof.as_deref(), Some(body)).await }
        };
        let (status, one) = enrol(&leaked, "host-1", None).await;
        assert_eq!(status, StatusCode::CREATED, "{one}");
        let one_cred = one["credential"].as_str().unwrap().to_string();
        assert_eq!(enrol(&leaked, "host-2", None).await.0, StatusCode::CREATED);
        let (status, p) = enrol(&leaked, "host-3", None).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "the cap is reached: {p}");
        // Renewing an enrolled node's credential costs the token nothing.
        let (status, renewed) = enrol(&leaked, "host-1", Some(one_cred)).await;
        assert_eq!(status, StatusCode::CREATED, "{renewed}");
        let one_cred = renewed["credential"].as_str().unwrap().to_string();

        // A single-use token for one more host, beside the first.
        let tokens = format!("/api/v1/clusters/{cid}/enrolment-tokens");
        for bad in [json!({"max_nodes": 0}), json!({"expires_in_hours": 721}), json!({"nope": 1})] {
            assert_eq!(s.post(&tokens, &admin, bad.clone()).await.0, StatusCode::BAD_REQUEST, "{bad}");
        }
        let (status, issued) = s.post(&tokens, &admin, json!({"max_nodes": 1, "expires_in_hours": 2})).await;
        assert_eq!(status, StatusCode::CREATED, "{issued}");
        assert_eq!(
            (issued["details"]["state"].as_str(), issued["details"]["max_nodes"].as_u64()),
            (Some("active"), Some(1))
        );
        let single = issued["enrolment_token"].as_str().unwrap().to_string();
        assert!(issued["install_command"].as_str().unwrap().contains(&single));
        let (status, three) = enrol(&single, "host-3", None).await;
        assert_eq!(status, StatusCode::CREATED, "{three}");
        let three_cred = three["credential"].as_str().unwrap().to_string();
        assert_eq!(enrol(&single, "host-4", None).await.0, StatusCode::UNAUTHORIZED, "single use");
        let (status, list) = s.get(&tokens, &admin).await;
        assert_eq!(status, StatusCode::OK, "{list}");
        let states: Vec<(&str, u64)> = list
            .as_array()
            .unwrap()
            .iter()
            .map(|t| (t["state"].as_str().unwrap(), t["nodes_enrolled"].as_u64().unwrap()))
            .collect();
        assert_eq!(states, [("used-up", 1), ("used-up", 2)], "newest first: {list}");
        assert!(!list.to_string().contains(&single) && !list.to_string().contains(&leaked), "no secret is listed");

        // No normal quota: the three online nodes are counted on demand.
        let state = server::AppState::new(
            s.store.clone(),
            server::ServerConfig::new("127.0.0.1:1".parse().unwrap(), String::new()),
        );
        server::housekeeping_round(&state).await.unwrap();
        let (_, sum) = s.get("/api/v1/protection/summary", &admin).await;
        assert_eq!(sum["on_demand_node_hours_30d"].as_u64(), Some(3), "{sum}");

        // The first token leaked: revoke it and remove what it enrolled, hours included.
        let leaked_id = list[1]["id"].as_str().unwrap();
        let (status, revoked) =
            s.call(Method::DELETE, &format!("{tokens}/{leaked_id}?remove_nodes=true"), Some(&admin), None).await;
        assert_eq!(status, StatusCode::OK, "{revoked}");
        assert_eq!(
            (revoked["details"]["state"].as_str(), revoked["nodes_removed"].as_u64()),
            (Some("revoked"), Some(2))
        );
        let (_, sum) = s.get("/api/v1/protection/summary", &admin).await;
        assert_eq!(sum["on_demand_node_hours_30d"].as_u64(), Some(1), "only host-3's hour is left: {sum}");
        let beat = json!({"shield_version": "0.1.0"});
        assert_eq!(s.post("/api/v1/shield/heartbeat", &one_cred, beat.clone()).await.0, StatusCode::UNAUTHORIZED);
        assert_eq!(s.post("/api/v1/shield/heartbeat", &three_cred, beat).await.0, StatusCode::OK);
        let (_, nodes) = s.get(&format!("/api/v1/clusters/{cid}/nodes"), &admin).await;
        assert_eq!(nodes["total"], 1, "{nodes}");
        assert_eq!(nodes["items"][0]["enrolment_token_id"], issued["details"]["id"]);
        assert_eq!(enrol(&leaked, "host-9", None).await.0, StatusCode::UNAUTHORIZED, "revoked");
        let missing = format!("{tokens}/00000000-0000-0000-0000-000000000000");
        assert_eq!(s.call(Method::DELETE, &missing, Some(&admin), None).await.0, StatusCode::NOT_FOUND);
        let (_, audit) = s.get("/api/v1/audit/records?event_name=revokeEnrolmentToken", &admin).await;
        let outcomes: Vec<&str> =
            audit["items"].as_array().unwrap().iter().map(|r| r["outcome"].as_str().unwrap()).collect();
        assert_eq!(outcomes, ["failure", "attempt", "success", "attempt"], "{audit}");
        assert_eq!(audit["items"][2]["result"]["body"]["details"]["state"], "revoked", "{audit}");

        // With protection off, no token can be issued.
        s.post(&format!("/api/v1/clusters/{cid}/protection/close"), &admin, json!({})).await;
        assert_eq!(s.post(&tokens, &admin, json!({})).await.0, StatusCode::CONFLICT);
    })
    .await;
}
