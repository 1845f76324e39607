//! Alpine's secdb JSON (`https://secdb.alpinelinux.org/vX.Y/{main,community}.json`).
//!
//! `{distroversion: "v3.10", reponame, packages: [{pkg: {name, secfixes: {"<pkgver>":
//! ["CVE-…", …]}}}]}`. Each (id, package) under a version becomes a `Fixed` entry below that
//! version; version `0` means the package was never affected. The package is the origin
//! (APKBUILD) name, which is what secdb lists.
//!
//! The entries are hand-written in the aports tree, so they carry quirks that are read as
//! follows (each repair is recorded as a problem):
//! - several ids in one entry (`CVE-2019-5060 TALOS-2019-0844`): the CVE ids are the
//!   vulnerabilities and the other ids become their aliases; an entry without a CVE id
//!   (`XSA-207`) is its own vulnerability;
//! - `CVE_2019-2426`, `CVE 2018-16859`, `CVE-2017-17434-1`, `CVE-2019-19451.patch`: read as
//!   the CVE id they damage;
//! - parenthesised remarks (`CVE-2018-14468 (FrameRelay)`) become the entry's note;
//! - placeholders (`CVE-????-?????`) are dropped.

use serde_json::Value;

use super::json::{array_at, kind, str_at};
use super::merge::{self, TextRank};
use super::{Parsed, ids};
use crate::model::{Affected, Range, RangeKind, Status, Vulnerability};

/// The feed name prefix; a file's source is `alpine-secdb:v3.10/main`.
pub const SOURCE: &str = "alpine-secdb";

/// What one file is: its release and repository, read from the file itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Release {
    /// `v3.10` as written.
    pub distroversion: String,
    pub reponame: String,
}

impl Release {
    /// The feed name of this file (`alpine-secdb:v3.10/main`).
    pub fn source(&self) -> String {
        format!("{SOURCE}:{}/{}", self.distroversion, self.reponame)
    }
}

/// The ecosystem of an Alpine release as secdb writes it (`v3.10` → `alpine:3.10`).
pub fn ecosystem_of(distroversion: &str) -> String {
    let version = distroversion.trim();
    let version = version.strip_prefix('v').unwrap_or(version);
    format!("alpine:{version}")
}

/// Reads one secdb file. `location` names the file in problems; `fallback` gives the
/// release and repository to use when the file does not say (for instance from its
/// path), so that a file missing `distroversion` still lands in the right release.
pub fn parse(data: &[u8], location: &str, fallback: Option<&Release>) -> (Parsed, Option<Release>) {
    let mut out = Parsed::new(TextRank::None);
    let root: Value = match serde_json::from_slice(data) {
        Ok(v) => v,
        Err(e) => {
            out.problem(SOURCE, location, format!("not valid JSON: {e}"));
            return (out, fallback.cloned());
        }
    };
    let from_file = match (str_at(&root, "distroversion"), str_at(&root, "reponame")) {
        (Some(d), Some(r)) => Some(Release { distroversion: d.trim().to_string(), reponame: r.trim().to_string() }),
        _ => None,
    };
    let Some(release) = from_file.or_else(|| fallback.cloned()) else {
        out.problem(SOURCE, location, "no distroversion/reponame in the file and none known from its path");
        return (out, None);
    };
    let source = release.source();
    let ecosystem = ecosystem_of(&release.distroversion);
    if root.get("packages").is_none_or(|p| !p.is_array()) {
        out.problem(&source, location, "no packages array");
    }
    for (index, entry) in array_at(&root, "packages").iter().enumerate() {
        let pkg = entry.get("pkg").unwrap_or(entry);
        let Some(name) = str_at(pkg, "name").map(str::trim).filter(|n| !n.is_empty()) else {
            out.problem(&source, location, format!("packages[{index}]: no package name"));
            continue;
        };
        let secfixes = match pkg.get("secfixes") {
            Some(Value::Object(map)) => map,
            // A package may list no fixes at all.
            None | Some(Value::Null) => continue,
            Some(other) => {
                out.problem(&source, location, format!("{name}: secfixes is {}, not an object", kind(other)));
                continue;
            }
        };
        for (version, list) in secfixes {
            let Some(list) = list.as_array() else {
                if !list.is_null() {
                    out.problem(
                        &source,
                        location,
                        format!("{name} {version}: {} instead of a list of ids", kind(list)),
                    );
                }
                continue;
            };
            for item in list {
                let Some(text) = item.as_str() else {
                    out.problem(&source, location, format!("{name} {version}: {} instead of an id", kind(item)));
                    continue;
                };
                add_fix(&mut out, &source, location, &ecosystem, name, version.trim(), text);
            }
        }
    }
    // A CVE listed under two versions of a package (a fix, then a better fix) is one
    // entry with both ranges; the highest fixed version is the safe one to name.
    out.affected = merge::dedupe_affected(std::mem::take(&mut out.affected));
    out.vulnerabilities = merge::dedupe_vulnerabilities(std::mem::take(&mut out.vulnerabilities));
    (out, Some(release))
}

/// The ids and remark of one secfixes entry.
struct Entry {
    cves: Vec<String>,
    others: Vec<String>,
    note: Option<String>,
}

/// Splits one secfixes entry into ids and a remark, recording each repair.
fn read_entry(text: &str, repairs: &mut Vec<String>) -> Entry {
    let (ids_part, note) = match text.find('(') {
        Some(open) => {
            let remark = text.get(open..).unwrap_or("").trim().trim_start_matches('(').trim_end_matches(')').trim();
            (text.get(..open).unwrap_or(text), (!remark.is_empty()).then(|| remark.to_string()))
        }
        None => (text, None),
    };
    let tokens: Vec<&str> = ids_part.split_whitespace().collect();
    let mut entry = Entry { cves: Vec::new(), others: Vec::new(), note };
    let mut i = 0;
    while let Some(&token) = tokens.get(i) {
        i += 1;
        // `CVE 2018-16859`: the id split by a space.
        let joined;
        let token = if token == "CVE" && tokens.get(i).is_some_and(|n| n.starts_with(|c: char| c.is_ascii_digit())) {
            joined = format!("CVE-{}", tokens.get(i).copied().unwrap_or(""));
            i += 1;
            repairs.push(format!("read \"CVE {}\" as {joined}", joined.trim_start_matches("CVE-")));
            joined.as_str()
        } else {
            token
        };
        match ids::clean_id(token) {
            ids::CleanId::Valid(id) if ids::is_cve(&id) => entry.cves.push(id),
            ids::CleanId::Valid(id) => entry.others.push(id),
            ids::CleanId::Repaired(id, how) => {
                repairs.push(how);
                entry.cves.push(id);
            }
            ids::CleanId::NotAnId => repairs.push(format!("dropped {token:?}, which is not an id")),
        }
    }
    entry
}

/// Adds the vulnerabilities and affected entries of one secfixes entry.
fn add_fix(out: &mut Parsed, source: &str, location: &str, ecosystem: &str, package: &str, version: &str, text: &str) {
    let mut repairs = Vec::new();
    let entry = read_entry(text, &mut repairs);
    for how in repairs {
        out.problem(source, location, format!("{package} {version}: \"{text}\": {how}"));
    }
    let (main_ids, aliases) =
        if entry.cves.is_empty() { (entry.others, Vec::new()) } else { (entry.cves, entry.others) };
    if version.is_empty() {
        out.problem(source, location, format!("{package}: empty version for \"{text}\"; skipped"));
        return;
    }
    let not_affected = version == "0";
    for id in main_ids {
        out.vulnerabilities.push(Vulnerability {
            id: id.clone(),
            aliases: aliases.clone(),
            summary: None,
            description: None,
            published: None,
            modified: None,
            cvss: Vec::new(),
            severity: None,
            references: Vec::new(),
            withdrawn: false,
        });
        let (status, ranges, fixed_version) = if not_affected {
            (Status::NotAffected, Vec::new(), None)
        } else {
            let range = Range {
                kind: RangeKind::Ecosystem,
                introduced: None,
                fixed: Some(version.to_string()),
                last_affected: None,
            };
            (Status::Fixed, vec![range], Some(version.to_string()))
        };
        out.affected.push(Affected {
            vulnerability: id,
            ecosystem: ecosystem.to_string(),
            package: package.to_string(),
            status,
            ranges,
            versions: Vec::new(),
            fixed_version,
            distro_urgency: None,
            advisories: Vec::new(),
            note: entry.note.clone(),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_text(text: &str) -> Parsed {
        parse(text.as_bytes(), "t", None).0
    }

    #[test]
    fn quirky_entries_are_repaired_and_reported() {
        let parsed = parse_text(
            r#"{"distroversion":"v3.10","reponame":"main","packages":[{"pkg":{"name":"sdl","secfixes":{
                "1.2-r1":["CVE-2019-5060 TALOS-2019-0844","CVE_2019-2426","CVE-2017-17434-1","CVE 2018-16859",
                          "CVE-2018-14468 (FrameRelay)","CVE-????-?????  XSA-295","XSA-207"],
                "0":["CVE-2020-0001"]}}}]}"#,
        );
        let mut ids: Vec<&str> = parsed.affected.iter().map(|a| a.vulnerability.as_str()).collect();
        ids.sort_unstable();
        let expected = [
            "CVE-2017-17434",
            "CVE-2018-14468",
            "CVE-2018-16859",
            "CVE-2019-2426",
            "CVE-2019-5060",
            "CVE-2020-0001",
            "XSA-207",
            "XSA-295",
        ];
        assert_eq!(ids, expected);
        let find = |id: &str| parsed.affected.iter().find(|a| a.vulnerability == id).unwrap();
        let talos = parsed.vulnerabilities.iter().find(|v| v.id == "CVE-2019-5060").unwrap();
        assert_eq!(talos.aliases, ["TALOS-2019-0844"]);
        assert_eq!(find("CVE-2018-14468").note.as_deref(), Some("FrameRelay"));
        let never = find("CVE-2020-0001");
        assert_eq!((never.status, never.ranges.len(), never.fixed_version.as_ref()), (Status::NotAffected, 0, None));
        let fixed = find("CVE-2019-5060");
        assert_eq!((fixed.ecosystem.as_str(), fixed.status), ("alpine:3.10", Status::Fixed));
        assert_eq!(fixed.fixed_version.as_deref(), Some("1.2-r1"));
        // Four repairs: the underscore, the suffix, the space and the placeholder.
        assert_eq!(parsed.problems.len(), 4, "{:#?}", parsed.problems);
    }
}
