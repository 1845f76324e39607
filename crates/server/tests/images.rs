//! Image security through the API, against a real registry (Debian's `docker-registry`,
//! htpasswd over TLS with a test CA) holding the test images pushed with `skopeo`: a
//! registry is connected, synced and scanned in the background, and each version's report
//! equals a direct scan of the same image; a new vulnerability database is noticed and the
//! stored results are matched again without reading any image.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{Value, json};
use testkit::registry::{Auth, Registry, Tls};

use crate::harness::{TestServer, each_backend_with};

const USER: &str = "alice";
const PASSWORD: &str = "registry-password-7f3a";

struct Lab {
    registry: Registry,
    ca_pem: String,
    ca_file: PathBuf,
    /// The vulnerability database the server reads (replaced by some tests).
    vuln_db: PathBuf,
    /// A database built from the feeds without Debian's.
    vuln_db_without_debian: PathBuf,
    _dir: tempfile::TempDir,
}

fn images_dir() -> PathBuf {
    std::env::var_os("CGUARD_IMAGES")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.cache/images"))
}

fn vulndata() -> PathBuf {
    let dir = std::env::var_os("CGUARD_VULNDATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/vulndata"));
    assert!(dir.join("debian").exists(), "vulnerability data missing in {}", dir.display());
    dir
}

fn push(lab_dir: &Path, host: &str, archive: &str, dest: &str) {
    let out = Command::new("skopeo")
        .args(["copy", "-q", "--dest-creds", &format!("{USER}:{PASSWORD}"), "--dest-cert-dir"])
        .arg(lab_dir.join("certs"))
        .arg(format!("docker-archive:{}", images_dir().join(archive).display()))
        .arg(format!("docker://{host}/{dest}"))
        .output()
        .expect("skopeo runs (apt-get install skopeo)");
    assert!(out.status.success(), "pushing {archive}: {}", String::from_utf8_lossy(&out.stderr));
}

/// One registry for every test of this module, with the test images pushed once.
fn lab() -> &'static Lab {
    static LAB: OnceLock<Lab> = OnceLock::new();
    LAB.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let tls = testkit::pki::server_tls(dir.path());
        let out = Command::new("htpasswd").args(["-Bbn", USER, PASSWORD]).output().expect("htpasswd runs");
        assert!(out.status.success());
        let htpasswd = dir.path().join("htpasswd");
        std::fs::write(&htpasswd, out.stdout).unwrap();
        let registry =
            Registry::start(Auth::Htpasswd { file: &htpasswd }, Some(Tls { cert: &tls.cert, key: &tls.key }));
        std::fs::create_dir_all(dir.path().join("certs")).unwrap();
        std::fs::copy(&tls.ca_cert, dir.path().join("certs/ca.crt")).unwrap();
        push(dir.path(), &registry.host, "extra.tar", "team/extra:bookworm");
        push(dir.path(), &registry.host, "extra.tar", "team/extra:latest");
        push(dir.path(), &registry.host, "minbase.tar", "base/minbase:12");
        let vuln_db = dir.path().join("vuln.db");
        vulndb::build_from_dir(&vulndata(), &vuln_db).expect("build the vulnerability database");
        let partial = dir.path().join("feeds-without-debian");
        std::fs::create_dir_all(&partial).unwrap();
        for entry in std::fs::read_dir(vulndata()).unwrap() {
            let entry = entry.unwrap();
            if entry.file_name() != "debian" && entry.path().is_dir() {
                std::os::unix::fs::symlink(entry.path(), partial.join(entry.file_name())).unwrap();
            }
        }
        let vuln_db_without_debian = dir.path().join("vuln-without-debian.db");
        vulndb::build_from_dir(&partial, &vuln_db_without_debian).expect("build the partial database");
        Lab {
            ca_pem: std::fs::read_to_string(&tls.ca_cert).unwrap(),
            ca_file: tls.ca_cert.clone(),
            registry,
            vuln_db,
            vuln_db_without_debian,
            _dir: dir,
        }
    })
}

/// What `cguard scan` reports for the image, with the same database.
struct Expected {
    vulns: BTreeSet<(String, String, String, String, String)>,
    packages: usize,
    malware: BTreeSet<String>,
    secrets: usize,
    baseline_failed: BTreeSet<String>,
}

fn direct_scan(reference: &str, db: &Path) -> Expected {
    let lab = lab();
    let database = vulndb::Database::open(db).unwrap();
    let options = scan::Options {
        open: image::source::OpenOptions {
            username: Some(USER.into()),
            password: Some(PASSWORD.into()),
            ca_file: Some(lab.ca_file.clone()),
            ..Default::default()
        },
        vulns: Some(scan::vulns::VulnOptions {
            source: Arc::new(database),
            policy: Default::default(),
            ignore: Default::default(),
            database: Default::default(),
            today: "2026-01-01".into(),
        }),
        malware: Some(detect::malware::Engine::new(Default::default()).unwrap()),
        secrets: true,
        baseline: true,
        ..Default::default()
    };
    let report = scan::scan(&format!("registry:{}/{reference}", lab.registry.host), &options).unwrap();
    let vulns = report
        .vulnerabilities
        .unwrap()
        .findings
        .iter()
        .filter(|f| !f.ignored)
        .map(|f| {
            (
                f.id.clone(),
                f.package.clone(),
                f.installed_version.clone(),
                f.fixed_version.clone().unwrap_or_default(),
                f.urgency.as_str().to_owned(),
            )
        })
        .collect();
    Expected {
        vulns,
        packages: report.inventory.packages.len(),
        malware: report.malware.unwrap().findings.iter().map(|m| m.finding.path.clone()).collect(),
        secrets: report.secrets.unwrap().len(),
        baseline_failed: report
            .baseline
            .unwrap()
            .iter()
            .filter(|c| c.result == detect::baseline::Outcome::Failed)
            .map(|c| c.id.clone())
            .collect(),
    }
}

/// The direct scan of `reference`, made once (off the async runtime: the registry client
/// blocks).
async fn expected(reference: &'static str) -> &'static Expected {
    static EXTRA: OnceLock<Expected> = OnceLock::new();
    static MINBASE: OnceLock<Expected> = OnceLock::new();
    tokio::task::spawn_blocking(move || {
        let cell = if reference.starts_with("team/extra") { &EXTRA } else { &MINBASE };
        cell.get_or_init(|| direct_scan(reference, &lab().vuln_db))
    })
    .await
    .unwrap()
}

fn with_lab(config: &mut server::ServerConfig) {
    config.workers = 2;
    config.vuln_db = lab().vuln_db.clone();
}

async fn wait_until<F, Fut>(what: &str, limit: Duration, mut check: F) -> Value
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<Value>>,
{
    let start = Instant::now();
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(start.elapsed() < limit, "{what}: not within {limit:?}");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

async fn wait_job(server: &TestServer, token: &str, id: &str) -> Value {
    wait_until(&format!("job {id}"), Duration::from_secs(120), || async {
        let (_, job) = server.get(&format!("/api/v1/jobs/{id}"), token).await;
        matches!(job["state"].as_str(), Some("done" | "failed" | "cancelled")).then_some(job)
    })
    .await
}

async fn versions(server: &TestServer, token: &str, query: &str) -> Vec<Value> {
    let (s, page) = server.get(&format!("/api/v1/images?{query}"), token).await;
    assert_eq!(s, StatusCode::OK, "{page}");
    page["items"].as_array().unwrap().clone()
}

fn find<'a>(items: &'a [Value], repository: &str, tag: &str) -> &'a Value {
    items.iter().find(|v| v["repository"] == repository && v["tag"] == tag).unwrap_or_else(|| {
        panic!("{repository}:{tag} not in {items:?}");
    })
}

/// Connects the lab's registry and syncs it; returns the registry's id.
async fn connect_and_sync(server: &TestServer, admin: &str) -> String {
    let lab = lab();
    let body = json!({"name": "lab", "url": format!("https://{}", lab.registry.host), "username": USER,
        "password": PASSWORD, "ca_pem": lab.ca_pem, "sync_interval_hours": 0});
    let (s, registry) = server.post("/api/v1/registries", admin, body).await;
    assert_eq!(s, StatusCode::CREATED, "{registry}");
    assert!(!registry.to_string().contains(PASSWORD));
    assert_eq!(registry["has_password"], true);
    let id = registry["id"].as_str().unwrap().to_owned();
    let (s, test) = server.post(&format!("/api/v1/registries/{id}/test"), admin, json!({})).await;
    assert_eq!(s, StatusCode::OK, "{test}");
    assert_eq!((test["ok"].as_bool(), test["repositories"].as_u64()), (Some(true), Some(2)), "{test}");
    let (s, job) = server.post(&format!("/api/v1/registries/{id}/sync"), admin, json!({})).await;
    assert_eq!(s, StatusCode::ACCEPTED, "{job}");
    let job = wait_job(server, admin, job["id"].as_str().unwrap()).await;
    assert_eq!(job["state"], "done", "{job}");
    id
}

async fn wait_all_scanned(server: &TestServer, admin: &str) -> Vec<Value> {
    let items = wait_until("every version scanned", Duration::from_secs(600), || async {
        let items = versions(server, admin, "kind=private").await;
        items.iter().all(|v| v["scan_status"] == "completed" || v["scan_status"] == "failed").then(|| json!(items))
    })
    .await;
    let items = items.as_array().unwrap().clone();
    for v in &items {
        assert_eq!(v["scan_status"], "completed", "{v}");
    }
    items
}

fn report_vulns(report: &Value) -> BTreeSet<(String, String, String, String, String)> {
    report["vulnerabilities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            (
                v["id"].as_str().unwrap().to_owned(),
                v["package"].as_str().unwrap().to_owned(),
                v["installed_version"].as_str().unwrap().to_owned(),
                v["fixed_version"].as_str().unwrap_or_default().to_owned(),
                v["urgency"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn check_report(report: &Value, want: &Expected) {
    assert_eq!(report_vulns(report), want.vulns);
    assert!(!want.vulns.is_empty(), "the test image has known vulnerabilities");
    assert_eq!(report["software"].as_array().unwrap().len(), want.packages);
    let malware: BTreeSet<String> =
        report["malware"].as_array().unwrap().iter().map(|m| m["path"].as_str().unwrap().to_owned()).collect();
    assert_eq!(malware, want.malware);
    assert_eq!(report["secrets"].as_array().unwrap().len(), want.secrets);
    let failed: BTreeSet<String> = report["baseline"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["result"] == "failed")
        .map(|c| c["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(failed, want.baseline_failed);
    let counts = &report["basic"]["urgency_counts"];
    let total = counts["fix-asap"].as_u64().unwrap()
        + counts["can-delay"].as_u64().unwrap()
        + counts["no-need-now"].as_u64().unwrap();
    assert_eq!(total as usize, want.vulns.len());
    assert_eq!(report["basic"]["image"]["vulnerability_count"].as_u64(), Some(total));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_synced_registry_is_scanned_and_each_report_equals_a_direct_scan() {
    let (extra, minbase) = (expected("team/extra:bookworm").await, expected("base/minbase:12").await);
    each_backend_with(with_lab, |server| async move {
        let admin = server.admin().await;
        let registry_id = connect_and_sync(&server, &admin).await;
        let items = versions(&server, &admin, "kind=private").await;
        assert_eq!(items.len(), 3, "{items:?}");
        assert_eq!(versions(&server, &admin, "kind=private&q=MINBASE").await.len(), 1);
        assert!(versions(&server, &admin, "kind=local").await.is_empty());
        let bookworm = find(&items, "team/extra", "bookworm");
        assert_eq!(bookworm["organisation"], "team");
        assert_eq!(bookworm["registry"], lab().registry.host.as_str());
        assert_eq!(bookworm["digest"], find(&items, "team/extra", "latest")["digest"]);

        let items = wait_all_scanned(&server, &admin).await;
        // Two tags of one digest: one scan.
        let (_, scans) = server.get("/api/v1/jobs?kind=scan-image", &admin).await;
        assert_eq!(scans["total"], 2, "{scans}");
        for (repo, tag, want) in
            [("team/extra", "bookworm", extra), ("team/extra", "latest", extra), ("base/minbase", "12", minbase)]
        {
            let v = find(&items, repo, tag);
            assert_eq!(v["vulnerability_count"].as_u64(), Some(want.vulns.len() as u64), "{v}");
            let (s, report) = server.get(&format!("/api/v1/images/{}/report", v["id"].as_str().unwrap()), &admin).await;
            assert_eq!(s, StatusCode::OK, "{report}");
            check_report(&report, want);
        }

        // The views across images add up what the reports list: each version counts.
        let (s, summary) = server.get("/api/v1/vulnerabilities/summary?view=private", &admin).await;
        assert_eq!(s, StatusCode::OK, "{summary}");
        let versions_of = [extra, extra, minbase];
        for urgency in ["fix-asap", "can-delay", "no-need-now"] {
            let want: usize = versions_of.iter().map(|w| w.vulns.iter().filter(|v| v.4 == urgency).count()).sum();
            assert_eq!(summary["counts"][urgency].as_u64(), Some(want as u64), "{urgency}: {summary}");
        }
        let total: usize = versions_of.iter().map(|w| w.vulns.len()).sum();
        assert_eq!(summary["total"].as_u64(), Some(total as u64));
        assert_eq!(summary["top5"].as_array().unwrap().len(), 3, "{summary}");
        let shares: f64 =
            ["fix-asap", "can-delay", "no-need-now"].iter().map(|u| summary["shares"][u].as_f64().unwrap()).sum();
        assert!((shares - 100.0).abs() < 0.2, "{summary}");
        let (_, local) = server.get("/api/v1/vulnerabilities/summary?view=local", &admin).await;
        assert_eq!(local["total"], 0);
        let (s, list) = server.get("/api/v1/vulnerabilities?view=private&limit=1000", &admin).await;
        assert_eq!(s, StatusCode::OK, "{list}");
        let listed: BTreeSet<String> =
            list["items"].as_array().unwrap().iter().map(|v| v["id"].as_str().unwrap().to_owned()).collect();
        let want: BTreeSet<String> = extra.vulns.iter().chain(&minbase.vulns).map(|v| v.0.clone()).collect();
        assert_eq!(listed, want);
        assert_eq!(list["total"].as_u64(), Some(want.len() as u64));
        for item in list["items"].as_array().unwrap() {
            let id = item["id"].as_str().unwrap();
            assert!(!item["solution"].as_str().unwrap().is_empty(), "{item}");
            let fixable = extra.vulns.iter().chain(&minbase.vulns).any(|v| v.0 == id && !v.3.is_empty());
            assert_eq!(item["solution"].as_str().unwrap().starts_with("Upgrade "), fixable, "{item}");
            let affected = versions_of.iter().filter(|w| w.vulns.iter().any(|v| v.0 == id)).count();
            assert_eq!(item["affected_images"].as_u64(), Some(affected as u64), "{item}");
        }
        let (_, urgent) = server.get("/api/v1/vulnerabilities?view=private&urgency=fix-asap&limit=1000", &admin).await;
        assert!(urgent["items"].as_array().unwrap().iter().all(|v| v["urgency"] == "fix-asap"));
        for bad in ["view=all", "view=private&urgency=soon", "view=private&sort=name", ""] {
            let (s, p) = server.get(&format!("/api/v1/vulnerabilities?{bad}"), &admin).await;
            assert_eq!(s, StatusCode::BAD_REQUEST, "{bad}: {p}");
        }

        check_ignores(&server, &admin, &items, extra, total).await;

        // Malicious files and failed baseline checks across the view: one item per file and
        // version, one per check with the versions where it failed.
        let (s, malware) = server.get("/api/v1/malware?view=private&limit=1000", &admin).await;
        assert_eq!(s, StatusCode::OK, "{malware}");
        let found: BTreeSet<(String, String)> = malware["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| (m["tag"].as_str().unwrap().to_owned(), m["path"].as_str().unwrap().to_owned()))
            .collect();
        let want: BTreeSet<(String, String)> = [("bookworm", extra), ("latest", extra), ("12", minbase)]
            .iter()
            .flat_map(|(tag, w)| w.malware.iter().map(move |p| (tag.to_string(), p.clone())))
            .collect();
        assert_eq!(found, want);
        assert!(malware["items"].as_array().unwrap().iter().all(|m| !m["type"].as_str().unwrap().is_empty()));
        if let Some(first) = want.iter().next() {
            let name = first.1.rsplit('/').next().unwrap().to_uppercase();
            let (_, named) = server.get(&format!("/api/v1/malware?view=private&q={name}"), &admin).await;
            assert!(named["total"].as_u64().unwrap() >= 1, "{named}");
        }
        let (s, baseline) = server.get("/api/v1/baseline?view=private&limit=1000", &admin).await;
        assert_eq!(s, StatusCode::OK, "{baseline}");
        let failed: BTreeSet<String> =
            baseline["items"].as_array().unwrap().iter().map(|c| c["id"].as_str().unwrap().to_owned()).collect();
        let want: BTreeSet<String> = extra.baseline_failed.union(&minbase.baseline_failed).cloned().collect();
        assert_eq!(failed, want);
        for c in baseline["items"].as_array().unwrap() {
            let id = c["id"].as_str().unwrap();
            let affected = [extra, extra, minbase].iter().filter(|w| w.baseline_failed.contains(id)).count();
            assert_eq!(c["affected_images"].as_u64(), Some(affected as u64), "{c}");
            let (_, places) = server.get(&format!("/api/v1/baseline/{id}?view=private"), &admin).await;
            assert_eq!(places["total"].as_u64(), Some(affected as u64), "{places}");
            assert!(places["items"].as_array().unwrap().iter().all(|p| !p["advice"].as_str().unwrap().is_empty()));
        }
        // Every list exports whole, as CSV and JSON lines.
        let export = |path: String| {
            let (base, token) = (server.base.clone(), admin.clone());
            async move {
                let resp = reqwest::Client::new().get(format!("{base}{path}")).bearer_auth(token).send().await.unwrap();
                let status = resp.status();
                let media = resp.headers().get("content-type").map(|v| v.to_str().unwrap().to_owned());
                (status, media, resp.text().await.unwrap())
            }
        };
        let (s, media, csv) = export("/api/v1/vulnerabilities?view=private&format=csv&limit=1".into()).await;
        assert_eq!((s, media.as_deref()), (StatusCode::OK, Some("text/csv; charset=utf-8")));
        assert_eq!(
            csv.lines().count() as u64,
            list["total"].as_u64().unwrap() + 1,
            "a header and every row, not a page"
        );
        assert!(csv.lines().next().unwrap().split(',').any(|c| c == "affected_images"));
        let (_, media, jsonl) = export("/api/v1/malware?view=private&format=jsonl".into()).await;
        assert_eq!(media.as_deref(), Some("application/x-ndjson"));
        assert_eq!(jsonl.lines().count() as u64, malware["total"].as_u64().unwrap());
        assert!(jsonl.lines().all(|l| serde_json::from_str::<Value>(l).is_ok()));
        let (_, _, jsonl) = export("/api/v1/baseline?view=private&format=jsonl".into()).await;
        assert_eq!(jsonl.lines().count() as u64, baseline["total"].as_u64().unwrap());
        assert_eq!(export("/api/v1/malware?view=private&format=xml".into()).await.0, StatusCode::BAD_REQUEST);

        for bad in ["/api/v1/malware?view=all", "/api/v1/baseline?view=private&level=urgent"] {
            assert_eq!(server.get(bad, &admin).await.0, StatusCode::BAD_REQUEST, "{bad}");
        }

        // Filters of the report: by urgency, by text.
        let id = bookworm["id"].as_str().unwrap();
        let (_, fix) = server.get(&format!("/api/v1/images/{id}/report?urgency=fix-asap"), &admin).await;
        let fix_asap = extra.vulns.iter().filter(|v| v.4 == "fix-asap").count();
        assert_eq!(fix["vulnerabilities"].as_array().unwrap().len(), fix_asap);
        let (package, cve_id) =
            (extra.vulns.iter().next().unwrap().1.clone(), extra.vulns.iter().next().unwrap().0.clone());
        let (_, found) = server.get(&format!("/api/v1/images/{id}/report?q={}", package.to_uppercase()), &admin).await;
        assert!(
            found["vulnerabilities"].as_array().unwrap().iter().all(|v| v["package"]
                .as_str()
                .unwrap()
                .contains(&package)
                || v["id"].as_str().unwrap().to_lowercase().contains(&package))
        );
        assert!(found["vulnerabilities"].as_array().unwrap().iter().any(|v| v["id"] == cve_id.as_str()));
        let (s, _) = server.get(&format!("/api/v1/images/{id}/report?urgency=soon"), &admin).await;
        assert_eq!(s, StatusCode::BAD_REQUEST);

        // The SBOMs list every package.
        let sbom = reqwest::Client::new()
            .get(format!("{}/api/v1/images/{id}/sbom?format=cyclonedx", server.base))
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap();
        assert_eq!(sbom.headers()["content-type"], "application/vnd.cyclonedx+json");
        let sbom: Value = sbom.json().await.unwrap();
        assert_eq!(sbom["components"].as_array().unwrap().len(), extra.packages);
        assert!(!sbom["vulnerabilities"].as_array().unwrap().is_empty());

        // A manual scan is audited, and so is the sync; the password is nowhere.
        let (s, job) = server.post(&format!("/api/v1/images/{id}/scan"), &admin, json!({})).await;
        assert_eq!(s, StatusCode::ACCEPTED, "{job}");
        assert_eq!(job["priority"], 0);
        assert_eq!(wait_job(&server, &admin, job["id"].as_str().unwrap()).await["state"], "done");
        let (_, audit) = server.get("/api/v1/audit/records?limit=1000", &admin).await;
        let events: BTreeSet<&str> =
            audit["items"].as_array().unwrap().iter().filter_map(|r| r["event_name"].as_str()).collect();
        for event in ["addRegistry", "testRegistry", "syncSwrPrivateImage", "scanPrivateImage"] {
            assert!(events.contains(event), "{event} not audited: {events:?}");
        }
        assert!(!audit.to_string().contains(PASSWORD), "the registry password reached the audit log");
        let (_, registry) = server.get(&format!("/api/v1/registries/{registry_id}"), &admin).await;
        assert_eq!(registry["sync_state"], "ok", "{registry}");
    })
    .await;
}

/// Ignoring a vulnerability of team/extra (both tags, one digest) for one version, for
/// the repository, for every image until a time: the counts move by exactly the findings
/// covered, everywhere, and come back when the decision is taken back or lapses.
async fn check_ignores(server: &TestServer, admin: &str, items: &[Value], extra: &Expected, total: usize) {
    let (bookworm, latest) = (find(items, "team/extra", "bookworm"), find(items, "team/extra", "latest"));
    let vuln = extra.vulns.iter().next().unwrap().0.clone();
    let per_version = extra.vulns.iter().filter(|v| v.0 == vuln).count();
    let summary_total = || async {
        server.get("/api/v1/vulnerabilities/summary?view=private", admin).await.1["total"].as_u64().unwrap() as usize
    };
    let item = || async {
        let (_, list) = server.get(&format!("/api/v1/vulnerabilities?view=private&q={vuln}&limit=1000"), admin).await;
        list["items"].as_array().unwrap().iter().find(|v| v["id"] == vuln.as_str()).unwrap().clone()
    };
    let count_of = |id: String| async move {
        server.get(&format!("/api/v1/images/{id}"), admin).await.1["vulnerability_count"].as_u64().unwrap() as usize
    };
    // Its page: where it is, in which software, and what it is.
    let (s, page) = server.get(&format!("/api/v1/vulnerabilities/{vuln}?view=private"), admin).await;
    assert_eq!(s, StatusCode::OK, "{page}");
    let extra_image = page["images"].as_array().unwrap().iter().find(|i| i["repository"] == "team/extra").unwrap();
    assert_eq!(extra_image["affected_versions"], 2, "{page}");
    let tags: BTreeSet<&str> =
        extra_image["versions"].as_array().unwrap().iter().map(|v| v["tag"].as_str().unwrap()).collect();
    assert_eq!(tags, BTreeSet::from(["bookworm", "latest"]));
    let software: BTreeSet<(String, String)> = extra_image["versions"][0]["software"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["package"].as_str().unwrap().to_owned(), s["installed_version"].as_str().unwrap().to_owned()))
        .collect();
    let want: BTreeSet<(String, String)> =
        extra.vulns.iter().filter(|v| v.0 == vuln).map(|v| (v.1.clone(), v.2.clone())).collect();
    assert_eq!(software, want);
    assert!(!page["solution"].as_str().unwrap().is_empty());
    let want_cves = extra
        .vulns
        .iter()
        .any(|v| v.0 == vuln && (v.0.starts_with("CVE-") || v.0.starts_with("DSA-") || v.0.starts_with("DLA-")));
    assert!(!want_cves || !page["cves"].as_array().unwrap().is_empty(), "{page}");
    assert_eq!(server.get(&format!("/api/v1/vulnerabilities/{vuln}?view=local"), admin).await.0, StatusCode::NOT_FOUND);
    assert_eq!(server.get(&format!("/api/v1/vulnerabilities/{vuln}"), admin).await.0, StatusCode::BAD_REQUEST);

    let ignore = format!("/api/v1/vulnerabilities/{vuln}/ignore");
    let unignore = format!("/api/v1/vulnerabilities/{vuln}/unignore");
    let bookworm_id = bookworm["id"].as_str().unwrap().to_owned();

    let body = json!({"image_id": bookworm_id, "kind": "false-positive", "reason": "not in this build"});
    let (s, decision) = server.post(&ignore, admin, body).await;
    assert_eq!(s, StatusCode::OK, "{decision}");
    assert_eq!((decision["scope"].as_str(), decision["author"].as_str()), (Some("version"), Some("admin")));
    assert_eq!(summary_total().await, total - per_version);
    let it = item().await;
    assert_eq!(
        (it["affected_images"].as_u64(), it["ignored_images"].as_u64(), it["ignored"].as_bool()),
        (Some(1), Some(1), Some(false))
    );
    assert_eq!(count_of(bookworm_id.clone()).await, extra.vulns.len() - per_version);
    assert_eq!(count_of(latest["id"].as_str().unwrap().to_owned()).await, extra.vulns.len());
    let (_, report) = server.get(&format!("/api/v1/images/{bookworm_id}/report"), admin).await;
    let marked: Vec<&Value> =
        report["vulnerabilities"].as_array().unwrap().iter().filter(|v| v["ignored"] == true).collect();
    assert_eq!(marked.len(), per_version, "ignored findings stay listed, marked");
    assert!(marked.iter().all(|v| v["id"] == vuln.as_str()));
    assert_eq!(
        report["basic"]["image"]["vulnerability_count"].as_u64(),
        Some((extra.vulns.len() - per_version) as u64)
    );

    // The repository: every version, the next tag too.
    let body = json!({"image_id": bookworm_id, "scope": "repository", "kind": "not-affected",
        "justification": "vulnerable_code_not_in_execute_path"});
    assert_eq!(server.post(&ignore, admin, body).await.0, StatusCode::OK);
    assert_eq!(summary_total().await, total - 2 * per_version);
    assert_eq!(item().await["ignored"], true);
    let scope = json!({"image_id": bookworm_id, "scope": "repository"});
    assert_eq!(server.post(&unignore, admin, scope.clone()).await.0, StatusCode::OK);
    assert_eq!(server.post(&unignore, admin, scope).await.0, StatusCode::NOT_FOUND, "taken back already");
    assert_eq!(server.post(&unignore, admin, json!({"image_id": bookworm_id})).await.0, StatusCode::OK);
    assert_eq!(summary_total().await, total);

    // For every image until a time: it counts again once the time has passed.
    let soon = time::OffsetDateTime::now_utc() + time::Duration::seconds(3);
    let soon = soon.format(&time::format_description::well_known::Rfc3339).unwrap();
    let (s, d) = server.post(&ignore, admin, json!({"expires_at": soon})).await;
    assert_eq!((s, d["scope"].as_str(), d["active"].as_bool()), (StatusCode::OK, Some("all"), Some(true)), "{d}");
    assert_eq!(summary_total().await, total - 2 * per_version);
    tokio::time::sleep(Duration::from_millis(3500)).await;
    assert_eq!(summary_total().await, total, "the decision lapsed");
    let (_, decisions) = server.get(&format!("/api/v1/vulnerabilities/{vuln}/ignores"), admin).await;
    assert_eq!(
        decisions.as_array().map(|d| (d.len(), d[0]["active"].as_bool())),
        Some((1, Some(false))),
        "{decisions}"
    );

    // A decision travels out and back in as VEX, OpenVEX and CycloneDX.
    let body = json!({"image_id": bookworm_id, "scope": "repository", "kind": "not-affected",
        "justification": "vulnerable_code_not_in_execute_path", "reason": "never loaded"});
    assert_eq!(server.post(&ignore, admin, body).await.0, StatusCode::OK);
    let (s, openvex) = server.get("/api/v1/vulnerabilities/vex", admin).await;
    assert_eq!(s, StatusCode::OK, "{openvex}");
    let statements = openvex["statements"].as_array().unwrap();
    assert_eq!(statements.len(), 1, "the lapsed decision is not exported: {openvex}");
    assert_eq!(
        (statements[0]["vulnerability"]["name"].as_str(), statements[0]["status"].as_str()),
        (Some(vuln.as_str()), Some("not_affected"))
    );
    let product = statements[0]["products"][0]["@id"].as_str().unwrap();
    assert!(product.starts_with("pkg:oci/extra?repository_url=") && product.ends_with("/team/extra"), "{product}");
    assert!(!statements[0]["products"][0]["subcomponents"].as_array().unwrap().is_empty());
    let (_, cdx) = server.get("/api/v1/vulnerabilities/vex?format=cyclonedx", admin).await;
    assert_eq!(cdx["vulnerabilities"][0]["analysis"]["justification"], "code_not_reachable", "{cdx}");
    let scope = json!({"image_id": bookworm_id, "scope": "repository"});
    for doc in [openvex, cdx] {
        assert_eq!(server.post(&unignore, admin, scope.clone()).await.0, StatusCode::OK);
        assert_eq!(summary_total().await, total);
        let (s, imported) = server.post("/api/v1/vulnerabilities/vex", admin, doc).await;
        assert_eq!((s, imported["imported"].as_u64()), (StatusCode::OK, Some(1)), "{imported}");
        assert_eq!(summary_total().await, total - 2 * per_version);
        let (_, decisions) = server.get(&format!("/api/v1/vulnerabilities/{vuln}/ignores"), admin).await;
        let repo = decisions.as_array().unwrap().iter().find(|d| d["scope"] == "repository").unwrap().clone();
        assert_eq!(
            (repo["kind"].as_str(), repo["justification"].as_str()),
            (Some("not-affected"), Some("vulnerable_code_not_in_execute_path"))
        );
    }
    assert_eq!(server.post(&unignore, admin, scope).await.0, StatusCode::OK);
    assert_eq!(
        server.post("/api/v1/vulnerabilities/vex", admin, json!({"nothing": 1})).await.0,
        StatusCode::BAD_REQUEST
    );
    let unknown = json!({"statements": [{"vulnerability": {"name": vuln}, "status": "not_affected",
        "justification": "component_not_present", "products": [{"@id": "pkg:oci/nope?repository_url=nowhere/nope"}]}]});
    let (_, none) = server.post("/api/v1/vulnerabilities/vex", admin, unknown).await;
    assert_eq!((none["imported"].as_u64(), none["skipped"].as_array().map(Vec::len)), (Some(0), Some(1)), "{none}");
    assert_eq!(summary_total().await, total);

    // Bad decisions are the caller's error.
    for bad in [
        json!({"kind": "maybe"}),
        json!({"kind": "not-affected"}),
        json!({"kind": "accepted-risk", "justification": "component_not_present"}),
        json!({"expires_at": "2001-01-01T00:00:00Z"}),
        json!({"expires_at": "tomorrow"}),
        json!({"scope": "repository"}),
        json!({"reason": "x".repeat(1001)}),
    ] {
        assert_eq!(server.post(&ignore, admin, bad.clone()).await.0, StatusCode::BAD_REQUEST, "{bad}");
    }
    let missing = json!({"image_id": "00000000-0000-0000-0000-000000000000"});
    assert_eq!(server.post(&ignore, admin, missing).await.0, StatusCode::NOT_FOUND);

    let (_, audit) = server.get("/api/v1/audit/records?limit=1000", admin).await;
    let events: BTreeSet<&str> =
        audit["items"].as_array().unwrap().iter().filter_map(|r| r["event_name"].as_str()).collect();
    for event in ["ignoreImageVul", "cancelIgnoreImageVul", "ignoreVul"] {
        assert!(events.contains(event), "{event} not audited: {events:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_new_database_is_noticed_and_stored_results_are_matched_again() {
    let extra = expected("team/extra:bookworm").await;
    let dir = tempfile::tempdir().unwrap();
    let db_path = dir.path().join("vuln.db");
    let db = db_path.clone();
    each_backend_with(
        move |config| {
            config.workers = 2;
            config.vuln_db = db.clone();
        },
        |server| {
            let db_path = db_path.clone();
            async move {
                std::fs::copy(&lab().vuln_db, &db_path).unwrap();
                let admin = server.admin().await;
                connect_and_sync(&server, &admin).await;
                let items = wait_all_scanned(&server, &admin).await;
                let id = find(&items, "team/extra", "bookworm")["id"].as_str().unwrap().to_owned();
                let count = |items: &[Value]| find(items, "team/extra", "bookworm")["vulnerability_count"].as_u64();
                assert_eq!(count(&items), Some(extra.vulns.len() as u64));

                // Swap in a database without Debian's data, as `cguard db update` does.
                let next = db_path.with_extension("next");
                std::fs::copy(&lab().vuln_db_without_debian, &next).unwrap();
                std::fs::rename(&next, &db_path).unwrap();
                let (_, report) = server.get(&format!("/api/v1/images/{id}/report"), &admin).await;
                assert!(report_vulns(&report).is_empty(), "the report is matched against the current database");
                let schedule = domain::jobs::scheduler::ScheduleConfig { daily_at: (23, 59), ..Default::default() };
                domain::jobs::scheduler::tick(&server.state.images, &schedule, 0).await.unwrap();
                wait_until("counts matched again", Duration::from_secs(60), || async {
                    let items = versions(&server, &admin, "kind=private").await;
                    (count(&items) == Some(0)).then_some(Value::Null)
                })
                .await;
                let (_, summary) = server.get("/api/v1/vulnerabilities/summary?view=private", &admin).await;
                assert_eq!(summary["total"], 0, "dropped findings stop counting: {summary}");
                // And back: the first database's findings return, no image read again.
                let scans_before = server.get("/api/v1/jobs?kind=scan-image", &admin).await.1["total"].clone();
                std::fs::copy(&lab().vuln_db, &next).unwrap();
                std::fs::rename(&next, &db_path).unwrap();
                domain::jobs::scheduler::tick(&server.state.images, &schedule, 0).await.unwrap();
                wait_until("counts matched again", Duration::from_secs(60), || async {
                    let items = versions(&server, &admin, "kind=private").await;
                    (count(&items) == Some(extra.vulns.len() as u64)).then_some(Value::Null)
                })
                .await;
                assert_eq!(server.get("/api/v1/jobs?kind=scan-image", &admin).await.1["total"], scans_before);
                let (_, summary) = server.get("/api/v1/vulnerabilities/summary?view=private", &admin).await;
                assert!(summary["total"].as_u64().is_some_and(|n| n >= extra.vulns.len() as u64), "{summary}");
                let (_, rematches) = server.get("/api/v1/jobs?kind=rematch", &admin).await;
                assert_eq!(rematches["total"], 2, "{rematches}");
            }
        },
    )
    .await;
}

#[tokio::test]
async fn wrong_credentials_and_bad_registries_are_clear_errors() {
    each_backend_with(with_lab, |server| async move {
        let admin = server.admin().await;
        let lab = lab();
        let body = json!({"name": "wrong", "url": format!("https://{}", lab.registry.host), "username": USER,
            "password": "not-the-password", "ca_pem": lab.ca_pem});
        let (s, registry) = server.post("/api/v1/registries", &admin, body).await;
        assert_eq!(s, StatusCode::CREATED, "{registry}");
        let id = registry["id"].as_str().unwrap();
        let (_, test) = server.post(&format!("/api/v1/registries/{id}/test"), &admin, json!({})).await;
        assert_eq!(test["ok"], false, "{test}");
        assert!(test["message"].as_str().unwrap().contains("refused"), "{test}");
        // Without the CA the certificate is not trusted: TLS is verified by default.
        let body = json!({"name": "noca", "url": format!("https://{}", lab.registry.host), "username": USER,
            "password": PASSWORD});
        let (_, registry) = server.post("/api/v1/registries", &admin, body).await;
        let id = registry["id"].as_str().unwrap();
        let (_, test) = server.post(&format!("/api/v1/registries/{id}/test"), &admin, json!({})).await;
        assert_eq!(test["ok"], false, "{test}");
        assert!(test["message"].as_str().unwrap().contains("certificate"), "{test}");
        for (body, field) in [
            (json!({"name": "x", "url": "http://reg.example"}), "url"),
            (json!({"name": "x", "url": "ftp://reg.example"}), "url"),
            (json!({"name": "bad name", "url": "reg.example"}), "name"),
            (json!({"name": "x", "url": "reg.example", "ca_pem": "nonsense"}), "ca_pem"),
        ] {
            let (s, problem) = server.post("/api/v1/registries", &admin, body).await;
            assert_eq!(s, StatusCode::BAD_REQUEST, "{problem}");
            assert_eq!(problem["field"], field, "{problem}");
        }
        let (s, _) = server.post("/api/v1/registries", &admin, json!({"name": "wrong", "url": "reg.example"})).await;
        assert_eq!(s, StatusCode::CONFLICT);
        let (s, _) = server.get("/api/v1/images/00000000-0000-0000-0000-000000000000/report", &admin).await;
        assert_eq!(s, StatusCode::NOT_FOUND);
        let (s, _) = server.get("/api/v1/images?kind=public", &admin).await;
        assert_eq!(s, StatusCode::BAD_REQUEST);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_official_registry_watches_its_images_only_and_a_digest_is_scanned_once() {
    let minbase = expected("base/minbase:12").await;
    each_backend_with(with_lab, |server| async move {
        let admin = server.admin().await;
        connect_and_sync(&server, &admin).await;
        wait_all_scanned(&server, &admin).await;
        let lab = lab();
        let body = json!({"name": "hub", "kind": "official", "url": format!("https://{}", lab.registry.host),
            "username": USER, "password": PASSWORD, "ca_pem": lab.ca_pem,
            "images": ["base/minbase:12", "team/extra:no-such-tag"]});
        let (s, official) = server.post("/api/v1/registries", &admin, body).await;
        assert_eq!(s, StatusCode::CREATED, "{official}");
        assert_eq!(official["kind"], "official");
        let id = official["id"].as_str().unwrap().to_owned();
        // Its first sync was queued when it was added.
        let registry = wait_until("the official registry synced", Duration::from_secs(120), || async {
            let (_, r) = server.get(&format!("/api/v1/registries/{id}"), &admin).await;
            (r["sync_state"] == "ok").then_some(r)
        })
        .await;
        assert!(registry["last_sync_error"].as_str().unwrap().contains("no-such-tag"), "{registry}");
        let items = versions(&server, &admin, "kind=official").await;
        assert_eq!(items.len(), 1, "only the watched image that exists: {items:?}");
        let v = &items[0];
        assert_eq!((v["repository"].as_str(), v["tag"].as_str()), (Some("base/minbase"), Some("12")));
        // The private registry's scan of the same digest serves it: no new scan.
        assert_eq!(v["scan_status"], "completed", "{v}");
        assert_eq!(v["vulnerability_count"].as_u64(), Some(minbase.vulns.len() as u64));
        let (_, scans) = server.get("/api/v1/jobs?kind=scan-image", &admin).await;
        assert_eq!(scans["total"], 2, "{scans}");
        // The official view counts its own image only, as its report does.
        let (_, summary) = server.get("/api/v1/vulnerabilities/summary?view=official", &admin).await;
        assert_eq!(summary["total"].as_u64(), Some(minbase.vulns.len() as u64), "{summary}");
        assert_eq!(summary["top5"].as_array().map(Vec::len), Some(1));
        let (_, list) = server.get("/api/v1/vulnerabilities?view=official&limit=1000", &admin).await;
        let ids: BTreeSet<String> = minbase.vulns.iter().map(|v| v.0.clone()).collect();
        assert_eq!(list["total"].as_u64(), Some(ids.len() as u64), "{list}");
        assert!(list["items"].as_array().unwrap().iter().all(|v| v["affected_images"] == 1));
        for (body, field) in [
            (json!({"name": "o2", "kind": "official", "url": "reg.example"}), "images"),
            (json!({"name": "o3", "kind": "official", "url": "reg.example", "images": ["Nginx"]}), "images"),
            (json!({"name": "o4", "url": "reg.example", "images": ["nginx:1"]}), "images"),
            (json!({"name": "o5", "kind": "public", "url": "reg.example"}), "kind"),
        ] {
            let (s, problem) = server.post("/api/v1/registries", &admin, body).await;
            assert_eq!(s, StatusCode::BAD_REQUEST, "{problem}");
            assert_eq!(problem["field"], field, "{problem}");
        }
    })
    .await;
}

#[tokio::test]
async fn nul_characters_in_text_are_the_callers_error_on_both_databases() {
    crate::harness::each_backend(|server| async move {
        let admin = server.admin().await;
        let (s, body) = server.get("/api/v1/images?q=a%00b", &admin).await;
        assert!(s == StatusCode::OK || s == StatusCode::BAD_REQUEST, "{s} {body}");
        let detach = json!({"principal_type": "group", "principal_id": "g\u{0}x"});
        let (s, body) = server.post("/api/v1/iam/policies/system-cgs-readonlyaccess/detach", &admin, detach).await;
        assert!(s.is_client_error(), "{s} {body}");
    })
    .await;
}
