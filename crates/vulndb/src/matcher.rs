//! Matching an inventory against vulnerability data.
//!
//! Each package is looked up under the name its vulnerability data uses: Debian, Ubuntu,
//! Alpine and rpm distributions by SOURCE package (dpkg `Source:`, apk origin, source rpm),
//! language packages by their ecosystem's name (PEP 503 for PyPI, `group:artifact` for
//! Maven, the module path for Go). Versions are compared with the ecosystem's own order
//! (`vercmp`); a version the order cannot parse is reported as a problem, never guessed.

use std::cmp::Ordering;

use inventory::{Inventory, OsInfo, Package, PackageType};
use serde::{Deserialize, Serialize};
use vercmp::Scheme;

use crate::model::{Affected, Range, RangeKind, Status, Vulnerability};
use crate::urgency::{Urgency, UrgencyPolicy};

/// Where the matcher reads vulnerability data from (the database file, or records held in
/// memory by tests).
pub trait VulnSource {
    /// Every affected entry for `package` in `ecosystem`.
    fn affected(&self, ecosystem: &str, package: &str) -> Vec<Affected>;
    /// The vulnerability record for `id`, when the data has one.
    fn vulnerability(&self, id: &str) -> Option<Vulnerability>;
}

/// One vulnerability in one package of an image.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// The name to show: the distribution's advisory (`DSA-5678-1`) when there is one,
    /// else the vulnerability id (`CVE-…`, `GHSA-…`).
    pub id: String,
    /// The vulnerability record's id (`CVE-2024-1234`, `GHSA-…`).
    pub vulnerability: String,
    /// Every CVE id this finding is about.
    pub cves: Vec<String>,
    /// Distribution advisories that fix it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub advisories: Vec<String>,
    pub package: String,
    pub package_type: PackageType,
    pub purl: String,
    pub installed_version: String,
    /// The package name the data speaks of (source package for distributions).
    pub matched_name: String,
    pub ecosystem: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fixed_version: Option<String>,
    pub status: Status,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cvss_score: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cvss_vector: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub severity: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub distro_urgency: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub published: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// What to do about it, in a sentence.
    pub solution: String,
    /// Layer index that brought the package, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub layer: Option<u32>,
    /// Digest of that layer (filled in by the scan, which knows the image).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub layer_digest: Option<String>,
    pub urgency: Urgency,
    /// Set by ignore rules; an ignored finding stays in the output.
    #[serde(default)]
    pub ignored: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ignore_reason: Option<String>,
}

/// A package the matcher could not judge (its version does not parse under the scheme).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MatchProblem {
    pub package: String,
    pub version: String,
    pub message: String,
}

/// The outcome of matching one inventory.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Matches {
    pub findings: Vec<Finding>,
    pub problems: Vec<MatchProblem>,
    /// Packages whose ecosystem the data does not cover (unknown OS, unsupported type).
    pub unsupported: Vec<String>,
}

/// How a package is looked up: ecosystem, name(s) in that ecosystem, version, order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lookup {
    pub ecosystem: String,
    pub names: Vec<String>,
    pub version: String,
    pub scheme: Scheme,
}

/// Where an OS package's vulnerability data lives, from the detected OS.
fn os_ecosystem(os: &OsInfo) -> Option<String> {
    let version = os.version_id.as_deref().unwrap_or("");
    let major = version.split('.').next().unwrap_or("");
    let major_minor: String = version.split('.').take(2).collect::<Vec<_>>().join(".");
    Some(match os.id.as_str() {
        "debian" => {
            let release = if major.is_empty() { os.codename.as_deref().map(codename_release)? } else { major };
            format!("debian:{release}")
        }
        "ubuntu" => format!("ubuntu:{major_minor}"),
        "alpine" => format!("alpine:{major_minor}"),
        "rocky" => format!("rocky:{major}"),
        "almalinux" => format!("almalinux:{major}"),
        "rhel" | "centos" => format!("rhel:{major}"),
        _ => return None,
    })
}

/// Debian releases named only by codename (testing and unstable images often are).
fn codename_release(codename: &str) -> &str {
    match codename {
        "buster" => "10",
        "bullseye" => "11",
        "bookworm" => "12",
        "trixie" => "13",
        "forky" => "14",
        _ => "unstable",
    }
}

/// How `p` is looked up, or `None` when no data covers it.
pub fn lookup(p: &Package, os: &OsInfo) -> Option<Lookup> {
    match p.kind {
        PackageType::Deb => {
            let ecosystem = os_ecosystem(os)?;
            let name = p.source_name.clone().unwrap_or_else(|| p.name.clone());
            // The source version is what the tracker's fixed versions speak of; a binNMU
            // (`+b1`) rebuilds the same source.
            let version = strip_binnmu(p.source_version.as_deref().unwrap_or(&p.version)).to_owned();
            Some(Lookup { ecosystem, names: vec![name], version, scheme: Scheme::Dpkg })
        }
        PackageType::Apk => {
            let ecosystem = os_ecosystem(os)?;
            let mut names = vec![p.source_name.clone().unwrap_or_else(|| p.name.clone())];
            if !names.contains(&p.name) {
                names.push(p.name.clone());
            }
            Some(Lookup { ecosystem, names, version: p.version.clone(), scheme: Scheme::Apk })
        }
        PackageType::Rpm => {
            let ecosystem = os_ecosystem(os)?;
            let mut names = vec![p.name.clone()];
            if let Some(src) = p.source_name.as_ref().filter(|src| **src != p.name) {
                names.push(src.clone());
            }
            Some(Lookup { ecosystem, names, version: p.version.clone(), scheme: Scheme::Rpm })
        }
        kind => {
            let ecosystem = kind.ecosystem()?.to_owned();
            let scheme = match kind {
                PackageType::Python => Scheme::Pep440,
                PackageType::Npm | PackageType::Composer => Scheme::Semver,
                PackageType::GoModule => Scheme::Go,
                PackageType::Cargo => Scheme::Cargo,
                PackageType::Maven => Scheme::Maven,
                PackageType::Gem => Scheme::RubyGems,
                _ => return None,
            };
            let name = ecosystem_name(p)?;
            let mut version = p.version.clone();
            if kind == PackageType::GoModule && name == "stdlib" {
                // OSV speaks of the Go toolchain as `stdlib` with semver versions.
                version = format!("v{}", version.trim_start_matches("go"));
            }
            Some(Lookup { ecosystem, names: vec![name], version, scheme })
        }
    }
}

fn strip_binnmu(version: &str) -> &str {
    match version.rfind("+b") {
        Some(i) if version[i + 2..].chars().all(|c| c.is_ascii_digit()) && i + 2 < version.len() => &version[..i],
        _ => version,
    }
}

/// The name a language ecosystem's advisories use, from the package URL.
fn ecosystem_name(p: &Package) -> Option<String> {
    let rest = p.purl.strip_prefix("pkg:")?;
    let (_, path) = rest.split_once('/')?;
    let path = path.split(['@', '?', '#']).next()?;
    let decoded = percent_decode(path);
    Some(match p.kind {
        PackageType::Python => pep503(&p.name),
        PackageType::Maven => decoded.replacen('/', ":", 1),
        _ => decoded,
    })
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = |b: u8| (b as char).to_digit(16);
            if let (Some(hi), Some(lo)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push((hi * 16 + lo) as u8);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// PEP 503 normal form of a Python package name (the form OSV and the feeds use).
pub fn pep503(name: &str) -> String {
    inventory::lang::python::normalize_name(name)
}

/// Whether `version` is affected by `entry`. `Err` when the version does not parse.
pub fn is_affected(entry: &Affected, version: &str, scheme: Scheme) -> Result<bool, String> {
    affected_by(entry, version, scheme).map(|m| m.is_some())
}

/// `Some(fix)` when `version` is affected by `entry`, where `fix` is the version that
/// fixes the range the installed version falls in (an entry can have fixed and unfixed
/// ranges). `Err` when the version does not parse under `scheme`.
pub fn affected_by(entry: &Affected, version: &str, scheme: Scheme) -> Result<Option<Option<String>>, String> {
    match entry.status {
        Status::NotAffected | Status::Unimportant => return Ok(None),
        // Open entries without ranges affect every version.
        Status::Affected | Status::WillNotFix | Status::NoDsa | Status::Postponed | Status::EndOfLife
            if entry.ranges.is_empty() && entry.versions.is_empty() =>
        {
            return Ok(Some(None));
        }
        _ => {}
    }
    let cmp = |a: &str, b: &str| {
        if entry.ecosystem == "Packagist" {
            let (a, b) = (composer_spelling(a), composer_spelling(b));
            return vercmp::compare(scheme, &a, &b).map_err(|e| e.to_string());
        }
        vercmp::compare(scheme, &go_spelling(scheme, a), &go_spelling(scheme, b)).map_err(|e| e.to_string())
    };
    for range in &entry.ranges {
        if range_contains(range, version, &cmp)? {
            return Ok(Some(range.fixed.clone()));
        }
    }
    if entry.versions.iter().any(|v| v == version) {
        return Ok(Some(entry.fixed_version.clone().filter(|_| entry.status == Status::Fixed)));
    }
    Ok(None)
}

/// OSV's Go records write versions without the `v` that Go module versions carry
/// (`1.19.8`, `0.0.0-20211209124913-491a49abca63`), while `vercmp::go` requires it, as
/// `golang.org/x/mod/semver` does. Both spellings name the same version.
fn go_spelling(scheme: Scheme, version: &str) -> std::borrow::Cow<'_, str> {
    if scheme == Scheme::Go && !version.starts_with('v') {
        std::borrow::Cow::Owned(format!("v{version}"))
    } else {
        std::borrow::Cow::Borrowed(version)
    }
}

/// Composer versions are semver-like but may carry a `v` and fewer than three numbers
/// (`v2.0`, `5.4`): spelled as semver so that the semver order applies.
fn composer_spelling(version: &str) -> String {
    let v = version.trim().trim_start_matches(['v', 'V']);
    let (core, rest) = match v.find(['-', '+']) {
        Some(i) => v.split_at(i),
        None => (v, ""),
    };
    let mut parts: Vec<&str> = core.split('.').collect();
    while parts.len() < 3 {
        parts.push("0");
    }
    format!("{}{rest}", parts.join("."))
}

fn range_contains(
    range: &Range,
    version: &str,
    cmp: &dyn Fn(&str, &str) -> Result<Ordering, String>,
) -> Result<bool, String> {
    if range.kind == RangeKind::Git {
        return Ok(false);
    }
    if let Some(intro) = range.introduced.as_deref().filter(|v| !v.is_empty() && *v != "0")
        && cmp(version, intro)? == Ordering::Less
    {
        return Ok(false);
    }
    if let Some(fixed) = range.fixed.as_deref() {
        return Ok(cmp(version, fixed)? == Ordering::Less);
    }
    if let Some(last) = range.last_affected.as_deref() {
        return Ok(cmp(version, last)? != Ordering::Greater);
    }
    Ok(true)
}

/// Remembers lookups for the length of one match: the binaries of one source package
/// all look the source up, and one vulnerability is often found in several packages.
struct Memo<'a> {
    source: &'a dyn VulnSource,
    affected: std::collections::HashMap<(String, String), std::rc::Rc<Vec<Affected>>>,
    vulns: std::collections::HashMap<String, Option<std::rc::Rc<Vulnerability>>>,
}

impl Memo<'_> {
    fn affected(&mut self, ecosystem: &str, package: &str) -> std::rc::Rc<Vec<Affected>> {
        let key = (ecosystem.to_owned(), package.to_owned());
        let source = self.source;
        self.affected.entry(key).or_insert_with(|| std::rc::Rc::new(source.affected(ecosystem, package))).clone()
    }

    fn vulnerability(&mut self, id: &str) -> Option<std::rc::Rc<Vulnerability>> {
        let source = self.source;
        self.vulns.entry(id.to_owned()).or_insert_with(|| source.vulnerability(id).map(std::rc::Rc::new)).clone()
    }
}

/// Matches every package of `inventory` against `source`.
pub fn match_inventory(inventory: &Inventory, source: &dyn VulnSource, policy: &UrgencyPolicy) -> Matches {
    let mut memo = Memo { source, affected: Default::default(), vulns: Default::default() };
    let unknown = OsInfo::unknown();
    let os = inventory.os.as_ref().unwrap_or(&unknown);
    let mut out = Matches::default();
    for p in &inventory.packages {
        let Some(lookup) = lookup(p, os) else {
            out.unsupported.push(format!("{} {}", p.name, p.version));
            continue;
        };
        let mut seen = std::collections::HashSet::new();
        for name in &lookup.names {
            for entry in memo.affected(&lookup.ecosystem, name).iter() {
                if !seen.insert(entry.vulnerability.clone()) {
                    continue;
                }
                match affected_by(entry, &lookup.version, lookup.scheme) {
                    Ok(Some(fix)) => {
                        let vuln = memo.vulnerability(&entry.vulnerability);
                        if vuln.as_ref().is_some_and(|v| v.withdrawn) {
                            continue;
                        }
                        out.findings.push(finding(p, &lookup, name, entry, fix, vuln.as_deref(), policy));
                    }
                    Ok(None) => {}
                    Err(message) => out.problems.push(MatchProblem {
                        package: p.name.clone(),
                        version: lookup.version.clone(),
                        message: format!("{}: {message}", entry.vulnerability),
                    }),
                }
            }
        }
    }
    out.findings
        .sort_by(|a, b| (a.urgency, &a.package, &a.vulnerability).cmp(&(b.urgency, &b.package, &b.vulnerability)));
    out
}

fn finding(
    p: &Package,
    lookup: &Lookup,
    name: &str,
    entry: &Affected,
    fix: Option<String>,
    vuln: Option<&Vulnerability>,
    policy: &UrgencyPolicy,
) -> Finding {
    let mut cves: Vec<String> = std::iter::once(entry.vulnerability.as_str())
        .chain(vuln.iter().flat_map(|v| v.aliases.iter().map(String::as_str)))
        .filter(|id| id.starts_with("CVE-"))
        .map(str::to_owned)
        .collect();
    cves.sort();
    cves.dedup();
    let cvss = vuln.and_then(crate::urgency::preferred_cvss);
    // A fix only counts where the distribution ships one: `will-not-fix`, `no-dsa`,
    // `postponed` and end-of-life entries have none for this release.
    let fixable = matches!(entry.status, Status::Fixed | Status::Affected);
    let fixed_version = fix.filter(|_| fixable);
    let urgency = policy.decide(entry, vuln, fixed_version.is_some());
    let id = entry.advisories.first().cloned().unwrap_or_else(|| entry.vulnerability.clone());
    Finding {
        id,
        vulnerability: entry.vulnerability.clone(),
        cves,
        advisories: entry.advisories.clone(),
        package: p.name.clone(),
        package_type: p.kind,
        purl: p.purl.clone(),
        installed_version: p.version.clone(),
        matched_name: name.to_owned(),
        ecosystem: lookup.ecosystem.clone(),
        solution: solution(p, name, entry.status, fixed_version.as_deref()),
        fixed_version,
        status: entry.status,
        cvss_score: cvss.map(|c| c.base_score),
        cvss_vector: cvss.map(|c| c.vector.clone()),
        severity: vuln.and_then(|v| v.severity.clone()),
        distro_urgency: entry.distro_urgency.clone(),
        published: vuln.and_then(|v| v.published.clone()),
        description: vuln.and_then(|v| v.description.clone().or_else(|| v.summary.clone())),
        layer: p.layer,
        layer_digest: None,
        urgency,
        ignored: false,
        ignore_reason: None,
    }
}

/// The solution text: what to upgrade to, or why there is nothing to upgrade to.
fn solution(p: &Package, source: &str, status: Status, fixed: Option<&str>) -> String {
    let what = if source == p.name { p.name.clone() } else { format!("{} (source package {source})", p.name) };
    match (status, fixed) {
        (Status::Fixed | Status::Affected, Some(v)) => format!("Upgrade {what} to {v} or later."),
        (Status::WillNotFix, _) => {
            format!("No fix: the distribution decided not to fix {what}; mitigate or replace it.")
        }
        (Status::NoDsa, _) => {
            format!("No security update planned for {what} (minor issue); a fix may come in a point release.")
        }
        (Status::Postponed, _) => format!("The fix for {what} is postponed to a later update."),
        (Status::EndOfLife, _) => "The distribution release is out of support: move to a supported release.".to_owned(),
        _ => format!("No fixed version of {what} is available yet."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn composer_versions_compare_as_semver() {
        assert_eq!(composer_spelling("v2.0"), "2.0.0");
        assert_eq!(composer_spelling("5.4.1"), "5.4.1");
        assert_eq!(composer_spelling("1.2-beta1"), "1.2.0-beta1");
        let mut e = entry(Status::Fixed, vec![range(Some("0"), Some("5.4.20"), None)]);
        e.ecosystem = "Packagist".into();
        assert_eq!(is_affected(&e, "v5.4", Scheme::Semver), Ok(true));
        assert_eq!(is_affected(&e, "5.4.20", Scheme::Semver), Ok(false));
    }

    #[test]
    fn binnmu_suffixes_are_stripped() {
        assert_eq!(strip_binnmu("1.2-3+b1"), "1.2-3");
        assert_eq!(strip_binnmu("1.2-3+b12"), "1.2-3");
        assert_eq!(strip_binnmu("1.2-3+bpo1"), "1.2-3+bpo1");
        assert_eq!(strip_binnmu("1.2-3+b"), "1.2-3+b");
    }

    #[test]
    fn names_from_purls() {
        let mut p = Package {
            name: "core".into(),
            version: "1".into(),
            kind: PackageType::Npm,
            purl: "pkg:npm/%40babel/core@1".into(),
            source_name: None,
            source_version: None,
            arch: None,
            licenses: vec![],
            layer: None,
            location: String::new(),
            files: vec![],
        };
        assert_eq!(ecosystem_name(&p).as_deref(), Some("@babel/core"));
        p.kind = PackageType::Maven;
        p.purl = "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.0".into();
        assert_eq!(ecosystem_name(&p).as_deref(), Some("org.apache.logging.log4j:log4j-core"));
        p.kind = PackageType::GoModule;
        p.purl = "pkg:golang/golang.org/x/net@v0.1.0".into();
        assert_eq!(ecosystem_name(&p).as_deref(), Some("golang.org/x/net"));
        p.kind = PackageType::Python;
        p.name = "Jinja2".into();
        assert_eq!(ecosystem_name(&p).as_deref(), Some("jinja2"));
    }

    fn entry(status: Status, ranges: Vec<Range>) -> Affected {
        Affected {
            vulnerability: "CVE-1".into(),
            ecosystem: "debian:12".into(),
            package: "x".into(),
            status,
            ranges,
            versions: vec![],
            fixed_version: None,
            distro_urgency: None,
            advisories: vec![],
            note: None,
        }
    }

    fn range(introduced: Option<&str>, fixed: Option<&str>, last: Option<&str>) -> Range {
        Range {
            kind: RangeKind::Ecosystem,
            introduced: introduced.map(Into::into),
            fixed: fixed.map(Into::into),
            last_affected: last.map(Into::into),
        }
    }

    #[test]
    fn ranges_and_statuses() {
        let fixed = entry(Status::Fixed, vec![range(None, Some("1.2-3"), None)]);
        assert_eq!(is_affected(&fixed, "1.2-2", Scheme::Dpkg), Ok(true));
        assert_eq!(is_affected(&fixed, "1.2-3", Scheme::Dpkg), Ok(false));
        assert_eq!(is_affected(&fixed, "1:1.0-1", Scheme::Dpkg), Ok(false), "epoch wins");
        assert_eq!(is_affected(&fixed, "1.2-3~deb12u1", Scheme::Dpkg), Ok(true));
        let window = entry(Status::Fixed, vec![range(Some("2.0"), Some("2.5"), None)]);
        assert_eq!(is_affected(&window, "1.9", Scheme::Pep440), Ok(false));
        assert_eq!(is_affected(&window, "2.0", Scheme::Pep440), Ok(true));
        let last = entry(Status::Fixed, vec![range(Some("0"), None, Some("2.5"))]);
        assert_eq!(is_affected(&last, "2.5", Scheme::Pep440), Ok(true));
        assert_eq!(is_affected(&last, "2.5.1", Scheme::Pep440), Ok(false));
        assert_eq!(is_affected(&entry(Status::Affected, vec![]), "9", Scheme::Dpkg), Ok(true));
        assert_eq!(is_affected(&entry(Status::Unimportant, vec![]), "9", Scheme::Dpkg), Ok(false));
        assert_eq!(is_affected(&entry(Status::NotAffected, vec![]), "9", Scheme::Dpkg), Ok(false));
        assert!(is_affected(&window, "not a version!", Scheme::Pep440).is_err());
        // OSV Go ranges are written without the `v` of installed Go module versions.
        let go = entry(Status::Fixed, vec![range(Some("0"), Some("0.0.0-20211209124913-491a49abca63"), None)]);
        assert_eq!(is_affected(&go, "v0.0.0-20211112202133-69e39bad7dc2", Scheme::Go), Ok(true));
        assert_eq!(is_affected(&go, "v0.4.0", Scheme::Go), Ok(false));
    }
}
