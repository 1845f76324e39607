//! Benchmark of the image security service, in process, on SQLite or PostgreSQL:
//!
//! 1. sync: a real registry (Debian's `docker-registry` on loopback) holding R
//!    repositories × T tags of small distinct images is connected and synced; prints the
//!    sync's wall time (from the request to the job's end).
//! 2. rematch: N stored results (real inventories of the test images, under distinct
//!    digests) are matched again after the vulnerability database is replaced; prints the
//!    time from the swap to the last result matched.
//! 3. scans: the test images, pushed under distinct digests, scanned by the worker pool;
//!    prints images per minute, beside `cguard scan` of the same images run one after the
//!    other (`--cguard BIN`).
//!
//! `cargo run --release -p server --example image_service -- --backend sqlite --cguard target/release/cguard`

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;
use sha2::{Digest, Sha256};
use store::Backend;
use store::scratch::ScratchDb;
use testkit::registry::{Auth, Registry};

struct Args {
    backend: Backend,
    cguard: String,
    repositories: usize,
    tags: usize,
    stored: usize,
    parts: Vec<String>,
}

fn parse_args() -> Args {
    let mut a = Args {
        backend: Backend::Sqlite,
        cguard: "target/release/cguard".into(),
        repositories: 300,
        tags: 3,
        stored: 1000,
        parts: vec!["sync".into(), "rematch".into(), "scans".into()],
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().unwrap_or_else(|| panic!("{flag} needs a value"));
        match flag.as_str() {
            "--backend" => {
                a.backend = match value.as_str() {
                    "sqlite" => Backend::Sqlite,
                    "postgres" => Backend::Postgres,
                    other => panic!("--backend sqlite|postgres, not {other}"),
                }
            }
            "--cguard" => a.cguard = value,
            "--repositories" => a.repositories = value.parse().expect("--repositories N"),
            "--tags" => a.tags = value.parse().expect("--tags N"),
            "--stored" => a.stored = value.parse().expect("--stored N"),
            "--parts" => a.parts = value.split(',').map(str::to_owned).collect(),
            other => panic!("unknown flag {other}"),
        }
    }
    a
}

fn sha256(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

/// Uploads a blob to a repository (monolithic upload).
fn upload(http: &reqwest::blocking::Client, host: &str, repo: &str, bytes: &[u8]) -> String {
    let digest = sha256(bytes);
    let start = http.post(format!("http://{host}/v2/{repo}/blobs/uploads/")).send().unwrap();
    assert_eq!(start.status(), 202, "upload start");
    let location = start.headers()["location"].to_str().unwrap().to_owned();
    let url = if location.starts_with("http") { location } else { format!("http://{host}{location}") };
    let sep = if url.contains('?') { '&' } else { '?' };
    let put = http.put(format!("{url}{sep}digest={digest}")).body(bytes.to_vec()).send().unwrap();
    assert_eq!(put.status(), 201, "upload {digest}");
    digest
}

/// Pushes R × T small images, each with its own config (so each tag has its own digest).
fn push_synthetic(host: &str, repositories: usize, tags: usize) {
    let http = reqwest::blocking::Client::new();
    let mut tar = tar::Builder::new(Vec::new());
    let content = b"hello from a small image\n";
    let mut header = tar::Header::new_gnu();
    header.set_size(content.len() as u64);
    header.set_mode(0o644);
    header.set_cksum();
    tar.append_data(&mut header, "etc/motd", &content[..]).unwrap();
    let tar = tar.into_inner().unwrap();
    let diff_id = sha256(&tar);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&tar).unwrap();
    let layer = gz.finish().unwrap();
    for r in 0..repositories {
        let repo = format!("org{}/app{r}", r % 10);
        let layer_digest = upload(&http, host, &repo, &layer);
        for t in 0..tags {
            let config = json!({"architecture": "amd64", "os": "linux", "created": "2026-12-01T00:00:00Z",
                "config": {"Labels": {"build": format!("{r}-{t}")}},
                "rootfs": {"type": "layers", "diff_ids": [diff_id]}})
            .to_string();
            let config_digest = upload(&http, host, &repo, config.as_bytes());
            let manifest = json!({"schemaVersion": 2,
                "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
                "config": {"mediaType": "application/vnd.docker.container.image.v1+json",
                    "size": config.len(), "digest": config_digest},
                "layers": [{"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
                    "size": layer.len(), "digest": layer_digest}]});
            let put = http
                .put(format!("http://{host}/v2/{repo}/manifests/{t}.0"))
                .header("content-type", "application/vnd.docker.distribution.manifest.v2+json")
                .body(manifest.to_string())
                .send()
                .unwrap();
            assert_eq!(put.status(), 201, "manifest {repo}:{t}.0");
        }
    }
}

fn images_dir() -> PathBuf {
    std::env::var_os("CGUARD_IMAGES")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.cache/images"))
}

fn vulndata() -> PathBuf {
    std::env::var_os("CGUARD_VULNDATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/vulndata"))
}

/// A plain-HTTP registry on loopback, synced on demand only.
fn plain_registry(host: &str) -> api::images::RegistryWrite {
    api::images::RegistryWrite {
        name: "bench".into(),
        url: format!("http://{host}"),
        username: None,
        password: None,
        insecure: true,
        ca_pem: None,
        sync_interval_hours: Some(0),
        kind: None,
        images: None,
    }
}

struct Bench {
    state: server::AppState,
    _stop: tokio::sync::watch::Sender<bool>,
}

async fn start(db: &ScratchDb, vuln_db: &Path, workers: usize) -> Bench {
    let store: Arc<dyn store::Store> = Arc::new(store::open(&db.url).await.unwrap());
    let mut config = server::ServerConfig::new("127.0.0.1:0".parse().unwrap(), db.url.clone());
    config.workers = workers;
    config.vuln_db = vuln_db.to_path_buf();
    let state = server::AppState::new(store, config);
    let (stop, stopped) = tokio::sync::watch::channel(false);
    if workers > 0 {
        server::start_background(&state, stopped);
    }
    Bench { state, _stop: stop }
}

async fn wait_job(state: &server::AppState, id: &str) -> store::JobRow {
    loop {
        let job = state.store.jobs().job(id).await.unwrap().unwrap();
        if matches!(job.state.as_str(), "done" | "failed" | "cancelled") {
            return job;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn bench_sync(args: &Args, vuln_db: &Path) {
    let registry = Registry::start(Auth::None, None);
    let host = registry.host.clone();
    let (r, t) = (args.repositories, args.tags);
    tokio::task::spawn_blocking(move || push_synthetic(&host, r, t)).await.unwrap();
    let db = ScratchDb::new(args.backend).await.unwrap();
    let bench = start(&db, vuln_db, 1).await;
    let images = &bench.state.images;
    let input = plain_registry(&registry.host);
    // Adding a registry queues its first sync; asking again finds that job.
    let started = Instant::now();
    let id = images.add_registry(input).await.unwrap().id;
    let job = images.request_sync(&id, "bench", domain::jobs::Priority::Manual).await.unwrap();
    let job = wait_job(&bench.state, &job).await;
    let took = started.elapsed();
    assert_eq!(job.state, "done", "{}", job.error);
    let (_, versions) =
        bench.state.store.images().list_catalog(&Default::default(), &store::PageReq::default()).await.unwrap();
    println!(
        "sync ({}): {} repositories x {} tags = {versions} versions in {:.2} s",
        args.backend.name(),
        args.repositories,
        args.tags,
        took.as_secs_f64()
    );
    drop(bench);
    db.drop_now().await.unwrap();
}

/// Real inventories of the test images, each stored under many digests.
async fn bench_rematch(args: &Args, vuln_db: &Path, partial_db: &Path, dir: &Path) {
    let db = ScratchDb::new(args.backend).await.unwrap();
    let current = dir.join("current.db");
    std::fs::copy(partial_db, &current).unwrap();
    let bench = start(&db, &current, 0).await;
    let reports: Vec<scan::Report> = tokio::task::spawn_blocking(|| {
        ["extra.tar", "minbase.tar", "lang.tar", "rpm.tar"]
            .iter()
            .map(|name| {
                let reference = format!("docker-archive:{}", images_dir().join(name).display());
                scan::scan(&reference, &scan::Options::default()).unwrap()
            })
            .collect()
    })
    .await
    .unwrap();
    for n in 0..args.stored {
        let digest = sha256(format!("stored-{n}").as_bytes());
        let report = reports[n % reports.len()].clone();
        domain::imagesec::scanning::store_report(&bench.state.images, &digest, report).await.unwrap();
    }
    drop(bench);
    // A new database arrives; a pool of two workers matches every stored result again.
    let next = dir.join("next.db");
    std::fs::copy(vuln_db, &next).unwrap();
    std::fs::rename(&next, &current).unwrap();
    let bench = start(&db, &current, 2).await;
    let started = Instant::now();
    let schedule = domain::jobs::scheduler::ScheduleConfig { daily_at: (23, 59), ..Default::default() };
    domain::jobs::scheduler::tick(&bench.state.images, &schedule, 0).await.unwrap();
    let (jobs, _) = bench
        .state
        .store
        .jobs()
        .list_jobs(&store::JobFilter { kind: Some("rematch".into()), ..Default::default() }, &Default::default())
        .await
        .unwrap();
    let job = wait_job(&bench.state, &jobs[0].id).await;
    let took = started.elapsed();
    assert_eq!(job.state, "done", "{}", job.error);
    let version = bench.state.images.vulns.current().unwrap().version;
    let left = bench.state.store.images().digests_to_rematch(&version, 10).await.unwrap();
    assert!(left.is_empty());
    println!(
        "rematch ({}): {} stored results matched against a new database in {:.2} s",
        args.backend.name(),
        args.stored,
        took.as_secs_f64()
    );
    drop(bench);
    db.drop_now().await.unwrap();
}

fn skopeo(archive: &str, dest: &str, format: &str) {
    let out = Command::new("skopeo")
        .args(["copy", "-q", "--dest-tls-verify=false", "--dest-compress-format", format])
        .arg(format!("docker-archive:{}", images_dir().join(archive).display()))
        .arg(format!("docker://{dest}"))
        .output()
        .expect("skopeo");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

async fn bench_scans(args: &Args, vuln_db: &Path) {
    let registry = Registry::start(Auth::None, None);
    let mut refs = Vec::new();
    for archive in ["extra.tar", "minbase.tar", "lang.tar", "rpm.tar"] {
        for format in ["gzip", "zstd"] {
            let dest = format!("{}/bench/{}:{format}", registry.host, archive.trim_end_matches(".tar"));
            skopeo(archive, &dest, format);
            refs.push(dest);
        }
    }
    let db = ScratchDb::new(args.backend).await.unwrap();
    let bench = start(&db, vuln_db, 2).await;
    let images = &bench.state.images;
    let input = plain_registry(&registry.host);
    let started = Instant::now();
    let id = images.add_registry(input).await.unwrap().id;
    let job = images.request_sync(&id, "bench", domain::jobs::Priority::Manual).await.unwrap();
    wait_job(&bench.state, &job).await;
    loop {
        let active = bench.state.store.jobs().active_jobs("scan-image").await.unwrap();
        if active == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let pool = started.elapsed();
    let (entries, n) =
        bench.state.store.images().list_catalog(&Default::default(), &store::PageReq::default()).await.unwrap();
    assert!(entries.iter().all(|e| e.scan.as_ref().is_some_and(|s| s.status == "completed")), "every scan completed");
    drop(bench);
    db.drop_now().await.unwrap();
    let started = Instant::now();
    for r in &refs {
        let out = Command::new(&args.cguard)
            .args(["scan", &format!("registry:{r}"), "--db"])
            .arg(vuln_db)
            .args(["--format", "json", "--output", "/dev/null"])
            .output()
            .expect("cguard scan");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }
    let sequential = started.elapsed();
    let per_minute = |d: Duration| n as f64 * 60.0 / d.as_secs_f64();
    println!(
        "scans ({}): {n} images, worker pool of 2: {:.1} s ({:.0} images/min, sync included); \
         `cguard scan` one after the other: {:.1} s ({:.0} images/min)",
        args.backend.name(),
        pool.as_secs_f64(),
        per_minute(pool),
        sequential.as_secs_f64(),
        per_minute(sequential)
    );
}

#[tokio::main(flavor = "multi_thread", worker_threads = 4)]
async fn main() {
    let args = parse_args();
    let dir = tempfile::tempdir().unwrap();
    let vuln_db = dir.path().join("vuln.db");
    vulndb::build_from_dir(&vulndata(), &vuln_db).expect("vulnerability database");
    let partial_feeds = dir.path().join("partial");
    std::fs::create_dir_all(&partial_feeds).unwrap();
    for entry in std::fs::read_dir(vulndata()).unwrap() {
        let entry = entry.unwrap();
        if entry.file_name() != "debian" && entry.path().is_dir() {
            std::os::unix::fs::symlink(entry.path(), partial_feeds.join(entry.file_name())).unwrap();
        }
    }
    let partial_db = dir.path().join("partial.db");
    vulndb::build_from_dir(&partial_feeds, &partial_db).expect("partial database");
    for part in &args.parts {
        match part.as_str() {
            "sync" => bench_sync(&args, &vuln_db).await,
            "rematch" => bench_rematch(&args, &vuln_db, &partial_db, dir.path()).await,
            "scans" => bench_scans(&args, &vuln_db).await,
            other => panic!("unknown part {other}"),
        }
    }
}
