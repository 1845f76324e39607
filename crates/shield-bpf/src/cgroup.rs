//! Cgroup v2 ids: what the programs report (`bpf_get_current_cgroup_id`) and what
//! [`crate::Probes::watch_cgroup`] takes. A cgroup's id is the inode number of its directory
//! in the cgroup v2 hierarchy (mounted at /sys/fs/cgroup, or /sys/fs/cgroup/unified on hosts
//! with the hybrid v1/v2 layout).

use std::fs;
use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// Where the cgroup v2 hierarchy is mounted, from `/proc/self/mountinfo`.
pub fn cgroup2_mount() -> io::Result<PathBuf> {
    let mountinfo = fs::read_to_string("/proc/self/mountinfo")?;
    mountinfo
        .lines()
        .find_map(|line| {
            // "ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS... - FSTYPE SOURCE SUPER_OPTIONS"
            let (before, after) = line.split_once(" - ")?;
            (after.split_whitespace().next()? == "cgroup2").then(|| before.split_whitespace().nth(4).map(unescape))?
        })
        .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "no cgroup2 file system is mounted"))
}

/// Mount points escape space, tab, newline and backslash as octal (`\040`).
fn unescape(field: &str) -> PathBuf {
    let bytes = field.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\\'
            && let Some(code) = bytes.get(i + 1..i + 4).and_then(|d| std::str::from_utf8(d).ok())
            && let Ok(value) = u8::from_str_radix(code, 8)
        {
            out.push(value);
            i += 4;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    PathBuf::from(std::ffi::OsString::from(String::from_utf8_lossy(&out).into_owned()))
}

/// The id of the cgroup at `path` (a directory of the cgroup v2 hierarchy).
pub fn cgroup_id(path: &Path) -> io::Result<u64> {
    Ok(fs::metadata(path)?.ino())
}

/// The cgroup v2 path of a process, relative to the hierarchy's root (`0::/PATH` in
/// `/proc/PID/cgroup`).
pub fn process_cgroup(pid: u32) -> io::Result<PathBuf> {
    let text = fs::read_to_string(format!("/proc/{pid}/cgroup"))?;
    text.lines()
        .find_map(|line| line.strip_prefix("0::"))
        .map(|path| PathBuf::from(path.trim_start_matches('/')))
        .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, format!("process {pid} has no cgroup v2 entry")))
}

/// The cgroup v2 id of a process, as the programs report it.
pub fn process_cgroup_id(pid: u32) -> io::Result<u64> {
    cgroup_id(&cgroup2_mount()?.join(process_cgroup(pid)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unescapes_mount_points() {
        assert_eq!(unescape(r"/mnt/a\040b"), PathBuf::from("/mnt/a b"));
        assert_eq!(unescape(r"/x\"), PathBuf::from(r"/x\"));
        assert_eq!(unescape(r"/x\09"), PathBuf::from(r"/x\09"));
    }
}
