//! SPDX 2.3 JSON. The document describes the image, which CONTAINS each package.

use serde_json::{Value, json};

use super::package_refs;
use crate::Report;

pub(super) fn render(report: &Report, now: &str) -> String {
    let refs = package_refs(report);
    let image_id = "SPDXRef-Image".to_owned();
    let mut packages = vec![json!({
        "SPDXID": image_id,
        "name": report.image.reference,
        "versionInfo": report.image.id.clone().unwrap_or_else(|| "NOASSERTION".into()),
        "downloadLocation": "NOASSERTION",
        "filesAnalyzed": false,
        "licenseConcluded": "NOASSERTION",
        "licenseDeclared": "NOASSERTION",
        "copyrightText": "NOASSERTION",
        "primaryPackagePurpose": "CONTAINER",
    })];
    let mut relationships = vec![json!({
        "spdxElementId": "SPDXRef-DOCUMENT",
        "relationshipType": "DESCRIBES",
        "relatedSpdxElement": image_id,
    })];
    for (i, (p, _)) in report.inventory.packages.iter().zip(&refs).enumerate() {
        let id = format!("SPDXRef-Package-{}", i + 1);
        let mut pkg = json!({
            "SPDXID": id,
            "name": p.name,
            "versionInfo": p.version,
            "downloadLocation": "NOASSERTION",
            "filesAnalyzed": false,
            "licenseConcluded": "NOASSERTION",
            "licenseDeclared": declared_license(&p.licenses),
            "copyrightText": "NOASSERTION",
            "externalRefs": [{
                "referenceCategory": "PACKAGE-MANAGER",
                "referenceType": "purl",
                "referenceLocator": p.purl,
            }],
        });
        if let Some(src) = &p.source_name {
            let version = p.source_version.as_deref().unwrap_or(&p.version);
            pkg["sourceInfo"] = json!(format!("built from source package {src} {version}"));
        }
        if !p.licenses.is_empty() {
            pkg["comment"] = json!(format!("licences as recorded: {}", p.licenses.join("; ")));
        }
        packages.push(pkg);
        relationships.push(json!({
            "spdxElementId": image_id,
            "relationshipType": "CONTAINS",
            "relatedSpdxElement": id,
        }));
    }
    let name = format!("cguard-scan-{}", report.image.reference);
    let doc = json!({
        "spdxVersion": "SPDX-2.3",
        "dataLicense": "CC0-1.0",
        "SPDXID": "SPDXRef-DOCUMENT",
        "name": name,
        "documentNamespace": format!("https://cguard.dev/spdx/{}", uuid::Uuid::new_v4()),
        "creationInfo": {
            "created": now,
            "creators": [format!("Tool: cguard-{}", env!("CARGO_PKG_VERSION"))],
        },
        "packages": packages,
        "relationships": relationships,
    });
    let mut s = serde_json::to_string_pretty(&doc).unwrap_or_default();
    s.push('\n');
    s
}

/// A declared licence only when it is one plain SPDX-shaped identifier or a simple
/// expression of them; free text is NOASSERTION (and kept in the package comment).
fn declared_license(licenses: &[String]) -> Value {
    let shaped = |l: &str| {
        !l.is_empty()
            && l.split([' ', '(', ')']).filter(|t| !t.is_empty()).all(|t| {
                matches!(t, "AND" | "OR" | "WITH")
                    || t.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '+'))
            })
    };
    match licenses {
        [one] if shaped(one) => json!(one),
        _ => json!("NOASSERTION"),
    }
}
