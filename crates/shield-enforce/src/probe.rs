//! Which enforcement backends this machine offers, found by trying them.

use std::os::fd::AsFd;

use nix::sched::CloneFlags;
use nix::sys::fanotify::{EventFFlags, Fanotify, InitFlags, MarkFlags, MaskFlags};
use rustix::fs::{Mode, OFlags};
use rustix::thread::LinkNameSpaceType;

/// Whether a backend can be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    Available,
    Unavailable { reason: String },
}

impl Status {
    pub fn is_available(&self) -> bool {
        matches!(self, Status::Available)
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Status::Available => f.write_str("available"),
            Status::Unavailable { reason } => write!(f, "unavailable: {reason}"),
        }
    }
}

/// The enforcement backends and whether each works here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Backends {
    /// Exec allow-lists with fanotify `FAN_OPEN_EXEC_PERM` ([`crate::ExecGuard`]).
    pub fanotify_exec: Status,
    /// Read-only bind mounts in containers' mount namespaces ([`crate::protect_files`]).
    pub ro_mounts: Status,
    /// BPF LSM programs (`bprm_check_security`, `file_open`, path hooks).
    pub bpf_lsm: Status,
}

/// Tries each backend without affecting anything else on the machine.
pub fn probe() -> Backends {
    Backends { fanotify_exec: probe_fanotify_exec(), ro_mounts: probe_ro_mounts(), bpf_lsm: probe_bpf_lsm() }
}

fn unavailable(reason: impl std::fmt::Display) -> Status {
    Status::Unavailable { reason: reason.to_string() }
}

/// A permission group, and an exec-permission mark on one directory inode (a directory is
/// never executed and the mark does not cover its children: no exec is ever held).
fn probe_fanotify_exec() -> Status {
    let group = match Fanotify::init(InitFlags::FAN_CLASS_CONTENT | InitFlags::FAN_CLOEXEC, EventFFlags::O_RDONLY) {
        Ok(group) => group,
        Err(errno) => return unavailable(format!("fanotify_init(FAN_CLASS_CONTENT): {errno}")),
    };
    let directory = std::env::temp_dir();
    match group.mark(
        MarkFlags::FAN_MARK_ADD | MarkFlags::FAN_MARK_ONLYDIR,
        MaskFlags::FAN_OPEN_EXEC_PERM,
        rustix::fs::CWD,
        Some(directory.as_path()),
    ) {
        Ok(()) => Status::Available,
        Err(errno) => unavailable(format!("fanotify_mark(FAN_OPEN_EXEC_PERM): {errno}")),
    }
}

/// Entering a mount namespace (our own) needs what the read-only mounts need:
/// `CAP_SYS_ADMIN`, and `setns` from a thread with its own filesystem context.
fn probe_ro_mounts() -> Status {
    let namespace = match rustix::fs::open("/proc/self/ns/mnt", OFlags::RDONLY | OFlags::CLOEXEC, Mode::empty()) {
        Ok(fd) => fd,
        Err(errno) => return unavailable(format!("/proc/self/ns/mnt: {errno}")),
    };
    let result = std::thread::scope(|scope| {
        scope
            .spawn(|| -> Result<(), String> {
                nix::sched::unshare(CloneFlags::CLONE_FS).map_err(|e| format!("unshare(CLONE_FS): {e}"))?;
                rustix::thread::move_into_link_name_space(namespace.as_fd(), Some(LinkNameSpaceType::Mount))
                    .map_err(|e| format!("setns(CLONE_NEWNS): {e}"))
            })
            .join()
            .unwrap_or_else(|_| Err("probe thread panicked".to_owned()))
    });
    match result {
        Ok(()) => Status::Available,
        Err(reason) => unavailable(reason),
    }
}

/// Loads a BPF LSM program (through `shield-bpf`'s probes) and checks that `bpf` is an
/// active LSM when that list is readable.
fn probe_bpf_lsm() -> Status {
    let features = shield_bpf::probe_kernel();
    match features.lsm {
        shield_bpf::Support::Available => match &features.active_lsms {
            Some(list) if !list.split(',').any(|l| l.trim() == "bpf") => {
                unavailable(format!("LSM programs load, but bpf is not an active LSM ({})", list.trim()))
            }
            _ => Status::Available,
        },
        refused => unavailable(format!("LSM program {refused}")),
    }
}
