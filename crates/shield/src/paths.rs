//! Paths as container processes write them: lexical normalisation, the host's critical
//! files, the container's bind mounts (container path → host path), and the paths whose
//! writing is a known escape technique.

use shield_bpf::PathRule;

use crate::docker::Mount;

/// Resolves `.`, `..` and repeated `/` of an absolute path, or of a relative one against
/// `base` (an absolute directory). `None` for a relative path without a base.
pub fn normalise(base: Option<&str>, path: &str) -> Option<String> {
    let joined = if path.starts_with('/') {
        path.to_owned()
    } else {
        let base = base.filter(|b| b.starts_with('/'))?;
        format!("{base}/{path}")
    };
    let mut parts: Vec<&str> = Vec::new();
    for component in joined.split('/') {
        match component {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            other => parts.push(other),
        }
    }
    Some(format!("/{}", parts.join("/")))
}

/// Whether `path` is `dir` or below it (both normalised, absolute).
pub fn is_under(path: &str, dir: &str) -> bool {
    let dir = dir.trim_end_matches('/');
    dir.is_empty() || path == dir || path.strip_prefix(dir).is_some_and(|rest| rest.starts_with('/'))
}

/// The host's critical files: reading or writing them from a container (through a mount
/// of the host's file system) is an escape. A trailing `/` marks a directory tree.
pub const HOST_CRITICAL: &[&str] = &[
    "/etc/shadow",
    "/etc/gshadow",
    "/etc/passwd",
    "/etc/group",
    "/etc/sudoers",
    "/etc/sudoers.d/",
    "/etc/crontab",
    "/etc/cron.d/",
    "/etc/cron.hourly/",
    "/etc/cron.daily/",
    "/etc/cron.weekly/",
    "/etc/cron.monthly/",
    "/var/spool/cron/",
    "/etc/ld.so.preload",
    "/etc/ssh/sshd_config",
    "/etc/systemd/system/",
    "/root/.ssh/",
    "/root/.bashrc",
    "/root/.profile",
];

/// Whether a host path is one of [`HOST_CRITICAL`].
pub fn is_host_critical(host_path: &str) -> bool {
    HOST_CRITICAL.iter().any(|c| if c.ends_with('/') { is_under(host_path, c) } else { host_path == *c })
}

/// The host path behind a container path, through the container's bind mounts (the
/// mount with the longest destination wins, as in the kernel's mount tree).
pub fn host_path<'m>(mounts: &'m [Mount], container_path: &str) -> Option<(String, &'m Mount)> {
    mounts
        .iter()
        .filter(|m| m.kind == "bind" && m.source.starts_with('/') && is_under(container_path, &m.destination))
        .max_by_key(|m| m.destination.trim_end_matches('/').len())
        .map(|m| {
            let rest = &container_path[m.destination.trim_end_matches('/').len()..];
            let source = m.source.trim_end_matches('/');
            (if rest.is_empty() { m.source.clone() } else { format!("{source}{rest}") }, m)
        })
}

/// The container paths to watch for one bind mount: where the host's critical files appear
/// in the container. Empty when the mount exposes none of them.
pub fn critical_rules_for_mount(mount: &Mount) -> Vec<PathRule> {
    if mount.kind != "bind" || !mount.source.starts_with('/') || !mount.destination.starts_with('/') {
        return Vec::new();
    }
    let source = mount.source.trim_end_matches('/');
    let dest = mount.destination.trim_end_matches('/');
    let mut rules = Vec::new();
    for critical in HOST_CRITICAL {
        let dir = critical.ends_with('/');
        let critical_path = critical.trim_end_matches('/');
        if is_under(critical_path, source) {
            // The critical file is inside the mounted tree.
            let inside = format!("{dest}{}", &critical_path[source.len()..]);
            rules.push(if dir {
                PathRule::Prefix(format!("{inside}/").into())
            } else {
                PathRule::Exact(inside.into())
            });
        } else if dir && is_under(source, critical_path) {
            // The mounted tree is inside a critical directory.
            rules.push(PathRule::Prefix(format!("{dest}/").into()));
            rules.push(PathRule::Exact(dest.into()));
        }
    }
    rules
}

/// A write whose target is a known escape technique.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EscapeWrite {
    /// A cgroup v1 `release_agent` (runs a host program when a cgroup empties).
    ReleaseAgent,
    /// `notify_on_release` (arms the release agent).
    NotifyOnRelease,
    /// `/proc/sys/kernel/core_pattern` (runs a host program on a crash).
    CorePattern,
    /// `/proc/PID/mem` of another process.
    ProcMem,
    /// The writer's own memory (`/proc/self/mem`): how the Dirty COW exploit
    /// (CVE-2016-5195) writes over read-only mappings, since writes through this file
    /// ignore a mapping's protection. Applications write their own memory directly; only
    /// debuggers and instrumentation tools use this file, rarely in a container.
    OwnMem,
    /// `/proc/self/exe` or `/proc/PID/exe` (runc CVE-2019-5736).
    ProcExe,
}

/// The in-kernel rules that make these writes reach user space.
pub fn escape_rules() -> Vec<PathRule> {
    ["release_agent", "notify_on_release", "core_pattern", "mem", "exe"]
        .into_iter()
        .map(|n| PathRule::Name(n.into()))
        .collect()
}

/// Classifies a written path (normalised). `own_pids` are the writer's own pid numbers
/// (in its pid namespace and on the host): `/proc/<own>/mem` is its own memory, not another
/// process's.
pub fn escape_write(path: &str, own_pids: &[u32]) -> Option<EscapeWrite> {
    let name = path.rsplit('/').next().unwrap_or_default();
    match name {
        "release_agent" => return Some(EscapeWrite::ReleaseAgent),
        "notify_on_release" => return Some(EscapeWrite::NotifyOnRelease),
        "core_pattern" if path.starts_with("/proc/") => return Some(EscapeWrite::CorePattern),
        _ => {}
    }
    let rest = path.strip_prefix("/proc/")?;
    let (process, file) = rest.split_once('/')?;
    // `/proc/PID/task/TID/mem` is the same file as `/proc/PID/mem`.
    let file = match file.split_once('/') {
        Some(("task", tail)) => tail.split_once('/').map(|(_, f)| f).unwrap_or(""),
        _ => file,
    };
    let own = matches!(process, "self" | "thread-self") || process.parse::<u32>().is_ok_and(|p| own_pids.contains(&p));
    let is_process = own || process.parse::<u32>().is_ok();
    match file {
        "exe" if is_process => Some(EscapeWrite::ProcExe),
        "mem" if own => Some(EscapeWrite::OwnMem),
        "mem" if is_process => Some(EscapeWrite::ProcMem),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bind(source: &str, destination: &str) -> Mount {
        Mount { kind: "bind".into(), source: source.into(), destination: destination.into(), read_write: false }
    }

    #[test]
    fn paths_normalise_lexically() {
        assert_eq!(normalise(None, "/etc//./passwd").as_deref(), Some("/etc/passwd"));
        assert_eq!(normalise(Some("/etc"), "passwd").as_deref(), Some("/etc/passwd"));
        assert_eq!(normalise(Some("/tmp/x"), "../../etc/shadow").as_deref(), Some("/etc/shadow"));
        assert_eq!(normalise(Some("/"), "../..").as_deref(), Some("/"));
        assert_eq!(normalise(None, "passwd"), None);
        assert_eq!(normalise(Some("relative"), "passwd"), None);
    }

    #[test]
    fn container_paths_map_to_host_paths_through_bind_mounts() {
        let mounts = vec![bind("/", "/host"), bind("/etc", "/host/etc"), bind("/srv/data/", "/data")];
        assert_eq!(host_path(&mounts, "/host/etc/shadow").unwrap().0, "/etc/shadow");
        assert_eq!(host_path(&mounts, "/host/root/.ssh/authorized_keys").unwrap().0, "/root/.ssh/authorized_keys");
        assert_eq!(host_path(&mounts, "/data/x").unwrap().0, "/srv/data/x");
        assert_eq!(host_path(&mounts, "/data").unwrap().0, "/srv/data/");
        assert!(host_path(&mounts, "/hostile").is_none());
        assert!(host_path(&mounts, "/etc/shadow").is_none());
        let volume = Mount { kind: "volume".into(), ..bind("/var/lib/docker/volumes/v/_data", "/v") };
        assert!(host_path(&[volume], "/v/etc/shadow").is_none());
    }

    #[test]
    fn critical_host_files() {
        assert!(is_host_critical("/etc/shadow"));
        assert!(is_host_critical("/root/.ssh/authorized_keys"));
        assert!(is_host_critical("/etc/cron.d/job"));
        assert!(!is_host_critical("/etc/shadow-"));
        assert!(!is_host_critical("/etc/hostname"));
        assert!(!is_host_critical("/root/.sshx"));
    }

    #[test]
    fn mounts_give_the_container_paths_of_critical_files() {
        let rules = critical_rules_for_mount(&bind("/etc", "/host/etc"));
        assert!(rules.contains(&PathRule::Exact("/host/etc/shadow".into())));
        assert!(rules.contains(&PathRule::Prefix("/host/etc/cron.d/".into())));
        assert!(!rules.iter().any(|r| r.to_string().contains("root")));
        let rules = critical_rules_for_mount(&bind("/", "/h"));
        assert!(rules.contains(&PathRule::Prefix("/h/root/.ssh/".into())));
        let rules = critical_rules_for_mount(&bind("/root/.ssh", "/keys"));
        assert_eq!(rules, vec![PathRule::Prefix("/keys/".into())]);
        let rules = critical_rules_for_mount(&bind("/etc/cron.d/jobs", "/jobs"));
        assert_eq!(rules, vec![PathRule::Prefix("/jobs/".into()), PathRule::Exact("/jobs".into())]);
        let rules = critical_rules_for_mount(&bind("/etc/shadow", "/s"));
        assert_eq!(rules, vec![PathRule::Exact("/s".into())]);
        assert!(critical_rules_for_mount(&bind("/srv", "/srv")).is_empty());
    }

    #[test]
    fn escape_writes_are_classified() {
        assert_eq!(escape_write("/sys/fs/cgroup/memory/release_agent", &[]), Some(EscapeWrite::ReleaseAgent));
        assert_eq!(escape_write("/tmp/cgrp/x/notify_on_release", &[]), Some(EscapeWrite::NotifyOnRelease));
        assert_eq!(escape_write("/proc/sys/kernel/core_pattern", &[]), Some(EscapeWrite::CorePattern));
        assert_eq!(escape_write("/tmp/core_pattern", &[]), None);
        assert_eq!(escape_write("/proc/1/mem", &[7, 4711]), Some(EscapeWrite::ProcMem));
        assert_eq!(escape_write("/proc/1/task/1/mem", &[7]), Some(EscapeWrite::ProcMem));
        assert_eq!(escape_write("/proc/7/mem", &[7, 4711]), Some(EscapeWrite::OwnMem));
        assert_eq!(escape_write("/proc/4711/mem", &[7, 4711]), Some(EscapeWrite::OwnMem));
        assert_eq!(escape_write("/proc/self/mem", &[7]), Some(EscapeWrite::OwnMem));
        assert_eq!(escape_write("/proc/thread-self/mem", &[7]), Some(EscapeWrite::OwnMem));
        assert_eq!(escape_write("/proc/self/task/8/mem", &[7]), Some(EscapeWrite::OwnMem));
        assert_eq!(escape_write("/proc/net/mem", &[7]), None);
        assert_eq!(escape_write("/tmp/mem", &[7]), None);
        assert_eq!(escape_write("/proc/self/exe", &[7]), Some(EscapeWrite::ProcExe));
        assert_eq!(escape_write("/proc/42/exe", &[7]), Some(EscapeWrite::ProcExe));
        assert_eq!(escape_write("/build/exe", &[7]), None);
        assert_eq!(escape_write("/proc/net/mem", &[7]), None);
    }
}
