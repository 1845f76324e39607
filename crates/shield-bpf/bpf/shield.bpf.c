// SPDX-License-Identifier: (GPL-2.0-only OR Apache-2.0)
/*
 * The shield's detection programs. All filtering that can be done in the kernel is done
 * here, so that user space only sees events it will act on:
 *   - only watched processes (outside the initial pid namespace, or in a watched cgroup);
 *   - only the syscalls that syscall_rules marks (filled from user space);
 *   - file operations only when they write and their path matches path_rules or name_rules.
 * docs/shield-kernel.md describes the hooks, the maps and the limits.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include "shield.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#define PATH_MASK (SHIELD_PATH_LEN - 1)
#define TS_COMPAT 0x0002 /* thread_info.status: a 32-bit syscall is running (x86) */

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 22); /* replaced by the loader's configured size */
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, COUNTER_SLOTS);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct shield_config);
} settings SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, SYSCALL_RULE_SLOTS);
	__type(key, __u32);
	__type(value, struct syscall_rule);
} syscall_rules SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 4096);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct path_key);
	__type(value, struct path_rule);
} path_rules SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, struct name_key);
	__type(value, struct path_rule);
} name_rules SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u64);
	__type(value, __u8);
} watched_cgroups SEC(".maps");

/* Containers whose read-only opens are matched too (against read_rules only): those that
 * mount the host's critical files. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u64);
	__type(value, __u8);
} read_cgroups SEC(".maps");

/* Exact and prefix rules for read-only opens, as in path_rules. */
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 4096);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct path_key);
	__type(value, struct path_rule);
} read_rules SEC(".maps");

/* Calls reported (or to be retried) at entry, by thread id, until their sys_exit. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 8192);
	__type(key, __u64);
	__type(value, struct pending_call);
} pending SEC(".maps");

/* Per-CPU working space: the programs' stack (512 bytes) cannot hold two path keys. */
struct scratch {
	struct path_key key;
	struct path_key key2;
	struct name_key name;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct scratch);
} scratch SEC(".maps");

static __always_inline void count(__u32 kind, __u32 dropped)
{
	__u32 slot = kind * 2 + dropped;
	__u64 *c = bpf_map_lookup_elem(&counters, &slot);

	if (c)
		*c += 1; /* per-CPU slot: no other writer */
}

/*
 * Waking the reader costs the process that submits (an irq_work, a context switch on a
 * busy node), and with the ring's default policy every record the reader has caught up
 * with wakes it: once per exec of a fork+exec loop. Exec and exit records therefore do
 * not wake it, unless the ring is more than an eighth full; the reader drains the ring at
 * its poll interval. Every other record is rare (filtered here) and wakes it at once,
 * which also hands it the exec and exit records queued before.
 */
static __always_inline __u64 lazy_wakeup(void)
{
	__u64 size = bpf_ringbuf_query(&events, BPF_RB_RING_SIZE);

	return bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) > size / 8 ? BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP;
}

static __always_inline struct shield_config *get_config(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&settings, &zero);
}

/* The current task's cgroup, or one of its ancestors, is in watched_cgroups. */
static __always_inline bool cgroup_watched(void)
{
	__u64 id = bpf_get_current_cgroup_id();

	if (bpf_map_lookup_elem(&watched_cgroups, &id))
		return true;
	for (int level = 1; level <= CGROUP_WATCH_DEPTH; level++) {
		__u64 ancestor = bpf_get_current_ancestor_cgroup_id(level);

		if (ancestor == 0)
			break;
		if (bpf_map_lookup_elem(&watched_cgroups, &ancestor))
			return true;
	}
	return false;
}

/*
 * The in-kernel container filter. `task` is the current task in every caller, a trusted BTF
 * pointer: its fields are read with direct (CO-RE relocated) loads, not helper calls, since
 * the syscall programs run this for every watched call of every process.
 */
static __always_inline bool watched(const struct shield_config *cfg, struct task_struct *task)
{
	__u32 flags = cfg->flags;

	if (cfg->ignore_tgid && task->tgid == cfg->ignore_tgid)
		return false;
	if (flags & CFG_WATCH_ALL)
		return true;
	if ((flags & CFG_WATCH_CONTAINERS) && task->thread_pid->level > 0)
		return true;
	if ((flags & CFG_WATCH_CGROUPS) && cgroup_watched())
		return true;
	return false;
}

static __always_inline void fill_header(struct event_header *h, __u32 kind, struct task_struct *task)
{
	h->kind = kind;
	h->flags = 0;
	h->boot_ns = bpf_ktime_get_boot_ns();
	h->pid = BPF_CORE_READ(task, pid);
	h->tgid = BPF_CORE_READ(task, tgid);
	h->ppid = BPF_CORE_READ(task, real_parent, tgid);
	h->uid = BPF_CORE_READ(task, cred, uid.val);
	h->gid = BPF_CORE_READ(task, cred, gid.val);
	h->euid = BPF_CORE_READ(task, cred, euid.val);
	h->cgroup_id = bpf_get_current_cgroup_id();
	h->mnt_ns = BPF_CORE_READ(task, nsproxy, mnt_ns, ns.inum);
	h->pid_ns_level = BPF_CORE_READ(task, thread_pid, level);
	bpf_get_current_comm(h->comm, sizeof(h->comm));
}

/* The inode's change time moved between kernel versions: i_ctime_sec/i_ctime_nsec since
 * 6.11, __i_ctime before, i_ctime before 6.6. */
struct inode___ctime_v66 {
	struct timespec64 __i_ctime;
} __attribute__((preserve_access_index));

struct inode___ctime_old {
	struct timespec64 i_ctime;
} __attribute__((preserve_access_index));

static __always_inline void read_ctime(struct inode *inode, struct exec_event *e)
{
	if (bpf_core_field_exists(inode->i_ctime_sec)) {
		e->ctime_sec = BPF_CORE_READ(inode, i_ctime_sec);
		e->ctime_nsec = BPF_CORE_READ(inode, i_ctime_nsec);
	} else if (bpf_core_field_exists(((struct inode___ctime_v66 *)inode)->__i_ctime)) {
		struct inode___ctime_v66 *i = (void *)inode;

		e->ctime_sec = BPF_CORE_READ(i, __i_ctime.tv_sec);
		e->ctime_nsec = BPF_CORE_READ(i, __i_ctime.tv_nsec);
	} else {
		struct inode___ctime_old *i = (void *)inode;

		e->ctime_sec = BPF_CORE_READ(i, i_ctime.tv_sec);
		e->ctime_nsec = BPF_CORE_READ(i, i_ctime.tv_nsec);
	}
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(shield_exec, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	struct shield_config *cfg = get_config();
	struct exec_event *e;
	__u32 flags = 0;
	long n;

	if (!cfg || !watched(cfg, p))
		return 0;
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		count(EVENT_EXEC, 1);
		return 0;
	}
	fill_header(&e->hdr, EVENT_EXEC, p);

	/* bprm->file is the file mapped: the interpreter when a script was executed. */
	struct file *file = BPF_CORE_READ(bprm, file);
	struct inode *inode = BPF_CORE_READ(file, f_inode);

	e->inode = BPF_CORE_READ(inode, i_ino);
	e->dev = BPF_CORE_READ(inode, i_sb, s_dev);
	e->nlink = BPF_CORE_READ(inode, __i_nlink);
	e->size = BPF_CORE_READ(inode, i_size);
	read_ctime(inode, e);
	if (e->nlink == 0)
		flags |= EXEC_DELETED;

	const unsigned char *dname = BPF_CORE_READ(file, f_path.dentry, d_name.name);

	n = bpf_probe_read_kernel_str(e->exe_name, sizeof(e->exe_name), dname);
	if (n < 0)
		e->exe_name[0] = 0;
	if (n > 6 && e->exe_name[0] == 'm' && e->exe_name[1] == 'e' && e->exe_name[2] == 'm' &&
	    e->exe_name[3] == 'f' && e->exe_name[4] == 'd' && e->exe_name[5] == ':')
		flags |= EXEC_MEMFD;

	const char *filename = BPF_CORE_READ(bprm, filename);

	/* binfmt_script and binfmt_misc replace bprm->interp with the interpreter's name. */
	if (BPF_CORE_READ(bprm, interp) != filename)
		flags |= EXEC_INTERPRETED;

	n = bpf_probe_read_kernel_str(e->filename, sizeof(e->filename), filename);
	e->filename_len = n > 0 ? n - 1 : 0;
	if (n == SHIELD_PATH_LEN) {
		char next = 0;

		bpf_probe_read_kernel(&next, 1, filename + SHIELD_PATH_LEN - 1);
		if (next)
			flags |= EXEC_FILENAME_TRUNCATED;
	}

	/* The new program's argument area: NUL-separated argv, already in place. */
	struct mm_struct *mm = BPF_CORE_READ(p, mm);
	unsigned long start = BPF_CORE_READ(mm, arg_start);
	unsigned long end = BPF_CORE_READ(mm, arg_end);
	__u64 size = end > start ? end - start : 0;
	__u32 max = cfg->args_max;
	__u32 len;

	if (max > SHIELD_ARGS_LEN)
		max = SHIELD_ARGS_LEN;
	len = size < max ? (__u32)size : max;
	if (len > SHIELD_ARGS_LEN)
		len = SHIELD_ARGS_LEN;
	if (len > 0 && bpf_probe_read_user(e->args, len, (const void *)start) < 0)
		len = 0;
	e->args_len = len;
	e->args_size = size > 0xffffffffULL ? 0xffffffffU : (__u32)size;
	if (size > len)
		flags |= EXEC_ARGS_TRUNCATED;
	e->exec_flags = flags;
	e->pad = 0;

	bpf_ringbuf_submit(e, lazy_wakeup());
	count(EVENT_EXEC, 0);
	return 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(shield_exit, struct task_struct *p)
{
	struct shield_config *cfg;
	struct exit_event *e;

	/* One event per process: when its last thread exits (signal->live dropped to 0). */
	if (BPF_CORE_READ(p, signal, live.counter) != 0)
		return 0;
	cfg = get_config();
	if (!cfg || !watched(cfg, p))
		return 0;
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		count(EVENT_EXIT, 1);
		return 0;
	}
	fill_header(&e->hdr, EVENT_EXIT, p);
	e->exit_code = BPF_CORE_READ(p, exit_code);
	e->pad = 0;
	bpf_ringbuf_submit(e, lazy_wakeup());
	count(EVENT_EXIT, 0);
	return 0;
}

/* A 32-bit (ia32) syscall is running: a direct load from the trusted task pointer. */
static __always_inline bool is_compat(struct task_struct *task)
{
	return task->thread_info.status & TS_COMPAT;
}

/* The six arguments from the saved user registers (direct loads from a BTF pointer). */
static __always_inline void read_args(struct pt_regs *regs, bool compat, __u64 *args)
{
	if (compat) {
		/* ia32 calling convention, 32-bit values */
		args[0] = (__u32)regs->bx;
		args[1] = (__u32)regs->cx;
		args[2] = (__u32)regs->dx;
		args[3] = (__u32)regs->si;
		args[4] = (__u32)regs->di;
		args[5] = (__u32)regs->bp;
	} else {
		args[0] = regs->di;
		args[1] = regs->si;
		args[2] = regs->dx;
		args[3] = regs->r10;
		args[4] = regs->r8;
		args[5] = regs->r9;
	}
}

static __always_inline __u64 pick(const __u64 *args, __u8 i)
{
	switch (i) {
	case 0:
		return args[0];
	case 1:
		return args[1];
	case 2:
		return args[2];
	case 3:
		return args[3];
	case 4:
		return args[4];
	case 5:
		return args[5];
	default:
		return 0;
	}
}

static __always_inline struct syscall_rule *rule_for(long id, bool compat)
{
	__u32 slot;

	if (id < 0 || id >= SYSCALL_SLOTS)
		return 0;
	slot = (__u32)id + (compat ? SYSCALL_SLOTS : 0);
	return bpf_map_lookup_elem(&syscall_rules, &slot);
}

static __always_inline void emit_syscall(struct task_struct *task, const struct syscall_rule *rule, long id,
					 const __u64 *args, bool compat, __u32 phase, long ret)
{
	struct syscall_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);

	if (!e) {
		count(EVENT_SYSCALL, 1);
		return;
	}
	fill_header(&e->hdr, EVENT_SYSCALL, task);
	if (compat)
		e->hdr.flags |= HDR_COMPAT;
	e->nr = (__u32)id;
	e->phase = phase;
	e->ret = ret;
	for (int i = 0; i < 6; i++)
		e->args[i] = args[i];
	e->str_len = 0;
	e->pad = 0;
	if (rule->path_arg < 6) {
		long n = bpf_probe_read_user_str(e->str, sizeof(e->str), (const void *)pick(args, rule->path_arg));

		if (n > 0)
			e->str_len = (__u32)(n - 1);
	}
	bpf_ringbuf_submit(e, BPF_RB_FORCE_WAKEUP);
	count(EVENT_SYSCALL, 0);
}

static __always_inline void emit_result(struct task_struct *task, long id, bool compat, __u32 entry_kind, long ret)
{
	struct result_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);

	if (!e) {
		count(EVENT_RESULT, 1);
		return;
	}
	fill_header(&e->hdr, EVENT_RESULT, task);
	if (compat)
		e->hdr.flags |= HDR_COMPAT;
	e->nr = (__u32)id;
	e->entry_kind = entry_kind;
	e->ret = ret;
	bpf_ringbuf_submit(e, BPF_RB_FORCE_WAKEUP);
	count(EVENT_RESULT, 0);
}

/*
 * Reads a user path into key->data. Returns its length without the NUL, SHIELD_PATH_LEN
 * when it did not fit (truncated), or a negative error when it could not be read (the
 * page is not resident: programs on these hooks cannot take a page fault).
 */
static __always_inline long read_path(struct path_key *key, __u64 uptr)
{
	long n = bpf_probe_read_user_str(key->data, sizeof(key->data), (const void *)uptr);

	if (n <= 0)
		return n < 0 ? n : -1;
	if (n == SHIELD_PATH_LEN)
		return SHIELD_PATH_LEN; /* possibly longer: only prefix rules can match */
	return n - 1;
}

struct path_scan {
	__u32 len;
	__u32 start; /* start of the current component */
	__u32 odd;   /* relative, or has an empty, "." or ".." component */
	__u32 which; /* 0: scratch.key, 1: scratch.key2 */
};

/* One step of the component scan, for bpf_loop: index i of the path, or its end. */
static long scan_step(__u32 i, void *ctx)
{
	struct path_scan *st = ctx;
	__u32 zero = 0;
	struct scratch *s;
	const char *data;
	char c, first, second;
	__u32 clen;

	if (i > st->len)
		return 1;
	s = bpf_map_lookup_elem(&scratch, &zero);
	if (!s)
		return 1;
	data = st->which ? s->key2.data : s->key.data;
	c = i < st->len ? data[i & PATH_MASK] : '/';
	if (c != '/')
		return 0;
	clen = i - st->start;
	first = data[st->start & PATH_MASK];
	second = data[(st->start + 1) & PATH_MASK];
	if (clen == 0 && i > 0 && i < st->len)
		st->odd = 1;
	if (clen == 1 && first == '.')
		st->odd = 1;
	if (clen == 2 && first == '.' && second == '.')
		st->odd = 1;
	if (i < st->len)
		st->start = i + 1;
	return 0;
}

/*
 * Matches a path of the scratch space (s->key when which is 0, s->key2 otherwise; len
 * bytes, or SHIELD_PATH_LEN when truncated) against the rules. A literal path (a symlink's
 * target) is never reported as unresolved. Fills *rule and returns true on a match. Uses
 * s->name as working space.
 */
static __always_inline bool match_path(const struct shield_config *cfg, struct scratch *s, __u32 which, long len,
				       bool literal, struct path_rule *rule)
{
	struct path_key *key = which ? &s->key2 : &s->key;
	struct path_rule *hit;

	if (len < 0)
		return false;
	/* Exact entries hold their NUL, so they match only a complete, equal path. */
	key->prefix_len = len >= SHIELD_PATH_LEN ? (SHIELD_PATH_LEN - 1) * 8 : (__u32)(len + 1) * 8;
	hit = bpf_map_lookup_elem(&path_rules, key);
	if (hit) {
		*rule = *hit;
		return true;
	}
	if (len >= SHIELD_PATH_LEN)
		return false;

	struct path_scan st = { .len = (__u32)len, .start = 0, .odd = 0, .which = which };

	if (len == 0 || key->data[0] != '/')
		st.odd = 1;
	bpf_loop(SHIELD_PATH_LEN, scan_step, &st, 0);

	__u32 name_len = st.len - st.start;

	if (name_len > 0 && name_len < SHIELD_NAME_LEN) {
		__u32 n = name_len;

		/* Hide the bound from clang so that the mask reaches the verifier. */
		barrier_var(n);
		__builtin_memset(&s->name, 0, sizeof(s->name));
		bpf_probe_read_kernel(s->name.name, n & (SHIELD_NAME_LEN - 1), &key->data[st.start & PATH_MASK]);
		hit = bpf_map_lookup_elem(&name_rules, &s->name);
		if (hit) {
			*rule = *hit;
			return true;
		}
	}
	if (st.odd && !literal && (cfg->flags & CFG_EMIT_UNRESOLVED)) {
		rule->kind = MATCH_UNRESOLVED;
		rule->rule_id = 0;
		return true;
	}
	return false;
}

/* The current task's cgroup has its read-only opens matched (CFG_READ_WATCH first: no
 * lookup at all while no container mounts the host's critical files). */
static __always_inline bool reads_watched(const struct shield_config *cfg)
{
	__u64 id;

	if (!(cfg->flags & CFG_READ_WATCH))
		return false;
	id = bpf_get_current_cgroup_id();
	return bpf_map_lookup_elem(&read_cgroups, &id) != NULL;
}

/* The open flags of the call, or ~0 when the call always writes; 0 when it does not write. */
static __always_inline __u32 write_flags(const struct shield_config *cfg, const struct syscall_rule *rule,
					 const __u64 *args)
{
	__u32 flags;

	switch (rule->flags_kind & FLAGS_KIND_MASK) {
	case FLAGS_VALUE:
		flags = (__u32)pick(args, rule->flags_arg);
		break;
	case FLAGS_OPEN_HOW: {
		__u64 how_flags = 0;

		if (bpf_probe_read_user(&how_flags, sizeof(how_flags), (const void *)pick(args, rule->flags_arg)) < 0)
			return 0xffffffffU; /* unreadable: report rather than miss a write */
		flags = (__u32)how_flags;
		break;
	}
	default:
		return 0xffffffffU;
	}
	return (flags & cfg->open_write_mask) ? flags : 0;
}

/*
 * A file operation of a watched process: emits a file event when one of its paths matches.
 * Returns 1 when an event was sent, 2 when a path could not be read (retry at exit), 0
 * otherwise. `ret` and `at_exit` describe a retry at sys_exit.
 */
static __always_inline int handle_file(struct task_struct *task, const struct shield_config *cfg,
				       const struct syscall_rule *rule, long id, const __u64 *args, bool compat,
				       bool at_exit, long ret)
{
	__u32 zero = 0;
	struct scratch *s;
	struct path_rule hit = {};
	__u32 oflags = write_flags(cfg, rule, args);
	__u32 matched = 0, file_flags = 0;
	long len, len2 = -1;

	if (!oflags) {
		/* A read-only open: only where reads are watched, and only against read_rules. */
		if (!reads_watched(cfg))
			return 0;
		file_flags |= FILE_READ;
	}
	s = bpf_map_lookup_elem(&scratch, &zero);
	if (!s)
		return 0;
	if (file_flags & FILE_READ) {
		len = read_path(&s->key, pick(args, rule->path_arg));
		if (len < 0)
			return at_exit ? 0 : 2;
		s->key.prefix_len = len >= SHIELD_PATH_LEN ? (SHIELD_PATH_LEN - 1) * 8 : (__u32)(len + 1) * 8;
		struct path_rule *read_hit = bpf_map_lookup_elem(&read_rules, &s->key);

		if (!read_hit)
			return 0;
		hit = *read_hit;
		matched = 1;
		goto emit;
	}

	if (rule->path2_arg < 6) {
		file_flags |= FILE_PATH2_PRESENT;
		len2 = read_path(&s->key2, pick(args, rule->path2_arg));
	}
	len = read_path(&s->key, pick(args, rule->path_arg));
	if (match_path(cfg, s, 0, len, false, &hit))
		matched = 1;
	else if (len2 >= 0 && match_path(cfg, s, 1, len2, rule->flags_kind & FLAGS_PATH2_LITERAL, &hit))
		matched = 2;
	if (!matched) {
		if (!at_exit && (len < 0 || ((file_flags & FILE_PATH2_PRESENT) && len2 < 0)))
			return 2;
		return 0;
	}

emit:;
	struct file_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);

	if (!e) {
		count(EVENT_FILE, 1);
		return 0;
	}
	fill_header(&e->hdr, EVENT_FILE, task);
	if (compat)
		e->hdr.flags |= HDR_COMPAT;
	if (len < 0)
		file_flags |= FILE_PATH_FAULT;
	if (len >= SHIELD_PATH_LEN)
		file_flags |= FILE_PATH_TRUNCATED;
	if ((file_flags & FILE_PATH2_PRESENT) && len2 < 0)
		file_flags |= FILE_PATH2_FAULT;
	if (len2 >= SHIELD_PATH_LEN)
		file_flags |= FILE_PATH2_TRUNCATED;
	if (at_exit)
		file_flags |= FILE_AT_EXIT;
	e->nr = (__u32)id;
	e->op = rule->op;
	e->open_flags = (oflags == 0xffffffffU || (file_flags & FILE_READ)) ? 0 : oflags;
	e->match_kind = hit.kind;
	e->rule_id = hit.rule_id;
	e->file_flags = file_flags;
	e->dirfd = rule->dirfd_arg < 6 ? (__s32)pick(args, rule->dirfd_arg) : -100;
	e->dirfd2 = rule->dirfd2_arg < 6 ? (__s32)pick(args, rule->dirfd2_arg) : -100;
	e->path_len = len < 0 ? 0 : (len >= SHIELD_PATH_LEN ? SHIELD_PATH_LEN - 1 : (__u32)len);
	e->path2_len = len2 < 0 ? 0 : (len2 >= SHIELD_PATH_LEN ? SHIELD_PATH_LEN - 1 : (__u32)len2);
	e->matched_path = matched;
	e->pad = 0;
	e->ret = at_exit ? ret : 0;
	for (int i = 0; i < 6; i++)
		e->args[i] = args[i];
	__builtin_memcpy(e->path, s->key.data, sizeof(e->path));
	__builtin_memcpy(e->path2, s->key2.data, sizeof(e->path2));
	bpf_ringbuf_submit(e, BPF_RB_FORCE_WAKEUP);
	count(EVENT_FILE, 0);
	return 1;
}

/*
 * A file operation is a write by its flags alone (FLAGS_VALUE), or may be one: the cheap
 * check that lets a read-only open, by far the most frequent watched call, return before
 * anything else is looked at.
 */
static __always_inline bool may_write(const struct shield_config *cfg, const struct syscall_rule *rule,
				      const __u64 *args)
{
	if (rule->kind != RULE_FILE || (rule->flags_kind & FLAGS_KIND_MASK) != FLAGS_VALUE)
		return true;
	return ((__u32)pick(args, rule->flags_arg) & cfg->open_write_mask) != 0;
}

/*
 * A watched call at sys_enter: `compat` calls use the ia32 half of the rule table. `files`
 * is false for the per-syscall entry program, whose tracepoints are those of high-risk
 * syscalls only: the file handling is left out of it, and out of its verification.
 */
static __always_inline int on_enter(struct task_struct *task, struct pt_regs *regs, long id, bool compat,
				    bool files)
{
	struct syscall_rule *rule = rule_for(id, compat);
	struct shield_config *cfg;
	struct pending_call call = { .nr = (__u32)id };
	__u64 tid, args[6];

	if (!rule || rule->kind == RULE_NONE || (rule->flags_kind & RULE_AT_EXIT))
		return 0;
	if (!files && rule->kind == RULE_FILE)
		return 0;
	cfg = get_config();
	if (!cfg)
		return 0;
	read_args(regs, compat, args);
	if ((!may_write(cfg, rule, args) && !reads_watched(cfg)) || !watched(cfg, task))
		return 0;
	tid = bpf_get_current_pid_tgid();
	if (rule->kind == RULE_SYSCALL) {
		call.state = PENDING_SYSCALL;
		bpf_map_update_elem(&pending, &tid, &call, BPF_ANY);
		emit_syscall(task, rule, id, args, compat, PHASE_ENTRY, 0);
	} else if (files && rule->kind == RULE_FILE) {
		int r = handle_file(task, cfg, rule, id, args, compat, false, 0);

		if (r == 1)
			call.state = PENDING_FILE;
		else if (r == 2)
			call.state = PENDING_FILE_RETRY;
		if (call.state)
			bpf_map_update_elem(&pending, &tid, &call, BPF_ANY);
	}
	return 0;
}

/*
 * A watched call at sys_exit. Sees calls that seccomp refused before sys_enter (the
 * tracepoint runs after seccomp on x86), reports the outcome of calls reported at entry,
 * and matches again the paths that could not be read at entry (the kernel has faulted them
 * in by now). A call marked RULE_AT_EXIT was seen by no entry hook: it is reported here
 * alone, file operations with their paths and result, syscalls as refused when they failed
 * (seccomp's refusal and the handler's cannot be told apart here), otherwise as an entry
 * event followed by its result.
 */
static __always_inline int on_exit(struct task_struct *task, struct pt_regs *regs, long id, long ret, bool compat)
{
	struct syscall_rule *rule = rule_for(id, compat);
	struct shield_config *cfg;
	struct pending_call *call;
	__u64 tid, args[6];
	__u32 state = 0;
	bool match_file = false;

	if (!rule || rule->kind == RULE_NONE)
		return 0;
	cfg = get_config();
	if (!cfg)
		return 0;
	/* The saved argument registers are intact at exit (only ax holds the result). */
	read_args(regs, compat, args);
	/* A read-only open has nothing to report, unless its container's reads are watched. */
	if ((!may_write(cfg, rule, args) && !reads_watched(cfg)) || !watched(cfg, task))
		return 0;

	if (rule->flags_kind & RULE_AT_EXIT) {
		if (rule->kind == RULE_FILE) {
			match_file = true;
		} else if (ret < 0) {
			emit_syscall(task, rule, id, args, compat, PHASE_REFUSED, ret);
		} else {
			emit_syscall(task, rule, id, args, compat, PHASE_ENTRY, 0);
			emit_result(task, id, compat, EVENT_SYSCALL, ret);
		}
	} else {
		tid = bpf_get_current_pid_tgid();
		call = bpf_map_lookup_elem(&pending, &tid);
		if (call && call->nr == (__u32)id)
			state = call->state;
		if (call)
			bpf_map_delete_elem(&pending, &tid);

		switch (state) {
		case PENDING_SYSCALL:
			emit_result(task, id, compat, EVENT_SYSCALL, ret);
			break;
		case PENDING_FILE:
			emit_result(task, id, compat, EVENT_FILE, ret);
			break;
		case PENDING_FILE_RETRY:
			match_file = true;
			break;
		default:
			/* Not seen at entry: refused before it (seccomp), when it failed. */
			if (rule->kind == RULE_SYSCALL && ret < 0)
				emit_syscall(task, rule, id, args, compat, PHASE_REFUSED, ret);
			break;
		}
	}
	/* One call site: the path matching is inlined (and verified) once. */
	if (match_file)
		handle_file(task, cfg, rule, id, args, compat, true, ret);
	return 0;
}

/*
 * The context of a syscalls/sys_enter_NAME tracepoint program (the layout of the event's
 * format file). Its first word is not the user's registers: those come from the task.
 */
struct syscall_enter_ctx {
	__u64 common;
	__s32 nr;
	__u32 pad;
	__u64 args[6];
};

/*
 * The per-syscall entry hook: attached by the loader to syscalls/sys_enter_NAME of each
 * high-risk syscall that has a tracepoint. These tracepoints fire for x86_64 calls only
 * (never for ia32 ones) and cost other syscalls almost nothing, unlike a raw sys_enter
 * program, which runs on every syscall of the host.
 */
SEC("tracepoint/syscalls/sys_enter")
int shield_tp_enter(struct syscall_enter_ctx *ctx)
{
	struct task_struct *task = bpf_get_current_task_btf();

	return on_enter(task, (struct pt_regs *)bpf_task_pt_regs(task), ctx->nr, false, false);
}

/* The raw entry hook (every syscall of the host): with ProbeConfig's `Raw` syscall hooks. */
SEC("tp_btf/sys_enter")
int BPF_PROG(shield_sys_enter, struct pt_regs *regs, long id)
{
	struct task_struct *task = bpf_get_current_task_btf();

	return on_enter(task, regs, id, is_compat(task), true);
}

/* The exit hook: every syscall of the host, whichever the entry hooks are. */
SEC("tp_btf/sys_exit")
int BPF_PROG(shield_sys_exit, struct pt_regs *regs, long ret)
{
	struct task_struct *task = bpf_get_current_task_btf();

	return on_exit(task, regs, regs->orig_ax, ret, is_compat(task));
}
