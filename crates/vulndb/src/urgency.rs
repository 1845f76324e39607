//! Urgency: `fix-asap`, `can-delay` or `no-need-now` for every finding, by a documented rule
//! (docs/urgency.md) that configuration can adjust.
//!
//! The rule, in short: a finding's *severity* is the stronger of its CVSS base score and the
//! distribution's own urgency, except that a distribution rating of `low` caps a high CVSS
//! score at medium (the distribution has looked at its package; NVD scores the upstream
//! code in the worst configuration). With a fix available, critical and high mean
//! `fix-asap`, medium `can-delay`, low `no-need-now`. Without a fix there is nothing to do
//! now: `no-need-now`, unless the severity reaches `no_fix_watch_from` (default critical),
//! which makes it `can-delay` so that it stays in view. `unimportant` and not-affected
//! entries never become findings.

use serde::{Deserialize, Serialize};

use crate::model::{Affected, Cvss, Status, Vulnerability};

/// How soon a finding should be fixed (SPEC terms).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Urgency {
    FixAsap,
    CanDelay,
    NoNeedNow,
}

impl Urgency {
    pub fn as_str(self) -> &'static str {
        match self {
            Urgency::FixAsap => "fix-asap",
            Urgency::CanDelay => "can-delay",
            Urgency::NoNeedNow => "no-need-now",
        }
    }

    /// Parses `fix-asap`, `can-delay` or `no-need-now`.
    pub fn parse(s: &str) -> Option<Urgency> {
        match s {
            "fix-asap" => Some(Urgency::FixAsap),
            "can-delay" => Some(Urgency::CanDelay),
            "no-need-now" => Some(Urgency::NoNeedNow),
            _ => None,
        }
    }

    /// Whether this urgency is at least as pressing as `threshold`.
    pub fn at_least(self, threshold: Urgency) -> bool {
        self <= threshold
    }
}

/// A severity level, from CVSS or a distribution's word.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Level {
    Unknown,
    Low,
    Medium,
    High,
    Critical,
}

impl Level {
    /// CVSS v3/v4 qualitative rating of a base score.
    pub fn from_score(score: f64) -> Level {
        match score {
            s if s >= 9.0 => Level::Critical,
            s if s >= 7.0 => Level::High,
            s if s >= 4.0 => Level::Medium,
            s if s > 0.0 => Level::Low,
            _ => Level::Unknown,
        }
    }

    /// A distribution's or advisory's severity word.
    pub fn from_word(word: &str) -> Level {
        match word.trim().trim_end_matches('*').trim().to_ascii_lowercase().as_str() {
            "critical" | "emergency" => Level::Critical,
            "high" | "important" => Level::High,
            "medium" | "moderate" => Level::Medium,
            "low" | "negligible" | "unimportant" => Level::Low,
            _ => Level::Unknown,
        }
    }
}

/// The urgency rule's settings. The defaults are the documented rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct UrgencyPolicy {
    /// With a fix, this severity and above is `fix-asap`.
    pub fix_asap_from: Level,
    /// With a fix, this severity and above (below `fix_asap_from`) is `can-delay`.
    pub can_delay_from: Level,
    /// Without a fix, this severity and above is `can-delay` (else `no-need-now`).
    pub no_fix_watch_from: Level,
    /// Severity assumed when neither CVSS nor the distribution gives one.
    pub unknown_as: Level,
    /// Whether a distribution's `low` caps a high CVSS score at medium.
    pub trust_distro_low: bool,
}

impl Default for UrgencyPolicy {
    fn default() -> Self {
        UrgencyPolicy {
            fix_asap_from: Level::High,
            can_delay_from: Level::Medium,
            no_fix_watch_from: Level::Critical,
            unknown_as: Level::Medium,
            trust_distro_low: true,
        }
    }
}

impl UrgencyPolicy {
    /// The severity the rule uses for `entry` of `vuln`.
    pub fn severity(&self, entry: &Affected, vuln: Option<&Vulnerability>) -> Level {
        let cvss = vuln.and_then(preferred_cvss).map(|c| Level::from_score(c.base_score)).unwrap_or(Level::Unknown);
        let word = vuln.and_then(|v| v.severity.as_deref()).map(Level::from_word).unwrap_or(Level::Unknown);
        let upstream = cvss.max(word);
        let distro = entry.distro_urgency.as_deref().map(Level::from_word).unwrap_or(Level::Unknown);
        let level = if self.trust_distro_low && distro == Level::Low && upstream >= Level::High {
            Level::Medium
        } else {
            upstream.max(distro)
        };
        if level == Level::Unknown { self.unknown_as } else { level }
    }

    /// The urgency of a finding for `entry`, with or without a fixed version.
    pub fn decide(&self, entry: &Affected, vuln: Option<&Vulnerability>, has_fix: bool) -> Urgency {
        let level = self.severity(entry, vuln);
        let fixable = has_fix && matches!(entry.status, Status::Fixed | Status::Affected);
        if !fixable {
            return if level >= self.no_fix_watch_from { Urgency::CanDelay } else { Urgency::NoNeedNow };
        }
        if level >= self.fix_asap_from {
            Urgency::FixAsap
        } else if level >= self.can_delay_from {
            Urgency::CanDelay
        } else {
            Urgency::NoNeedNow
        }
    }
}

/// The CVSS assessment findings show: the newest CVSS version, preferring NVD, then the
/// CNA, then anyone else.
pub fn preferred_cvss(v: &Vulnerability) -> Option<&Cvss> {
    let rank = |c: &Cvss| {
        let version = match c.version.as_str() {
            "4.0" => 3,
            "3.1" => 2,
            "3.0" => 1,
            _ => 0,
        };
        let source = if c.source.contains("nvd") {
            2
        } else if c.source.contains("ADP") {
            0
        } else {
            1
        };
        (version, source)
    };
    v.cvss.iter().filter(|c| c.base_score > 0.0).max_by_key(|c| rank(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(status: Status, urgency: Option<&str>) -> Affected {
        Affected {
            vulnerability: "CVE-1".into(),
            ecosystem: "debian:12".into(),
            package: "x".into(),
            status,
            ranges: vec![],
            versions: vec![],
            fixed_version: None,
            distro_urgency: urgency.map(Into::into),
            advisories: vec![],
            note: None,
        }
    }

    fn vuln(score: f64) -> Vulnerability {
        Vulnerability {
            id: "CVE-1".into(),
            aliases: vec![],
            summary: None,
            description: None,
            published: None,
            modified: None,
            cvss: vec![Cvss {
                version: "3.1".into(),
                vector: "CVSS:3.1/...".into(),
                base_score: score,
                source: "nvd@nist.gov".into(),
            }],
            severity: None,
            references: vec![],
            withdrawn: false,
        }
    }

    fn check(status: Status, distro: Option<&str>, score: Option<f64>, has_fix: bool, expect: Urgency) {
        let v = score.map(vuln);
        let got = UrgencyPolicy::default().decide(&entry(status, distro), v.as_ref(), has_fix);
        assert_eq!(got, expect, "{status:?} distro={distro:?} cvss={score:?} fix={has_fix}");
    }

    #[test]
    fn the_documented_rule() {
        // Fix available: severity decides.
        check(Status::Fixed, None, Some(9.8), true, Urgency::FixAsap);
        check(Status::Fixed, None, Some(7.5), true, Urgency::FixAsap);
        check(Status::Fixed, None, Some(5.3), true, Urgency::CanDelay);
        check(Status::Fixed, None, Some(3.1), true, Urgency::NoNeedNow);
        // The distribution's word counts; its `low` caps a high score at medium.
        check(Status::Fixed, Some("high"), Some(5.3), true, Urgency::FixAsap);
        check(Status::Fixed, Some("low"), Some(9.8), true, Urgency::CanDelay);
        check(Status::Fixed, Some("low"), None, true, Urgency::NoNeedNow);
        // Nothing known: medium.
        check(Status::Fixed, None, None, true, Urgency::CanDelay);
        check(Status::Fixed, Some("not yet assigned"), None, true, Urgency::CanDelay);
        // No fix: nothing to do now, unless critical.
        check(Status::Affected, None, Some(7.5), false, Urgency::NoNeedNow);
        check(Status::Affected, None, Some(9.8), false, Urgency::CanDelay);
        check(Status::WillNotFix, Some("high"), Some(9.1), false, Urgency::CanDelay);
        check(Status::NoDsa, Some("low"), Some(5.0), false, Urgency::NoNeedNow);
        check(Status::Postponed, None, Some(8.0), false, Urgency::NoNeedNow);
        check(Status::EndOfLife, None, Some(9.0), false, Urgency::CanDelay);
    }

    #[test]
    fn policy_overrides() {
        let strict = UrgencyPolicy { fix_asap_from: Level::Medium, ..UrgencyPolicy::default() };
        assert_eq!(strict.decide(&entry(Status::Fixed, None), Some(&vuln(5.0)), true), Urgency::FixAsap);
        let policy: UrgencyPolicy = serde_json::from_str(r#"{"no_fix_watch_from":"high"}"#).unwrap();
        assert_eq!(policy.decide(&entry(Status::Affected, None), Some(&vuln(7.5)), false), Urgency::CanDelay);
        assert!(serde_json::from_str::<UrgencyPolicy>(r#"{"typo":1}"#).is_err());
    }

    #[test]
    fn preferred_cvss_is_newest_then_nvd() {
        let mut v = vuln(5.0);
        v.cvss.push(Cvss { version: "3.1".into(), vector: "b".into(), base_score: 6.0, source: "cna".into() });
        v.cvss.push(Cvss { version: "2.0".into(), vector: "c".into(), base_score: 9.0, source: "nvd@nist.gov".into() });
        assert_eq!(preferred_cvss(&v).unwrap().base_score, 5.0);
        v.cvss.push(Cvss { version: "4.0".into(), vector: "d".into(), base_score: 8.0, source: "cna".into() });
        assert_eq!(preferred_cvss(&v).unwrap().vector, "d");
    }
}
