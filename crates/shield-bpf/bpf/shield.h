/* SPDX-License-Identifier: (GPL-2.0-only OR Apache-2.0) */
/*
 * Layouts shared by the shield's eBPF programs (shield.bpf.c) and the Rust loader
 * (src/abi.rs decodes them byte by byte). Every struct is laid out without implicit
 * padding and its size is pinned by a static assertion: a change here must be mirrored
 * in src/abi.rs, whose tests check the same sizes and offsets.
 */
#ifndef SHIELD_H
#define SHIELD_H

#define SHIELD_COMM_LEN 16
/* Bytes of a path kept in an event and matched against the path rules (LPM trie limit). */
#define SHIELD_PATH_LEN 256
/* Bytes of a final path component that the name rules can hold (with its NUL padding). */
#define SHIELD_NAME_LEN 64
/* Bytes of the executed file's argument area (NUL-separated argv) kept in an exec event. */
#define SHIELD_ARGS_LEN 1024
/* Bytes of the dentry name of the executed file ("memfd:x" for a memfd). */
#define SHIELD_EXE_NAME_LEN 64
/* Bytes of the optional string argument of a syscall event (mount source, ...). */
#define SHIELD_STR_LEN 128

/* Event kinds: the first u32 of every event. */
#define EVENT_EXEC 1
#define EVENT_EXIT 2
#define EVENT_SYSCALL 3
#define EVENT_FILE 4
#define EVENT_RESULT 5
#define EVENT_KINDS 6

/* Counter slots in the per-CPU `counters` array: kind * 2 + (0 emitted, 1 dropped). */
#define COUNTER_SLOTS (EVENT_KINDS * 2)

/* event_header.flags */
#define HDR_COMPAT 0x1 /* the syscall came through the 32-bit (ia32) entry */

/* exec_event.exec_flags */
#define EXEC_MEMFD 0x1            /* executed file's name starts with "memfd:" */
#define EXEC_DELETED 0x2          /* executed file has no link left (nlink == 0) */
#define EXEC_ARGS_TRUNCATED 0x4   /* the argument area was longer than args_len */
#define EXEC_FILENAME_TRUNCATED 0x8
#define EXEC_INTERPRETED 0x10 /* a script (or binfmt_misc): the file mapped is its interpreter */

/* syscall_event.phase */
#define PHASE_ENTRY 0           /* seen at sys_enter: the call reached its handler */
#define PHASE_REFUSED 1         /* seen only at sys_exit: refused before entry (seccomp) */

/* file_event.file_flags */
#define FILE_PATH_TRUNCATED 0x1
#define FILE_PATH_FAULT 0x2
#define FILE_PATH2_TRUNCATED 0x4
#define FILE_PATH2_FAULT 0x8
#define FILE_PATH2_PRESENT 0x10
#define FILE_AT_EXIT 0x20 /* the path could not be read at entry and was read at exit */
#define FILE_READ 0x40    /* a read-only open in a container whose reads are watched */

/* path_rule.kind and file_event.match_kind */
#define MATCH_EXACT 1
#define MATCH_PREFIX 2
#define MATCH_NAME 3
#define MATCH_UNRESOLVED 4 /* relative or non-canonical path, emitted for user space */

/* syscall_rule.kind */
#define RULE_NONE 0
#define RULE_SYSCALL 1
#define RULE_FILE 2
#define ARG_NONE 0xff

/* syscall_rule.flags_kind */
#define FLAGS_VALUE 0    /* the flags argument is the open flags */
#define FLAGS_OPEN_HOW 1 /* the flags argument points to a struct open_how */
#define FLAGS_ALWAYS 2   /* the call always writes (rename, unlink, ...) */
#define FLAGS_KIND_MASK 0x0f
/* Or-ed into flags_kind: no sys_enter hook sees this call (a file operation, an ia32 call
 * or a syscall without its own tracepoint, when the entry hooks are the per-syscall
 * tracepoints of the high-risk syscalls): the sys_exit program reports it on its own. */
#define RULE_AT_EXIT 0x40
/* Or-ed into flags_kind: the second path is a literal (a symlink's target), never
 * resolved against a directory, so it is matched by the rules but never reported as
 * unresolved. */
#define FLAGS_PATH2_LITERAL 0x80

/* shield_config.flags */
#define CFG_WATCH_CONTAINERS 0x1 /* processes outside the initial pid namespace */
#define CFG_WATCH_CGROUPS 0x2    /* processes in (or below) a cgroup of watched_cgroups */
#define CFG_WATCH_ALL 0x4        /* every process (diagnostics) */
#define CFG_EMIT_UNRESOLVED 0x8  /* file ops on relative or non-canonical paths */
#define CFG_READ_WATCH 0x10      /* read_cgroups holds a cgroup: match its read-only opens */

/* How many cgroup levels under the root are compared with watched_cgroups. */
#define CGROUP_WATCH_DEPTH 8
/* Syscall rules: native numbers at [0, 512), ia32 numbers at [512, 1024). */
#define SYSCALL_SLOTS 512
#define SYSCALL_RULE_SLOTS (2 * SYSCALL_SLOTS)

struct shield_config {
	__u32 flags;
	__u32 open_write_mask; /* open flags that make an open a write (O_WRONLY|O_RDWR|...) */
	__u32 args_max;        /* argument bytes to capture, at most SHIELD_ARGS_LEN */
	__u32 ignore_tgid;     /* a process never reported (the shield itself) */
};

struct syscall_rule {
	__u8 kind;       /* RULE_* */
	__u8 op;         /* file operation code, copied into the event */
	__u8 path_arg;   /* RULE_FILE: argument index of the path; RULE_SYSCALL: string arg */
	__u8 path2_arg;  /* RULE_FILE: argument index of a second path, or ARG_NONE */
	__u8 flags_arg;  /* RULE_FILE: argument index of the open flags, or ARG_NONE */
	__u8 flags_kind; /* FLAGS_*, with FLAGS_PATH2_LITERAL */
	__u8 dirfd_arg;  /* RULE_FILE: argument index of the path's dirfd, or ARG_NONE */
	__u8 dirfd2_arg; /* RULE_FILE: argument index of the second path's dirfd, or ARG_NONE */
};

/* Key of the path_rules LPM trie: prefix_len is in bits. */
struct path_key {
	__u32 prefix_len;
	char data[SHIELD_PATH_LEN];
};

struct name_key {
	char name[SHIELD_NAME_LEN];
};

struct path_rule {
	__u32 kind;    /* MATCH_EXACT, MATCH_PREFIX or MATCH_NAME */
	__u32 rule_id; /* chosen by user space, copied into the event */
};

struct event_header {
	__u32 kind;
	__u32 flags;
	__u64 boot_ns; /* CLOCK_BOOTTIME */
	__u32 pid;     /* thread id, host pid namespace */
	__u32 tgid;
	__u32 ppid;    /* real parent's tgid */
	__u32 uid;
	__u32 gid;
	__u32 euid;
	__u64 cgroup_id; /* cgroup v2 id */
	__u32 mnt_ns;    /* mount namespace inode number */
	__u32 pid_ns_level;
	char comm[SHIELD_COMM_LEN];
};

struct exec_event {
	struct event_header hdr;
	__u64 inode;
	__u32 dev; /* kernel dev_t: major << 20 | minor */
	__u32 nlink;
	__u64 size;	  /* i_size of the file mapped */
	__s64 ctime_sec;  /* its change time: any write, link or unlink moves it */
	__u32 ctime_nsec;
	__u32 exec_flags;
	__u32 filename_len;
	__u32 args_len;  /* bytes captured in args */
	__u32 args_size; /* size of the whole argument area */
	__u32 pad;
	char exe_name[SHIELD_EXE_NAME_LEN];
	char filename[SHIELD_PATH_LEN];
	char args[SHIELD_ARGS_LEN];
};

struct exit_event {
	struct event_header hdr;
	__u32 exit_code; /* wait status: code << 8 | signal */
	__u32 pad;
};

struct syscall_event {
	struct event_header hdr;
	__u32 nr;
	__u32 phase;
	__u64 args[6];
	__s64 ret; /* PHASE_REFUSED: the return value; 0 otherwise */
	__u32 str_len;
	__u32 pad;
	char str[SHIELD_STR_LEN];
};

struct file_event {
	struct event_header hdr;
	__u32 nr;
	__u32 op;
	__u32 open_flags;
	__u32 match_kind;
	__u32 rule_id;
	__u32 file_flags;
	__s32 dirfd;
	__s32 dirfd2;
	__u32 path_len;
	__u32 path2_len;
	__u32 matched_path; /* 1 or 2: which path matched */
	__u32 pad;
	__s64 ret; /* FILE_AT_EXIT: the return value; 0 otherwise */
	__u64 args[6];
	char path[SHIELD_PATH_LEN];
	char path2[SHIELD_PATH_LEN];
};

/* The outcome of a call reported at entry (a syscall or file event), sent at sys_exit. */
struct result_event {
	struct event_header hdr;
	__u32 nr;
	__u32 entry_kind; /* EVENT_SYSCALL or EVENT_FILE */
	__s64 ret;
};

/* Value of the `pending` map: a call of this thread reported at entry, or to be retried. */
struct pending_call {
	__u32 nr;
	__u32 state; /* PENDING_* */
};

#define PENDING_SYSCALL 1   /* a syscall event was sent at entry */
#define PENDING_FILE 2      /* a file event was sent at entry */
#define PENDING_FILE_RETRY 3 /* a path could not be read at entry: match it again at exit */

_Static_assert(sizeof(struct shield_config) == 16, "shield_config layout");
_Static_assert(sizeof(struct syscall_rule) == 8, "syscall_rule layout");
_Static_assert(sizeof(struct path_key) == 260, "path_key layout");
_Static_assert(sizeof(struct path_rule) == 8, "path_rule layout");
_Static_assert(sizeof(struct event_header) == 72, "event_header layout");
_Static_assert(sizeof(struct exec_event) == 1472, "exec_event layout");
_Static_assert(sizeof(struct exit_event) == 80, "exit_event layout");
_Static_assert(sizeof(struct syscall_event) == 272, "syscall_event layout");
_Static_assert(sizeof(struct file_event) == 688, "file_event layout");
_Static_assert(sizeof(struct result_event) == 88, "result_event layout");
_Static_assert(sizeof(struct pending_call) == 8, "pending_call layout");

#endif
