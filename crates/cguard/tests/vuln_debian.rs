//! Acceptance: a Debian 12 image whose dpkg database holds OLD versions of real packages
//! (taken from the changelog history in `vulndata/debian/history.tsv`) gets exactly the
//! findings that `tracker.json` and dpkg's own version order imply. The expected set is
//! computed here from the tracker JSON and `dpkg --compare-versions`, never from the
//! matcher; the report formats and the CI exit code are checked on the same image.

use crate::common;

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use common::*;
use serde_json::Value;

/// Sources installed in the image and the position (0 = newest) of the installed version
/// in the source's changelog history. The positions are spread so that, for the same
/// tracker, some sources are fully fixed (openssl at 0, libxml2 at `1.3`, where every
/// `~deb12uN` fix sorts below the installed version), some partly and some widely open.
const PICKS: &[(&str, usize)] = &[
    ("curl", 8),
    ("openssl", 0),
    ("expat", 3),
    ("glibc", 12),
    ("libxml2", 6),
    ("git", 20),
    ("nghttp2", 2),
    ("xz-utils", 4),
    ("python3.11", 30),
    ("perl", 9),
    ("tar", 2),
    ("systemd", 5),
    ("openssh", 40),
    ("krb5", 15),
    ("gnutls28", 60),
];

/// A source whose binaries are installed as a binNMU (`+b1` binary version, with
/// `Source: name (version)` naming the source version), as Debian writes rebuilds.
const BINNMU: (&str, usize) = ("sqlite3", 2);

/// A package with no entry in the tracker: it must give no finding.
const UNTRACKED: (&str, &str) = ("base-files", "12.4+deb12u5");

/// One installed binary package.
#[derive(Debug, Clone)]
struct Installed {
    binary: String,
    version: String,
    source: String,
    source_version: String,
}

/// Rows of a tab-separated vulndata file, without its header line.
fn tsv(name: &str) -> Vec<Vec<String>> {
    let text = std::fs::read_to_string(vulndata().join("debian").join(name)).unwrap();
    text.lines().skip(1).map(|l| l.split('\t').map(str::to_owned).collect()).collect()
}

/// The installed packages: every binary `sources.tsv` lists for each picked source, at
/// the picked version from `history.tsv`.
fn installed() -> Vec<Installed> {
    let history: BTreeMap<String, Vec<String>> = tsv("history.tsv")
        .into_iter()
        .map(|row| (row[0].clone(), row[1].split_whitespace().map(str::to_owned).collect()))
        .collect();
    let binaries: BTreeMap<String, Vec<String>> = tsv("sources.tsv")
        .into_iter()
        .map(|row| (row[0].clone(), row[1].split(',').map(str::to_owned).collect()))
        .collect();
    let mut out = Vec::new();
    for &(source, position) in PICKS.iter().chain([&BINNMU]) {
        let versions = history.get(source).unwrap_or_else(|| panic!("{source} is not in history.tsv"));
        let version = versions.get(position).unwrap_or_else(|| panic!("{source} has no version #{position}")).clone();
        for binary in &binaries[source] {
            let binary_version = if source == BINNMU.0 { format!("{version}+b1") } else { version.clone() };
            out.push(Installed {
                binary: binary.clone(),
                version: binary_version,
                source: source.to_owned(),
                source_version: version.clone(),
            });
        }
    }
    out.push(Installed {
        binary: UNTRACKED.0.to_owned(),
        version: UNTRACKED.1.to_owned(),
        source: UNTRACKED.0.to_owned(),
        source_version: UNTRACKED.1.to_owned(),
    });
    out
}

/// `/var/lib/dpkg/status` for these packages, with `Source:` where dpkg writes it: when the
/// source name differs, and with the source version when the versions differ.
fn dpkg_status(packages: &[Installed]) -> String {
    let mut out = String::new();
    for p in packages {
        out.push_str(&format!("Package: {}\nStatus: install ok installed\nPriority: optional\n", p.binary));
        out.push_str("Section: libs\nInstalled-Size: 1024\nMaintainer: Debian Maintainers <maint@lists.debian.org>\n");
        out.push_str("Architecture: amd64\n");
        if p.version != p.source_version {
            out.push_str(&format!("Source: {} ({})\n", p.source, p.source_version));
        } else if p.binary != p.source {
            out.push_str(&format!("Source: {}\n", p.source));
        }
        out.push_str(&format!("Version: {}\nDescription: {} as installed for the test\n\n", p.version, p.binary));
    }
    out
}

/// The pairs `(a, b)` for which `dpkg --compare-versions a lt b` holds, asked of the real
/// dpkg in one shell process.
fn dpkg_less_than(pairs: &BTreeSet<(String, String)>) -> BTreeSet<(String, String)> {
    let check = Command::new("dpkg").arg("--version").output();
    assert!(check.is_ok_and(|o| o.status.success()), "dpkg is missing: apt-get install dpkg");
    let script = r#"while read -r a b; do
        if dpkg --compare-versions "$a" lt "$b"; then echo "1"; else echo "0"; fi
    done"#;
    let mut child =
        Command::new("sh").args(["-c", script]).stdin(Stdio::piped()).stdout(Stdio::piped()).spawn().expect("sh");
    let input: String = pairs.iter().map(|(a, b)| format!("{a} {b}\n")).collect();
    child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "the dpkg comparison loop failed");
    let answers: Vec<&str> = std::str::from_utf8(&out.stdout).unwrap().lines().collect();
    assert_eq!(answers.len(), pairs.len(), "one dpkg answer per pair");
    pairs.iter().zip(answers).filter(|(_, answer)| *answer == "1").map(|(pair, _)| pair.clone()).collect()
}

/// The (binary package, CVE) findings the tracker implies for `packages`, by the rules of
/// the Debian tracker: `unimportant` and `fixed_version` 0 (not affected) never count; a
/// resolved entry affects versions dpkg orders below its fix; open and undetermined
/// entries affect every version. Also returns how many resolved entries were judged
/// affected and not affected, so the test can check that it exercises both.
fn expected(packages: &[Installed]) -> (BTreeSet<(String, String)>, usize, usize) {
    let tracker: Value = serde_json::from_slice(&std::fs::read(vulndata().join("debian/tracker.json")).unwrap())
        .expect("tracker.json is JSON");
    // Per (source, source version): CVEs affected outright, and CVEs with a fix to compare.
    let mut open: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
    let mut resolved: BTreeMap<(String, String), Vec<(String, String)>> = BTreeMap::new();
    for p in packages {
        let key = (p.source.clone(), p.source_version.clone());
        if open.contains_key(&key) {
            continue;
        }
        let (mut o, mut r) = (Vec::new(), Vec::new());
        for (cve, entry) in tracker[&p.source].as_object().into_iter().flatten() {
            let Some(release) = entry["releases"].get("bookworm") else { continue };
            let fixed = release["fixed_version"].as_str();
            if release["urgency"] == "unimportant" || fixed == Some("0") {
                continue;
            }
            match (release["status"].as_str(), fixed) {
                (Some("resolved"), Some(fixed)) => r.push((cve.clone(), fixed.to_owned())),
                (Some("open" | "undetermined"), _) | (Some("resolved"), None) => o.push(cve.clone()),
                (other, _) => panic!("{} {cve}: unexpected tracker status {other:?}", p.source),
            }
        }
        open.insert(key.clone(), o);
        resolved.insert(key, r);
    }
    let questions: BTreeSet<(String, String)> = resolved
        .iter()
        .flat_map(|((_, installed), fixes)| fixes.iter().map(move |(_, fixed)| (installed.clone(), fixed.clone())))
        .collect();
    let less = dpkg_less_than(&questions);
    let (mut affected_fixes, mut unaffected_fixes) = (0, 0);
    let mut affected: BTreeMap<(String, String), Vec<String>> = open;
    for (key, fixes) in &resolved {
        for (cve, fixed) in fixes {
            if less.contains(&(key.1.clone(), fixed.clone())) {
                affected.get_mut(key).unwrap().push(cve.clone());
                affected_fixes += 1;
            } else {
                unaffected_fixes += 1;
            }
        }
    }
    let set = packages
        .iter()
        .flat_map(|p| {
            affected[&(p.source.clone(), p.source_version.clone())].iter().map(|cve| (p.binary.clone(), cve.clone()))
        })
        .collect();
    (set, affected_fixes, unaffected_fixes)
}

/// The test image and database, in a temporary directory.
struct Fixture {
    _dir: tempfile::TempDir,
    archive: PathBuf,
    db: PathBuf,
    packages: Vec<Installed>,
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let packages = installed();
    let os_release = "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME=\"Debian GNU/Linux\"\n\
        VERSION_ID=\"12\"\nVERSION=\"12 (bookworm)\"\nVERSION_CODENAME=bookworm\nID=debian\n\
        HOME_URL=\"https://www.debian.org/\"\n";
    let archive = dir.path().join("debian.tar");
    write_docker_archive(
        &archive,
        &[
            ("etc/os-release".into(), os_release.as_bytes().to_vec(), 0o644),
            ("etc/debian_version".into(), b"12.5\n".to_vec(), 0o644),
            ("var/lib/dpkg/status".into(), dpkg_status(&packages).into_bytes(), 0o644),
        ],
    );
    let db = vulndata_db(dir.path());
    Fixture { _dir: dir, archive, db, packages }
}

fn findings(report: &Value) -> &Vec<Value> {
    report["vulnerabilities"]["findings"].as_array().expect("findings")
}

#[test]
fn debian_findings_are_exactly_those_of_the_tracker_and_dpkg_order() {
    let f = fixture();
    let (want, affected_fixes, unaffected_fixes) = expected(&f.packages);
    // The image must exercise the version order both ways, or equality proves little.
    assert!(affected_fixes > 50 && unaffected_fixes > 50, "{affected_fixes} affected, {unaffected_fixes} not");
    let report = scan_json(&f.archive, &f.db, &[]);
    let got = finding_pairs(&report);
    assert_eq!(want, got, "{}", finding_diff(&want, &got));
    assert!(!got.iter().any(|(p, _)| p == UNTRACKED.0), "a package without tracker entries has findings");
    for source in ["openssl", "libxml2"] {
        let binaries: Vec<&str> = f.packages.iter().filter(|p| p.source == source).map(|p| p.binary.as_str()).collect();
        assert!(!got.iter().any(|(p, _)| binaries.contains(&p.as_str())), "{source} is fully fixed");
    }

    // The fields of one finding, against the tracker entry it comes from.
    let tracker: Value =
        serde_json::from_slice(&std::fs::read(vulndata().join("debian/tracker.json")).unwrap()).unwrap();
    let curl = f.packages.iter().find(|p| p.binary == "libcurl4").unwrap();
    let finding =
        findings(&report).iter().find(|x| x["package"] == "libcurl4").expect("libcurl4 has findings at an old version");
    let cve = finding["vulnerability"].as_str().unwrap();
    let release = &tracker["curl"][cve]["releases"]["bookworm"];
    assert_eq!(finding["fixed_version"], release["fixed_version"], "{finding:#}");
    assert_eq!(finding["status"], "fixed");
    assert_eq!(finding["matched_name"], "curl");
    assert_eq!(finding["installed_version"], curl.version.as_str());
    assert_eq!(finding["distro_urgency"], release["urgency"]);
    assert!(finding["cves"].as_array().unwrap().iter().any(|c| c == cve));
    for x in findings(&report) {
        let urgency = x["urgency"].as_str().unwrap();
        assert!(["fix-asap", "can-delay", "no-need-now"].contains(&urgency), "urgency {urgency:?}");
    }

    // The binNMU: matched by its source name and the source version, reported with the
    // binary version that is installed.
    let binnmu = f.packages.iter().find(|p| p.source == BINNMU.0).unwrap();
    let rebuilt: Vec<&Value> = findings(&report).iter().filter(|x| x["package"] == binnmu.binary.as_str()).collect();
    assert!(!rebuilt.is_empty(), "the binNMU package {} has findings", binnmu.binary);
    for x in rebuilt {
        assert_eq!(x["installed_version"], binnmu.version.as_str());
        assert!(binnmu.version.ends_with("+b1"));
        assert_eq!(x["matched_name"], BINNMU.0);
    }
}

/// The purl of each component in a CycloneDX document, by `bom-ref`.
fn purls_by_ref(doc: &Value) -> BTreeMap<String, String> {
    doc["components"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| Some((c["bom-ref"].as_str()?.to_owned(), c["purl"].as_str()?.to_owned())))
        .collect()
}

#[test]
fn cyclonedx_and_sarif_carry_every_finding() {
    let f = fixture();
    let report = scan_json(&f.archive, &f.db, &[]);
    let all = findings(&report);
    assert!(all.len() > 100, "the image has many findings ({})", all.len());
    let reference = format!("docker-archive:{}", f.archive.display());
    let run = |format: &str| -> Value {
        let out = f.db.with_file_name(format!("report.{format}"));
        cguard(&[
            "scan",
            &reference,
            "--scanners",
            "vuln",
            "--db",
            f.db.to_str().unwrap(),
            "--format",
            format,
            "--output",
            path(&out),
        ]);
        serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap()
    };

    // CycloneDX: one vulnerability per finding, naming its CVE ids and, through its
    // `affects` reference, the component's purl.
    let cdx = run("cyclonedx");
    let purls = purls_by_ref(&cdx);
    let vulns = cdx["vulnerabilities"].as_array().expect("CycloneDX vulnerabilities");
    let from_cdx: BTreeSet<(String, String)> = vulns
        .iter()
        .map(|v| {
            let target = v["affects"][0]["ref"].as_str().expect("affects ref");
            let purl = purls.get(target).unwrap_or_else(|| panic!("affects {target}, which is no component"));
            let id = v["id"].as_str().unwrap();
            assert!(id.starts_with("CVE-"), "Debian tracker findings are CVEs: {id}");
            (purl.clone(), id.to_owned())
        })
        .collect();
    let from_json: BTreeSet<(String, String)> = all
        .iter()
        .map(|x| (x["purl"].as_str().unwrap().to_owned(), x["vulnerability"].as_str().unwrap().to_owned()))
        .collect();
    assert_eq!(vulns.len(), all.len());
    assert_eq!(from_cdx, from_json);
    assert!(from_cdx.iter().all(|(purl, _)| purl.starts_with("pkg:deb/debian/")), "{from_cdx:?}");

    // SARIF: one result per finding, with the properties scripts read.
    let sarif = run("sarif");
    let results = sarif["runs"][0]["results"].as_array().expect("SARIF results");
    assert_eq!(results.len(), all.len(), "one SARIF result per finding");
    let key = |rule: &Value, p: &Value| {
        let s = |v: &Value| v.as_str().unwrap_or("").to_owned();
        (s(rule), s(&p["package"]), s(&p["installedVersion"]), s(&p["fixedVersion"]), s(&p["urgency"]))
    };
    let from_sarif: BTreeSet<_> = results.iter().map(|r| key(&r["ruleId"], &r["properties"])).collect();
    let expected: BTreeSet<_> = all
        .iter()
        .map(|x| {
            let props = serde_json::json!({"package": x["package"], "installedVersion": x["installed_version"],
                "fixedVersion": x["fixed_version"], "urgency": x["urgency"]});
            key(&x["id"], &props)
        })
        .collect();
    assert_eq!(from_sarif, expected);
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Runs `cguard scan` and returns its exit code.
fn scan_exit_code(f: &Fixture, extra: &[&str]) -> Option<i32> {
    let reference = format!("docker-archive:{}", f.archive.display());
    let out = Command::new(env!("CARGO_BIN_EXE_cguard"))
        .args(["scan", &reference, "--scanners", "vuln", "--db", path(&f.db), "--format", "json"])
        .args(extra)
        .output()
        .unwrap();
    if !matches!(out.status.code(), Some(0 | 3)) {
        panic!("cguard scan failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    out.status.code()
}

#[test]
fn fail_on_fix_asap_exits_with_the_code_unless_all_are_ignored() {
    let f = fixture();
    let report = scan_json(&f.archive, &f.db, &[]);
    let urgent: BTreeSet<&str> = findings(&report)
        .iter()
        .filter(|x| x["urgency"] == "fix-asap")
        .map(|x| x["vulnerability"].as_str().unwrap())
        .collect();
    assert!(!urgent.is_empty(), "an image this old has fix-asap findings");
    let fail = ["--fail-on", "fix-asap", "--exit-code", "3"];
    assert_eq!(scan_exit_code(&f, &fail), Some(3));

    let mut rules = String::from("ignore:\n");
    for id in &urgent {
        rules.push_str(&format!("  - id: {id}\n    reason: accepted for the test image\n"));
    }
    let ignore = f.db.with_file_name("cguardignore.yaml");
    std::fs::write(&ignore, rules).unwrap();
    let with_ignore: Vec<&str> = fail.iter().copied().chain(["--ignore-file", path(&ignore)]).collect();
    assert_eq!(scan_exit_code(&f, &with_ignore), Some(0));

    // Ignored findings stay in the report, marked, and leave the summary's counts.
    let ignored = scan_json(&f.archive, &f.db, &["--ignore-file", path(&ignore)]);
    assert_eq!(finding_pairs(&ignored), finding_pairs(&report), "ignoring hides nothing");
    for x in findings(&ignored) {
        let is_urgent = urgent.contains(x["vulnerability"].as_str().unwrap());
        assert_eq!(x["ignored"], is_urgent, "{x:#}");
        if is_urgent {
            assert_eq!(x["ignore_reason"], "accepted for the test image");
        }
    }
    assert_eq!(ignored["vulnerabilities"]["summary"]["fix_asap"], 0);
}
