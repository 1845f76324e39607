//! Files identified by (device, inode), resolved inside a container's root.
//!
//! Paths are resolved with `openat2(RESOLVE_IN_ROOT)` against `/proc/PID/root`, so that
//! absolute symlinks and `..` inside the container stay inside it, exactly as the
//! container's processes see them; magic links (`/proc/self/root/...` inside the
//! container) are refused.

use std::io;
use std::os::fd::{AsFd, OwnedFd};
use std::path::Path;

use rustix::fs::{FileType, Mode, OFlags, ResolveFlags};

/// A file's identity: the device and inode `fstat` reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FileId {
    pub dev: u64,
    pub ino: u64,
}

/// A file's change time (seconds, nanoseconds): it moves on every write, link, unlink
/// and attribute change, and cannot be set back by the file's owner.
pub(crate) type ChangeTime = (i64, i64);

/// What `fstat` says about a resolved file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FileInfo {
    pub id: FileId,
    pub nlink: u64,
    pub regular: bool,
    pub ctime: ChangeTime,
}

pub(crate) fn file_info(fd: impl AsFd) -> io::Result<FileInfo> {
    let st = rustix::fs::fstat(fd)?;
    Ok(FileInfo {
        id: FileId { dev: st.st_dev, ino: st.st_ino },
        nlink: st.st_nlink,
        regular: FileType::from_raw_mode(st.st_mode) == FileType::RegularFile,
        ctime: (st.st_ctime, i64::try_from(st.st_ctime_nsec).unwrap_or(-1)),
    })
}

/// Opens `/proc/PID/root`: the root directory of the process's container.
pub(crate) fn container_root(pid: u32) -> io::Result<OwnedFd> {
    Ok(rustix::fs::open(
        format!("/proc/{pid}/root"),
        OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )?)
}

fn in_root_flags() -> ResolveFlags {
    ResolveFlags::IN_ROOT | ResolveFlags::NO_MAGICLINKS
}

/// Resolves `path` (absolute, as the container sees it) inside `root` without opening it.
pub(crate) fn open_path_in_root(root: impl AsFd, path: &Path) -> io::Result<OwnedFd> {
    let relative = path.strip_prefix("/").unwrap_or(path);
    let relative = if relative.as_os_str().is_empty() { Path::new(".") } else { relative };
    Ok(rustix::fs::openat2(root, relative, OFlags::PATH | OFlags::CLOEXEC, Mode::empty(), in_root_flags())?)
}

/// Opens `path` inside `root` for reading (non-blocking, so that a FIFO cannot stall us).
pub(crate) fn open_read_in_root(root: impl AsFd, path: &Path) -> io::Result<OwnedFd> {
    let relative = path.strip_prefix("/").unwrap_or(path);
    Ok(rustix::fs::openat2(
        root,
        relative,
        OFlags::RDONLY | OFlags::NONBLOCK | OFlags::NOCTTY | OFlags::CLOEXEC,
        Mode::empty(),
        in_root_flags(),
    )?)
}

/// The identity of the file at `path` inside `root`.
pub(crate) fn resolve(root: impl AsFd, path: &Path) -> io::Result<FileInfo> {
    file_info(open_path_in_root(root, path)?)
}
