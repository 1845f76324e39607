//! The job queue: claims are exclusive under concurrency, leases expire and are taken
//! again, priorities order the work, one active job per subject, retries and cancels.

use std::collections::HashMap;
use std::sync::Arc;

use store::*;

use crate::support::each_backend;

fn job(n: usize, priority: i64) -> NewJob {
    NewJob {
        id: format!("job-{n}"),
        kind: "scan-image".into(),
        subject: format!("sha256:{n:064}"),
        payload: "{}".into(),
        priority,
        max_attempts: 3,
        run_after: 0,
        created_by: "test".into(),
    }
}

fn claim(owner: &str, now: i64) -> Claim<'_> {
    Claim { owner, now, lease_ms: 60_000, max_priority: 2 }
}

#[tokio::test]
async fn concurrent_workers_never_claim_one_job_twice() {
    each_backend(|s, url| async move {
        for n in 0..60 {
            s.enqueue_job(&job(n, 1)).await.unwrap();
        }
        // Four workers, each with its own connection pool (as separate processes would be).
        let mut tasks = Vec::new();
        for w in 0..4 {
            let store = Arc::new(store::open(&url).await.unwrap());
            tasks.push(tokio::spawn(async move {
                let owner = format!("w{w}");
                let mut got = Vec::new();
                while let Some(j) = store.claim_job(claim(&owner, 1_000)).await.unwrap() {
                    assert!(store.finish_job(&j.id, &owner, &JobEnd::Done).await.unwrap());
                    got.push(j.id);
                }
                got
            }));
        }
        let mut seen: HashMap<String, usize> = HashMap::new();
        for t in tasks {
            for id in t.await.unwrap() {
                *seen.entry(id).or_default() += 1;
            }
        }
        assert_eq!(seen.len(), 60, "every job ran");
        assert!(seen.values().all(|&n| n == 1), "a job ran twice: {seen:?}");
        let (done, total) = s
            .list_jobs(&JobFilter { state: Some("done".into()), ..Default::default() }, &PageReq::default())
            .await
            .unwrap();
        assert_eq!((done.len(), total), (50, 60));
    })
    .await;
}

#[tokio::test]
async fn an_expired_lease_is_claimed_again_and_the_old_owner_cannot_finish() {
    each_backend(|s, _| async move {
        s.enqueue_job(&job(1, 1)).await.unwrap();
        let first = s.claim_job(claim("dead", 1_000)).await.unwrap().unwrap();
        assert_eq!((first.state.as_str(), first.attempts), ("running", 1));
        // Within the lease nobody else takes it.
        assert!(s.claim_job(claim("other", 30_000)).await.unwrap().is_none());
        // The owner that died never renews; after the lease another worker takes it.
        let again = s.claim_job(claim("other", 61_001)).await.unwrap().unwrap();
        assert_eq!((again.id.as_str(), again.lease_owner.as_str(), again.attempts), ("job-1", "other", 2));
        assert_eq!(s.renew_job("job-1", "dead", 200_000).await.unwrap(), None);
        assert!(!s.finish_job("job-1", "dead", &JobEnd::Done).await.unwrap());
        assert_eq!(s.renew_job("job-1", "other", 200_000).await.unwrap(), Some(false));
        assert!(s.finish_job("job-1", "other", &JobEnd::Done).await.unwrap());
        assert_eq!(s.job("job-1").await.unwrap().unwrap().state, "done");
    })
    .await;
}

#[tokio::test]
async fn urgent_work_first_and_a_reserved_claim_skips_scheduled_work() {
    each_backend(|s, _| async move {
        s.enqueue_job(&job(1, 2)).await.unwrap();
        s.enqueue_job(&job(2, 1)).await.unwrap();
        s.enqueue_job(&job(3, 0)).await.unwrap();
        let reserved = Claim { owner: "r", now: 1_000, lease_ms: 60_000, max_priority: 1 };
        assert_eq!(s.claim_job(reserved).await.unwrap().unwrap().id, "job-3");
        assert_eq!(s.claim_job(reserved).await.unwrap().unwrap().id, "job-2");
        assert!(s.claim_job(reserved).await.unwrap().is_none(), "scheduled work is not for the reserved worker");
        assert_eq!(s.claim_job(claim("any", 1_000)).await.unwrap().unwrap().id, "job-1");
    })
    .await;
}

#[tokio::test]
async fn one_active_job_per_subject_and_a_manual_request_raises_its_priority() {
    each_backend(|s, _| async move {
        let (id, new) = s.enqueue_job(&job(1, 2)).await.unwrap();
        assert_eq!((id.as_str(), new), ("job-1", true));
        let mut again = job(1, 0);
        again.id = "job-1b".into();
        let (id, new) = s.enqueue_job(&again).await.unwrap();
        assert_eq!((id.as_str(), new), ("job-1", false));
        assert_eq!(s.job("job-1").await.unwrap().unwrap().priority, 0);
        assert_eq!(s.active_jobs("scan-image").await.unwrap(), 1);
        // Once done, the same subject can be queued again.
        let j = s.claim_job(claim("w", 1_000)).await.unwrap().unwrap();
        s.finish_job(&j.id, "w", &JobEnd::Done).await.unwrap();
        let (id, new) = s.enqueue_job(&again).await.unwrap();
        assert_eq!((id.as_str(), new), ("job-1b", true));
    })
    .await;
}

#[tokio::test]
async fn retries_wait_their_backoff_and_cancels_stop_queued_and_running_jobs() {
    each_backend(|s, _| async move {
        s.enqueue_job(&job(1, 1)).await.unwrap();
        let j = s.claim_job(claim("w", 1_000)).await.unwrap().unwrap();
        let retry = JobEnd::Retry { at: 31_000, error: "registry unreachable".into() };
        assert!(s.finish_job(&j.id, "w", &retry).await.unwrap());
        let queued = s.job("job-1").await.unwrap().unwrap();
        assert_eq!((queued.state.as_str(), queued.error.as_str()), ("queued", "registry unreachable"));
        assert!(s.claim_job(claim("w", 30_000)).await.unwrap().is_none(), "not before its backoff");
        let j = s.claim_job(claim("w", 31_000)).await.unwrap().unwrap();
        assert_eq!(j.attempts, 2);
        // A running job is asked to stop; its renewal says so.
        assert!(s.cancel_job("job-1").await.unwrap().unwrap().cancel_requested);
        assert_eq!(s.renew_job("job-1", "w", 100_000).await.unwrap(), Some(true));
        s.finish_job("job-1", "w", &JobEnd::Cancelled).await.unwrap();
        assert_eq!(s.job("job-1").await.unwrap().unwrap().state, "cancelled");
        // A queued job is cancelled at once and never claimed.
        s.enqueue_job(&job(2, 1)).await.unwrap();
        assert_eq!(s.cancel_job("job-2").await.unwrap().unwrap().state, "cancelled");
        assert!(s.claim_job(claim("w", 1_000_000)).await.unwrap().is_none());
        assert!(s.cancel_job("nope").await.unwrap().is_none());
    })
    .await;
}
