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
        let mut n = NodeRow {
            id: "n1".into(),
            cluster_id: "c1".into(),
            name: "host-a".into(),
            credential_hash: "h1".into(),
            shield_version: "0.1.0".into(),
            facts: "{}".into(),
            enrolled_at: 1,
            last_heartbeat: None,
        };
        assert_eq!(s.enrol_node(&n, None, 1).await.unwrap().unwrap().id, "n1");
        n.id = "n2".into();
        n.credential_hash = "h2".into();
        assert_eq!(s.enrol_node(&n, None, 1).await.unwrap(), None, "the name is taken");
        assert_eq!(s.enrol_node(&n, Some("h2"), 1).await.unwrap(), None, "a proof of another credential");
        assert!(s.node_by_credential("h1").await.unwrap().is_some(), "the first node is untouched");
        let again = s.enrol_node(&n, Some("h1"), 1).await.unwrap().unwrap();
        assert_eq!(again.id, "n1", "the node keeps its identity");
        assert!(s.node_by_credential("h1").await.unwrap().is_none(), "the old credential is gone");
        // An operator's permission, until a time; it is used up by the enrolment.
        assert_eq!(s.allow_reenrol("n1", 10).await.unwrap().unwrap().name, "host-a");
        assert_eq!(s.allow_reenrol("missing", 10).await.unwrap(), None);
        n.credential_hash = "h4".into();
        assert_eq!(s.enrol_node(&n, None, 11).await.unwrap(), None, "the permission expired");
        assert_eq!(s.enrol_node(&n, None, 10).await.unwrap().unwrap().credential_hash, "h4");
        n.credential_hash = "h5".into();
        assert_eq!(s.enrol_node(&n, None, 10).await.unwrap(), None, "the permission was used");
        n.credential_hash = "h2".into();
        assert!(s.enrol_node(&n, Some("h4"), 10).await.unwrap().is_some());
        s.heartbeat("n1", "0.2.0", r#"{"kernel":"6.18"}"#, 99).await.unwrap();
        let (nodes, total) = s.list_nodes(Some("c1"), &PageReq::default()).await.unwrap();
        assert_eq!(total, 1);
        assert_eq!((nodes[0].shield_version.as_str(), nodes[0].last_heartbeat), ("0.2.0", Some(99)));
        n.id = "n3".into();
        n.name = "host-b".into();
        n.credential_hash = "h3".into();
        s.enrol_node(&n, None, 1).await.unwrap().unwrap();
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
