//! Benchmark of the views across images (SPEC 3.1–3.3), in process through the domain
//! service the REST handlers call, on SQLite or PostgreSQL.
//!
//! Data: N image versions (default 2,000) in one view, each with about F findings (default
//! 250, so 500,000 in all). The findings are real: the test images are scanned and matched
//! against the vulnerability database, and each version gets a different mix of those
//! findings (the same advisory in another package version counts as another finding), so
//! that vulnerabilities are spread over the versions as in a fleet.
//!
//! Prints the time to store the results and to bring the views up to date once, then
//! p50 / p99 / max of each request kind (summary with TOP 5, list pages, filters, search,
//! sort, the catalogue's counts of a page), and of the first read after a change (a
//! decision to ignore, one digest matched again).
//!
//! `cargo run --release -p server --example vuln_views -- --backend sqlite [--versions N] [--findings F]`

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use api::vulns::{IgnoreRequest, VulnListQuery};
use store::scratch::ScratchDb;
use store::{
    Backend, Detections, FindingRow, FoundCounts, ImageRow, MatchCounts, NewResult, PageReq, RegistryRow, VersionRow,
};

struct Args {
    backend: Backend,
    versions: usize,
    findings: usize,
    rounds: usize,
}

fn parse_args() -> Args {
    let mut a = Args { backend: Backend::Sqlite, versions: 2000, findings: 250, rounds: 200 };
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
            "--versions" => a.versions = value.parse().expect("--versions N"),
            "--findings" => a.findings = value.parse().expect("--findings N"),
            "--rounds" => a.rounds = value.parse().expect("--rounds N"),
            other => panic!("unknown flag {other}"),
        }
    }
    a
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

/// A small deterministic generator (xorshift), so that every run stores the same data.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Every finding of the test images, matched against the full database.
fn real_findings(vuln_db: &Path) -> Vec<FindingRow> {
    let db = domain::vulns::VulnDb::new(vuln_db.to_path_buf());
    let loaded = db.current().expect("vulnerability database");
    let mut pool = Vec::new();
    for name in ["extra.tar", "minbase.tar", "lang.tar", "rpm.tar"] {
        let reference = format!("docker-archive:{}", images_dir().join(name).display());
        let report = scan::scan(&reference, &scan::Options::default()).expect("scan of a test image");
        let matched = domain::imagesec::results::match_report(&report, &loaded);
        pool.extend(domain::imagesec::results::findings(&matched));
    }
    pool
}

fn percentiles(mut ms: Vec<f64>) -> String {
    ms.sort_by(|a, b| a.total_cmp(b));
    let at = |p: f64| ms[((ms.len() as f64 - 1.0) * p).round() as usize];
    format!("p50 {:7.2} ms   p99 {:7.2} ms   max {:7.2} ms", at(0.5), at(0.99), at(1.0))
}

async fn timed<F, Fut, T>(rounds: usize, mut f: F) -> Vec<f64>
where
    F: FnMut(usize) -> Fut,
    Fut: std::future::Future<Output = T>,
{
    let mut out = Vec::with_capacity(rounds);
    for i in 0..rounds {
        let started = Instant::now();
        std::hint::black_box(f(i).await);
        out.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    out
}

#[tokio::main]
async fn main() {
    let args = parse_args();
    let dir = tempfile::tempdir().unwrap();
    let vuln_db = dir.path().join("vuln.db");
    vulndb::build_from_dir(&vulndata(), &vuln_db).expect("vulnerability database");
    let pool = { tokio::task::spawn_blocking(move || real_findings(&vuln_db)).await.unwrap() };
    // The views read findings only: the stored report text stands in for the packed report.
    let packed = "-".to_string();
    assert!(!pool.is_empty(), "the test images have findings");
    let db = ScratchDb::new(args.backend).await.unwrap();
    let store: Arc<dyn store::Store> = Arc::new(store::open(&db.url).await.unwrap());
    let mut config = server::ServerConfig::new("127.0.0.1:0".parse().unwrap(), db.url.clone());
    config.vuln_db = dir.path().join("vuln.db");
    let state = server::AppState::new(store.clone(), config);
    let images = store.images();
    let now = domain::now_ms();
    images
        .create_registry(&RegistryRow {
            id: "bench".into(),
            name: "bench".into(),
            kind: "private".into(),
            watched: Vec::new(),
            url: "https://registry.bench:5000".into(),
            username: String::new(),
            password_sealed: String::new(),
            insecure: false,
            ca_pem: String::new(),
            sync_interval_hours: 24,
            sync_state: "ok".into(),
            last_sync_at: None,
            last_sync_error: String::new(),
            created_at: now,
            updated_at: now,
        })
        .await
        .unwrap();

    // Store the results: a mix of the real findings per version.
    let started = Instant::now();
    let mut rng = Rng(0x5eed_cafe_f00d_d00d);
    let mut total = 0usize;
    let mut version_ids = Vec::new();
    for n in 0..args.versions {
        let repository = format!("org{}/app{n}", n % 20);
        let image = images
            .upsert_image(&ImageRow {
                id: format!("image-{n}"),
                kind: "private".into(),
                registry_id: "bench".into(),
                registry_host: "registry.bench:5000".into(),
                repository: repository.clone(),
                organisation: format!("org{}", n % 20),
                created_at: now,
                updated_at: now,
            })
            .await
            .unwrap();
        let digest = format!("sha256:{n:064x}");
        images
            .upsert_version(&VersionRow {
                id: format!("version-{n}"),
                image_id: image.id,
                tag: "1.0".into(),
                digest: digest.clone(),
                size: 100_000_000,
                pushed_at: Some(now),
                seen_at: now,
            })
            .await
            .unwrap();
        version_ids.push(format!("version-{n}"));
        let findings: Vec<FindingRow> = (0..args.findings)
            .map(|i| {
                let mut f = pool[rng.below(pool.len())].clone();
                // Another package version: another finding of the same advisory.
                f.installed_version = format!("{}+b{i}", f.installed_version);
                f
            })
            .collect();
        total += findings.len();
        let counts = MatchCounts::default();
        images
            .store_result(
                &digest,
                &NewResult {
                    report: &packed,
                    found: &FoundCounts::default(),
                    counts: &counts,
                    findings: &findings,
                    detections: &Detections::default(),
                    db: "bench",
                },
            )
            .await
            .unwrap();
    }
    let stored = started.elapsed();
    let started = Instant::now();
    store.vuln_views().refresh(domain::now_ms()).await.unwrap();
    let first = started.elapsed();
    let service = &state.images;
    let summary = service.vuln_summary("private").await.unwrap();
    println!(
        "vulnerability views ({}): {} versions, {} findings stored ({} counted) in {:.1} s; \
         views brought up to date in {:.2} s",
        args.backend.name(),
        args.versions,
        total,
        summary.total,
        stored.as_secs_f64(),
        first.as_secs_f64()
    );

    let list = |q: VulnListQuery, page: PageReq| async move { service.vuln_list(&q, &page).await.unwrap() };
    let private = VulnListQuery { view: "private".into(), ..Default::default() };
    let (first_page, vulns) = list(private.clone(), PageReq { limit: 50, ..Default::default() }).await;
    let widespread = first_page[0].id.clone();
    let package = first_page[0].packages[0].clone();
    let pages = (vulns / 50).max(1);
    let r = args.rounds;
    let rows: Vec<(&str, Vec<f64>)> = vec![
        ("summary + TOP 5", timed(r, |_| service.vuln_summary("private")).await),
        (
            "list, page 1 (most affected)",
            timed(r, |_| list(private.clone(), PageReq { limit: 50, ..Default::default() })).await,
        ),
        (
            "list, any page",
            timed(r, |i| {
                list(private.clone(), PageReq { limit: 50, offset: (i as u64 % pages) * 50, ..Default::default() })
            })
            .await,
        ),
        (
            "list, by id, descending",
            timed(r, |_| {
                list(
                    private.clone(),
                    PageReq { limit: 50, sort: Some("id".into()), descending: true, ..Default::default() },
                )
            })
            .await,
        ),
        (
            "list, fix-asap only",
            timed(r, |_| {
                list(
                    VulnListQuery { urgency: Some("fix-asap".into()), ..private.clone() },
                    PageReq { limit: 50, ..Default::default() },
                )
            })
            .await,
        ),
        (
            "list, search by software",
            timed(r, |_| {
                list(
                    VulnListQuery { q: Some(package.clone()), ..private.clone() },
                    PageReq { limit: 50, ..Default::default() },
                )
            })
            .await,
        ),
        (
            "catalogue page (50 versions, counts)",
            timed(r, |i| {
                let ids: Vec<String> = version_ids.iter().skip((i * 50) % args.versions).take(50).cloned().collect();
                let store = store.clone();
                async move { store.vuln_views().version_counts(&ids, domain::now_ms()).await.unwrap() }
            })
            .await,
        ),
    ];
    for (name, ms) in rows {
        println!("  {name:<40} {}", percentiles(ms));
    }

    // A change costs its writer the views' update (as the handlers and jobs do it); the
    // reads after it stay as fast.
    let mut writes = Vec::new();
    let mut reads = Vec::new();
    for i in 0..20 {
        let started = Instant::now();
        if i % 2 == 0 {
            let req = IgnoreRequest { reason: Some(format!("round {i}")), ..Default::default() };
            service.ignore(&widespread, &req, "bench").await.unwrap();
        } else {
            service.unignore(&widespread, &api::vulns::UnignoreRequest::default()).await.unwrap();
        }
        writes.push(started.elapsed().as_secs_f64() * 1000.0);
        let started = Instant::now();
        std::hint::black_box(service.vuln_summary("private").await.unwrap());
        reads.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    println!("  {:<40} {}", "ignore/unignore for all images (write)", percentiles(writes));
    println!("  {:<40} {}", "summary right after it", percentiles(reads));
    let mut writes = Vec::new();
    let mut reads = Vec::new();
    for i in 0..20 {
        let findings: Vec<FindingRow> = pool.iter().cycle().skip(i * 13).take(args.findings).cloned().collect();
        let digest = format!("sha256:{:064x}", i % args.versions);
        let started = Instant::now();
        store.images().set_match(&digest, &MatchCounts::default(), &findings, "bench-2").await.unwrap();
        state.images.refresh_views().await;
        writes.push(started.elapsed().as_secs_f64() * 1000.0);
        let started = Instant::now();
        std::hint::black_box(service.vuln_summary("private").await.unwrap());
        reads.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    println!("  {:<40} {}", "one digest matched again (write)", percentiles(writes));
    println!("  {:<40} {}", "summary right after it", percentiles(reads));
    drop(state);
    db.drop_now().await.unwrap();
    tokio::time::sleep(Duration::from_millis(10)).await;
}
