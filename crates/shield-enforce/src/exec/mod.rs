//! Exec allow-lists enforced with fanotify permission events (`FAN_OPEN_EXEC_PERM`).
//!
//! The kernel raises the event when `execve` opens the program file (and again for the
//! script interpreter of a `#!` file and for the ELF program interpreter, the dynamic
//! loader) and holds the exec until the guard answers. Nothing of the denied program runs:
//! `execve` fails with `EPERM` in the calling process.

mod allow;
mod guard;
mod marks;

use std::path::PathBuf;
use std::time::Duration;

pub use guard::{ExecGuard, ProtectReport};
pub use marks::MarkedMounts;

/// What to answer when no decision is ready in time, or when the guard stops with execs
/// still held.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailMode {
    /// Let the exec run.
    FailOpen,
    /// Refuse the exec (`EPERM`).
    FailClosed,
}

/// Settings of an [`ExecGuard`].
#[derive(Debug, Clone)]
pub struct ExecGuardConfig {
    /// Longest time an exec is held, counted from when the guard reads the event. When the
    /// decision is not ready by then, the guard answers with `fail_mode`.
    pub answer_timeout: Duration,
    pub fail_mode: FailMode,
    /// Test hook: a delay added before every decision, to exercise the fail modes. `None`
    /// in production.
    pub slow_answer: Option<Duration>,
}

impl ExecGuardConfig {
    pub fn new(answer_timeout: Duration, fail_mode: FailMode) -> ExecGuardConfig {
        ExecGuardConfig { answer_timeout, fail_mode, slow_answer: None }
    }
}

/// A container to protect.
#[derive(Debug, Clone)]
pub struct ContainerTarget {
    /// The container id, reported in every [`Decision`].
    pub id: String,
    /// Any process inside the container, as a pid of the host's pid namespace.
    pub pid: u32,
    /// Programs allowed to run, as paths inside the container.
    pub allowed: Vec<PathBuf>,
}

/// Why an exec was allowed or denied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    /// The file is the one found at an allowed path.
    AllowListed,
    /// The file is the ELF program interpreter of the program this process was just
    /// allowed to exec.
    Interpreter,
    /// The file is not on the allow-list.
    NotAllowed,
    /// No decision within `answer_timeout`: the fail mode answered.
    Timeout,
    /// The guard stopped while the exec was held: the fail mode answered.
    GuardStopped,
    /// The container was released while the exec was held: allowed.
    Released,
    /// The executed file could not be examined: the fail mode answered.
    Error,
}

impl Reason {
    /// Whether the allow-list lets the exec run (the fail mode and `release` answer for
    /// the other reasons).
    pub(crate) fn allows(self) -> bool {
        matches!(self, Reason::AllowListed | Reason::Interpreter)
    }
}

/// One answered exec.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub container_id: String,
    /// The process that called `execve` (host pid namespace).
    pub pid: u32,
    /// The executed file: its allowed path inside the container when the allow-list
    /// answered at once (an unchanged allowed file, or the interpreter of one), otherwise
    /// as the guard sees it (`/proc/self/fd` of the event's descriptor).
    pub path: PathBuf,
    pub dev: u64,
    pub ino: u64,
    pub allowed: bool,
    pub reason: Reason,
    /// From reading the event to writing the answer.
    pub latency: Duration,
}
