//! The Debian Security Tracker JSON export (`https://security-tracker.debian.org/tracker/data/json`).
//!
//! Layout: source package → CVE (or `TEMP-…`) id → `{description, debianbug?, scope?,
//! releases}`, and `releases.<codename>` → `{status, repositories, fixed_version?, urgency,
//! nodsa?, nodsa_reason?, next_point_update?}`. The tracker's conventions, as its
//! `data/CVE/list` notation reaches the export:
//!
//! | tracker notation | export | [`Status`] |
//! | --- | --- | --- |
//! | `<not-affected>` | resolved, `fixed_version` `0` | `NotAffected` |
//! | a fixed version | resolved, `fixed_version` | `Fixed` |
//! | `<unfixed>` | open | `Affected` |
//! | `<no-dsa>` | open, `nodsa` = the reason text | `NoDsa` |
//! | `<ignored>` | open, `nodsa_reason` `ignored` | `WillNotFix` |
//! | `<postponed>` | open, `nodsa_reason` `postponed` | `Postponed` |
//! | `<end-of-life>` | open, urgency `end-of-life` | `EndOfLife` |
//! | `unimportant` | urgency `unimportant` | `Unimportant` |
//! | not yet checked | undetermined | `Affected` |
//!
//! Urgencies the tracker derived from NVD's severity carry `*` or `**` markers; those are
//! stripped. The package is the SOURCE package, as the tracker keys it.

use serde_json::{Map, Value};

use super::json::{kind, text_at};
use super::merge::{self, TextRank};
use super::{Parsed, ids};
use crate::model::{Affected, Range, RangeKind, Status, Vulnerability};

/// The feed name used in [`crate::model::SourceInfo`] and problems.
pub const SOURCE: &str = "debian-tracker";

/// Debian release codenames and the ecosystem release each stands for.
pub const CODENAMES: [(&str, &str); 16] = [
    ("sid", "unstable"),
    ("unstable", "unstable"),
    ("duke", "15"),
    ("forky", "14"),
    ("trixie", "13"),
    ("bookworm", "12"),
    ("bullseye", "11"),
    ("buster", "10"),
    ("stretch", "9"),
    ("jessie", "8"),
    ("wheezy", "7"),
    ("squeeze", "6"),
    ("lenny", "5"),
    ("etch", "4"),
    ("sarge", "3.1"),
    ("woody", "3.0"),
];

/// The ecosystem of Debian release `codename` (`bookworm` → `debian:12`), or `None` for a
/// codename this table does not know.
pub fn ecosystem_of(codename: &str) -> Option<String> {
    let codename = codename.trim().to_ascii_lowercase();
    let codename = codename.strip_suffix("-security").unwrap_or(&codename);
    CODENAMES.iter().find(|(name, _)| *name == codename).map(|(_, release)| format!("debian:{release}"))
}

/// Reads a tracker export. `location` names the file in problems.
pub fn parse(data: &[u8], location: &str) -> Parsed {
    let mut out = Parsed::new(TextRank::Tracker);
    let root: Value = match serde_json::from_slice(data) {
        Ok(v) => v,
        Err(e) => {
            out.problem(SOURCE, location, format!("not valid JSON: {e}"));
            return out;
        }
    };
    let Some(packages) = root.as_object() else {
        out.problem(SOURCE, location, format!("top level is {}, not an object of packages", kind(&root)));
        return out;
    };
    for (package, cves) in packages {
        let Some(cves) = cves.as_object() else {
            out.problem(SOURCE, location, format!("package {package}: {} instead of an object of CVEs", kind(cves)));
            continue;
        };
        for (id, entry) in cves {
            read_entry(&mut out, location, package, id, entry);
        }
    }
    // A CVE of several source packages is one vulnerability.
    out.vulnerabilities = merge::dedupe_vulnerabilities(std::mem::take(&mut out.vulnerabilities));
    out
}

/// Reads one (package, id) entry into a vulnerability and one affected entry per release.
fn read_entry(out: &mut Parsed, location: &str, package: &str, id: &str, entry: &Value) {
    let id = id.trim();
    if id.is_empty() || id.len() > 64 {
        out.problem(SOURCE, location, format!("package {package}: skipped an entry with an unusable id"));
        return;
    }
    if !entry.is_object() {
        out.problem(SOURCE, location, format!("{package} {id}: {} instead of an object", kind(entry)));
        return;
    }
    let mut references = Vec::new();
    if let Some(bug) = entry.get("debianbug").and_then(Value::as_u64) {
        references.push(format!("https://bugs.debian.org/{bug}"));
    }
    out.vulnerabilities.push(Vulnerability {
        id: id.to_string(),
        aliases: Vec::new(),
        summary: None,
        description: text_at(entry, "description").map(str::to_string),
        published: None,
        modified: None,
        cvss: Vec::new(),
        severity: None,
        references,
        withdrawn: false,
    });
    let Some(releases) = entry.get("releases").and_then(Value::as_object) else {
        out.problem(SOURCE, location, format!("{package} {id}: no releases object"));
        return;
    };
    for (codename, release) in releases {
        let Some(release) = release.as_object() else {
            out.problem(SOURCE, location, format!("{package} {id} {codename}: release is not an object"));
            continue;
        };
        let ecosystem = match ecosystem_of(codename) {
            Some(e) => e,
            None => {
                out.problem(
                    SOURCE,
                    location,
                    format!("unknown Debian codename {codename:?}; kept as debian:{codename}"),
                );
                format!("debian:{codename}")
            }
        };
        if !ids::is_cve(id) && !id.starts_with("TEMP-") {
            // Not fatal: the tracker also tracks DSA-only and vendor ids.
            out.problem(SOURCE, location, format!("{package}: id {id:?} is neither a CVE nor a TEMP id"));
        }
        let affected = read_release(out, location, package, id, ecosystem, release);
        out.affected.push(affected);
    }
}

/// Maps one release object to an [`Affected`] entry, following the table in the module
/// documentation.
fn read_release(
    out: &mut Parsed,
    location: &str,
    package: &str,
    id: &str,
    ecosystem: String,
    release: &Map<String, Value>,
) -> Affected {
    let field = |key: &str| release.get(key).and_then(Value::as_str).map(str::trim).filter(|s| !s.is_empty());
    let status_text = field("status").unwrap_or("");
    let urgency = field("urgency").map(|u| u.trim_end_matches('*').trim().to_string()).filter(|u| !u.is_empty());
    let fixed = field("fixed_version");
    let nodsa = field("nodsa");
    let nodsa_reason = field("nodsa_reason");
    let urgency_is = |word: &str| urgency.as_deref() == Some(word);

    let status = match status_text {
        "resolved" if fixed == Some("0") => Status::NotAffected,
        "resolved" if fixed.is_none() => {
            out.problem(
                SOURCE,
                location,
                format!("{package} {id}: resolved without a fixed version; taken as affected"),
            );
            Status::Affected
        }
        "resolved" if urgency_is("unimportant") => Status::Unimportant,
        "resolved" => Status::Fixed,
        "open" | "undetermined" => {
            if urgency_is("unimportant") {
                Status::Unimportant
            } else if urgency_is("end-of-life") {
                Status::EndOfLife
            } else if nodsa_reason == Some("ignored") {
                Status::WillNotFix
            } else if nodsa_reason == Some("postponed") || urgency_is("postponed") {
                Status::Postponed
            } else if nodsa.is_some() {
                Status::NoDsa
            } else {
                Status::Affected
            }
        }
        other => {
            let shown = match release.get("status") {
                Some(Value::String(_)) | None => format!("{other:?}"),
                Some(v) => kind(v).to_string(),
            };
            out.problem(SOURCE, location, format!("{package} {id}: unknown status {shown}; taken as affected"));
            Status::Affected
        }
    };
    // An open entry affects every version; a fixed one those below the fix. A fixed
    // version on an open entry (the tracker sometimes keeps the unstable fix there) is not
    // a fix for this release, so it is not used.
    let resolved_fix = (status_text == "resolved").then_some(fixed).flatten().filter(|f| *f != "0");
    let ranges = match (status, resolved_fix) {
        (Status::NotAffected, _) => Vec::new(),
        (_, fix) => vec![Range {
            kind: RangeKind::Ecosystem,
            introduced: None,
            fixed: fix.map(str::to_string),
            last_affected: None,
        }],
    };
    let note = match (nodsa, nodsa_reason) {
        (Some(text), _) => Some(text.to_string()),
        (None, Some(reason)) => Some(reason.to_string()),
        (None, None) => None,
    };
    Affected {
        vulnerability: id.to_string(),
        ecosystem,
        package: package.to_string(),
        status,
        ranges,
        versions: Vec::new(),
        fixed_version: resolved_fix.map(str::to_string),
        distro_urgency: urgency,
        advisories: Vec::new(),
        note,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(release: &str) -> Affected {
        let data =
            format!(r#"{{"pkg":{{"CVE-2024-0001":{{"description":"d","releases":{{"bookworm":{release}}}}}}}}}"#);
        let parsed = parse(data.as_bytes(), "t");
        assert_eq!(parsed.affected.len(), 1, "{:?}", parsed.problems);
        parsed.affected.into_iter().next().unwrap()
    }

    #[test]
    fn statuses_follow_the_tracker_conventions() {
        let cases = [
            (r#"{"status":"resolved","fixed_version":"0","urgency":"unimportant"}"#, Status::NotAffected),
            (r#"{"status":"resolved","fixed_version":"1.2-1","urgency":"low"}"#, Status::Fixed),
            (r#"{"status":"resolved","fixed_version":"1.2-1","urgency":"unimportant"}"#, Status::Unimportant),
            (r#"{"status":"open","urgency":"not yet assigned"}"#, Status::Affected),
            (r#"{"status":"undetermined","urgency":"not yet assigned"}"#, Status::Affected),
            (r#"{"status":"open","urgency":"unimportant"}"#, Status::Unimportant),
            (r#"{"status":"open","urgency":"end-of-life"}"#, Status::EndOfLife),
            (r#"{"status":"open","urgency":"low","nodsa":"Minor issue","nodsa_reason":""}"#, Status::NoDsa),
            (r#"{"status":"open","urgency":"low","nodsa":"Minor","nodsa_reason":"ignored"}"#, Status::WillNotFix),
            (r#"{"status":"open","urgency":"low","nodsa":"Minor","nodsa_reason":"postponed"}"#, Status::Postponed),
        ];
        for (release, status) in cases {
            assert_eq!(one(release).status, status, "{release}");
        }
    }

    #[test]
    fn fixed_entries_have_a_range_and_stripped_urgency() {
        let a = one(r#"{"status":"resolved","fixed_version":"1:2.0-3","urgency":"high**"}"#);
        assert_eq!(a.ecosystem, "debian:12");
        assert_eq!(a.fixed_version.as_deref(), Some("1:2.0-3"));
        assert_eq!(a.distro_urgency.as_deref(), Some("high"));
        assert_eq!(a.ranges.len(), 1);
        assert_eq!(a.ranges[0].fixed.as_deref(), Some("1:2.0-3"));
        let open = one(r#"{"status":"open","urgency":"medium*","nodsa":"Minor issue"}"#);
        assert_eq!((open.ranges[0].fixed.as_ref(), open.fixed_version.as_ref()), (None, None));
        assert_eq!(open.note.as_deref(), Some("Minor issue"));
        assert_eq!(open.distro_urgency.as_deref(), Some("medium"));
    }

    #[test]
    fn codenames_map_to_releases() {
        assert_eq!(ecosystem_of("bookworm").as_deref(), Some("debian:12"));
        assert_eq!(ecosystem_of("sid").as_deref(), Some("debian:unstable"));
        assert_eq!(ecosystem_of("Trixie").as_deref(), Some("debian:13"));
        assert_eq!(ecosystem_of("hamm"), None);
    }
}
