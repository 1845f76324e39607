//! The Alpine secdb parser over the six real files in shared/vulndata, checked against
//! counts taken from the same files with plain JSON walking.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde_json::Value;
use vulndb::Status;
use vulndb::feed::alpine;

fn vulndata() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/vulndata")
}

fn read(release: &str, repo: &str) -> Vec<u8> {
    let path = vulndata().join("alpine").join(release).join(format!("{repo}.json"));
    std::fs::read(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (shared/vulndata must sit beside the clone)", path.display()))
}

fn is_plain_cve(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.len() == 3
        && parts[0] == "CVE"
        && parts[1].len() == 4
        && parts[2].len() >= 4
        && parts[1..].iter().all(|p| p.bytes().all(|b| b.is_ascii_digit()))
}

#[test]
fn every_plain_fix_entry_of_every_release_is_read() {
    // (release, repo, packages, fix entries) as the data's README counts them.
    let files = [
        ("v3.9", "main", 161, 1121),
        ("v3.9", "community", 58, 601),
        ("v3.10", "main", 166, 1182),
        ("v3.10", "community", 73, 720),
        ("v3.11", "main", 175, 1204),
        ("v3.11", "community", 85, 895),
    ];
    for (release, repo, packages, fix_entries) in files {
        let data = read(release, repo);
        let (parsed, found) = alpine::parse(&data, repo, None);
        let found = found.unwrap();
        assert_eq!((found.distroversion.as_str(), found.reponame.as_str()), (release, repo));

        // Independent walk over the file.
        let root: Value = serde_json::from_slice(&data).unwrap();
        let mut walked_packages = 0;
        let mut walked_entries = 0;
        // (package, CVE) → every version listing it, for the plain CVE entries.
        let mut plain: BTreeMap<(String, String), BTreeSet<String>> = BTreeMap::new();
        let mut quirky = 0;
        for p in root["packages"].as_array().unwrap() {
            walked_packages += 1;
            let name = p["pkg"]["name"].as_str().unwrap();
            let Some(secfixes) = p["pkg"]["secfixes"].as_object() else { continue };
            for (version, list) in secfixes {
                for id in list.as_array().into_iter().flatten() {
                    walked_entries += 1;
                    let id = id.as_str().unwrap();
                    if is_plain_cve(id) {
                        plain.entry((name.to_string(), id.to_string())).or_default().insert(version.clone());
                    } else {
                        quirky += 1;
                    }
                }
            }
        }
        assert_eq!((walked_packages, walked_entries), (packages, fix_entries), "{release}/{repo}");

        let ecosystem = format!("alpine:{}", release.trim_start_matches('v'));
        for ((package, cve), versions) in &plain {
            let a = parsed
                .affected
                .iter()
                .find(|a| &a.package == package && &a.vulnerability == cve)
                .unwrap_or_else(|| panic!("{release}/{repo}: {package} {cve} missing"));
            assert_eq!(a.ecosystem, ecosystem);
            if versions.contains("0") {
                assert_eq!(a.status, Status::NotAffected, "{package} {cve}");
            } else {
                assert_eq!(a.status, Status::Fixed, "{package} {cve}");
                let fixed: BTreeSet<String> = a.ranges.iter().filter_map(|r| r.fixed.clone()).collect();
                assert_eq!(&fixed, versions, "{package} {cve}");
                let highest =
                    versions.iter().max_by(|x, y| vercmp::compare(vercmp::Scheme::Apk, x, y).unwrap()).cloned();
                assert_eq!(a.fixed_version, highest, "{package} {cve}");
            }
        }
        // Each quirky entry adds at most one entry per id it holds, and the parser adds
        // nothing beyond plain and quirky entries.
        assert!(parsed.affected.len() >= plain.len(), "{release}/{repo}");
        assert!(parsed.affected.len() <= plain.len() + quirky, "{release}/{repo}");
    }
}

#[test]
fn the_documented_quirks_are_repaired_and_reported() {
    let (parsed, _) = alpine::parse(&read("v3.10", "main"), "v3.10/main.json", None);
    let find = |package: &str, id: &str| parsed.affected.iter().find(|a| a.package == package && a.vulnerability == id);

    // "CVE-2019-5060 TALOS-2019-0844": the CVE is the vulnerability, TALOS its alias.
    let talos = parsed.vulnerabilities.iter().find(|v| v.id == "CVE-2019-5060").unwrap();
    assert_eq!(talos.aliases, ["TALOS-2019-0844"]);
    assert!(parsed.affected.iter().all(|a| !a.vulnerability.starts_with("TALOS-")));

    // "CVE-2017-17434-1" and "-2": read as the CVE, reported.
    let rsync = find("rsync", "CVE-2017-17434").expect("rsync CVE-2017-17434");
    assert_eq!(rsync.fixed_version.as_deref(), Some("3.1.2-r7"));
    assert!(parsed.problems.iter().any(|p| p.message.contains("CVE-2017-17434-1")));
    // Xen advisories without a CVE stay as their own ids.
    assert!(find("xen", "XSA-207").is_some());

    // "CVE_2019-2426" in community.
    let (community, _) = alpine::parse(&read("v3.10", "community"), "v3.10/community.json", None);
    let jdk = community.affected.iter().find(|a| a.vulnerability == "CVE-2019-2426").expect("CVE-2019-2426");
    assert_eq!((jdk.package.as_str(), jdk.fixed_version.as_deref()), ("openjdk7", Some("7.211.2.6.17-r0")));
    assert!(community.problems.iter().any(|p| p.message.contains("CVE_2019-2426")));
    assert!(!community.affected.iter().any(|a| a.vulnerability.contains('_')));
}
