//! What a rule found: the event's category, type, description and solution, in the words
//! of SPEC 4 (five categories: escape, syscall, process, file, environment).

use crate::environment::EnvFinding;
use crate::paths::EscapeWrite;

/// A rule's result, before the container, process tree, id and time are added.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// `escape`, `syscall`, `process`, `file` or `environment`.
    pub category: &'static str,
    /// The event type (`abnormal-program`, `ptrace`, `release-agent-write`, ...).
    pub kind: String,
    pub description: String,
    pub solution: String,
}

fn finding(category: &'static str, kind: impl Into<String>, description: String, solution: &str) -> Finding {
    Finding { category, kind: kind.into(), description, solution: solution.to_owned() }
}

/// An executed program that no associated whitelist lists.
pub fn abnormal_program(path: &str, policies: &[String]) -> Finding {
    finding(
        "process",
        "abnormal-program",
        format!(
            "container abnormal program: {path} was executed but is not on the process whitelist of policy {}",
            policies.join(", ")
        ),
        "Check whether the program is part of the application. If it is, add it to the policy's process \
         whitelist; if not, investigate how it got into the container, stop the container and rebuild it \
         from a trusted image.",
    )
}

/// An executed file that matches a malware signature or rule.
pub fn malicious_file(path: &str, rule: &str, category: &str, what: &str) -> Finding {
    finding(
        "process",
        "malicious-program",
        format!("container malicious program: the executed file {path} matches {rule} ({category}): {what}"),
        "Stop the container, keep a copy of the file for analysis, find how it was introduced (image layer, \
         download, compromised dependency) and redeploy from a clean image; rotate credentials the container \
         could reach.",
    )
}

/// A process that behaves like a crypto-currency miner.
pub fn miner_behaviour(path: &str, reason: &str) -> Finding {
    finding(
        "process",
        "malicious-program",
        format!("container malicious program: {path} behaves like a crypto-currency miner ({reason})"),
        "Stop the container and remove the miner; find how it was started (exposed service, weak \
         credentials, malicious image) and redeploy from a clean image.",
    )
}

/// A write to a file on an associated protection list.
pub fn file_modified(path: &str, operation: &str, policy: &str) -> Finding {
    finding(
        "file",
        "file-modified",
        format!("file abnormality: {path}, protected by policy {policy}, was modified ({operation})"),
        "Check whether the change was expected (an update or a maintenance task). If not, restore the file \
         from the image, find the process that changed it in the process tree, and consider enforce mode \
         to make protected files read-only.",
    )
}

/// A high-risk system call.
pub fn syscall(name: &str, refused_before_entry: Option<i64>) -> Finding {
    let seen = match refused_before_entry {
        Some(ret) => format!(
            "refused before entry by the container's seccomp profile (return value {ret}); the attempt was seen \
             at syscall exit"
        ),
        None => "it passed seccomp and reached the kernel".to_owned(),
    };
    finding(
        "syscall",
        name,
        format!("high-risk system call: {name} was called; {seen}"),
        "Find out why the process needs this call. Keep the runtime's default seccomp profile (or a stricter \
         one), do not add capabilities the application does not need, and investigate the process if the \
         call is not part of its normal behaviour.",
    )
}

/// A write to a file whose modification is a known container escape technique.
pub fn escape_write(kind: EscapeWrite, path: &str) -> Finding {
    let (kind, what) = match kind {
        EscapeWrite::ReleaseAgent => (
            "release-agent-write",
            "write to a cgroup release_agent, which makes the host run a program (cgroup release_agent escape)",
        ),
        EscapeWrite::NotifyOnRelease => {
            ("notify-on-release-write", "write to notify_on_release, which arms a cgroup release_agent")
        }
        EscapeWrite::CorePattern => {
            ("core-pattern-write", "write to core_pattern, which makes the host run a program when a process crashes")
        }
        EscapeWrite::ProcMem => ("proc-mem-write", "write to the memory of another process through /proc/PID/mem"),
        EscapeWrite::OwnMem => (
            "dirty-cow",
            "a process opened its own memory for writing through /proc/self/mem, the path of the Dirty COW exploit \
             (CVE-2016-5195) to write over read-only memory",
        ),
        EscapeWrite::ProcExe => (
            "runc-exe-overwrite",
            "write to a process's executable through /proc/*/exe (runc /proc/self/exe overwrite, CVE-2019-5736)",
        ),
    };
    finding(
        "escape",
        kind,
        format!("escape exploit attack: {what}: {path}"),
        "Treat the container as compromised: stop it, preserve it for analysis and redeploy from a clean \
         image. Do not run containers privileged or with CAP_SYS_ADMIN, keep /proc and /sys masked and \
         read-only, and keep the container runtime and kernel up to date.",
    )
}

/// `open_by_handle_at`, the "shocker" escape.
pub fn shocker(refused_before_entry: Option<i64>) -> Finding {
    let outcome = match refused_before_entry {
        Some(ret) => format!(" (refused by seccomp, return value {ret})"),
        None => String::new(),
    };
    finding(
        "escape",
        "shocker",
        format!(
            "escape exploit attack: open_by_handle_at was called{outcome}; the \"shocker\" exploit uses it to open \
             host files by handle"
        ),
        "Treat the container as compromised. Drop CAP_DAC_READ_SEARCH, keep the default seccomp profile, and \
         investigate the process that made the call.",
    )
}

/// A program executed from memory (memfd) or from a deleted file.
pub fn fileless_exec(memfd: bool, filename: &str, exe_name: &str) -> Finding {
    let (kind, what) = if memfd {
        ("memfd-exec", format!("a program was executed from memory (memfd {exe_name}) through {filename}"))
    } else {
        ("deleted-file-exec", format!("a program was executed from a deleted file ({exe_name}) through {filename}"))
    };
    finding(
        "escape",
        kind,
        format!("escape exploit attack: {what}; exploits and droppers run payloads this way to leave no file"),
        "Investigate the process and its parents in the process tree; fileless execution is rarely legitimate \
         in a container. Stop the container and redeploy from a clean image if it is not expected.",
    )
}

/// A container process reaching a host critical file through a mount.
pub fn host_file_access(container_path: &str, host_path: &str, how: &str) -> Finding {
    finding(
        "escape",
        "escape-file-access",
        format!(
            "escape file access: the container {how} {container_path}, which is the host's {host_path} (through a \
             bind mount)"
        ),
        "Remove the mount of the host directory from the container, or mount only what the application needs, \
         read-only. Check the host file for changes.",
    )
}

/// A risky container configuration.
pub fn environment(env: &EnvFinding) -> Finding {
    let solution = match env.kind {
        "privileged" => "Run the container without --privileged; grant only the capabilities and devices it needs.",
        "capabilities" => "Drop the added capabilities the application does not need (--cap-drop, no --cap-add).",
        "seccomp-unconfined" => "Run the container with the runtime's default seccomp profile or a stricter one.",
        "no-new-privileges" => {
            "Run the container with --security-opt no-new-privileges so that setuid programs cannot gain privileges."
        }
        _ => {
            "Do not mount host system directories or container runtime sockets into containers; mount only what \
              the application needs, read-only."
        }
    };
    finding("environment", env.kind, env.text.clone(), solution)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn findings_carry_category_and_type() {
        assert_eq!(syscall("ptrace", None).kind, "ptrace");
        assert!(syscall("unshare", Some(-1)).description.contains("refused before entry"));
        assert_eq!(escape_write(EscapeWrite::ProcExe, "/proc/self/exe").kind, "runc-exe-overwrite");
        let cow = escape_write(EscapeWrite::OwnMem, "/proc/self/mem");
        assert_eq!((cow.category, cow.kind.as_str()), ("escape", "dirty-cow"));
        assert!(cow.description.contains("Dirty COW") && cow.description.ends_with(": /proc/self/mem"));
        assert_eq!(fileless_exec(true, "/proc/self/fd/3", "memfd:x").kind, "memfd-exec");
        assert_eq!(fileless_exec(false, "/proc/self/fd/3", "x").kind, "deleted-file-exec");
        let env = EnvFinding { kind: "privileged", text: "privileged:true".into() };
        assert_eq!(environment(&env).description, "privileged:true");
        for f in [abnormal_program("/x", &["p".into()]), file_modified("/etc/passwd", "open", "p"), shocker(None)] {
            assert!(!f.solution.is_empty() && !f.description.is_empty());
            assert!(api::shield::CATEGORIES.contains(&f.category));
        }
    }
}
