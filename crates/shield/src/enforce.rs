//! The seam for enforcement (policy mode `enforce`). Detection calls an [`Enforcer`] when
//! a container that enforce-mode policies apply to appears and when it goes away; the
//! backends (fanotify exec permission events, read-only protected files) implement it in
//! their own crate. [`DetectOnly`] is the implementation of detect mode: it refuses
//! nothing, and every event says `blocked: false`.

use crate::docker::ContainerInfo;
use crate::policy::Policy;

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
