//! Parsing /etc/passwd, /etc/shadow and /etc/group, and the account checks on them.
//!
//! Lines that are empty, comments (`#`), NIS compat entries (`+`/`-`) or have too few
//! fields are skipped: they define no local account. A UID or GID that is not a number
//! leaves that entry out of the UID/GID comparisons only.

use std::collections::BTreeMap;

use super::catalog::{self, Check};
use super::hashes::{self, Field};
use super::{CheckResult, Location};

/// One line of /etc/passwd.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub name: String,
    /// The password field: `x` when the hash is in /etc/shadow.
    pub password: String,
    pub uid: Option<u64>,
    pub line: u32,
}

/// One line of /etc/shadow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShadowEntry {
    pub name: String,
    pub hash: String,
    pub line: u32,
}

/// One line of /etc/group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    pub name: String,
    pub gid: Option<u64>,
    pub line: u32,
}

pub const PASSWD: &str = "/etc/passwd";
pub const SHADOW: &str = "/etc/shadow";
pub const GROUP: &str = "/etc/group";

/// Splits a colon-separated database into (line number, fields), skipping lines that
/// define nothing.
fn records(text: &str, min_fields: usize) -> impl Iterator<Item = (u32, Vec<&str>)> {
    text.lines().enumerate().filter_map(move |(i, line)| {
        let line = line.trim_end_matches('\r');
        if line.trim().is_empty() || line.starts_with(['#', '+', '-']) {
            return None;
        }
        let fields: Vec<&str> = line.split(':').collect();
        let line_no = u32::try_from(i + 1).unwrap_or(u32::MAX);
        (fields.len() >= min_fields && !fields[0].is_empty()).then_some((line_no, fields))
    })
}

pub fn parse_passwd(text: &str) -> Vec<Account> {
    records(text, 4)
        .map(|(line, f)| Account {
            name: f[0].to_owned(),
            password: f[1].to_owned(),
            uid: f[2].trim().parse().ok(),
            line,
        })
        .collect()
}

pub fn parse_shadow(text: &str) -> Vec<ShadowEntry> {
    records(text, 2).map(|(line, f)| ShadowEntry { name: f[0].to_owned(), hash: f[1].to_owned(), line }).collect()
}

pub fn parse_group(text: &str) -> Vec<Group> {
    records(text, 3).map(|(line, f)| Group { name: f[0].to_owned(), gid: f[2].trim().parse().ok(), line }).collect()
}

fn at(path: &str, line: u32) -> Location {
    Location { path: path.to_owned(), line: Some(line) }
}

/// Reports values that appear on more than one line: `what value` on lines ….
fn duplicates<K: Ord + std::fmt::Display>(
    check: &Check,
    path: &str,
    items: impl Iterator<Item = (K, String, u32)>,
    what: &str,
) -> CheckResult {
    let mut seen: BTreeMap<K, Vec<(String, u32)>> = BTreeMap::new();
    for (key, name, line) in items {
        seen.entry(key).or_default().push((name, line));
    }
    let mut problems = Vec::new();
    let mut locations = Vec::new();
    for (key, users) in seen.iter().filter(|(_, v)| v.len() > 1) {
        let list: Vec<String> = users.iter().map(|(n, l)| format!("{n} (line {l})")).collect();
        problems.push(format!("{what} {key} appears {} times in {path}: {}", users.len(), list.join(", ")));
        locations.extend(users.iter().map(|(_, l)| at(path, *l)));
    }
    if problems.is_empty() { check.passed() } else { check.failed(problems.join("; "), locations) }
}

/// CG-ACCOUNT-001 to 003 on /etc/passwd.
pub fn passwd_checks(accounts: Option<&[Account]>) -> Vec<CheckResult> {
    let Some(accounts) = accounts else {
        let why = "no /etc/passwd in the image";
        return vec![
            catalog::UNIQUE_NAMES.not_applicable(why),
            catalog::UNIQUE_UIDS.not_applicable(why),
            catalog::ROOT_UID_ONLY.not_applicable(why),
        ];
    };
    let names = duplicates(
        &catalog::UNIQUE_NAMES,
        PASSWD,
        accounts.iter().map(|a| (a.name.clone(), a.name.clone(), a.line)),
        "account name",
    );
    let uids = duplicates(
        &catalog::UNIQUE_UIDS,
        PASSWD,
        accounts.iter().filter_map(|a| a.uid.map(|u| (u, a.name.clone(), a.line))),
        "UID",
    );
    let extra_roots: Vec<&Account> = accounts.iter().filter(|a| a.uid == Some(0) && a.name != "root").collect();
    let roots = if extra_roots.is_empty() {
        catalog::ROOT_UID_ONLY.passed()
    } else {
        let list: Vec<String> = extra_roots.iter().map(|a| format!("{} (line {})", a.name, a.line)).collect();
        catalog::ROOT_UID_ONLY.failed(
            format!("accounts other than root with UID 0 in {PASSWD}: {}", list.join(", ")),
            extra_roots.iter().map(|a| at(PASSWD, a.line)).collect(),
        )
    };
    vec![names, uids, roots]
}

/// CG-ACCOUNT-004 on /etc/group.
pub fn group_check(groups: Option<&[Group]>) -> CheckResult {
    let Some(groups) = groups else { return catalog::UNIQUE_GROUPS.not_applicable("no /etc/group in the image") };
    let by_name = duplicates(
        &catalog::UNIQUE_GROUPS,
        GROUP,
        groups.iter().map(|g| (g.name.clone(), g.name.clone(), g.line)),
        "group name",
    );
    let by_gid = duplicates(
        &catalog::UNIQUE_GROUPS,
        GROUP,
        groups.iter().filter_map(|g| g.gid.map(|id| (id, g.name.clone(), g.line))),
        "GID",
    );
    match (by_name.result, by_gid.result) {
        (super::Outcome::Passed, super::Outcome::Passed) => by_name,
        _ => {
            let problem: Vec<&str> =
                [by_name.problem.as_str(), by_gid.problem.as_str()].into_iter().filter(|p| !p.is_empty()).collect();
            let mut locations = by_name.locations;
            locations.extend(by_gid.locations);
            catalog::UNIQUE_GROUPS.failed(problem.join("; "), locations)
        }
    }
}

/// A password field with where it was read.
struct Credential<'a> {
    name: &'a str,
    field: &'a str,
    path: &'static str,
    line: u32,
}

/// The password fields to judge: every /etc/shadow entry, plus /etc/passwd fields that
/// hold a value themselves (anything but `x`), which take precedence over shadow.
fn credentials<'a>(accounts: Option<&'a [Account]>, shadow: Option<&'a [ShadowEntry]>) -> Vec<Credential<'a>> {
    let mut out: Vec<Credential<'a>> = Vec::new();
    for a in accounts.unwrap_or_default().iter().filter(|a| a.password != "x") {
        out.push(Credential { name: &a.name, field: &a.password, path: PASSWD, line: a.line });
    }
    for s in shadow.unwrap_or_default() {
        // The shadow hash is only consulted when passwd points there with `x` (or the
        // account is missing from passwd, which still leaves the hash in the image).
        let overridden = accounts.unwrap_or_default().iter().any(|a| a.name == s.name && a.password != "x");
        if !overridden {
            out.push(Credential { name: &s.name, field: &s.hash, path: SHADOW, line: s.line });
        }
    }
    out
}

/// CG-PASSWORD-002 to 004 on /etc/shadow (and /etc/passwd).
pub fn password_checks(accounts: Option<&[Account]>, shadow: Option<&[ShadowEntry]>) -> Vec<CheckResult> {
    if accounts.is_none() && shadow.is_none() {
        let why = "no /etc/passwd or /etc/shadow in the image";
        return vec![
            catalog::UNIQUE_HASHES.not_applicable(why),
            catalog::STRONG_HASHES.not_applicable(why),
            catalog::NO_EMPTY_PASSWORDS.not_applicable(why),
        ];
    }
    let creds = credentials(accounts, shadow);
    let hashed: Vec<(&Credential<'_>, Field)> =
        creds.iter().map(|c| (c, hashes::classify(c.field))).filter(|(_, f)| matches!(f, Field::Hash { .. })).collect();
    // Without /etc/shadow and without hashes in /etc/passwd there is nothing to compare.
    let no_hashes = shadow.is_none() && hashed.is_empty();
    let why = "no /etc/shadow in the image and no hash in /etc/passwd";

    let unique = if no_hashes {
        catalog::UNIQUE_HASHES.not_applicable(why)
    } else {
        let mut by_hash: BTreeMap<&str, Vec<&Credential<'_>>> = BTreeMap::new();
        for (c, _) in &hashed {
            by_hash.entry(hashes::comparable(c.field)).or_default().push(c);
        }
        let shared: Vec<&Vec<&Credential<'_>>> = by_hash.values().filter(|v| v.len() > 1).collect();
        if shared.is_empty() {
            catalog::UNIQUE_HASHES.passed()
        } else {
            let problems: Vec<String> = shared
                .iter()
                .map(|group| {
                    let who: Vec<String> =
                        group.iter().map(|c| format!("{} ({}:{})", c.name, c.path, c.line)).collect();
                    format!("accounts {} share the hash {}", who.join(", "), hashes::mask_hash(group[0].field))
                })
                .collect();
            let locations = shared.iter().flat_map(|g| g.iter().map(|c| at(c.path, c.line))).collect();
            catalog::UNIQUE_HASHES.failed(problems.join("; "), locations)
        }
    };

    let strong = if no_hashes {
        catalog::STRONG_HASHES.not_applicable(why)
    } else {
        let weak: Vec<(&Credential<'_>, &str, &str)> = hashed
            .iter()
            .filter_map(|(c, f)| match f {
                Field::Hash { algorithm, weak: Some(reason), .. } => Some((*c, *algorithm, *reason)),
                _ => None,
            })
            .collect();
        if weak.is_empty() {
            catalog::STRONG_HASHES.passed()
        } else {
            let problems: Vec<String> = weak
                .iter()
                .map(|(c, alg, why)| {
                    format!("{} ({}:{}) uses {alg} ({why}): {}", c.name, c.path, c.line, hashes::mask_hash(c.field))
                })
                .collect();
            catalog::STRONG_HASHES
                .failed(problems.join("; "), weak.iter().map(|(c, _, _)| at(c.path, c.line)).collect())
        }
    };

    let empty: Vec<&Credential<'_>> = creds.iter().filter(|c| hashes::classify(c.field) == Field::Empty).collect();
    let no_empty = if empty.is_empty() {
        catalog::NO_EMPTY_PASSWORDS.passed()
    } else {
        let list: Vec<String> = empty.iter().map(|c| format!("{} ({}:{})", c.name, c.path, c.line)).collect();
        catalog::NO_EMPTY_PASSWORDS.failed(
            format!("accounts with an empty password field: {}", list.join(", ")),
            empty.iter().map(|c| at(c.path, c.line)).collect(),
        )
    };
    vec![unique, strong, no_empty]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parsing_skips_what_defines_no_account() {
        let text = "root:x:0:0:root:/root:/bin/bash\n\n# comment\n+nis::::::\nbroken\napp:x:abc:1::/:/bin/sh\r\n";
        let accounts = parse_passwd(text);
        assert_eq!(accounts.len(), 2);
        assert_eq!(accounts[1], Account { name: "app".into(), password: "x".into(), uid: None, line: 6 });
    }

    #[test]
    fn passwd_field_overrides_shadow() {
        let accounts = parse_passwd("old::1000:1000::/:/bin/sh\nnew:x:1001:1001::/:/bin/sh\n");
        let shadow = parse_shadow("old:$6$a$b:1::::::\nnew:$6$c$d:1::::::\n");
        let creds = credentials(Some(&accounts), Some(&shadow));
        let fields: Vec<(&str, &str)> = creds.iter().map(|c| (c.name, c.field)).collect();
        assert_eq!(fields, [("old", ""), ("new", "$6$c$d")]);
    }

    #[test]
    fn random_databases_never_panic() {
        let pieces =
            [":", "\n", "root", "x", "0", "$1$", "$6$rounds=", "!", "*", "", "é", "99999999999999999999", "#", "+"];
        let mut state = 0x2545_f491_4f6c_dd1du64;
        for _ in 0..2000 {
            let mut text = String::new();
            for _ in 0..40 {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                text.push_str(pieces[(state % pieces.len() as u64) as usize]);
            }
            let accounts = parse_passwd(&text);
            let shadow = parse_shadow(&text);
            let groups = parse_group(&text);
            assert_eq!(passwd_checks(Some(&accounts)).len(), 3);
            assert_eq!(password_checks(Some(&accounts), Some(&shadow)).len(), 3);
            group_check(Some(&groups));
        }
    }
}
