//! Running code inside a container's mount namespace, from a thread of our own process.
//!
//! `setns(CLONE_NEWNS)` refuses a thread that shares its filesystem context (root, working
//! directory, umask) with other threads, which every thread of a process does. A fresh
//! thread that first calls `unshare(CLONE_FS)` owns its context and may then enter the
//! container's mount namespace; the change stays with that thread, which ends when the
//! work is done. No program is executed: nothing depends on the container holding a
//! `mount` binary, and no exec needs to pass the container's exec allow-list.

use std::io;
use std::os::fd::{AsFd, OwnedFd};

use nix::sched::CloneFlags;
use rustix::fs::{Mode, OFlags};
use rustix::thread::LinkNameSpaceType;

use crate::error::{EnforceError, nix_io};

/// Runs `work` in a new thread inside the mount namespace (and root directory) of `pid`.
/// `work` receives a descriptor of the host's `/proc`, opened before entering, for reading
/// `thread-self/mountinfo` (the container's own `/proc` does not know our thread).
pub(crate) fn run_in_mount_namespace<T: Send>(
    pid: u32,
    work: impl FnOnce(&OwnedFd) -> T + Send,
) -> Result<T, EnforceError> {
    let namespace = rustix::fs::open(format!("/proc/{pid}/ns/mnt"), OFlags::RDONLY | OFlags::CLOEXEC, Mode::empty())
        .map_err(|e| EnforceError::Proc { pid, what: "ns/mnt", source: e.into() })?;
    let host_proc = rustix::fs::open("/proc", OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC, Mode::empty())
        .map_err(|e| EnforceError::Proc { pid, what: "", source: e.into() })?;
    std::thread::scope(|scope| {
        let thread = std::thread::Builder::new()
            .name("mount-namespace".into())
            .spawn_scoped(scope, || -> Result<T, io::Error> {
                nix::sched::unshare(CloneFlags::CLONE_FS).map_err(nix_io)?;
                rustix::thread::move_into_link_name_space(namespace.as_fd(), Some(LinkNameSpaceType::Mount))?;
                Ok(work(&host_proc))
            })
            .map_err(EnforceError::Thread)?;
        match thread.join() {
            Ok(result) => result.map_err(|source| EnforceError::Namespace { pid, source }),
            Err(panic) => std::panic::resume_unwind(panic),
        }
    })
}
