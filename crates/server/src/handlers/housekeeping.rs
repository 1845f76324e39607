//! Periodic work, run by exactly one replica at a time (a lease in the store): audit
//! retention and quota states.

use std::time::Duration;

use crate::state::AppState;
use crate::timefmt::{DAY_MS, now_ms};

const JOB: &str = "housekeeping";
const PERIOD: Duration = Duration::from_secs(60);
/// Days a quota stays `expired` before it is `frozen`.
const EXPIRED_DAYS: i64 = 15;

pub async fn run(st: AppState) {
    loop {
        if let Err(e) = once(&st).await {
            tracing::warn!(error = %e, "housekeeping failed; retrying in a minute");
        }
        tokio::time::sleep(PERIOD).await;
    }
}

/// Counts the current hour for every online node of a protected cluster beyond the
/// normal quotas (nodes are ranked by enrolment time, as the node list shows them).
async fn record_on_demand(st: &AppState, now: i64) -> Result<(), crate::ApiError> {
    let view = super::clusters::NodeView::new(st).await?;
    let (clusters, _) = st.store.list_clusters(&store::PageReq { limit: 1000, ..Default::default() }).await?;
    let protected: std::collections::HashSet<String> =
        clusters.into_iter().filter(|c| c.protection).map(|c| c.id).collect();
    let on_demand: Vec<String> = super::clusters::every_node(st)
        .await?
        .iter()
        .filter(|n| protected.contains(&n.cluster_id))
        .map(|n| view.to_api(n))
        .filter(|n| n.billing == "on-demand" && n.shield_state == "online")
        .map(|n| n.id)
        .collect();
    if !on_demand.is_empty() {
        st.store.record_on_demand_hour(&on_demand, now - now.rem_euclid(3_600_000)).await?;
    }
    Ok(())
}

/// One round, if this replica holds the lease.
pub async fn once(st: &AppState) -> Result<(), crate::ApiError> {
    let now = now_ms();
    if !st.store.try_lease(JOB, &st.instance, now, now + 5 * 60_000).await? {
        return Ok(());
    }
    let keep = i64::from(st.config.audit_retention_days) * DAY_MS;
    let pruned = st.store.prune_audit(now - keep).await?;
    if pruned > 0 {
        tracing::info!(pruned, "removed audit records past retention");
    }
    record_on_demand(st, now).await?;
    for mut q in super::quotas::all_quotas(st).await? {
        let before = q.clone();
        if q.state == "normal" && q.expires_at <= now {
            if q.auto_renew {
                q.expires_at += super::quotas::duration_ms(u32::try_from(q.months).unwrap_or(1));
            } else {
                q.state = "expired".into();
            }
        }
        if q.state == "expired" && q.expires_at + EXPIRED_DAYS * DAY_MS <= now {
            q.state = "frozen".into();
            q.frozen_at = Some(now);
        }
        let grace = i64::from(st.config.frozen_grace_days) * DAY_MS;
        if q.state == "frozen" && q.frozen_at.is_some_and(|t| t + grace <= now) {
            st.store.delete_quota(&q.id).await?;
            continue;
        }
        if q != before {
            st.store.update_quota(&q).await?;
        }
    }
    Ok(())
}
