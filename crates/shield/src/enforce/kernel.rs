//! Enforce mode with the kernel holding the forbidden operation (crate `shield-enforce`):
//! one [`ExecGuard`] for the shield (a fanotify group per protected container) refuses the
//! exec of any program outside the enforce-mode policies' process whitelists, and
//! [`shield_enforce::protect_files`] makes their protected files read-only in the container's mount
//! namespace. See `docs/shield.md` (section "Enforce mode").

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::mpsc::Receiver;
use std::time::Duration;

use shield_enforce::{ContainerTarget, Decision, ExecGuard, ExecGuardConfig, FailMode, Reason};

use super::{EnforceError, Enforcer, ExecDenial, ReadOnlyFiles};
use crate::docker::ContainerInfo;
use crate::policy::Policy;

const NAME: &str = "fanotify exec allow-list and read-only protected files";

/// Settings of the [`KernelEnforcer`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EnforceConfig {
    /// Longest time an exec is held waiting for the allow-list decision.
    pub answer_timeout: Duration,
    /// `true`: an exec not decided in time (or held when the shield stops) is refused;
    /// `false`: it runs. A shield that dies is always fail-open (the kernel allows).
    pub fail_closed: bool,
}

impl Default for EnforceConfig {
    fn default() -> EnforceConfig {
        EnforceConfig { answer_timeout: Duration::from_millis(1000), fail_closed: true }
    }
}

/// The enforcer of `cguard shield` for enforce-mode policies.
pub struct KernelEnforcer {
    guard: ExecGuard,
    decisions: Receiver<Decision>,
    /// Containers under the exec guard, with the union of their enforce-mode whitelists
    /// (a program is allowed when one of the policies lists it, as in detection).
    allowed: HashMap<String, Vec<PathBuf>>,
    files: ReadOnlyFiles,
    /// The backend's name, with why a preferred backend is not used.
    name: String,
}

impl std::fmt::Debug for KernelEnforcer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KernelEnforcer").field("containers", &self.allowed.keys().collect::<Vec<_>>()).finish()
    }
}

impl KernelEnforcer {
    /// Starts the exec guard (needs root: `CAP_SYS_ADMIN` for fanotify permission events).
    pub fn start(config: EnforceConfig) -> Result<KernelEnforcer, EnforceError> {
        let fail_mode = if config.fail_closed { FailMode::FailClosed } else { FailMode::FailOpen };
        let (guard, decisions) = ExecGuard::start(ExecGuardConfig::new(config.answer_timeout, fail_mode))
            .map_err(|e| error("fanotify", &e))?;
        Ok(KernelEnforcer {
            guard,
            decisions,
            allowed: HashMap::new(),
            files: ReadOnlyFiles::default(),
            name: NAME.to_owned(),
        })
    }

    /// The same enforcer, its name followed by `note` (why BPF LSM is not used).
    pub fn noting(mut self, note: &str) -> KernelEnforcer {
        self.name = format!("{NAME} ({note})");
        self
    }

    fn protect_execs(&mut self, container: &ContainerInfo, policy: &Policy) -> Result<(), EnforceError> {
        let list = self.allowed.entry(container.id.clone()).or_default();
        let before = list.len();
        for p in &policy.process_whitelist {
            let p = PathBuf::from(p);
            if !list.contains(&p) {
                list.push(p);
            }
        }
        if before > 0 {
            if list.len() == before {
                return Ok(());
            }
            // A second enforce-mode policy widens the list: protect again with the union.
            let _ = self.guard.release(&container.id);
        }
        let target = ContainerTarget { id: container.id.clone(), pid: container.pid, allowed: list.clone() };
        match self.guard.protect(target) {
            Ok(report) => {
                tracing::info!(
                    container = container.short_id(),
                    policy = policy.name,
                    mounts = report.mounts.marked.len(),
                    skipped = report.mounts.skipped.len(),
                    "exec allow-list enforced"
                );
                Ok(())
            }
            Err(e) => {
                self.allowed.remove(&container.id);
                Err(error("fanotify", &e))
            }
        }
    }
}

fn error(backend: &str, e: &dyn std::fmt::Display) -> EnforceError {
    EnforceError { backend: backend.to_owned(), message: e.to_string() }
}

/// The executed file as a path inside the container. The guard names the file from its
/// descriptor in the shield's own mount namespace, where a Docker container's root is its
/// overlay `merged` directory; other mounts (volumes, tmpfs) are named from their own root.
pub fn container_path(host_view: &str) -> String {
    match host_view.find("/merged/") {
        Some(i) if host_view.starts_with("/var/lib/docker/") => host_view[i + "/merged".len()..].to_owned(),
        _ => host_view.to_owned(),
    }
}

fn reason_text(reason: Reason) -> &'static str {
    match reason {
        Reason::NotAllowed => "not on the process whitelist",
        Reason::Timeout => "no decision in time (fail-closed)",
        Reason::GuardStopped => "the shield stopped while it was held (fail-closed)",
        Reason::Error => "the file could not be examined (fail-closed)",
        Reason::AllowListed | Reason::Interpreter | Reason::Released => "allowed",
    }
}

impl Enforcer for KernelEnforcer {
    fn name(&self) -> &str {
        &self.name
    }

    fn protect(&mut self, container: &ContainerInfo, policy: &Policy) -> Result<(), EnforceError> {
        if container.pid == 0 {
            return Err(error("enforce", &"the container has no running process"));
        }
        // The exec guard first: once the files are read-only, execs are already held.
        let execs = if policy.process_whitelist.is_empty() { Ok(()) } else { self.protect_execs(container, policy) };
        self.files.add(container, policy)?;
        execs
    }

    fn release(&mut self, container_id: &str) {
        self.files.forget(container_id);
        if self.allowed.remove(container_id).is_some()
            && let Err(e) = self.guard.release(container_id)
        {
            tracing::debug!(error = %e, "releasing a container's exec allow-list");
        }
    }

    fn update(&mut self, container: &ContainerInfo, policies: &[Policy]) -> Result<(), EnforceError> {
        let whitelist: Vec<PathBuf> =
            super::union(policies, |p| &p.process_whitelist).into_iter().map(PathBuf::from).collect();
        let execs = if whitelist.is_empty() {
            if self.allowed.remove(&container.id).is_some() {
                self.guard.release(&container.id).map_err(|e| error("fanotify", &e))?;
            }
            Ok(())
        } else if self.allowed.contains_key(&container.id) {
            // Swapped in place: the container's execs stay held meanwhile.
            self.guard.set_allowed(&container.id, whitelist.clone()).map_err(|e| error("fanotify", &e))?;
            self.allowed.insert(container.id.clone(), whitelist);
            Ok(())
        } else {
            // The union, under the first policy's name (for the log).
            let process_whitelist = whitelist.iter().map(|p| p.to_string_lossy().into_owned()).collect();
            self.protect_execs(container, &Policy { process_whitelist, ..policies[0].clone() })
        };
        self.files.set(container, &super::union(policies, |p| &p.file_protection))?;
        execs
    }

    fn blocks(&self) -> bool {
        true
    }

    fn take_denials(&mut self) -> Vec<ExecDenial> {
        self.decisions
            .try_iter()
            .filter(|d| !d.allowed)
            .map(|d| ExecDenial {
                container_id: d.container_id,
                pid: d.pid,
                path: container_path(&d.path.to_string_lossy()),
                reason: reason_text(d.reason),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overlay_paths_are_named_inside_the_container() {
        assert_eq!(container_path("/var/lib/docker/overlay2/0a1b/merged/usr/bin/id"), "/usr/bin/id");
        assert_eq!(container_path("/var/lib/docker/overlay2/0a1b/merged/srv/merged/x"), "/srv/merged/x");
        assert_eq!(container_path("/tmp/x"), "/tmp/x");
        assert_eq!(container_path("/data/merged/x"), "/data/merged/x");
    }

    #[test]
    fn only_refusals_have_a_refusal_text() {
        assert_eq!(reason_text(Reason::NotAllowed), "not on the process whitelist");
        assert!(reason_text(Reason::Timeout).contains("fail-closed"));
        assert_eq!(reason_text(Reason::AllowListed), "allowed");
    }
}
