use store::*;

use crate::support::{BACKENDS, each_backend, id};

fn event(n: usize) -> EventRow {
    EventRow {
        id: id("ev", n),
        node_id: "n1".into(),
        cluster_id: "c1".into(),
        time: 1_000 + n as i64,
        received_at: 2_000,
        category: if n.is_multiple_of(2) { "process".into() } else { "file".into() },
        kind: "abnormal-program".into(),
        container_id: "abc".into(),
        container_name: "web".into(),
        image: "nginx:1".into(),
        blocked: n.is_multiple_of(3),
        body: "{}".into(),
    }
}

#[tokio::test]
async fn a_retried_event_batch_is_stored_once() {
    each_backend(|s, _| async move {
        let batch: Vec<_> = (0..100).map(event).collect();
        assert_eq!(s.ingest_events(&batch).await.unwrap(), (100, 0));
        let overlap: Vec<_> = (50..150).map(event).collect();
        assert_eq!(s.ingest_events(&overlap).await.unwrap(), (50, 50));
        let (_, total) = s.list_events(&EventFilter::default(), &PageReq::default()).await.unwrap();
        assert_eq!(total, 150);
        let filter = EventFilter { category: Some("file".into()), from: Some(1_100), ..Default::default() };
        let (rows, total) = s.list_events(&filter, &PageReq { limit: 5, ..Default::default() }).await.unwrap();
        assert_eq!(total, 25);
        assert!(rows.iter().all(|e| e.category == "file" && e.time >= 1_100));
        assert_eq!(s.event("ev-3").await.unwrap().unwrap(), event(3));
    })
    .await;
}

#[tokio::test]
async fn every_policy_change_raises_the_revision() {
    each_backend(|s, _| async move {
        let r0 = s.policy_revision().await.unwrap();
        let mut p = SecurityPolicyRow {
            id: "sp1".into(),
            name: "web".into(),
            mode: "detect".into(),
            process_whitelist: vec!["/usr/sbin/nginx".into()],
            file_protection: vec!["/etc/passwd".into()],
            images: vec![],
            revision: 0,
            created_at: 1,
            updated_at: 1,
        };
        s.create_security_policy(&p).await.unwrap();
        let r1 = s.policy_revision().await.unwrap();
        assert!(r1 > r0);
        p.mode = "enforce".into();
        s.update_security_policy(&p).await.unwrap();
        let r2 = s.policy_revision().await.unwrap();
        assert!(r2 > r1);
        s.set_policy_images("sp1", &["nginx:1".into(), "nginx:2".into()], true, 5).await.unwrap();
        let stored = s.security_policy("sp1").await.unwrap().unwrap();
        assert_eq!(stored.images, ["nginx:1", "nginx:2"]);
        assert_eq!(stored.mode, "enforce");
        assert!(stored.revision > r2);
        s.set_policy_images("sp1", &["nginx:1".into()], false, 6).await.unwrap();
        assert_eq!(s.security_policy("sp1").await.unwrap().unwrap().images, ["nginx:2"]);
        let before_delete = s.policy_revision().await.unwrap();
        assert!(s.delete_security_policy("sp1").await.unwrap());
        assert!(s.policy_revision().await.unwrap() > before_delete);
        assert!(!s.delete_security_policy("sp1").await.unwrap());
    })
    .await;
}

fn token(id: &str, max_nodes: Option<i64>) -> EnrolmentTokenRow {
    EnrolmentTokenRow {
        id: id.into(),
        cluster_id: "c1".into(),
        secret_hash: format!("hash-{id}"),
        created_at: 1,
        expires_at: 1_000_000,
        revoked_at: None,
        max_nodes,
        nodes_enrolled: 0,
    }
}

fn node(id: &str, name: &str, credential_hash: &str) -> NodeRow {
    NodeRow {
        id: id.into(),
        cluster_id: "c1".into(),
        name: name.into(),
        credential_hash: credential_hash.into(),
        shield_version: "0.1.0".into(),
        facts: "{}".into(),
        enrolled_at: 1,
        last_heartbeat: None,
        enrolment_token_id: Some("t1".into()),
    }
}

fn enrolled(e: Enrolment) -> Option<NodeRow> {
    match e {
        Enrolment::Enrolled(n) => Some(n),
        _ => None,
    }
}

fn cluster() -> ClusterRow {
    ClusterRow {
        id: "c1".into(),
        name: "prod".into(),
        kind: "hosts".into(),
        protection: true,
        disclaimer_by: None,
        disclaimer_at: None,
        created_at: 1,
        kubeconfig_sealed: None,
        api_server: None,
    }
}

#[tokio::test]
async fn a_capped_token_enrols_at_most_its_count_of_new_nodes_even_when_raced() {
    each_backend(|s, url| async move {
        s.create_cluster(&cluster()).await.unwrap();
        s.enrolment().create_enrolment_token(&token("t1", Some(3))).await.unwrap();
        // Ten hosts enrol at once through a token capped at three, each through its own
        // connection pool (as separate server replicas would).
        let mut tasks = Vec::new();
        for i in 0..10 {
            let store = store::open(&url).await.unwrap();
            let n = node(&format!("n{i}"), &format!("host-{i}"), &format!("h{i}"));
            tasks.push(tokio::spawn(async move { store.enrolment().enrol(&n, None, 1).await.unwrap() }));
        }
        let mut results = Vec::new();
        for t in tasks {
            results.push(t.await.unwrap());
        }
        let ok = results.iter().filter(|r| matches!(r, Enrolment::Enrolled(_))).count();
        let used_up = results.iter().filter(|r| matches!(r, Enrolment::TokenUsedUp)).count();
        assert_eq!((ok, used_up), (3, 7), "{results:?}");
        assert_eq!(s.list_nodes(Some("c1"), &PageReq::default()).await.unwrap().1, 3, "refused nodes leave nothing");
        let t = s.enrolment().enrolment_token("hash-t1").await.unwrap().unwrap();
        assert_eq!(t.nodes_enrolled, 3);
        // A single-use token; then a revoked one.
        s.enrolment()
            .create_enrolment_token(&EnrolmentTokenRow { secret_hash: "hash-t2".into(), ..token("t2", Some(1)) })
            .await
            .unwrap();
        let mut n = node("x1", "host-x1", "hx1");
        n.enrolment_token_id = Some("t2".into());
        assert!(enrolled(s.enrolment().enrol(&n, None, 1).await.unwrap()).is_some());
        let mut n2 = node("x2", "host-x2", "hx2");
        n2.enrolment_token_id = Some("t2".into());
        assert_eq!(s.enrolment().enrol(&n2, None, 1).await.unwrap(), Enrolment::TokenUsedUp, "single use");
        // Renewing the node enrolled by the single-use token still works.
        n.credential_hash = "hx1b".into();
        n.id = "x1b".into();
        assert_eq!(enrolled(s.enrolment().enrol(&n, Some("hx1"), 2).await.unwrap()).unwrap().id, "x1");
        let revoked = s.enrolment().revoke_enrolment_token("c1", "t1", 5).await.unwrap().unwrap();
        assert_eq!(revoked.revoked_at, Some(5));
        assert_eq!(s.enrolment().revoke_enrolment_token("c1", "nope", 5).await.unwrap(), None);
        assert_eq!(s.enrolment().enrolment_tokens("c1").await.unwrap().len(), 2);
        // Removing the nodes of token t1 takes their on-demand hours with them.
        let t1_nodes: Vec<String> = s
            .list_nodes(Some("c1"), &PageReq::default())
            .await
            .unwrap()
            .0
            .into_iter()
            .filter(|n| n.enrolment_token_id.as_deref() == Some("t1"))
            .map(|n| n.id)
            .collect();
        assert_eq!(t1_nodes.len(), 3);
        s.record_on_demand_hour(&t1_nodes, 3_600_000).await.unwrap();
        s.record_on_demand_hour(&["x1".into()], 3_600_000).await.unwrap();
        assert_eq!(s.on_demand_hours(0).await.unwrap(), 4);
        assert_eq!(s.enrolment().remove_nodes_of_token("t1").await.unwrap(), 3);
        assert_eq!(s.on_demand_hours(0).await.unwrap(), 1, "only the hours of the remaining node");
        assert_eq!(s.list_nodes(Some("c1"), &PageReq::default()).await.unwrap().1, 1);
    })
    .await;
}

#[tokio::test]
async fn nodes_enrol_again_under_the_same_name() {
    each_backend(|s, _| async move {
        let c = ClusterRow {
            id: "c1".into(),
            name: "prod".into(),
            kind: "hosts".into(),
            protection: true,
            disclaimer_by: Some("admin".into()),
            disclaimer_at: Some(1),
            created_at: 1,
            kubeconfig_sealed: Some("v1:sealed".into()),
            api_server: Some("https://k8s.example:6443".into()),
        };
        s.create_cluster(&c).await.unwrap();
        assert_eq!(s.cluster("c1").await.unwrap().as_ref(), Some(&c));
        s.enrolment().create_enrolment_token(&token("t1", None)).await.unwrap();
        let e = s.enrolment();
        let mut n = node("n1", "host-a", "h1");
        assert_eq!(enrolled(e.enrol(&n, None, 1).await.unwrap()).unwrap().id, "n1");
        n.id = "n2".into();
        n.credential_hash = "h2".into();
        assert_eq!(e.enrol(&n, None, 1).await.unwrap(), Enrolment::NameTaken, "the name is taken");
        assert_eq!(e.enrol(&n, Some("h2"), 1).await.unwrap(), Enrolment::NameTaken, "a proof of another credential");
        assert!(s.node_by_credential("h1").await.unwrap().is_some(), "the first node is untouched");
        let again = enrolled(e.enrol(&n, Some("h1"), 1).await.unwrap()).unwrap();
        assert_eq!(again.id, "n1", "the node keeps its identity");
        assert!(s.node_by_credential("h1").await.unwrap().is_none(), "the old credential is gone");
        // An operator's permission, until a time; it is used up by the enrolment.
        assert_eq!(s.allow_reenrol("n1", 10).await.unwrap().unwrap().name, "host-a");
        assert_eq!(s.allow_reenrol("missing", 10).await.unwrap(), None);
        n.credential_hash = "h4".into();
        assert_eq!(e.enrol(&n, None, 11).await.unwrap(), Enrolment::NameTaken, "the permission expired");
        assert_eq!(enrolled(e.enrol(&n, None, 10).await.unwrap()).unwrap().credential_hash, "h4");
        n.credential_hash = "h5".into();
        assert_eq!(e.enrol(&n, None, 10).await.unwrap(), Enrolment::NameTaken, "the permission was used");
        n.credential_hash = "h2".into();
        assert!(enrolled(e.enrol(&n, Some("h4"), 10).await.unwrap()).is_some());
        assert_eq!(
            e.enrolment_token("hash-t1").await.unwrap().unwrap().nodes_enrolled,
            1,
            "renewals cost the token nothing"
        );
        s.heartbeat("n1", "0.2.0", r#"{"kernel":"6.18"}"#, 99).await.unwrap();
        let (nodes, total) = s.list_nodes(Some("c1"), &PageReq::default()).await.unwrap();
        assert_eq!(total, 1);
        assert_eq!((nodes[0].shield_version.as_str(), nodes[0].last_heartbeat), ("0.2.0", Some(99)));
        let n3 = node("n3", "host-b", "h3");
        enrolled(e.enrol(&n3, None, 1).await.unwrap()).unwrap();
        s.heartbeat("n3", "0.2.0", "{}", 50).await.unwrap();
        assert_eq!(s.node_counts("c1", 60).await.unwrap(), (2, 1), "one heartbeat at or after 60");
        assert_eq!(s.node_counts("c1", 50).await.unwrap(), (2, 2));
        assert_eq!(s.node_counts("other", 0).await.unwrap(), (0, 0));
        assert!(s.delete_cluster("c1").await.unwrap());
        assert_eq!(s.list_nodes(None, &PageReq::default()).await.unwrap().1, 0, "nodes go with their cluster");
    })
    .await;
}

#[tokio::test]
async fn one_lease_holder_at_a_time() {
    each_backend(|s, _| async move {
        assert!(s.try_lease("daily-scan", "a", 100, 200).await.unwrap());
        assert!(!s.try_lease("daily-scan", "b", 150, 250).await.unwrap());
        assert!(s.try_lease("daily-scan", "a", 150, 300).await.unwrap(), "the holder renews");
        assert!(s.try_lease("daily-scan", "b", 301, 400).await.unwrap(), "an expired lease is taken over");
        s.record_on_demand_hour(&["n1".into(), "n2".into()], 3_600_000).await.unwrap();
        s.record_on_demand_hour(&["n1".into()], 3_600_000).await.unwrap();
        s.record_on_demand_hour(&["n1".into()], 7_200_000).await.unwrap();
        assert_eq!(s.on_demand_hours(0).await.unwrap(), 3, "an hour counts once per node");
        assert_eq!(s.on_demand_hours(7_200_000).await.unwrap(), 1);
        s.set_setting("k", "v1").await.unwrap();
        s.set_setting("k", "v2").await.unwrap();
        assert_eq!(s.setting("k").await.unwrap().as_deref(), Some("v2"));
    })
    .await;
}

#[tokio::test]
async fn reopening_a_database_does_not_migrate_twice() {
    for backend in BACKENDS {
        let db = scratch::ScratchDb::new(backend).await.unwrap();
        let first = store::open(&db.url).await.unwrap();
        first.set_setting("k", "v").await.unwrap();
        drop(first);
        let second = store::open(&db.url).await.unwrap();
        assert_eq!(second.setting("k").await.unwrap().as_deref(), Some("v"));
        drop(second);
        db.drop_now().await.unwrap();
    }
}

#[tokio::test]
async fn a_bad_url_is_a_clear_error() {
    let err = store::open("mysql://u:pw@localhost/db").await.unwrap_err();
    assert!(err.to_string().contains("unsupported database URL"), "{err}");
    assert!(!err.to_string().contains("pw"), "the password stays out of the message: {err}");
}

#[tokio::test]
async fn a_setting_is_stored_once() {
    each_backend(|s, _| async move {
        assert_eq!(s.setting("k").await.unwrap(), None);
        assert!(s.put_setting_if_absent("k", "first").await.unwrap());
        assert!(!s.put_setting_if_absent("k", "second").await.unwrap());
        assert_eq!(s.setting("k").await.unwrap().as_deref(), Some("first"));
    })
    .await;
}
