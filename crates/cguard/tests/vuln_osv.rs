//! Acceptance: language packages matched against OSV records. An image holds Python
//! distributions (`dist-info/METADATA`) at old releases of real PyPI projects, and a Go
//! executable built here by the real Go toolchain whose build information names real
//! module versions (the modules are vendored stand-ins, so no network is needed) and
//! whose toolchain version is the `stdlib` the OSV Go records speak of. The expected sets
//! come from the OSV JSON with Python's `packaging` (PyPI) and a semantic-version order
//! written here (Go), never from the matcher.

use crate::common;

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use common::*;
use serde_json::Value;

/// Python distributions as their metadata names them, at old releases: each version is
/// one that an OSV record of the project enumerates, so it is a real release.
const PYTHON: &[(&str, &str)] = &[
    ("requests", "2.19.1"),
    ("urllib3", "1.24.1"),
    ("Django", "3.2.4"),
    ("Flask", "0.12.2"),
    ("Jinja2", "2.10"),
    ("PyYAML", "5.3"),
    ("cryptography", "3.2"),
    ("Pillow", "8.1.0"),
    ("setuptools", "65.5.0"),
    ("pip", "21.0"),
    ("Werkzeug", "2.2.2"),
    ("aiohttp", "3.8.4"),
    ("certifi", "2022.9.24"),
    ("idna", "3.6"),
    ("lxml", "4.6.2"),
    ("paramiko", "2.4.1"),
    ("SQLAlchemy", "1.2.17"),
    ("Twisted", "22.4.0"),
    ("py", "1.10.0"),
    ("Pygments", "2.7.3"),
    ("Babel", "2.9.0"),
    ("waitress", "1.4.3"),
    ("PyJWT", "1.7.1"),
    ("bleach", "3.1.0"),
    ("celery", "5.2.1"),
    ("Scrapy", "2.5.0"),
];

/// A distribution no record covers: it must give no finding.
const PYTHON_CONTROL: (&str, &str) = ("six", "1.16.0");

/// Go modules the test executable is built with, at versions published for them:
/// pseudo-versions (`x/net`, `x/crypto`), a release candidate ordered against other
/// release candidates (runc), and versions on the edge of a range (`yaml.v2` at a fix,
/// protobuf and logrus at an `introduced`). `github.com/google/uuid` has no records.
const GO_MODULES: &[(&str, &str, &str)] = &[
    ("golang.org/x/net", "v0.0.0-20211112202133-69e39bad7dc2", "idna"),
    ("golang.org/x/crypto", "v0.0.0-20210921155107-089bfa567519", "ssh"),
    ("golang.org/x/text", "v0.3.6", "language"),
    ("gopkg.in/yaml.v2", "v2.2.3", ""),
    ("github.com/gin-gonic/gin", "v1.7.0", ""),
    ("github.com/opencontainers/runc", "v1.0.0-rc93", "libcontainer"),
    ("github.com/golang-jwt/jwt/v4", "v4.4.2", ""),
    ("google.golang.org/protobuf", "v1.29.0", "proto"),
    ("google.golang.org/grpc", "v1.57.0", ""),
    ("github.com/sirupsen/logrus", "v1.9.0", ""),
    ("github.com/google/uuid", "v1.3.0", ""),
];

/// PEP 503 normal form, as the OSV PyPI records name projects.
fn normalise(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        if matches!(c, '-' | '_' | '.') {
            if !out.ends_with('-') {
                out.push('-');
            }
        } else {
            out.push(c.to_ascii_lowercase());
        }
    }
    out
}

/// Every OSV record of one ecosystem directory.
fn osv_records(ecosystem: &str) -> Vec<Value> {
    let dir = vulndata().join("osv").join(ecosystem);
    let mut out = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "json") {
            out.push(serde_json::from_slice(&std::fs::read(&path).unwrap()).expect("OSV JSON"));
        }
    }
    out
}

/// The version intervals of one OSV range: `(introduced, end)` where `end` is `Fixed(v)`
/// (exclusive), `Last(v)` (inclusive) or open. `introduced` `0` means from the start.
#[derive(Debug, Clone)]
enum End {
    Fixed(String),
    Last(String),
    Open,
}

fn intervals(range: &Value) -> Vec<(Option<String>, End)> {
    let mut out = Vec::new();
    let mut start: Option<Option<String>> = None;
    for event in range["events"].as_array().into_iter().flatten() {
        if let Some(v) = event["introduced"].as_str() {
            start = Some((v != "0").then(|| v.to_owned()));
        } else if let Some(v) = event["fixed"].as_str() {
            out.push((start.take().flatten(), End::Fixed(v.to_owned())));
        } else if let Some(v) = event["last_affected"].as_str() {
            out.push((start.take().flatten(), End::Last(v.to_owned())));
        }
    }
    if let Some(s) = start {
        out.push((s, End::Open));
    }
    out
}

/// Whether `version` lies in the range, given an order.
fn in_range(range: &Value, version: &str, cmp: &dyn Fn(&str, &str) -> Ordering) -> bool {
    intervals(range).iter().any(|(start, end)| {
        start.as_deref().is_none_or(|s| cmp(version, s) != Ordering::Less)
            && match end {
                End::Fixed(f) => cmp(version, f) == Ordering::Less,
                End::Last(l) => cmp(version, l) != Ordering::Greater,
                End::Open => true,
            }
    })
}

/// The OSV ids affecting `package` at `version` in `records`: listed in `versions`, or in
/// an ECOSYSTEM or SEMVER range (GIT ranges name commits, not versions). Withdrawn
/// records never count.
fn affecting(
    records: &[Value],
    package: &str,
    version: &str,
    equal: &dyn Fn(&str, &str) -> bool,
    cmp: &dyn Fn(&str, &str) -> Ordering,
) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for record in records.iter().filter(|r| r.get("withdrawn").is_none_or(Value::is_null)) {
        for affected in record["affected"].as_array().into_iter().flatten() {
            if affected["package"]["name"] != package {
                continue;
            }
            let listed =
                affected["versions"].as_array().into_iter().flatten().any(|v| equal(v.as_str().unwrap(), version));
            let ranged = affected["ranges"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|r| r["type"] != "GIT")
                .any(|r| in_range(r, version, cmp));
            if listed || ranged {
                out.insert(record["id"].as_str().unwrap().to_owned());
            }
        }
    }
    out
}

/// Every version the records of `package` mention (ranges and lists).
fn mentioned(records: &[Value], package: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for affected in records.iter().flat_map(|r| r["affected"].as_array().into_iter().flatten()) {
        if affected["package"]["name"] != package {
            continue;
        }
        out.extend(affected["versions"].as_array().into_iter().flatten().filter_map(|v| v.as_str().map(str::to_owned)));
        for range in affected["ranges"].as_array().into_iter().flatten().filter(|r| r["type"] != "GIT") {
            for event in range["events"].as_array().into_iter().flatten() {
                out.extend(event.as_object().into_iter().flatten().filter_map(|(_, v)| v.as_str().map(str::to_owned)));
            }
        }
    }
    out
}

/// PEP 440 comparisons by Python's `packaging`, all asked of one `python3` process:
/// `Some(ordering)` per pair, `None` where either side is not a PEP 440 version.
fn packaging_compare(pairs: &BTreeSet<(String, String)>) -> BTreeMap<(String, String), Option<Ordering>> {
    let script = r#"
import sys
try:
    from packaging.version import InvalidVersion, Version
except ImportError:
    sys.exit("Python's packaging is missing: apt-get install python3-packaging (or pip install packaging)")
for line in sys.stdin:
    a, b = line.rstrip("\n").split("\t")
    try:
        x, y = Version(a), Version(b)
    except InvalidVersion:
        print("invalid")
        continue
    print((x > y) - (x < y))
"#;
    let mut child = Command::new("python3")
        .args(["-c", script])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 is missing: apt-get install python3 python3-packaging");
    let input: String = pairs.iter().map(|(a, b)| format!("{a}\t{b}\n")).collect();
    child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "python3 failed: {}", String::from_utf8_lossy(&out.stderr));
    let answers: Vec<String> = String::from_utf8(out.stdout).unwrap().lines().map(str::to_owned).collect();
    assert_eq!(answers.len(), pairs.len(), "one answer per pair");
    pairs
        .iter()
        .cloned()
        .zip(answers)
        .map(|(pair, answer)| {
            let ordering = match answer.as_str() {
                "-1" => Some(Ordering::Less),
                "0" => Some(Ordering::Equal),
                "1" => Some(Ordering::Greater),
                _ => None,
            };
            (pair, ordering)
        })
        .collect()
}

/// Semantic Versioning 2.0 precedence, for Go module versions with or without their `v`:
/// major.minor.patch numerically, a pre-release below its release, pre-release
/// identifiers numeric below alphanumeric and compared one by one, build metadata ignored.
fn semver(a: &str, b: &str) -> Ordering {
    fn parts(v: &str) -> (Vec<u64>, Vec<&str>) {
        let v = v.strip_prefix('v').unwrap_or(v);
        let v = v.split('+').next().unwrap();
        let (core, pre) = match v.split_once('-') {
            Some((core, pre)) => (core, pre.split('.').collect()),
            None => (v, Vec::new()),
        };
        (core.split('.').map(|n| n.parse().expect("numeric version core")).collect(), pre)
    }
    let (core_a, pre_a) = parts(a);
    let (core_b, pre_b) = parts(b);
    core_a.cmp(&core_b).then_with(|| match (pre_a.is_empty(), pre_b.is_empty()) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Greater,
        (false, true) => Ordering::Less,
        (false, false) => {
            for (x, y) in pre_a.iter().zip(&pre_b) {
                let numeric = |s: &str| !s.is_empty() && s.bytes().all(|c| c.is_ascii_digit());
                let o = match (numeric(x), numeric(y)) {
                    (true, true) => x.len().cmp(&y.len()).then_with(|| x.cmp(y)),
                    (true, false) => Ordering::Less,
                    (false, true) => Ordering::Greater,
                    (false, false) => x.cmp(y),
                };
                if o != Ordering::Equal {
                    return o;
                }
            }
            pre_a.len().cmp(&pre_b.len())
        }
    })
}

#[test]
fn the_semver_order_of_the_test() {
    assert_eq!(semver("v1.0.0-rc93", "1.0.0-rc95"), Ordering::Less);
    assert_eq!(semver("v1.0.0-rc93", "1.0.0-rc9.0.20200122160610-2fc03cc11c77"), Ordering::Greater);
    assert_eq!(semver("v1.0.0-rc93", "1.0.0"), Ordering::Less);
    assert_eq!(semver("1.0.0-alpha.1", "1.0.0-alpha.beta"), Ordering::Less);
    assert_eq!(semver("1.0.0-2", "1.0.0-10"), Ordering::Less);
    assert_eq!(semver("v0.0.0-20211112202133-69e39bad7dc2", "0.0.0-20211209124913-491a49abca63"), Ordering::Less);
    assert_eq!(semver("v1.19.8", "1.19.10"), Ordering::Less);
    assert_eq!(semver("v2.2.3", "2.2.3"), Ordering::Equal);
}

/// `go`, or a clear failure naming the package to install.
fn go() -> Command {
    let ok = Command::new("go").arg("version").output().is_ok_and(|o| o.status.success());
    assert!(ok, "the Go toolchain is missing: apt-get install golang-go");
    Command::new("go")
}

/// Builds a Go executable that depends on `GO_MODULES`. Each module is vendored as a
/// one-function stand-in package, so the build needs no network, and the toolchain
/// records each module at the version `vendor/modules.txt` gives. Returns the binary and
/// the toolchain version (`go1.19.8`).
fn build_go_binary(work: &Path) -> (Vec<u8>, String) {
    let app = work.join("app");
    let mut go_mod = String::from("module example.com/vulnapp\n\ngo 1.19\n\nrequire (\n");
    let mut modules_txt = String::new();
    let mut imports = String::new();
    let mut calls = String::new();
    for (i, (module, version, package)) in GO_MODULES.iter().enumerate() {
        let import = if package.is_empty() { module.to_string() } else { format!("{module}/{package}") };
        let dir = app.join("vendor").join(&import);
        std::fs::create_dir_all(&dir).unwrap();
        let source =
            format!("package m{i}\n\n// Name names the module.\nfunc Name() string {{ return \"{module}\" }}\n");
        std::fs::write(dir.join("m.go"), source).unwrap();
        go_mod.push_str(&format!("\t{module} {version}\n"));
        modules_txt.push_str(&format!("# {module} {version}\n## explicit\n{import}\n"));
        imports.push_str(&format!("\tm{i} \"{import}\"\n"));
        calls.push_str(&format!("\tos.Stdout.WriteString(m{i}.Name() + \"\\n\")\n"));
    }
    go_mod.push_str(")\n");
    std::fs::write(app.join("go.mod"), go_mod).unwrap();
    std::fs::write(app.join("vendor/modules.txt"), modules_txt).unwrap();
    std::fs::write(
        app.join("main.go"),
        format!("package main\n\nimport (\n\t\"os\"\n\n{imports})\n\nfunc main() {{\n{calls}}}\n"),
    )
    .unwrap();
    let out = work.join("vulnapp");
    // A cache kept under the target directory makes later runs quick.
    let cache = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("go-build-cache");
    let build = go()
        .args(["build", "-trimpath", "-buildvcs=false", "-o"])
        .arg(&out)
        .arg(".")
        .current_dir(&app)
        .env("GOFLAGS", "-mod=vendor")
        .env("GOPROXY", "off")
        .env("GOCACHE", &cache)
        .env("GOPATH", work.join("gopath"))
        .env("CGO_ENABLED", "0")
        .output()
        .unwrap();
    assert!(build.status.success(), "go build failed: {}", String::from_utf8_lossy(&build.stderr));
    let version = go().args(["env", "GOVERSION"]).output().unwrap();
    let version = String::from_utf8(version.stdout).unwrap().trim().to_owned();
    // The toolchain itself says what it recorded.
    let listed = go().args(["version", "-m"]).arg(&out).output().unwrap();
    let listed = String::from_utf8_lossy(&listed.stdout);
    for (module, v, _) in GO_MODULES {
        assert!(listed.contains(&format!("dep\t{module}\t{v}")), "{module} {v} not in:\n{listed}");
    }
    (std::fs::read(&out).unwrap(), version)
}

#[test]
fn pypi_and_go_findings_follow_the_osv_records() {
    let dir = tempfile::tempdir().unwrap();
    let pypi = osv_records("PyPI");
    let go_records = osv_records("Go");

    // PyPI: every comparison the records call for, asked of `packaging` at once.
    let mut pairs = BTreeSet::new();
    for (name, version) in PYTHON.iter().chain([&PYTHON_CONTROL]) {
        for other in mentioned(&pypi, &normalise(name)) {
            pairs.insert((version.to_string(), other));
        }
    }
    let order = packaging_compare(&pairs);
    let cmp = |a: &str, b: &str| {
        order[&(a.to_owned(), b.to_owned())].unwrap_or_else(|| panic!("{a} or {b} is not a PEP 440 version"))
    };
    let equal = |listed: &str, version: &str| {
        listed == version || order.get(&(version.to_owned(), listed.to_owned())) == Some(&Some(Ordering::Equal))
    };
    let mut want = BTreeSet::new();
    for (name, version) in PYTHON {
        let project = normalise(name);
        assert!(
            pypi.iter()
                .flat_map(|r| r["affected"].as_array().into_iter().flatten())
                .filter(|a| a["package"]["name"] == project.as_str())
                .any(|a| a["versions"].as_array().into_iter().flatten().any(|v| v == version)),
            "{name} {version} is a release the records enumerate"
        );
        for id in affecting(&pypi, &project, version, &equal, &cmp) {
            want.insert((name.to_string(), id));
        }
    }
    let python_findings = want.len();
    assert!(mentioned(&pypi, PYTHON_CONTROL.0).is_empty(), "no record covers the control package");

    // Go: the modules, and the standard library at the toolchain's version.
    let (binary, go_version) = build_go_binary(dir.path());
    let go_equal = |a: &str, b: &str| semver(a, b) == Ordering::Equal;
    let mut go_packages: Vec<(String, String)> =
        GO_MODULES.iter().map(|(m, v, _)| (m.to_string(), v.to_string())).collect();
    go_packages.push(("stdlib".into(), go_version.trim_start_matches("go").to_owned()));
    for (module, version) in &go_packages {
        for id in affecting(&go_records, module, version, &go_equal, &semver) {
            want.insert((module.clone(), id));
        }
    }
    let uuid = |(p, _): &(String, String)| p == "github.com/google/uuid";
    assert!(!want.iter().any(uuid));
    assert!(want.iter().any(|(p, _)| p == "stdlib"), "{go_version} has standard library records");
    assert!(python_findings > 50 && want.len() - python_findings > 30, "{python_findings} / {}", want.len());

    let mut files: Vec<LayerFile> = vec![(
        "etc/os-release".into(),
        b"NAME=\"Debian GNU/Linux\"\nID=debian\nVERSION_ID=\"12\"\nVERSION_CODENAME=bookworm\n".to_vec(),
        0o644,
    )];
    for (name, version) in PYTHON.iter().chain([&PYTHON_CONTROL]) {
        let metadata =
            format!("Metadata-Version: 2.1\nName: {name}\nVersion: {version}\nSummary: {name} for the test\n\n");
        let path = format!("usr/lib/python3/dist-packages/{}-{version}.dist-info/METADATA", name.replace('-', "_"));
        files.push((path, metadata.into_bytes(), 0o644));
    }
    files.push(("usr/local/bin/vulnapp".into(), binary, 0o755));
    let archive = dir.path().join("lang.tar");
    write_docker_archive(&archive, &files);
    let report = scan_json(&archive, &vulndata_db(dir.path()), &[]);
    let got = finding_pairs(&report);
    assert_eq!(want, got, "{}", finding_diff(&want, &got));
    assert!(
        report["vulnerabilities"]["problems"].as_array().is_none_or(Vec::is_empty),
        "{:#}",
        report["vulnerabilities"]
    );

    // The finding fields for a language package: the installed version as written, the
    // fixed version from the record's range.
    let findings = report["vulnerabilities"]["findings"].as_array().unwrap();
    let runc = findings
        .iter()
        .find(|f| f["package"] == "github.com/opencontainers/runc" && f["vulnerability"] == "GO-2024-2491")
        .expect("runc v1.0.0-rc93 is in GO-2024-2491's range, introduced at 1.0.0-rc93");
    assert_eq!(runc["installed_version"], "v1.0.0-rc93");
    assert_eq!(runc["fixed_version"], "1.1.12");
    assert_eq!(runc["ecosystem"], "Go");
}
