//! Enforce mode with BPF LSM programs (`shield_bpf::lsm`), on kernels that accept them:
//! the kernel refuses, with `EPERM`, the exec of any file whose (device, inode) is not on
//! the container's allow-list, and any write to a protected file's inode whatever the name
//! it is reached by (a hard link, `/proc/self/root`, another mount). The protected files
//! are also bind-mounted read-only, as with the fanotify backend: that covers directory
//! entries (whole trees, including files created later), which the LSM maps, holding the
//! inodes found when the container is protected, do not.
//!
//! Chosen before [`super::KernelEnforcer`]; where the kernel refuses LSM programs (EPERM
//! at load, as on most distribution kernels without `lsm=...,bpf`), the shield says why
//! and uses the fanotify backend.

use std::collections::HashMap;
use std::time::Duration;

use shield_bpf::lsm::{DenialKind, LsmEnforcer, LsmUnavailable};

use super::{EnforceError, Enforcer, ExecDenial, ReadOnlyFiles, widen};
use crate::docker::ContainerInfo;
use crate::policy::Policy;

/// What one protected container holds.
#[derive(Debug)]
struct Protected {
    cgroup: u64,
    slot: u32,
    /// Union of its enforce-mode policies' whitelists and protected files.
    whitelist: Vec<String>,
    files: Vec<String>,
}

/// The BPF LSM enforcer.
pub struct LsmBackend {
    lsm: LsmEnforcer,
    containers: HashMap<String, Protected>,
    next_slot: u32,
    files: ReadOnlyFiles,
}

impl std::fmt::Debug for LsmBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LsmBackend").field("containers", &self.containers.keys().collect::<Vec<_>>()).finish()
    }
}

fn error(e: &dyn std::fmt::Display) -> EnforceError {
    EnforceError { backend: "bpf-lsm".to_owned(), message: e.to_string() }
}

/// Puts a container's allow-list and protected files, as (device, inode) found in its root,
/// in the LSM maps.
fn fill_maps(lsm: &mut LsmEnforcer, entry: &Protected, pid: u32) -> Result<(), EnforceError> {
    let roots = [pid];
    // A whitelisted program missing from the image can never run: leaving it out is right.
    let ids = |paths: &[String]| -> Vec<(u64, u64)> {
        paths.iter().filter_map(|p| crate::rootfs::identity(&roots, p.trim_end_matches('/'))).collect()
    };
    let exec = (!entry.whitelist.is_empty()).then(|| ids(&entry.whitelist));
    lsm.protect(entry.cgroup, entry.slot, exec.as_deref(), &ids(&entry.files)).map_err(|e| error(&e))
}

impl LsmBackend {
    /// Loads and attaches the LSM programs; the error says why the kernel refused them.
    pub fn start() -> Result<LsmBackend, LsmUnavailable> {
        let lsm = LsmEnforcer::load(shield_bpf::lsm::DEFAULT_LSM_RING_BUFFER_BYTES)?;
        Ok(LsmBackend { lsm, containers: HashMap::new(), next_slot: 1, files: ReadOnlyFiles::default() })
    }
}

impl Enforcer for LsmBackend {
    fn name(&self) -> &str {
        "BPF LSM (exec allow-list and protected files by device and inode) and read-only protected files"
    }

    fn protect(&mut self, container: &ContainerInfo, policy: &Policy) -> Result<(), EnforceError> {
        if container.pid == 0 {
            return Err(error(&"the container has no running process"));
        }
        let cgroup = shield_bpf::process_cgroup_id(container.pid).map_err(|e| error(&e))?;
        let slot = self.next_slot;
        let entry = self.containers.entry(container.id.clone()).or_insert_with(|| Protected {
            cgroup,
            slot,
            whitelist: Vec::new(),
            files: Vec::new(),
        });
        if entry.slot == slot {
            self.next_slot += 1;
        }
        let changed =
            widen(&mut entry.whitelist, &policy.process_whitelist) | widen(&mut entry.files, &policy.file_protection);
        if !changed {
            return Ok(());
        }
        fill_maps(&mut self.lsm, entry, container.pid)?;
        self.files.add(container, policy)?;
        tracing::info!(container = container.short_id(), policy = policy.name, "BPF LSM enforcement in place");
        Ok(())
    }

    fn update(&mut self, container: &ContainerInfo, policies: &[Policy]) -> Result<(), EnforceError> {
        if policies.is_empty() {
            self.release(&container.id);
            return self.files.set(container, &[]);
        }
        let Some(entry) = self.containers.get_mut(&container.id) else {
            for policy in policies {
                self.protect(container, policy)?;
            }
            return Ok(());
        };
        // The maps of the container's slot are replaced entry by entry.
        entry.whitelist = super::union(policies, |p| &p.process_whitelist);
        entry.files = super::union(policies, |p| &p.file_protection);
        fill_maps(&mut self.lsm, entry, container.pid)?;
        let files = entry.files.clone();
        self.files.set(container, &files)
    }

    fn release(&mut self, container_id: &str) {
        self.files.forget(container_id);
        if let Some(p) = self.containers.remove(container_id)
            && let Err(e) = self.lsm.release(p.cgroup)
        {
            tracing::debug!(error = %e, "releasing a container from the LSM maps");
        }
    }

    fn blocks(&self) -> bool {
        true
    }

    fn refuses_writes_with_eperm(&self) -> bool {
        true
    }

    fn take_denials(&mut self) -> Vec<ExecDenial> {
        let denials = match self.lsm.poll_denials(Duration::ZERO) {
            Ok(d) => d,
            Err(e) => {
                tracing::warn!(error = %e, "cannot read the LSM refusals");
                return Vec::new();
            }
        };
        // Writes are reported from the syscall tracepoints, with their EPERM result.
        denials
            .into_iter()
            .filter(|d| d.kind == DenialKind::Exec)
            .filter_map(|d| {
                let container_id = self
                    .containers
                    .iter()
                    .find(|(_, p)| p.slot == d.slot)
                    .map(|(id, _)| id.clone())
                    .or_else(|| crate::attribution::container_id_of_pid(d.tgid))?;
                Some(ExecDenial {
                    container_id,
                    pid: d.tgid,
                    path: format!("the file with inode {} on device {}:{}", d.ino, d.dev.major(), d.dev.minor()),
                    reason: "not on the process whitelist",
                })
            })
            .collect()
    }
}
