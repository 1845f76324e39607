//! Vulnerability identifiers and package names as feeds write them.

use std::sync::LazyLock;

use regex::Regex;

/// A CVE id exactly: `CVE-YYYY-NNNN`, four or more digits in the sequence number.
static CVE: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"^CVE-[0-9]{4}-[0-9]{4,}$").unwrap());

/// The start of a CVE id written with a wrong separator or a trailing suffix
/// (`CVE_2019-2426`, `CVE-2017-17434-1`, `CVE-2019-19451.patch`).
static CVE_LIKE: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"^CVE[-_ ]([0-9]{4})[-_]([0-9]{4,})").unwrap());

/// Any other advisory id: an upper-case prefix and dash-separated groups of digits or
/// lower-case letters (`TALOS-2019-0844`, `XSA-182`, `GHSA-xxxx-xxxx-xxxx`, `DSA-5678-1`).
static OTHER_ID: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"^[A-Z][A-Z0-9]*(-[0-9a-z]+)+$").unwrap());

/// True when `id` is a well-formed CVE id.
pub(crate) fn is_cve(id: &str) -> bool {
    CVE.is_match(id)
}

/// What [`clean_id`] made of one token.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum CleanId {
    /// The token is a well-formed id.
    Valid(String),
    /// The token was a damaged CVE id and was repaired; the string says how.
    Repaired(String, String),
    /// The token is no id.
    NotAnId,
}

/// Reads one whitespace-free token as a vulnerability id, repairing the CVE damage that
/// hand-written feeds show (wrong separator, suffixes after the sequence number).
pub(crate) fn clean_id(token: &str) -> CleanId {
    if is_cve(token) {
        return CleanId::Valid(token.to_string());
    }
    if let Some(caps) = CVE_LIKE.captures(token)
        && let (Some(year), Some(seq)) = (caps.get(1), caps.get(2))
    {
        let id = format!("CVE-{}-{}", year.as_str(), seq.as_str());
        return CleanId::Repaired(id.clone(), format!("read \"{token}\" as {id}"));
    }
    if OTHER_ID.is_match(token) && !token.starts_with("CVE-") {
        return CleanId::Valid(token.to_string());
    }
    CleanId::NotAnId
}

/// The CVE id inside a distribution's per-CVE record id (`DEBIAN-CVE-2024-1234`,
/// `UBUNTU-CVE-2024-1234`, `ALPINE-CVE-2024-1234`), or the id itself when it is a CVE id.
/// Such records describe the CVE, so they merge into it.
pub(crate) fn cve_of_record(id: &str) -> Option<&str> {
    if is_cve(id) {
        return Some(id);
    }
    let start = id.find("-CVE-")?;
    let inner = id.get(start + 1..)?;
    let prefix = id.get(..start)?;
    (is_cve(inner) && !prefix.is_empty() && prefix.bytes().all(|b| b.is_ascii_uppercase())).then_some(inner)
}

/// True when `id` names a distribution advisory (a security update) rather than a
/// vulnerability: Debian DSA/DLA/DTSA, Ubuntu USN, AlmaLinux ALSA/ALBA/ALEA, Red Hat
/// RHSA/RHBA/RHEA, Rocky RLSA/RLBA/RLEA, Rocky RXSA.
pub(crate) fn is_distro_advisory(id: &str) -> bool {
    const PREFIXES: [&str; 14] = [
        "DSA-", "DLA-", "DTSA-", "USN-", "ALSA-", "ALBA-", "ALEA-", "RHSA-", "RHBA-", "RHEA-", "RLSA-", "RLBA-",
        "RLEA-", "RXSA-",
    ];
    PREFIXES.iter().any(|p| id.starts_with(p))
}

/// A PyPI project name in PEP 503 normal form: lower case, runs of `-`, `_` and `.`
/// replaced by one `-`.
pub(crate) fn pep503(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut in_separator_run = false;
    for c in name.trim().chars() {
        if matches!(c, '-' | '_' | '.') {
            if !in_separator_run {
                out.push('-');
            }
            in_separator_run = true;
        } else {
            out.extend(c.to_lowercase());
            in_separator_run = false;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn damaged_cve_ids_are_repaired_and_others_kept() {
        assert_eq!(clean_id("CVE-2019-5060"), CleanId::Valid("CVE-2019-5060".into()));
        assert_eq!(clean_id("TALOS-2019-0844"), CleanId::Valid("TALOS-2019-0844".into()));
        assert_eq!(clean_id("XSA-207"), CleanId::Valid("XSA-207".into()));
        assert!(matches!(clean_id("CVE_2019-2426"), CleanId::Repaired(id, _) if id == "CVE-2019-2426"));
        assert!(matches!(clean_id("CVE-2017-17434-1"), CleanId::Repaired(id, _) if id == "CVE-2017-17434"));
        assert!(matches!(clean_id("CVE-2019-19451.patch"), CleanId::Repaired(id, _) if id == "CVE-2019-19451"));
        for junk in ["CVE-????-?????", "(AoE)", "-", "cve-2019-1", "CVE-2019-12", ""] {
            assert_eq!(clean_id(junk), CleanId::NotAnId, "{junk}");
        }
    }

    #[test]
    fn distribution_cve_records_name_their_cve() {
        assert_eq!(cve_of_record("DEBIAN-CVE-2024-1234"), Some("CVE-2024-1234"));
        assert_eq!(cve_of_record("CVE-2024-1234"), Some("CVE-2024-1234"));
        assert_eq!(cve_of_record("GHSA-abcd-efgh-ijkl"), None);
        assert_eq!(cve_of_record("-CVE-2024-1234"), None);
        assert_eq!(cve_of_record("DEBIAN-CVE-2024-12"), None);
    }

    #[test]
    fn pypi_names_take_pep503_form() {
        assert_eq!(pep503("Django"), "django");
        assert_eq!(pep503("zope.interface"), "zope-interface");
        assert_eq!(pep503("Foo__Bar-._baz"), "foo-bar-baz");
    }
}
