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

/// The audit key of these tests (a server derives it from its secret key file).
fn key() -> AuditKey {
    AuditKey::derive(&[42u8; 32])
}

async fn verify(s: &SqlStore) -> Vec<ChainProblem> {
    let (seq, hash) = s.audit_anchor().await.unwrap();
    let rows = s.audit_after(seq, 100_000).await.unwrap();
    verify_chain(&key(), seq, &hash, &rows).0
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
            s.append_audit(&record(n), &key()).await.unwrap();
        }
        assert!(verify(&s).await.is_empty());
        raw(&url, "UPDATE audit_log SET operator = 'nobody' WHERE seq = 3").await;
        assert_eq!(verify(&s).await, vec![ChainProblem::Altered { seq: 3 }]);
    })
    .await;
}

/// Whoever can write the database but does not hold the server's key edits a record and
/// computes its hash again, as the chain's unkeyed SHA-256 would: the chain catches it.
#[tokio::test]
async fn the_chain_catches_a_record_edited_and_hashed_again_without_the_key() {
    each_backend(|s, url| async move {
        for n in 1..=3 {
            s.append_audit(&record(n), &key()).await.unwrap();
        }
        let rows = s.audit_after(0, 10).await.unwrap();
        let mut forged = rows[2].record.clone();
        forged.operator = "nobody".into();
        let hash = chain_hash(&rows[2].prev_hash, 3, &forged);
        raw(&url, &format!("UPDATE audit_log SET operator = 'nobody', hash = '{hash}' WHERE seq = 3")).await;
        assert_eq!(verify(&s).await, vec![ChainProblem::Unkeyed { seq: 3 }], "an edit hashed again without the key");
        let v = verify_audit(&s, &key()).await.unwrap();
        assert_eq!((v.problems.len(), v.unkeyed), (1, 1));
        // Another key (a server given the wrong key file) does not verify either.
        let v = verify_audit(&s, &AuditKey::derive(b"another key")).await.unwrap();
        assert!(v.problems.contains(&ChainProblem::Altered { seq: 1 }), "{:?}", v.problems);
    })
    .await;
}

#[tokio::test]
async fn the_chain_catches_removed_and_inserted_records() {
    each_backend(|s, url| async move {
        for n in 1..=5 {
            s.append_audit(&record(n), &key()).await.unwrap();
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
            s.append_audit(&record(n), &key()).await.unwrap();
        }
        assert_eq!(s.prune_audit(1_005).await.unwrap(), 4);
        assert_eq!(s.audit_anchor().await.unwrap().0, 4);
        assert!(verify(&s).await.is_empty());
        let next = s.append_audit(&record(11), &key()).await.unwrap();
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
                        s.append_audit(&record(1000 + t * 100 + n), &key()).await.unwrap();
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

/// Appends records `from..=to`.
async fn append(s: &SqlStore, from: usize, to: usize) {
    for n in from..=to {
        s.append_audit(&record(n), &key()).await.unwrap();
    }
}

async fn from_checkpoint(s: &SqlStore, checkpoint: &Checkpoint) -> Vec<ChainProblem> {
    verify_audit_from(s, &key(), checkpoint).await.unwrap().problems
}

#[tokio::test]
async fn a_checkpoint_catches_the_oldest_records_removed_past_it() {
    each_backend(|s, url| async move {
        append(&s, 1, 5).await;
        let checkpoint = audit_checkpoint(&s).await.unwrap();
        assert_eq!(checkpoint.seq, 5);
        assert!(checkpoint.hash.starts_with(KEYED_PREFIX), "{checkpoint}");
        append(&s, 6, 10).await;
        let v = verify_audit_from(&s, &key(), &checkpoint).await.unwrap();
        assert!(v.problems.is_empty(), "{:?}", v.problems);
        assert_eq!((v.records, v.head_seq), (5, 10));

        // Whoever writes the database removes the oldest records, the checkpoint's among
        // them, and moves the anchor so that the rest verifies on its own.
        raw(&url, "DELETE FROM audit_log WHERE seq <= 7").await;
        let (seq7, hash7) = (7, s.audit_after(7, 1).await.unwrap()[0].prev_hash.clone());
        raw(&url, &format!("UPDATE audit_anchor SET seq = {seq7}, hash = '{hash7}' WHERE id = 1")).await;
        assert!(verify(&s).await.is_empty(), "inside the database, the trim does not show");
        assert_eq!(
            from_checkpoint(&s, &checkpoint).await,
            vec![ChainProblem::CheckpointPruned { seq: 5, anchor_seq: 7 }]
        );
    })
    .await;
}

#[tokio::test]
async fn a_checkpoint_catches_its_record_removed_or_the_chain_rewritten() {
    each_backend(|s, url| async move {
        append(&s, 1, 6).await;
        let checkpoint = Checkpoint { seq: 4, hash: s.audit_after(3, 1).await.unwrap()[0].hash.clone() };
        raw(&url, "DELETE FROM audit_log WHERE seq <= 4").await;
        assert_eq!(from_checkpoint(&s, &checkpoint).await, vec![ChainProblem::CheckpointMissing { seq: 4 }]);
    })
    .await;
    each_backend(|s, url| async move {
        append(&s, 1, 6).await;
        let checkpoint = audit_checkpoint(&s).await.unwrap();
        // The whole chain rewritten without the key, from its first record, unkeyed: a
        // valid version 1 chain, which only the checkpoint kept elsewhere exposes.
        let rows = s.audit_after(0, 100).await.unwrap();
        let mut prev = String::new();
        for row in &rows {
            let mut r = row.record.clone();
            r.operator = "nobody".into();
            let hash = chain_hash(&prev, row.seq, &r);
            raw(
                &url,
                &format!(
                    "UPDATE audit_log SET operator = 'nobody', prev_hash = '{prev}', hash = '{hash}' WHERE seq = {}",
                    row.seq
                ),
            )
            .await;
            prev = hash;
        }
        let v = verify_audit(&s, &key()).await.unwrap();
        assert!(v.problems.is_empty() && v.unkeyed == 6, "{v:?}");
        assert_eq!(from_checkpoint(&s, &checkpoint).await, vec![ChainProblem::CheckpointMismatch { seq: 6 }]);
    })
    .await;
}

#[tokio::test]
async fn pruning_before_a_checkpoint_keeps_it_checkable_and_pruning_past_it_does_not() {
    each_backend(|s, _| async move {
        append(&s, 1, 5).await;
        let checkpoint = audit_checkpoint(&s).await.unwrap();
        append(&s, 6, 10).await;
        // Records 1..=3 pruned: the checkpoint (5) is still in the log.
        assert_eq!(s.prune_audit(1_004).await.unwrap(), 3);
        assert!(from_checkpoint(&s, &checkpoint).await.is_empty());
        // Pruned up to the checkpoint's record itself: the anchor keeps its hash.
        assert_eq!(s.prune_audit(1_006).await.unwrap(), 2);
        assert!(from_checkpoint(&s, &checkpoint).await.is_empty());
        // Pruned past it: it can no longer be checked, and says so.
        s.prune_audit(1_008).await.unwrap();
        let problems = from_checkpoint(&s, &checkpoint).await;
        assert_eq!(problems, vec![ChainProblem::CheckpointPruned { seq: 5, anchor_seq: 7 }]);
        assert!(problems[0].to_string().contains("older than the retention cannot be checked"), "{}", problems[0]);
        assert!(verify(&s).await.is_empty());
    })
    .await;
}
