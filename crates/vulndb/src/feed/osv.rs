//! OSV records (`https://ossf.github.io/osv-schema/`), one JSON object per file or per
//! member of an ecosystem's `all.zip`.
//!
//! Each record becomes one [`Vulnerability`] (its OSV id; a distribution's per-CVE record
//! such as `DEBIAN-CVE-2024-1234` becomes the CVE itself) and one [`Affected`] per
//! (ecosystem, package). Ranges keep their OSV meaning: every `introduced` opens a range that
//! the next `fixed` or `last_affected` closes; `limit` events only bound where GIT commits
//! are searched and have no place in the model, so they are not kept. Several `affected`
//! entries for one package merge into one entry.

use serde_json::Value;

use super::json::{array_at, kind, object_at, str_at, strings_at, text_at};
use super::merge::{self, TextRank};
use super::{Parsed, cvss, date, ids};
use crate::model::{Affected, Range, RangeKind, Status, Vulnerability};

/// The feed name prefix; an ecosystem directory's source is `osv:PyPI`.
pub const SOURCE: &str = "osv";

/// The model's ecosystem for an OSV ecosystem string: distributions get their lower-case
/// name and release (`Debian:12` → `debian:12`, `Alpine:v3.19` → `alpine:3.19`,
/// `Ubuntu:22.04:LTS` and `Ubuntu:Pro:18.04:LTS` → `ubuntu:22.04` / `ubuntu:18.04`,
/// `Rocky Linux:9` → `rocky:9`, `AlmaLinux:9` → `almalinux:9`, `Red Hat:<cpe-ish>` →
/// `redhat:<cpe-ish>`); language ecosystems (`PyPI`, `npm`, `Go`, …) stay as they are.
pub fn normalise_ecosystem(ecosystem: &str) -> String {
    let ecosystem = ecosystem.trim();
    let (name, release) = match ecosystem.split_once(':') {
        Some((name, release)) => (name.trim(), Some(release.trim())),
        None => (ecosystem, None),
    };
    let with = |distro: &str, release: Option<&str>| match release.filter(|r| !r.is_empty()) {
        Some(r) => format!("{distro}:{r}"),
        None => distro.to_string(),
    };
    match name {
        "Debian" => with("debian", release),
        "Alpine" => with("alpine", release.map(|r| r.strip_prefix('v').unwrap_or(r))),
        "Ubuntu" => {
            // `Ubuntu:Pro:18.04:LTS`, `Ubuntu:22.04:LTS`, `Ubuntu:24.10`: the release is the
            // part that starts with a digit; the others qualify the support stream.
            let version = release.and_then(|r| r.split(':').find(|p| p.starts_with(|c: char| c.is_ascii_digit())));
            with("ubuntu", version)
        }
        "Rocky Linux" => with("rocky", release),
        "AlmaLinux" => with("almalinux", release),
        "Red Hat" => with("redhat", release),
        _ => ecosystem.to_string(),
    }
}

/// The package name in the model's form for `ecosystem` (PyPI names in PEP 503 form).
pub fn normalise_package(ecosystem: &str, name: &str) -> String {
    if ecosystem == "PyPI" { ids::pep503(name) } else { name.trim().to_string() }
}

/// Reads one OSV file. `source` is the feed name (`osv:PyPI`), `location` names the file.
pub fn parse(data: &[u8], location: &str, source: &str) -> Parsed {
    let mut out = Parsed::new(TextRank::Advisory);
    match serde_json::from_slice::<Value>(data) {
        Ok(record) => read_record(&mut out, &record, location, source),
        Err(e) => out.problem(source, location, format!("not valid JSON: {e}")),
    }
    out
}

/// Reads one parsed OSV record into `out`.
pub fn read_record(out: &mut Parsed, record: &Value, location: &str, source: &str) {
    if !record.is_object() {
        out.problem(source, location, format!("record is {}, not an object", kind(record)));
        return;
    }
    let Some(osv_id) = text_at(record, "id").filter(|id| id.len() <= 128) else {
        out.problem(source, location, "record without a usable id; skipped");
        return;
    };
    let cve = ids::cve_of_record(osv_id);
    let id = cve.unwrap_or(osv_id);
    let withdrawn = record.get("withdrawn").is_some_and(|w| !w.is_null());
    let wraps_cve = cve.is_some() && id != osv_id;
    if withdrawn && wraps_cve {
        // A distribution withdrawing its record of a CVE does not withdraw the CVE.
        out.problem(source, location, format!("{osv_id} is withdrawn; its affected packages are not kept"));
        return;
    }

    let mut aliases: Vec<String> =
        strings_at(record, "aliases").chain(strings_at(record, "upstream")).map(str::to_string).collect();
    if wraps_cve {
        aliases.push(osv_id.to_string());
    }
    let dated = |key: &str, out: &mut Parsed| {
        let text = text_at(record, key)?;
        let normal = date::normalise(text);
        if normal.is_none() && text != "0001-01-01T00:00:00Z" {
            out.problem(source, location, format!("{osv_id}: {key} {text:?} is not a date"));
        }
        normal
    };
    let published = dated("published", out);
    let modified = dated("modified", out);
    out.note_updated(modified.as_deref());

    let publisher = osv_id.split('-').next().unwrap_or(osv_id);
    let mut cvss_list = Vec::new();
    let mut severity_word = object_at(record, "database_specific")
        .and_then(|d| d.get("severity"))
        .and_then(Value::as_str)
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty());
    for severity in array_at(record, "severity") {
        let (Some(kind), Some(score)) = (text_at(severity, "type"), text_at(severity, "score")) else {
            out.problem(source, location, format!("{osv_id}: severity entry without type or score"));
            continue;
        };
        if kind.starts_with("CVSS_") {
            match cvss::assess(score, None, publisher) {
                Ok((c, _)) => cvss_list.push(c),
                Err(e) => out.problem(source, location, format!("{osv_id}: {e}")),
            }
        } else if severity_word.is_none() {
            // `Ubuntu` severities are words (`medium`), not vectors.
            severity_word = Some(score.to_string());
        }
    }

    out.vulnerabilities.push(Vulnerability {
        id: id.to_string(),
        aliases,
        summary: text_at(record, "summary").map(str::to_string),
        description: text_at(record, "details").map(str::to_string),
        published,
        modified,
        cvss: cvss_list,
        severity: severity_word,
        references: array_at(record, "references")
            .iter()
            .filter_map(|r| text_at(r, "url"))
            .map(str::to_string)
            .collect(),
        withdrawn,
    });

    let advisories: Vec<String> = if ids::is_distro_advisory(osv_id) { vec![osv_id.to_string()] } else { Vec::new() };
    let mut entries: Vec<Affected> = Vec::new();
    for (index, affected) in array_at(record, "affected").iter().enumerate() {
        let Some(entry) = read_affected(out, affected, id, osv_id, location, source, index) else { continue };
        let mut entry = entry;
        entry.advisories.clone_from(&advisories);
        match entries.iter_mut().find(|e| e.ecosystem == entry.ecosystem && e.package == entry.package) {
            Some(known) => {
                merge::merge_affected(known, entry);
                known.status = status_of(&known.ranges);
            }
            None => entries.push(entry),
        }
    }
    out.affected.extend(entries);
}

/// Reads `affected[index]` of record `osv_id` (kept under vulnerability `id`).
fn read_affected(
    out: &mut Parsed,
    affected: &Value,
    id: &str,
    osv_id: &str,
    location: &str,
    source: &str,
    index: usize,
) -> Option<Affected> {
    let package = affected.get("package");
    let (Some(ecosystem), Some(name)) =
        (package.and_then(|p| text_at(p, "ecosystem")), package.and_then(|p| text_at(p, "name")))
    else {
        out.problem(source, location, format!("{osv_id}: affected[{index}] names no package; skipped"));
        return None;
    };
    let ecosystem = normalise_ecosystem(ecosystem);
    let package = normalise_package(&ecosystem, name);
    let mut ranges = Vec::new();
    for range in array_at(affected, "ranges") {
        let kind = match str_at(range, "type") {
            Some("ECOSYSTEM") => RangeKind::Ecosystem,
            Some("SEMVER") => RangeKind::Semver,
            Some("GIT") => RangeKind::Git,
            other => {
                out.problem(source, location, format!("{osv_id}: unknown range type {other:?}; range skipped"));
                continue;
            }
        };
        ranges.extend(ranges_of(kind, array_at(range, "events")));
    }
    let versions: Vec<String> = strings_at(affected, "versions").map(str::to_string).collect();
    if ranges.is_empty() && versions.is_empty() {
        out.problem(source, location, format!("{osv_id}: {package} has neither ranges nor versions; skipped"));
        return None;
    }
    let urgency = [affected.get("ecosystem_specific"), affected.get("database_specific")]
        .into_iter()
        .flatten()
        .find_map(|specific| {
            ["severity", "urgency", "ubuntu_priority", "priority"].iter().find_map(|k| text_at(specific, k))
        })
        .map(str::to_string);
    Some(Affected {
        vulnerability: id.to_string(),
        fixed_version: merge::highest_fixed(&ecosystem, &ranges),
        status: status_of(&ranges),
        ecosystem,
        package,
        ranges,
        versions,
        distro_urgency: urgency,
        advisories: Vec::new(),
        note: None,
    })
}

/// Turns an OSV events list into ranges: each `introduced` opens a range (`0` means from
/// the first version) that the next `fixed` or `last_affected` closes; a range still open at
/// the end is affected without end. A `fixed` with no open range starts from the first
/// version.
fn ranges_of(kind: RangeKind, events: &[Value]) -> Vec<Range> {
    let mut out = Vec::new();
    let mut open: Option<Range> = None;
    let new_range = |introduced: Option<String>| Range { kind, introduced, fixed: None, last_affected: None };
    for event in events {
        if let Some(v) = text_at(event, "introduced") {
            if let Some(previous) = open.take() {
                out.push(previous);
            }
            open = Some(new_range((v != "0").then(|| v.to_string())));
        } else if let Some(v) = text_at(event, "fixed") {
            let mut range = open.take().unwrap_or_else(|| new_range(None));
            range.fixed = Some(v.to_string());
            out.push(range);
        } else if let Some(v) = text_at(event, "last_affected") {
            let mut range = open.take().unwrap_or_else(|| new_range(None));
            range.last_affected = Some(v.to_string());
            out.push(range);
        }
    }
    out.extend(open);
    out
}

/// `Fixed` when every matchable (non-GIT) range ends and at least one ends with a fixed
/// version; otherwise `Affected` (some versions have no fix, or only versions are listed).
fn status_of(ranges: &[Range]) -> Status {
    let mut matchable = ranges.iter().filter(|r| r.kind != RangeKind::Git).peekable();
    if matchable.peek().is_none() {
        return Status::Affected;
    }
    let mut any_fixed = false;
    for range in matchable {
        match (&range.fixed, &range.last_affected) {
            (Some(_), _) => any_fixed = true,
            (None, Some(_)) => {}
            (None, None) => return Status::Affected,
        }
    }
    if any_fixed { Status::Fixed } else { Status::Affected }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ecosystems_are_normalised() {
        let cases = [
            ("Debian:12", "debian:12"),
            ("Alpine:v3.19", "alpine:3.19"),
            ("Ubuntu:22.04:LTS", "ubuntu:22.04"),
            ("Ubuntu:Pro:18.04:LTS", "ubuntu:18.04"),
            ("Rocky Linux:9", "rocky:9"),
            ("AlmaLinux:9", "almalinux:9"),
            ("Red Hat:enterprise_linux:9::appstream", "redhat:enterprise_linux:9::appstream"),
            ("PyPI", "PyPI"),
            ("crates.io", "crates.io"),
            ("Debian", "debian"),
        ];
        for (osv, model) in cases {
            assert_eq!(normalise_ecosystem(osv), model, "{osv}");
        }
        assert_eq!(normalise_package("PyPI", "Jinja2"), "jinja2");
        assert_eq!(normalise_package("Maven", "org.apache:commons"), "org.apache:commons");
    }

    #[test]
    fn events_become_ranges() {
        let events: Vec<Value> = serde_json::from_str(
            r#"[{"introduced":"0"},{"fixed":"1.2"},{"introduced":"2.0"},{"last_affected":"2.3"},{"introduced":"3.0"},{"limit":"4"}]"#,
        )
        .unwrap();
        let ranges = ranges_of(RangeKind::Ecosystem, &events);
        assert_eq!(ranges.len(), 3);
        assert_eq!((ranges[0].introduced.as_deref(), ranges[0].fixed.as_deref()), (None, Some("1.2")));
        assert_eq!((ranges[1].introduced.as_deref(), ranges[1].last_affected.as_deref()), (Some("2.0"), Some("2.3")));
        assert_eq!((ranges[2].introduced.as_deref(), ranges[2].fixed.as_deref()), (Some("3.0"), None));
        assert_eq!(status_of(&ranges), Status::Affected);
        assert_eq!(status_of(&ranges[..2]), Status::Fixed);
    }

    #[test]
    fn several_affected_entries_for_a_package_merge() {
        let record = r#"{"id":"GHSA-aaaa-bbbb-cccc","aliases":["CVE-2024-0001"],
            "severity":[{"type":"CVSS_V3","score":"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}],
            "database_specific":{"severity":"CRITICAL"},
            "affected":[
              {"package":{"ecosystem":"PyPI","name":"Some_Pkg"},"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"1.10"}]}]},
              {"package":{"ecosystem":"PyPI","name":"some.pkg"},"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"2.0"},{"fixed":"2.0.5"}]}]},
              {"package":{"ecosystem":"npm"}}
            ]}"#;
        let parsed = parse(record.as_bytes(), "t", "osv:PyPI");
        assert_eq!(parsed.affected.len(), 1);
        let a = &parsed.affected[0];
        assert_eq!((a.package.as_str(), a.ranges.len(), a.status), ("some-pkg", 2, Status::Fixed));
        assert_eq!(a.fixed_version.as_deref(), Some("2.0.5"));
        let v = &parsed.vulnerabilities[0];
        assert_eq!((v.cvss[0].base_score, v.cvss[0].source.as_str()), (9.8, "GHSA"));
        assert_eq!(v.severity.as_deref(), Some("CRITICAL"));
        assert_eq!(parsed.problems.len(), 1, "the package-less entry is reported");
    }

    #[test]
    fn distribution_records_merge_into_their_cve() {
        let record = r#"{"id":"DEBIAN-CVE-2024-0001","affected":[{"package":{"ecosystem":"Debian:12","name":"curl"},
            "ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"7.88.1-10+deb12u1"}]}]}]}"#;
        let parsed = parse(record.as_bytes(), "t", "osv:Debian");
        assert_eq!(parsed.vulnerabilities[0].id, "CVE-2024-0001");
        assert_eq!(parsed.vulnerabilities[0].aliases, ["DEBIAN-CVE-2024-0001"]);
        assert_eq!(parsed.affected[0].ecosystem, "debian:12");
        let dsa = r#"{"id":"DSA-5678-1","upstream":["CVE-2024-0001"],"affected":[{"package":{"ecosystem":"Debian:12","name":"curl"},
            "ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"7.88.1-10+deb12u1"}]}]}]}"#;
        let parsed = parse(dsa.as_bytes(), "t", "osv:Debian");
        assert_eq!(parsed.affected[0].advisories, ["DSA-5678-1"]);
        assert_eq!(parsed.vulnerabilities[0].aliases, ["CVE-2024-0001"]);
    }
}
