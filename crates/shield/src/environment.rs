//! Container environment checks (SPEC 4), made from a container's configuration at
//! create and start: risk notices, not attacks. Each finding's text is the seed's:
//! `privileged:true`, `capabilities:[…]`, `seccomp=unconfined`, `no-new-privileges:false`,
//! `mounts:[{"source":…,"destination":…}]`.

use crate::docker::ContainerInfo;
use crate::paths::is_under;

/// Docker's default capability set: capabilities outside it were added by the user.
pub const DEFAULT_CAPABILITIES: &[&str] = &[
    "CHOWN",
    "DAC_OVERRIDE",
    "FSETID",
    "FOWNER",
    "MKNOD",
    "NET_RAW",
    "SETGID",
    "SETUID",
    "SETFCAP",
    "SETPCAP",
    "NET_BIND_SERVICE",
    "SYS_CHROOT",
    "KILL",
    "AUDIT_WRITE",
];

/// Host directories whose mounting into a container is a risk (the mount of the directory
/// itself or of anything below it).
pub const SENSITIVE_DIRS: &[&str] =
    &["/boot", "/dev", "/etc", "/sys", "/var/run", "/run", "/proc", "/root", "/var/lib/kubelet", "/var/lib/docker"];

/// Container runtime sockets (wherever they are).
pub const RUNTIME_SOCKETS: &[&str] = &[
    "/var/run/docker.sock",
    "/run/docker.sock",
    "/run/containerd/containerd.sock",
    "/var/run/containerd/containerd.sock",
    "/run/crio/crio.sock",
    "/var/run/crio/crio.sock",
    "/run/podman/podman.sock",
    "/var/run/cri-dockerd.sock",
];

/// Files that runtimes mount into every container themselves: never reported.
pub const RUNTIME_FILES: &[&str] = &["/etc/hosts", "/etc/resolv.conf", "/etc/hostname"];

/// One environment check that failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvFinding {
    /// The event type: `privileged`, `capabilities`, `seccomp-unconfined`,
    /// `no-new-privileges`, `sensitive-mount`.
    pub kind: &'static str,
    /// The seed's text.
    pub text: String,
}

/// A capability name without `CAP_`, in upper case.
fn capability(name: &str) -> String {
    let upper = name.trim().to_ascii_uppercase();
    upper.strip_prefix("CAP_").map(str::to_owned).unwrap_or(upper)
}

/// `HostConfig.SecurityOpt` has `KEY` or `KEY=VALUE`/`KEY:VALUE` with one of `values`.
fn has_opt(info: &ContainerInfo, key: &str, values: &[&str]) -> bool {
    info.security_opt.iter().any(|opt| {
        let (k, v) = opt.split_once(['=', ':']).map(|(k, v)| (k, Some(v))).unwrap_or((opt.as_str(), None));
        k == key && v.is_none_or(|v| values.contains(&v))
    })
}

/// Whether a bind mount's source is sensitive.
pub fn sensitive_source(source: &str, destination: &str) -> bool {
    let source = crate::paths::normalise(None, source).unwrap_or_default();
    if RUNTIME_FILES.contains(&source.as_str()) || RUNTIME_FILES.contains(&destination.trim_end_matches('/')) {
        return false;
    }
    source == "/"
        || RUNTIME_SOCKETS.contains(&source.as_str())
        || source.ends_with("/docker.sock")
        || source.ends_with("/containerd.sock")
        || SENSITIVE_DIRS.iter().any(|d| is_under(&source, d))
}

/// The checks that fail for a container, in a fixed order.
pub fn check(info: &ContainerInfo) -> Vec<EnvFinding> {
    let mut out = Vec::new();
    if info.privileged {
        out.push(EnvFinding { kind: "privileged", text: "privileged:true".into() });
    }
    let mut added: Vec<String> = Vec::new();
    for cap in info.cap_add.iter().map(|c| capability(c)) {
        if !DEFAULT_CAPABILITIES.contains(&cap.as_str()) && !added.contains(&cap) {
            added.push(cap);
        }
    }
    if !added.is_empty() {
        out.push(EnvFinding { kind: "capabilities", text: format!("capabilities:[{}]", added.join(",")) });
    }
    if has_opt(info, "seccomp", &["unconfined"]) {
        out.push(EnvFinding { kind: "seccomp-unconfined", text: "seccomp=unconfined".into() });
    }
    if !has_opt(info, "no-new-privileges", &["true", ""]) {
        out.push(EnvFinding { kind: "no-new-privileges", text: "no-new-privileges:false".into() });
    }
    // Written by hand: the seed's order is source, then destination.
    let risky: Vec<String> = info
        .mounts
        .iter()
        .filter(|m| m.kind == "bind" && sensitive_source(&m.source, &m.destination))
        .map(|m| {
            let json = |s: &str| serde_json::Value::String(s.to_owned()).to_string();
            format!(r#"{{"source":{},"destination":{}}}"#, json(&m.source), json(&m.destination))
        })
        .collect();
    if !risky.is_empty() {
        out.push(EnvFinding { kind: "sensitive-mount", text: format!("mounts:[{}]", risky.join(",")) });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::docker::Mount;

    fn bind(source: &str, destination: &str) -> Mount {
        Mount { kind: "bind".into(), source: source.into(), destination: destination.into(), read_write: true }
    }

    fn kinds(info: &ContainerInfo) -> Vec<&'static str> {
        check(info).iter().map(|f| f.kind).collect()
    }

    #[test]
    fn a_hardened_container_passes() {
        let info = ContainerInfo { security_opt: vec!["no-new-privileges".into()], ..Default::default() };
        assert!(check(&info).is_empty());
        let info = ContainerInfo { security_opt: vec!["no-new-privileges:true".into()], ..Default::default() };
        assert!(check(&info).is_empty());
    }

    #[test]
    fn each_risk_has_the_seeds_text() {
        let info = ContainerInfo {
            privileged: true,
            cap_add: vec!["SYS_ADMIN".into(), "CAP_NET_ADMIN".into(), "chown".into(), "sys_admin".into()],
            security_opt: vec!["seccomp=unconfined".into(), "no-new-privileges=false".into()],
            mounts: vec![
                bind("/etc", "/host/etc"),
                bind("/var/run/docker.sock", "/var/run/docker.sock"),
                bind("/srv/app", "/app"),
            ],
            ..Default::default()
        };
        let found = check(&info);
        let texts: Vec<&str> = found.iter().map(|f| f.text.as_str()).collect();
        assert_eq!(
            texts,
            vec![
                "privileged:true",
                "capabilities:[SYS_ADMIN,NET_ADMIN]",
                "seccomp=unconfined",
                "no-new-privileges:false",
                r#"mounts:[{"source":"/etc","destination":"/host/etc"},{"source":"/var/run/docker.sock","destination":"/var/run/docker.sock"}]"#,
            ]
        );
    }

    #[test]
    fn mount_sources_are_judged() {
        for risky in ["/", "/boot", "/dev/sda", "/etc", "/sys/fs/cgroup", "/var/run", "/proc", "/root/.ssh"] {
            assert!(sensitive_source(risky, "/x"), "{risky}");
        }
        assert!(sensitive_source("/var/lib/kubelet/pods", "/x"));
        assert!(sensitive_source("/run/containerd/containerd.sock", "/x"));
        for safe in ["/srv", "/home/u/app", "/etc/hosts", "/etc/resolv.conf", "/etcetera", "/tmp"] {
            assert!(!sensitive_source(safe, "/x"), "{safe}");
        }
        assert!(!sensitive_source("/tmp/h", "/etc/hostname"));
        let volume = Mount { kind: "volume".into(), ..bind("/var/lib/docker/volumes/v/_data", "/data") };
        assert!(kinds(&ContainerInfo { mounts: vec![volume], ..Default::default() }).contains(&"no-new-privileges"));
        assert_eq!(
            kinds(&ContainerInfo { mounts: vec![bind("/tmp/h", "/etc/hosts")], ..Default::default() }),
            vec!["no-new-privileges"]
        );
    }
}
