//! Vulnerabilities across images (SPEC 3.1–3.3), from the stored findings: per view, the
//! findings per urgency, the five most affected versions, and the list by vulnerability.

use api::vulns::{
    AffectedImage, AffectedSoftware, AffectedVersion, CveDetail, TopImage, UrgencyShares, VulnDetail, VulnItem,
    VulnListQuery, VulnSummary,
};
use store::{PageReq, VulnFilter};

use super::parse_view as view;
use super::{ImageSecurity, urgency_counts as counts};
use crate::{DomainError, Result, now_ms};

impl ImageSecurity {
    /// A view's findings per urgency and its five most affected versions.
    pub async fn vuln_summary(&self, view_name: &str) -> Result<VulnSummary> {
        let kind = view(view_name)?;
        let (all, top) = self.store.vuln_views().vuln_summary(kind.as_str(), 5, now_ms()).await?;
        let share =
            |n: i64| if all.total() > 0 { (n as f64 * 1000.0 / all.total() as f64).round() / 10.0 } else { 0.0 };
        Ok(VulnSummary {
            view: kind.as_str().into(),
            total: u64::try_from(all.total()).unwrap_or(0),
            counts: counts(&all),
            shares: UrgencyShares {
                fix_asap: share(all.fix_asap),
                can_delay: share(all.can_delay),
                no_need_now: share(all.no_need_now),
            },
            top5: top
                .iter()
                .map(|v| TopImage {
                    image_id: v.version_id.clone(),
                    repository: v.repository.clone(),
                    tag: v.tag.clone(),
                    total: u64::try_from(v.counts.total()).unwrap_or(0),
                    counts: counts(&v.counts),
                })
                .collect(),
        })
    }

    /// A view's vulnerabilities, filtered by urgency and text.
    pub async fn vuln_list(&self, q: &VulnListQuery, page: &PageReq) -> Result<(Vec<VulnItem>, u64)> {
        let kind = view(&q.view)?;
        if let Some(u) = &q.urgency
            && !["fix-asap", "can-delay", "no-need-now"].contains(&u.as_str())
        {
            return Err(DomainError::invalid("urgency", "is 'fix-asap', 'can-delay' or 'no-need-now'"));
        }
        if q.q.as_ref().is_some_and(|t| t.chars().count() > 200) {
            return Err(DomainError::invalid("q", "at most 200 characters"));
        }
        let filter = VulnFilter { kind: kind.as_str().into(), urgency: q.urgency.clone(), text: q.q.clone() };
        let (rows, total) = self.store.vuln_views().vuln_list(&filter, page, now_ms()).await?;
        let items = rows
            .into_iter()
            .map(|r| VulnItem {
                solution: solution_text(&r.fixes),
                link: advisory_link(&r.vuln_id),
                id: r.vuln_id,
                cves: r.cves,
                urgency: r.urgency,
                affected_images: u64::try_from(r.affected_versions).unwrap_or(0),
                ignored_images: u64::try_from(r.ignored_versions).unwrap_or(0),
                ever_affected_images: u64::try_from(r.ever_versions).unwrap_or(0),
                packages: r.packages,
                ignored: r.affected_versions == 0,
            })
            .collect();
        Ok((items, total))
    }
}

/// What to do, from the fixes known (`package to version`).
fn solution_text(fixes: &[String]) -> String {
    if fixes.is_empty() {
        "No fixed version is available yet: mitigate, or ignore with a reason until one is.".to_owned()
    } else {
        format!("Upgrade {} or later, and rebuild the images.", fixes.join(", "))
    }
}

/// Where a distribution publishes an advisory.
fn advisory_link(id: &str) -> Option<String> {
    if id.starts_with("DSA-") || id.starts_with("DLA-") || id.starts_with("CVE-") {
        Some(format!("https://security-tracker.debian.org/tracker/{id}"))
    } else if id.starts_with("USN-") {
        Some(format!("https://ubuntu.com/security/notices/{id}"))
    } else if id.starts_with("GHSA-") {
        Some(format!("https://github.com/advisories/{id}"))
    } else {
        None
    }
}

impl ImageSecurity {
    /// A vulnerability's page in a view: its CVEs as the current database describes them,
    /// the solution, the affected images with their versions and software, the decisions.
    pub async fn vuln_detail(&self, vuln_id: &str, view_name: &str) -> Result<VulnDetail> {
        let kind = view(view_name)?;
        let decisions = self.decisions(vuln_id).await?;
        let rows = self.store.vuln_views().vuln_affected(kind.as_str(), vuln_id, now_ms(), 20_000).await?;
        if rows.is_empty() && decisions.is_empty() {
            return Err(DomainError::NotFound(format!("vulnerability {vuln_id:?} in the {} images", kind.as_str())));
        }
        let mut cve_ids: Vec<String> = rows.iter().flat_map(|r| r.cves.iter().cloned()).collect();
        cve_ids.sort();
        cve_ids.dedup();
        if cve_ids.is_empty() && vuln_id.starts_with("CVE-") {
            cve_ids.push(vuln_id.to_owned());
        }
        let db = self.vulns.current().ok();
        let cves = cve_ids
            .iter()
            .map(|id| {
                let record = db.as_ref().and_then(|d| d.options.source.vulnerability(id));
                let cvss = record.as_ref().and_then(vulndb::urgency::preferred_cvss);
                CveDetail {
                    id: id.clone(),
                    cvss_score: cvss.map(|c| c.base_score),
                    cvss_vector: cvss.map(|c| c.vector.clone()),
                    severity: record.as_ref().and_then(|r| r.severity.clone()),
                    published: record.as_ref().and_then(|r| r.published.clone()),
                    summary: record.as_ref().and_then(|r| r.summary.clone()),
                    description: record.as_ref().and_then(|r| r.description.clone()),
                    references: record.as_ref().map(|r| r.references.clone()).unwrap_or_default(),
                }
            })
            .collect::<Vec<_>>();
        let mut fixes: Vec<String> = rows
            .iter()
            .filter(|r| !r.fixed_version.is_empty())
            .map(|r| format!("{} to {}", r.package, r.fixed_version))
            .collect();
        fixes.sort();
        fixes.dedup();
        let solution = solution_text(&fixes);
        let link = advisory_link(vuln_id).or_else(|| cves.iter().find_map(|c| c.references.first().cloned()));
        let urgency = rows
            .iter()
            .map(|r| r.urgency.as_str())
            .min_by_key(|u| ["fix-asap", "can-delay", "no-need-now"].iter().position(|x| x == u))
            .map(str::to_owned);
        let mut images: Vec<AffectedImage> = Vec::new();
        for r in &rows {
            if images.last().is_none_or(|i| i.repository != r.repository) {
                images.push(AffectedImage {
                    repository: r.repository.clone(),
                    organisation: r.organisation.clone(),
                    affected_versions: 0,
                    versions: Vec::new(),
                });
            }
            let image = images.last_mut().expect("pushed above");
            if image.versions.last().is_none_or(|v| v.image_id != r.version_id) {
                image.versions.push(AffectedVersion {
                    image_id: r.version_id.clone(),
                    tag: r.tag.clone(),
                    size: u64::try_from(r.size).unwrap_or(0),
                    software: Vec::new(),
                    ignored: r.ignored,
                });
                image.affected_versions += 1;
            }
            let version = image.versions.last_mut().expect("pushed above");
            version.ignored &= r.ignored;
            version.software.push(AffectedSoftware {
                package: r.package.clone(),
                installed_version: r.installed_version.clone(),
                fixed_version: r.fixed_version.clone(),
                urgency: r.urgency.clone(),
            });
        }
        Ok(VulnDetail {
            id: vuln_id.to_owned(),
            view: kind.as_str().into(),
            cves,
            urgency,
            solution,
            link,
            images,
            decisions,
        })
    }
}
