//! The shield's end of the runtime wrapper's socket. Only root may connect: the socket is
//! created mode 0600 in a directory of mode 0700, and each peer's uid is checked
//! (`SO_PEERCRED`). Each request is handed to the agent's loop, which protects the
//! container and replies; a reply that does not come in time is answered by the
//! fail mode.

use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::SyncSender;
use std::thread::JoinHandle;
use std::time::Duration;

use super::{Answer, Greeting, StartRequest};

/// How long a connected wrapper has to send its request.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);
/// How long the agent has to protect a container (below the wrapper's 10 s).
const DECISION_TIMEOUT: Duration = Duration::from_secs(8);
/// Most requests handled at once.
const MAX_CONNECTIONS: usize = 64;

/// A request for the agent's loop, with where its answer goes.
#[derive(Debug)]
pub struct Starting {
    pub request: StartRequest,
    pub reply: SyncSender<Answer>,
}

/// Hands a request to the agent; `false` when the agent is gone.
pub type Deliver = Box<dyn Fn(Starting) -> bool + Send + Sync>;

/// The listening socket and its thread; dropping it stops both and removes the socket.
pub struct RuntimeListener {
    path: PathBuf,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for RuntimeListener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RuntimeListener").field("path", &self.path).finish_non_exhaustive()
    }
}

impl RuntimeListener {
    /// Listens at `path`. A socket file left by a shield that is gone is replaced; one a
    /// running shield listens on is an error.
    pub fn start(path: &Path, fail_closed: bool, deliver: Deliver) -> std::io::Result<RuntimeListener> {
        if let Some(dir) = path.parent()
            && !dir.exists()
        {
            std::fs::create_dir_all(dir)?;
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
        }
        if UnixStream::connect(path).is_ok() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::AddrInUse,
                format!("another shield listens on {}", path.display()),
            ));
        }
        match std::fs::remove_file(path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
            _ => {}
        }
        let listener = UnixListener::bind(path)?;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let stop = Arc::clone(&stop);
            std::thread::Builder::new()
                .name("shield-runtime".into())
                .spawn(move || accept_loop(&listener, fail_closed, &stop, Arc::new(deliver)))?
        };
        Ok(RuntimeListener { path: path.to_owned(), stop, thread: Some(thread) })
    }
}

impl Drop for RuntimeListener {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wakes the blocked accept.
        let _ = UnixStream::connect(&self.path);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
        let _ = std::fs::remove_file(&self.path);
    }
}

fn accept_loop(listener: &UnixListener, fail_closed: bool, stop: &AtomicBool, deliver: Arc<Deliver>) {
    let active = Arc::new(AtomicUsize::new(0));
    for stream in listener.incoming() {
        if stop.load(Ordering::SeqCst) {
            return;
        }
        let Ok(stream) = stream else { continue };
        match rustix::net::sockopt::socket_peercred(&stream) {
            Ok(cred) if cred.uid.is_root() => {}
            Ok(cred) => {
                tracing::warn!(uid = cred.uid.as_raw(), "runtime socket: refused a connection from a non-root user");
                continue;
            }
            Err(e) => {
                tracing::warn!(error = %e, "runtime socket: cannot tell who connected");
                continue;
            }
        }
        if active.fetch_add(1, Ordering::SeqCst) >= MAX_CONNECTIONS {
            active.fetch_sub(1, Ordering::SeqCst);
            tracing::warn!("runtime socket: too many requests at once; one is closed unanswered");
            continue;
        }
        let (active, deliver) = (Arc::clone(&active), Arc::clone(&deliver));
        let spawned = std::thread::Builder::new().name("shield-runtime-req".into()).spawn(move || {
            if let Err(e) = serve(stream, fail_closed, &deliver) {
                tracing::warn!(error = %e, "runtime socket: a request failed");
            }
            active.fetch_sub(1, Ordering::SeqCst);
        });
        if let Err(e) = spawned {
            tracing::warn!(error = %e, "runtime socket: cannot start a request thread");
        }
    }
}

/// One wrapper's request: greeting, request, answer.
fn serve(stream: UnixStream, fail_closed: bool, deliver: &Deliver) -> std::io::Result<()> {
    let mut writer = stream.try_clone()?;
    let mut greeting = serde_json::to_vec(&Greeting { fail_closed })?;
    greeting.push(b'\n');
    writer.write_all(&greeting)?;
    stream.set_read_timeout(Some(REQUEST_TIMEOUT))?;
    let mut line = String::new();
    BufReader::new(&stream).take(64 << 10).read_line(&mut line)?;
    let answer = match parse_request(&line) {
        Err(message) => Answer { start: !fail_closed, enforced: false, message },
        Ok(request) => decide(request, fail_closed, deliver),
    };
    let mut out = serde_json::to_vec(&answer)?;
    out.push(b'\n');
    writer.write_all(&out)
}

/// A request line, checked: a valid id, a live process, an absolute bundle path.
pub fn parse_request(line: &str) -> Result<StartRequest, String> {
    let request: StartRequest = serde_json::from_str(line.trim()).map_err(|e| format!("bad request: {e}"))?;
    if !super::is_valid_id(&request.id) {
        return Err("bad request: invalid container id".to_owned());
    }
    if request.pid == 0 || !Path::new(&format!("/proc/{}", request.pid)).exists() {
        return Err(format!("bad request: no process {}", request.pid));
    }
    if !request.bundle.starts_with('/') || request.bundle.split('/').any(|c| c == "..") {
        return Err("bad request: the bundle is not an absolute path".to_owned());
    }
    Ok(request)
}

fn decide(request: StartRequest, fail_closed: bool, deliver: &Deliver) -> Answer {
    let (reply, answer) = std::sync::mpsc::sync_channel(1);
    let id = request.id.clone();
    if !deliver(Starting { request, reply }) {
        return Answer { start: !fail_closed, enforced: false, message: "the shield is stopping".to_owned() };
    }
    answer.recv_timeout(DECISION_TIMEOUT).unwrap_or_else(|_| {
        tracing::warn!(container = id, "the agent did not protect a starting container in time");
        Answer { start: !fail_closed, enforced: false, message: "the shield did not decide in time".to_owned() }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ask(path: &Path, line: &str) -> (Greeting, Answer) {
        let stream = UnixStream::connect(path).unwrap();
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        let mut greeting = String::new();
        reader.read_line(&mut greeting).unwrap();
        (&stream).write_all(line.as_bytes()).unwrap();
        let mut answer = String::new();
        reader.read_line(&mut answer).unwrap();
        (serde_json::from_str(&greeting).unwrap(), serde_json::from_str(&answer).unwrap())
    }

    #[test]
    fn requests_reach_the_agent_and_its_answer_the_wrapper() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("run/shield.sock");
        let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
        let deliver: Deliver = {
            let seen = Arc::clone(&seen);
            Box::new(move |s: Starting| {
                seen.lock().unwrap().push(s.request.id.clone());
                s.reply.send(Answer { start: true, enforced: true, message: String::new() }).is_ok()
            })
        };
        let listener = RuntimeListener::start(&path, true, deliver).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let pid = std::process::id();
        let (greeting, answer) = ask(&path, &format!("{{\"id\":\"web-1\",\"pid\":{pid},\"bundle\":\"/run/b\"}}\n"));
        assert_eq!(greeting, Greeting { fail_closed: true });
        assert_eq!(answer, Answer { start: true, enforced: true, message: String::new() });
        assert_eq!(*seen.lock().unwrap(), vec!["web-1"]);
        // Bad requests never reach the agent; fail-closed refuses them.
        let (_, answer) = ask(&path, "{\"id\":\"../x\",\"pid\":1,\"bundle\":\"/b\"}\n");
        assert!(!answer.start && answer.message.contains("invalid container id"), "{answer:?}");
        let (_, answer) = ask(&path, "not json\n");
        assert!(!answer.start && answer.message.starts_with("bad request"), "{answer:?}");
        assert_eq!(seen.lock().unwrap().len(), 1);
        // A second shield cannot take the socket over.
        assert!(RuntimeListener::start(&path, true, Box::new(|_| true)).is_err());
        drop(listener);
        assert!(!path.exists());
    }

    #[test]
    fn an_agent_that_is_gone_answers_by_the_fail_mode() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("shield.sock");
        let _listener = RuntimeListener::start(&path, false, Box::new(|_| false)).unwrap();
        let pid = std::process::id();
        let (greeting, answer) = ask(&path, &format!("{{\"id\":\"a\",\"pid\":{pid},\"bundle\":\"/b\"}}\n"));
        assert_eq!(greeting, Greeting { fail_closed: false });
        assert!(answer.start && answer.message == "the shield is stopping", "{answer:?}");
    }

    #[test]
    fn requests_are_checked() {
        let pid = std::process::id();
        assert!(parse_request(&format!("{{\"id\":\"x\",\"pid\":{pid},\"bundle\":\"/b\"}}")).is_ok());
        assert!(parse_request(&format!("{{\"id\":\"x\",\"pid\":{pid},\"bundle\":\"b\"}}")).is_err());
        assert!(parse_request(&format!("{{\"id\":\"x\",\"pid\":{pid},\"bundle\":\"/b/../c\"}}")).is_err());
        assert!(parse_request("{\"id\":\"x\",\"pid\":0,\"bundle\":\"/b\"}").is_err());
        assert!(parse_request(&format!("{{\"id\":\"{}\",\"pid\":{pid},\"bundle\":\"/b\"}}", "a".repeat(129))).is_err());
        assert!(parse_request("{\"id\":\"x\"}").is_err());
    }
}
