//! Debian advisory lists: the security tracker's `data/DSA/list` and `data/DLA/list`.
//!
//! The tracker JSON does not say which advisory (DSA, DLA) shipped a fix; these text files
//! do. Each advisory starts with a header line and continues with lines indented by a tab
//! (shown as spaces here):
//!
//! ```text
//! [21 Nov 2024] DSA-5815-1 needrestart - security update
//!     {CVE-2024-48990 CVE-2024-48991}
//!     [bookworm] - needrestart 3.6-4+deb12u2
//!     NOTE: free text
//! ```
//!
//! [`apply`] then names the advisory on every [`Affected`] entry of a listed CVE, release
//! and package.

use std::collections::HashMap;
use std::sync::LazyLock;

use regex::Regex;

use super::{Problem, debian, ids};
use crate::model::Affected;

/// The feed name used in [`crate::model::SourceInfo`] and problems.
pub const SOURCE: &str = "debian-advisories";

/// `[DD Mon YYYY] ID package - description`.
static HEADER: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^\[(\d{1,2}) ([A-Za-z]{3}) (\d{4})\] ([A-Z]+-[0-9]+(?:-[0-9]+)?)\s+(.*)$").unwrap());

/// `[codename] - package version`.
static RELEASE: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"^\[([a-z-]+)\]\s+-\s+(\S+)\s+(.+)$").unwrap());

/// One advisory of a list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Advisory {
    /// `DSA-5815-1`, `DLA-3456-1`.
    pub id: String,
    /// The header date as `YYYY-MM-DD`, when it reads as one.
    pub date: Option<String>,
    /// The package named in the header.
    pub package: String,
    pub description: String,
    pub cves: Vec<String>,
    /// (ecosystem, source package, fixed version) per release line with a version.
    pub fixes: Vec<(String, String, String)>,
}

/// Reads a DSA or DLA list. `location` names the file in problems.
pub fn parse(text: &str, location: &str) -> (Vec<Advisory>, Vec<Problem>) {
    let mut advisories: Vec<Advisory> = Vec::new();
    let mut problems = Vec::new();
    let mut problem = |line_no: usize, message: String| {
        problems.push(Problem { source: SOURCE.to_string(), location: format!("{location}:{line_no}"), message });
    };
    for (index, line) in text.lines().enumerate() {
        let line_no = index + 1;
        if line.trim().is_empty() {
            continue;
        }
        if !line.starts_with([' ', '\t']) {
            match header(line) {
                Some(advisory) => advisories.push(advisory),
                None => problem(line_no, format!("not an advisory header: {}", shorten(line))),
            }
            continue;
        }
        let body = line.trim();
        let Some(current) = advisories.last_mut() else {
            problem(line_no, "indented line before the first advisory".to_string());
            continue;
        };
        if let Some(list) = body.strip_prefix('{').and_then(|b| b.strip_suffix('}')) {
            for token in list.split_whitespace() {
                match ids::clean_id(token) {
                    ids::CleanId::Valid(id) => current.cves.push(id),
                    ids::CleanId::Repaired(id, how) => {
                        problem(line_no, format!("{}: {how}", current.id));
                        current.cves.push(id);
                    }
                    ids::CleanId::NotAnId => problem(line_no, format!("{}: {token:?} is not an id", current.id)),
                }
            }
        } else if let Some(caps) = RELEASE.captures(body) {
            let (Some(codename), Some(package), Some(version)) = (caps.get(1), caps.get(2), caps.get(3)) else {
                continue;
            };
            let version = version.as_str().trim();
            // `<not-affected>` and similar markers name no fixed version: nothing shipped.
            if version.starts_with('<') {
                continue;
            }
            match debian::ecosystem_of(codename.as_str()) {
                Some(ecosystem) => current.fixes.push((ecosystem, package.as_str().to_string(), version.to_string())),
                None => problem(line_no, format!("{}: unknown release {:?}", current.id, codename.as_str())),
            }
        } else if !body.starts_with("NOTE:") && !body.starts_with("TODO:") {
            problem(line_no, format!("{}: unrecognised line: {}", current.id, shorten(body)));
        }
    }
    (advisories, problems)
}

/// Reads a header line into an advisory without CVEs or fixes yet.
fn header(line: &str) -> Option<Advisory> {
    let caps = HEADER.captures(line.trim_end())?;
    let day: u32 = caps.get(1)?.as_str().parse().ok()?;
    // A day or month that cannot be leaves the advisory without a date, not without its id.
    let month = month_number(caps.get(2)?.as_str()).filter(|_| (1..=31).contains(&day));
    let year = caps.get(3)?.as_str();
    let id = caps.get(4)?.as_str().to_string();
    let rest = caps.get(5)?.as_str();
    let (package, description) = rest.split_once(" - ").unwrap_or((rest, ""));
    Some(Advisory {
        id,
        date: month.map(|m| format!("{year}-{m:02}-{day:02}")),
        package: package.trim().to_string(),
        description: description.trim().to_string(),
        cves: Vec::new(),
        fixes: Vec::new(),
    })
}

fn month_number(name: &str) -> Option<u32> {
    const MONTHS: [&str; 12] = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];
    let name = name.to_ascii_lowercase();
    MONTHS.iter().position(|m| *m == name).and_then(|i| u32::try_from(i + 1).ok())
}

/// The first 80 characters of a line, for messages.
fn shorten(line: &str) -> String {
    line.chars().take(80).collect()
}

/// Names each advisory on the [`Affected`] entries it fixed: same CVE, same release, same
/// source package. Returns how many entries gained an advisory. Advisories without release
/// lines (the oldest ones) name no release and are not applied, rather than guessed.
pub fn apply(advisories: &[Advisory], affected: &mut [Affected]) -> u64 {
    let mut index: HashMap<(&str, &str, &str), usize> = HashMap::new();
    for (i, a) in affected.iter().enumerate() {
        index.insert((a.vulnerability.as_str(), a.ecosystem.as_str(), a.package.as_str()), i);
    }
    let mut targets: Vec<(usize, &str)> = Vec::new();
    for advisory in advisories {
        for (ecosystem, package, _version) in &advisory.fixes {
            for cve in &advisory.cves {
                if let Some(&i) = index.get(&(cve.as_str(), ecosystem.as_str(), package.as_str())) {
                    targets.push((i, advisory.id.as_str()));
                }
            }
        }
    }
    let mut changed = 0;
    for (i, id) in targets {
        if let Some(entry) = affected.get_mut(i)
            && !entry.advisories.iter().any(|a| a == id)
        {
            entry.advisories.push(id.to_string());
            changed += 1;
        }
    }
    changed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_cves_and_releases_are_read() {
        let text = "[02 Jan 2025] DSA-9001-1 examplepkg - security update\n\
                    \t{CVE-2024-11111 CVE-2024-22222}\n\
                    \t[bookworm] - examplepkg 1.2-3+deb12u1\n\
                    \t[bullseye] - examplepkg <not-affected> (Vulnerable code not present)\n\
                    \tNOTE: a note\n\
                    garbage line\n";
        let (advisories, problems) = parse(text, "list");
        assert_eq!(advisories.len(), 1);
        let a = &advisories[0];
        assert_eq!(
            (a.id.as_str(), a.package.as_str(), a.date.as_deref()),
            ("DSA-9001-1", "examplepkg", Some("2025-01-02"))
        );
        assert_eq!(a.cves, ["CVE-2024-11111", "CVE-2024-22222"]);
        assert_eq!(a.fixes, [("debian:12".to_string(), "examplepkg".to_string(), "1.2-3+deb12u1".to_string())]);
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].location, "list:6");
    }
}
