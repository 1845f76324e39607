//! `cguard shield --server` against a real `cguard server` and real containers: the shield
//! enrols with the cluster's token, takes its policy from the server, and delivers its
//! events exactly once through its spool, across a server that is down for a minute and a
//! shield killed with SIGKILL while a batch it sent is stored but not yet acknowledged.
//!
//! The shield talks to the server through a TCP relay on loopback that can hold the
//! server's answers: that is how "stored, not acknowledged" is made to happen on purpose.

use std::collections::{BTreeSet, HashMap};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::shield_scenarios::{Container, SERIAL, image};

const PASSWORD: &str = "delivery-test-password";
/// How long the server stays down while events happen (issue: "down for a minute").
const OUTAGE: Duration = Duration::from_secs(60);
const DELIVERY_TIMEOUT: Duration = Duration::from_secs(60);

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A `cguard server` on a fixed port and data directory, so that it can be restarted.
struct Server {
    child: Option<Child>,
    port: u16,
    data: PathBuf,
}

impl Server {
    fn start(data: &Path, port: u16) -> Server {
        let mut s = Server { child: None, port, data: data.to_owned() };
        s.restart();
        s
    }

    fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn restart(&mut self) {
        let child = Command::new(env!("CARGO_BIN_EXE_cguard"))
            .args(["server", "--data-dir"])
            .arg(&self.data)
            .args(["--listen", &format!("127.0.0.1:{}", self.port)])
            .env("CGUARD_ADMIN_PASSWORD", PASSWORD)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(30);
        while reqwest::blocking::get(format!("{}/api/v1/health", self.base())).map(|r| r.status().is_success()).ok()
            != Some(true)
        {
            assert!(Instant::now() < deadline, "the server did not start");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            c.kill().unwrap(); // SIGKILL
            c.wait().unwrap();
        }
    }

    fn call(&self, method: &str, path: &str, token: Option<&str>, body: Option<Value>) -> (u16, Value) {
        let client = reqwest::blocking::Client::new();
        let mut req = client.request(method.parse().unwrap(), format!("{}{path}", self.base()));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let r = req.send().unwrap();
        let status = r.status().as_u16();
        (status, r.json().unwrap_or(Value::Null))
    }

    fn admin(&self) -> String {
        let login = json!({"username": "admin", "password": PASSWORD});
        let (s, b) = self.call("POST", "/api/v1/auth/login", None, Some(login));
        assert_eq!(s, 200, "{b}");
        b["token"].as_str().unwrap().to_owned()
    }

    /// Every stored event of a container.
    fn events_of(&self, admin: &str, container_id: &str) -> Vec<Value> {
        let mut out = Vec::new();
        loop {
            let path = format!("/api/v1/runtime/events?limit=1000&offset={}", out.len());
            let (s, page) = self.call("GET", &path, Some(admin), None);
            assert_eq!(s, 200, "{page}");
            let items = page["items"].as_array().cloned().unwrap_or_default();
            let n = items.len();
            out.extend(items);
            if n < 1000 {
                break;
            }
        }
        out.retain(|e| e["container"]["id"] == container_id);
        out
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A TCP relay to the server; while `hold` is set, the server's answers are kept back
/// (requests still go through, so the server stores a batch that the shield never hears
/// acknowledged).
struct Relay {
    port: u16,
    hold: Arc<AtomicBool>,
}

impl Relay {
    fn start(upstream: u16) -> Relay {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let hold = Arc::new(AtomicBool::new(false));
        let held = Arc::clone(&hold);
        std::thread::spawn(move || {
            for client in listener.incoming().map_while(Result::ok) {
                let Ok(server) = TcpStream::connect(("127.0.0.1", upstream)) else { continue };
                let (c2, s2) = (client.try_clone().unwrap(), server.try_clone().unwrap());
                std::thread::spawn(move || pipe(client, server, None));
                let held = Arc::clone(&held);
                std::thread::spawn(move || pipe(s2, c2, Some(held)));
            }
        });
        Relay { port, hold }
    }
}

fn pipe(mut from: TcpStream, mut to: TcpStream, hold: Option<Arc<AtomicBool>>) {
    let mut buf = [0u8; 16 << 10];
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        while hold.as_ref().is_some_and(|h| h.load(Ordering::Relaxed)) {
            std::thread::sleep(Duration::from_millis(10));
        }
        if to.write_all(&buf[..n]).is_err() {
            break;
        }
    }
    let _ = to.shutdown(std::net::Shutdown::Both);
}

/// A connected shield; its stderr lines are kept.
struct Shield {
    child: Child,
    log: Arc<Mutex<Vec<String>>>,
}

impl Shield {
    fn start(server: &str, state: &Path, token: Option<&str>) -> Shield {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_cguard"));
        cmd.args(["shield", "--runtime-socket", "none", "--server", server, "--state-dir"]).arg(state);
        if let Some(t) = token {
            cmd.env("CGUARD_ENROLMENT_TOKEN", t);
        }
        let mut child = cmd.stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap();
        let stderr = child.stderr.take().unwrap();
        let log = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = std::sync::mpsc::channel();
        let lines = Arc::clone(&log);
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                eprintln!("[shield] {line}");
                if line == "ready" {
                    let _ = tx.send(());
                }
                lines.lock().unwrap().push(line);
            }
        });
        if rx.recv_timeout(Duration::from_secs(120)).is_err() {
            let _ = child.kill();
            panic!("the connected shield did not print `ready`");
        }
        Shield { child, log }
    }

    fn kill9(&mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    /// Stops with SIGTERM; returns the summary line.
    fn stop(mut self) -> String {
        let _ = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status();
        let status = self.child.wait().unwrap();
        assert!(status.success(), "the shield exited with {status}");
        std::thread::sleep(Duration::from_millis(200));
        self.log.lock().unwrap().iter().rfind(|l| l.contains("stopped;")).cloned().unwrap_or_default()
    }
}

impl Drop for Shield {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs `id MARKER-i` for i in 1..=n in the container: each exec is off the policy's
/// whitelist, so each is one `abnormal-program` event with its marker in argv.
fn run_ids(c: &Container, marker: &str, n: usize) {
    let script = format!("for i in $(seq 1 {n}); do /usr/bin/id {marker}-$i >/dev/null 2>&1; done; true");
    let out = c.sh(&script);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

/// How many stored events carry each marker of `marker-1..=n` (in the exec's argv).
fn marker_counts(events: &[Value], marker: &str) -> HashMap<String, usize> {
    let mut counts = HashMap::new();
    for e in events.iter().filter(|e| e["type"] == "abnormal-program") {
        let argv = &e["process_tree"][0]["argv"];
        if let Some(m) = argv.as_array().and_then(|a| a.get(1)).and_then(|v| v.as_str())
            && m.starts_with(&format!("{marker}-"))
        {
            *counts.entry(m.to_owned()).or_insert(0) += 1;
        }
    }
    counts
}

/// Waits until every marker of `marker-1..=n` is stored, then checks each is stored once.
fn expect_exactly_once(server: &Server, admin: &str, c: &Container, marker: &str, n: usize) {
    let deadline = Instant::now() + DELIVERY_TIMEOUT;
    loop {
        let counts = marker_counts(&server.events_of(admin, &c.id), marker);
        if counts.len() == n || Instant::now() > deadline {
            let missing: Vec<String> =
                (1..=n).map(|i| format!("{marker}-{i}")).filter(|m| !counts.contains_key(m)).collect();
            assert!(missing.is_empty(), "events never delivered: {missing:?}");
            let twice: Vec<_> = counts.iter().filter(|(_, n)| **n != 1).collect();
            assert!(twice.is_empty(), "events stored more than once: {twice:?}");
            return;
        }
        std::thread::sleep(Duration::from_millis(250));
    }
}

#[test]
fn connected_shield_delivers_every_event_once_across_a_server_outage_and_a_kill() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let image = image();
    let dir = tempfile::tempdir().unwrap();
    let mut server = Server::start(&dir.path().join("server"), free_port());
    let relay = Relay::start(server.port);
    let via_relay = format!("http://127.0.0.1:{}", relay.port);
    let admin = server.admin();

    // The cluster, its enrolment token, and a policy for the test image.
    assert_eq!(server.call("PUT", "/api/v1/authorization", Some(&admin), None).0, 200);
    let (s, cluster) =
        server.call("POST", "/api/v1/clusters", Some(&admin), Some(json!({"name": "delivery", "kind": "hosts"})));
    assert_eq!(s, 201, "{cluster}");
    let open = format!("/api/v1/clusters/{}/protection/open", cluster["id"].as_str().unwrap());
    let (s, opened) = server.call("POST", &open, Some(&admin), Some(json!({"accept_disclaimer": true})));
    assert_eq!(s, 200, "{opened}");
    let token = opened["enrolment_token"].as_str().unwrap().to_owned();
    let whitelist = ["/usr/bin/sleep", "/bin/sleep", "/usr/bin/sh", "/bin/sh", "/usr/bin/dash", "/usr/bin/seq"];
    let policy = json!({"name": "delivery", "mode": "detect", "processWhitelist": whitelist});
    let (s, p) = server.call("POST", "/api/v1/policies", Some(&admin), Some(policy));
    assert_eq!(s, 201, "{p}");
    let apply = format!("/api/v1/policies/{}/images/apply", p["id"].as_str().unwrap());
    let (s, body) = server.call("POST", &apply, Some(&admin), Some(json!({"images": [image]})));
    assert!(s == 200 || s == 204, "{s} {body}");

    // Enrolment with the token; the node's credential and identity are kept 0600.
    let state = dir.path().join("shield");
    let shield = Shield::start(&via_relay, &state, Some(&token));
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(state.join("node.json")).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let node: Value = serde_json::from_slice(&std::fs::read(state.join("node.json")).unwrap()).unwrap();
        assert_eq!(node["cluster_id"], cluster["id"]);
    }
    let (s, nodes) = server.call("GET", "/api/v1/nodes", Some(&admin), None);
    assert_eq!(s, 200, "{nodes}");
    assert_eq!(nodes["total"], 1, "{nodes}");

    // Events flow while the server is up (the policy came from the server: `id` is not on it).
    let c = Container::run("delivery", &[]);
    run_ids(&c, "up", 5);
    expect_exactly_once(&server, &admin, &c, "up", 5);

    // The server is down for a minute while events happen; they arrive once it is back.
    server.kill();
    run_ids(&c, "outage", 20);
    std::thread::sleep(OUTAGE);
    server.restart();
    expect_exactly_once(&server, &admin, &c, "outage", 20);

    // A batch stored by the server whose answer the shield never gets: the shield is
    // killed (SIGKILL) while it waits, and sends the batch again after its restart.
    relay.hold.store(true, Ordering::Relaxed);
    run_ids(&c, "killed", 30);
    let deadline = Instant::now() + DELIVERY_TIMEOUT;
    while marker_counts(&server.events_of(&admin, &c.id), "killed").is_empty() {
        assert!(Instant::now() < deadline, "the shield sent no batch");
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_millis(500));
    let mut shield = shield;
    shield.kill9();
    relay.hold.store(false, Ordering::Relaxed);
    // Restarted as a DaemonSet restarts it: the token still in its environment. The saved
    // identity is kept (no second enrolment, no second node).
    let identity = std::fs::read(state.join("node.json")).unwrap();
    let restarted = Shield::start(&via_relay, &state, Some(&token));
    assert_eq!(std::fs::read(state.join("node.json")).unwrap(), identity, "the node enrolled again");
    assert_eq!(server.call("GET", "/api/v1/nodes", Some(&admin), None).1["total"], 1);
    expect_exactly_once(&server, &admin, &c, "killed", 30);
    let all = server.events_of(&admin, &c.id);
    let ids: std::collections::HashSet<&str> = all.iter().filter_map(|e| e["id"].as_str()).collect();
    assert_eq!(ids.len(), all.len(), "an event id is stored twice");
    let abnormal = all.iter().filter(|e| e["type"] == "abnormal-program").count();
    assert_eq!(abnormal, 5 + 20 + 30, "only the container's `id` runs are off the whitelist");
    for e in &all {
        assert_eq!(e["image"], image);
        assert_eq!(e["container"]["name"], c.name.as_str());
    }
    let summary = restarted.stop();
    let resent: u64 = summary
        .split(" already delivered")
        .next()
        .and_then(|s| s.rsplit('(').next())
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("no delivery counts in {summary:?}"));
    assert!(resent >= 1, "the batch stored before the kill was not sent again: {summary}");
    assert!(summary.contains(", 0 left in the spool"), "{summary}");
}

/// Runs `/usr/bin/id` in the container; its exit status (126: refused).
fn id_status(c: &Container) -> i32 {
    let out = c.sh("/usr/bin/id >/dev/null 2>&1; echo $?");
    String::from_utf8_lossy(&out.stdout).trim().parse().unwrap_or(-1)
}

#[test]
fn connected_shield_applies_policy_changes_from_the_server() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let image = image();
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&dir.path().join("server"), free_port());
    let admin = server.admin();
    assert_eq!(server.call("PUT", "/api/v1/authorization", Some(&admin), None).0, 200);
    let (_, cluster) =
        server.call("POST", "/api/v1/clusters", Some(&admin), Some(json!({"name": "changes", "kind": "hosts"})));
    let open = format!("/api/v1/clusters/{}/protection/open", cluster["id"].as_str().unwrap());
    let (_, opened) = server.call("POST", &open, Some(&admin), Some(json!({"accept_disclaimer": true})));
    let token = opened["enrolment_token"].as_str().unwrap().to_owned();
    let whitelist = ["/usr/bin/sleep", "/bin/sleep", "/usr/bin/sh", "/bin/sh", "/usr/bin/dash"];
    let write = |mode: &str, extra: &[&str]| {
        let list: Vec<&str> = whitelist.iter().chain(extra).copied().collect();
        json!({"name": "changes", "mode": mode, "processWhitelist": list, "fileProtection": ["/etc/issue"]})
    };
    let (s, p) = server.call("POST", "/api/v1/policies", Some(&admin), Some(write("detect", &[])));
    assert_eq!(s, 201, "{p}");
    let policy = format!("/api/v1/policies/{}", p["id"].as_str().unwrap());
    let (s, body) =
        server.call("POST", &format!("{policy}/images/apply"), Some(&admin), Some(json!({"images": [image]})));
    assert_eq!(s, 200, "{body}");

    let shield = Shield::start(&server.base(), &dir.path().join("shield"), Some(&token));
    let c = Container::run("changes", &[]);
    // Detect mode: `id` runs and is reported.
    assert_eq!(id_status(&c), 0);
    let reported = |server: &Server| {
        server.events_of(&admin, &c.id).into_iter().filter(|e| e["type"] == "abnormal-program").collect::<Vec<_>>()
    };
    let deadline = Instant::now() + DELIVERY_TIMEOUT;
    while reported(&server).is_empty() {
        assert!(Instant::now() < deadline, "no event for `id` in detect mode");
        std::thread::sleep(Duration::from_millis(250));
    }

    // Enforce mode, changed on the server: the shield picks it up at a heartbeat and `id`
    // is then refused in the kernel.
    let (s, body) = server.call("PUT", &policy, Some(&admin), Some(write("enforce", &[])));
    assert_eq!(s, 200, "{body}");
    let deadline = Instant::now() + DELIVERY_TIMEOUT;
    while id_status(&c) != 126 {
        assert!(Instant::now() < deadline, "the enforce-mode change never reached the shield");
        std::thread::sleep(Duration::from_millis(500));
    }
    let deadline = Instant::now() + DELIVERY_TIMEOUT;
    while !reported(&server).iter().any(|e| e["blocked"] == true) {
        assert!(Instant::now() < deadline, "no blocked event after enforce mode");
        std::thread::sleep(Duration::from_millis(250));
    }
    // The protected file is read-only in the container.
    let out = c.sh("echo x >> /etc/issue");
    assert!(String::from_utf8_lossy(&out.stderr).contains("Read-only file system"), "{out:?}");

    // Back to detect mode with `id` on the whitelist: it runs, and nothing more is reported.
    let (s, body) = server.call("PUT", &policy, Some(&admin), Some(write("detect", &["/usr/bin/id"])));
    assert_eq!(s, 200, "{body}");
    let deadline = Instant::now() + DELIVERY_TIMEOUT;
    while id_status(&c) != 0 {
        assert!(Instant::now() < deadline, "the whitelist change never reached the shield");
        std::thread::sleep(Duration::from_millis(500));
    }
    std::thread::sleep(Duration::from_secs(2)); // the last run's event, if any, is delivered
    let before = reported(&server).len();
    for _ in 0..3 {
        assert_eq!(id_status(&c), 0);
    }
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(reported(&server).len(), before, "a whitelisted program was reported");
    // Out of enforce mode, the file is writable again in the running container.
    let out = c.sh("echo x >> /etc/issue && tail -1 /etc/issue");
    assert!(out.status.success() && String::from_utf8_lossy(&out.stdout).trim() == "x", "{out:?}");
    let summary = shield.stop();
    assert!(summary.contains(", 0 left in the spool"), "{summary}");
}

/// A finding as the report and the image report both show it: (id, package, installed,
/// fixed, urgency).
type FindingKey = (String, String, String, String, String);

/// The findings of `cguard scan IMAGE --format json`, and the number of packages.
fn cli_findings(image: &str, db: &Path) -> (BTreeSet<FindingKey>, usize) {
    let out = Command::new(env!("CARGO_BIN_EXE_cguard"))
        .args(["scan", image, "--format", "json", "--db"])
        .arg(db)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let findings = report["vulnerabilities"]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["ignored"] != true)
        .map(|f| {
            let text = |k: &str| f[k].as_str().unwrap_or_default().to_owned();
            (text("id"), text("package"), text("installed_version"), text("fixed_version"), text("urgency"))
        })
        .collect();
    (findings, report["inventory"]["packages"].as_array().unwrap().len())
}

#[test]
fn a_connected_shield_scans_its_nodes_images_for_the_catalogue() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let image = image();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("server");
    std::fs::create_dir_all(&data).unwrap();
    let db = crate::common::vulndata_db(&data);
    let server = Server::start(&data, free_port());
    let admin = server.admin();
    assert_eq!(server.call("PUT", "/api/v1/authorization", Some(&admin), None).0, 200);
    let (_, cluster) =
        server.call("POST", "/api/v1/clusters", Some(&admin), Some(json!({"name": "local", "kind": "hosts"})));
    let open = format!("/api/v1/clusters/{}/protection/open", cluster["id"].as_str().unwrap());
    let (_, opened) = server.call("POST", &open, Some(&admin), Some(json!({"accept_disclaimer": true})));
    let token = opened["enrolment_token"].as_str().unwrap().to_owned();
    let shield = Shield::start(&server.base(), &dir.path().join("shield"), Some(&token));

    // The node's images appear as local images; the server asks the node to scan them,
    // one at a time, and matches the uploaded inventories.
    let (repository, tag) = image.rsplit_once(':').unwrap();
    let deadline = Instant::now() + Duration::from_secs(300);
    let version = loop {
        let (s, page) = server.call("GET", &format!("/api/v1/images?kind=local&q={repository}"), Some(&admin), None);
        assert_eq!(s, 200, "{page}");
        let found = page["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|v| v["repository"] == repository && v["tag"] == tag && v["scan_status"] == "completed")
            .cloned();
        if let Some(v) = found {
            break v;
        }
        assert!(Instant::now() < deadline, "{image} was not scanned by its node: {page}");
        std::thread::sleep(Duration::from_millis(500));
    };
    let (s, report) =
        server.call("GET", &format!("/api/v1/images/{}/report", version["id"].as_str().unwrap()), Some(&admin), None);
    assert_eq!(s, 200, "{report}");
    let (want, packages) = cli_findings(&format!("docker:{image}"), &db);
    assert!(!want.is_empty());
    let got: BTreeSet<_> = report["vulnerabilities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let text = |k: &str| f[k].as_str().unwrap_or_default().to_owned();
            (text("id"), text("package"), text("installed_version"), text("fixed_version"), text("urgency"))
        })
        .collect();
    assert_eq!(got, want, "the node's scan, matched by the server, equals `cguard scan`");
    assert_eq!(report["software"].as_array().unwrap().len(), packages);
    assert_eq!(version["vulnerability_count"].as_u64(), Some(want.len() as u64));
    // The local view adds up the local images' reports (read between two catalogue reads
    // that agree: the node may upload another image's scan meanwhile).
    let local_sum = || {
        let (_, local) = server.call("GET", "/api/v1/images?kind=local&limit=1000", Some(&admin), None);
        local["items"].as_array().unwrap().iter().filter_map(|v| v["vulnerability_count"].as_u64()).sum::<u64>()
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    let summary = loop {
        let before = local_sum();
        let (s, summary) = server.call("GET", "/api/v1/vulnerabilities/summary?view=local", Some(&admin), None);
        assert_eq!(s, 200, "{summary}");
        if before == local_sum() {
            assert_eq!(summary["total"].as_u64(), Some(before), "{summary}");
            break summary;
        }
        assert!(Instant::now() < deadline, "the local images kept changing");
    };
    let totals: Vec<u64> = summary["top5"].as_array().unwrap().iter().map(|t| t["total"].as_u64().unwrap()).collect();
    assert!(totals.len() <= 5 && totals.windows(2).all(|w| w[0] >= w[1]), "{summary}");

    // A user asks for a new scan of the local image: the job asks the node and ends when
    // its upload arrives; the result is the same, scanned again.
    let vid = version["id"].as_str().unwrap();
    let (s, job) = server.call("POST", &format!("/api/v1/images/{vid}/scan"), Some(&admin), None);
    assert_eq!((s, job["kind"].as_str()), (202, Some("scan-local")), "{job}");
    let deadline = Instant::now() + Duration::from_secs(180);
    loop {
        let (_, j) = server.call("GET", &format!("/api/v1/jobs/{}", job["id"].as_str().unwrap()), Some(&admin), None);
        if j["state"] == "done" {
            break;
        }
        assert!(j["state"] == "queued" || j["state"] == "running", "{j}");
        assert!(Instant::now() < deadline, "the node did not scan the image again: {j}");
        std::thread::sleep(Duration::from_millis(500));
    }
    let (_, again) = server.call("GET", &format!("/api/v1/images/{vid}/report"), Some(&admin), None);
    let (before, after) = (&report["basic"]["image"]["scanned_at"], &again["basic"]["image"]["scanned_at"]);
    assert!(after.as_str() > before.as_str(), "scanned again: {before} then {after}");
    assert_eq!(again["vulnerabilities"].as_array().unwrap().len(), want.len());
    assert_eq!(again["basic"]["image"]["scan_status"], "completed");
    shield.stop();
}
