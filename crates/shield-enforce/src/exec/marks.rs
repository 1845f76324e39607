//! Marking every mount of a container for `FAN_OPEN_EXEC_PERM`.
//!
//! One `FAN_MARK_MOUNT` mark per mount in the container's mount namespace: the container's
//! root (overlay), its volumes and bind mounts, tmpfs mounts. A mount mark is on the
//! container's own mount (`struct vfsmount`), not on the filesystem, so a volume that is a
//! directory of the host's root filesystem is guarded inside the container and the same
//! files stay unguarded on the host.

use std::path::PathBuf;

use nix::sys::fanotify::{Fanotify, MarkFlags, MaskFlags};
use rustix::fs::{AtFlags, StatxFlags};

use crate::error::{EnforceError, nix_io};
use crate::identity;
use crate::mountinfo::{self, Mount};

/// Mounts that were marked and those that could not be.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MarkedMounts {
    /// Mount points (as the container sees them) now guarded.
    pub marked: Vec<PathBuf>,
    /// Mounts left unmarked, with the reason. Only `noexec` mounts and pseudo filesystems
    /// that refuse permission marks end up here; a failure on any other mount is an error.
    pub skipped: Vec<(PathBuf, String)>,
}

/// Filesystems from which nothing can be executed, and which may refuse permission marks.
const PSEUDO: &[&str] = &["proc", "sysfs", "cgroup", "cgroup2", "devpts", "mqueue", "securityfs", "debugfs"];

pub(crate) fn mark_container(group: &Fanotify, pid: u32) -> Result<MarkedMounts, EnforceError> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/mountinfo")).map_err(|source| EnforceError::Proc {
        pid,
        what: "mountinfo",
        source,
    })?;
    let mounts = mountinfo::parse(&text)?;
    let root = identity::container_root(pid).map_err(|source| EnforceError::Proc { pid, what: "root", source })?;
    let mut result = MarkedMounts::default();
    for mount in &mounts {
        match mark_one(group, &root, mount) {
            Ok(()) => result.marked.push(mount.mount_point.clone()),
            Err(error) if mount.noexec() || PSEUDO.contains(&mount.fs_type.as_str()) || is_hidden(&error) => {
                result.skipped.push((mount.mount_point.clone(), error.to_string()));
            }
            Err(source) => return Err(EnforceError::Mark { pid, mount_point: mount.mount_point.clone(), source }),
        }
    }
    Ok(result)
}

/// A mount that is covered by another one (its mount point resolves to a different mount).
#[derive(Debug)]
struct Hidden;

impl std::fmt::Display for Hidden {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("covered by another mount: not reachable by path")
    }
}

impl std::error::Error for Hidden {}

fn is_hidden(error: &std::io::Error) -> bool {
    error.get_ref().is_some_and(|e| e.is::<Hidden>())
}

fn mark_one(group: &Fanotify, root: &std::os::fd::OwnedFd, mount: &Mount) -> std::io::Result<()> {
    // Resolve inside the container (a symlink planted in a parent directory cannot send the
    // mark to a host mount), then check that the path reached exactly this mount.
    let fd = identity::open_path_in_root(root, &mount.mount_point)?;
    let stx = rustix::fs::statx(&fd, "", AtFlags::EMPTY_PATH, StatxFlags::MNT_ID)?;
    if stx.stx_mnt_id != mount.id {
        return Err(std::io::Error::other(Hidden));
    }
    // fanotify_mark() resolves a path, not an O_PATH descriptor: /proc/self/fd/N names
    // exactly the object the descriptor holds.
    use std::os::fd::AsRawFd;
    let by_fd = format!("/proc/self/fd/{}", fd.as_raw_fd());
    group
        .mark(
            MarkFlags::FAN_MARK_ADD | MarkFlags::FAN_MARK_MOUNT,
            MaskFlags::FAN_OPEN_EXEC_PERM,
            rustix::fs::CWD,
            Some(by_fd.as_str()),
        )
        .map_err(nix_io)
}
