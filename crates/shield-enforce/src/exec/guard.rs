//! The guard: one fanotify group per protected container, a reader thread that takes
//! permission events and enforces the answer deadline, and a decider thread that checks
//! the allow-list.
//!
//! Every held exec is in `State::pending` until exactly one of them answers it: the
//! decider (its decision), the reader (deadline passed: fail mode), `release` (allowed),
//! or `Drop` (fail mode). Whoever removes the entry writes the answer.

use std::collections::HashMap;
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, Sender, SyncSender, TrySendError};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::sys::fanotify::{
    EventFFlags, Fanotify, FanotifyEvent, FanotifyResponse, InitFlags, MarkFlags, MaskFlags, Response,
};
use rustix::event::{EventfdFlags, PollFd, PollFlags, Timespec};

use super::allow::AllowList;
use super::marks::{self, MarkedMounts};
use super::{ContainerTarget, Decision, ExecGuardConfig, FailMode, Reason};
use crate::error::{EnforceError, nix_io};
use crate::identity::{self, ChangeTime, FileId};

/// Decisions buffered for the receiver before new ones are dropped (and counted).
const DECISION_QUEUE: usize = 4096;
/// How long the reader sleeps in `poll` when nothing is held.
const IDLE_POLL: Duration = Duration::from_secs(1);

/// What `protect` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProtectReport {
    pub mounts: MarkedMounts,
    /// Each allowed path and the file it resolved to inside the container (`None`: absent,
    /// or not a regular file).
    pub allowed: Vec<(PathBuf, Option<FileId>)>,
}

/// Enforces exec allow-lists on containers until dropped.
///
/// Dropping the guard answers every held exec with the fail mode, removes the marks and
/// closes the groups: afterwards the containers exec freely. If the process dies instead,
/// the kernel itself answers every held exec with "allow" when it closes the groups
/// (fanotify always fails open when its listener is gone).
pub struct ExecGuard {
    shared: Arc<Shared>,
    reader: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for ExecGuard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExecGuard").field("config", &self.shared.config).finish_non_exhaustive()
    }
}

struct Shared {
    config: ExecGuardConfig,
    state: Mutex<State>,
    wake: OwnedFd,
    stop: AtomicBool,
    decisions: SyncSender<Decision>,
    dropped_decisions: AtomicU64,
    late_decisions: AtomicU64,
    known_answers: AtomicU64,
}

#[derive(Default)]
struct State {
    containers: HashMap<String, Arc<Protected>>,
    pending: HashMap<u64, Pending>,
    next_seq: u64,
}

struct Protected {
    id: String,
    group: Fanotify,
    allow: Mutex<AllowList>,
}

struct Pending {
    event: FanotifyEvent,
    container: Arc<Protected>,
    pid: u32,
    path: PathBuf,
    file: FileId,
    ctime: ChangeTime,
    received: Instant,
    deadline: Instant,
}

struct Job {
    seq: u64,
    container: Arc<Protected>,
    pid: u32,
    file: FileId,
    ctime: ChangeTime,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding the lock leaves consistent data here: keep going.
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl ExecGuard {
    /// Starts the guard's threads. Containers are added with [`ExecGuard::protect`]; every
    /// decision is sent on the returned channel (bounded: when the receiver falls behind,
    /// decisions are dropped and counted, the answers to the kernel are not delayed).
    pub fn start(config: ExecGuardConfig) -> Result<(ExecGuard, Receiver<Decision>), EnforceError> {
        let wake = rustix::event::eventfd(0, EventfdFlags::CLOEXEC | EventfdFlags::NONBLOCK)
            .map_err(|e| EnforceError::Thread(e.into()))?;
        let (decisions, receiver) = mpsc::sync_channel(DECISION_QUEUE);
        let shared = Arc::new(Shared {
            config,
            state: Mutex::new(State::default()),
            wake,
            stop: AtomicBool::new(false),
            decisions,
            dropped_decisions: AtomicU64::new(0),
            late_decisions: AtomicU64::new(0),
            known_answers: AtomicU64::new(0),
        });
        let (jobs, job_receiver) = mpsc::channel();
        let decider_shared = Arc::clone(&shared);
        std::thread::Builder::new()
            .name("exec-guard-decide".into())
            .spawn(move || decider(decider_shared, job_receiver))
            .map_err(EnforceError::Thread)?;
        let reader_shared = Arc::clone(&shared);
        let reader = std::thread::Builder::new()
            .name("exec-guard-read".into())
            .spawn(move || reader(reader_shared, jobs))
            .map_err(EnforceError::Thread)?;
        Ok((ExecGuard { shared, reader: Some(reader) }, receiver))
    }

    /// Protects a container: from now on, every exec from any of its mounts is held until
    /// the allow-list decides.
    pub fn protect(&self, target: ContainerTarget) -> Result<ProtectReport, EnforceError> {
        if lock(&self.shared.state).containers.contains_key(&target.id) {
            return Err(EnforceError::AlreadyProtected(target.id));
        }
        let group = Fanotify::init(
            InitFlags::FAN_CLASS_CONTENT
                | InitFlags::FAN_CLOEXEC
                | InitFlags::FAN_NONBLOCK
                | InitFlags::FAN_UNLIMITED_QUEUE,
            EventFFlags::O_RDONLY | EventFFlags::O_CLOEXEC | EventFFlags::O_LARGEFILE,
        )
        .map_err(|e| EnforceError::FanotifyInit(nix_io(e)))?;
        // Resolve the allow-list before the first mark: from the first mark on, execs wait.
        let allow = AllowList::new(target.pid, target.allowed.clone());
        let allowed = allow.resolved().iter().map(|r| (r.path.clone(), r.file)).collect();
        let protected = Arc::new(Protected { id: target.id.clone(), group, allow: Mutex::new(allow) });
        {
            let mut state = lock(&self.shared.state);
            if state.containers.contains_key(&target.id) {
                return Err(EnforceError::AlreadyProtected(target.id));
            }
            state.containers.insert(target.id.clone(), Arc::clone(&protected));
        }
        self.shared.wake();
        match marks::mark_container(&protected.group, target.pid) {
            Ok(mounts) => {
                tracing::info!(container = %target.id, marked = mounts.marked.len(), "exec allow-list enforced");
                Ok(ProtectReport { mounts, allowed })
            }
            Err(error) => {
                let _ = self.release(&target.id);
                Err(error)
            }
        }
    }

    /// Replaces the allow-list of a protected container. The new list is resolved first and
    /// then swapped in: the container's execs stay held throughout, each decided by the old
    /// list or the new one. Returns each allowed path and the file it resolved to.
    pub fn set_allowed(&self, id: &str, allowed: Vec<PathBuf>) -> Result<Vec<(PathBuf, Option<FileId>)>, EnforceError> {
        let container = lock(&self.shared.state)
            .containers
            .get(id)
            .cloned()
            .ok_or_else(|| EnforceError::NotProtected(id.to_owned()))?;
        let pid = lock(&container.allow).pid();
        let list = AllowList::new(pid, allowed);
        let resolved = list.resolved().iter().map(|r| (r.path.clone(), r.file)).collect();
        *lock(&container.allow) = list;
        Ok(resolved)
    }

    /// Stops protecting a container: its marks are removed and execs it has waiting are
    /// allowed.
    pub fn release(&self, id: &str) -> Result<(), EnforceError> {
        let (container, held) = {
            let mut state = lock(&self.shared.state);
            let container = state.containers.remove(id).ok_or_else(|| EnforceError::NotProtected(id.to_owned()))?;
            let seqs: Vec<u64> =
                state.pending.iter().filter(|(_, p)| Arc::ptr_eq(&p.container, &container)).map(|(s, _)| *s).collect();
            let held: Vec<Pending> = seqs.iter().filter_map(|s| state.pending.remove(s)).collect();
            (container, held)
        };
        for pending in held {
            self.shared.answer(pending, true, Reason::Released);
        }
        flush_marks(&container.group);
        drain_queue(&self.shared, &container, true, Reason::Released);
        self.shared.wake();
        Ok(())
    }

    /// The ids of the protected containers.
    pub fn protected(&self) -> Vec<String> {
        lock(&self.shared.state).containers.keys().cloned().collect()
    }

    /// Execs held right now, waiting for an answer.
    pub fn held_execs(&self) -> usize {
        lock(&self.shared.state).pending.len()
    }

    /// Decisions dropped because the receiver did not keep up.
    pub fn dropped_decisions(&self) -> u64 {
        self.shared.dropped_decisions.load(Ordering::Relaxed)
    }

    /// Decisions that came after their deadline (the fail mode had answered).
    pub fn late_decisions(&self) -> u64 {
        self.shared.late_decisions.load(Ordering::Relaxed)
    }

    /// Execs answered at once, without resolving the allow-list again: an allowed file
    /// unchanged since it was found at its allowed path, or the interpreter of an allowed
    /// exec.
    pub fn known_answers(&self) -> u64 {
        self.shared.known_answers.load(Ordering::Relaxed)
    }
}

impl Drop for ExecGuard {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        self.shared.wake();
        if let Some(reader) = self.reader.take() {
            let _ = reader.join();
        }
        let allow = self.shared.config.fail_mode == FailMode::FailOpen;
        let (containers, held) = {
            let mut state = lock(&self.shared.state);
            let containers: Vec<Arc<Protected>> = state.containers.drain().map(|(_, c)| c).collect();
            let held: Vec<Pending> = state.pending.drain().map(|(_, p)| p).collect();
            (containers, held)
        };
        // No new events once the marks are gone; then answer what was read and what waits.
        for container in &containers {
            flush_marks(&container.group);
        }
        for pending in held {
            self.shared.answer(pending, allow, Reason::GuardStopped);
        }
        for container in &containers {
            drain_queue(&self.shared, container, allow, Reason::GuardStopped);
        }
    }
}

impl Shared {
    fn wake(&self) {
        let _ = rustix::io::write(&self.wake, &1u64.to_ne_bytes());
    }

    /// Writes the answer for a held exec and reports the decision.
    fn answer(&self, mut pending: Pending, allowed: bool, reason: Reason) {
        let Some(fd) = pending.event.fd() else { return };
        if pending.path.as_os_str().is_empty() {
            pending.path = std::fs::read_link(format!("/proc/self/fd/{}", fd.as_raw_fd())).unwrap_or_default();
        }
        let response = if allowed { Response::FAN_ALLOW } else { Response::FAN_DENY };
        if let Err(error) = pending.container.group.write_response(FanotifyResponse::new(fd, response)) {
            tracing::warn!(container = %pending.container.id, %error, "answering an exec permission event");
        }
        let latency = pending.received.elapsed();
        self.report(Decision {
            container_id: pending.container.id.clone(),
            pid: pending.pid,
            path: pending.path,
            dev: pending.file.dev,
            ino: pending.file.ino,
            allowed,
            reason,
            latency,
        });
    }

    fn report(&self, decision: Decision) {
        if let Err(TrySendError::Full(_)) = self.decisions.try_send(decision) {
            self.dropped_decisions.fetch_add(1, Ordering::Relaxed);
        }
    }
}

fn flush_marks(group: &Fanotify) {
    let flush = group.mark(
        MarkFlags::FAN_MARK_FLUSH | MarkFlags::FAN_MARK_MOUNT,
        MaskFlags::empty(),
        rustix::fs::CWD,
        None::<&str>,
    );
    if let Err(error) = flush {
        tracing::warn!(%error, "removing the exec marks");
    }
}

/// Answers the events still queued in a group that no longer belongs to the guard.
fn drain_queue(shared: &Shared, container: &Arc<Protected>, allowed: bool, reason: Reason) {
    for event in read_all(&container.group) {
        if let Some(pending) = examine(event, container, Instant::now()) {
            shared.answer(pending, allowed, reason);
        }
    }
}

/// Events one `read_events` returns at most (nix reads into 4,096 bytes; without info
/// records an event is 24 bytes): fewer mean that the queue was empty when it read.
const FULL_READ: usize = 4096 / std::mem::size_of::<nix::libc::fanotify_event_metadata>();

fn read_all(group: &Fanotify) -> Vec<FanotifyEvent> {
    let mut all = Vec::new();
    loop {
        match group.read_events() {
            Ok(events) if events.is_empty() => break,
            Ok(events) => {
                let drained = events.len() < FULL_READ;
                all.extend(events);
                if drained {
                    // Anything queued since then makes the group readable for the next poll.
                    break;
                }
            }
            Err(Errno::EAGAIN | Errno::EINTR) => break,
            Err(error) => {
                tracing::warn!(%error, "reading fanotify events");
                break;
            }
        }
    }
    all
}

/// Reads what the event is about. Events that are not held execs are dropped (their
/// descriptor closed).
fn examine(event: FanotifyEvent, container: &Arc<Protected>, received: Instant) -> Option<Pending> {
    if !event.check_version() {
        tracing::warn!(version = event.version(), "fanotify event of an unknown version");
        return None;
    }
    let fd = event.fd()?;
    if !event.mask().contains(MaskFlags::FAN_OPEN_EXEC_PERM) {
        return None;
    }
    // The path is read when the decision is written, unless the allow-list names the file.
    let path = PathBuf::new();
    // A descriptor that cannot even be examined gets the device 0, inode 0 identity, which
    // no allowed file has.
    let (file, ctime) =
        identity::file_info(fd).map(|info| (info.id, info.ctime)).unwrap_or((FileId { dev: 0, ino: 0 }, (0, 0)));
    let pid = u32::try_from(event.pid()).unwrap_or(0);
    Some(Pending { event, container: Arc::clone(container), pid, path, file, ctime, received, deadline: received })
}

fn reader(shared: Arc<Shared>, jobs: Sender<Job>) {
    let timeout = shared.config.answer_timeout;
    let fail_open = shared.config.fail_mode == FailMode::FailOpen;
    while !shared.stop.load(Ordering::SeqCst) {
        let (containers, next_deadline) = {
            let state = lock(&shared.state);
            (state.containers.values().cloned().collect::<Vec<_>>(), state.pending.values().map(|p| p.deadline).min())
        };
        let wait = next_deadline.map_or(IDLE_POLL, |d| d.saturating_duration_since(Instant::now()));
        let wait = Timespec {
            tv_sec: i64::try_from(wait.as_secs()).unwrap_or(i64::MAX),
            tv_nsec: i64::from(wait.subsec_nanos()),
        };
        let mut fds = Vec::with_capacity(containers.len() + 1);
        fds.push(PollFd::new(&shared.wake, PollFlags::IN));
        fds.extend(containers.iter().map(|c| PollFd::new(&c.group, PollFlags::IN)));
        match rustix::event::poll(&mut fds, Some(&wait)) {
            Ok(_) | Err(rustix::io::Errno::INTR) => {}
            Err(error) => {
                tracing::error!(%error, "poll on fanotify groups");
                std::thread::sleep(Duration::from_millis(10));
            }
        }
        let ready: Vec<bool> = fds.iter().map(|fd| !fd.revents().is_empty()).collect();
        drop(fds);
        if ready[0] {
            let mut buf = [0u8; 8];
            let _ = rustix::io::read(&shared.wake, &mut buf);
        }
        for (container, _) in containers.iter().zip(&ready[1..]).filter(|(_, ready)| **ready) {
            for event in read_all(&container.group) {
                let received = Instant::now();
                let Some(mut pending) = examine(event, container, received) else { continue };
                pending.deadline = received + timeout;
                let mut state = lock(&shared.state);
                if !state.containers.get(&container.id).is_some_and(|c| Arc::ptr_eq(c, container)) {
                    drop(state);
                    shared.answer(pending, true, Reason::Released);
                    continue;
                }
                if pending.file == (FileId { dev: 0, ino: 0 }) {
                    drop(state);
                    shared.answer(pending, fail_open, Reason::Error);
                    continue;
                }
                // An allowed file unchanged since it was found, or the interpreter of an
                // allowed exec, is answered here: no hand-over to the decider.
                let known = if shared.config.slow_answer.is_none()
                    && let Ok(mut allow) = container.allow.try_lock()
                {
                    allow.decide_known(pending.pid, pending.file, pending.ctime).map(|(reason, path)| {
                        pending.path = path.to_path_buf();
                        reason
                    })
                } else {
                    None
                };
                if let Some(reason) = known {
                    drop(state);
                    shared.known_answers.fetch_add(1, Ordering::Relaxed);
                    shared.answer(pending, reason.allows(), reason);
                    continue;
                }
                let seq = state.next_seq;
                state.next_seq += 1;
                let job = Job {
                    seq,
                    container: Arc::clone(container),
                    pid: pending.pid,
                    file: pending.file,
                    ctime: pending.ctime,
                };
                state.pending.insert(seq, pending);
                drop(state);
                if jobs.send(job).is_err() {
                    // The decider is gone: the deadline will answer.
                    tracing::error!("the exec decider thread stopped");
                }
            }
        }
        let now = Instant::now();
        let expired: Vec<Pending> = {
            let mut state = lock(&shared.state);
            let seqs: Vec<u64> = state.pending.iter().filter(|(_, p)| p.deadline <= now).map(|(s, _)| *s).collect();
            seqs.iter().filter_map(|s| state.pending.remove(s)).collect()
        };
        for pending in expired {
            tracing::warn!(container = %pending.container.id, pid = pending.pid, "exec decision timed out");
            shared.answer(pending, fail_open, Reason::Timeout);
        }
    }
}

fn decider(shared: Arc<Shared>, jobs: Receiver<Job>) {
    for job in jobs {
        if let Some(delay) = shared.config.slow_answer {
            std::thread::sleep(delay);
        }
        let reason = lock(&job.container.allow).decide(job.pid, job.file, job.ctime);
        let allowed = reason.allows();
        let pending = lock(&shared.state).pending.remove(&job.seq);
        match pending {
            Some(pending) => shared.answer(pending, allowed, reason),
            None => {
                shared.late_decisions.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
}
