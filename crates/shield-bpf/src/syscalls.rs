//! The syscalls the programs watch, with their x86_64 and ia32 numbers.
//!
//! The kernel side knows no syscall by name: user space writes one `syscall_rules` slot per
//! number (see [`crate::Probes::set_watched`]), so the set can change without reloading.
//! A 32-bit process (or a 64-bit one using `int 0x80`) enters with ia32 numbers: both tables
//! are filled, otherwise that entry would be a way around the filter.

use crate::abi::{
    ARG_NONE, FLAGS_ALWAYS, FLAGS_OPEN_HOW, FLAGS_PATH2_LITERAL, FLAGS_VALUE, RULE_FILE, RULE_SYSCALL, SyscallRule,
};

macro_rules! syscalls {
    ($($variant:ident = $name:literal, $x64:expr, $ia32:expr, $string_arg:expr;)*) => {
        /// A syscall that lets a process leave or attack its sandbox: reported on every
        /// attempt by a watched process (as `Event::Syscall`).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Syscall {
            $(#[doc = concat!("`", $name, "`")] $variant,)*
        }

        impl Syscall {
            /// Every syscall this crate can watch.
            pub const ALL: &'static [Syscall] = &[$(Syscall::$variant,)*];

            /// The kernel's name of the syscall.
            pub fn name(self) -> &'static str {
                match self { $(Syscall::$variant => $name,)* }
            }

            /// The x86_64 syscall number.
            pub fn number(self) -> Option<u32> {
                match self { $(Syscall::$variant => $x64,)* }
            }

            /// The ia32 (32-bit entry) syscall number, when the call exists there.
            pub fn number_ia32(self) -> Option<u32> {
                match self { $(Syscall::$variant => $ia32,)* }
            }

            /// Index of an argument that is a user string worth keeping in the event.
            fn string_arg(self) -> Option<u8> {
                match self { $(Syscall::$variant => $string_arg,)* }
            }
        }
    };
}

syscalls! {
    Ptrace = "ptrace", Some(101), Some(26), None;
    Setns = "setns", Some(308), Some(346), None;
    Unshare = "unshare", Some(272), Some(310), None;
    OpenByHandleAt = "open_by_handle_at", Some(304), Some(342), None;
    Reboot = "reboot", Some(169), Some(88), None;
    InitModule = "init_module", Some(175), Some(128), None;
    FinitModule = "finit_module", Some(313), Some(350), None;
    DeleteModule = "delete_module", Some(176), Some(129), Some(0);
    KexecLoad = "kexec_load", Some(246), Some(283), None;
    KexecFileLoad = "kexec_file_load", Some(320), None, None;
    Bpf = "bpf", Some(321), Some(357), None;
    Mount = "mount", Some(165), Some(21), Some(0);
    Umount2 = "umount2", Some(166), Some(52), Some(0);
    PivotRoot = "pivot_root", Some(155), Some(217), Some(0);
    OpenTree = "open_tree", Some(428), Some(428), Some(1);
    MoveMount = "move_mount", Some(429), Some(429), Some(1);
    Fsopen = "fsopen", Some(430), Some(430), Some(0);
    Fsmount = "fsmount", Some(432), Some(432), None;
    Keyctl = "keyctl", Some(250), Some(288), None;
    Userfaultfd = "userfaultfd", Some(323), Some(374), None;
    ProcessVmReadv = "process_vm_readv", Some(310), Some(347), None;
    ProcessVmWritev = "process_vm_writev", Some(311), Some(348), None;
    PidfdGetfd = "pidfd_getfd", Some(438), Some(438), None;
    Personality = "personality", Some(135), Some(136), None;
    // io_uring operations (open, rename, unlink, ...) bypass the syscall tracepoints: its
    // setup is reported so that the bypass is at least visible.
    IoUringSetup = "io_uring_setup", Some(425), Some(425), None;
}

impl Syscall {
    /// The name of the syscall's tracepoints (`syscalls/sys_enter_NAME`): the name of the
    /// kernel's definition, which is `umount` for umount2.
    pub(crate) fn tracepoint_name(self) -> &'static str {
        match self {
            Syscall::Umount2 => "umount",
            other => other.name(),
        }
    }
}

/// The kind of change a file operation makes (several syscalls share one).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FileOp {
    /// `open`, `openat`, `openat2` with a write flag, and `creat`.
    Open,
    /// `rename`, `renameat`, `renameat2`: the first path is the source, the second the target.
    Rename,
    /// `unlink`, `unlinkat`, `rmdir`.
    Unlink,
    /// `truncate` (and `truncate64` on ia32).
    Truncate,
    /// `chmod`, `fchmodat`, `fchmodat2`.
    Chmod,
    /// `chown`, `lchown`, `fchownat` (and the 32-bit-uid variants on ia32).
    Chown,
    /// `link`, `linkat`: the first path is the existing file, the second the new name.
    Link,
    /// `symlink`, `symlinkat`: the first path is the new link, the second its target.
    Symlink,
}

impl FileOp {
    /// Every file operation.
    pub const ALL: &'static [FileOp] = &[
        FileOp::Open,
        FileOp::Rename,
        FileOp::Unlink,
        FileOp::Truncate,
        FileOp::Chmod,
        FileOp::Chown,
        FileOp::Link,
        FileOp::Symlink,
    ];

    /// The code the programs copy into file events.
    pub(crate) fn code(self) -> u8 {
        match self {
            FileOp::Open => 1,
            FileOp::Rename => 2,
            FileOp::Unlink => 3,
            FileOp::Truncate => 4,
            FileOp::Chmod => 5,
            FileOp::Chown => 6,
            FileOp::Link => 7,
            FileOp::Symlink => 8,
        }
    }

    pub(crate) fn from_code(code: u32) -> Option<FileOp> {
        FileOp::ALL.iter().copied().find(|op| u32::from(op.code()) == code)
    }

    /// A short lower-case name ("open", "rename", ...).
    pub fn name(self) -> &'static str {
        match self {
            FileOp::Open => "open",
            FileOp::Rename => "rename",
            FileOp::Unlink => "unlink",
            FileOp::Truncate => "truncate",
            FileOp::Chmod => "chmod",
            FileOp::Chown => "chown",
            FileOp::Link => "link",
            FileOp::Symlink => "symlink",
        }
    }
}

/// How the programs read one file syscall's arguments.
#[derive(Debug, Clone, Copy)]
pub(crate) struct FileSyscall {
    pub name: &'static str,
    pub op: FileOp,
    pub x64: Option<u32>,
    pub ia32: Option<u32>,
    pub path: u8,
    pub path2: Option<u8>,
    pub dirfd: Option<u8>,
    pub dirfd2: Option<u8>,
    pub flags: Flags,
}

/// Whether a call writes: always, or according to its open flags.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Flags {
    Always,
    /// The open flags are argument `n`.
    Value(u8),
    /// Argument `n` points to a `struct open_how` (its first field is the flags).
    OpenHow(u8),
}

const fn file(name: &'static str, op: FileOp, x64: Option<u32>, ia32: Option<u32>, path: u8) -> FileSyscall {
    FileSyscall { name, op, x64, ia32, path, path2: None, dirfd: None, dirfd2: None, flags: Flags::Always }
}

const fn at(mut call: FileSyscall, dirfd: u8) -> FileSyscall {
    call.dirfd = Some(dirfd);
    call
}

const fn second(mut call: FileSyscall, path2: u8, dirfd2: Option<u8>) -> FileSyscall {
    call.path2 = Some(path2);
    call.dirfd2 = dirfd2;
    call
}

const fn flags(mut call: FileSyscall, flags: Flags) -> FileSyscall {
    call.flags = flags;
    call
}

/// Every file syscall, with its arguments.
pub(crate) const FILE_SYSCALLS: &[FileSyscall] = &[
    flags(file("open", FileOp::Open, Some(2), Some(5), 0), Flags::Value(1)),
    flags(at(file("openat", FileOp::Open, Some(257), Some(295), 1), 0), Flags::Value(2)),
    flags(at(file("openat2", FileOp::Open, Some(437), Some(437), 1), 0), Flags::OpenHow(2)),
    file("creat", FileOp::Open, Some(85), Some(8), 0),
    second(file("rename", FileOp::Rename, Some(82), Some(38), 0), 1, None),
    second(at(file("renameat", FileOp::Rename, Some(264), Some(302), 1), 0), 3, Some(2)),
    second(at(file("renameat2", FileOp::Rename, Some(316), Some(353), 1), 0), 3, Some(2)),
    file("unlink", FileOp::Unlink, Some(87), Some(10), 0),
    at(file("unlinkat", FileOp::Unlink, Some(263), Some(301), 1), 0),
    file("rmdir", FileOp::Unlink, Some(84), Some(40), 0),
    file("truncate", FileOp::Truncate, Some(76), Some(92), 0),
    file("truncate64", FileOp::Truncate, None, Some(193), 0),
    file("chmod", FileOp::Chmod, Some(90), Some(15), 0),
    at(file("fchmodat", FileOp::Chmod, Some(268), Some(306), 1), 0),
    at(file("fchmodat2", FileOp::Chmod, Some(452), Some(452), 1), 0),
    file("chown", FileOp::Chown, Some(92), Some(182), 0),
    file("lchown", FileOp::Chown, Some(94), Some(16), 0),
    file("chown32", FileOp::Chown, None, Some(212), 0),
    file("lchown32", FileOp::Chown, None, Some(198), 0),
    at(file("fchownat", FileOp::Chown, Some(260), Some(298), 1), 0),
    second(file("link", FileOp::Link, Some(86), Some(9), 0), 1, None),
    second(at(file("linkat", FileOp::Link, Some(265), Some(303), 1), 0), 3, Some(2)),
    second(file("symlink", FileOp::Symlink, Some(88), Some(83), 1), 0, None),
    second(at(file("symlinkat", FileOp::Symlink, Some(266), Some(304), 2), 1), 0, None),
];

/// The name of a syscall this crate watches, by number (`None` for any other call).
pub fn syscall_name(nr: u32, ia32: bool) -> Option<&'static str> {
    let number = |x64: Option<u32>, i: Option<u32>| if ia32 { i } else { x64 };
    Syscall::ALL
        .iter()
        .find(|s| number(s.number(), s.number_ia32()) == Some(nr))
        .map(|s| s.name())
        .or_else(|| FILE_SYSCALLS.iter().find(|f| number(f.x64, f.ia32) == Some(nr)).map(|f| f.name))
}

/// The watched syscall with this number.
pub fn syscall_by_number(nr: u32, ia32: bool) -> Option<Syscall> {
    Syscall::ALL.iter().copied().find(|s| if ia32 { s.number_ia32() } else { s.number() } == Some(nr))
}

/// One `syscall_rules` value (`struct syscall_rule`).
pub(crate) fn syscall_rule(syscall: Syscall) -> SyscallRule {
    SyscallRule {
        kind: RULE_SYSCALL,
        op: 0,
        path_arg: syscall.string_arg().unwrap_or(ARG_NONE),
        path2_arg: ARG_NONE,
        flags_arg: ARG_NONE,
        flags_kind: FLAGS_ALWAYS,
        dirfd_arg: ARG_NONE,
        dirfd2_arg: ARG_NONE,
    }
}

/// One `syscall_rules` value for a file syscall.
pub(crate) fn file_rule(call: &FileSyscall) -> SyscallRule {
    let (flags_arg, mut flags_kind) = match call.flags {
        Flags::Always => (ARG_NONE, FLAGS_ALWAYS),
        Flags::Value(n) => (n, FLAGS_VALUE),
        Flags::OpenHow(n) => (n, FLAGS_OPEN_HOW),
    };
    // A symlink's target is stored as written, not resolved: never "unresolved".
    if call.op == FileOp::Symlink {
        flags_kind |= FLAGS_PATH2_LITERAL;
    }
    SyscallRule {
        kind: RULE_FILE,
        op: call.op.code(),
        path_arg: call.path,
        path2_arg: call.path2.unwrap_or(ARG_NONE),
        flags_arg,
        flags_kind,
        dirfd_arg: call.dirfd.unwrap_or(ARG_NONE),
        dirfd2_arg: call.dirfd2.unwrap_or(ARG_NONE),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::abi::SYSCALL_SLOTS;
    use std::collections::HashSet;

    #[test]
    fn numbers_are_unique_and_fit_the_rule_table() {
        for ia32 in [false, true] {
            let mut seen = HashSet::new();
            let numbers = Syscall::ALL
                .iter()
                .map(|s| if ia32 { s.number_ia32() } else { s.number() })
                .chain(FILE_SYSCALLS.iter().map(|f| if ia32 { f.ia32 } else { f.x64 }));
            for nr in numbers.flatten() {
                assert!(nr < SYSCALL_SLOTS, "{nr} does not fit");
                assert!(seen.insert(nr), "{nr} appears twice (ia32: {ia32})");
            }
        }
    }

    /// The numbers agree with the kernel's UAPI headers (linux-libc-dev), where those headers
    /// know the call (bookworm's predate fchmodat2).
    #[test]
    fn numbers_match_the_kernel_headers() {
        let header = |name: &str| {
            let path = format!("/usr/include/x86_64-linux-gnu/asm/{name}");
            let text =
                std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e} (install linux-libc-dev)"));
            text.lines()
                .filter_map(|line| {
                    let mut words = line.strip_prefix("#define __NR_")?.split_whitespace();
                    Some((words.next()?.to_owned(), words.next()?.parse::<u32>().ok()?))
                })
                .collect::<std::collections::HashMap<_, _>>()
        };
        let (x64, ia32) = (header("unistd_64.h"), header("unistd_32.h"));
        let calls = Syscall::ALL
            .iter()
            .map(|s| (s.name(), s.number(), s.number_ia32()))
            .chain(FILE_SYSCALLS.iter().map(|f| (f.name, f.x64, f.ia32)));
        let mut checked = 0;
        for (name, n64, n32) in calls {
            for (table, number) in [(&x64, n64), (&ia32, n32)] {
                match (table.get(name), number) {
                    (Some(expected), Some(number)) => {
                        assert_eq!(*expected, number, "{name}");
                        checked += 1;
                    }
                    (Some(expected), None) => panic!("{name} is {expected} in the headers but missing here"),
                    (None, Some(_)) => assert_eq!(name, "fchmodat2", "{name} is not in the headers"),
                    (None, None) => {}
                }
            }
        }
        assert!(checked > 60, "only {checked} numbers checked");
    }

    #[test]
    fn names_and_numbers_round_trip() {
        assert_eq!(syscall_name(272, false), Some("unshare"));
        assert_eq!(syscall_name(310, true), Some("unshare"));
        assert_eq!(syscall_name(310, false), Some("process_vm_readv"));
        assert_eq!(syscall_name(257, false), Some("openat"));
        assert_eq!(syscall_name(0, false), None);
        assert_eq!(syscall_by_number(169, false), Some(Syscall::Reboot));
        for op in FileOp::ALL {
            assert_eq!(FileOp::from_code(u32::from(op.code())), Some(*op));
        }
        assert_eq!(FileOp::from_code(0), None);
    }
}
