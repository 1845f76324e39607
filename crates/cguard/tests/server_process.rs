//! `cguard server` as a process: the audit chain checked by `cguard audit verify` after a
//! record is edited in the database, and a server killed with SIGKILL during ingest
//! that loses no acknowledged event. On SQLite and PostgreSQL.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

const PASSWORD: &str = "process-test-password";

/// Where the server keeps its data: a data directory (SQLite) or a PostgreSQL database.
pub(crate) struct Db {
    dir: tempfile::TempDir,
    postgres: Option<(String, String)>, // (admin URL, database name)
}

impl Db {
    pub(crate) fn new(postgres: bool) -> Db {
        let dir = tempfile::tempdir().unwrap();
        let postgres = postgres.then(|| {
            let admin = store::scratch::postgres_admin_url().expect("PostgreSQL: run scripts/start-services.sh");
            let name = format!(
                "cguard_process_{}_{}",
                std::process::id(),
                dir.path().file_name().unwrap().to_string_lossy().to_lowercase().replace(['.', '-'], "_")
            );
            psql(&admin, &format!("CREATE DATABASE {name}"));
            (admin, name)
        });
        Db { dir, postgres }
    }

    pub(crate) fn args(&self) -> Vec<String> {
        let mut a = vec!["--data-dir".to_string(), self.dir.path().join("data").display().to_string()];
        if let Some((admin, name)) = &self.postgres {
            a.push("--database".into());
            a.push(format!("{}/{name}", admin.rsplit_once('/').unwrap().0));
        }
        a
    }

    fn tamper(&self, sql: &str) {
        match &self.postgres {
            Some((admin, name)) => psql(&format!("{}/{name}", admin.rsplit_once('/').unwrap().0), sql),
            None => {
                let file = self.dir.path().join("data/cguard.db");
                let script = format!(
                    "import sqlite3; c = sqlite3.connect({:?}); c.execute({sql:?}); c.commit()",
                    file.display().to_string()
                );
                let st = Command::new("python3").args(["-c", &script]).status().unwrap();
                assert!(st.success());
            }
        }
    }
}

impl Drop for Db {
    fn drop(&mut self) {
        if let Some((admin, name)) = &self.postgres {
            psql(admin, &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
        }
    }
}

fn psql(url: &str, sql: &str) {
    let st = Command::new("psql").args(["-q", url, "-c", sql]).stdout(Stdio::null()).status().expect("psql");
    assert!(st.success(), "psql: {sql}");
}

pub(crate) struct Server {
    child: Child,
    pub(crate) base: String,
}

impl Server {
    fn start(db: &Db) -> Server {
        Server::start_with(db, &[])
    }

    /// A server with extra arguments.
    pub(crate) fn start_with(db: &Db, extra: &[&str]) -> Server {
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let child = Command::new(env!("CARGO_BIN_EXE_cguard"))
            .arg("server")
            .args(db.args())
            .args(extra)
            .args(["--listen", &format!("127.0.0.1:{port}")])
            .env("CGUARD_ADMIN_PASSWORD", PASSWORD)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let base = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(30);
        while reqwest::blocking::get(format!("{base}/api/v1/health")).map(|r| r.status().is_success()).ok()
            != Some(true)
        {
            assert!(Instant::now() < deadline, "the server did not start");
            std::thread::sleep(Duration::from_millis(100));
        }
        Server { child, base }
    }

    pub(crate) fn call(&self, method: &str, path: &str, token: Option<&str>, body: Option<Value>) -> (u16, Value) {
        let client = reqwest::blocking::Client::new();
        let mut req = client.request(method.parse().unwrap(), format!("{}{path}", self.base));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        match req.send() {
            Ok(r) => {
                let status = r.status().as_u16();
                (status, r.json().unwrap_or(Value::Null))
            }
            Err(_) => (0, Value::Null),
        }
    }

    pub(crate) fn admin(&self) -> String {
        let (s, b) =
            self.call("POST", "/api/v1/auth/login", None, Some(json!({"username": "admin", "password": PASSWORD})));
        assert_eq!(s, 200, "{b}");
        b["token"].as_str().unwrap().to_string()
    }

    /// Enrols a node and returns its credential.
    fn node(&self, admin: &str) -> String {
        self.call("PUT", "/api/v1/authorization", Some(admin), None);
        let (_, c) =
            self.call("POST", "/api/v1/clusters", Some(admin), Some(json!({"name": "crash", "kind": "hosts"})));
        let open = format!("/api/v1/clusters/{}/protection/open", c["id"].as_str().unwrap());
        let (_, o) = self.call("POST", &open, Some(admin), Some(json!({"accept_disclaimer": true})));
        let enrol = json!({"token": o["enrolment_token"], "node_name": "n1", "shield_version": "0"});
        let (s, n) = self.call("POST", "/api/v1/shield/enrol", None, Some(enrol));
        assert_eq!(s, 201, "{n}");
        n["credential"].as_str().unwrap().to_string()
    }

    pub(crate) fn kill(mut self) {
        self.child.kill().unwrap(); // SIGKILL
        self.child.wait().unwrap();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn verify(db: &Db) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_cguard")).args(["audit", "verify"]).args(db.args()).output().unwrap();
    (out.status.success(), String::from_utf8_lossy(&out.stdout).into_owned())
}

fn audit_verify_catches_an_edited_record(postgres: bool) {
    let db = Db::new(postgres);
    {
        let server = Server::start(&db);
        let admin = server.admin();
        for name in ["alpha", "beta", "gamma"] {
            let (s, _) = server.call("POST", "/api/v1/policies", Some(&admin), Some(json!({"name": name})));
            assert_eq!(s, 201);
        }
        server.kill();
    }
    let (ok, out) = verify(&db);
    // The login and three changes, each an attempt record and an outcome record.
    assert!(ok && out.contains("audit log intact: 8 records"), "{out}");
    db.tamper("UPDATE audit_log SET resource_name = 'delta' WHERE seq = 3");
    let (ok, out) = verify(&db);
    assert!(!ok, "verify passed on a tampered log: {out}");
    assert!(out.contains("record 3 was altered"), "{out}");
}

#[test]
fn audit_verify_catches_an_edited_record_on_sqlite() {
    audit_verify_catches_an_edited_record(false);
}

#[test]
fn audit_verify_catches_an_edited_record_on_postgres() {
    audit_verify_catches_an_edited_record(true);
}

fn cguard_audit(db: &Db, args: &[&str]) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_cguard")).arg("audit").args(args).args(db.args()).output().unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.success(), text)
}

/// A checkpoint kept outside the server catches the oldest records removed past it, though
/// the rest of the chain, with its anchor moved, verifies on its own.
fn audit_checkpoint_catches_a_trimmed_log(postgres: bool) {
    let db = Db::new(postgres);
    let add_policies = |names: &[&str]| {
        let server = Server::start(&db);
        let admin = server.admin();
        for name in names {
            let (s, _) = server.call("POST", "/api/v1/policies", Some(&admin), Some(json!({"name": name})));
            assert_eq!(s, 201);
        }
        server.kill();
    };
    add_policies(&["alpha", "beta"]);
    let (ok, checkpoint) = cguard_audit(&db, &["checkpoint"]);
    let checkpoint = checkpoint.trim().to_owned();
    assert!(ok && checkpoint.starts_with("seq=6 hash=v2:") && !checkpoint.contains('\n'), "{checkpoint}");
    add_policies(&["gamma"]);

    let (ok, out) = cguard_audit(&db, &["verify", "--from-checkpoint", &checkpoint]);
    assert!(ok && out.contains(&format!("audit log intact from checkpoint {checkpoint}: 4 records")), "{out}");
    let (ok, out) = cguard_audit(&db, &["verify", "--from-checkpoint", "seq=6 hash=v2:00"]);
    assert!(!ok && out.contains("does not have the checkpoint's hash"), "{out}");

    // The oldest records removed, the checkpoint's among them, and the anchor moved.
    db.tamper("UPDATE audit_anchor SET seq = 7, hash = (SELECT prev_hash FROM audit_log WHERE seq = 8) WHERE id = 1");
    db.tamper("DELETE FROM audit_log WHERE seq <= 7");
    let (ok, out) = verify(&db);
    assert!(ok, "inside the database the trim does not show: {out}");
    let (ok, out) = cguard_audit(&db, &["verify", "--from-checkpoint", &checkpoint]);
    assert!(!ok, "a trimmed log passed: {out}");
    assert!(out.contains("record 6 is no longer in the log") && out.contains("NOT intact"), "{out}");

    let (ok, out) = cguard_audit(&db, &["verify", "--from-checkpoint", "seq=x"]);
    assert!(!ok && out.contains("--from-checkpoint") && out.contains("is not a number"), "{out}");
}

#[test]
fn audit_checkpoint_catches_a_trimmed_log_on_sqlite() {
    audit_checkpoint_catches_a_trimmed_log(false);
}

#[test]
fn audit_checkpoint_catches_a_trimmed_log_on_postgres() {
    audit_checkpoint_catches_a_trimmed_log(true);
}

fn batch(n: usize) -> (Vec<String>, Value) {
    let ids: Vec<String> = (0..100).map(|i| format!("crash-{n}-{i}")).collect();
    let events: Vec<Value> = ids
        .iter()
        .map(|id| {
            json!({"id": id, "time": "2026-11-27T00:00:00Z", "category": "process", "type": "abnormal-program",
                   "container": {"id": "c", "name": "web"}, "image": "nginx:1", "description": "x"})
        })
        .collect();
    (ids, json!({ "events": events }))
}

fn killed_server_loses_no_acknowledged_event(postgres: bool) {
    let db = Db::new(postgres);
    let server = Server::start(&db);
    let admin = server.admin();
    let node = server.node(&admin);
    let acked: Arc<Mutex<Vec<String>>> = Arc::default();
    let unacked: Arc<Mutex<Vec<Value>>> = Arc::default();
    let base = server.base.clone();
    let sender = {
        let (acked, unacked, node) = (acked.clone(), unacked.clone(), node.clone());
        std::thread::spawn(move || {
            let client = reqwest::blocking::Client::new();
            for n in 0.. {
                let (ids, body) = batch(n);
                let resp = client.post(format!("{base}/api/v1/shield/events")).bearer_auth(&node).json(&body).send();
                match resp {
                    Ok(r) if r.status().is_success() => acked.lock().unwrap().extend(ids),
                    _ => {
                        unacked.lock().unwrap().push(body);
                        return;
                    }
                }
            }
        })
    };
    std::thread::sleep(Duration::from_millis(1500));
    server.kill();
    sender.join().unwrap();
    let acked = acked.lock().unwrap().clone();
    assert!(acked.len() >= 1000, "too few batches before the kill: {}", acked.len());

    let server = Server::start(&db);
    let admin = server.admin();
    let mut stored = std::collections::HashSet::new();
    let mut offset = 0;
    loop {
        let (s, page) = server.call(
            "GET",
            &format!("/api/v1/runtime/events?limit=1000&offset={offset}&sort=time"),
            Some(&admin),
            None,
        );
        assert_eq!(s, 200);
        let items = page["items"].as_array().unwrap();
        for e in items {
            assert!(stored.insert(e["id"].as_str().unwrap().to_string()), "an event is stored twice");
        }
        offset += items.len();
        if items.is_empty() {
            break;
        }
    }
    let missing: Vec<&String> = acked.iter().filter(|id| !stored.contains(*id)).collect();
    assert!(missing.is_empty(), "{} acknowledged events lost, e.g. {:?}", missing.len(), missing.first());
    // The batch in flight at the kill, sent again as a shield would: nothing twice.
    for body in unacked.lock().unwrap().iter() {
        let (s, r) = server.call("POST", "/api/v1/shield/events", Some(&node), Some(body.clone()));
        assert_eq!(s, 200, "{r}");
        assert_eq!(r["accepted"].as_u64().unwrap() + r["duplicates"].as_u64().unwrap(), 100);
    }
    let (_, page) = server.call("GET", "/api/v1/runtime/events?limit=1", Some(&admin), None);
    let total = page["total"].as_u64().unwrap() as usize;
    assert_eq!(total, acked.len() + 100 * unacked.lock().unwrap().len(), "every event exactly once");
}

#[test]
fn killed_server_loses_no_acknowledged_event_on_sqlite() {
    killed_server_loses_no_acknowledged_event(false);
}

#[test]
fn killed_server_loses_no_acknowledged_event_on_postgres() {
    killed_server_loses_no_acknowledged_event(true);
}

#[test]
fn replicas_on_one_postgres_database_behave_as_one() {
    let db = Db::new(true);
    let a = Server::start(&db);
    let b = Server::start(&db);
    let token = a.admin();
    // A session made by one replica works on the other.
    let (s, me) = b.call("GET", "/api/v1/auth/me", Some(&token), None);
    assert_eq!((s, me["user"]["name"].as_str()), (200, Some("admin")));
    // Changes through both replicas at once extend one audit chain.
    let writers: Vec<_> = [&a, &b]
        .iter()
        .enumerate()
        .map(|(r, server)| {
            let (base, token) = (server.base.clone(), token.clone());
            std::thread::spawn(move || {
                let client = reqwest::blocking::Client::new();
                for i in 0..20 {
                    let body = json!({"name": format!("r{r}-policy-{i}")});
                    let resp =
                        client.post(format!("{base}/api/v1/policies")).bearer_auth(&token).json(&body).send().unwrap();
                    assert_eq!(resp.status().as_u16(), 201);
                }
            })
        })
        .collect();
    for w in writers {
        w.join().unwrap();
    }
    let node = a.node(&token);
    let (_, batch) = batch(0);
    let (s, r) = b.call("POST", "/api/v1/shield/events", Some(&node), Some(batch.clone()));
    assert_eq!((s, r["accepted"].as_u64()), (200, Some(100)));
    let (_, r) = a.call("POST", "/api/v1/shield/events", Some(&node), Some(batch));
    assert_eq!(r["duplicates"].as_u64(), Some(100), "a batch retried on the other replica is not stored twice");
    let (_, list) = a.call("GET", "/api/v1/policies?limit=1", Some(&token), None);
    assert_eq!(list["total"], 40);
    drop((a, b));
    let (ok, out) = verify(&db);
    assert!(ok, "{out}");
}

/// A server started with another secret key than the one the database's secrets were
/// sealed with refuses to start, and says why.
fn another_secret_key_is_refused(postgres: bool) {
    let db = Db::new(postgres);
    Server::start(&db).kill();
    let key = db.dir.path().join("data/secret.key");
    let mode = {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(&key).unwrap().permissions().mode() & 0o777
    };
    assert_eq!(mode, 0o600);
    let other = db.dir.path().join("other.key");
    {
        use std::io::Write;
        use std::os::unix::fs::OpenOptionsExt;
        let mut f = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(&other).unwrap();
        f.write_all(&[7u8; 32]).unwrap();
    }
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let out = Command::new(env!("CARGO_BIN_EXE_cguard"))
        .arg("server")
        .args(db.args())
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .arg("--secret-key-file")
        .arg(&other)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("sealed with another key"), "{stderr}");
    // The right key still works.
    Server::start(&db).kill();
}

#[test]
fn another_secret_key_is_refused_on_sqlite() {
    another_secret_key_is_refused(false);
}

#[test]
fn another_secret_key_is_refused_on_postgres() {
    another_secret_key_is_refused(true);
}

fn user_cmd(db: &Db, args: &[&str], stdin: &str) -> (bool, String) {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_cguard"))
        .arg("user")
        .args(args)
        .args(db.args())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    (out.status.success(), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}

fn login(server: &Server, password: &str) -> u16 {
    server.call("POST", "/api/v1/auth/login", None, Some(json!({"username": "admin", "password": password}))).0
}

#[test]
fn the_operator_unlocks_an_account_and_resets_its_password_on_the_host() {
    let db = Db::new(false);
    let server = Server::start(&db);
    let old_token = server.admin();
    for _ in 0..6 {
        assert_eq!(login(&server, "wrong-password-123"), 401);
    }
    assert_eq!(login(&server, PASSWORD), 401, "the account is locked");
    let (ok, out) = user_cmd(&db, &["unlock", "admin"], "");
    assert!(ok, "{out}");
    assert_eq!(login(&server, PASSWORD), 200, "unlocked");
    let (ok, out) = user_cmd(&db, &["reset-password", "admin"], "a-new-password-456\n");
    assert!(ok && out.contains("revoked"), "{out}");
    assert_eq!(server.call("GET", "/api/v1/auth/me", Some(&old_token), None).0, 401, "old sessions are revoked");
    assert_eq!(login(&server, PASSWORD), 401);
    assert_eq!(login(&server, "a-new-password-456"), 200);
    let (ok, out) = user_cmd(&db, &["reset-password", "admin"], "short\n");
    assert!(!ok, "a password against the rules is refused: {out}");
    let (ok, out) = user_cmd(&db, &["unlock", "nobody"], "");
    assert!(!ok && out.contains("not found"), "{out}");
    server.kill();
    let (ok, out) = verify(&db);
    assert!(ok, "the operator's changes are in the audit chain: {out}");
}
