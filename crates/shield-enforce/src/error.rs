//! Errors of the enforcement backends.

use std::io;
use std::path::PathBuf;

/// What went wrong while setting up or running enforcement.
#[derive(Debug, thiserror::Error)]
pub enum EnforceError {
    /// `fanotify_init` failed (no `CONFIG_FANOTIFY_ACCESS_PERMISSIONS`, or not privileged).
    #[error("fanotify_init: {0}")]
    FanotifyInit(#[source] io::Error),
    /// A mount of the container could not be marked.
    #[error("marking the mount {mount_point} of process {pid} for exec permission events: {source}")]
    Mark {
        pid: u32,
        mount_point: PathBuf,
        #[source]
        source: io::Error,
    },
    /// The container's process is gone, or its `/proc` entries cannot be read.
    #[error("reading /proc/{pid}/{what}: {source}")]
    Proc {
        pid: u32,
        what: &'static str,
        #[source]
        source: io::Error,
    },
    /// A `/proc/PID/mountinfo` line could not be parsed.
    #[error("mountinfo line {line}: {reason}")]
    MountInfo { line: usize, reason: &'static str },
    /// A container with this id is already protected by this guard.
    #[error("container {0} is already protected")]
    AlreadyProtected(String),
    /// No container with this id is protected by this guard.
    #[error("container {0} is not protected")]
    NotProtected(String),
    /// Entering the container's mount namespace failed.
    #[error("entering the mount namespace of process {pid}: {source}")]
    Namespace {
        pid: u32,
        #[source]
        source: io::Error,
    },
    /// A protected path could not be made read-only.
    #[error("making {path} read-only in the container: {source}")]
    ReadOnly {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    /// A protected path is not absolute.
    #[error("protected path {0} is not absolute")]
    RelativePath(PathBuf),
    /// A thread could not be started.
    #[error("starting a thread: {0}")]
    Thread(#[source] io::Error),
}

/// `nix` errors as `io::Error`.
pub(crate) fn nix_io(errno: nix::errno::Errno) -> io::Error {
    io::Error::from_raw_os_error(errno as i32)
}
