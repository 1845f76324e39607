//! Protection before a container's first process runs: `cguard-runc`, a wrapper a
//! container engine uses as its OCI runtime in place of `runc`, asks the shield to protect
//! each container at `runc start`, and runs the real `runc start` only once the shield has
//! answered.
//!
//! At `runc start` the container is fully set up (namespaces, cgroup, root filesystem,
//! mounts) and its init process is waiting to execute the user's program. The shield puts
//! the container's cgroup in its kernel maps, places its fanotify marks and read-only
//! mounts, checks its environment, and answers. So the container's first exec is already
//! attributed and under its policy: there is no start window.
//!
//! - [`wrapper`]: the `cguard-runc` side (the `cguard` binary run under that name);
//! - [`listener`]: the shield's side, a unix socket only root can use;
//! - [`bundle`]: what a container's OCI `config.json` says of it (Kubernetes annotations of
//!   containerd and CRI-O, mounts, capabilities), for containers the Docker engine does not
//!   know;
//! - [`setup`]: what the runtime does before the container's first program (its init
//!   process), which no policy judges.
//!
//! The exchange on the socket is one JSON line each way after a greeting: the shield
//! greets with `{"failClosed":BOOL}`, the wrapper sends a [`StartRequest`], the shield
//! answers with an [`Answer`].

pub mod bundle;
pub mod listener;
pub mod setup;
pub mod wrapper;

use serde::{Deserialize, Serialize};

/// Where the shield listens for the wrapper, unless told otherwise.
pub const DEFAULT_SOCKET: &str = "/run/cguard/shield.sock";
/// The environment variable that names another socket (for the wrapper).
pub const SOCKET_ENV: &str = "CGUARD_SHIELD_SOCKET";
/// The name the `cguard` binary answers to as the runtime wrapper.
pub const WRAPPER_NAME: &str = "cguard-runc";

/// The shield's first line: what the wrapper does if no answer comes in time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Greeting {
    pub fail_closed: bool,
}

/// A container about to run its first program.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StartRequest {
    /// The runtime's container id (Docker's, containerd's or CRI-O's).
    pub id: String,
    /// The host pid of the container's init process.
    pub pid: u32,
    /// The container's OCI bundle directory.
    pub bundle: String,
}

/// The shield's answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Answer {
    /// `false`: the container must not start (its policy could not be enforced, and the
    /// shield is fail-closed).
    pub start: bool,
    /// Whether an enforce-mode policy now protects the container.
    pub enforced: bool,
    /// Why the container may not start, or what went wrong.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub message: String,
}

/// Whether a runtime container id is one the shield accepts: what Docker, containerd and
/// CRI-O use (letters and digits, then also `-`, `_`, `.`), at most 128 characters.
pub fn is_valid_id(id: &str) -> bool {
    id.len() <= 128
        && id.bytes().next().is_some_and(|b| b.is_ascii_alphanumeric())
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}
