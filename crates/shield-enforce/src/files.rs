//! Protected files made read-only inside a container: each path is bind-mounted onto
//! itself in the container's mount namespace and the new mount is made read-only
//! (recursively for a directory). Writes through it fail with `EROFS`; the file itself,
//! the host's view of it and other containers are untouched.

use std::io;
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rustix::fs::{AtFlags, Mode, OFlags, StatVfsMountFlags, StatxFlags};
use rustix::mount::{MountFlags, UnmountFlags};

use crate::error::EnforceError;
use crate::mntns;
use crate::mountinfo;

/// A read-only bind mount placed in a container: where, and which mount it is, so that
/// it can be taken away again without touching a mount placed by anybody else.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadOnlyMount {
    /// The protected path, resolved inside the container.
    pub path: PathBuf,
    /// The mount's id (the never-reused 64-bit id where the kernel has it, 6.8 and later).
    pub mount_id: u64,
}

/// What `protect_files` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileProtection {
    /// The read-only mount of each path now protected (placed now, or kept from before),
    /// in the order asked for; see [`FileProtection::protected`].
    pub mounts: Vec<ReadOnlyMount>,
    /// Requested paths that do not exist in the container (nothing to protect).
    pub missing: Vec<PathBuf>,
    /// Time spent, from the call to the last mount.
    pub elapsed: Duration,
}

impl FileProtection {
    /// Paths now read-only, resolved inside the container (symlinks followed there).
    pub fn protected(&self) -> Vec<PathBuf> {
        self.mounts.iter().map(|m| m.path.clone()).collect()
    }
}

/// Makes every existing path of `paths` read-only inside the container of `pid` (any
/// process of the container, host pid namespace). Paths are absolute paths as the
/// container sees them.
pub fn protect_files(pid: u32, paths: &[PathBuf]) -> Result<FileProtection, EnforceError> {
    reprotect_files(pid, paths, &[])
}

/// [`protect_files`] for a container already protected with `placed`: a path whose
/// read-only mount of `placed` is still in place is left as it is (no moment in which it
/// is writable), any other is made read-only. [`release_files`] then takes away the mounts
/// of `placed` no longer wanted.
pub fn reprotect_files(pid: u32, paths: &[PathBuf], placed: &[ReadOnlyMount]) -> Result<FileProtection, EnforceError> {
    let start = Instant::now();
    if let Some(relative) = paths.iter().find(|p| !p.is_absolute()) {
        return Err(EnforceError::RelativePath(relative.clone()));
    }
    let mut result = mntns::run_in_mount_namespace(pid, |host_proc| {
        let mut mounts: Vec<ReadOnlyMount> = Vec::new();
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
            if mounts.iter().any(|m| m.path == canonical) {
                continue;
            }
            let kept = placed.iter().find(|m| m.path == canonical && mount_id(&canonical).ok() == Some(m.mount_id));
            let mount = match kept {
                Some(kept) => kept.clone(),
                None => make_read_only(host_proc, &canonical)
                    .map_err(|source| EnforceError::ReadOnly { path: canonical.clone(), source })?,
            };
            mounts.push(mount);
        }
        Ok(FileProtection { mounts, missing, elapsed: Duration::ZERO })
    })??;
    result.elapsed = start.elapsed();
    Ok(result)
}

/// Takes away read-only mounts placed by [`protect_files`] in the container of `pid`: the
/// files are writable again. A mount no longer on top at its path (another was placed over
/// it, or it is gone) is left alone. Returns the paths released.
pub fn release_files(pid: u32, mounts: &[ReadOnlyMount]) -> Result<Vec<PathBuf>, EnforceError> {
    mntns::run_in_mount_namespace(pid, |_| {
        let mut released = Vec::new();
        for mount in mounts {
            if mount_id(&mount.path).ok() != Some(mount.mount_id) {
                continue;
            }
            // Detached as a whole: for a directory, the read-only copies of the mounts
            // below it go with it, and the originals are visible again.
            rustix::mount::unmount(&mount.path, UnmountFlags::DETACH)
                .map_err(|e| EnforceError::ReadOnly { path: mount.path.clone(), source: e.into() })?;
            released.push(mount.path.clone());
        }
        Ok(released)
    })?
}

/// The id of the mount `path` is on (the unique 64-bit id where the kernel has one).
fn mount_id(path: &Path) -> io::Result<u64> {
    const STATX_MNT_ID_UNIQUE: u32 = 0x4000;
    let unique = StatxFlags::from_bits_retain(STATX_MNT_ID_UNIQUE);
    let stx = rustix::fs::statx(rustix::fs::CWD, path, AtFlags::SYMLINK_NOFOLLOW, unique | StatxFlags::MNT_ID)?;
    Ok(stx.stx_mnt_id)
}

fn make_read_only(host_proc: &OwnedFd, path: &Path) -> io::Result<ReadOnlyMount> {
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
    Ok(ReadOnlyMount { path: path.to_path_buf(), mount_id: mount_id(path)? })
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
