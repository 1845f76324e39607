//! `db update` against a feed server on 127.0.0.1: success, conditional requests, and
//! every failure (HTTP error, corrupt feed, connection closed mid-download, checksum
//! mismatch, size limit, disk full) keeping the old database usable.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use sha2::{Digest, Sha256};
use vulndb::update::{self, Checksum, FeedKind, FeedSpec, UpdateConfig, UpdateError};
use vulndb::{Affected, Database, SourceInfo, Status, Vulnerability};

// ---------------------------------------------------------------------------------------
// A minimal HTTP/1.1 server: one request per connection, answers from a route table.

#[derive(Clone)]
enum Reply {
    /// 200 with this body; 304 when the request's If-None-Match equals the ETag.
    Body { body: Vec<u8>, etag: Option<String> },
    /// This status and no body.
    Status(u16),
    /// Announces `declared` bytes, sends the first `sent` of `body`, closes.
    CloseAfter { body: Vec<u8>, sent: usize },
}

#[derive(Debug, Clone)]
struct Request {
    path: String,
    if_none_match: Option<String>,
}

struct Server {
    addr: SocketAddr,
    routes: Arc<Mutex<HashMap<String, Reply>>>,
    requests: Arc<Mutex<Vec<Request>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Server {
    fn start() -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let routes: Arc<Mutex<HashMap<String, Reply>>> = Arc::default();
        let requests: Arc<Mutex<Vec<Request>>> = Arc::default();
        let stop = Arc::new(AtomicBool::new(false));
        let (r, q, s) = (routes.clone(), requests.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            for conn in listener.incoming() {
                if s.load(Ordering::SeqCst) {
                    break;
                }
                if let Ok(conn) = conn {
                    let _ = serve(conn, &r, &q);
                }
            }
        });
        Server { addr, routes, requests, stop, thread: Some(thread) }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    fn route(&self, path: &str, reply: Reply) {
        self.routes.lock().unwrap().insert(path.to_owned(), reply);
    }

    fn requests(&self) -> Vec<Request> {
        self.requests.lock().unwrap().clone()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so that it sees the flag.
        let _ = TcpStream::connect(self.addr);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn serve(
    mut conn: TcpStream,
    routes: &Mutex<HashMap<String, Reply>>,
    log: &Mutex<Vec<Request>>,
) -> std::io::Result<()> {
    conn.set_read_timeout(Some(Duration::from_secs(5)))?;
    let mut reader = BufReader::new(conn.try_clone()?);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let path = line.split_whitespace().nth(1).unwrap_or("/").to_owned();
    let mut if_none_match = None;
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h)? == 0 || h == "\r\n" {
            break;
        }
        if let Some((k, v)) = h.split_once(':')
            && k.eq_ignore_ascii_case("if-none-match")
        {
            if_none_match = Some(v.trim().to_owned());
        }
    }
    log.lock().unwrap().push(Request { path: path.clone(), if_none_match: if_none_match.clone() });
    let reply = routes.lock().unwrap().get(&path).cloned().unwrap_or(Reply::Status(404));
    match reply {
        Reply::Body { body, etag } => {
            if etag.is_some() && etag == if_none_match {
                write!(conn, "HTTP/1.1 304 Not Modified\r\nConnection: close\r\n\r\n")?;
            } else {
                let etag_header = etag.map(|e| format!("ETag: {e}\r\n")).unwrap_or_default();
                write!(
                    conn,
                    "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n{etag_header}Connection: close\r\n\r\n",
                    body.len()
                )?;
                conn.write_all(&body)?;
            }
        }
        Reply::Status(code) => {
            write!(conn, "HTTP/1.1 {code} Oops\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")?;
        }
        Reply::CloseAfter { body, sent } => {
            write!(conn, "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", body.len())?;
            conn.write_all(&body[..sent])?;
            conn.flush()?;
            // Dropping the stream closes the connection mid-body.
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Feeds in a small JSON format of their own, and the builder that reads them.

fn vuln(id: &str, description: &str) -> Vulnerability {
    Vulnerability {
        id: id.into(),
        aliases: Vec::new(),
        summary: None,
        description: Some(description.into()),
        published: None,
        modified: None,
        cvss: Vec::new(),
        severity: None,
        references: Vec::new(),
        withdrawn: false,
    }
}

fn affected(id: &str, pkg: &str) -> Affected {
    Affected {
        vulnerability: id.into(),
        ecosystem: "debian:12".into(),
        package: pkg.into(),
        status: Status::Fixed,
        ranges: Vec::new(),
        versions: Vec::new(),
        fixed_version: Some("2.0".into()),
        distro_urgency: None,
        advisories: Vec::new(),
        note: None,
    }
}

/// A feed file: `{"vulns": [...], "affected": [...]}`.
fn feed_body(records: &[(&str, &str)]) -> Vec<u8> {
    let vulns: Vec<Vulnerability> = records.iter().map(|(id, _)| vuln(id, &format!("about {id}"))).collect();
    let aff: Vec<Affected> = records.iter().map(|(id, pkg)| affected(id, pkg)).collect();
    serde_json::to_vec(&serde_json::json!({"vulns": vulns, "affected": aff})).unwrap()
}

/// Reads every `feeds/*.json` of the directory; any unreadable file rejects the lot.
fn builder(dir: &Path) -> Result<update::Records, String> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir.join("feeds"))
        .map_err(|e| e.to_string())?
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    let (mut vulns, mut aff, mut sources) = (Vec::new(), Vec::new(), Vec::new());
    for f in files {
        let data = std::fs::read(&f).map_err(|e| e.to_string())?;
        let v: serde_json::Value =
            serde_json::from_slice(&data).map_err(|e| format!("{}: not valid JSON: {e}", f.display()))?;
        let mut fv: Vec<Vulnerability> = serde_json::from_value(v["vulns"].clone()).map_err(|e| e.to_string())?;
        let mut fa: Vec<Affected> = serde_json::from_value(v["affected"].clone()).map_err(|e| e.to_string())?;
        sources.push(SourceInfo {
            name: f.file_stem().unwrap().to_string_lossy().into_owned(),
            location: f.display().to_string(),
            updated: None,
            vulnerabilities: fv.len() as u64,
            affected: fa.len() as u64,
        });
        vulns.append(&mut fv);
        aff.append(&mut fa);
    }
    Ok((vulns, aff, sources))
}

fn spec(server: &Server, name: &str) -> FeedSpec {
    FeedSpec {
        name: name.into(),
        kind: FeedKind::Nvd,
        url: server.url(&format!("/{name}.json")),
        path: format!("feeds/{name}.json"),
        checksum: None,
        max_bytes: 10 << 20,
    }
}

fn config(feeds: Vec<FeedSpec>) -> UpdateConfig {
    UpdateConfig { feeds, connect_timeout_secs: 5, timeout_secs: 30, no_proxy: true }
}

/// A server with two good feeds, and a database built from them by a first update.
struct Fixture {
    server: Server,
    _dir: tempfile::TempDir,
    db: PathBuf,
}

fn fixture() -> Fixture {
    let server = Server::start();
    server.route("/alpha.json", Reply::Body { body: feed_body(&[("CVE-A1", "openssl")]), etag: Some("\"a1\"".into()) });
    server.route("/beta.json", Reply::Body { body: feed_body(&[("CVE-B1", "curl")]), etag: Some("\"b1\"".into()) });
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("vuln.db");
    let cfg = config(vec![spec(&server, "alpha"), spec(&server, "beta")]);
    update::update(&cfg, &db, &builder).unwrap();
    Fixture { server, _dir: dir, db }
}

/// The database still opens and answers from the first update's feeds; nothing of the
/// failed attempt is left beside it.
fn assert_old_db_usable(db: &Path, before: &[u8]) {
    assert_eq!(std::fs::read(db).unwrap(), before, "the database file changed");
    let opened = Database::open(db).unwrap();
    assert_eq!(opened.affected("debian:12", "openssl").unwrap().len(), 1);
    assert_eq!(opened.vulnerability("CVE-B1").unwrap().unwrap().description.as_deref(), Some("about CVE-B1"));
    let dir = db.parent().unwrap();
    let mut names: Vec<String> =
        std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    assert_eq!(names, [".vuln.db.update.lock", "vuln.db", "vuln.db.feeds"], "leftovers in {}", dir.display());
}

// ---------------------------------------------------------------------------------------

#[test]
fn a_successful_update_builds_the_database_and_remembers_the_feeds() {
    let f = fixture();
    let db = Database::open(&f.db).unwrap();
    assert_eq!(db.affected("debian:12", "openssl").unwrap()[0].vulnerability, "CVE-A1");
    assert_eq!(db.affected("debian:12", "curl").unwrap()[0].vulnerability, "CVE-B1");
    // Sources point at where the feed came from, not at a staging directory.
    let locations: Vec<&str> = db.sources().iter().map(|s| s.location.as_str()).collect();
    assert_eq!(locations, [f.server.url("/alpha.json"), f.server.url("/beta.json")]);
    let state: serde_json::Value =
        serde_json::from_slice(&std::fs::read(f.db.with_file_name("vuln.db.feeds/state.json")).unwrap()).unwrap();
    assert_eq!(state["feeds"]["alpha"]["etag"], "\"a1\"");
    let body = feed_body(&[("CVE-A1", "openssl")]);
    assert_eq!(state["feeds"]["alpha"]["sha256"], hex::encode(Sha256::digest(&body)));
    assert_eq!(std::fs::read(f.db.with_file_name("vuln.db.feeds/feeds/alpha.json")).unwrap(), body);
}

#[test]
fn unchanged_feeds_are_not_downloaded_again_and_the_database_is_kept() {
    let f = fixture();
    let before = std::fs::read(&f.db).unwrap();
    let cfg = config(vec![spec(&f.server, "alpha"), spec(&f.server, "beta")]);
    let report = update::update(&cfg, &f.db, &builder).unwrap();
    assert!(report.built.is_none(), "rebuilt although nothing changed");
    assert!(report.feeds.iter().all(|o| !o.downloaded));
    let conditional: Vec<(String, Option<String>)> =
        f.server.requests()[2..].iter().map(|r| (r.path.clone(), r.if_none_match.clone())).collect();
    assert_eq!(
        conditional,
        [("/alpha.json".to_owned(), Some("\"a1\"".to_owned())), ("/beta.json".to_owned(), Some("\"b1\"".to_owned()))]
    );
    assert_old_db_usable(&f.db, &before);

    // One feed changes: it is downloaded, the other comes from the cache, both are in.
    f.server.route(
        "/beta.json",
        Reply::Body { body: feed_body(&[("CVE-B1", "curl"), ("CVE-B2", "zlib")]), etag: Some("\"b2\"".into()) },
    );
    let report = update::update(&cfg, &f.db, &builder).unwrap();
    let downloaded: Vec<(&str, bool)> = report.feeds.iter().map(|o| (o.name.as_str(), o.downloaded)).collect();
    assert_eq!(downloaded, [("alpha", false), ("beta", true)]);
    assert_eq!(report.built.as_ref().map(|b| b.vulnerabilities), Some(3));
    let db = Database::open(&f.db).unwrap();
    assert_eq!(db.affected("debian:12", "zlib").unwrap().len(), 1);
    assert_eq!(db.affected("debian:12", "openssl").unwrap().len(), 1);
}

#[test]
fn a_corrupt_feed_keeps_the_old_database() {
    let f = fixture();
    let before = std::fs::read(&f.db).unwrap();
    f.server.route("/beta.json", Reply::Body { body: b"{\"vulns\": [tru".to_vec(), etag: Some("\"bad\"".into()) });
    let cfg = config(vec![spec(&f.server, "alpha"), spec(&f.server, "beta")]);
    let err = update::update(&cfg, &f.db, &builder).unwrap_err();
    assert!(matches!(err, UpdateError::Build(_)), "{err:?}");
    let msg = err.to_string();
    assert!(msg.contains("not valid JSON") && msg.contains("previous database is kept"), "{msg}");
    assert_old_db_usable(&f.db, &before);
    // The cache still describes the good feed, so the next update can be conditional.
    let cached = std::fs::read(f.db.with_file_name("vuln.db.feeds/feeds/beta.json")).unwrap();
    assert_eq!(cached, feed_body(&[("CVE-B1", "curl")]));
}

#[test]
fn a_server_closing_mid_download_keeps_the_old_database() {
    let f = fixture();
    let before = std::fs::read(&f.db).unwrap();
    let big = feed_body(&[("CVE-B1", "curl"); 2000]);
    f.server.route("/beta.json", Reply::CloseAfter { sent: big.len() / 3, body: big });
    let cfg = config(vec![spec(&f.server, "alpha"), spec(&f.server, "beta")]);
    let err = update::update(&cfg, &f.db, &builder).unwrap_err();
    match &err {
        UpdateError::Feed { feed, .. } => assert_eq!(feed, "beta"),
        other => panic!("{other:?}"),
    }
    let msg = err.to_string();
    assert!(msg.contains("beta") && (msg.contains("interrupted") || msg.contains("closed")), "{msg}");
    assert_old_db_usable(&f.db, &before);
}

#[test]
fn http_errors_and_unreachable_servers_keep_the_old_database() {
    let f = fixture();
    let before = std::fs::read(&f.db).unwrap();
    f.server.route("/alpha.json", Reply::Status(500));
    let cfg = config(vec![spec(&f.server, "alpha"), spec(&f.server, "beta")]);
    let err = update::update(&cfg, &f.db, &builder).unwrap_err();
    assert!(err.to_string().contains("HTTP 500"), "{err}");
    assert_old_db_usable(&f.db, &before);

    // A port nothing listens on.
    let closed = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let mut gone = spec(&f.server, "alpha");
    gone.url = format!("http://{closed}/alpha.json");
    let err = update::update(&config(vec![gone, spec(&f.server, "beta")]), &f.db, &builder).unwrap_err();
    assert!(matches!(err, UpdateError::Feed { .. }), "{err:?}");
    assert_old_db_usable(&f.db, &before);
}

#[test]
fn checksums_are_verified_where_published() {
    let f = fixture();
    let before = std::fs::read(&f.db).unwrap();
    let body = feed_body(&[("CVE-B1", "curl"), ("CVE-B9", "bash")]);
    f.server.route("/beta.json", Reply::Body { body: body.clone(), etag: Some("\"b9\"".into()) });
    // A published checksum that does not match what is served.
    f.server.route(
        "/beta.json.sha256",
        Reply::Body { body: format!("{}  beta.json\n", "ab".repeat(32)).into_bytes(), etag: None },
    );
    let mut beta = spec(&f.server, "beta");
    beta.checksum = Some(Checksum::Sha256Url(f.server.url("/beta.json.sha256")));
    let cfg = config(vec![spec(&f.server, "alpha"), beta.clone()]);
    let err = update::update(&cfg, &f.db, &builder).unwrap_err();
    assert!(err.to_string().contains("sha256 mismatch"), "{err}");
    assert_old_db_usable(&f.db, &before);

    // The right checksum, published or configured, passes.
    let good = hex::encode(Sha256::digest(&body));
    f.server.route("/beta.json.sha256", Reply::Body { body: format!("{good}  beta.json\n").into_bytes(), etag: None });
    update::update(&cfg, &f.db, &builder).unwrap();
    assert_eq!(Database::open(&f.db).unwrap().affected("debian:12", "bash").unwrap().len(), 1);
    beta.checksum = Some(Checksum::Sha256(good.to_uppercase()));
    f.server.route("/beta.json", Reply::Body { body, etag: Some("\"b10\"".into()) });
    update::update(&config(vec![spec(&f.server, "alpha"), beta]), &f.db, &builder).unwrap();
}

#[test]
fn a_feed_over_its_size_limit_is_refused() {
    let f = fixture();
    let before = std::fs::read(&f.db).unwrap();
    f.server.route("/beta.json", Reply::Body { body: feed_body(&[("CVE-B1", "curl"); 50]), etag: None });
    let mut beta = spec(&f.server, "beta");
    beta.max_bytes = 100;
    let err = update::update(&config(vec![spec(&f.server, "alpha"), beta]), &f.db, &builder).unwrap_err();
    assert!(err.to_string().contains("over the 100-byte limit"), "{err}");
    assert_old_db_usable(&f.db, &before);
}

#[test]
fn bad_configurations_are_refused_before_anything_is_downloaded() {
    let f = fixture();
    let mut escape = spec(&f.server, "alpha");
    escape.path = "../outside.json".into();
    let twice = vec![spec(&f.server, "alpha"), spec(&f.server, "alpha")];
    for cfg in [config(vec![]), config(vec![escape]), config(twice)] {
        let err = update::update(&cfg, &f.db, &builder).unwrap_err();
        assert!(matches!(err, UpdateError::Config(_)), "{err:?}");
    }
    assert_eq!(f.server.requests().len(), 2, "only the fixture's own update reached the server");
}

#[test]
fn the_default_feeds_point_at_the_real_upstream_locations() {
    let feeds = update::default_feeds();
    let by_name = |n: &str| feeds.iter().find(|f| f.name == n).unwrap_or_else(|| panic!("no feed {n}"));
    assert_eq!(by_name("debian-tracker").url, "https://security-tracker.debian.org/tracker/data/json");
    assert_eq!(by_name("debian-tracker").path, "debian/tracker.json");
    assert_eq!(by_name("osv:PyPI").url, "https://osv-vulnerabilities.storage.googleapis.com/PyPI/all.zip");
    assert_eq!(by_name("osv:Red Hat").url, "https://osv-vulnerabilities.storage.googleapis.com/Red%20Hat/all.zip");
    assert_eq!(by_name("osv:Red Hat").path, "osv/Red Hat/all.zip");
    assert_eq!(by_name("alpine:v3.20/main").url, "https://secdb.alpinelinux.org/v3.20/main.json");
    assert_eq!(by_name("alpine:v3.20/main").path, "alpine/v3.20/main.json");
    assert!(feeds.iter().all(|f| f.url.starts_with("https://")));
    // Round trip through the configuration format.
    let cfg = UpdateConfig::default();
    let text = serde_json::to_string(&cfg).unwrap();
    assert_eq!(serde_json::from_str::<UpdateConfig>(&text).unwrap(), cfg);
}

// ---------------------------------------------------------------------------------------
// Disk full: the database directory on a 1 MiB tmpfs.

struct Tmpfs {
    dir: PathBuf,
    _parent: tempfile::TempDir,
}

impl Tmpfs {
    fn mount(size: &str) -> Tmpfs {
        let parent = tempfile::tempdir().unwrap();
        let dir = parent.path().join("small");
        std::fs::create_dir(&dir).unwrap();
        let out = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(&dir)
            .output()
            .expect("mount(8) is needed for the disk-full test: apt-get install mount");
        assert!(
            out.status.success(),
            "the disk-full test mounts a size-limited tmpfs and needs root (CAP_SYS_ADMIN): {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Tmpfs { dir, _parent: parent }
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount").arg(&self.dir).status();
    }
}

#[test]
fn disk_full_keeps_the_old_database() {
    let server = Server::start();
    server.route("/alpha.json", Reply::Body { body: feed_body(&[("CVE-A1", "openssl")]), etag: Some("\"a1\"".into()) });
    server.route("/beta.json", Reply::Body { body: feed_body(&[("CVE-B1", "curl")]), etag: Some("\"b1\"".into()) });
    let fs = Tmpfs::mount("1m");
    let db = fs.dir.join("vuln.db");
    let cfg = config(vec![spec(&server, "alpha"), spec(&server, "beta")]);
    update::update(&cfg, &db, &builder).unwrap();
    let before = std::fs::read(&db).unwrap();

    // 1. A feed larger than the free space: the download itself fails.
    let huge: Vec<(&str, &str)> = vec![("CVE-B1", "curl"); 20_000];
    server.route("/beta.json", Reply::Body { body: feed_body(&huge), etag: Some("\"huge\"".into()) });
    let err = update::update(&cfg, &db, &builder).unwrap_err();
    assert!(matches!(err, UpdateError::Feed { .. }), "{err:?}");
    assert!(err.to_string().contains("No space left on device"), "{err}");
    assert_old_db_usable(&db, &before);

    // 2. Small feeds, but the new database does not fit: writing it fails.
    server.route("/beta.json", Reply::Body { body: feed_body(&[("CVE-B1", "curl")]), etag: Some("\"b2\"".into()) });
    let fat_builder = |dir: &Path| -> Result<update::Records, String> {
        let (mut v, a, s) = builder(dir)?;
        // Text that compresses poorly: 4 MB of hex hashes, about 2 MB compressed.
        let mut text = String::new();
        for i in 0..64_000u32 {
            text.push_str(&hex::encode(Sha256::digest(i.to_le_bytes())));
        }
        v.push(vuln("CVE-FAT", &text));
        Ok((v, a, s))
    };
    let err = update::update(&cfg, &db, &fat_builder).unwrap_err();
    assert!(matches!(err, UpdateError::Database(_)), "{err:?}");
    assert!(err.to_string().contains("No space left on device"), "{err}");
    assert_old_db_usable(&db, &before);

    // Space is not leaked: the same update with normal records now succeeds.
    update::update(&cfg, &db, &builder).unwrap();
    assert_eq!(Database::open(&db).unwrap().affected("debian:12", "curl").unwrap().len(), 1);
}
