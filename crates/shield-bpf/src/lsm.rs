//! The BPF LSM enforcement backend: programs on `bprm_check_security`, `file_open` and the
//! path hooks (`bpf/lsm.bpf.c`) that refuse, in the kernel, execs of files outside a
//! container's allow-list and writes to its protected files, matching files by (device,
//! inode).
//!
//! Many kernels refuse LSM programs (`EPERM` at load when BPF LSM is not built in, or not
//! allowed), so [`LsmEnforcer::load`] either returns a working enforcer or an
//! [`LsmUnavailable`] that says at which stage the kernel refused and with which errno,
//! after releasing every map, program and link it created. The caller then falls back to
//! fanotify and read-only mounts (crate `shield-enforce`).
//!
//! ```no_run
//! use std::time::Duration;
//! use shield_bpf::lsm::{DEFAULT_LSM_RING_BUFFER_BYTES, LsmEnforcer};
//!
//! match LsmEnforcer::load(DEFAULT_LSM_RING_BUFFER_BYTES) {
//!     Ok(mut lsm) => {
//!         // (st_dev, st_ino) of the files, as stat(2) reports them inside the container.
//!         lsm.protect(4242, 1, Some(&[(0x2d, 1234)]), &[(0x2d, 5678)])?;
//!         for denial in lsm.poll_denials(Duration::from_millis(100))? {
//!             println!("blocked: {denial:?}");
//!         }
//!     }
//!     Err(unavailable) => eprintln!("using fanotify and read-only mounts: {unavailable}"),
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::collections::{HashMap as StdHashMap, HashSet};
use std::ffi::OsString;
use std::fmt;
use std::os::unix::ffi::OsStringExt;
use std::time::Duration;

use aya::maps::{HashMap, MapData, PerCpuArray, RingBuf};
use aya::programs::{Lsm, ProgramError};
use aya::{Btf, Ebpf, EbpfLoader};

use crate::abi::Fields;
use crate::error::{MapError, PollError, map_error};
use crate::event::{DecodeError, Device};
use crate::features::errno_of;
use crate::objects;
use crate::ring;

/// Default size of the denial ring buffer: 4,096 records of 64 bytes.
pub const DEFAULT_LSM_RING_BUFFER_BYTES: u32 = 256 * 1024;

/// The programs of `bpf/lsm.bpf.c` and the LSM hooks they attach to, in load order.
pub const LSM_PROGRAMS: [(&str, &str); 8] = [
    ("lsm_bprm_check", "bprm_check_security"),
    ("lsm_file_open", "file_open"),
    ("lsm_path_truncate", "path_truncate"),
    ("lsm_path_unlink", "path_unlink"),
    ("lsm_path_rename", "path_rename"),
    ("lsm_path_chmod", "path_chmod"),
    ("lsm_path_chown", "path_chown"),
    ("lsm_path_link", "path_link"),
];

/// The maps of `bpf/lsm.bpf.c` (C variable names).
pub const LSM_MAPS: [&str; 5] = [maps::DENIALS, maps::COUNTERS, maps::CGROUPS, maps::EXEC_ALLOW, maps::PROTECTED];

mod maps {
    pub const DENIALS: &str = "lsm_denials";
    pub const COUNTERS: &str = "lsm_counters";
    pub const CGROUPS: &str = "lsm_cgroups";
    pub const EXEC_ALLOW: &str = "lsm_exec_allow";
    pub const PROTECTED: &str = "lsm_protected";
}

/// Layout of `struct lsm_denial` and the keys, pinned by static assertions in `lsm.bpf.c`.
mod layout {
    pub const DENIAL_SIZE: usize = 64;
    pub const KIND: usize = 0;
    pub const HOOK: usize = 4;
    pub const BOOT_NS: usize = 8;
    pub const CGROUP_ID: usize = 16;
    pub const PID: usize = 24;
    pub const TGID: usize = 28;
    pub const SLOT: usize = 32;
    pub const DEV: usize = 36;
    pub const INO: usize = 40;
    pub const COMM: usize = 48;
    pub const COMM_LEN: usize = 16;

    pub const FILE_KEY_SIZE: usize = 16;
    pub const POLICY_SIZE: usize = 8;

    pub const DENY_EXEC: u32 = 1;
    pub const DENY_WRITE: u32 = 2;
    pub const POLICY_EXEC: u32 = 0x1;
    pub const POLICY_FILES: u32 = 0x2;
    pub const COUNT_DENIED: u32 = 0;
    pub const COUNT_DROPPED: u32 = 1;
}

type FileKey = [u8; layout::FILE_KEY_SIZE];

/// Where loading the LSM programs stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LsmStage {
    /// The arguments (the ring buffer size).
    Config,
    /// Reading the kernel's BTF, or finding an LSM hook in it.
    Btf,
    /// Parsing the object, relocating it, creating its maps.
    Object,
    /// `BPF_PROG_LOAD`: the verifier, or the kernel refusing LSM programs altogether.
    Load,
    /// Attaching a loaded program to its hook.
    Attach,
}

impl fmt::Display for LsmStage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            LsmStage::Config => "configuration",
            LsmStage::Btf => "reading BTF",
            LsmStage::Object => "loading the object",
            LsmStage::Load => "load",
            LsmStage::Attach => "attach",
        })
    }
}

/// The BPF LSM backend cannot be used on this kernel (or with these arguments). Everything
/// the failed attempt created has been released.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LsmUnavailable {
    pub stage: LsmStage,
    /// The program being loaded or attached, when the failure was one program's.
    pub program: Option<&'static str>,
    /// The errno the kernel returned (`EPERM` is 1), when a syscall failed.
    pub errno: Option<i32>,
    /// What failed, with the errno's name.
    pub message: String,
    /// The verifier's log, when the verifier rejected a program.
    pub verifier_log: Option<String>,
}

impl LsmUnavailable {
    /// Whether the kernel refused the programs with `EPERM` (LSM programs not allowed).
    pub fn is_permission_refusal(&self) -> bool {
        self.errno == Some(EPERM)
    }
}

const EPERM: i32 = 1;

impl fmt::Display for LsmUnavailable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.stage == LsmStage::Config {
            return write!(f, "invalid BPF LSM configuration: {}", self.message);
        }
        write!(f, "BPF LSM programs are refused by this kernel at {}", self.stage)?;
        if let Some(program) = self.program {
            write!(f, " ({program})")?;
        }
        write!(f, ": {}{}", self.message, hint(self.stage, self.errno))
    }
}

impl std::error::Error for LsmUnavailable {}

fn hint(stage: LsmStage, errno: Option<i32>) -> &'static str {
    match (stage, errno) {
        (LsmStage::Load | LsmStage::Attach, Some(EPERM)) => {
            " (is `bpf` in the lsm= boot parameter, and the kernel built with CONFIG_BPF_LSM?)"
        }
        _ => "",
    }
}

fn unavailable(
    stage: LsmStage,
    program: Option<&'static str>,
    error: &(dyn std::error::Error + 'static),
) -> LsmUnavailable {
    let errno = errno_of(error).or_else(|| transparent_errno(error));
    let verifier_log = match error.downcast_ref::<ProgramError>() {
        Some(ProgramError::LoadError { verifier_log, .. }) => {
            Some(verifier_log.to_string()).filter(|log| !log.trim().is_empty())
        }
        _ => None,
    };
    let message = crate::features::refusal_message(errno, error);
    LsmUnavailable { stage, program, errno, message, verifier_log }
}

/// The errno of an [`ProgramError::IOError`], which is `transparent` and so hides its
/// `io::Error` from the source chain that [`errno_of`] follows.
fn transparent_errno(error: &(dyn std::error::Error + 'static)) -> Option<i32> {
    let mut current = Some(error);
    while let Some(e) = current {
        if let Some(ProgramError::IOError(io)) = e.downcast_ref::<ProgramError>() {
            return io.raw_os_error();
        }
        current = e.source();
    }
    None
}

/// Which hook refused an operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LsmHook {
    BprmCheckSecurity,
    FileOpen,
    PathTruncate,
    PathUnlink,
    PathRename,
    PathChmod,
    PathChown,
    PathLink,
}

impl LsmHook {
    const ALL: [LsmHook; 8] = [
        LsmHook::BprmCheckSecurity,
        LsmHook::FileOpen,
        LsmHook::PathTruncate,
        LsmHook::PathUnlink,
        LsmHook::PathRename,
        LsmHook::PathChmod,
        LsmHook::PathChown,
        LsmHook::PathLink,
    ];

    /// The kernel's name of the hook (`security_<name>`).
    pub fn name(self) -> &'static str {
        LSM_PROGRAMS[self.index()].1
    }

    fn index(self) -> usize {
        LsmHook::ALL.iter().position(|&h| h == self).unwrap_or(0)
    }

    /// The `LSM_HOOK_*` code of `lsm.bpf.c` (1-based, in [`LSM_PROGRAMS`] order).
    fn from_code(code: u32) -> Option<LsmHook> {
        let index = usize::try_from(code.checked_sub(1)?).ok()?;
        LsmHook::ALL.get(index).copied()
    }
}

/// What a refused operation was.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DenialKind {
    /// An exec of a file not on the container's allow-list.
    Exec,
    /// A write (open for writing, truncate, unlink, rename, chmod, chown, link) to a
    /// protected file.
    Write,
}

/// An operation the LSM programs refused with `EPERM`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LsmDenial {
    pub kind: DenialKind,
    pub hook: LsmHook,
    /// `CLOCK_BOOTTIME` nanoseconds.
    pub boot_ns: u64,
    /// The task's own cgroup v2 id (the protected cgroup, or one below it).
    pub cgroup_id: u64,
    /// Thread id, host pid namespace.
    pub pid: u32,
    pub tgid: u32,
    /// The policy slot given to [`LsmEnforcer::protect`].
    pub slot: u32,
    /// The file's device (of its superblock) and inode.
    pub dev: Device,
    pub ino: u64,
    /// The task's command name.
    pub comm: OsString,
}

impl LsmDenial {
    /// Decodes a `struct lsm_denial` record. Never panics: a short record, an unknown kind
    /// or hook, or a kind that does not fit the hook, is an error.
    pub fn decode(record: &[u8]) -> Result<LsmDenial, DecodeError> {
        let f = Fields::new(record);
        let expected = layout::DENIAL_SIZE;
        let kind_code =
            f.u32(layout::KIND).ok_or(DecodeError::ShortHeader { len: record.len(), expected: layout::HOOK })?;
        let kind = match kind_code {
            layout::DENY_EXEC => DenialKind::Exec,
            layout::DENY_WRITE => DenialKind::Write,
            other => return Err(DecodeError::UnknownKind(other)),
        };
        if record.len() < expected {
            return Err(DecodeError::Short { kind: kind_code, len: record.len(), expected });
        }
        let short = DecodeError::Short { kind: kind_code, len: record.len(), expected };
        let hook_code = f.u32(layout::HOOK).ok_or(short.clone())?;
        let hook = LsmHook::from_code(hook_code)
            .ok_or(DecodeError::InvalidField { field: "lsm hook", value: u64::from(hook_code) })?;
        if (kind == DenialKind::Exec) != (hook == LsmHook::BprmCheckSecurity) {
            return Err(DecodeError::InvalidField {
                field: "lsm hook of the denial kind",
                value: u64::from(hook_code),
            });
        }
        let u32_at = |offset| f.u32(offset).ok_or(short.clone());
        let u64_at = |offset| f.u64(offset).ok_or(short.clone());
        Ok(LsmDenial {
            kind,
            hook,
            boot_ns: u64_at(layout::BOOT_NS)?,
            cgroup_id: u64_at(layout::CGROUP_ID)?,
            pid: u32_at(layout::PID)?,
            tgid: u32_at(layout::TGID)?,
            slot: u32_at(layout::SLOT)?,
            dev: Device(u32_at(layout::DEV)?),
            ino: u64_at(layout::INO)?,
            comm: OsString::from_vec(f.c_string(layout::COMM, layout::COMM_LEN).ok_or(short.clone())?.to_vec()),
        })
    }
}

/// Refusals counted by the programs, summed over CPUs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LsmCounters {
    /// Operations refused.
    pub denied: u64,
    /// Refusals not reported because the ring buffer was full (the operation was still refused).
    pub dropped: u64,
}

/// A policy could not be put in place.
#[derive(Debug, thiserror::Error)]
pub enum LsmPolicyError {
    /// The device number does not fit the kernel's internal `dev_t` (12-bit major, 20-bit minor).
    #[error("device {st_dev:#x} has a major or minor number beyond the kernel's dev_t")]
    Device { st_dev: u64 },
    #[error(transparent)]
    Map(#[from] MapError),
}

/// The kernel's internal `dev_t` (`major << 20 | minor`, as in `super_block.s_dev`) of a
/// device number as `stat(2)` reports it in `st_dev`.
pub fn kernel_dev(st_dev: u64) -> Option<u32> {
    let major = ((st_dev >> 8) & 0xfff) | ((st_dev >> 32) & !0xfff);
    let minor = (st_dev & 0xff) | ((st_dev >> 12) & !0xff);
    if major >= 1 << 12 || minor >= 1 << 20 {
        return None;
    }
    u32::try_from((major << 20) | minor).ok()
}

fn file_key(slot: u32, (st_dev, ino): (u64, u64)) -> Result<FileKey, LsmPolicyError> {
    let dev = kernel_dev(st_dev).ok_or(LsmPolicyError::Device { st_dev })?;
    let mut key = [0u8; layout::FILE_KEY_SIZE];
    key[0..4].copy_from_slice(&slot.to_le_bytes());
    key[4..8].copy_from_slice(&dev.to_le_bytes());
    key[8..16].copy_from_slice(&ino.to_le_bytes());
    Ok(key)
}

fn file_keys(slot: u32, files: &[(u64, u64)]) -> Result<HashSet<FileKey>, LsmPolicyError> {
    files.iter().map(|&file| file_key(slot, file)).collect()
}

/// What one policy slot holds in the maps, and the cgroups that use it.
#[derive(Debug, Default)]
struct Slot {
    exec_allow: HashSet<FileKey>,
    protected: HashSet<FileKey>,
    cgroups: HashSet<u64>,
}

/// The loaded and attached LSM programs. Dropping it detaches and unloads them: from then
/// on (as after a crash of the process holding it) the kernel allows everything.
pub struct LsmEnforcer {
    ring: RingBuf<MapData>,
    counters: PerCpuArray<MapData, u64>,
    cgroups: HashMap<MapData, u64, [u8; layout::POLICY_SIZE]>,
    exec_allow: HashMap<MapData, FileKey, u8>,
    protected: HashMap<MapData, FileKey, u8>,
    slots: StdHashMap<u32, Slot>,
    cgroup_slots: StdHashMap<u64, u32>,
    decode_errors: u64,
    // Holds the programs and their links; the maps above were taken out of it.
    _ebpf: Ebpf,
}

impl fmt::Debug for LsmEnforcer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LsmEnforcer")
            .field("cgroups", &self.cgroup_slots)
            .field("decode_errors", &self.decode_errors)
            .finish()
    }
}

fn take<T>(ebpf: &mut Ebpf, name: &'static str) -> Result<T, LsmUnavailable>
where
    T: TryFrom<aya::maps::Map, Error = aya::maps::MapError>,
{
    let map = ebpf.take_map(name).ok_or_else(|| LsmUnavailable {
        stage: LsmStage::Object,
        program: None,
        errno: None,
        message: format!("the object has no map {name}"),
        verifier_log: None,
    })?;
    T::try_from(map).map_err(|e| unavailable(LsmStage::Object, None, &e))
}

impl LsmEnforcer {
    /// Loads the programs and attaches them to their hooks. `ring_buffer_bytes` is the size
    /// of the denial ring buffer: a power of two and a multiple of the page size.
    ///
    /// Nothing is enforced until [`LsmEnforcer::protect`] names a cgroup. On failure,
    /// everything created so far (maps, loaded programs, links) is released before returning.
    pub fn load(ring_buffer_bytes: u32) -> Result<LsmEnforcer, LsmUnavailable> {
        let page = rustix::param::page_size();
        if !ring_buffer_bytes.is_power_of_two() || !(ring_buffer_bytes as usize).is_multiple_of(page) {
            return Err(LsmUnavailable {
                stage: LsmStage::Config,
                program: None,
                errno: None,
                message: format!(
                    "the ring buffer size must be a power of two and a multiple of the page size ({page}); \
                     got {ring_buffer_bytes}"
                ),
                verifier_log: None,
            });
        }
        let btf = Btf::from_sys_fs().map_err(|e| unavailable(LsmStage::Btf, None, &e))?;
        // Every early return below drops `ebpf`, which closes its maps, programs and links.
        let mut ebpf = EbpfLoader::new()
            .btf(Some(&btf))
            .map_max_entries(maps::DENIALS, ring_buffer_bytes)
            .load(objects::LSM)
            .map_err(|e| unavailable(LsmStage::Object, None, &e))?;
        for (name, hook) in LSM_PROGRAMS {
            let program = lsm_program(&mut ebpf, name)?;
            program.load(hook, &btf).map_err(|e| {
                // A hook missing from the kernel's BTF is not the kernel refusing a program.
                let stage = if matches!(e, ProgramError::Btf(_)) { LsmStage::Btf } else { LsmStage::Load };
                unavailable(stage, Some(name), &e)
            })?;
        }
        for (name, _) in LSM_PROGRAMS {
            lsm_program(&mut ebpf, name)?.attach().map_err(|e| unavailable(LsmStage::Attach, Some(name), &e))?;
        }
        let enforcer = LsmEnforcer {
            ring: take(&mut ebpf, maps::DENIALS)?,
            counters: take(&mut ebpf, maps::COUNTERS)?,
            cgroups: take(&mut ebpf, maps::CGROUPS)?,
            exec_allow: take(&mut ebpf, maps::EXEC_ALLOW)?,
            protected: take(&mut ebpf, maps::PROTECTED)?,
            slots: StdHashMap::new(),
            cgroup_slots: StdHashMap::new(),
            decode_errors: 0,
            _ebpf: ebpf,
        };
        tracing::debug!("BPF LSM enforcement programs attached");
        Ok(enforcer)
    }

    /// Enforces a policy on the tasks of a cgroup (v2 id, see [`crate::cgroup_id`]) and of
    /// the cgroups below it:
    /// - `exec_allow`: `Some(files)` limits exec to these files, `None` leaves exec alone
    ///   (`Some(&[])` refuses every exec);
    /// - `protected`: files that may not be opened for writing, truncated, unlinked,
    ///   renamed (away or over), chmod-ed, chown-ed or hard-linked.
    ///
    /// Files are `(st_dev, st_ino)` as `stat(2)` reports them inside the container (resolve
    /// paths in the container's root). The policy lives in `slot`, chosen by the caller;
    /// cgroups given the same slot share it, and each call replaces the slot's files. The
    /// files are in place before the cgroup is, so a policy never applies half-filled.
    pub fn protect(
        &mut self,
        cgroup_id: u64,
        slot: u32,
        exec_allow: Option<&[(u64, u64)]>,
        protected: &[(u64, u64)],
    ) -> Result<(), LsmPolicyError> {
        let exec_keys = file_keys(slot, exec_allow.unwrap_or_default())?;
        let protected_keys = file_keys(slot, protected)?;
        for key in exec_keys.iter() {
            self.exec_allow.insert(key, 1, 0).map_err(map_error(maps::EXEC_ALLOW))?;
        }
        for key in protected_keys.iter() {
            self.protected.insert(key, 1, 0).map_err(map_error(maps::PROTECTED))?;
        }
        let mut flags = 0;
        if exec_allow.is_some() {
            flags |= layout::POLICY_EXEC;
        }
        if !protected.is_empty() {
            flags |= layout::POLICY_FILES;
        }
        let mut policy = [0u8; layout::POLICY_SIZE];
        policy[0..4].copy_from_slice(&slot.to_le_bytes());
        policy[4..8].copy_from_slice(&flags.to_le_bytes());
        self.cgroups.insert(cgroup_id, policy, 0).map_err(map_error(maps::CGROUPS))?;
        // The cgroup may have used another slot before.
        if let Some(previous) = self.cgroup_slots.insert(cgroup_id, slot).filter(|&previous| previous != slot) {
            self.leave_slot(cgroup_id, previous)?;
        }
        let state = self.slots.entry(slot).or_default();
        state.cgroups.insert(cgroup_id);
        let stale_exec: Vec<FileKey> = state.exec_allow.difference(&exec_keys).copied().collect();
        let stale_protected: Vec<FileKey> = state.protected.difference(&protected_keys).copied().collect();
        state.exec_allow = exec_keys;
        state.protected = protected_keys;
        remove_keys(&mut self.exec_allow, maps::EXEC_ALLOW, &stale_exec)?;
        remove_keys(&mut self.protected, maps::PROTECTED, &stale_protected)?;
        Ok(())
    }

    /// Stops enforcing on a cgroup. Its slot's files are removed when no other cgroup uses
    /// the slot. Releasing a cgroup that is not protected is not an error.
    pub fn release(&mut self, cgroup_id: u64) -> Result<(), LsmPolicyError> {
        match self.cgroups.remove(&cgroup_id) {
            Ok(()) | Err(aya::maps::MapError::KeyNotFound) => {}
            Err(source) => return Err(MapError::Map { map: maps::CGROUPS, source }.into()),
        }
        if let Some(slot) = self.cgroup_slots.remove(&cgroup_id) {
            self.leave_slot(cgroup_id, slot)?;
        }
        Ok(())
    }

    fn leave_slot(&mut self, cgroup_id: u64, slot: u32) -> Result<(), LsmPolicyError> {
        let Some(state) = self.slots.get_mut(&slot) else { return Ok(()) };
        state.cgroups.remove(&cgroup_id);
        if !state.cgroups.is_empty() {
            return Ok(());
        }
        let Some(state) = self.slots.remove(&slot) else { return Ok(()) };
        remove_keys(&mut self.exec_allow, maps::EXEC_ALLOW, &state.exec_allow.into_iter().collect::<Vec<_>>())?;
        remove_keys(&mut self.protected, maps::PROTECTED, &state.protected.into_iter().collect::<Vec<_>>())?;
        Ok(())
    }

    /// The protected cgroups and their slots.
    pub fn protected_cgroups(&self) -> Vec<(u64, u32)> {
        let mut cgroups: Vec<(u64, u32)> = self.cgroup_slots.iter().map(|(&c, &s)| (c, s)).collect();
        cgroups.sort_unstable();
        cgroups
    }

    /// Returns the denials waiting in the ring buffer; when there are none, waits up to
    /// `timeout` for some. Records that do not decode are counted
    /// ([`LsmEnforcer::decode_errors`]) and skipped.
    pub fn poll_denials(&mut self, timeout: Duration) -> Result<Vec<LsmDenial>, PollError> {
        ring::read(&mut self.ring, timeout, LsmDenial::decode, &mut self.decode_errors, "LSM denial")
    }

    /// Records that could not be decoded since the programs were loaded.
    pub fn decode_errors(&self) -> u64 {
        self.decode_errors
    }

    /// Operations refused, and refusals lost because the ring buffer was full.
    pub fn counters(&self) -> Result<LsmCounters, MapError> {
        let sum = |slot: u32| -> Result<u64, MapError> {
            Ok(self.counters.get(&slot, 0).map_err(map_error(maps::COUNTERS))?.iter().sum())
        };
        Ok(LsmCounters { denied: sum(layout::COUNT_DENIED)?, dropped: sum(layout::COUNT_DROPPED)? })
    }
}

fn lsm_program<'a>(ebpf: &'a mut Ebpf, name: &'static str) -> Result<&'a mut Lsm, LsmUnavailable> {
    let program = ebpf.program_mut(name).ok_or_else(|| LsmUnavailable {
        stage: LsmStage::Object,
        program: Some(name),
        errno: None,
        message: format!("the object has no program {name}"),
        verifier_log: None,
    })?;
    program.try_into().map_err(|e: ProgramError| unavailable(LsmStage::Object, Some(name), &e))
}

fn remove_keys(map: &mut HashMap<MapData, FileKey, u8>, name: &'static str, keys: &[FileKey]) -> Result<(), MapError> {
    for key in keys {
        match map.remove(key) {
            Ok(()) | Err(aya::maps::MapError::KeyNotFound) => {}
            Err(source) => return Err(MapError::Map { map: name, source }),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::io;

    use super::*;

    fn record(kind: u32, hook: u32) -> Vec<u8> {
        let mut buf = vec![0u8; layout::DENIAL_SIZE];
        let mut put = |at: usize, bytes: &[u8]| buf[at..at + bytes.len()].copy_from_slice(bytes);
        put(layout::KIND, &kind.to_le_bytes());
        put(layout::HOOK, &hook.to_le_bytes());
        put(layout::BOOT_NS, &123_456_789u64.to_le_bytes());
        put(layout::CGROUP_ID, &4242u64.to_le_bytes());
        put(layout::PID, &1001u32.to_le_bytes());
        put(layout::TGID, &1000u32.to_le_bytes());
        put(layout::SLOT, &7u32.to_le_bytes());
        put(layout::DEV, &((8u32 << 20) | 1).to_le_bytes());
        put(layout::INO, &0x1_0000_0002u64.to_le_bytes());
        put(layout::COMM, b"cat\0garbage");
        buf
    }

    #[test]
    fn decodes_an_exec_denial_field_by_field() {
        let denial = LsmDenial::decode(&record(layout::DENY_EXEC, 1)).expect("decodes");
        assert_eq!(
            denial,
            LsmDenial {
                kind: DenialKind::Exec,
                hook: LsmHook::BprmCheckSecurity,
                boot_ns: 123_456_789,
                cgroup_id: 4242,
                pid: 1001,
                tgid: 1000,
                slot: 7,
                dev: Device((8 << 20) | 1),
                ino: 0x1_0000_0002,
                comm: "cat".into(),
            }
        );
        assert_eq!(denial.hook.name(), "bprm_check_security");
    }

    #[test]
    fn every_write_hook_code_decodes_to_its_hook() {
        for (code, hook) in (2u32..).zip(&LsmHook::ALL[1..]) {
            let denial = LsmDenial::decode(&record(layout::DENY_WRITE, code)).expect("decodes");
            assert_eq!((denial.kind, denial.hook), (DenialKind::Write, *hook));
            assert_eq!(hook.name(), LSM_PROGRAMS[code as usize - 1].1);
        }
    }

    #[test]
    fn short_unknown_and_inconsistent_records_are_errors() {
        let full = record(layout::DENY_WRITE, 2);
        assert_eq!(LsmDenial::decode(&full[..3]), Err(DecodeError::ShortHeader { len: 3, expected: 4 }));
        assert_eq!(
            LsmDenial::decode(&full[..63]),
            Err(DecodeError::Short { kind: layout::DENY_WRITE, len: 63, expected: 64 })
        );
        assert_eq!(LsmDenial::decode(&record(9, 2)), Err(DecodeError::UnknownKind(9)));
        for hook in [0, 9, u32::MAX] {
            assert_eq!(
                LsmDenial::decode(&record(layout::DENY_WRITE, hook)),
                Err(DecodeError::InvalidField { field: "lsm hook", value: u64::from(hook) })
            );
        }
        // An exec denial comes only from bprm_check_security, a write denial never does.
        assert!(matches!(LsmDenial::decode(&record(layout::DENY_EXEC, 2)), Err(DecodeError::InvalidField { .. })));
        assert!(matches!(LsmDenial::decode(&record(layout::DENY_WRITE, 1)), Err(DecodeError::InvalidField { .. })));
        // A longer record (a future field) still decodes.
        let mut longer = full.clone();
        longer.extend_from_slice(&[0xff; 8]);
        assert_eq!(LsmDenial::decode(&longer), LsmDenial::decode(&full));
    }

    #[test]
    fn a_comm_without_nul_fills_its_field() {
        let mut buf = record(layout::DENY_EXEC, 1);
        buf[layout::COMM..layout::COMM + layout::COMM_LEN].copy_from_slice(b"0123456789abcdef");
        assert_eq!(LsmDenial::decode(&buf).expect("decodes").comm, "0123456789abcdef");
    }

    proptest::proptest! {
        #[test]
        fn decoding_arbitrary_records_never_panics(
            mut bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..200),
            kind in 0u32..4,
            hook in 0u32..10,
        ) {
            if bytes.len() >= 8 {
                bytes[..4].copy_from_slice(&kind.to_le_bytes());
                bytes[4..8].copy_from_slice(&hook.to_le_bytes());
            }
            let _ = LsmDenial::decode(&bytes);
        }
    }

    #[test]
    fn device_numbers_convert_to_the_kernels_encoding_and_back() {
        // sda1 (8:1), an overlay's anonymous device (0:45), a large minor (259:1048575).
        for (major, minor) in [(8u32, 1u32), (0, 45), (259, 0xfffff), (0xfff, 0)] {
            let kernel = (major << 20) | minor;
            let st_dev = Device(kernel).st_dev();
            assert_eq!(kernel_dev(st_dev), Some(kernel), "{major}:{minor}");
        }
        assert_eq!(kernel_dev(0x801), Some((8 << 20) | 1));
        // Majors beyond 12 bits and minors beyond 20 bits do not exist in the kernel's dev_t.
        assert_eq!(kernel_dev(Device(0).st_dev() | (1 << 44)), None);
        assert_eq!(kernel_dev(1 << 32), None);
    }

    #[test]
    fn file_keys_hold_slot_device_and_inode() {
        let key = file_key(3, (0x801, 0x0102_0304_0506_0708)).expect("valid device");
        assert_eq!(&key[0..4], &3u32.to_le_bytes());
        assert_eq!(&key[4..8], &((8u32 << 20) | 1).to_le_bytes());
        assert_eq!(&key[8..16], &0x0102_0304_0506_0708u64.to_le_bytes());
        assert!(matches!(file_key(3, (1 << 44, 1)), Err(LsmPolicyError::Device { st_dev }) if st_dev == 1 << 44));
    }

    #[test]
    fn refusals_say_the_stage_program_errno_and_what_to_check() {
        let error = ProgramError::IOError(io::Error::from_raw_os_error(1));
        let refusal = unavailable(LsmStage::Load, Some("lsm_bprm_check"), &error);
        assert_eq!((refusal.stage, refusal.errno, refusal.verifier_log.as_deref()), (LsmStage::Load, Some(1), None));
        assert!(refusal.is_permission_refusal());
        let text = refusal.to_string();
        for part in ["at load", "(lsm_bprm_check)", "Operation not permitted", "EPERM", "lsm= boot parameter"] {
            assert!(text.contains(part), "{text}");
        }
        let attach = ProgramError::SyscallError(aya::sys::SyscallError {
            call: "bpf_link_create",
            io_error: io::Error::from_raw_os_error(22),
        });
        let invalid = unavailable(LsmStage::Attach, Some("lsm_file_open"), &attach);
        assert_eq!(invalid.errno, Some(22));
        assert!(!invalid.is_permission_refusal());
        assert!(invalid.to_string().contains("EINVAL") && !invalid.to_string().contains("lsm="), "{invalid}");
    }

    #[test]
    fn an_invalid_ring_buffer_size_is_refused_before_anything_is_created() {
        for size in [0, 1000, 3 << 20] {
            let refusal = LsmEnforcer::load(size).expect_err("invalid size");
            assert_eq!((refusal.stage, refusal.errno), (LsmStage::Config, None), "{refusal}");
            assert!(refusal.to_string().starts_with("invalid BPF LSM configuration: "), "{refusal}");
        }
    }
}
