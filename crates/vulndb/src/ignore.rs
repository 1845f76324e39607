//! Ignore rules (`.cguardignore.yaml`): findings a team has decided to accept. An ignored
//! finding stays in every output, marked ignored with the reason; it only stops counting
//! for exit codes and summaries. Rules expire, so that an accepted risk is looked at again.
//!
//! ```yaml
//! ignore:
//!   - id: CVE-2023-4911          # vulnerability, advisory or CVE id (required)
//!     package: glibc             # optional: package or source package name
//!     image: "registry.example.com/team/*"   # optional: image reference, `*` wildcards
//!     reason: not reachable, no setuid binaries in this image
//!     expires: 2027-01-31        # optional: the rule stops applying after this day (UTC)
//! ```

use serde::Deserialize;

use crate::matcher::Finding;

/// One rule.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IgnoreRule {
    pub id: String,
    #[serde(default)]
    pub package: Option<String>,
    #[serde(default)]
    pub image: Option<String>,
    pub reason: String,
    /// `YYYY-MM-DD`, last day the rule applies.
    #[serde(default)]
    pub expires: Option<String>,
}

/// A set of rules, as read from a file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IgnoreRules {
    #[serde(default)]
    pub ignore: Vec<IgnoreRule>,
}

/// Why a rules file was refused.
#[derive(Debug, thiserror::Error)]
pub enum IgnoreError {
    #[error("ignore rules: {0}")]
    Syntax(String),
    #[error("ignore rule {index} ({id}): {message}")]
    Rule { index: usize, id: String, message: String },
}

impl IgnoreRules {
    /// Parses YAML (JSON is YAML too). Every rule needs an id and a reason; expiry dates
    /// must be `YYYY-MM-DD`.
    pub fn parse(text: &str) -> Result<Self, IgnoreError> {
        if text.trim().is_empty() {
            return Ok(IgnoreRules::default());
        }
        let rules: IgnoreRules = serde_yaml::from_str(text).map_err(|e| IgnoreError::Syntax(e.to_string()))?;
        for (index, r) in rules.ignore.iter().enumerate() {
            let bad = |message: &str| IgnoreError::Rule { index, id: r.id.clone(), message: message.to_owned() };
            if r.id.trim().is_empty() {
                return Err(bad("`id` is empty"));
            }
            if r.reason.trim().is_empty() {
                return Err(bad("`reason` is empty: say why the finding is accepted"));
            }
            if r.expires.as_deref().is_some_and(|e| !is_date(e)) {
                return Err(bad("`expires` must be a date, YYYY-MM-DD"));
            }
        }
        Ok(rules)
    }

    /// Marks the findings these rules cover, for the image `image`, on day `today`
    /// (`YYYY-MM-DD`). Expired rules are skipped.
    pub fn apply(&self, findings: &mut [Finding], image: &str, today: &str) {
        for f in findings.iter_mut() {
            if let Some(rule) = self.ignore.iter().find(|r| r.covers(f, image, today)) {
                f.ignored = true;
                f.ignore_reason = Some(rule.reason.clone());
            }
        }
    }
}

impl IgnoreRule {
    fn covers(&self, f: &Finding, image: &str, today: &str) -> bool {
        if self.expires.as_deref().is_some_and(|e| today > e) {
            return false;
        }
        let id_matches = self.id == f.id
            || self.id == f.vulnerability
            || f.cves.iter().any(|c| c == &self.id)
            || f.advisories.iter().any(|a| a == &self.id);
        let package_matches = self.package.as_deref().is_none_or(|p| p == f.package || p == f.matched_name);
        let image_matches = self.image.as_deref().is_none_or(|pattern| wildcard(pattern, image));
        id_matches && package_matches && image_matches
    }
}

fn is_date(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter().enumerate().all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit())
}

/// `*` matches any run of characters; everything else matches itself.
fn wildcard(pattern: &str, text: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == text;
    }
    let mut rest = text;
    for (i, part) in parts.iter().enumerate() {
        if i == 0 {
            match rest.strip_prefix(part) {
                Some(r) => rest = r,
                None => return false,
            }
        } else if i == parts.len() - 1 {
            return rest.ends_with(part);
        } else {
            match rest.find(part) {
                Some(at) => rest = &rest[at + part.len()..],
                None => return false,
            }
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Status;
    use crate::urgency::Urgency;

    fn finding() -> Finding {
        Finding {
            id: "DSA-5514-1".into(),
            vulnerability: "CVE-2023-4911".into(),
            cves: vec!["CVE-2023-4911".into()],
            advisories: vec!["DSA-5514-1".into()],
            package: "libc6".into(),
            package_type: inventory::PackageType::Deb,
            purl: "pkg:deb/debian/libc6@2.36-9".into(),
            installed_version: "2.36-9".into(),
            matched_name: "glibc".into(),
            ecosystem: "debian:12".into(),
            fixed_version: Some("2.36-9+deb12u3".into()),
            status: Status::Fixed,
            cvss_score: Some(7.8),
            cvss_vector: None,
            severity: None,
            distro_urgency: None,
            published: None,
            description: None,
            solution: String::new(),
            layer: None,
            layer_digest: None,
            urgency: Urgency::FixAsap,
            ignored: false,
            ignore_reason: None,
        }
    }

    fn apply(yaml: &str, image: &str, today: &str) -> Finding {
        let mut f = [finding()];
        IgnoreRules::parse(yaml).unwrap().apply(&mut f, image, today);
        f[0].clone()
    }

    #[test]
    fn rules_match_by_id_package_image_and_date() {
        let rule = "ignore:\n  - id: CVE-2023-4911\n    reason: accepted\n";
        assert!(apply(rule, "app:1", "2026-01-01").ignored);
        assert_eq!(apply(rule, "app:1", "2026-01-01").ignore_reason.as_deref(), Some("accepted"));
        let by_advisory = "ignore:\n  - id: DSA-5514-1\n    package: glibc\n    reason: r\n";
        assert!(apply(by_advisory, "app:1", "2026-01-01").ignored);
        let other_pkg = "ignore:\n  - id: CVE-2023-4911\n    package: openssl\n    reason: r\n";
        assert!(!apply(other_pkg, "app:1", "2026-01-01").ignored);
        let image = "ignore:\n  - id: CVE-2023-4911\n    image: 'registry/team/*:1'\n    reason: r\n";
        assert!(apply(image, "registry/team/app:1", "2026-01-01").ignored);
        assert!(!apply(image, "registry/other/app:1", "2026-01-01").ignored);
        let expiring = "ignore:\n  - id: CVE-2023-4911\n    reason: r\n    expires: 2026-06-30\n";
        assert!(apply(expiring, "x", "2026-06-30").ignored);
        assert!(!apply(expiring, "x", "2026-07-01").ignored);
    }

    #[test]
    fn bad_rules_are_clear_errors() {
        let e = IgnoreRules::parse("ignore:\n  - id: CVE-1\n").unwrap_err().to_string();
        assert!(e.contains("reason"), "{e}");
        let e = IgnoreRules::parse("ignore:\n  - id: CVE-1\n    reason: ' '\n").unwrap_err().to_string();
        assert!(e.contains("ignore rule 0 (CVE-1)"), "{e}");
        let e = IgnoreRules::parse("ignore:\n  - id: CVE-1\n    reason: r\n    expires: soon\n").unwrap_err();
        assert!(e.to_string().contains("YYYY-MM-DD"));
        assert!(IgnoreRules::parse("ignore:\n  - id: CVE-1\n    reason: r\n    typo: 1\n").is_err());
        assert_eq!(IgnoreRules::parse("").unwrap(), IgnoreRules::default());
    }

    #[test]
    fn wildcards() {
        assert!(wildcard("*", "anything"));
        assert!(wildcard("a*c", "abbc"));
        assert!(!wildcard("a*c", "abbd"));
        assert!(wildcard("reg/*/app:*", "reg/team/app:1.0"));
        assert!(!wildcard("exact", "exactly"));
    }
}
