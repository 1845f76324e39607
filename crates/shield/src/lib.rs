//! The shield's user space: it attributes the kernel events of `shield-bpf` to containers,
//! applies the detection rules of SPEC 4 and writes runtime events.
//!
//! - [`attribution`]: process → container id (cgroup paths of Docker, containerd, CRI-O);
//! - [`docker`]: the engine API over its unix socket (inspect, list, `/events`);
//! - [`containerd`]: containerd's API, for containers the engine does not know;
//! - [`containers`]: the container cache, with the policies that apply to each container;
//! - [`policy`]: the standalone policy file, validated with `api::policy`;
//! - rules: [`environment`] (configuration checks), [`miner`] (miner behaviour),
//!   [`paths`] (protected files, escape paths, bind mounts to host critical files),
//!   [`scan`] (executed files through the `detect` malware engine, off the event loop);
//! - [`finding`]: category, type, description and solution of each rule's result;
//! - [`output`]: `api::shield::RuntimeEvent`s, written to an [`output::EventSink`];
//! - [`enforce`]: the [`Enforcer`] seam for enforce mode ([`DetectOnly`] in detect mode,
//!   [`KernelEnforcer`] to refuse with fanotify and read-only mounts);
//! - [`spool`]: the durable event spool of connected mode; [`client`]: the server API;
//!   [`connected`]: enrolment, heartbeats, policy updates and exactly-once delivery;
//! - [`runtime`]: `cguard-runc`, the runtime wrapper that holds a container's start
//!   until the shield has protected it, and OCI bundles (containerd, CRI-O attribution);
//! - [`agent::run`]: the loop that ties them together (`cguard shield`).
//!
//! `docs/shield.md` describes what is detected and the event format.

pub mod agent;
pub mod attribution;
pub mod client;
pub mod connected;
pub mod containerd;
pub mod containers;
pub mod docker;
pub mod enforce;
pub mod engines;
pub mod environment;
mod error;
pub mod finding;
pub mod local_scan;
pub mod miner;
pub mod output;
pub mod paths;
pub mod policy;
mod private_file;
pub mod proctree;
pub mod rootfs;
pub mod runtime;
pub mod scan;
pub mod spool;

pub use agent::{HIGH_RISK_SYSCALLS, ShieldConfig, Summary, run};
pub use enforce::{DetectOnly, EnforceConfig, EnforceError, Enforcer, ExecDenial, KernelEnforcer};
pub use error::{DockerError, PolicyError, ShieldError};
pub use policy::{Mode, Policy, load_policy_file, normalise_image, parse_policies};
