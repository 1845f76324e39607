//! The shield's eBPF programs and their loader.
//!
//! The programs (C, CO-RE, in `bpf/`) are compiled by clang when this crate builds and
//! embedded in it. [`Probes::load`] loads them with aya, fills their filter maps and attaches
//! them to tracepoints; which entry program is used depends on [`SyscallHooks`]:
//!
//! | program | tracepoint | events |
//! |---|---|---|
//! | `shield_exec` | `tp_btf/sched_process_exec` | [`Event::Exec`] |
//! | `shield_exit` | `tp_btf/sched_process_exit` | [`Event::Exit`] (last thread of a process) |
//! | `shield_tp_enter` | `syscalls/sys_enter_NAME` of each high-risk syscall (`PerSyscall`, the default) | [`Event::Syscall`] at entry (x86_64 calls) |
//! | `shield_sys_enter` | `tp_btf/sys_enter`, every syscall (`Raw`) | [`Event::Syscall`], [`Event::FileWrite`] at entry |
//! | `shield_sys_exit` | `tp_btf/sys_exit`, every syscall | [`Event::Result`], seccomp-refused [`Event::Syscall`]; with `PerSyscall` also [`Event::FileWrite`] (with the call's result), ia32 calls and syscalls without a tracepoint |
//!
//! A program on `sys_enter` or `sys_exit` runs on every syscall of the host; a per-syscall
//! tracepoint costs the other syscalls almost nothing. So by default only the exit program
//! sees every syscall, and the entry hooks are the tracepoints of the rare high-risk syscalls
//! (`docs/shield-kernel.md`, "Cost", has the figures).
//!
//! Filtering happens in the kernel: only watched processes (outside the host's pid
//! namespace, or in a watched cgroup), only watched syscalls, and only writes to paths that
//! match a [`PathRule`]. `docs/shield-kernel.md` describes hooks, maps and limits.
//!
//! [`probe_kernel`] says which program types the running kernel accepts (tp_btf, raw
//! tracepoints, ring buffers, fentry, BPF LSM) by loading tiny programs.
//!
//! ```no_run
//! use std::time::Duration;
//! use shield_bpf::{PathRule, ProbeConfig, Probes};
//!
//! let mut probes = Probes::load(&ProbeConfig::default())?;
//! probes.add_path_rule(&PathRule::Exact("/etc/passwd".into()), 1)?;
//! for event in probes.poll_events(Duration::from_millis(100))? {
//!     println!("{event:?}");
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod abi;
mod cgroup;
mod config;
mod error;
mod event;
mod features;
pub mod lsm;
mod objects;
mod probes;
mod ring;
mod rules;
mod syscalls;
mod tracefs;

pub use abi::{ARGS_LEN, COMM_LEN, EXE_NAME_LEN, NAME_LEN, PATH_LEN, STR_LEN};
pub use cgroup::{cgroup_id, cgroup2_mount, process_cgroup, process_cgroup_id};
pub use config::{DEFAULT_RING_BUFFER_BYTES, OPEN_WRITE_FLAGS, ProbeConfig, Settings, SyscallHooks};
pub use error::{LoadError, MapError, PollError};
pub use event::{DecodeError, Device, Event, MatchKind, PathMatch, Process, ResultOf, SyscallPhase, UserPath};
pub use features::{KernelFeatures, Stage, Support, probe_kernel};
pub use lsm::{LsmDenial, LsmEnforcer, LsmUnavailable};
pub use probes::{EventCounters, KindCounters, LoadTimings, Probes};
pub use rules::{PathRule, RuleError};
pub use syscalls::{FileOp, Syscall, syscall_by_number, syscall_name};
