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

use crate::docker::ContainerInfo;
use crate::policy::Policy;

/// Bind-mounts the policy's protected files read-only in the container's mount namespace
/// (both kernel backends do: it covers whole directory trees).
fn read_only_files(container: &ContainerInfo, policy: &Policy) -> Result<(), EnforceError> {
    if policy.file_protection.is_empty() {
        return Ok(());
    }
    let paths: Vec<std::path::PathBuf> =
        policy.file_protection.iter().map(|p| p.trim_end_matches('/').into()).collect();
    let done = shield_enforce::protect_files(container.pid, &paths)
        .map_err(|e| EnforceError { backend: "read-only mounts".to_owned(), message: e.to_string() })?;
    tracing::info!(
        container = container.short_id(),
        policy = policy.name,
        protected = done.protected.len(),
        missing = ?done.missing,
        elapsed_us = done.elapsed.as_micros() as u64,
        "protected files made read-only"
    );
    Ok(())
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
}
