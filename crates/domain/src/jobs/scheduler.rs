//! Periodic work, queued as jobs: the daily full detection (SPEC 1.3: sync every registry,
//! scan what is new or changed, match every stored result against the current database),
//! registry syncs on their own intervals, and matching again when a new vulnerability
//! database appears. Every replica runs the scheduler; the queue's one-active-job-per-subject
//! rule and a record per day make each piece of work happen once.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

use super::{JobKind, Priority, enqueue};
use crate::imagesec::ImageSecurity;

#[derive(Debug, Clone)]
pub struct ScheduleConfig {
    /// Time of day (UTC) of the daily full detection: (hour, minute).
    pub daily_at: (u8, u8),
    /// How often the scheduler looks.
    pub tick: Duration,
}

impl Default for ScheduleConfig {
    fn default() -> Self {
        ScheduleConfig { daily_at: (3, 0), tick: Duration::from_secs(30) }
    }
}

/// Parses `HH:MM`.
pub fn parse_time_of_day(s: &str) -> Option<(u8, u8)> {
    let (h, m) = s.split_once(':')?;
    let (h, m): (u8, u8) = (h.parse().ok()?, m.parse().ok()?);
    (h < 24 && m < 60 && s.len() == 5).then_some((h, m))
}

/// Runs until `shutdown` turns true.
pub async fn run(service: Arc<ImageSecurity>, config: ScheduleConfig, mut shutdown: watch::Receiver<bool>) {
    while !*shutdown.borrow() {
        if let Err(e) = tick(&service, &config, crate::now_ms()).await {
            tracing::warn!(error = %e, "scheduler");
        }
        tokio::select! {
            _ = tokio::time::sleep(config.tick) => {}
            // A dropped sender is a shutdown too.
            changed = shutdown.changed() => if changed.is_err() { return },
        }
    }
}

/// One look at what is due at `now` (ms).
pub async fn tick(service: &ImageSecurity, config: &ScheduleConfig, now: i64) -> crate::Result<()> {
    let store = service.store.as_ref();
    let day_ms = 86_400_000;
    let today = now.div_euclid(day_ms);
    let due = today * day_ms + (i64::from(config.daily_at.0) * 60 + i64::from(config.daily_at.1)) * 60_000;
    // The first replica to record the day runs it.
    let daily =
        now >= due && store.put_setting_if_absent(&format!("daily-detection:{today}"), &crate::rfc3339(now)).await?;
    if daily {
        tracing::info!("daily full detection: syncing every registry and matching every result again");
    }
    let registries = crate::imagesec::registries::all(store).await?;
    for r in &registries {
        let interval = r.sync_interval_hours * 3_600_000;
        let stale = interval > 0 && r.last_sync_at.is_none_or(|at| now - at >= interval);
        if (daily || stale) && r.sync_state != "syncing" {
            enqueue(store, JobKind::SyncRegistry, &r.id, Priority::Scheduled, "scheduler").await?;
        }
    }
    if let Ok(db) = service.vulns.current()
        && !store.images().digests_to_rematch(&db.version, 1).await?.is_empty()
    {
        let priority = if daily { Priority::Scheduled } else { Priority::New };
        enqueue(store, JobKind::Rematch, &db.version, priority, "scheduler").await?;
    }
    // Local images seen and decisions that lapsed since: the views' next reads stay cheap.
    service.refresh_views().await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_of_day() {
        assert_eq!(parse_time_of_day("03:00"), Some((3, 0)));
        assert_eq!(parse_time_of_day("23:59"), Some((23, 59)));
        assert_eq!(parse_time_of_day("24:00"), None);
        assert_eq!(parse_time_of_day("3:00"), None);
        assert_eq!(parse_time_of_day("x"), None);
    }
}
