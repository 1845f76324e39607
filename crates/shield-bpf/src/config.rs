//! What the loader is told: ring buffer size (fixed at load) and the runtime settings.

use crate::abi::{
    ARGS_LEN, CFG_EMIT_UNRESOLVED, CFG_READ_WATCH, CFG_WATCH_ALL, CFG_WATCH_CGROUPS, CFG_WATCH_CONTAINERS,
    encode_config, size,
};
use crate::syscalls::{FileOp, Syscall};

/// Open flags that make an open a write: `O_WRONLY | O_RDWR | O_CREAT | O_TRUNC`.
pub const OPEN_WRITE_FLAGS: u32 = 0o1 | 0o2 | 0o100 | 0o1000;

/// Default ring buffer size: 4 MiB holds about 2,800 exec events or 6,000 file events.
pub const DEFAULT_RING_BUFFER_BYTES: u32 = 4 << 20;

/// Configuration of [`crate::Probes::load`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeConfig {
    /// Size of the event ring buffer in bytes: a power of two and a multiple of the page
    /// size. Fixed for the life of the programs.
    pub ring_buffer_bytes: u32,
    /// Runtime settings, written before the programs are attached.
    pub settings: Settings,
    /// Syscalls reported on every attempt.
    pub syscalls: Vec<Syscall>,
    /// File operations reported when they write a path that matches a path rule.
    pub file_ops: Vec<FileOp>,
    /// Attach the `sys_exit` program: results of reported calls ([`crate::Event::Result`]),
    /// calls refused by seccomp before `sys_enter`, paths that were not resident at entry,
    /// and, with [`SyscallHooks::PerSyscall`], file operations, ia32 calls and syscalls
    /// without a tracepoint. Without it the entry hook is the raw one ([`SyscallHooks::Raw`])
    /// and those are not reported.
    pub syscall_exit: bool,
    /// Which hooks see syscalls at entry.
    pub syscall_hooks: SyscallHooks,
}

/// Which hooks see syscalls at entry; the exit hook is `tp_btf/sys_exit` in both cases.
///
/// A program on the raw `sys_enter` or `sys_exit` tracepoint runs on every syscall of every
/// process of the host, and that call alone costs each syscall tens of nanoseconds (see
/// `docs/shield-kernel.md`, "Cost"). A per-syscall tracepoint (`syscalls/sys_enter_NAME`)
/// costs the other syscalls almost nothing, but a call that has one attached costs more
/// than with a raw program, and it fires for x86_64 calls only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SyscallHooks {
    /// The high-risk syscalls ([`crate::Syscall`]) at their own `syscalls/sys_enter_NAME`
    /// tracepoints; everything else at `sys_exit` only: file operations (paths read and
    /// matched when the call returns, the event carrying its result), ia32 calls, and
    /// syscalls the kernel has no tracepoint for (a syscall it does not implement). Needs
    /// tracefs, which the loader mounts at `/sys/kernel/tracing` when it is not mounted;
    /// without it, or without the exit hook, the loader falls back to [`SyscallHooks::Raw`].
    #[default]
    PerSyscall,
    /// `tp_btf/sys_enter`: every syscall of the host runs the entry program; file
    /// operations are matched at entry (and again at exit when a path was not resident),
    /// ia32 calls are seen at entry like the others.
    Raw,
}

impl Default for ProbeConfig {
    fn default() -> Self {
        Self {
            ring_buffer_bytes: DEFAULT_RING_BUFFER_BYTES,
            settings: Settings::default(),
            syscalls: Syscall::ALL.to_vec(),
            file_ops: FileOp::ALL.to_vec(),
            syscall_exit: true,
            syscall_hooks: SyscallHooks::default(),
        }
    }
}

/// The in-kernel filter settings (the `settings` map); they can change while attached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// Watch processes outside the initial pid namespace (containers with their own pid
    /// namespace, the default for Docker, containerd and CRI-O).
    pub watch_containers: bool,
    /// Watch processes in the cgroups added with [`crate::Probes::watch_cgroup`], or below
    /// them (containers that share the host's pid namespace; host processes for tests).
    pub watch_cgroups: bool,
    /// Watch every process (diagnostics only: the host produces many events).
    pub watch_all: bool,
    /// Report file operations on relative paths and on paths with `.`, `..` or empty
    /// components, which the kernel cannot match: user space resolves them.
    pub report_unresolved_paths: bool,
    /// Bytes of an executed program's arguments to keep (at most [`ARGS_LEN`]).
    pub args_max: u32,
    /// A process never reported: by default the loading process itself.
    pub ignore_tgid: Option<u32>,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            watch_containers: true,
            watch_cgroups: true,
            watch_all: false,
            report_unresolved_paths: true,
            args_max: ARGS_LEN as u32,
            ignore_tgid: Some(std::process::id()),
        }
    }
}

impl Settings {
    /// The `settings` map's value; `reads_watched`: some cgroup has its read-only opens
    /// matched ([`crate::Probes::watch_reads`]).
    pub(crate) fn encode(&self, reads_watched: bool) -> [u8; size::CONFIG] {
        let mut flags = 0;
        for (on, flag) in [
            (self.watch_containers, CFG_WATCH_CONTAINERS),
            (self.watch_cgroups, CFG_WATCH_CGROUPS),
            (self.watch_all, CFG_WATCH_ALL),
            (self.report_unresolved_paths, CFG_EMIT_UNRESOLVED),
            (reads_watched, CFG_READ_WATCH),
        ] {
            if on {
                flags |= flag;
            }
        }
        encode_config(flags, OPEN_WRITE_FLAGS, self.args_max.min(ARGS_LEN as u32), self.ignore_tgid.unwrap_or(0))
    }
}

impl ProbeConfig {
    /// Checks what the kernel would refuse with a less helpful error.
    pub(crate) fn validate(&self) -> Result<(), String> {
        let size = self.ring_buffer_bytes;
        let page = rustix::param::page_size();
        if !size.is_power_of_two() || !(size as usize).is_multiple_of(page) {
            return Err(format!(
                "ring_buffer_bytes must be a power of two and a multiple of the page size ({page}); got {size}"
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_encode_their_switches() {
        let settings = Settings {
            watch_containers: true,
            watch_cgroups: false,
            watch_all: false,
            report_unresolved_paths: true,
            args_max: 5000,
            ignore_tgid: None,
        };
        let bytes = settings.encode(false);
        assert_eq!(u32::from_le_bytes(bytes[0..4].try_into().unwrap()), CFG_WATCH_CONTAINERS | CFG_EMIT_UNRESOLVED);
        let bytes = settings.encode(true);
        assert_eq!(
            u32::from_le_bytes(bytes[0..4].try_into().unwrap()),
            CFG_WATCH_CONTAINERS | CFG_EMIT_UNRESOLVED | CFG_READ_WATCH
        );
        assert_eq!(u32::from_le_bytes(bytes[4..8].try_into().unwrap()), 0o1103);
        assert_eq!(u32::from_le_bytes(bytes[8..12].try_into().unwrap()), ARGS_LEN as u32);
        assert_eq!(u32::from_le_bytes(bytes[12..16].try_into().unwrap()), 0);
    }

    #[test]
    fn ring_buffer_size_is_checked() {
        let mut config = ProbeConfig::default();
        assert!(config.validate().is_ok());
        config.ring_buffer_bytes = 3 << 20;
        assert!(config.validate().is_err());
        config.ring_buffer_bytes = 1024;
        assert!(config.validate().is_err());
    }
}
