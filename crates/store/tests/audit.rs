use std::sync::Arc;

use store::*;

use crate::support::each_backend;

fn record(n: usize) -> NewAudit {
    NewAudit {
        id: format!("a-{n}"),
        time: 1_000 + n as i64,
        event_name: "addPolicy".into(),
        event_type: "management".into(),
        source: "cgs".into(),
        resource_type: "policy".into(),
        resource_id: format!("p{n}"),
        resource_name: format!("policy-{n}"),
        operator: if n.is_multiple_of(2) { "admin".into() } else { "alice".into() },
        level: "normal".into(),
        outcome: "success".into(),
        request: r#"{"name":"x"}"#.into(),
        result: "{}".into(),
    }
}

async fn verify(s: &SqlStore) -> Vec<ChainProblem> {
    let (seq, hash) = s.audit_anchor().await.unwrap();
    let rows = s.audit_after(seq, 100_000).await.unwrap();
    verify_chain(seq, &hash, &rows).0
}

async fn raw(url: &str, sql: &str) {
    sqlx::any::install_default_drivers();
    let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(url).await.unwrap();
    sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_string())).execute(&mut conn).await.unwrap();
}

#[tokio::test]
async fn the_chain_catches_a_record_edited_in_the_database() {
    each_backend(|s, url| async move {
        for n in 1..=5 {
            s.append_audit(&record(n)).await.unwrap();
        }
        assert!(verify(&s).await.is_empty());
        raw(&url, "UPDATE audit_log SET operator = 'nobody' WHERE seq = 3").await;
        assert_eq!(verify(&s).await, vec![ChainProblem::Altered { seq: 3 }]);
    })
    .await;
}

#[tokio::test]
async fn the_chain_catches_removed_and_inserted_records() {
    each_backend(|s, url| async move {
        for n in 1..=5 {
            s.append_audit(&record(n)).await.unwrap();
        }
        raw(&url, "DELETE FROM audit_log WHERE seq = 2").await;
        assert!(verify(&s).await.contains(&ChainProblem::Broken { seq: 3, expected_seq: 2 }));
        raw(
            &url,
            "INSERT INTO audit_log SELECT 2, 'forged', time, event_name, event_type, source, resource_type, \
             resource_id, resource_name, operator, level, outcome, request, result, prev_hash, hash \
             FROM audit_log WHERE seq = 3",
        )
        .await;
        assert!(!verify(&s).await.is_empty());
    })
    .await;
}

#[tokio::test]
async fn pruning_keeps_the_rest_verifiable_and_filters_work() {
    each_backend(|s, _| async move {
        for n in 1..=10 {
            s.append_audit(&record(n)).await.unwrap();
        }
        assert_eq!(s.prune_audit(1_005).await.unwrap(), 4);
        assert_eq!(s.audit_anchor().await.unwrap().0, 4);
        assert!(verify(&s).await.is_empty());
        let next = s.append_audit(&record(11)).await.unwrap();
        assert_eq!(next.seq, 11);
        assert!(verify(&s).await.is_empty());

        let filter = AuditFilter { operator: Some("alice".into()), from: Some(1_006), ..Default::default() };
        let (rows, total) = s.query_audit(&filter, &PageReq::default()).await.unwrap();
        assert_eq!(total, 3);
        assert_eq!(rows.iter().map(|r| r.seq).collect::<Vec<_>>(), [7, 9, 11]);
        // Pruning never removes the newest record: the chain's head survives.
        s.prune_audit(i64::MAX).await.unwrap();
        assert_eq!(s.audit_after(0, 100).await.unwrap().len(), 1);
        assert!(verify(&s).await.is_empty());
    })
    .await;
}

#[tokio::test]
async fn concurrent_appends_form_one_chain() {
    each_backend(|s, _| async move {
        let s = Arc::new(s);
        let tasks: Vec<_> = (0..8)
            .map(|t| {
                let s = s.clone();
                tokio::spawn(async move {
                    for n in 0..25 {
                        s.append_audit(&record(1000 + t * 100 + n)).await.unwrap();
                    }
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
        assert!(verify(&s).await.is_empty());
        assert_eq!(s.audit_after(0, 1000).await.unwrap().len(), 200);
    })
    .await;
}
