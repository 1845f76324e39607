//! tracefs, where the kernel lists its tracepoints: attaching a program to a per-syscall
//! tracepoint (`syscalls/sys_enter_NAME`) reads the tracepoint's id there.
//!
//! Many hosts do not mount it; the loader mounts it at `/sys/kernel/tracing` (its usual place)
//! when neither that nor `/sys/kernel/debug/tracing` lists events. aya looks in the same two
//! places, once per process, so this runs before the first per-syscall attachment.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use rustix::mount::{MountFlags, mount};

/// Where tracefs is usually mounted, and where debugfs shows it.
const PLACES: [&str; 2] = ["/sys/kernel/tracing", "/sys/kernel/debug/tracing"];

/// Two loaders of one process (tests load several) must not both mount it.
static MOUNTING: Mutex<()> = Mutex::new(());

/// The tracefs root that lists events, after mounting tracefs at `/sys/kernel/tracing` if
/// no place listed them.
pub(crate) fn ensure_mounted() -> io::Result<PathBuf> {
    let _mounting = MOUNTING.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some(root) = find() {
        return Ok(root);
    }
    mount("tracefs", PLACES[0], "tracefs", MountFlags::NOSUID | MountFlags::NODEV | MountFlags::NOEXEC, None)?;
    tracing::info!(path = PLACES[0], "mounted tracefs for the per-syscall tracepoints");
    find().ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "tracefs lists no events after mounting it"))
}

fn find() -> Option<PathBuf> {
    PLACES.iter().map(PathBuf::from).find(|root| root.join("events").is_dir())
}

/// Whether the kernel has the `syscalls/sys_enter_NAME` tracepoint: not for a syscall it
/// does not implement (`init_module` without module support), nor without
/// `CONFIG_FTRACE_SYSCALLS`.
pub(crate) fn has_syscall_enter(root: &Path, name: &str) -> bool {
    root.join("events/syscalls").join(format!("sys_enter_{name}")).join("id").is_file()
}
