//! NVD CVE API 2.0 responses (`/rest/json/cves/2.0`), saved as JSON files.
//!
//! `{resultsPerPage, startIndex, totalResults, format: "NVD_CVE", version: "2.0",
//! timestamp, vulnerabilities: [{cve: {id, published, lastModified, vulnStatus,
//! descriptions, metrics: {cvssMetricV40, cvssMetricV31, cvssMetricV30, cvssMetricV2},
//! references}}]}`. Each `cvssMetric…` entry is `{source, type, cvssData: {version,
//! vectorString, baseScore, …}}`. NVD writes its dates without offset; they are UTC.
//! Records whose `vulnStatus` is `Rejected` are kept as withdrawn.

use serde_json::Value;

use super::json::{array_at, english, kind, number_at, object_at, text_at};
use super::merge::TextRank;
use super::{Parsed, cvss, date, ids};
use crate::model::Vulnerability;

/// The feed name used in [`crate::model::SourceInfo`] and problems.
pub const SOURCE: &str = "nvd";

/// The metric lists of an NVD record, most recent CVSS version first.
const METRIC_KEYS: [&str; 4] = ["cvssMetricV40", "cvssMetricV31", "cvssMetricV30", "cvssMetricV2"];

/// Reads one API response file. `location` names the file in problems.
pub fn parse(data: &[u8], location: &str) -> Parsed {
    let mut out = Parsed::new(TextRank::Authority);
    let root: Value = match serde_json::from_slice(data) {
        Ok(v) => v,
        Err(e) => {
            out.problem(SOURCE, location, format!("not valid JSON: {e}"));
            return out;
        }
    };
    let Some(items) = root.get("vulnerabilities").and_then(Value::as_array) else {
        out.problem(SOURCE, location, format!("no vulnerabilities array (the top level is {})", kind(&root)));
        return out;
    };
    if let Some(stamp) = text_at(&root, "timestamp") {
        out.note_updated(date::normalise(stamp).as_deref());
    }
    for (index, item) in items.iter().enumerate() {
        match item.get("cve") {
            Some(cve) if cve.is_object() => read_cve(&mut out, cve, location, index),
            _ => out.problem(SOURCE, location, format!("vulnerabilities[{index}] has no cve object")),
        }
    }
    out
}

/// Reads one `cve` object.
fn read_cve(out: &mut Parsed, cve: &Value, location: &str, index: usize) {
    let Some(id) = text_at(cve, "id").filter(|id| ids::is_cve(id)) else {
        out.problem(SOURCE, location, format!("vulnerabilities[{index}]: no CVE id; skipped"));
        return;
    };
    let mut cvss_list = Vec::new();
    if let Some(metrics) = object_at(cve, "metrics") {
        for key in METRIC_KEYS {
            let Some(list) = metrics.get(key).and_then(Value::as_array) else { continue };
            for metric in list {
                let source = text_at(metric, "source").unwrap_or("nvd@nist.gov");
                let data = metric.get("cvssData").unwrap_or(&Value::Null);
                let Some(vector) = text_at(data, "vectorString") else {
                    out.problem(SOURCE, location, format!("{id}: {key} entry without cvssData.vectorString"));
                    continue;
                };
                match cvss::assess(vector, number_at(data, "baseScore"), source) {
                    Ok((c, note)) => {
                        if let Some(note) = note {
                            out.problem(SOURCE, location, format!("{id}: {note}"));
                        }
                        cvss_list.push(c);
                    }
                    Err(e) => out.problem(SOURCE, location, format!("{id}: {e}")),
                }
            }
        }
    }
    let dated = |out: &mut Parsed, key: &str| {
        let text = text_at(cve, key)?;
        let normal = date::normalise(text);
        if normal.is_none() {
            out.problem(SOURCE, location, format!("{id}: {key} {text:?} is not a date"));
        }
        normal
    };
    let published = dated(out, "published");
    let modified = dated(out, "lastModified");
    out.vulnerabilities.push(Vulnerability {
        id: id.to_string(),
        aliases: Vec::new(),
        summary: None,
        description: english(array_at(cve, "descriptions")),
        published,
        modified,
        cvss: cvss_list,
        severity: None,
        references: array_at(cve, "references").iter().filter_map(|r| text_at(r, "url")).map(str::to_string).collect(),
        withdrawn: text_at(cve, "vulnStatus").is_some_and(|s| s.eq_ignore_ascii_case("Rejected")),
    });
}
