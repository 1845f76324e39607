//! The loader: loads the detection programs, fills their maps, attaches them, and reads
//! their events and counters.

use std::time::{Duration, Instant};

use aya::maps::lpm_trie::Key;
use aya::maps::{Array, HashMap, LpmTrie, MapData, PerCpuArray, RingBuf};
use aya::programs::{BtfTracePoint, Program, ProgramError, TracePoint};
use aya::{Btf, Ebpf, EbpfLoader};

use crate::abi::{
    self, COUNTER_SLOTS, NAME_LEN, PATH_LEN, RULE_AT_EXIT, SYSCALL_RULE_SLOTS, SYSCALL_SLOTS, SyscallRule, maps, size,
};
use crate::config::{ProbeConfig, Settings, SyscallHooks};
use crate::error::{LoadError, MapError, PollError, map_error};
use crate::event::Event;
use crate::objects;
use crate::ring;
use crate::rules::{Encoded, PathRule};
use crate::syscalls::{FILE_SYSCALLS, FileOp, Syscall, file_rule, syscall_by_number, syscall_rule};
use crate::tracefs;

/// A program and where it is attached.
#[derive(Debug, Clone, Copy)]
enum Hook {
    /// A BTF tracepoint.
    Btf(&'static str),
    /// The `syscalls/sys_enter_NAME` tracepoint of each high-risk syscall that has one.
    SyscallEntries,
}

/// The process programs, attached in every configuration.
const EXEC: (&str, Hook) = ("shield_exec", Hook::Btf("sched_process_exec"));
const EXIT: (&str, Hook) = ("shield_exit", Hook::Btf("sched_process_exit"));
/// The entry program of [`SyscallHooks::Raw`]: every syscall of the host.
const RAW_ENTER: (&str, Hook) = ("shield_sys_enter", Hook::Btf("sys_enter"));
/// The entry program of [`SyscallHooks::PerSyscall`].
const SYSCALL_ENTER: (&str, Hook) = ("shield_tp_enter", Hook::SyscallEntries);
/// The exit program ([`ProbeConfig::syscall_exit`]): every syscall of the host.
const SYS_EXIT: (&str, Hook) = ("shield_sys_exit", Hook::Btf("sys_exit"));

/// Events emitted and dropped (ring buffer full) for one event kind, summed over CPUs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct KindCounters {
    pub emitted: u64,
    pub dropped: u64,
}

/// The programs' counters, per event kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EventCounters {
    pub exec: KindCounters,
    pub exit: KindCounters,
    pub syscall: KindCounters,
    pub file: KindCounters,
    pub result: KindCounters,
}

impl EventCounters {
    /// Events lost because the ring buffer was full, all kinds together.
    pub fn total_dropped(&self) -> u64 {
        self.kinds().iter().map(|(_, k)| k.dropped).sum()
    }

    /// Events sent, all kinds together.
    pub fn total_emitted(&self) -> u64 {
        self.kinds().iter().map(|(_, k)| k.emitted).sum()
    }

    /// Every kind with its counters, in a fixed order.
    pub fn kinds(&self) -> [(&'static str, KindCounters); 5] {
        [
            ("exec", self.exec),
            ("exit", self.exit),
            ("syscall", self.syscall),
            ("file", self.file),
            ("result", self.result),
        ]
    }
}

/// How long loading took: `load` covers parsing, map creation, map filling and the
/// verifier; `attach` the attachments (one per per-syscall tracepoint).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoadTimings {
    pub load: Duration,
    pub attach: Duration,
}

/// The loaded and attached detection programs. Dropping it detaches and unloads them.
pub struct Probes {
    // Holds the programs and their links; the maps below were taken out of it.
    ebpf: Ebpf,
    ring: RingBuf<MapData>,
    counters: PerCpuArray<MapData, u64>,
    settings: Array<MapData, [u8; size::CONFIG]>,
    syscall_rules: Array<MapData, [u8; size::SYSCALL_RULE]>,
    path_rules: LpmTrie<MapData, [u8; PATH_LEN], [u8; size::PATH_RULE]>,
    name_rules: HashMap<MapData, [u8; NAME_LEN], [u8; size::PATH_RULE]>,
    cgroups: HashMap<MapData, u64, u8>,
    read_cgroups: HashMap<MapData, u64, u8>,
    read_rules: LpmTrie<MapData, [u8; PATH_LEN], [u8; size::PATH_RULE]>,
    /// The settings last applied, and whether `read_cgroups` holds any cgroup (the kernel
    /// looks at read-only opens only then).
    settings_applied: Settings,
    reads_watched: usize,
    decode_errors: u64,
    timings: LoadTimings,
    /// The hooks in effect (the configured ones, or `Raw` after a fallback).
    hooks: SyscallHooks,
    /// x86_64 numbers of the high-risk syscalls whose own entry tracepoint has the program.
    entry_tracepoints: Vec<u32>,
    /// The programs loaded and attached, in order.
    programs: Vec<&'static str>,
}

impl std::fmt::Debug for Probes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Probes")
            .field("timings", &self.timings)
            .field("hooks", &self.hooks)
            .field("decode_errors", &self.decode_errors)
            .finish()
    }
}

fn take<T>(ebpf: &mut Ebpf, name: &'static str) -> Result<T, LoadError>
where
    T: TryFrom<aya::maps::Map, Error = aya::maps::MapError>,
{
    let map = ebpf.take_map(name).ok_or(LoadError::Missing { what: "map", name })?;
    T::try_from(map).map_err(|source| LoadError::Map(MapError::Map { map: name, source }))
}

impl Probes {
    /// Loads the programs, fills their maps from `config` and attaches them. Requires
    /// root (or `CAP_BPF` with `CAP_PERFMON`, and `CAP_SYS_ADMIN` to mount tracefs when it
    /// is not mounted) and a kernel with BTF and ring buffers.
    pub fn load(config: &ProbeConfig) -> Result<Probes, LoadError> {
        config.validate().map_err(LoadError::Config)?;
        let started = Instant::now();
        // Parsed once: for the CO-RE relocations and for the tracepoints' attach targets.
        let btf = Btf::from_sys_fs().map_err(LoadError::Btf)?;
        let mut ebpf = EbpfLoader::new()
            .btf(Some(&btf))
            .map_max_entries(maps::EVENTS, config.ring_buffer_bytes)
            .load(objects::SHIELD)
            .map_err(LoadError::Object)?;
        let ring = take(&mut ebpf, maps::EVENTS)?;
        let counters = take(&mut ebpf, maps::COUNTERS)?;
        let settings = take(&mut ebpf, maps::SETTINGS)?;
        let syscall_rules = take(&mut ebpf, maps::SYSCALL_RULES)?;
        let path_rules = take(&mut ebpf, maps::PATH_RULES)?;
        let name_rules = take(&mut ebpf, maps::NAME_RULES)?;
        let cgroups = take(&mut ebpf, maps::WATCHED_CGROUPS)?;
        let read_cgroups = take(&mut ebpf, maps::READ_CGROUPS)?;
        let read_rules = take(&mut ebpf, maps::READ_RULES)?;
        let (hooks, entries) = syscall_entries(config);
        let programs = match (hooks, config.syscall_exit) {
            (SyscallHooks::PerSyscall, _) => vec![EXEC, EXIT, SYSCALL_ENTER, SYS_EXIT],
            (SyscallHooks::Raw, true) => vec![EXEC, EXIT, RAW_ENTER, SYS_EXIT],
            (SyscallHooks::Raw, false) => vec![EXEC, EXIT, RAW_ENTER],
        };
        let mut probes = Probes {
            ebpf,
            ring,
            counters,
            settings,
            syscall_rules,
            path_rules,
            name_rules,
            cgroups,
            read_cgroups,
            read_rules,
            settings_applied: config.settings.clone(),
            reads_watched: 0,
            decode_errors: 0,
            timings: LoadTimings { load: Duration::ZERO, attach: Duration::ZERO },
            hooks,
            entry_tracepoints: entries.iter().map(|(nr, _)| *nr).collect(),
            programs: programs.iter().map(|(name, _)| *name).collect(),
        };
        // The filters are in place before the first event can be sent.
        probes.apply_settings(&config.settings)?;
        probes.set_watched(&config.syscalls, &config.file_ops)?;

        for &(name, hook) in &programs {
            let loaded = match hook {
                Hook::Btf(tracepoint) => probes.program::<BtfTracePoint>(name)?.load(tracepoint, &btf),
                Hook::SyscallEntries => probes.program::<TracePoint>(name)?.load(),
            };
            loaded.map_err(|source| LoadError::Program { program: name, source })?;
        }
        let loaded = Instant::now();
        for &(name, hook) in &programs {
            let attached = match hook {
                Hook::Btf(_) => probes.program::<BtfTracePoint>(name)?.attach().map(drop),
                Hook::SyscallEntries => {
                    let program = probes.program::<TracePoint>(name)?;
                    entries.iter().try_for_each(|(_, tracepoint)| {
                        program.attach("syscalls", &format!("sys_enter_{tracepoint}")).map(drop)
                    })
                }
            };
            attached.map_err(|source| LoadError::Attach { program: name, source })?;
        }
        probes.timings = LoadTimings { load: loaded - started, attach: loaded.elapsed() };
        tracing::debug!(
            load_ms = probes.timings.load.as_millis(),
            attach_ms = probes.timings.attach.as_millis(),
            hooks = ?probes.hooks,
            entry_tracepoints = probes.entry_tracepoints.len(),
            "shield probes attached"
        );
        Ok(probes)
    }

    /// A program of the object, as its type (`BtfTracePoint`, `TracePoint`).
    fn program<'a, P>(&'a mut self, name: &'static str) -> Result<&'a mut P, LoadError>
    where
        &'a mut P: TryFrom<&'a mut Program, Error = ProgramError>,
    {
        let program = self.ebpf.program_mut(name).ok_or(LoadError::Missing { what: "program", name })?;
        program.try_into().map_err(|source| LoadError::Program { program: name, source })
    }

    /// The syscall hooks in effect: [`ProbeConfig::syscall_hooks`], or
    /// [`SyscallHooks::Raw`] when per-syscall tracepoints could not be used (no tracefs, or
    /// no exit hook).
    pub fn syscall_hooks(&self) -> SyscallHooks {
        self.hooks
    }

    /// The high-risk syscalls seen at their own entry tracepoint ([`SyscallHooks::PerSyscall`]);
    /// the others (those the kernel has no tracepoint for) are seen at `sys_exit` only.
    /// Empty with [`SyscallHooks::Raw`], where every syscall is seen at entry.
    pub fn entry_tracepoints(&self) -> Vec<Syscall> {
        self.entry_tracepoints.iter().filter_map(|&nr| syscall_by_number(nr, false)).collect()
    }

    /// How long loading and attaching took.
    pub fn timings(&self) -> LoadTimings {
        self.timings
    }

    /// Instructions the verifier processed for each loaded program (the kernel's limit is
    /// one million): how much room the programs have left to grow. `None` when the kernel
    /// does not report it.
    pub fn verified_instructions(&self) -> Vec<(&'static str, Option<u32>)> {
        self.programs
            .iter()
            .map(|name| {
                let count = self
                    .ebpf
                    .program(name)
                    .and_then(|p| p.info().ok())
                    .and_then(|info| info.verified_instruction_count());
                (*name, count)
            })
            .collect()
    }

    /// Replaces the in-kernel filter settings.
    pub fn apply_settings(&mut self, settings: &Settings) -> Result<(), MapError> {
        self.settings.set(0, settings.encode(self.reads_watched > 0), 0).map_err(map_error(maps::SETTINGS))?;
        self.settings_applied = settings.clone();
        Ok(())
    }

    /// Replaces the set of watched syscalls and file operations (both the x86_64 and the
    /// ia32 numbers). Calls outside the set cost one array lookup in the kernel. With
    /// [`SyscallHooks::PerSyscall`], the calls no entry hook sees are marked for the exit
    /// program to report on its own.
    pub fn set_watched(&mut self, syscalls: &[Syscall], file_ops: &[FileOp]) -> Result<(), MapError> {
        let per_syscall = self.hooks == SyscallHooks::PerSyscall;
        let entries = &self.entry_tracepoints;
        // The rule, marked when the entry hooks do not see the call.
        let rule = |mut rule: SyscallRule, seen_at_entry: bool| {
            if per_syscall && !seen_at_entry {
                rule.flags_kind |= RULE_AT_EXIT;
            }
            rule.encode()
        };
        let mut table = vec![[0u8; size::SYSCALL_RULE]; SYSCALL_RULE_SLOTS as usize];
        let mut put = |nr: Option<u32>, ia32: bool, rule: [u8; size::SYSCALL_RULE]| {
            if let Some(nr) = nr.filter(|&nr| nr < SYSCALL_SLOTS) {
                table[(nr + if ia32 { SYSCALL_SLOTS } else { 0 }) as usize] = rule;
            }
        };
        for syscall in syscalls {
            let traced = syscall.number().is_some_and(|nr| entries.contains(&nr));
            put(syscall.number(), false, rule(syscall_rule(*syscall), traced));
            // The per-syscall tracepoints never fire for ia32 calls.
            put(syscall.number_ia32(), true, rule(syscall_rule(*syscall), false));
        }
        for call in FILE_SYSCALLS.iter().filter(|call| file_ops.contains(&call.op)) {
            put(call.x64, false, rule(file_rule(call), false));
            put(call.ia32, true, rule(file_rule(call), false));
        }
        for (slot, rule) in (0u32..).zip(table) {
            self.syscall_rules.set(slot, rule, 0).map_err(map_error(maps::SYSCALL_RULES))?;
        }
        Ok(())
    }

    /// Adds (or replaces) a path rule; `id` is copied into the events it matches.
    pub fn add_path_rule(&mut self, rule: &PathRule, id: u32) -> Result<(), MapError> {
        match rule.encode()? {
            Encoded::Trie((bits, data), kind) => self
                .path_rules
                .insert(&Key::new(bits, data), abi::encode_path_rule(kind, id), 0)
                .map_err(map_error(maps::PATH_RULES)),
            Encoded::Name(name, kind) => {
                self.name_rules.insert(name, abi::encode_path_rule(kind, id), 0).map_err(map_error(maps::NAME_RULES))
            }
        }
    }

    /// Removes a path rule. Removing a rule that is not there is not an error.
    pub fn remove_path_rule(&mut self, rule: &PathRule) -> Result<(), MapError> {
        let result = match rule.encode()? {
            Encoded::Trie((bits, data), _) => self.path_rules.remove(&Key::new(bits, data)),
            Encoded::Name(name, _) => self.name_rules.remove(&name),
        };
        match result {
            Ok(()) | Err(aya::maps::MapError::KeyNotFound) => Ok(()),
            Err(source) => Err(MapError::Map { map: maps::PATH_RULES, source }),
        }
    }

    /// Watches the processes of a cgroup (v2 id, see [`crate::cgroup_id`]) and of the
    /// cgroups below it, when [`Settings::watch_cgroups`] is on.
    pub fn watch_cgroup(&mut self, cgroup_id: u64) -> Result<(), MapError> {
        self.cgroups.insert(cgroup_id, 1, 0).map_err(map_error(maps::WATCHED_CGROUPS))
    }

    /// Adds (or replaces) a rule for read-only opens, matched only in the cgroups of
    /// [`Probes::watch_reads`]: exact and prefix rules (a name rule is refused). Its events
    /// are file events with `read` set.
    pub fn add_read_rule(&mut self, rule: &PathRule, id: u32) -> Result<(), MapError> {
        if let PathRule::Name(name) = rule {
            return Err(crate::rules::RuleError::InvalidName(name.clone()).into());
        }
        let Encoded::Trie((bits, data), kind) = rule.encode()? else { unreachable!("exact and prefix rules") };
        self.read_rules
            .insert(&Key::new(bits, data), abi::encode_path_rule(kind, id), 0)
            .map_err(map_error(maps::READ_RULES))
    }

    /// Removes a rule added with [`Probes::add_read_rule`]; one that is not there is not an
    /// error.
    pub fn remove_read_rule(&mut self, rule: &PathRule) -> Result<(), MapError> {
        let Encoded::Trie((bits, data), _) = rule.encode()? else { return Ok(()) };
        match self.read_rules.remove(&Key::new(bits, data)) {
            Ok(()) | Err(aya::maps::MapError::KeyNotFound) => Ok(()),
            Err(source) => Err(MapError::Map { map: maps::READ_RULES, source }),
        }
    }

    /// Matches the read-only opens of the processes of a cgroup (exactly that cgroup, v2
    /// id) against the read rules. While no cgroup is watched for reads, a read-only open
    /// costs the programs one flag test.
    pub fn watch_reads(&mut self, cgroup_id: u64) -> Result<(), MapError> {
        if self.read_cgroups.get(&cgroup_id, 0).is_ok() {
            return Ok(());
        }
        self.read_cgroups.insert(cgroup_id, 1, 0).map_err(map_error(maps::READ_CGROUPS))?;
        self.set_reads_watched(self.reads_watched + 1)
    }

    /// Stops matching the read-only opens of a cgroup added with [`Probes::watch_reads`].
    pub fn unwatch_reads(&mut self, cgroup_id: u64) -> Result<(), MapError> {
        match self.read_cgroups.remove(&cgroup_id) {
            Ok(()) => {}
            Err(aya::maps::MapError::KeyNotFound) => return Ok(()),
            Err(source) => return Err(MapError::Map { map: maps::READ_CGROUPS, source }),
        }
        self.set_reads_watched(self.reads_watched.saturating_sub(1))
    }

    /// Counts the cgroups watched for reads; the settings' `CFG_READ_WATCH` follows when
    /// the first one comes or the last one goes.
    fn set_reads_watched(&mut self, count: usize) -> Result<(), MapError> {
        let flip = (self.reads_watched > 0) != (count > 0);
        self.reads_watched = count;
        if flip {
            let settings = self.settings_applied.clone();
            self.apply_settings(&settings)?;
        }
        Ok(())
    }

    /// Stops watching a cgroup added with [`Probes::watch_cgroup`].
    pub fn unwatch_cgroup(&mut self, cgroup_id: u64) -> Result<(), MapError> {
        match self.cgroups.remove(&cgroup_id) {
            Ok(()) | Err(aya::maps::MapError::KeyNotFound) => Ok(()),
            Err(source) => Err(MapError::Map { map: maps::WATCHED_CGROUPS, source }),
        }
    }

    /// Returns the events waiting in the ring buffer; when there are none, waits up to
    /// `timeout` for some. Exec and exit records do not end the wait (unless the ring is an
    /// eighth full): they are returned by the next call, so `timeout` bounds how late they
    /// come. Records that do not decode are counted ([`Probes::decode_errors`]) and skipped.
    pub fn poll_events(&mut self, timeout: Duration) -> Result<Vec<Event>, PollError> {
        ring::read(&mut self.ring, timeout, Event::decode, &mut self.decode_errors, "shield event")
    }

    /// Records that could not be decoded since the programs were loaded.
    pub fn decode_errors(&self) -> u64 {
        self.decode_errors
    }

    /// The programs' counters: events emitted and dropped (ring buffer full), per kind.
    pub fn drop_counters(&self) -> Result<EventCounters, MapError> {
        let mut slots = [0u64; COUNTER_SLOTS as usize];
        for (slot, total) in (0u32..).zip(slots.iter_mut()) {
            let values = self.counters.get(&slot, 0).map_err(map_error(maps::COUNTERS))?;
            *total = values.iter().sum();
        }
        let kind = |k: u32| KindCounters { emitted: slots[(k * 2) as usize], dropped: slots[(k * 2 + 1) as usize] };
        Ok(EventCounters {
            exec: kind(abi::EVENT_EXEC),
            exit: kind(abi::EVENT_EXIT),
            syscall: kind(abi::EVENT_SYSCALL),
            file: kind(abi::EVENT_FILE),
            result: kind(abi::EVENT_RESULT),
        })
    }
}

/// The hooks to use and, with [`SyscallHooks::PerSyscall`], the high-risk syscalls that have
/// an entry tracepoint (x86_64 number and tracepoint name).
fn syscall_entries(config: &ProbeConfig) -> (SyscallHooks, Vec<(u32, &'static str)>) {
    if config.syscall_hooks == SyscallHooks::Raw {
        return (SyscallHooks::Raw, Vec::new());
    }
    if !config.syscall_exit {
        // File operations, ia32 calls and untraced syscalls would be seen by nothing.
        tracing::debug!("without the exit program, syscalls are seen by the raw entry program");
        return (SyscallHooks::Raw, Vec::new());
    }
    let root = match tracefs::ensure_mounted() {
        Ok(root) => root,
        Err(error) => {
            tracing::warn!(%error, "tracefs is not available: the syscall programs run on every syscall (raw sys_enter)");
            return (SyscallHooks::Raw, Vec::new());
        }
    };
    // Every high-risk syscall, watched or not: the watched set can change without reloading.
    let entries = Syscall::ALL
        .iter()
        .filter_map(|s| Some((s.number()?, s.tracepoint_name())))
        .filter(|(_, name)| tracefs::has_syscall_enter(&root, name))
        .collect();
    (SyscallHooks::PerSyscall, entries)
}
