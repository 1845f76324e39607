//! Malicious programs by file fingerprint: executed files are scanned by the `detect`
//! crate's malware engine (YARA rules and hash signatures) on a worker thread, so that the
//! event loop never waits for a scan. The event loop opens the file (so that it stays
//! readable after the process exits) and queues it; the worker hashes each file once per
//! (device, inode, change time, size) and remembers the verdict. The change time moves on
//! every write and cannot be set back (a modification time can), and the exec event
//! carries the same identity of the file it mapped, so that a program already found clean
//! is not even opened again.

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::os::fd::AsFd;
use std::sync::mpsc::{Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use image::{FileEntry, FileKind, FileTree, LayerVisitor};

use crate::finding;
use crate::output::{Emitter, EventContext};

/// Files waiting for the worker; more are dropped (and counted) rather than slowing the
/// event loop.
const QUEUE: usize = 512;
/// Verdicts remembered; the cache starts afresh beyond this.
const CACHE_ENTRIES: usize = 16_384;

/// One executed file to scan.
#[derive(Debug)]
pub struct ScanJob {
    /// The file, opened by the event loop.
    pub file: File,
    /// The path shown in the event (as the container sees it).
    pub shown: String,
    pub context: EventContext,
}

/// A file's identity as `stat(2)` gives it: device, inode, change time (seconds,
/// nanoseconds) and size. A changed file has another change time.
pub type FileKey = (u64, u64, i64, i64, u64);

/// A match: rule or signature, category, what it is.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Match {
    rule: String,
    category: String,
    description: String,
}

/// The queue to the worker thread.
#[derive(Debug)]
pub struct ScanQueue {
    tx: Option<SyncSender<ScanJob>>,
    worker: Option<JoinHandle<()>>,
    dropped: u64,
    /// Files the worker found clean, shared with the event loop so that it does not queue
    /// them again.
    clean: Arc<Mutex<HashSet<FileKey>>>,
}

impl ScanQueue {
    /// Starts the worker: it builds the engine (compiling the rules, or loading them from
    /// the cache) and then scans the queued files.
    pub fn start(config: detect::malware::Config, emitter: Emitter) -> ScanQueue {
        let (tx, rx) = std::sync::mpsc::sync_channel::<ScanJob>(QUEUE);
        let clean = Arc::new(Mutex::new(HashSet::new()));
        let found_clean = Arc::clone(&clean);
        let worker = std::thread::Builder::new()
            .name("shield-scan".into())
            .spawn(move || work(config, &rx, &emitter, &found_clean))
            .map_err(|e| tracing::error!(error = %e, "cannot start the malware scanning thread"))
            .ok();
        ScanQueue { tx: Some(tx), worker, dropped: 0, clean }
    }

    /// Whether this file, unchanged (device, inode, change time, size), was scanned and
    /// found clean.
    pub fn known_clean(&self, file: &File) -> bool {
        identify(file).is_some_and(|(key, _)| self.known_clean_key(&key))
    }

    /// Whether the file of this identity was scanned and found clean.
    pub fn known_clean_key(&self, key: &FileKey) -> bool {
        self.clean.lock().unwrap_or_else(|p| p.into_inner()).contains(key)
    }

    /// Queues a file; never blocks. A full queue drops the job.
    pub fn submit(&mut self, job: ScanJob) {
        let Some(tx) = &self.tx else { return };
        match tx.try_send(job) {
            Ok(()) => {}
            Err(TrySendError::Full(job)) => {
                self.dropped += 1;
                tracing::warn!(file = job.shown, dropped = self.dropped, "malware scan queue full: file not scanned");
            }
            Err(TrySendError::Disconnected(_)) => {}
        }
    }

    /// Files not scanned because the queue was full.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    /// Lets the worker finish the queued files and waits for it.
    pub fn finish(mut self) {
        drop(self.tx.take());
        if let Some(worker) = self.worker.take() {
            let _ = worker.join();
        }
    }
}

fn work(config: detect::malware::Config, rx: &Receiver<ScanJob>, emitter: &Emitter, clean: &Mutex<HashSet<FileKey>>) {
    let started = std::time::Instant::now();
    let engine = match detect::malware::Engine::new(config) {
        Ok(engine) => engine,
        Err(e) => {
            tracing::error!(error = %e, "malware engine unavailable: executed files are not scanned");
            // Drain so that submitters never see a full queue for ever.
            for _ in rx {}
            return;
        }
    };
    tracing::info!(
        rules = engine.rule_count(),
        signatures = engine.signature_count(),
        ms = started.elapsed().as_millis(),
        "malware engine ready"
    );
    let mut cache: HashMap<FileKey, Vec<Match>> = HashMap::new();
    for mut job in rx {
        let Some((key, entry)) = identify(&job.file) else { continue };
        if entry.size == 0 || entry.size > engine.config().max_file_size {
            continue;
        }
        let matches = match cache.get(&key) {
            Some(m) => m.clone(),
            None => {
                let m = scan_file(&engine, &job.shown, &entry, &mut job.file);
                if cache.len() >= CACHE_ENTRIES {
                    cache.clear();
                }
                cache.insert(key, m.clone());
                if m.is_empty() {
                    let mut clean = clean.lock().unwrap_or_else(|p| p.into_inner());
                    if clean.len() >= CACHE_ENTRIES {
                        clean.clear();
                    }
                    clean.insert(key);
                }
                m
            }
        };
        for m in matches {
            emitter.emit(
                finding::malicious_file(&job.shown, &m.rule, &m.category, &m.description),
                &job.context,
                false,
            );
        }
    }
}

/// The file's cache key and its entry for the scanner; `None` for anything but a regular file.
fn identify(file: &File) -> Option<(FileKey, FileEntry)> {
    let st = rustix::fs::fstat(file.as_fd()).ok()?;
    if rustix::fs::FileType::from_raw_mode(st.st_mode) != rustix::fs::FileType::RegularFile {
        return None;
    }
    let size = u64::try_from(st.st_size).ok()?;
    let key = (st.st_dev, st.st_ino, st.st_ctime, st.st_ctime_nsec as i64, size);
    let entry = FileEntry {
        kind: FileKind::Regular,
        size,
        mode: st.st_mode & 0o7777,
        uid: u64::from(st.st_uid),
        gid: u64::from(st.st_gid),
        mtime: u64::try_from(st.st_mtime).unwrap_or(0),
        link: None,
        layer: 0,
        ordinal: 0,
    };
    Some((key, entry))
}

fn scan_file(engine: &detect::malware::Engine, shown: &str, entry: &FileEntry, file: &mut File) -> Vec<Match> {
    let mut scanner = engine.scanner();
    if !scanner.wants(shown, entry) {
        return Vec::new();
    }
    if let Err(e) = scanner.visit(shown, entry, file) {
        tracing::debug!(file = shown, error = %e, "executed file could not be read for scanning");
        return Vec::new();
    }
    let (findings, problems) = scanner.finish(&FileTree::new());
    for p in problems {
        tracing::debug!(file = shown, problem = p, "malware scan");
    }
    findings
        .into_iter()
        .map(|f| Match { rule: f.rule, category: f.category.to_string(), description: f.description })
        .collect()
}
