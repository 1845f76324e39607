//! The seam for enforcement (policy mode `enforce`). Detection calls an [`Enforcer`] when
//! a container that enforce-mode policies apply to appears and when it goes away; the
//! backends (fanotify exec permission events, read-only protected files) implement it in
//! their own crate. [`DetectOnly`] is the implementation of detect mode: it refuses
//! nothing, and every event says `blocked: false`. [`KernelEnforcer`] refuses with the
//! `shield-enforce` backends: an exec allow-list held by fanotify permission events and
//! protected files bind-mounted read-only in the container. [`LsmBackend`] refuses in the
//! kernel with BPF LSM programs where the kernel accepts them; [`start_kernel_enforcer`]
//! picks it first and falls back to [`KernelEnforcer`], saying why.

mod kernel;
mod lsm;

pub use kernel::{EnforceConfig, KernelEnforcer};
pub use lsm::LsmBackend;

/// The enforcer for enforce-mode policies: BPF LSM where the kernel lets its programs load,
/// otherwise fanotify and read-only mounts (whose [`Enforcer::name`] then says why LSM is
/// not used). `config` applies to the fanotify backend: the LSM programs decide in the
/// kernel, without waiting for the shield.
pub fn start_kernel_enforcer(config: EnforceConfig) -> Result<Box<dyn Enforcer>, EnforceError> {
    match LsmBackend::start() {
        Ok(backend) => Ok(Box::new(backend)),
        Err(why) => {
            tracing::info!(reason = %why, "BPF LSM cannot be used: enforcing with fanotify and read-only mounts");
            let short = match why.errno {
                Some(1) => format!("BPF LSM refused at {} (EPERM)", why.stage),
                _ => format!("BPF LSM not usable: {}", why.message),
            };
            Ok(Box::new(KernelEnforcer::start(config)?.noting(&short)))
        }
    }
}

use std::collections::HashMap;

use shield_enforce::ReadOnlyMount;

use crate::docker::ContainerInfo;
use crate::policy::Policy;

/// The protected files both kernel backends bind-mount read-only in a container's mount
/// namespace (that covers whole directory trees), with the mounts they placed, so that a
/// policy change can make writable again what is no longer protected.
#[derive(Debug, Default)]
struct ReadOnlyFiles {
    placed: HashMap<String, Vec<ReadOnlyMount>>,
}

fn paths(list: &[String]) -> Vec<std::path::PathBuf> {
    list.iter().map(|p| p.trim_end_matches('/').into()).collect()
}

fn files_error(e: &dyn std::fmt::Display) -> EnforceError {
    EnforceError { backend: "read-only mounts".to_owned(), message: e.to_string() }
}

impl ReadOnlyFiles {
    /// Makes the policy's protected files read-only too (those already read-only stay so).
    fn add(&mut self, container: &ContainerInfo, policy: &Policy) -> Result<(), EnforceError> {
        if policy.file_protection.is_empty() {
            return Ok(());
        }
        let placed = self.placed.entry(container.id.clone()).or_default();
        let done = shield_enforce::reprotect_files(container.pid, &paths(&policy.file_protection), placed)
            .map_err(|e| files_error(&e))?;
        let protected = done.mounts.len();
        for mount in done.mounts {
            if !placed.contains(&mount) {
                placed.push(mount);
            }
        }
        tracing::info!(
            container = container.short_id(),
            policy = policy.name,
            protected,
            missing = ?done.missing,
            elapsed_us = done.elapsed.as_micros() as u64,
            "protected files made read-only"
        );
        Ok(())
    }

    /// Makes exactly `wanted` read-only in a running container: files newly protected are
    /// mounted first, then the mounts of files no longer protected are taken away.
    fn set(&mut self, container: &ContainerInfo, wanted: &[String]) -> Result<(), EnforceError> {
        let placed = self.placed.remove(&container.id).unwrap_or_default();
        if wanted.is_empty() && placed.is_empty() {
            return Ok(());
        }
        let done = shield_enforce::reprotect_files(container.pid, &paths(wanted), &placed);
        let kept = match done {
            Ok(done) => done.mounts,
            Err(e) => {
                self.placed.insert(container.id.clone(), placed);
                return Err(files_error(&e));
            }
        };
        let stale: Vec<ReadOnlyMount> = placed.into_iter().filter(|m| !kept.contains(m)).collect();
        if !kept.is_empty() {
            self.placed.insert(container.id.clone(), kept);
        }
        if !stale.is_empty() {
            let released = shield_enforce::release_files(container.pid, &stale).map_err(|e| files_error(&e))?;
            tracing::info!(container = container.short_id(), released = ?released, "files no longer protected: writable again");
        }
        Ok(())
    }

    /// Forgets a container that is gone (its mounts went with its namespace).
    fn forget(&mut self, id: &str) {
        self.placed.remove(id);
    }
}

/// Adds the entries of `more` missing from `list`; whether any was.
fn widen(list: &mut Vec<String>, more: &[String]) -> bool {
    let before = list.len();
    for m in more {
        if !list.contains(m) {
            list.push(m.clone());
        }
    }
    list.len() > before
}

/// The union of `field` over `policies`, in order.
fn union(policies: &[Policy], field: impl Fn(&Policy) -> &[String]) -> Vec<String> {
    let mut all = Vec::new();
    for p in policies {
        widen(&mut all, field(p));
    }
    all
}

/// An enforcement backend that could not protect a container.
#[derive(Debug, thiserror::Error)]
#[error("{backend}: {message}")]
pub struct EnforceError {
    pub backend: String,
    pub message: String,
}

/// Refuses, inside a container, what an enforce-mode policy forbids.
pub trait Enforcer: Send {
    /// A short name for logs (`detect-only`, `fanotify`, ...).
    fn name(&self) -> &str;

    /// Starts protecting `container` with `policy` (called once per policy in `enforce`
    /// mode that applies to the container, before or as soon as possible after its first
    /// process runs).
    fn protect(&mut self, container: &ContainerInfo, policy: &Policy) -> Result<(), EnforceError>;

    /// Stops protecting a container (it died or was removed).
    fn release(&mut self, container_id: &str);

    /// Applies new policies to a running container protected before: `policies` are the
    /// enforce-mode policies that now apply to it (none: its protection ends, and files it
    /// no longer protects are writable again). The container is not left unguarded
    /// meanwhile where the backend can avoid it.
    fn update(&mut self, container: &ContainerInfo, policies: &[Policy]) -> Result<(), EnforceError>;

    /// Whether this backend refuses operations at all: when it does not, events are
    /// reported with `blocked: false`.
    fn blocks(&self) -> bool {
        false
    }

    /// Whether a protected file's write refused with `EPERM` was refused by this backend
    /// (the LSM programs); the read-only mounts refuse with `EROFS` or `EBUSY`.
    fn refuses_writes_with_eperm(&self) -> bool {
        false
    }

    /// The execs refused since the last call. A refused exec never reaches the kernel's
    /// exec tracepoint, so its event is made from this denial.
    fn take_denials(&mut self) -> Vec<ExecDenial> {
        Vec::new()
    }
}

/// An exec the enforcer refused (`execve` failed with `EPERM` in the calling process).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecDenial {
    /// The container whose allow-list refused it.
    pub container_id: String,
    /// The process that called `execve` (host pid namespace).
    pub pid: u32,
    /// The refused file, as a path inside the container when it could be told.
    pub path: String,
    /// Why: `not on the allow-list`, `no decision in time`, ...
    pub reason: &'static str,
}

/// Detect mode: protects nothing.
#[derive(Debug, Default)]
pub struct DetectOnly;

impl Enforcer for DetectOnly {
    fn name(&self) -> &str {
        "detect-only"
    }

    fn protect(&mut self, container: &ContainerInfo, policy: &Policy) -> Result<(), EnforceError> {
        tracing::debug!(container = container.short_id(), policy = policy.name, "detect only: nothing to protect");
        Ok(())
    }

    fn release(&mut self, _container_id: &str) {}

    fn update(&mut self, _container: &ContainerInfo, _policies: &[Policy]) -> Result<(), EnforceError> {
        Ok(())
    }
}
