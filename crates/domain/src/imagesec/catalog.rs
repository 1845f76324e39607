//! The catalogue as the API shows it: one item per version, with its scan's state and
//! counts and the policies whose associated names cover it.

use api::images::{ImageQuery, ImageVersion, UrgencyCounts};
use store::{CatalogEntry, CatalogFilter, PageReq, SecurityPolicyRow, Store};

use super::{ImageKind, ImageSecurity, ScanStatus};
use crate::{DomainError, Result, rfc3339};

/// The names under which a policy can be associated with a version: with and without the
/// registry host, by tag, by repository (every tag) and by digest.
pub fn policy_names(entry: &CatalogEntry) -> Vec<String> {
    let mut bases = vec![entry.image.repository.clone()];
    if !entry.image.registry_host.is_empty() {
        bases.push(format!("{}/{}", entry.image.registry_host, entry.image.repository));
    }
    let mut names = Vec::new();
    for base in bases {
        names.push(format!("{base}:{}", entry.version.tag));
        names.push(format!("{base}@{}", entry.version.digest));
        names.push(base);
    }
    names
}

/// The first of a policy's images that covers the version.
pub fn policy_match<'a>(policy: &'a SecurityPolicyRow, names: &[String]) -> Option<&'a str> {
    policy.images.iter().find(|i| names.contains(i)).map(String::as_str)
}

/// Every security policy with its images.
pub async fn all_policies(store: &dyn Store) -> Result<Vec<SecurityPolicyRow>> {
    crate::every(None, |page| async move { store.list_security_policies(&page).await }).await
}

pub fn to_api(entry: &CatalogEntry, policies: &[SecurityPolicyRow]) -> ImageVersion {
    let status = ScanStatus::of(entry.scan.as_ref());
    let u = |x: i64| u64::try_from(x).unwrap_or(0);
    let counts = entry.scan.as_ref().map_or_else(UrgencyCounts::default, |s| UrgencyCounts {
        fix_asap: u(s.fix_asap),
        can_delay: u(s.can_delay),
        no_need_now: u(s.no_need_now),
    });
    let names = policy_names(entry);
    ImageVersion {
        id: entry.version.id.clone(),
        image_id: entry.image.id.clone(),
        kind: entry.image.kind.clone(),
        registry_id: entry.image.registry_id.clone(),
        registry: entry.image.registry_host.clone(),
        repository: entry.image.repository.clone(),
        organisation: entry.image.organisation.clone(),
        tag: entry.version.tag.clone(),
        digest: entry.version.digest.clone(),
        size: u(entry.version.size),
        last_update: Some(rfc3339(entry.version.pushed_at.unwrap_or(entry.version.seen_at))),
        scan_status: status.as_str().into(),
        scan_error: match &status {
            ScanStatus::Failed { reason } => reason.clone(),
            _ => entry.scan.as_ref().map(|s| s.error.clone()).unwrap_or_default(),
        },
        scanned_at: entry.scan.as_ref().and_then(|s| s.scanned_at).map(rfc3339),
        vulnerability_count: counts.fix_asap + counts.can_delay + counts.no_need_now,
        urgency_counts: counts,
        malware_count: entry.scan.as_ref().map_or(0, |s| u(s.malware)),
        policy_count: policies.iter().filter(|p| policy_match(p, &names).is_some()).count() as u64,
    }
}

impl ImageSecurity {
    pub async fn list_images(&self, q: &ImageQuery, page: &PageReq) -> Result<(Vec<ImageVersion>, u64)> {
        if let Some(kind) = &q.kind
            && ImageKind::parse(kind).is_none()
        {
            return Err(DomainError::invalid("kind", "one of local, private, official"));
        }
        if let Some(s) = &q.scan_status
            && !ScanStatus::NAMES.contains(&s.as_str())
        {
            return Err(DomainError::invalid("scan_status", "one of not-scanned, scanning, completed, failed"));
        }
        if q.q.as_ref().is_some_and(|t| t.len() > 256) {
            return Err(DomainError::invalid("q", "at most 256 characters"));
        }
        let filter = CatalogFilter {
            kind: q.kind.clone(),
            registry_id: q.registry_id.clone(),
            text: q.q.clone(),
            image_id: None,
            status: q.scan_status.clone(),
        };
        let (rows, total) = self.store.images().list_catalog(&filter, page).await?;
        let policies = all_policies(self.store.as_ref()).await?;
        let mut items: Vec<ImageVersion> = rows.iter().map(|e| to_api(e, &policies)).collect();
        self.count_findings(&mut items).await?;
        Ok((items, total))
    }

    pub async fn image_version(&self, id: &str) -> Result<ImageVersion> {
        let entry = self.entry(id).await?;
        let policies = all_policies(self.store.as_ref()).await?;
        let mut items = [to_api(&entry, &policies)];
        self.count_findings(&mut items).await?;
        let [item] = items;
        Ok(item)
    }

    /// Sets the counts of scanned versions from their current findings, less those a
    /// decision ignores, as the views across images count them.
    async fn count_findings(&self, items: &mut [ImageVersion]) -> Result<()> {
        let scanned: Vec<String> = items.iter().filter(|i| i.scanned_at.is_some()).map(|i| i.id.clone()).collect();
        let tallies = self.store.vuln_views().version_counts(&scanned, crate::now_ms()).await?;
        for item in items.iter_mut().filter(|i| i.scanned_at.is_some()) {
            let t = tallies.iter().find(|(id, _)| *id == item.id).map(|(_, t)| *t).unwrap_or_default();
            item.urgency_counts = super::urgency_counts(&t);
            item.vulnerability_count = u64::try_from(t.total()).unwrap_or(0);
        }
        Ok(())
    }

    pub(crate) async fn entry(&self, id: &str) -> Result<CatalogEntry> {
        self.store
            .images()
            .version(id)
            .await?
            .ok_or_else(|| DomainError::NotFound(format!("image {:?}", id.chars().take(80).collect::<String>())))
    }
}
