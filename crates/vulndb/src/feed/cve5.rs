//! CVE JSON 5 records, as the CVE Program publishes them (cvelistV5, schema 5.0–5.2).
//!
//! A record gives the authoritative description, the publication date, and CVSS metrics
//! from the CNA (`containers.cna.metrics`) and from ADPs such as CISA-ADP
//! (`containers.adp[].metrics`). It names no package in an ecosystem this crate matches, so it
//! yields a [`Vulnerability`] only. A `REJECTED` record is kept as withdrawn.

use serde_json::Value;

use super::json::{array_at, english, kind, number_at, object_at, text_at};
use super::merge::TextRank;
use super::{Parsed, cvss, date, ids};
use crate::model::{Cvss, Vulnerability};

/// The feed name used in [`crate::model::SourceInfo`] and problems.
pub const SOURCE: &str = "cve5";

/// The metric keys of a CVSS entry in a `metrics` list, most recent version first.
const CVSS_KEYS: [&str; 4] = ["cvssV4_0", "cvssV3_1", "cvssV3_0", "cvssV2_0"];

/// Reads one CVE JSON 5 record file. `location` names the file in problems.
pub fn parse(data: &[u8], location: &str) -> Parsed {
    let mut out = Parsed::new(TextRank::Authority);
    match serde_json::from_slice::<Value>(data) {
        Ok(record) => read_record(&mut out, &record, location),
        Err(e) => out.problem(SOURCE, location, format!("not valid JSON: {e}")),
    }
    out
}

/// Reads one parsed record into `out`.
pub fn read_record(out: &mut Parsed, record: &Value, location: &str) {
    let Some(meta) = record.get("cveMetadata").filter(|m| m.is_object()) else {
        out.problem(SOURCE, location, format!("no cveMetadata object (the record is {})", kind(record)));
        return;
    };
    let Some(id) = text_at(meta, "cveId") else {
        out.problem(SOURCE, location, "cveMetadata has no cveId");
        return;
    };
    if !ids::is_cve(id) {
        out.problem(SOURCE, location, format!("cveId {id:?} is not a CVE id; skipped"));
        return;
    }
    let rejected = text_at(meta, "state").is_some_and(|s| s.eq_ignore_ascii_case("REJECTED"));
    let published = dated(out, location, id, meta, "datePublished");
    let modified = dated(out, location, id, meta, "dateUpdated");
    out.note_updated(modified.as_deref());
    let assigner = text_at(meta, "assignerShortName");

    let empty = Value::Null;
    let containers = record.get("containers").unwrap_or(&empty);
    let cna = containers.get("cna").unwrap_or(&empty);
    let cna_source = assigner
        .or_else(|| object_at(cna, "providerMetadata").and_then(|p| p.get("shortName")).and_then(Value::as_str))
        .unwrap_or("CNA");
    let mut cvss_list = Vec::new();
    read_metrics(out, location, id, cna, cna_source, &mut cvss_list);
    let mut references: Vec<String> = urls(cna);
    for adp in array_at(containers, "adp") {
        let adp_source = adp.get("providerMetadata").and_then(|p| text_at(p, "shortName")).unwrap_or("ADP");
        read_metrics(out, location, id, adp, adp_source, &mut cvss_list);
        references.extend(urls(adp));
    }
    let description = if rejected {
        english(array_at(cna, "rejectedReasons")).or_else(|| english(array_at(cna, "descriptions")))
    } else {
        english(array_at(cna, "descriptions"))
    };
    if description.is_none() && !rejected {
        out.problem(SOURCE, location, format!("{id}: no description"));
    }
    out.vulnerabilities.push(Vulnerability {
        id: id.to_string(),
        aliases: Vec::new(),
        summary: text_at(cna, "title").map(str::to_string),
        description,
        published,
        modified,
        cvss: cvss_list,
        severity: None,
        references,
        withdrawn: rejected,
    });
}

/// A date of `cveMetadata`, normalised; a present but unreadable one is a problem.
fn dated(out: &mut Parsed, location: &str, id: &str, meta: &Value, key: &str) -> Option<String> {
    let text = text_at(meta, key)?;
    let normal = date::normalise(text);
    if normal.is_none() {
        out.problem(SOURCE, location, format!("{id}: {key} {text:?} is not a date"));
    }
    normal
}

/// The reference URLs of a container.
fn urls(container: &Value) -> Vec<String> {
    array_at(container, "references").iter().filter_map(|r| text_at(r, "url")).map(str::to_string).collect()
}

/// Adds the CVSS entries of a container's `metrics` list, published by `source`.
fn read_metrics(out: &mut Parsed, location: &str, id: &str, container: &Value, source: &str, into: &mut Vec<Cvss>) {
    for metric in array_at(container, "metrics") {
        for key in CVSS_KEYS {
            let Some(entry) = metric.get(key) else { continue };
            let Some(vector) = text_at(entry, "vectorString") else {
                out.problem(SOURCE, location, format!("{id}: {key} from {source} without vectorString"));
                continue;
            };
            match cvss::assess(vector, number_at(entry, "baseScore"), source) {
                Ok((c, note)) => {
                    if let Some(note) = note {
                        out.problem(SOURCE, location, format!("{id}: {note}"));
                    }
                    into.push(c);
                }
                Err(e) => out.problem(SOURCE, location, format!("{id}: {e}")),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejected_records_are_withdrawn_with_their_reason() {
        let record = r#"{"dataType":"CVE_RECORD","dataVersion":"5.1","cveMetadata":{"cveId":"CVE-2023-0001","state":"REJECTED",
            "assignerShortName":"mitre","datePublished":"2023-01-02T00:00:00","dateUpdated":"2023-02-01T00:00:00Z"},
            "containers":{"cna":{"rejectedReasons":[{"lang":"en","value":"Duplicate of CVE-2023-0002."}]}}}"#;
        let parsed = parse(record.as_bytes(), "t");
        let v = &parsed.vulnerabilities[0];
        assert!(v.withdrawn);
        assert_eq!(v.description.as_deref(), Some("Duplicate of CVE-2023-0002."));
        assert_eq!(v.published.as_deref(), Some("2023-01-02T00:00:00Z"));
        assert_eq!(parsed.updated.as_deref(), Some("2023-02-01T00:00:00Z"));
        assert!(parsed.problems.is_empty(), "{:?}", parsed.problems);
    }
}
