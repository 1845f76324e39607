//! Protected files made read-only inside a container: each path is bind-mounted onto
//! itself in the container's mount namespace and the new mount is made read-only
//! (recursively for a directory). Writes through it fail with `EROFS`; the file itself,
//! the host's view of it and other containers are untouched.

use std::io;
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rustix::fs::{Mode, OFlags, StatVfsMountFlags};
use rustix::mount::MountFlags;

use crate::error::EnforceError;
use crate::mntns;
use crate::mountinfo;

/// What `protect_files` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileProtection {
    /// Paths now read-only, resolved inside the container (symlinks followed there).
    pub protected: Vec<PathBuf>,
    /// Requested paths that do not exist in the container (nothing to protect).
    pub missing: Vec<PathBuf>,
    /// Time spent, from the call to the last mount.
    pub elapsed: Duration,
}

/// Makes every existing path of `paths` read-only inside the container of `pid` (any
/// process of the container, host pid namespace). Paths are absolute paths as the
/// container sees them.
pub fn protect_files(pid: u32, paths: &[PathBuf]) -> Result<FileProtection, EnforceError> {
    let start = Instant::now();
    if let Some(relative) = paths.iter().find(|p| !p.is_absolute()) {
        return Err(EnforceError::RelativePath(relative.clone()));
    }
    let mut result = mntns::run_in_mount_namespace(pid, |host_proc| {
        let mut protected = Vec::new();
        let mut missing = Vec::new();
        for path in paths {
            // Inside the namespace our root is the container's: this follows the
            // container's symlinks the way its processes do.
            let canonical = match std::fs::canonicalize(path) {
                Ok(canonical) => canonical,
                Err(e) if e.kind() == io::ErrorKind::NotFound => {
                    missing.push(path.clone());
                    continue;
                }
                Err(source) => return Err(EnforceError::ReadOnly { path: path.clone(), source }),
            };
            make_read_only(host_proc, &canonical)
                .map_err(|source| EnforceError::ReadOnly { path: canonical.clone(), source })?;
            protected.push(canonical);
        }
        Ok(FileProtection { protected, missing, elapsed: Duration::ZERO })
    })??;
    result.elapsed = start.elapsed();
    Ok(result)
}

fn make_read_only(host_proc: &OwnedFd, path: &Path) -> io::Result<()> {
    let directory = std::fs::metadata(path)?.is_dir();
    if directory {
        rustix::mount::mount_bind_recursive(path, path)?;
    } else {
        rustix::mount::mount_bind(path, path)?;
    }
    // The new mount, then (for a directory) every mount below it, each made read-only.
    let mut targets = vec![path.to_path_buf()];
    if directory {
        let info =
            rustix::fs::openat(host_proc, "thread-self/mountinfo", OFlags::RDONLY | OFlags::CLOEXEC, Mode::empty())?;
        let text = io::read_to_string(std::fs::File::from(info))?;
        let mounts = mountinfo::parse(&text).map_err(io::Error::other)?;
        for mount in mounts {
            if mount.mount_point != path && mount.mount_point.starts_with(path) && !targets.contains(&mount.mount_point)
            {
                targets.push(mount.mount_point);
            }
        }
    }
    for target in targets {
        remount_read_only(&target)?;
    }
    Ok(())
}

/// `MS_REMOUNT | MS_BIND | MS_RDONLY`, keeping the mount's nosuid, nodev and noexec.
fn remount_read_only(target: &Path) -> io::Result<()> {
    let current = rustix::fs::statvfs(target)?.f_flag;
    let mut flags = MountFlags::BIND | MountFlags::RDONLY;
    for (has, keep) in [
        (StatVfsMountFlags::NOSUID, MountFlags::NOSUID),
        (StatVfsMountFlags::NODEV, MountFlags::NODEV),
        (StatVfsMountFlags::NOEXEC, MountFlags::NOEXEC),
        (StatVfsMountFlags::NOATIME, MountFlags::NOATIME),
        (StatVfsMountFlags::NODIRATIME, MountFlags::NODIRATIME),
        (StatVfsMountFlags::RELATIME, MountFlags::RELATIME),
    ] {
        if current.contains(has) {
            flags |= keep;
        }
    }
    rustix::mount::mount_remount(target, flags, "")?;
    Ok(())
}
