//! Container environment checks (SPEC 4), made from a container's configuration at
//! create and start: risk notices, not attacks. Each finding's text is the seed's:
//! `privileged:true`, `capabilities:[…]`, `seccomp=unconfined`, `no-new-privileges:false`,
//! `mounts:[{"source":…,"destination":…}]`.
//!
//! `no-new-privileges:false` is a reminder about an explicit choice: it is reported when the
//! configuration asks for it (`--security-opt no-new-privileges=false`), not for a container
//! that left the runtime's default, unless [`Settings::report_default_no_new_privileges`]
//! asks for defaults too. Every `docker run` leaves it at its default: reporting that would
//! flag every container on a node, and alert fatigue is how a runtime tool gets switched off.

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

/// What the checks report beyond the configuration's explicit choices.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Settings {
    /// Report `no-new-privileges:false` for a container that did not set no-new-privileges
    /// at all (the runtime's default), not only for one that set it to false.
    pub report_default_no_new_privileges: bool,
}

/// What a container's configuration says about no-new-privileges.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoNewPrivileges {
    /// Set (`no-new-privileges`, `no-new-privileges=true`, OCI `noNewPrivileges: true`).
    Set,
    /// Explicitly turned off (`no-new-privileges=false`).
    Unset,
    /// Not said: the runtime's default (off, unless the engine's own default is on). An OCI
    /// spec has only the resulting flag, so a containerd or CRI-O container (Kubernetes'
    /// `allowPrivilegeEscalation: true`, explicit or not) is always here when it is off.
    Default,
}

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

/// Go's `strconv.ParseBool`, which the Docker engine parses the option's value with.
fn go_bool(value: &str) -> Option<bool> {
    match value {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

/// The container's no-new-privileges setting, read from `HostConfig.SecurityOpt` as the
/// engine reads it: `no-new-privileges` alone is true, `=VALUE` (or the old `:VALUE`) is
/// parsed as a Go boolean, and the last occurrence wins.
pub fn no_new_privileges(info: &ContainerInfo) -> NoNewPrivileges {
    let mut setting = NoNewPrivileges::Default;
    for opt in &info.security_opt {
        let (key, value) = opt.split_once(['=', ':']).map(|(k, v)| (k, Some(v))).unwrap_or((opt.as_str(), None));
        if key != "no-new-privileges" {
            continue;
        }
        match value.map(go_bool) {
            None | Some(Some(true)) => setting = NoNewPrivileges::Set,
            Some(Some(false)) => setting = NoNewPrivileges::Unset,
            // The engine refuses to create such a container.
            Some(None) => {}
        }
    }
    setting
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
pub fn check(info: &ContainerInfo, settings: &Settings) -> Vec<EnvFinding> {
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
    match no_new_privileges(info) {
        NoNewPrivileges::Unset => {
            out.push(EnvFinding { kind: "no-new-privileges", text: "no-new-privileges:false".into() })
        }
        NoNewPrivileges::Default if settings.report_default_no_new_privileges => out.push(EnvFinding {
            kind: "no-new-privileges",
            text: "no-new-privileges:false (not set: the runtime's default)".into(),
        }),
        NoNewPrivileges::Set | NoNewPrivileges::Default => {}
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

    const DEFAULTS: Settings = Settings { report_default_no_new_privileges: false };
    const REPORT_DEFAULTS: Settings = Settings { report_default_no_new_privileges: true };

    fn kinds(info: &ContainerInfo) -> Vec<&'static str> {
        check(info, &DEFAULTS).iter().map(|f| f.kind).collect()
    }

    fn opts(opts: &[&str]) -> ContainerInfo {
        ContainerInfo { security_opt: opts.iter().map(|o| (*o).to_owned()).collect(), ..Default::default() }
    }

    #[test]
    fn a_hardened_container_passes() {
        for set in ["no-new-privileges", "no-new-privileges:true", "no-new-privileges=true", "no-new-privileges=1"] {
            assert!(check(&opts(&[set]), &REPORT_DEFAULTS).is_empty(), "{set}");
        }
    }

    #[test]
    fn a_default_container_passes_unless_defaults_are_reported() {
        let info = ContainerInfo::default();
        assert!(check(&info, &DEFAULTS).is_empty(), "the runtime's default is not the container's choice");
        assert!(check(&opts(&["seccomp=default.json"]), &DEFAULTS).is_empty());
        let found = check(&info, &REPORT_DEFAULTS);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].kind, "no-new-privileges");
        assert_eq!(found[0].text, "no-new-privileges:false (not set: the runtime's default)");
    }

    #[test]
    fn no_new_privileges_is_read_as_the_engine_reads_it() {
        assert_eq!(no_new_privileges(&opts(&[])), NoNewPrivileges::Default);
        for unset in
            ["no-new-privileges=false", "no-new-privileges:false", "no-new-privileges=0", "no-new-privileges=F"]
        {
            assert_eq!(no_new_privileges(&opts(&[unset])), NoNewPrivileges::Unset, "{unset}");
            assert_eq!(kinds(&opts(&[unset])), vec!["no-new-privileges"], "{unset}");
            let text = &check(&opts(&[unset]), &DEFAULTS)[0].text;
            assert_eq!(text, "no-new-privileges:false", "the seed's text for an explicit choice");
        }
        // The last occurrence wins; a value the engine would refuse changes nothing.
        assert_eq!(no_new_privileges(&opts(&["no-new-privileges", "no-new-privileges=false"])), NoNewPrivileges::Unset);
        assert_eq!(
            no_new_privileges(&opts(&["no-new-privileges=false", "no-new-privileges=true"])),
            NoNewPrivileges::Set
        );
        assert_eq!(no_new_privileges(&opts(&["no-new-privileges=maybe"])), NoNewPrivileges::Default);
        assert_eq!(no_new_privileges(&opts(&["no-new-privilegesx=false"])), NoNewPrivileges::Default);
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
        let found = check(&info, &DEFAULTS);
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
        assert!(kinds(&ContainerInfo { mounts: vec![volume], ..Default::default() }).is_empty());
        assert!(kinds(&ContainerInfo { mounts: vec![bind("/tmp/h", "/etc/hosts")], ..Default::default() }).is_empty());
    }
}
