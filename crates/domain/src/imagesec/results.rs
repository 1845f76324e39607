//! Stored results: a scan's report without vulnerabilities (`scan::packed`), its
//! counts, and matching it against the current database, once per database version.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use scan::Report;
use scan::vulns::VulnReport;
use store::{BaselineRow, Detections, FindingRow, FoundCounts, MalwareRow, MatchCounts};

use super::ImageSecurity;
use crate::jobs::worker::Outcome;
use crate::vulns::Loaded;

/// What a report found besides vulnerabilities.
pub fn found(report: &Report) -> FoundCounts {
    let n = |x: usize| i64::try_from(x).unwrap_or(i64::MAX);
    FoundCounts {
        malware: n(report.malware.as_ref().map_or(0, |m| m.findings.len())),
        secrets: n(report.secrets.as_ref().map_or(0, Vec::len)),
        baseline_failed: n(report
            .baseline
            .as_ref()
            .map_or(0, |b| b.iter().filter(|c| c.result == detect::baseline::Outcome::Failed).count())),
        packages: n(report.inventory.packages.len()),
        size: i64::try_from(report.image.size).unwrap_or(i64::MAX),
    }
}

/// A report's malicious files and baseline results, as the lists across images keep them.
pub fn detections(report: &Report) -> Detections {
    let malware = report
        .malware
        .as_ref()
        .map(|m| {
            m.findings
                .iter()
                .map(|hit| &hit.finding)
                .map(|f| MalwareRow {
                    path: f.path.clone(),
                    rule: f.rule.clone(),
                    file_name: f.file_name.clone(),
                    category: f.category.as_str().to_owned(),
                    description: f.description.clone(),
                    severity: super::report::serde_text(&f.severity),
                    sha256: f.sha256.clone(),
                    size: i64::try_from(f.size).unwrap_or(i64::MAX),
                })
                .collect()
        })
        .unwrap_or_default();
    let baseline = report
        .baseline
        .as_ref()
        .map(|checks| {
            checks
                .iter()
                .map(|c| BaselineRow {
                    check_id: c.id.clone(),
                    title: c.title.clone(),
                    level: super::report::serde_text(&c.level),
                    method: c.method.clone(),
                    result: super::report::serde_text(&c.result),
                    problem: c.problem.clone(),
                    advice: c.advice.clone(),
                })
                .collect()
        })
        .unwrap_or_default();
    Detections { malware, baseline }
}

/// Matches a stored report's inventory against a database.
pub fn match_report(report: &Report, db: &Loaded) -> VulnReport {
    scan::vulns::check(&report.inventory, &report.image.reference, &report.image.layers, &db.options)
}

pub fn counts(v: &VulnReport) -> MatchCounts {
    let n = |x: usize| i64::try_from(x).unwrap_or(i64::MAX);
    MatchCounts {
        fix_asap: n(v.summary.fix_asap),
        can_delay: n(v.summary.can_delay),
        no_need_now: n(v.summary.no_need_now),
    }
}

/// What a match found, as the store keeps it (the views across images read these).
pub fn findings(v: &VulnReport) -> Vec<FindingRow> {
    v.findings
        .iter()
        .map(|f| FindingRow {
            vuln_id: f.id.clone(),
            vulnerability: f.vulnerability.clone(),
            cves: f.cves.clone(),
            package: f.package.clone(),
            package_type: super::report::serde_text(&f.package_type),
            purl: f.purl.clone(),
            installed_version: f.installed_version.clone(),
            fixed_version: f.fixed_version.clone().unwrap_or_default(),
            urgency: f.urgency.as_str().to_owned(),
            layer: f.layer_digest.clone().unwrap_or_default(),
        })
        .collect()
}

/// A match's counts and findings.
pub fn matched(v: &VulnReport) -> (MatchCounts, Vec<FindingRow>) {
    (counts(v), findings(v))
}

/// Matches one stored digest against `db` and records the counts.
async fn rematch_one(service: &ImageSecurity, digest: &str, db: &Arc<Loaded>) -> Result<(), String> {
    let Some(stored) = service.store.images().result(digest).await.map_err(|e| e.to_string())? else {
        return Ok(());
    };
    let db2 = db.clone();
    let ((counts, findings), found) = tokio::task::spawn_blocking(move || {
        scan::packed::unpack(&stored).map(|r| (matched(&match_report(&r, &db2)), detections(&r)))
    })
    .await
    .map_err(|e| e.to_string())??;
    // The detections do not depend on the database; kept again so that results stored
    // before they had rows of their own get them.
    service.store.detections().set_detections(digest, &found).await.map_err(|e| e.to_string())?;
    service.store.images().set_match(digest, &counts, &findings, &db.version).await.map_err(|e| e.to_string())
}

/// The rematch job: every stored result matched against another database than the
/// current one is matched again (two at a time), until none is left.
pub(crate) async fn run_rematch(service: &ImageSecurity, cancel: &Arc<AtomicBool>) -> Outcome {
    let db = match service.vulns.current() {
        Ok(db) => Arc::new(db),
        Err(e) => return Outcome::Fatal(e),
    };
    let mut matched = 0usize;
    let mut failed = Vec::new();
    loop {
        if cancel.load(Ordering::Relaxed) {
            return Outcome::Cancelled;
        }
        let batch = match service.store.images().digests_to_rematch(&db.version, 64).await {
            Ok(b) => b,
            Err(e) => return Outcome::Retry(e.to_string()),
        };
        let batch: Vec<String> = batch.into_iter().filter(|d| !failed.contains(d)).collect();
        if batch.is_empty() {
            break;
        }
        for pair in batch.chunks(2) {
            let results = match pair {
                [a, b] => {
                    let (x, y) = tokio::join!(rematch_one(service, a, &db), rematch_one(service, b, &db));
                    vec![(a, x), (b, y)]
                }
                [a] => vec![(a, rematch_one(service, a, &db).await)],
                _ => Vec::new(),
            };
            for (digest, r) in results {
                match r {
                    Ok(()) => matched += 1,
                    Err(e) => {
                        tracing::warn!(%digest, error = %e, "cannot match a stored result");
                        failed.push(digest.clone());
                    }
                }
            }
        }
    }
    tracing::info!(matched, failed = failed.len(), version = %db.version, "stored results matched again");
    // The views across images are brought up to date now rather than at their next read.
    service.refresh_views().await;
    if failed.is_empty() {
        Outcome::Done
    } else {
        Outcome::Fatal(format!("{} stored results could not be read", failed.len()))
    }
}
