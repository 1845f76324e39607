//! Vulnerabilities across images (SPEC 3.1–3.3), from the stored findings: per view, the
//! findings per urgency, the five most affected versions, and the list by vulnerability.

use api::images::UrgencyCounts;
use api::vulns::{TopImage, VulnItem, VulnListQuery, VulnSummary};
use store::{PageReq, UrgencyTally, VulnFilter};

use super::{ImageKind, ImageSecurity};
use crate::{DomainError, Result, now_ms};

fn view(s: &str) -> Result<ImageKind> {
    ImageKind::parse(s).ok_or_else(|| DomainError::invalid("view", "is 'local', 'private' or 'official'"))
}

fn counts(t: &UrgencyTally) -> UrgencyCounts {
    let n = |x: i64| u64::try_from(x).unwrap_or(0);
    UrgencyCounts { fix_asap: n(t.fix_asap), can_delay: n(t.can_delay), no_need_now: n(t.no_need_now) }
}

impl ImageSecurity {
    /// A view's findings per urgency and its five most affected versions.
    pub async fn vuln_summary(&self, view_name: &str) -> Result<VulnSummary> {
        let kind = view(view_name)?;
        let (all, top) = self.store.vuln_views().vuln_summary(kind.as_str(), 5, now_ms()).await?;
        Ok(VulnSummary {
            view: kind.as_str().into(),
            total: u64::try_from(all.total()).unwrap_or(0),
            counts: counts(&all),
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
                id: r.vuln_id,
                cves: r.cves,
                urgency: r.urgency,
                affected_images: u64::try_from(r.affected_versions).unwrap_or(0),
                ignored_images: u64::try_from(r.ignored_versions).unwrap_or(0),
                packages: r.packages,
                ignored: r.affected_versions == 0,
            })
            .collect();
        Ok((items, total))
    }
}
