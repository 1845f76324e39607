//! Merging what several feeds say about the same identifier and package.
//!
//! Feeds overlap: the Debian tracker, Alpine's secdb, OSV, CVE JSON 5 and NVD all publish
//! facts about the same CVE. The merger keeps one [`Vulnerability`] per id (union of
//! aliases, references and CVSS assessments; the best description; the earliest
//! publication date) and one [`Affected`] per (vulnerability, ecosystem, package).

use std::cmp::Ordering;
use std::collections::{BTreeSet, HashMap, HashSet};

use vercmp::Scheme;

use super::Parsed;
use crate::model::{Affected, Range, RangeKind, Vulnerability};

/// How authoritative a feed's descriptive text is. A description from a higher rank
/// replaces one from a lower rank; between equal ranks the first one read stays.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TextRank {
    /// The feed carries no description.
    #[default]
    None,
    /// Distribution tracker text (the Debian tracker, whose text may be changelog lines).
    Tracker,
    /// An advisory database (OSV), written for the advisory's own ecosystem.
    Advisory,
    /// The CVE record itself (CVE JSON 5) or NVD, which republishes it.
    Authority,
}

/// Collects the records of several feeds and merges them.
#[derive(Debug, Default)]
pub struct Merger {
    vulnerabilities: HashMap<String, (Vulnerability, TextRank)>,
    affected: HashMap<(String, String, String), Affected>,
}

/// How many distinct records one feed contributed, for its [`crate::model::SourceInfo`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Contribution {
    pub vulnerabilities: u64,
    pub affected: u64,
}

impl Merger {
    /// Adds the records of one feed (problems are not the merger's business: the caller
    /// keeps them). Returns how many distinct records the feed holds.
    pub fn add(&mut self, parsed: Parsed) -> Contribution {
        let rank = parsed.text_rank;
        let mut vuln_ids = HashSet::new();
        for vulnerability in parsed.vulnerabilities {
            vuln_ids.insert(vulnerability.id.clone());
            match self.vulnerabilities.get_mut(&vulnerability.id) {
                Some((known, known_rank)) => merge_vulnerability(known, known_rank, vulnerability, rank),
                None => {
                    self.vulnerabilities.insert(vulnerability.id.clone(), (vulnerability, rank));
                }
            }
        }
        let mut affected_keys = HashSet::new();
        for affected in parsed.affected {
            let key = (affected.vulnerability.clone(), affected.ecosystem.clone(), affected.package.clone());
            affected_keys.insert(key.clone());
            match self.affected.get_mut(&key) {
                Some(known) => merge_affected(known, affected),
                None => {
                    self.affected.insert(key, affected);
                }
            }
        }
        Contribution { vulnerabilities: vuln_ids.len() as u64, affected: affected_keys.len() as u64 }
    }

    /// The merged records, sorted: vulnerabilities by id, affected entries by
    /// (vulnerability, ecosystem, package). A CVE that another record names as an alias
    /// gets that record's id among its own aliases, so either id leads to the other.
    pub fn finish(self) -> (Vec<Vulnerability>, Vec<Affected>) {
        let mut vulnerabilities: HashMap<String, Vulnerability> =
            self.vulnerabilities.into_iter().map(|(id, (v, _))| (id, v)).collect();
        let mut back_links: Vec<(String, String)> = Vec::new();
        for v in vulnerabilities.values() {
            for alias in &v.aliases {
                if alias != &v.id && vulnerabilities.contains_key(alias) {
                    back_links.push((alias.clone(), v.id.clone()));
                }
            }
        }
        for (target, alias) in back_links {
            if let Some(v) = vulnerabilities.get_mut(&target) {
                v.aliases.push(alias);
            }
        }
        let mut vulnerabilities: Vec<Vulnerability> = vulnerabilities.into_values().collect();
        for v in &mut vulnerabilities {
            tidy(v);
        }
        vulnerabilities.sort_by(|a, b| a.id.cmp(&b.id));
        let mut affected: Vec<Affected> = self.affected.into_values().collect();
        affected.sort_by(|a, b| {
            (&a.vulnerability, &a.ecosystem, &a.package).cmp(&(&b.vulnerability, &b.ecosystem, &b.package))
        });
        (vulnerabilities, affected)
    }
}

/// Sorts and de-duplicates the list fields of a merged record.
fn tidy(v: &mut Vulnerability) {
    let aliases: BTreeSet<String> = v.aliases.drain(..).filter(|a| a != &v.id).collect();
    v.aliases = aliases.into_iter().collect();
    let mut seen = HashSet::new();
    v.references.retain(|r| seen.insert(r.clone()));
}

/// Folds `new` (from a feed of rank `rank`) into `known`.
fn merge_vulnerability(known: &mut Vulnerability, known_rank: &mut TextRank, new: Vulnerability, rank: TextRank) {
    let better_text = rank > *known_rank;
    if new.description.is_some() && (better_text || known.description.is_none()) {
        known.description = new.description;
        *known_rank = rank.max(*known_rank);
    }
    if new.summary.is_some() && (better_text || known.summary.is_none()) {
        known.summary = new.summary;
    }
    known.published = earliest(known.published.take(), new.published);
    known.modified = latest(known.modified.take(), new.modified);
    known.aliases.extend(new.aliases);
    known.references.extend(new.references);
    for cvss in new.cvss {
        let duplicate =
            known.cvss.iter().any(|c| c.version == cvss.version && c.vector == cvss.vector && c.source == cvss.source);
        if !duplicate {
            known.cvss.push(cvss);
        }
    }
    if known.severity.is_none() {
        known.severity = new.severity;
    }
    known.withdrawn |= new.withdrawn;
}

fn earliest(a: Option<String>, b: Option<String>) -> Option<String> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

fn latest(a: Option<String>, b: Option<String>) -> Option<String> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    }
}

/// Folds `new` into `known` for the same (vulnerability, ecosystem, package). The first
/// feed's status, urgency and note stay; ranges, versions and advisories are united; the
/// fixed version becomes the highest of both (see [`highest_fixed`]).
pub(crate) fn merge_affected(known: &mut Affected, new: Affected) {
    for range in new.ranges {
        if !known.ranges.contains(&range) {
            known.ranges.push(range);
        }
    }
    for version in new.versions {
        if !known.versions.contains(&version) {
            known.versions.push(version);
        }
    }
    for advisory in new.advisories {
        if !known.advisories.contains(&advisory) {
            known.advisories.push(advisory);
        }
    }
    known.fixed_version =
        highest_fixed(&known.ecosystem, &known.ranges).or(known.fixed_version.take()).or(new.fixed_version);
    if known.distro_urgency.is_none() {
        known.distro_urgency = new.distro_urgency;
    }
    if known.note.is_none() {
        known.note = new.note;
    }
}

/// Merges records with the same id from one feed, keeping the order in which each id
/// first appears (a feed that lists a CVE once per package yields it once).
pub(crate) fn dedupe_vulnerabilities(records: Vec<Vulnerability>) -> Vec<Vulnerability> {
    let mut out: Vec<Vulnerability> = Vec::with_capacity(records.len());
    let mut index: HashMap<String, usize> = HashMap::new();
    for record in records {
        match index.get(&record.id).and_then(|&i| out.get_mut(i)) {
            Some(known) => {
                let mut rank = TextRank::None;
                merge_vulnerability(known, &mut rank, record, TextRank::None);
                tidy(known);
            }
            None => {
                index.insert(record.id.clone(), out.len());
                out.push(record);
            }
        }
    }
    out
}

/// Merges entries with the same (vulnerability, ecosystem, package), keeping the order in
/// which each key first appears.
pub(crate) fn dedupe_affected(entries: Vec<Affected>) -> Vec<Affected> {
    let mut out: Vec<Affected> = Vec::with_capacity(entries.len());
    let mut index: HashMap<(String, String, String), usize> = HashMap::new();
    for entry in entries {
        let key = (entry.vulnerability.clone(), entry.ecosystem.clone(), entry.package.clone());
        match index.get(&key).and_then(|&i| out.get_mut(i)) {
            Some(known) => merge_affected(known, entry),
            None => {
                index.insert(key, out.len());
                out.push(entry);
            }
        }
    }
    out
}

/// The version order of `ecosystem` for ranges of `kind`, when this crate knows it.
pub(crate) fn scheme_for(ecosystem: &str, kind: RangeKind) -> Option<Scheme> {
    match kind {
        RangeKind::Git => return None,
        RangeKind::Semver => return Some(Scheme::Semver),
        RangeKind::Ecosystem => {}
    }
    let distro = ecosystem.split(':').next().unwrap_or(ecosystem);
    match distro {
        "debian" | "ubuntu" => Some(Scheme::Dpkg),
        "alpine" => Some(Scheme::Apk),
        "rocky" | "almalinux" | "redhat" => Some(Scheme::Rpm),
        "PyPI" => Some(Scheme::Pep440),
        "npm" => Some(Scheme::Semver),
        "crates.io" => Some(Scheme::Cargo),
        "Maven" => Some(Scheme::Maven),
        "RubyGems" => Some(Scheme::RubyGems),
        _ => None,
    }
}

/// The highest `fixed` version among `ranges` that are ordered by a known scheme.
/// Upgrading to at least this version leaves every listed range, so it is the one safe
/// answer for a solution text; the matcher can refine it with the range an installed
/// version falls in. `None` when no range has a fixed version. When two fixed versions
/// cannot be compared, the one listed first is kept.
pub(crate) fn highest_fixed(ecosystem: &str, ranges: &[Range]) -> Option<String> {
    let mut best: Option<(&str, RangeKind)> = None;
    for range in ranges {
        let Some(fixed) = range.fixed.as_deref() else { continue };
        if range.kind == RangeKind::Git {
            continue;
        }
        best = match best {
            None => Some((fixed, range.kind)),
            Some((current, kind)) => {
                let newer = scheme_for(ecosystem, kind)
                    .filter(|_| kind == range.kind)
                    .and_then(|scheme| vercmp::compare(scheme, fixed, current).ok())
                    == Some(Ordering::Greater);
                Some(if newer { (fixed, range.kind) } else { (current, kind) })
            }
        };
    }
    best.map(|(v, _)| v.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Cvss, Status};

    fn vuln(id: &str) -> Vulnerability {
        Vulnerability {
            id: id.into(),
            aliases: vec![],
            summary: None,
            description: None,
            published: None,
            modified: None,
            cvss: vec![],
            severity: None,
            references: vec![],
            withdrawn: false,
        }
    }

    fn fixed(v: &str) -> Range {
        Range { kind: RangeKind::Ecosystem, introduced: None, fixed: Some(v.into()), last_affected: None }
    }

    #[test]
    fn better_text_wins_and_dates_take_the_extremes() {
        let mut merger = Merger::default();
        let mut tracker = Parsed::new(TextRank::Tracker);
        let mut a = vuln("CVE-2024-0001");
        a.description = Some("changelog line".into());
        a.published = Some("2024-03-01T00:00:00Z".into());
        a.references = vec!["https://a".into()];
        tracker.vulnerabilities.push(a);
        merger.add(tracker);
        let mut cve = Parsed::new(TextRank::Authority);
        let mut b = vuln("CVE-2024-0001");
        b.description = Some("the CVE text".into());
        b.published = Some("2024-02-01T00:00:00Z".into());
        b.references = vec!["https://a".into(), "https://b".into()];
        b.cvss =
            vec![Cvss { version: "3.1".into(), vector: "CVSS:3.1/AV:N".into(), base_score: 1.0, source: "x".into() }];
        b.aliases = vec!["GHSA-aaaa-bbbb-cccc".into()];
        cve.vulnerabilities.push(b.clone());
        cve.vulnerabilities.push(b);
        let mut later_tracker = Parsed::new(TextRank::Tracker);
        let mut c = vuln("CVE-2024-0001");
        c.description = Some("another changelog line".into());
        later_tracker.vulnerabilities.push(c);
        assert_eq!(merger.add(cve).vulnerabilities, 1);
        merger.add(later_tracker);
        let (vulns, _) = merger.finish();
        assert_eq!(vulns.len(), 1);
        let v = &vulns[0];
        assert_eq!(v.description.as_deref(), Some("the CVE text"));
        assert_eq!(v.published.as_deref(), Some("2024-02-01T00:00:00Z"));
        assert_eq!(v.references, ["https://a", "https://b"]);
        assert_eq!(v.cvss.len(), 1);
        assert_eq!(v.aliases, ["GHSA-aaaa-bbbb-cccc"]);
    }

    #[test]
    fn aliases_are_linked_back_to_known_cves() {
        let mut merger = Merger::default();
        let mut parsed = Parsed::new(TextRank::Advisory);
        let mut ghsa = vuln("GHSA-aaaa-bbbb-cccc");
        ghsa.aliases = vec!["CVE-2024-0001".into()];
        parsed.vulnerabilities.push(ghsa);
        parsed.vulnerabilities.push(vuln("CVE-2024-0001"));
        merger.add(parsed);
        let (vulns, _) = merger.finish();
        assert_eq!(vulns[0].id, "CVE-2024-0001");
        assert_eq!(vulns[0].aliases, ["GHSA-aaaa-bbbb-cccc"]);
    }

    #[test]
    fn affected_entries_unite_and_keep_the_highest_fix() {
        let mut known = Affected {
            vulnerability: "CVE-1".into(),
            ecosystem: "alpine:3.10".into(),
            package: "p".into(),
            status: Status::Fixed,
            ranges: vec![fixed("1.10-r0")],
            versions: vec![],
            fixed_version: Some("1.10-r0".into()),
            distro_urgency: None,
            advisories: vec![],
            note: None,
        };
        let mut new = known.clone();
        new.ranges = vec![fixed("1.9-r3")];
        new.fixed_version = Some("1.9-r3".into());
        merge_affected(&mut known, new);
        assert_eq!(known.ranges.len(), 2);
        assert_eq!(known.fixed_version.as_deref(), Some("1.10-r0"));
    }
}
