//! A container's exec allow-list: allowed paths, resolved inside the container to
//! (device, inode), and the decision for one executed file.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::elf;
use crate::exec::Reason;
use crate::identity::{self, ChangeTime, FileId, FileInfo};

/// How long after an allowed exec its program interpreter may be opened.
const INTERP_WINDOW: Duration = Duration::from_secs(5);
/// Pending interpreter entries kept before old ones are pruned.
const MAX_PENDING_INTERP: usize = 4096;

/// One allowed path and what it resolved to at the last resolution.
#[derive(Debug, Clone)]
pub(crate) struct Resolved {
    pub path: PathBuf,
    pub file: Option<FileId>,
    /// The file's change time when it was last found at `path`.
    pub ctime: Option<ChangeTime>,
    /// `PT_INTERP` of the file, resolved inside the container, and its path there.
    pub interpreter: Option<(FileId, PathBuf)>,
}

#[derive(Debug)]
pub(crate) struct AllowList {
    pid: u32,
    paths: Vec<PathBuf>,
    /// Identities found at protect time: trusted even when they have several links.
    baseline: HashSet<FileId>,
    resolved: Vec<Resolved>,
    /// Executed file → index into `resolved`.
    by_id: HashMap<FileId, usize>,
    /// Per process: the interpreter its last allowed exec will open next, when, and the
    /// index of that allowed file in `resolved`.
    pending_interp: HashMap<u32, (FileId, Instant, usize)>,
}

impl AllowList {
    /// Resolves every path inside the container of `pid`: what is there now is trusted.
    pub fn new(pid: u32, paths: Vec<PathBuf>) -> AllowList {
        let mut list = AllowList {
            pid,
            paths,
            baseline: HashSet::new(),
            resolved: Vec::new(),
            by_id: HashMap::new(),
            pending_interp: HashMap::new(),
        };
        list.refresh(true);
        list
    }

    /// The process whose root the paths are resolved in.
    pub fn pid(&self) -> u32 {
        self.pid
    }

    pub fn resolved(&self) -> &[Resolved] {
        &self.resolved
    }

    /// Resolves the paths again. A file found now that was not there at protect time is
    /// accepted only when it is a regular file with a single link: a hard link placed under
    /// an allowed name (to a binary that is not allowed) does not pass.
    fn refresh(&mut self, initial: bool) {
        let root = identity::container_root(self.pid).ok();
        let mut resolved = Vec::with_capacity(self.paths.len());
        for path in &self.paths {
            let info = root.as_ref().and_then(|root| identity::resolve(root, path).ok());
            let file =
                info.filter(|info| info.regular && (initial || self.baseline.contains(&info.id) || info.nlink == 1));
            if initial && let Some(info) = file {
                self.baseline.insert(info.id);
            }
            let interpreter = match (&root, file) {
                (Some(root), Some(_)) => interpreter_of(root, path),
                _ => None,
            };
            resolved.push(Resolved {
                path: path.clone(),
                file: file.map(|f: FileInfo| f.id),
                ctime: file.map(|f| f.ctime),
                interpreter,
            });
        }
        self.by_id = resolved.iter().enumerate().filter_map(|(i, r)| r.file.map(|id| (id, i))).collect();
        self.resolved = resolved;
    }

    /// Whether the allowed path at `index` still resolves to `id`.
    fn still_there(&self, index: usize, id: FileId) -> bool {
        let Ok(root) = identity::container_root(self.pid) else { return false };
        identity::resolve(&root, &self.resolved[index].path).is_ok_and(|info| info.id == id)
    }

    /// Decides the exec of file `id` (changed last at `ctime`) by process `pid` (host pid
    /// namespace) without a system call, when that can be done: the file is the
    /// interpreter this process is about to open, or it is an allowed file unchanged since
    /// it was found at its allowed path (same change time: not written, linked, unlinked
    /// or renamed over since). With the reason comes the file's path in the container.
    /// `None`: the path must be resolved again ([`AllowList::decide`]).
    pub fn decide_known(&mut self, pid: u32, id: FileId, ctime: ChangeTime) -> Option<(Reason, &Path)> {
        let now = Instant::now();
        if let Some((interp, since, index)) = self.pending_interp.get(&pid).copied()
            && interp == id
            && now.duration_since(since) < INTERP_WINDOW
        {
            self.pending_interp.remove(&pid);
            let path = self.resolved.get(index).and_then(|r| r.interpreter.as_ref()).map(|(_, p)| p.as_path());
            return Some((Reason::Interpreter, path.unwrap_or(Path::new(""))));
        }
        let index = *self.by_id.get(&id)?;
        if self.resolved[index].ctime != Some(ctime) {
            return None;
        }
        let reason = self.allow(index, pid, id, now);
        Some((reason, &self.resolved[index].path))
    }

    /// Decides the exec of file `id` (changed last at `ctime`) by process `pid` (host pid
    /// namespace), resolving the allowed paths again when the file is not known unchanged.
    pub fn decide(&mut self, pid: u32, id: FileId, ctime: ChangeTime) -> Reason {
        if let Some((reason, _)) = self.decide_known(pid, id, ctime) {
            return reason;
        }
        let index = match self.by_id.get(&id) {
            Some(&index) if self.still_there(index, id) => Some(index),
            _ => {
                // Not known, or the allowed file was replaced: resolve again.
                self.refresh(false);
                self.by_id.get(&id).copied()
            }
        };
        let Some(index) = index else {
            return Reason::NotAllowed;
        };
        // Still (or now) at its allowed path, as it is now.
        self.resolved[index].ctime = Some(ctime);
        self.allow(index, pid, id, Instant::now())
    }

    /// Allows the exec of the file at `index`: its program interpreter may follow.
    fn allow(&mut self, index: usize, pid: u32, id: FileId, now: Instant) -> Reason {
        if self.pending_interp.len() >= MAX_PENDING_INTERP {
            self.pending_interp.retain(|_, (_, since, _)| now.duration_since(*since) < INTERP_WINDOW);
        }
        match self.resolved[index].interpreter {
            Some((interp, _)) if interp != id => {
                self.pending_interp.insert(pid, (interp, now, index));
            }
            _ => {
                self.pending_interp.remove(&pid);
            }
        }
        Reason::AllowListed
    }
}

fn interpreter_of(root: &std::os::fd::OwnedFd, path: &Path) -> Option<(FileId, PathBuf)> {
    let fd = identity::open_read_in_root(root, path).ok()?;
    let mut file = std::fs::File::from(fd);
    let interp = elf::interpreter(&mut file).ok()??;
    let id = identity::resolve(root, &interp).ok()?.id;
    Some((id, interp))
}
