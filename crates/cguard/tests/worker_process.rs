//! `cguard worker` as a process on PostgreSQL: a worker killed with SIGKILL in the middle
//! of a scan loses nothing (its lease runs out and another worker finishes the job, once),
//! and several workers on one database never run a job twice.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use testkit::registry::{Auth, Registry};
use testkit::throttle::Throttle;

use crate::server_process::{Db, Server};

fn worker(db: &Db) -> Child {
    let data = db.args()[1].clone();
    Command::new(env!("CARGO_BIN_EXE_cguard"))
        .arg("worker")
        .args(db.args())
        .args(["--secret-key-file", &format!("{data}/secret.key"), "--workers", "1", "--job-lease-seconds", "3"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

fn wait_for(what: &str, limit: Duration, mut check: impl FnMut() -> Option<Value>) -> Value {
    let start = Instant::now();
    loop {
        if let Some(v) = check() {
            return v;
        }
        assert!(start.elapsed() < limit, "{what}: not within {limit:?}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn jobs(server: &Server, admin: &str, query: &str) -> Vec<Value> {
    let (s, page) = server.call("GET", &format!("/api/v1/jobs?{query}"), Some(admin), None);
    assert_eq!(s, 200, "{page}");
    page["items"].as_array().unwrap().clone()
}

#[test]
fn a_worker_killed_mid_scan_loses_nothing_and_the_job_completes_once() {
    let registry = Registry::start(Auth::None, None);
    let archive = crate::common::image("extra.tar");
    let status = Command::new("skopeo")
        .args(["copy", "-q", "--dest-tls-verify=false"])
        .arg(format!("docker-archive:{}", archive.display()))
        .arg(format!("docker://{}/team/extra:1", registry.host))
        .status()
        .expect("skopeo runs");
    assert!(status.success());
    // A slow link to the registry keeps the scan in progress long enough to kill its worker.
    let slow = Throttle::start(&registry.host, 16 << 20);
    let db = Db::new(true);
    let server = Server::start_with(&db, &["--workers", "0"]);
    let admin = server.admin();
    let body =
        json!({"name": "slow", "url": format!("http://{}", slow.host), "insecure": true, "sync_interval_hours": 0});
    let (s, reg) = server.call("POST", "/api/v1/registries", Some(&admin), Some(body));
    assert_eq!(s, 201, "{reg}");
    let (s, sync) =
        server.call("POST", &format!("/api/v1/registries/{}/sync", reg["id"].as_str().unwrap()), Some(&admin), None);
    assert_eq!(s, 202, "{sync}");

    let mut first = worker(&db);
    let running = wait_for("the scan starts", Duration::from_secs(120), || {
        jobs(&server, &admin, "kind=scan-image&state=running").into_iter().next()
    });
    std::thread::sleep(Duration::from_millis(500));
    first.kill().unwrap(); // SIGKILL, in the middle of the pull
    first.wait().unwrap();
    let id = running["id"].as_str().unwrap().to_owned();
    let (_, after_kill) = server.call("GET", &format!("/api/v1/jobs/{id}"), Some(&admin), None);
    assert_eq!(after_kill["state"], "running", "the scan ended before its worker was killed: {after_kill}");

    // Two workers take over; the job is taken again once its lease runs out.
    let mut others = [worker(&db), worker(&db)];
    let done = wait_for("the scan completes", Duration::from_secs(300), || {
        let (_, job) = server.call("GET", &format!("/api/v1/jobs/{id}"), Some(&admin), None);
        matches!(job["state"].as_str(), Some("done" | "failed")).then_some(job)
    });
    for w in &mut others {
        w.kill().unwrap();
        w.wait().unwrap();
    }
    assert_eq!(done["state"], "done", "{done}");
    assert_eq!(done["attempts"], 2, "claimed by the killed worker, then by one other: {done}");
    let scans = jobs(&server, &admin, "kind=scan-image");
    assert_eq!(scans.len(), 1, "one job for the digest: {scans:?}");
    let (_, images) = server.call("GET", "/api/v1/images?kind=private", Some(&admin), None);
    let items = images["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["scan_status"], "completed", "{images}");
    let (s, report) =
        server.call("GET", &format!("/api/v1/images/{}/report", items[0]["id"].as_str().unwrap()), Some(&admin), None);
    assert_eq!(s, 200, "{report}");
    assert!(report["software"].as_array().unwrap().len() > 100);
    for job in jobs(&server, &admin, "") {
        assert_eq!(job["state"], "done", "{job}");
    }
}
