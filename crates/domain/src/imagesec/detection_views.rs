//! Malicious files and baseline checks across images (SPEC 3.4, 3.5).

use api::detections::{BaselineItem, BaselineQuery, BaselineResultItem, MalwareItem, MalwareQuery};
use store::PageReq;

use super::ImageSecurity;
use super::parse_view as view;
use crate::{DomainError, Result, rfc3339};

/// What to do about a malicious file (the seed's advice).
pub const MALWARE_ADVICE: &str = "Remove the file from the image (and from the layer that adds it), rebuild and push \
     the image, then redeploy the containers that run it; find out how the file got into the build.";

impl ImageSecurity {
    /// A view's malicious files, one item per file and version.
    pub async fn malware_list(&self, q: &MalwareQuery, page: &PageReq) -> Result<(Vec<MalwareItem>, u64)> {
        let kind = view(&q.view)?;
        if q.q.as_ref().is_some_and(|t| t.chars().count() > 200) {
            return Err(DomainError::invalid("q", "at most 200 characters"));
        }
        let (rows, total) = self.store.detections().malware_list(kind.as_str(), q.q.as_deref(), page).await?;
        let items = rows
            .into_iter()
            .map(|(m, p)| MalwareItem {
                file_name: m.file_name,
                path: m.path,
                description: m.description,
                kind: m.category,
                severity: m.severity,
                sha256: m.sha256,
                size: u64::try_from(m.size).unwrap_or(0),
                rule: m.rule,
                image_kind: p.kind,
                organisation: p.organisation,
                repository: p.repository,
                image_id: p.version_id,
                tag: p.tag,
                advice: MALWARE_ADVICE.into(),
            })
            .collect();
        Ok((items, total))
    }

    fn level(level: Option<&str>) -> Result<Option<&'static str>> {
        match level.map(str::to_ascii_lowercase).as_deref() {
            None => Ok(None),
            Some("high") => Ok(Some("High")),
            Some("medium") => Ok(Some("Medium")),
            Some("low") => Ok(Some("Low")),
            Some(_) => Err(DomainError::invalid("level", "is 'High', 'Medium' or 'Low'")),
        }
    }

    /// A view's failed baseline checks, with the number of versions where each failed.
    pub async fn baseline_list(&self, q: &BaselineQuery, page: &PageReq) -> Result<(Vec<BaselineItem>, u64)> {
        let kind = view(&q.view)?;
        let level = Self::level(q.level.as_deref())?;
        let (rows, total) = self.store.detections().baseline_list(kind.as_str(), level, page).await?;
        let items = rows
            .into_iter()
            .map(|c| BaselineItem {
                id: c.check_id,
                title: c.title,
                level: c.level,
                method: c.method,
                affected_images: u64::try_from(c.failed_versions).unwrap_or(0),
            })
            .collect();
        Ok((items, total))
    }

    /// Where one check failed in a view.
    pub async fn baseline_check(
        &self,
        check_id: &str,
        q: &BaselineQuery,
        page: &PageReq,
    ) -> Result<(Vec<BaselineResultItem>, u64)> {
        let kind = view(&q.view)?;
        if check_id.is_empty() || check_id.len() > 100 {
            return Err(DomainError::invalid("id", "a check id of at most 100 characters"));
        }
        let (rows, total) = self.store.detections().baseline_check(kind.as_str(), check_id, page).await?;
        let items = rows
            .into_iter()
            .map(|(b, p, at)| BaselineResultItem {
                organisation: p.organisation,
                repository: p.repository,
                image_id: p.version_id,
                tag: p.tag,
                checked_at: rfc3339(at),
                problem: b.problem,
                advice: b.advice,
            })
            .collect();
        Ok((items, total))
    }
}
