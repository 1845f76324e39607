//! SARIF 2.1.0: one result per finding, for code-scanning dashboards.
//! - Vulnerabilities: `ruleId` is the vulnerability id; properties carry `urgency`,
//!   `package`, `installedVersion`, `fixedVersion`. Ignored findings carry a suppression.
//! - Secrets: `ruleId` is the secret rule; the location is the file and line in the image
//!   (or `image-config:…` for the config); the matched text is masked.
//! - Baseline: one result per FAILED check; `ruleId` is the check id; properties `level`
//!   and `result`; locations are the files the check points at.
//! - Malware: `ruleId` is the rule or signature; properties `category`, `severity`.

use serde_json::{Value, json};

use crate::Report;
use vulndb::{Finding, Urgency};

pub(super) fn render(report: &Report) -> String {
    let mut rules: Vec<Value> = Vec::new();
    let mut rule_index = std::collections::HashMap::<String, usize>::new();
    let mut results = Vec::new();
    let mut rule_for = |id: &str, make: &dyn Fn() -> Value| -> usize {
        *rule_index.entry(id.to_owned()).or_insert_with(|| {
            rules.push(make());
            rules.len() - 1
        })
    };
    for f in report.vulnerabilities.iter().flat_map(|v| &v.findings) {
        let index = rule_for(&f.id, &|| rule(f));
        results.push(result(report, f, index));
    }
    for s in report.secrets.iter().flatten() {
        let index = rule_for(&s.rule_id, &|| {
            simple_rule(&s.rule_id, &s.title, "Remove the secret from the image and rotate it.", "secret")
        });
        results.push(secret_result(s, index));
    }
    for m in report.malware.iter().flat_map(|m| &m.findings) {
        let f = &m.finding;
        let index = rule_for(&f.rule, &|| {
            simple_rule(&f.rule, &f.description, "Do not deploy the image: remove the file and rebuild it.", "malware")
        });
        results.push(malware_result(m, index));
    }
    for c in report.baseline.iter().flatten().filter(|c| c.result == detect::baseline::Outcome::Failed) {
        let index = rule_for(&c.id, &|| simple_rule(&c.id, &c.title, &c.advice, "baseline"));
        results.push(baseline_result(c, index));
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

fn simple_rule(id: &str, title: &str, help: &str, tag: &str) -> Value {
    json!({
        "id": id,
        "shortDescription": {"text": title},
        "help": {"text": help},
        "properties": {"tags": ["security", tag]},
    })
}

fn location(path: &str, line: Option<u32>) -> Value {
    let mut physical = json!({"artifactLocation": {"uri": path}});
    if let Some(line) = line.filter(|l| *l > 0) {
        physical["region"] = json!({"startLine": line});
    }
    json!({"physicalLocation": physical})
}

fn secret_result(s: &detect::secrets::SecretFinding, rule_index: usize) -> Value {
    let level = match s.severity {
        detect::secrets::Severity::Critical | detect::secrets::Severity::High => "error",
        detect::secrets::Severity::Medium => "warning",
        detect::secrets::Severity::Low => "note",
    };
    let removed = if s.removed { " (deleted by a later layer, still in the image)" } else { "" };
    json!({
        "ruleId": s.rule_id,
        "ruleIndex": rule_index,
        "level": level,
        "message": {"text": format!("{}: {}{removed}", s.title, s.masked)},
        "locations": [location(&s.path, Some(s.line))],
        "properties": {
            "severity": s.severity,
            "masked": s.masked,
            "layer": s.layer,
            "removed": s.removed,
        },
    })
}

fn baseline_result(c: &detect::baseline::CheckResult, rule_index: usize) -> Value {
    let level = match c.level {
        detect::baseline::Level::High => "error",
        detect::baseline::Level::Medium => "warning",
        detect::baseline::Level::Low => "note",
    };
    let mut r = json!({
        "ruleId": c.id,
        "ruleIndex": rule_index,
        "level": level,
        "message": {"text": format!("{}: {}", c.title, c.problem)},
        "properties": {"level": c.level, "result": c.result, "advice": c.advice},
    });
    if !c.locations.is_empty() {
        r["locations"] = Value::Array(c.locations.iter().map(|l| location(&l.path, l.line)).collect());
    }
    r
}

fn malware_result(m: &crate::MalwareHit, rule_index: usize) -> Value {
    let f = &m.finding;
    let level = match f.severity {
        detect::malware::Severity::High => "error",
        detect::malware::Severity::Medium => "warning",
        _ => "note",
    };
    let hidden = if f.visible { "" } else { " (deleted or replaced by a later layer, still in the image)" };
    json!({
        "ruleId": f.rule,
        "ruleIndex": rule_index,
        "level": level,
        "message": {"text": format!("{} ({}): {}{hidden}", f.file_name, f.category.as_str(), f.description)},
        "locations": [location(&f.path, None)],
        "properties": {
            "category": f.category.as_str(),
            "severity": f.severity.as_str(),
            "sha256": f.sha256,
            "size": f.size,
            "layer": m.layer_digest,
            "visible": f.visible,
        },
    })
}
