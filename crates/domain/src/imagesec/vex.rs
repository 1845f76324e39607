//! Decisions to ignore, exported and imported as VEX (OpenVEX 0.2 and CycloneDX 1.5), so
//! that they travel to and from other tools. A statement names the vulnerability and its
//! products by package URL: a decision about one version is the image
//! (`pkg:oci/NAME@DIGEST?repository_url=…`), about a repository the image without digest,
//! about every image the packages it was found in; the affected packages are the
//! statement's subcomponents. Expiry dates do not travel (VEX has no field for them).

use std::collections::BTreeSet;

use api::vulns::VexImport;
use serde_json::{Value, json};
use store::{CatalogFilter, IgnoreRow, PageReq};

use super::ImageSecurity;
use super::ignores::JUSTIFICATIONS;
use crate::{DomainError, Result, now_ms, rfc3339};

/// Most statements one import takes.
const MAX_STATEMENTS: usize = 10_000;

/// `pkg:oci/NAME[@DIGEST]?repository_url=HOST/REPO` of a catalogue image.
fn oci_purl(host: &str, repository: &str, digest: Option<&str>) -> String {
    let name = repository.rsplit('/').next().unwrap_or(repository).to_lowercase();
    let url = if host.is_empty() { repository.to_owned() } else { format!("{host}/{repository}") };
    match digest {
        Some(d) => format!("pkg:oci/{name}@{}?repository_url={url}", d.replace(':', "%3A")),
        None => format!("pkg:oci/{name}?repository_url={url}"),
    }
}

/// (repository_url, digest) of a `pkg:oci` purl.
fn parse_oci(purl: &str) -> Option<(Option<String>, Option<String>)> {
    let rest = purl.strip_prefix("pkg:oci/")?;
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    let digest = path.split_once('@').map(|(_, d)| d.replace("%3A", ":").replace("%3a", ":"));
    let url = query
        .split('&')
        .find_map(|kv| kv.strip_prefix("repository_url="))
        .map(|u| u.replace("%2F", "/").replace("%2f", "/").replace("%3A", ":").replace("%3a", ":"));
    Some((url, digest))
}

fn to_cyclonedx_justification(j: &str) -> &'static str {
    match j {
        "vulnerable_code_not_in_execute_path" => "code_not_reachable",
        "vulnerable_code_cannot_be_controlled_by_adversary" => "requires_environment",
        "inline_mitigations_already_exist" => "protected_by_mitigating_control",
        _ => "code_not_present",
    }
}

fn from_cyclonedx_justification(j: &str) -> &'static str {
    match j {
        "code_not_reachable" => "vulnerable_code_not_in_execute_path",
        "requires_configuration" | "requires_dependency" | "requires_environment" => {
            "vulnerable_code_cannot_be_controlled_by_adversary"
        }
        j if j.starts_with("protected_") => "inline_mitigations_already_exist",
        _ => "vulnerable_code_not_present",
    }
}

/// One decision as VEX sees it: (kind, justification, reason).
type Decision = (String, String, String);

impl ImageSecurity {
    /// The product and subcomponents of a decision, by package URL.
    async fn vex_products(&self, g: &IgnoreRow) -> Result<Option<(Vec<String>, Vec<String>)>> {
        let packages: Vec<String> = self.store.vuln_views().vuln_purls(&g.vuln_id).await?;
        let image = match g.scope.as_str() {
            "version" => self
                .store
                .images()
                .version(&g.subject)
                .await?
                .map(|e| oci_purl(&e.image.registry_host, &e.image.repository, Some(&e.version.digest))),
            "repository" => {
                self.store.images().image(&g.subject).await?.map(|i| oci_purl(&i.registry_host, &i.repository, None))
            }
            _ => None,
        };
        Ok(match image {
            Some(image) => Some((vec![image], packages)),
            None if g.scope == "all" && !packages.is_empty() => Some((packages, Vec::new())),
            None => None,
        })
    }

    /// Every decision in force as a VEX document: `openvex` or `cyclonedx`.
    pub async fn vex_export(&self, format: &str) -> Result<Value> {
        if !["openvex", "cyclonedx"].contains(&format) {
            return Err(DomainError::invalid("format", "is 'openvex' or 'cyclonedx'"));
        }
        let now = now_ms();
        let decisions = self.store.ignores().list_ignores(None, 100_000).await?;
        let mut statements = Vec::new();
        let mut vulnerabilities = Vec::new();
        for g in decisions.iter().filter(|g| g.expires_at.is_none_or(|t| t > now)) {
            let Some((products, subcomponents)) = self.vex_products(g).await? else { continue };
            let reason = if g.reason.is_empty() { g.kind.replace('-', " ") } else { g.reason.clone() };
            if format == "openvex" {
                let mut s = json!({
                    "vulnerability": {"name": g.vuln_id},
                    "products": products.iter().map(|p| {
                        let mut product = json!({"@id": p});
                        if !subcomponents.is_empty() {
                            product["subcomponents"] = subcomponents.iter().map(|c| json!({"@id": c})).collect();
                        }
                        product
                    }).collect::<Vec<_>>(),
                    "timestamp": rfc3339(g.created_at),
                });
                match g.kind.as_str() {
                    "not-affected" => {
                        s["status"] = json!("not_affected");
                        s["justification"] = json!(g.justification);
                        s["impact_statement"] = json!(reason);
                    }
                    "false-positive" => {
                        s["status"] = json!("not_affected");
                        s["justification"] = json!("vulnerable_code_not_present");
                        s["impact_statement"] = json!(format!("false positive: {reason}"));
                    }
                    _ => {
                        s["status"] = json!("affected");
                        s["action_statement"] = json!(format!("accepted risk: {reason}"));
                    }
                }
                statements.push(s);
            } else {
                let mut analysis = match g.kind.as_str() {
                    "not-affected" => json!({"state": "not_affected",
                        "justification": to_cyclonedx_justification(&g.justification)}),
                    "false-positive" => json!({"state": "false_positive"}),
                    _ => json!({"state": "exploitable", "response": ["will_not_fix"]}),
                };
                analysis["detail"] = json!(reason);
                let affects: Vec<Value> = products.iter().chain(&subcomponents).map(|p| json!({"ref": p})).collect();
                vulnerabilities.push(json!({"id": g.vuln_id, "analysis": analysis, "affects": affects}));
            }
        }
        let id = uuid::Uuid::new_v4();
        Ok(if format == "openvex" {
            json!({"@context": "https://openvex.dev/ns/v0.2.0", "@id": format!("urn:uuid:{id}"),
                "author": "cguard", "timestamp": rfc3339(now), "version": 1, "statements": statements})
        } else {
            json!({"bomFormat": "CycloneDX", "specVersion": "1.5", "serialNumber": format!("urn:uuid:{id}"),
                "version": 1, "metadata": {"timestamp": rfc3339(now), "tools": {"components": [
                    {"type": "application", "name": "cguard"}]}},
                "vulnerabilities": vulnerabilities})
        })
    }

    /// Records the decisions of an OpenVEX or CycloneDX document.
    pub async fn vex_import(&self, doc: &Value, by: &str) -> Result<VexImport> {
        let mut out = VexImport::default();
        // (vulnerability, products, decision)
        let mut wanted: Vec<(String, Vec<String>, Decision)> = Vec::new();
        if let Some(statements) = doc.get("statements").and_then(Value::as_array) {
            if statements.len() > MAX_STATEMENTS {
                return Err(DomainError::invalid("statements", format!("at most {MAX_STATEMENTS}")));
            }
            for s in statements {
                let name = s.pointer("/vulnerability/name").or_else(|| s.get("vulnerability")).and_then(Value::as_str);
                let Some(name) = name else {
                    out.skipped.push("a statement without a vulnerability name".into());
                    continue;
                };
                let products: Vec<String> = s
                    .get("products")
                    .and_then(Value::as_array)
                    .map(|p| {
                        p.iter()
                            .filter_map(|p| p.get("@id").or(Some(p)).and_then(Value::as_str))
                            .map(str::to_owned)
                            .collect()
                    })
                    .unwrap_or_default();
                let text = |k: &str| s.get(k).and_then(Value::as_str).unwrap_or_default().to_owned();
                let decision = match text("status").as_str() {
                    "not_affected" if text("impact_statement").starts_with("false positive") => {
                        let reason = text("impact_statement");
                        (
                            "false-positive".into(),
                            String::new(),
                            reason.trim_start_matches("false positive: ").to_owned(),
                        )
                    }
                    "not_affected" => ("not-affected".into(), text("justification"), text("impact_statement")),
                    "affected" if !text("action_statement").is_empty() => {
                        let reason = text("action_statement");
                        ("accepted-risk".into(), String::new(), reason.trim_start_matches("accepted risk: ").to_owned())
                    }
                    other => {
                        out.skipped.push(format!("{name}: status {other:?} is not a decision to ignore"));
                        continue;
                    }
                };
                wanted.push((name.to_owned(), products, decision));
            }
        } else if let Some(vulns) = doc.get("vulnerabilities").and_then(Value::as_array) {
            if vulns.len() > MAX_STATEMENTS {
                return Err(DomainError::invalid("vulnerabilities", format!("at most {MAX_STATEMENTS}")));
            }
            for v in vulns {
                let Some(name) = v.get("id").and_then(Value::as_str) else {
                    out.skipped.push("a vulnerability without an id".into());
                    continue;
                };
                let text = |p: &str| v.pointer(p).and_then(Value::as_str).unwrap_or_default().to_owned();
                let products: Vec<String> = v
                    .get("affects")
                    .and_then(Value::as_array)
                    .map(|a| a.iter().filter_map(|a| a.get("ref").and_then(Value::as_str)).map(str::to_owned).collect())
                    .unwrap_or_default();
                let will_not_fix = v
                    .pointer("/analysis/response")
                    .and_then(Value::as_array)
                    .is_some_and(|r| r.iter().any(|x| x == "will_not_fix"));
                let decision = match text("/analysis/state").as_str() {
                    "not_affected" => (
                        "not-affected".into(),
                        from_cyclonedx_justification(&text("/analysis/justification")).to_owned(),
                        text("/analysis/detail"),
                    ),
                    "false_positive" => ("false-positive".into(), String::new(), text("/analysis/detail")),
                    "exploitable" if will_not_fix => ("accepted-risk".into(), String::new(), text("/analysis/detail")),
                    other => {
                        out.skipped.push(format!("{name}: state {other:?} is not a decision to ignore"));
                        continue;
                    }
                };
                wanted.push((name.to_owned(), products, decision));
            }
        } else {
            return Err(DomainError::invalid(
                "document",
                "an OpenVEX (statements) or CycloneDX (vulnerabilities) document",
            ));
        }
        for (name, products, (kind, justification, reason)) in wanted {
            let justification = match kind.as_str() {
                "not-affected" if JUSTIFICATIONS.contains(&justification.as_str()) => Some(justification),
                "not-affected" => Some("vulnerable_code_not_present".to_owned()),
                _ => None,
            };
            let reason: String = reason.chars().take(1000).collect();
            let mut targets: BTreeSet<(Option<String>, Option<&'static str>)> = BTreeSet::new();
            let mut unknown = Vec::new();
            // With an image among the products, the packages are its subcomponents (as
            // CycloneDX lists them beside it), not a decision for every image.
            let has_image = products.iter().any(|p| parse_oci(p).is_some());
            for p in products.iter().filter(|p| !has_image || parse_oci(p).is_some()) {
                match parse_oci(p) {
                    Some((url, digest)) => match self.vex_target(url.as_deref(), digest.as_deref()).await? {
                        Some(t) => {
                            targets.extend(t);
                        }
                        None => unknown.push(p.clone()),
                    },
                    None => {
                        targets.insert((None, None));
                    }
                }
            }
            if targets.is_empty() {
                out.skipped.push(if unknown.is_empty() {
                    format!("{name}: no product")
                } else {
                    format!("{name}: no image in the catalogue is {}", unknown.join(", "))
                });
                continue;
            }
            for (image_id, scope) in targets {
                let req = api::vulns::IgnoreRequest {
                    image_id,
                    scope: scope.map(str::to_owned),
                    kind: Some(kind.clone()),
                    justification: justification.clone(),
                    reason: Some(reason.clone()),
                    expires_at: None,
                    until_fixed: false,
                };
                match self.ignore(&name, &req, by).await {
                    Ok(_) => out.imported += 1,
                    Err(DomainError::Invalid { message, .. }) => out.skipped.push(format!("{name}: {message}")),
                    Err(e) => return Err(e),
                }
            }
        }
        Ok(out)
    }

    /// The catalogue versions (scope `version`) or images (scope `repository`) an OCI
    /// product names; `None` when the catalogue has none.
    async fn vex_target(
        &self,
        url: Option<&str>,
        digest: Option<&str>,
    ) -> Result<Option<Vec<(Option<String>, Option<&'static str>)>>> {
        let matches_url = |host: &str, repository: &str| {
            url.is_none_or(|u| u == repository || (!host.is_empty() && u == format!("{host}/{repository}")))
        };
        if let Some(digest) = digest {
            let versions: Vec<_> = self
                .store
                .images()
                .versions_of_digest(digest)
                .await?
                .into_iter()
                .filter(|e| matches_url(&e.image.registry_host, &e.image.repository))
                .map(|e| (Some(e.version.id), Some("version")))
                .collect();
            return Ok(Some(versions).filter(|v| !v.is_empty()));
        }
        let Some(url) = url else { return Ok(None) };
        let repository =
            url.split_once('/').filter(|(h, _)| h.contains('.') || h.contains(':')).map_or(url, |(_, r)| r);
        let filter = CatalogFilter { text: Some(repository.to_owned()), ..Default::default() };
        let (entries, _) =
            self.store.images().list_catalog(&filter, &PageReq { limit: 1000, ..Default::default() }).await?;
        let mut images: Vec<_> = entries
            .into_iter()
            .filter(|e| matches_url(&e.image.registry_host, &e.image.repository))
            .map(|e| (Some(e.version.id), Some("repository")))
            .collect();
        images.truncate(1);
        Ok(Some(images).filter(|v| !v.is_empty()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oci_purls_round_trip_and_justifications_map_both_ways() {
        let p = oci_purl("reg.example:5000", "team/app", Some("sha256:abc"));
        assert_eq!(p, "pkg:oci/app@sha256%3Aabc?repository_url=reg.example:5000/team/app");
        assert_eq!(parse_oci(&p), Some((Some("reg.example:5000/team/app".into()), Some("sha256:abc".into()))));
        assert_eq!(parse_oci("pkg:oci/app?repository_url=team/app"), Some((Some("team/app".into()), None)));
        assert_eq!(parse_oci("pkg:deb/debian/openssl@3"), None);
        for j in JUSTIFICATIONS {
            let back = from_cyclonedx_justification(to_cyclonedx_justification(j));
            assert!(JUSTIFICATIONS.contains(&back), "{j} -> {back}");
        }
        assert_eq!(
            from_cyclonedx_justification(to_cyclonedx_justification("vulnerable_code_not_in_execute_path")),
            "vulnerable_code_not_in_execute_path"
        );
    }
}
