//! Decisions to ignore a vulnerability (SPEC 3.1–3.3 "ignore"): for all images, for one
//! version, or for every version of a repository so that the decision carries to the next
//! tag. Each says why (not affected with a VEX justification, accepted risk, false
//! positive), who and when, and may lapse at a date or once a fix is available.

use api::vulns::{IgnoreDecision, IgnoreRequest, UnignoreRequest};
use store::IgnoreRow;

use super::ImageSecurity;
use crate::{DomainError, Result, now_ms, rfc3339};

/// The kinds of decision.
pub const KINDS: [&str; 3] = ["accepted-risk", "not-affected", "false-positive"];
/// OpenVEX / CycloneDX justifications of `not-affected`.
pub const JUSTIFICATIONS: [&str; 5] = [
    "component_not_present",
    "vulnerable_code_not_present",
    "vulnerable_code_not_in_execute_path",
    "vulnerable_code_cannot_be_controlled_by_adversary",
    "inline_mitigations_already_exist",
];

fn check_vuln_id(id: &str) -> Result<()> {
    let n = id.chars().count();
    if !(1..=200).contains(&n) || id.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(DomainError::invalid("id", "a vulnerability id: 1-200 characters, no spaces"));
    }
    Ok(())
}

pub fn to_api(g: &IgnoreRow, now: i64) -> IgnoreDecision {
    IgnoreDecision {
        id: g.id.clone(),
        vulnerability: g.vuln_id.clone(),
        scope: g.scope.clone(),
        subject: g.subject.clone(),
        kind: g.kind.clone(),
        justification: g.justification.clone(),
        reason: g.reason.clone(),
        author: g.author.clone(),
        created_at: rfc3339(g.created_at),
        expires_at: g.expires_at.map(rfc3339),
        until_fixed: g.until_fixed,
        active: g.expires_at.is_none_or(|t| t > now),
    }
}

fn parse_time(s: &str) -> Option<i64> {
    let t = time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).ok()?;
    i64::try_from(t.unix_timestamp_nanos() / 1_000_000).ok()
}

impl ImageSecurity {
    /// (scope, subject) of a decision about `image_id` (none: all images).
    async fn scope_of(&self, image_id: Option<&str>, scope: Option<&str>) -> Result<(String, String)> {
        match (image_id, scope) {
            (None, None | Some("all")) => Ok(("all".into(), String::new())),
            (None, Some(_)) => Err(DomainError::invalid("scope", "'version' or 'repository' needs an image_id")),
            (Some(id), scope @ (None | Some("version") | Some("repository"))) => {
                let entry = self.entry(id).await?;
                Ok(match scope {
                    Some("repository") => ("repository".into(), entry.image.id),
                    _ => ("version".into(), entry.version.id),
                })
            }
            (Some(_), Some(_)) => Err(DomainError::invalid("scope", "is 'version' or 'repository'")),
        }
    }

    /// Records a decision to ignore `vuln_id` (replacing one of the same scope).
    pub async fn ignore(&self, vuln_id: &str, req: &IgnoreRequest, by: &str) -> Result<IgnoreDecision> {
        check_vuln_id(vuln_id)?;
        let kind = req.kind.clone().unwrap_or_else(|| "accepted-risk".into());
        if !KINDS.contains(&kind.as_str()) {
            return Err(DomainError::invalid("kind", "is 'accepted-risk', 'not-affected' or 'false-positive'"));
        }
        let justification = req.justification.clone().unwrap_or_default();
        match (kind.as_str(), justification.as_str()) {
            ("not-affected", j) if !JUSTIFICATIONS.contains(&j) => {
                return Err(DomainError::invalid(
                    "justification",
                    format!("not-affected needs one of {JUSTIFICATIONS:?}"),
                ));
            }
            (k, j) if k != "not-affected" && !j.is_empty() => {
                return Err(DomainError::invalid("justification", "only a not-affected decision has one"));
            }
            _ => {}
        }
        let reason = req.reason.clone().unwrap_or_default();
        if reason.chars().count() > 1000 {
            return Err(DomainError::invalid("reason", "at most 1000 characters"));
        }
        let now = now_ms();
        let expires_at = match &req.expires_at {
            None => None,
            Some(t) => match parse_time(t) {
                Some(ms) if ms > now => Some(ms),
                Some(_) => return Err(DomainError::invalid("expires_at", "is in the past")),
                None => return Err(DomainError::invalid("expires_at", "is an RFC 3339 time")),
            },
        };
        let (scope, subject) = self.scope_of(req.image_id.as_deref(), req.scope.as_deref()).await?;
        let row = IgnoreRow {
            id: uuid::Uuid::new_v4().to_string(),
            vuln_id: vuln_id.to_owned(),
            scope,
            subject,
            kind,
            justification,
            reason,
            author: by.to_owned(),
            created_at: now,
            expires_at,
            until_fixed: req.until_fixed,
        };
        let stored = self.store.ignores().put_ignore(&row).await?;
        self.refresh_views().await;
        Ok(to_api(&stored, now))
    }

    /// Takes back the decision about `vuln_id` made with the same image and scope.
    pub async fn unignore(&self, vuln_id: &str, req: &UnignoreRequest) -> Result<IgnoreDecision> {
        check_vuln_id(vuln_id)?;
        let (scope, subject) = self.scope_of(req.image_id.as_deref(), req.scope.as_deref()).await?;
        let removed = self.store.ignores().remove_ignore(vuln_id, &scope, &subject).await?.ok_or_else(|| {
            DomainError::NotFound(format!("a decision to ignore {vuln_id} for {scope} {subject}").trim().to_owned())
        })?;
        self.refresh_views().await;
        Ok(to_api(&removed, now_ms()))
    }

    /// The decisions about one vulnerability.
    pub async fn decisions(&self, vuln_id: &str) -> Result<Vec<IgnoreDecision>> {
        check_vuln_id(vuln_id)?;
        let now = now_ms();
        Ok(self.store.ignores().list_ignores(Some(vuln_id), 10_000).await?.iter().map(|g| to_api(g, now)).collect())
    }
}
