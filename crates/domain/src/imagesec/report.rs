//! The report of one version (SPEC 5, every tab): its stored result, matched now against
//! the current database, with the policies that cover it.

use api::images::{
    ImageReport, ReportBasic, ReportFile, ReportFiles, ReportPolicy, ReportQuery, ReportSoftware, ReportVulnerability,
    SbomQuery, UrgencyCounts,
};
use std::collections::HashMap;

use super::catalog::{all_policies, policy_match, policy_names, to_api};
use super::{ImageSecurity, results};
use crate::{DomainError, Result};

pub(crate) fn serde_text<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_value(v).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()
}

fn values<T: serde::Serialize>(items: &[T]) -> Vec<serde_json::Value> {
    items.iter().filter_map(|i| serde_json::to_value(i).ok()).collect()
}

/// A version's stored report, matched against the current database (the vulnerability
/// section is absent without one).
pub struct Matched {
    pub report: scan::Report,
    pub entry: store::CatalogEntry,
}

impl ImageSecurity {
    async fn matched(&self, version_id: &str) -> Result<Matched> {
        let entry = self.entry(version_id).await?;
        let stored = self.store.images().result(&entry.version.digest).await?.ok_or_else(|| {
            DomainError::Conflict("this image has not been scanned yet: POST /api/v1/images/{id}/scan".into())
        })?;
        let db = self.vulns.current().ok();
        let report = tokio::task::spawn_blocking(move || -> Result<scan::Report, String> {
            let mut report = scan::packed::unpack(&stored)?;
            report.vulnerabilities = db.as_ref().map(|db| results::match_report(&report, db));
            Ok(report)
        })
        .await
        .map_err(|e| DomainError::Unavailable(e.to_string()))?
        .map_err(DomainError::Unavailable)?;
        Ok(Matched { report, entry })
    }

    /// The report of a version, its vulnerabilities filtered by `q`.
    pub async fn report(&self, version_id: &str, q: &ReportQuery) -> Result<ImageReport> {
        if let Some(u) = &q.urgency
            && vulndb::Urgency::parse(u).is_none()
        {
            return Err(DomainError::invalid("urgency", "one of fix-asap, can-delay, no-need-now"));
        }
        let Matched { report, entry } = self.matched(version_id).await?;
        let policies = all_policies(self.store.as_ref()).await?;
        let names = policy_names(&entry);
        let mut image = to_api(&entry, &policies);
        let findings = report.vulnerabilities.as_ref().map(|v| v.findings.as_slice()).unwrap_or_default();
        let live: Vec<_> = findings.iter().filter(|f| !f.ignored).collect();
        // Decisions to ignore (for all images, this repository or this version): such
        // findings stay listed, marked, and stop counting.
        let decisions = self.store.ignores().ignores_for(&entry.image.id, &entry.version.id).await?;
        let now = crate::now_ms();
        let decided = |f: &vulndb::Finding| {
            decisions.iter().any(|g| g.vuln_id == f.id && g.covers(f.fixed_version.as_deref().unwrap_or(""), now))
        };
        let mut counts = UrgencyCounts::default();
        for f in live.iter().filter(|f| !decided(f)) {
            match f.urgency {
                vulndb::Urgency::FixAsap => counts.fix_asap += 1,
                vulndb::Urgency::CanDelay => counts.can_delay += 1,
                vulndb::Urgency::NoNeedNow => counts.no_need_now += 1,
            }
        }
        // The report is matched now: its counts are the current ones.
        image.vulnerability_count = counts.fix_asap + counts.can_delay + counts.no_need_now;
        image.urgency_counts = counts.clone();
        let needle = q.q.as_deref().map(str::to_lowercase).filter(|s| !s.is_empty());
        let vulnerabilities = live
            .iter()
            .filter(|f| q.urgency.as_deref().is_none_or(|u| f.urgency.as_str() == u))
            .filter(|f| {
                needle.as_deref().is_none_or(|n| {
                    f.id.to_lowercase().contains(n)
                        || f.package.to_lowercase().contains(n)
                        || f.cves.iter().any(|c| c.to_lowercase().contains(n))
                })
            })
            .map(|f| ReportVulnerability {
                id: f.id.clone(),
                cves: f.cves.clone(),
                package: f.package.clone(),
                package_type: serde_text(&f.package_type),
                installed_version: f.installed_version.clone(),
                fixed_version: f.fixed_version.clone(),
                urgency: f.urgency.as_str().into(),
                layer: f.layer_digest.clone(),
                solution: f.solution.clone(),
                cvss_score: f.cvss_score,
                severity: f.severity.clone(),
                published: f.published.clone(),
                description: f.description.clone(),
                ignored: decided(f),
            })
            .collect();
        let mut per_package: HashMap<(String, String), Vec<String>> = HashMap::new();
        for f in &live {
            per_package.entry((f.purl.clone(), f.installed_version.clone())).or_default().push(f.id.clone());
        }
        let layers = &report.image.layers;
        let software = report
            .inventory
            .packages
            .iter()
            .map(|p| {
                let mut ids = per_package.get(&(p.purl.clone(), p.version.clone())).cloned().unwrap_or_default();
                ids.sort();
                ids.dedup();
                ReportSoftware {
                    name: p.name.clone(),
                    kind: serde_text(&p.kind),
                    version: p.version.clone(),
                    purl: p.purl.clone(),
                    layer: p.layer.and_then(|l| layers.get(l as usize)).cloned(),
                    vulnerability_count: ids.len() as u64,
                    vulnerabilities: ids,
                }
            })
            .collect();
        let files = &report.inventory.files;
        let os = report
            .inventory
            .os
            .as_ref()
            .filter(|o| o.is_known())
            .map(|o| format!("{} {}", o.id, o.version_id.as_deref().unwrap_or("")).trim().to_owned())
            .unwrap_or_default();
        Ok(ImageReport {
            basic: ReportBasic {
                image,
                os,
                platform: report.image.platform.clone(),
                layers: report.image.layers.clone(),
                packages: report.inventory.packages.len() as u64,
                database: report.vulnerabilities.as_ref().and_then(|v| v.database.built.clone()).unwrap_or_default(),
                urgency_counts: counts,
                warnings: report
                    .vulnerabilities
                    .as_ref()
                    .map(|v| v.warnings.clone())
                    .unwrap_or_else(|| vec!["no vulnerability database: vulnerabilities are not checked".into()]),
            },
            vulnerabilities,
            policies: policies
                .iter()
                .filter_map(|p| {
                    policy_match(p, &names).map(|m| ReportPolicy {
                        id: p.id.clone(),
                        name: p.name.clone(),
                        mode: p.mode.clone(),
                        matched: m.to_owned(),
                    })
                })
                .collect(),
            malware: report.malware.as_ref().map(|m| values(&m.findings)).unwrap_or_default(),
            software,
            files: ReportFiles {
                owned_count: files.owned_count,
                owned_bytes: files.owned_bytes,
                unowned_count: files.unowned_count,
                unowned_bytes: files.unowned_bytes,
                largest_unowned: files
                    .largest_unowned
                    .iter()
                    .map(|f| ReportFile { path: f.path.clone(), size: f.size })
                    .collect(),
            },
            baseline: report.baseline.as_deref().map(values).unwrap_or_default(),
            secrets: report.secrets.as_deref().map(values).unwrap_or_default(),
        })
    }

    /// The version's inventory as CycloneDX 1.5 (with its vulnerabilities) or SPDX 2.3
    /// JSON; returns (media type, document).
    pub async fn sbom(&self, version_id: &str, q: &SbomQuery) -> Result<(&'static str, String)> {
        let (format, media) = match q.format.as_deref().unwrap_or("cyclonedx") {
            "cyclonedx" => (scan::Format::CycloneDx, "application/vnd.cyclonedx+json"),
            "spdx" => (scan::Format::Spdx, "application/spdx+json"),
            _ => return Err(DomainError::invalid("format", "cyclonedx or spdx")),
        };
        let Matched { report, .. } = self.matched(version_id).await?;
        Ok((media, scan::render(&report, format, &scan::now_utc())))
    }
}
