//! Typed events, decoded from the ring buffer records by explicit byte parsing.
//!
//! A record is a C struct of `bpf/shield.h`; [`Event::decode`] reads each field at its
//! offset (see [`crate::abi`]) and returns an error, never panics, on a record that is too
//! short or of an unknown kind.

use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;
use std::path::PathBuf;

use crate::abi::{self, Fields, offset, size};
use crate::syscalls::{FileOp, Syscall, syscall_by_number, syscall_name};

/// A record that could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// The record is shorter than its kind's struct.
    #[error("event record of kind {kind} is {len} bytes, shorter than {expected}")]
    Short { kind: u32, len: usize, expected: usize },
    /// The record is shorter than the common header.
    #[error("event record of {len} bytes is shorter than the {expected}-byte header")]
    ShortHeader { len: usize, expected: usize },
    /// The record's kind is not one the programs send.
    #[error("unknown event kind {0}")]
    UnknownKind(u32),
    /// A field holds a value the programs never write.
    #[error("invalid {field} value {value}")]
    InvalidField { field: &'static str, value: u64 },
}

/// The task an event is about: identity, credentials and namespaces, as the kernel saw them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Process {
    /// Thread id (host pid namespace).
    pub pid: u32,
    /// Process id (thread group id, host pid namespace).
    pub tgid: u32,
    /// The real parent's process id.
    pub ppid: u32,
    pub uid: u32,
    pub gid: u32,
    pub euid: u32,
    /// Cgroup v2 id (the inode number of the cgroup's directory).
    pub cgroup_id: u64,
    /// Mount namespace inode number (as in `/proc/PID/ns/mnt`).
    pub mnt_ns: u32,
    /// Depth of the task's pid namespace: 0 for the host's.
    pub pid_ns_level: u32,
    /// The task's command name (`comm`, at most 15 bytes).
    pub comm: OsString,
    /// Kernel time of the event (`CLOCK_BOOTTIME`, nanoseconds).
    pub boot_ns: u64,
}

/// A device number as the kernel encodes it in `super_block.s_dev`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Device(pub u32);

impl Device {
    pub fn major(self) -> u32 {
        self.0 >> 20
    }

    pub fn minor(self) -> u32 {
        self.0 & 0xfffff
    }

    /// The same device as `stat(2)` reports it in `st_dev` (glibc's `makedev` encoding).
    pub fn st_dev(self) -> u64 {
        let (major, minor) = (u64::from(self.major()), u64::from(self.minor()));
        ((major & 0xfffff000) << 32) | ((major & 0xfff) << 8) | ((minor & 0xffffff00) << 12) | (minor & 0xff)
    }
}

/// At which tracepoint a watched syscall was seen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyscallPhase {
    /// At `sys_enter`: the call reached its handler (its outcome follows as `Event::Result`).
    Entry,
    /// Only at `sys_exit`: the call was refused before `sys_enter` (by seccomp), with this
    /// return value (`-EPERM` under Docker's default profile).
    RefusedBeforeEntry { ret: i64 },
}

/// How a file event's path matched the path rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MatchKind {
    /// Equal to an exact path rule.
    Exact,
    /// Under a directory prefix rule.
    Prefix,
    /// Its final component equals a name rule.
    Name,
    /// Relative, or with `.`, `..` or empty components: the kernel could not match it, user
    /// space resolves it (against `/proc/PID/cwd` or the directory fd).
    Unresolved,
}

/// Which rule matched and on which path of the call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PathMatch {
    pub kind: MatchKind,
    /// The rule's id (0 for [`MatchKind::Unresolved`]).
    pub rule_id: u32,
    /// 1: `path` matched; 2: `path2` matched.
    pub which: u8,
}

/// The path arguments of a file event, as the kernel read them from the caller's memory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserPath {
    pub path: PathBuf,
    /// The path was longer than the event can hold: only its first 255 bytes are here.
    pub truncated: bool,
    /// The path could not be read (not resident in memory at entry nor at exit).
    pub unreadable: bool,
    /// The directory fd the path is relative to (`None`: the current directory, `AT_FDCWD`).
    pub dirfd: Option<i32>,
}

/// The entry event an [`Event::Result`] completes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResultOf {
    Syscall,
    FileWrite,
}

/// One decoded event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A watched process executed a program (`sched_process_exec`).
    Exec {
        process: Process,
        /// The path given to `execve` (`/dev/fd/N` for `fexecve`).
        filename: PathBuf,
        filename_truncated: bool,
        /// The executed file's own name (dentry), e.g. `memfd:payload` for a memfd.
        exe_name: OsString,
        /// The new program's arguments (the first `args_max` bytes of its argument area).
        argv: Vec<OsString>,
        args_truncated: bool,
        /// Size of the whole argument area, of which `argv` holds the first `args_max` bytes.
        args_size: u32,
        /// Inode and device of the file mapped (the interpreter, for a script).
        inode: u64,
        device: Device,
        nlink: u32,
        /// Size and change time (seconds, nanoseconds) of the file mapped: a file whose
        /// content, links or attributes changed has another change time.
        size: u64,
        ctime: (i64, u32),
        /// The file is a memfd (its name starts with `memfd:`).
        memfd: bool,
        /// The file has no link left (deleted, or never linked).
        deleted: bool,
        /// The file executed was a script (or a `binfmt_misc` format): the file mapped,
        /// described by `inode`, `size` and `ctime`, is its interpreter.
        interpreted: bool,
    },
    /// The last thread of a watched process exited (`sched_process_exit`).
    Exit {
        process: Process,
        /// Wait status: `code << 8`, or the signal number.
        exit_code: u32,
    },
    /// A watched process attempted a watched syscall.
    Syscall {
        process: Process,
        nr: u32,
        /// The syscall's name ("unknown" for a number this crate does not know).
        name: &'static str,
        syscall: Option<Syscall>,
        args: [u64; 6],
        /// Entered through the 32-bit (ia32) syscall entry: `nr` is an ia32 number.
        compat: bool,
        phase: SyscallPhase,
        /// The call's string argument, when it has one worth keeping (mount source, ...).
        string_arg: Option<OsString>,
    },
    /// A watched process attempted a write (open for write, rename, unlink, truncate, chmod,
    /// chown, link, symlink) on a path that matched the path rules.
    FileWrite {
        process: Process,
        nr: u32,
        name: &'static str,
        op: FileOp,
        compat: bool,
        /// The open flags (`O_*`); 0 for calls other than open.
        flags: u32,
        path: UserPath,
        /// The second path of rename, link and symlink.
        path2: Option<UserPath>,
        matched: PathMatch,
        args: [u64; 6],
        /// The path could not be read at entry and was matched at exit: the call has
        /// completed, with this return value.
        completed: Option<i64>,
        /// A read-only open (`flags` 0), matched against the read rules in a cgroup whose
        /// reads are watched, not a write.
        read: bool,
    },
    /// The outcome of a call reported at entry (an `Event::Syscall` or `Event::FileWrite` of
    /// the same thread, sent just before).
    Result {
        process: Process,
        nr: u32,
        name: &'static str,
        compat: bool,
        /// The kind of event reported at entry.
        of: ResultOf,
        /// The return value: negative errno on failure (`-EROFS`, `-EPERM`, ...).
        ret: i64,
    },
}

impl Event {
    /// Decodes one ring buffer record.
    pub fn decode(bytes: &[u8]) -> Result<Event, DecodeError> {
        let fields = Fields::new(bytes);
        let Some(kind) = fields.u32(offset::KIND) else {
            return Err(DecodeError::ShortHeader { len: bytes.len(), expected: size::HEADER });
        };
        let expected = match kind {
            abi::EVENT_EXEC => size::EXEC,
            abi::EVENT_EXIT => size::EXIT,
            abi::EVENT_SYSCALL => size::SYSCALL,
            abi::EVENT_FILE => size::FILE,
            abi::EVENT_RESULT => size::RESULT,
            other => return Err(DecodeError::UnknownKind(other)),
        };
        // Every later read is in range once the length is checked; the readers still return
        // an Option, which the `short` closure turns into an error rather than a panic.
        let short = || DecodeError::Short { kind, len: bytes.len(), expected };
        if bytes.len() < expected {
            return Err(short());
        }
        let process = process(&fields).ok_or_else(short)?;
        let header_flags = fields.u32(offset::FLAGS).ok_or_else(short)?;
        let compat = header_flags & abi::HDR_COMPAT != 0;
        match kind {
            abi::EVENT_EXEC => decode_exec(&fields, process).ok_or_else(short),
            abi::EVENT_EXIT => Ok(Event::Exit { process, exit_code: fields.u32(offset::EXIT_CODE).ok_or_else(short)? }),
            abi::EVENT_SYSCALL => decode_syscall(&fields, process, compat).ok_or_else(short)?,
            abi::EVENT_FILE => decode_file(&fields, process, compat).ok_or_else(short)?,
            _ => {
                let nr = fields.u32(offset::RESULT_NR).ok_or_else(short)?;
                let ret = fields.i64(offset::RESULT_RET).ok_or_else(short)?;
                let of = match fields.u32(offset::RESULT_ENTRY_KIND).ok_or_else(short)? {
                    abi::EVENT_SYSCALL => ResultOf::Syscall,
                    abi::EVENT_FILE => ResultOf::FileWrite,
                    other => return Err(DecodeError::InvalidField { field: "result entry kind", value: other.into() }),
                };
                Ok(Event::Result { process, nr, name: name_of(nr, compat), compat, of, ret })
            }
        }
    }

    /// The task the event is about.
    pub fn process(&self) -> &Process {
        match self {
            Event::Exec { process, .. }
            | Event::Exit { process, .. }
            | Event::Syscall { process, .. }
            | Event::FileWrite { process, .. }
            | Event::Result { process, .. } => process,
        }
    }
}

fn name_of(nr: u32, compat: bool) -> &'static str {
    syscall_name(nr, compat).unwrap_or("unknown")
}

fn os(bytes: &[u8]) -> OsString {
    OsString::from_vec(bytes.to_vec())
}

fn process(f: &Fields<'_>) -> Option<Process> {
    Some(Process {
        pid: f.u32(offset::PID)?,
        tgid: f.u32(offset::TGID)?,
        ppid: f.u32(offset::PPID)?,
        uid: f.u32(offset::UID)?,
        gid: f.u32(offset::GID)?,
        euid: f.u32(offset::EUID)?,
        cgroup_id: f.u64(offset::CGROUP_ID)?,
        mnt_ns: f.u32(offset::MNT_NS)?,
        pid_ns_level: f.u32(offset::PID_NS_LEVEL)?,
        comm: os(f.c_string(offset::COMM, abi::COMM_LEN)?),
        boot_ns: f.u64(offset::BOOT_NS)?,
    })
}

fn args(f: &Fields<'_>, at: usize) -> Option<[u64; 6]> {
    let mut out = [0u64; 6];
    for (i, slot) in out.iter_mut().enumerate() {
        *slot = f.u64(at + i * 8)?;
    }
    Some(out)
}

fn decode_exec(f: &Fields<'_>, process: Process) -> Option<Event> {
    let flags = f.u32(offset::EXEC_FLAGS)?;
    let filename = f.counted(offset::EXEC_FILENAME, f.u32(offset::EXEC_FILENAME_LEN)?, abi::PATH_LEN - 1)?;
    let area = f.counted(offset::EXEC_ARGS, f.u32(offset::EXEC_ARGS_LEN)?, abi::ARGS_LEN)?;
    // The argument area is NUL-separated and NUL-terminated; a truncated one ends mid-argument.
    let mut argv: Vec<OsString> = area.split(|&b| b == 0).map(os).collect();
    if area.last() == Some(&0) || area.is_empty() {
        argv.pop();
    }
    Some(Event::Exec {
        process,
        filename: PathBuf::from(os(filename)),
        filename_truncated: flags & abi::EXEC_FILENAME_TRUNCATED != 0,
        exe_name: os(f.c_string(offset::EXEC_EXE_NAME, abi::EXE_NAME_LEN)?),
        argv,
        args_truncated: flags & abi::EXEC_ARGS_TRUNCATED != 0,
        args_size: f.u32(offset::EXEC_ARGS_SIZE)?,
        inode: f.u64(offset::EXEC_INODE)?,
        device: Device(f.u32(offset::EXEC_DEV)?),
        nlink: f.u32(offset::EXEC_NLINK)?,
        size: f.u64(offset::EXEC_SIZE)?,
        ctime: (f.i64(offset::EXEC_CTIME_SEC)?, f.u32(offset::EXEC_CTIME_NSEC)?),
        memfd: flags & abi::EXEC_MEMFD != 0,
        deleted: flags & abi::EXEC_DELETED != 0,
        interpreted: flags & abi::EXEC_INTERPRETED != 0,
    })
}

fn decode_syscall(f: &Fields<'_>, process: Process, compat: bool) -> Option<Result<Event, DecodeError>> {
    let nr = f.u32(offset::SYSCALL_NR)?;
    let phase = match f.u32(offset::SYSCALL_PHASE)? {
        abi::PHASE_ENTRY => SyscallPhase::Entry,
        abi::PHASE_REFUSED => SyscallPhase::RefusedBeforeEntry { ret: f.i64(offset::SYSCALL_RET)? },
        other => return Some(Err(DecodeError::InvalidField { field: "syscall phase", value: other.into() })),
    };
    let str_len = f.u32(offset::SYSCALL_STR_LEN)?;
    let syscall = syscall_by_number(nr, compat);
    let has_string = syscall.is_some_and(|s| crate::syscalls::syscall_rule(s).path_arg != abi::ARG_NONE);
    let string_arg =
        if has_string { Some(os(f.counted(offset::SYSCALL_STR, str_len, abi::STR_LEN - 1)?)) } else { None };
    Some(Ok(Event::Syscall {
        process,
        nr,
        name: name_of(nr, compat),
        syscall,
        args: args(f, offset::SYSCALL_ARGS)?,
        compat,
        phase,
        string_arg,
    }))
}

fn decode_file(f: &Fields<'_>, process: Process, compat: bool) -> Option<Result<Event, DecodeError>> {
    let nr = f.u32(offset::FILE_NR)?;
    let op_code = f.u32(offset::FILE_OP)?;
    let Some(op) = FileOp::from_code(op_code) else {
        return Some(Err(DecodeError::InvalidField { field: "file operation", value: op_code.into() }));
    };
    let kind = match f.u32(offset::FILE_MATCH_KIND)? {
        abi::MATCH_EXACT => MatchKind::Exact,
        abi::MATCH_PREFIX => MatchKind::Prefix,
        abi::MATCH_NAME => MatchKind::Name,
        abi::MATCH_UNRESOLVED => MatchKind::Unresolved,
        other => return Some(Err(DecodeError::InvalidField { field: "match kind", value: other.into() })),
    };
    let which = match f.u32(offset::FILE_MATCHED_PATH)? {
        1 => 1,
        2 => 2,
        other => return Some(Err(DecodeError::InvalidField { field: "matched path", value: other.into() })),
    };
    let flags = f.u32(offset::FILE_FLAGS)?;
    let dirfd = |v: i32| (v != AT_FDCWD).then_some(v);
    let path = UserPath {
        path: PathBuf::from(os(f.counted(offset::FILE_PATH, f.u32(offset::FILE_PATH_LEN)?, abi::PATH_LEN - 1)?)),
        truncated: flags & abi::FILE_PATH_TRUNCATED != 0,
        unreadable: flags & abi::FILE_PATH_FAULT != 0,
        dirfd: dirfd(f.i32(offset::FILE_DIRFD)?),
    };
    let path2 = if flags & abi::FILE_PATH2_PRESENT != 0 {
        Some(UserPath {
            path: PathBuf::from(os(f.counted(
                offset::FILE_PATH2,
                f.u32(offset::FILE_PATH2_LEN)?,
                abi::PATH_LEN - 1,
            )?)),
            truncated: flags & abi::FILE_PATH2_TRUNCATED != 0,
            unreadable: flags & abi::FILE_PATH2_FAULT != 0,
            dirfd: dirfd(f.i32(offset::FILE_DIRFD2)?),
        })
    } else {
        None
    };
    let completed = if flags & abi::FILE_AT_EXIT != 0 { Some(f.i64(offset::FILE_RET)?) } else { None };
    Some(Ok(Event::FileWrite {
        process,
        nr,
        name: name_of(nr, compat),
        op,
        compat,
        flags: f.u32(offset::FILE_OPEN_FLAGS)?,
        path,
        path2,
        matched: PathMatch { kind, rule_id: f.u32(offset::FILE_RULE_ID)?, which },
        args: args(f, offset::FILE_ARGS)?,
        completed,
        read: flags & abi::FILE_READ != 0,
    }))
}

/// `AT_FDCWD`: the programs write it when a call has no directory fd argument.
const AT_FDCWD: i32 = -100;

#[cfg(test)]
mod tests {
    use super::*;

    fn put(buf: &mut [u8], at: usize, bytes: &[u8]) {
        buf[at..at + bytes.len()].copy_from_slice(bytes);
    }

    fn header(kind: u32, len: usize) -> Vec<u8> {
        let mut buf = vec![0u8; len];
        put(&mut buf, offset::KIND, &kind.to_le_bytes());
        put(&mut buf, offset::PID, &41u32.to_le_bytes());
        put(&mut buf, offset::TGID, &40u32.to_le_bytes());
        put(&mut buf, offset::CGROUP_ID, &0x1234_5678_9abcu64.to_le_bytes());
        put(&mut buf, offset::PID_NS_LEVEL, &1u32.to_le_bytes());
        put(&mut buf, offset::COMM, b"sh\0garbage");
        buf
    }

    #[test]
    fn decodes_an_exec_record() {
        let mut buf = header(abi::EVENT_EXEC, size::EXEC);
        put(&mut buf, offset::EXEC_FILENAME, b"/bin/true\0");
        put(&mut buf, offset::EXEC_FILENAME_LEN, &9u32.to_le_bytes());
        put(&mut buf, offset::EXEC_ARGS, b"/bin/true\0a b\0\0");
        put(&mut buf, offset::EXEC_ARGS_LEN, &15u32.to_le_bytes());
        put(&mut buf, offset::EXEC_EXE_NAME, b"memfd:x\0");
        put(&mut buf, offset::EXEC_FLAGS, &(abi::EXEC_MEMFD | abi::EXEC_DELETED).to_le_bytes());
        put(&mut buf, offset::EXEC_DEV, &((8u32 << 20) | 1).to_le_bytes());
        put(&mut buf, offset::EXEC_SIZE, &35_664u64.to_le_bytes());
        put(&mut buf, offset::EXEC_CTIME_SEC, &1_663_687_647i64.to_le_bytes());
        put(&mut buf, offset::EXEC_CTIME_NSEC, &123_456_789u32.to_le_bytes());
        let Event::Exec { process, filename, argv, memfd, deleted, exe_name, device, size, ctime, .. } =
            Event::decode(&buf).unwrap()
        else {
            panic!("not an exec event");
        };
        assert_eq!((process.pid, process.tgid, process.cgroup_id), (41, 40, 0x1234_5678_9abc));
        assert_eq!(process.comm, "sh");
        assert_eq!(filename, PathBuf::from("/bin/true"));
        assert_eq!(argv, vec![OsString::from("/bin/true"), OsString::from("a b"), OsString::new()]);
        assert!(memfd && deleted);
        assert_eq!(exe_name, "memfd:x");
        assert_eq!((size, ctime), (35_664, (1_663_687_647, 123_456_789)));
        assert_eq!((device.major(), device.minor(), device.st_dev()), (8, 1, 0x801));
    }

    #[test]
    fn a_truncated_argument_area_keeps_its_last_partial_argument() {
        let mut buf = header(abi::EVENT_EXEC, size::EXEC);
        put(&mut buf, offset::EXEC_ARGS, b"cat\0/etc/pas");
        put(&mut buf, offset::EXEC_ARGS_LEN, &12u32.to_le_bytes());
        put(&mut buf, offset::EXEC_FLAGS, &abi::EXEC_ARGS_TRUNCATED.to_le_bytes());
        let Ok(Event::Exec { argv, args_truncated, .. }) = Event::decode(&buf) else { panic!("not an exec event") };
        assert_eq!(argv, vec![OsString::from("cat"), OsString::from("/etc/pas")]);
        assert!(args_truncated);
    }

    #[test]
    fn lengths_beyond_their_field_are_clamped() {
        let mut buf = header(abi::EVENT_FILE, size::FILE);
        put(&mut buf, offset::FILE_OP, &1u32.to_le_bytes());
        put(&mut buf, offset::FILE_MATCH_KIND, &abi::MATCH_PREFIX.to_le_bytes());
        put(&mut buf, offset::FILE_MATCHED_PATH, &1u32.to_le_bytes());
        put(&mut buf, offset::FILE_PATH_LEN, &u32::MAX.to_le_bytes());
        put(&mut buf, offset::FILE_DIRFD, &(-100i32).to_le_bytes());
        let Ok(Event::FileWrite { path, path2, matched, .. }) = Event::decode(&buf) else { panic!("not a file event") };
        assert_eq!(path.path.as_os_str().len(), abi::PATH_LEN - 1);
        assert_eq!(path.dirfd, None);
        assert_eq!(path2, None);
        assert_eq!(matched, PathMatch { kind: MatchKind::Prefix, rule_id: 0, which: 1 });
    }

    #[test]
    fn short_and_unknown_records_are_errors() {
        assert_eq!(Event::decode(&[]), Err(DecodeError::ShortHeader { len: 0, expected: size::HEADER }));
        assert_eq!(Event::decode(&[3, 0, 0]), Err(DecodeError::ShortHeader { len: 3, expected: size::HEADER }));
        assert_eq!(Event::decode(&header(9, 100)), Err(DecodeError::UnknownKind(9)));
        for (kind, len) in [
            (abi::EVENT_EXEC, size::EXEC),
            (abi::EVENT_EXIT, size::EXIT),
            (abi::EVENT_SYSCALL, size::SYSCALL),
            (abi::EVENT_FILE, size::FILE),
            (abi::EVENT_RESULT, size::RESULT),
        ] {
            let buf = header(kind, len - 1);
            assert_eq!(Event::decode(&buf), Err(DecodeError::Short { kind, len: len - 1, expected: len }));
        }
    }

    #[test]
    fn invalid_enumerations_are_errors() {
        let mut buf = header(abi::EVENT_SYSCALL, size::SYSCALL);
        put(&mut buf, offset::SYSCALL_PHASE, &7u32.to_le_bytes());
        assert_eq!(Event::decode(&buf), Err(DecodeError::InvalidField { field: "syscall phase", value: 7 }));
        let buf = header(abi::EVENT_FILE, size::FILE);
        assert_eq!(Event::decode(&buf), Err(DecodeError::InvalidField { field: "file operation", value: 0 }));
    }

    proptest::proptest! {
        #[test]
        fn decoding_arbitrary_records_never_panics(
            mut bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..2000),
            kind in 0u32..8,
        ) {
            if bytes.len() >= 4 {
                bytes[..4].copy_from_slice(&kind.to_le_bytes());
            }
            let _ = Event::decode(&bytes);
        }
    }

    #[test]
    fn decodes_a_refused_syscall_with_its_string_argument() {
        let mut buf = header(abi::EVENT_SYSCALL, size::SYSCALL);
        put(&mut buf, offset::SYSCALL_NR, &165u32.to_le_bytes());
        put(&mut buf, offset::SYSCALL_PHASE, &abi::PHASE_REFUSED.to_le_bytes());
        put(&mut buf, offset::SYSCALL_RET, &(-1i64).to_le_bytes());
        put(&mut buf, offset::SYSCALL_STR, b"/dev/sda1\0");
        put(&mut buf, offset::SYSCALL_STR_LEN, &9u32.to_le_bytes());
        let Ok(Event::Syscall { name, syscall, phase, string_arg, compat, .. }) = Event::decode(&buf) else {
            panic!("not a syscall event")
        };
        assert_eq!((name, syscall, compat), ("mount", Some(Syscall::Mount), false));
        assert_eq!(phase, SyscallPhase::RefusedBeforeEntry { ret: -1 });
        assert_eq!(string_arg, Some(OsString::from("/dev/sda1")));
    }
}
