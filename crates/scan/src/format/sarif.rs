//! SARIF 2.1.0: one result per finding, for code-scanning dashboards. Vulnerability
//! results: `ruleId` is the vulnerability id; properties carry `urgency`, `package`,
//! `installedVersion`, `fixedVersion`. Ignored findings are results with a suppression.

use serde_json::{Value, json};

use crate::Report;
use vulndb::{Finding, Urgency};

pub(super) fn render(report: &Report) -> String {
    let mut rules: Vec<Value> = Vec::new();
    let mut rule_index = std::collections::HashMap::<String, usize>::new();
    let mut results = Vec::new();
    for f in report.vulnerabilities.iter().flat_map(|v| &v.findings) {
        let index = *rule_index.entry(f.id.clone()).or_insert_with(|| {
            rules.push(rule(f));
            rules.len() - 1
        });
        results.push(result(report, f, index));
    }
    let doc = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "cguard",
                "version": env!("CARGO_PKG_VERSION"),
                "informationUri": "https://cguard.dev",
                "rules": rules,
            }},
            "results": results,
        }],
    });
    let mut s = serde_json::to_string_pretty(&doc).unwrap_or_default();
    s.push('\n');
    s
}

fn rule(f: &Finding) -> Value {
    let short = format!("{} in {}", f.id, f.matched_name);
    let mut r = json!({
        "id": f.id,
        "name": f.id.replace('-', ""),
        "shortDescription": {"text": short},
        "fullDescription": {"text": f.description.clone().unwrap_or_else(|| short.clone())},
        "help": {"text": f.solution},
        "properties": {"tags": ["security", "vulnerability"]},
    });
    if let Some(score) = f.cvss_score {
        // GitHub code scanning reads this to rank results.
        r["properties"]["security-severity"] = json!(format!("{score:.1}"));
    }
    if let Some(cve) = f.cves.first() {
        r["helpUri"] = json!(format!("https://nvd.nist.gov/vuln/detail/{cve}"));
    }
    r
}

fn result(report: &Report, f: &Finding, rule_index: usize) -> Value {
    let level = match f.urgency {
        Urgency::FixAsap => "error",
        Urgency::CanDelay => "warning",
        Urgency::NoNeedNow => "note",
    };
    let location = report
        .inventory
        .packages
        .iter()
        .find(|p| p.purl == f.purl)
        .map(|p| p.location.clone())
        .unwrap_or_else(|| "/".to_owned());
    let fixed = f.fixed_version.as_deref().unwrap_or("");
    let mut r = json!({
        "ruleId": f.id,
        "ruleIndex": rule_index,
        "level": level,
        "message": {"text": format!(
            "{} {} is affected by {} ({}). {}",
            f.package, f.installed_version, f.id, f.urgency.as_str(), f.solution
        )},
        "locations": [{"physicalLocation": {"artifactLocation": {"uri": location}}}],
        "properties": {
            "urgency": f.urgency.as_str(),
            "package": f.package,
            "installedVersion": f.installed_version,
            "fixedVersion": fixed,
            "purl": f.purl,
            "cves": f.cves,
            "status": f.status,
        },
    });
    if f.ignored {
        r["suppressions"] = json!([{"kind": "external", "justification": f.ignore_reason.clone().unwrap_or_default()}]);
    }
    r
}
