//! The vulnerability part of a scan: match the inventory, apply ignore rules, summarise,
//! and say plainly what could not be checked.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use vulndb::ignore::IgnoreRules;
use vulndb::matcher::MatchProblem;
use vulndb::{Finding, Urgency, UrgencyPolicy, VulnSource};

use inventory::Inventory;

/// What a scan needs to look for vulnerabilities.
#[derive(Clone)]
pub struct VulnOptions {
    pub source: Arc<dyn VulnSource + Send + Sync>,
    pub policy: UrgencyPolicy,
    pub ignore: IgnoreRules,
    /// Describes the database in the report.
    pub database: DatabaseSummary,
    /// Today as `YYYY-MM-DD`, for expiring ignore rules.
    pub today: String,
}

impl std::fmt::Debug for VulnOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VulnOptions").field("database", &self.database).finish_non_exhaustive()
    }
}

/// The database a scan used.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DatabaseSummary {
    pub path: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub built: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sources: Vec<String>,
}

/// Counts per urgency of findings that are not ignored.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UrgencyCounts {
    pub fix_asap: usize,
    pub can_delay: usize,
    pub no_need_now: usize,
    pub ignored: usize,
}

/// The vulnerability section of a report.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct VulnReport {
    pub database: DatabaseSummary,
    pub summary: UrgencyCounts,
    pub findings: Vec<Finding>,
    /// Packages whose version could not be compared.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub problems: Vec<MatchProblem>,
    /// Things that were not checked and why (unknown OS, no data for an ecosystem).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

impl VulnReport {
    /// Whether any finding that is not ignored is at least as urgent as `threshold`.
    pub fn fails(&self, threshold: Urgency) -> bool {
        self.findings.iter().any(|f| !f.ignored && f.urgency.at_least(threshold))
    }
}

/// Matches `inventory` and applies ignore rules for the image `reference`, whose layer
/// digests (base first) name the layer each finding came from.
pub fn check(inventory: &Inventory, reference: &str, layers: &[String], options: &VulnOptions) -> VulnReport {
    let mut matches = vulndb::match_inventory(inventory, options.source.as_ref(), &options.policy);
    for f in &mut matches.findings {
        f.layer_digest = f.layer.and_then(|l| layers.get(l as usize)).cloned();
    }
    options.ignore.apply(&mut matches.findings, reference, &options.today);
    let mut summary = UrgencyCounts::default();
    for f in &matches.findings {
        match (f.ignored, f.urgency) {
            (true, _) => summary.ignored += 1,
            (false, Urgency::FixAsap) => summary.fix_asap += 1,
            (false, Urgency::CanDelay) => summary.can_delay += 1,
            (false, Urgency::NoNeedNow) => summary.no_need_now += 1,
        }
    }
    let mut warnings = Vec::new();
    let os_packages = inventory.packages.iter().filter(|p| p.kind.is_os()).count();
    match &inventory.os {
        Some(os) if os.is_known() => {
            if os_packages > 0 && matches.unsupported.len() >= os_packages {
                warnings.push(format!(
                    "no vulnerability data covers {} {}: its {os_packages} OS packages were not checked",
                    os.id,
                    os.version_id.as_deref().unwrap_or("")
                ));
            }
        }
        _ => warnings.push(format!(
            "the operating system was not recognised: {os_packages} OS packages were not checked for vulnerabilities"
        )),
    }
    if !matches.unsupported.is_empty() && warnings.is_empty() {
        warnings.push(format!("{} packages have no vulnerability data source", matches.unsupported.len()));
    }
    VulnReport {
        database: options.database.clone(),
        summary,
        findings: matches.findings,
        problems: matches.problems,
        warnings,
    }
}
