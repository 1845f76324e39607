//! Files of a container, opened from the host through a process's root directory
//! (`/proc/PID/root`) with `RESOLVE_IN_ROOT`: symlinks inside the container resolve within
//! it, never to the host's files.

use std::fs::File;
use std::os::fd::{AsFd, OwnedFd};

use rustix::fs::{FileType, Mode, OFlags, ResolveFlags};

fn open_root(pid: u32) -> Option<OwnedFd> {
    rustix::fs::open(format!("/proc/{pid}/root"), OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC, Mode::empty())
        .ok()
}

fn open_in(root: &OwnedFd, path: &str, flags: OFlags) -> Option<OwnedFd> {
    let relative = path.trim_start_matches('/');
    let relative = if relative.is_empty() { "." } else { relative };
    rustix::fs::openat2(root.as_fd(), relative, flags | OFlags::CLOEXEC, Mode::empty(), ResolveFlags::IN_ROOT).ok()
}

/// Device and inode of `path` in the root of the first live process of `pids`.
pub fn identity(pids: &[u32], path: &str) -> Option<(u64, u64)> {
    let root = pids.iter().find_map(|&p| open_root(p))?;
    let fd = open_in(&root, path, OFlags::PATH)?;
    let st = rustix::fs::fstat(fd.as_fd()).ok()?;
    Some((st.st_dev, st.st_ino))
}

/// Opens a regular file of the container for reading (anything else, a FIFO or a device,
/// is never opened for reading).
pub fn open_regular(pids: &[u32], path: &str) -> Option<File> {
    let root = pids.iter().find_map(|&p| open_root(p))?;
    let probe = open_in(&root, path, OFlags::PATH)?;
    let st = rustix::fs::fstat(probe.as_fd()).ok()?;
    if FileType::from_raw_mode(st.st_mode) != FileType::RegularFile {
        return None;
    }
    let fd = open_in(&root, path, OFlags::RDONLY | OFlags::NONBLOCK | OFlags::NOCTTY)?;
    let again = rustix::fs::fstat(fd.as_fd()).ok()?;
    (again.st_ino == st.st_ino && again.st_dev == st.st_dev).then(|| File::from(fd))
}

/// Opens the program a live process runs (`/proc/PID/exe`: also a memfd or a deleted
/// file), if its inode is `inode`.
pub fn open_exe(pid: u32, inode: u64) -> Option<File> {
    let fd = rustix::fs::open(format!("/proc/{pid}/exe"), OFlags::RDONLY | OFlags::CLOEXEC, Mode::empty()).ok()?;
    let st = rustix::fs::fstat(fd.as_fd()).ok()?;
    (st.st_ino == inode && FileType::from_raw_mode(st.st_mode) == FileType::RegularFile).then(|| File::from(fd))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_resolve_inside_the_processs_root() {
        let me = std::process::id();
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("f");
        std::fs::write(&file, b"x").unwrap();
        std::os::unix::fs::symlink("/nonexistent-target", dir.path().join("l")).unwrap();
        let path = file.to_str().unwrap();
        assert!(open_regular(&[me], path).is_some());
        assert!(identity(&[u32::MAX, me], path).is_some());
        assert!(open_regular(&[me], dir.path().to_str().unwrap()).is_none());
        assert!(open_regular(&[me], dir.path().join("l").to_str().unwrap()).is_none());
        assert!(open_regular(&[u32::MAX], path).is_none());
    }
}
