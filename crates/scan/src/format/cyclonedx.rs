//! CycloneDX 1.5 JSON. `components` holds exactly the image's packages, each with its
//! purl (scripts rely on this); the image itself is `metadata.component`, and its operating
//! system is nested under it.

use serde_json::{Value, json};

use super::{package_refs, serde_name};
use crate::Report;

pub(super) fn render(report: &Report, now: &str) -> String {
    let refs = package_refs(report);
    let components: Vec<Value> =
        report.inventory.packages.iter().zip(&refs).map(|(p, bom_ref)| component(report, p, bom_ref)).collect();
    let image_ref = image_bom_ref(report);
    let mut image = json!({
        "bom-ref": image_ref,
        "type": "container",
        "name": report.image.reference,
    });
    if let Some(id) = &report.image.id {
        image["version"] = json!(id);
    }
    if let Some(os) = report.inventory.os.as_ref().filter(|o| o.is_known()) {
        let mut c = json!({
            "bom-ref": format!("os:{}", os.id),
            "type": "operating-system",
            "name": os.id,
        });
        if let Some(v) = &os.version_id {
            c["version"] = json!(v);
        }
        if let Some(d) = &os.pretty_name {
            c["description"] = json!(d);
        }
        image["components"] = json!([c]);
    }
    let mut props = vec![prop("cguard:image:platform", &report.image.platform)];
    for (i, layer) in report.image.layers.iter().enumerate() {
        props.push(prop(&format!("cguard:image:layer:{i}"), layer));
    }
    image["properties"] = Value::Array(props);
    let mut doc = json!({
        "$schema": "http://cyclonedx.org/schema/bom-1.5.schema.json",
        "bomFormat": "CycloneDX",
        "specVersion": "1.5",
        "serialNumber": format!("urn:uuid:{}", uuid::Uuid::new_v4()),
        "version": 1,
        "metadata": {
            "timestamp": now,
            "tools": {"components": [{"type": "application", "name": "cguard", "version": env!("CARGO_PKG_VERSION")}]},
            "component": image,
        },
        "components": components,
        "dependencies": [{"ref": image_ref, "dependsOn": refs}],
    });
    if let Some(v) = &report.vulnerabilities {
        doc["vulnerabilities"] = Value::Array(vulnerabilities(report, &refs, &v.findings));
    }
    let mut s = serde_json::to_string_pretty(&doc).unwrap_or_default();
    s.push('\n');
    s
}

fn image_bom_ref(report: &Report) -> String {
    format!("image:{}", report.image.id.as_deref().unwrap_or(&report.image.reference))
}

fn component(report: &Report, p: &inventory::Package, bom_ref: &str) -> Value {
    let mut c = json!({
        "bom-ref": bom_ref,
        "type": "library",
        "name": p.name,
        "version": p.version,
        "purl": p.purl,
    });
    if !p.licenses.is_empty() {
        // Licence strings are kept as recorded; CycloneDX's `id` must be an SPDX id from
        // its fixed list, so names are the honest choice for unvalidated text.
        c["licenses"] = Value::Array(p.licenses.iter().map(|l| json!({"license": {"name": l}})).collect());
    }
    let kind = serde_name(p.kind);
    let mut props = vec![prop("cguard:package:type", &kind), prop("cguard:package:location", &p.location)];
    if let Some(s) = &p.source_name {
        props.push(prop("cguard:package:source-name", s));
    }
    if let Some(s) = &p.source_version {
        props.push(prop("cguard:package:source-version", s));
    }
    if let Some(a) = &p.arch {
        props.push(prop("cguard:package:arch", a));
    }
    if let Some(layer) = p.layer.and_then(|l| report.image.layers.get(l as usize)) {
        props.push(prop("cguard:package:layer", layer));
    }
    c["properties"] = Value::Array(props);
    c
}

fn prop(name: &str, value: &str) -> Value {
    json!({"name": name, "value": value})
}

/// One CycloneDX vulnerability per finding: its id, the CVE ids it concerns (as
/// references), the rating, the solution, and the affected component by its bom-ref.
fn vulnerabilities(report: &Report, refs: &[String], findings: &[vulndb::Finding]) -> Vec<Value> {
    findings
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let component = report
                .inventory
                .packages
                .iter()
                .position(|p| p.purl == f.purl)
                .and_then(|at| refs.get(at))
                .cloned()
                .unwrap_or_else(|| f.purl.clone());
            let mut v = json!({
                "bom-ref": format!("vuln-{}", i + 1),
                "id": f.vulnerability,
                "source": {"name": source_name(&f.vulnerability)},
                "recommendation": f.solution,
                "affects": [{"ref": component, "versions": [{"version": f.installed_version, "status": "affected"}]}],
            });
            let mut references: Vec<Value> = f
                .cves
                .iter()
                .filter(|c| **c != f.vulnerability)
                .map(|c| json!({"id": c, "source": {"name": "NVD", "url": format!("https://nvd.nist.gov/vuln/detail/{c}")}}))
                .collect();
            references.extend(f.advisories.iter().map(|a| json!({"id": a, "source": {"name": source_name(a)}})));
            if !references.is_empty() {
                v["references"] = Value::Array(references);
            }
            if let Some(d) = &f.description {
                v["description"] = json!(d);
            }
            if let Some(p) = &f.published {
                v["published"] = json!(p);
            }
            let mut rating = json!({"severity": severity(f)});
            if let Some(score) = f.cvss_score {
                rating["score"] = json!(score);
            }
            if let Some(vector) = &f.cvss_vector {
                rating["vector"] = json!(vector);
                rating["method"] = json!(cvss_method(vector));
            }
            v["ratings"] = json!([rating]);
            let mut props = vec![
                prop("cguard:urgency", f.urgency.as_str()),
                prop("cguard:status", &serde_name(f.status)),
                prop("cguard:cves", &f.cves.join(",")),
            ];
            if let Some(fixed) = &f.fixed_version {
                props.push(prop("cguard:fixed-version", fixed));
            }
            v["properties"] = Value::Array(props);
            if f.ignored {
                v["analysis"] = json!({
                    "state": "exploitable",
                    "response": ["will_not_fix"],
                    "detail": f.ignore_reason.clone().unwrap_or_default(),
                });
            }
            v
        })
        .collect()
}

fn source_name(id: &str) -> &'static str {
    match id.split('-').next().unwrap_or("") {
        "CVE" => "NVD",
        "GHSA" => "GitHub Advisory Database",
        "DSA" | "DLA" => "Debian",
        "USN" => "Ubuntu",
        "GO" => "Go Vulnerability Database",
        "RUSTSEC" => "RustSec",
        "PYSEC" => "PyPA",
        _ => "OSV",
    }
}

/// CycloneDX's severity words are CVSS's qualitative ratings, which `Level` spells alike.
fn severity(f: &vulndb::Finding) -> String {
    serde_name(f.cvss_score.map_or(vulndb::urgency::Level::Unknown, vulndb::urgency::Level::from_score))
}

fn cvss_method(vector: &str) -> &'static str {
    if vector.starts_with("CVSS:4") {
        "CVSSv4"
    } else if vector.starts_with("CVSS:3.1") {
        "CVSSv31"
    } else if vector.starts_with("CVSS:3") {
        "CVSSv3"
    } else {
        "CVSSv2"
    }
}
