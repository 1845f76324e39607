// SPDX-License-Identifier: (GPL-2.0-only OR Apache-2.0)
/*
 * The shield's enforcement programs (BPF LSM). Where the kernel lets LSM programs load and
 * `bpf` is an active LSM, they refuse forbidden operations in the kernel itself, matching
 * files by (device, inode) so that no other name, link or mount of a file gets around them:
 *   - exec (bprm_check_security): a task of a protected container may only execute files
 *     on its policy's allow-list (lsm_exec_allow); anything else fails with EPERM. The hook
 *     runs once for the program and once more for each interpreter of a script (`#!`), not
 *     for the ELF loader (mapped by the kernel, not executed);
 *   - writes (file_open with FMODE_WRITE, and the path hooks truncate, unlink, rename,
 *     chmod, chown, link): refused with EPERM when the target is a protected file of the
 *     policy (lsm_protected).
 * Only tasks in a protected cgroup, or below one (up to LSM_CGROUP_DEPTH levels), are
 * judged: lsm_cgroups maps a cgroup v2 id to its policy slot. Every refusal is reported on
 * the lsm_denials ring buffer. Where these programs are refused (EPERM at load on kernels
 * without BPF LSM), the shield uses fanotify and read-only mounts instead.
 *
 * The record and key layouts below are mirrored in src/lsm.rs (offsets pinned here by
 * static assertions, and there by tests). docs/shield-kernel.md ("BPF LSM backend")
 * describes the maps and how the backend is chosen.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#define EPERM 1
/* file->f_mode: the file is open for writing (include/linux/fs.h, a macro: not in BTF). */
#define FMODE_WRITE 0x2
#define LSM_COMM_LEN 16
/* How many cgroup levels under the root are compared with lsm_cgroups. */
#define LSM_CGROUP_DEPTH 8

/* lsm_denial.kind */
#define LSM_DENY_EXEC 1  /* an exec of a file not on the allow-list */
#define LSM_DENY_WRITE 2 /* a write to a protected file */

/* lsm_denial.hook */
#define LSM_HOOK_BPRM_CHECK 1
#define LSM_HOOK_FILE_OPEN 2
#define LSM_HOOK_PATH_TRUNCATE 3
#define LSM_HOOK_PATH_UNLINK 4
#define LSM_HOOK_PATH_RENAME 5
#define LSM_HOOK_PATH_CHMOD 6
#define LSM_HOOK_PATH_CHOWN 7
#define LSM_HOOK_PATH_LINK 8

/* lsm_policy.flags */
#define LSM_POLICY_EXEC 0x1  /* exec is limited to lsm_exec_allow */
#define LSM_POLICY_FILES 0x2 /* the files of lsm_protected are read-only */

/* lsm_counters slots */
#define LSM_COUNT_DENIED 0  /* operations refused */
#define LSM_COUNT_DROPPED 1 /* refusals not reported: the ring buffer was full */

/* Value of lsm_cgroups: the policy of a protected cgroup. */
struct lsm_policy {
	__u32 slot;  /* chosen by user space: the first field of the file keys */
	__u32 flags; /* LSM_POLICY_* */
};

/* Key of lsm_exec_allow and lsm_protected. */
struct lsm_file_key {
	__u32 slot;
	__u32 dev; /* the superblock's kernel dev_t: major << 20 | minor */
	__u64 ino;
};

/* A refusal, as sent on lsm_denials. */
struct lsm_denial {
	__u32 kind; /* LSM_DENY_* */
	__u32 hook; /* LSM_HOOK_* */
	__u64 boot_ns;
	__u64 cgroup_id; /* the task's own cgroup (maybe below the protected one) */
	__u32 pid;       /* thread id, host pid namespace */
	__u32 tgid;
	__u32 slot;
	__u32 dev;
	__u64 ino;
	char comm[LSM_COMM_LEN];
};

_Static_assert(sizeof(struct lsm_policy) == 8, "lsm_policy layout");
_Static_assert(sizeof(struct lsm_file_key) == 16, "lsm_file_key layout");
_Static_assert(__builtin_offsetof(struct lsm_file_key, ino) == 8, "lsm_file_key.ino");
_Static_assert(sizeof(struct lsm_denial) == 64, "lsm_denial layout");
_Static_assert(__builtin_offsetof(struct lsm_denial, boot_ns) == 8, "lsm_denial.boot_ns");
_Static_assert(__builtin_offsetof(struct lsm_denial, cgroup_id) == 16, "lsm_denial.cgroup_id");
_Static_assert(__builtin_offsetof(struct lsm_denial, pid) == 24, "lsm_denial.pid");
_Static_assert(__builtin_offsetof(struct lsm_denial, slot) == 32, "lsm_denial.slot");
_Static_assert(__builtin_offsetof(struct lsm_denial, ino) == 40, "lsm_denial.ino");
_Static_assert(__builtin_offsetof(struct lsm_denial, comm) == 48, "lsm_denial.comm");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 18); /* replaced by the loader's configured size */
} lsm_denials SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u64);
} lsm_counters SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u64);
	__type(value, struct lsm_policy);
} lsm_cgroups SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, struct lsm_file_key);
	__type(value, __u8);
} lsm_exec_allow SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, struct lsm_file_key);
	__type(value, __u8);
} lsm_protected SEC(".maps");

static __always_inline void count(__u32 slot)
{
	__u64 *c = bpf_map_lookup_elem(&lsm_counters, &slot);

	if (c)
		*c += 1; /* per-CPU slot: no other writer */
}

/* The policy of the current task's cgroup or of its nearest protected ancestor, or NULL. */
static __always_inline struct lsm_policy *current_policy(void)
{
	__u64 id = bpf_get_current_cgroup_id();
	struct lsm_policy *policy = bpf_map_lookup_elem(&lsm_cgroups, &id);

	if (policy)
		return policy;
	/* Ancestors from the deepest level up: the nearest protected one decides. */
	for (int level = LSM_CGROUP_DEPTH; level >= 1; level--) {
		__u64 ancestor = bpf_get_current_ancestor_cgroup_id(level);

		if (ancestor == 0 || ancestor == id)
			continue;
		policy = bpf_map_lookup_elem(&lsm_cgroups, &ancestor);
		if (policy)
			return policy;
	}
	return NULL;
}

static __always_inline void key_of(struct lsm_file_key *key, __u32 slot, struct inode *inode)
{
	key->slot = slot;
	key->dev = BPF_CORE_READ(inode, i_sb, s_dev);
	key->ino = BPF_CORE_READ(inode, i_ino);
}

static __always_inline int deny(__u32 kind, __u32 hook, const struct lsm_file_key *key)
{
	struct lsm_denial *e;
	__u64 pid_tgid;

	count(LSM_COUNT_DENIED);
	e = bpf_ringbuf_reserve(&lsm_denials, sizeof(*e), 0);
	if (!e) {
		count(LSM_COUNT_DROPPED);
		return -EPERM;
	}
	pid_tgid = bpf_get_current_pid_tgid();
	e->kind = kind;
	e->hook = hook;
	e->boot_ns = bpf_ktime_get_boot_ns();
	e->cgroup_id = bpf_get_current_cgroup_id();
	e->pid = (__u32)pid_tgid;
	e->tgid = pid_tgid >> 32;
	e->slot = key->slot;
	e->dev = key->dev;
	e->ino = key->ino;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	bpf_ringbuf_submit(e, 0);
	return -EPERM;
}

/*
 * The verdict on a write to `inode` (NULL: a name not yet bound to a file, such as the
 * target of a rename to a new name, which protects nothing). `ret` is the verdict of the
 * BPF LSM programs before this one: a refusal stands.
 */
static __always_inline int check_write(struct inode *inode, __u32 hook, int ret)
{
	struct lsm_policy *policy;
	struct lsm_file_key key;

	if (ret != 0 || !inode)
		return ret;
	policy = current_policy();
	if (!policy || !(policy->flags & LSM_POLICY_FILES))
		return 0;
	key_of(&key, policy->slot, inode);
	if (bpf_map_lookup_elem(&lsm_protected, &key))
		return deny(LSM_DENY_WRITE, hook, &key);
	return 0;
}

static __always_inline struct inode *dentry_inode(struct dentry *dentry)
{
	return BPF_CORE_READ(dentry, d_inode);
}

static __always_inline struct inode *path_inode(const struct path *path)
{
	return BPF_CORE_READ(path, dentry, d_inode);
}

/*
 * The verdict on an exec of bprm->file: the program, or a script's interpreter. The hooks'
 * bodies are functions of their typed arguments, so that the same code can be put through
 * the verifier as another program type where LSM programs are refused (tests/lsm.rs).
 */
static __always_inline int exec_verdict(struct linux_binprm *bprm, int ret)
{
	struct lsm_policy *policy;
	struct lsm_file_key key;

	if (ret != 0)
		return ret;
	policy = current_policy();
	if (!policy || !(policy->flags & LSM_POLICY_EXEC))
		return 0;
	key_of(&key, policy->slot, BPF_CORE_READ(bprm, file, f_inode));
	if (bpf_map_lookup_elem(&lsm_exec_allow, &key))
		return 0;
	return deny(LSM_DENY_EXEC, LSM_HOOK_BPRM_CHECK, &key);
}

/* Every open passes here; only opens for writing (O_TRUNC needs write access too) count. */
static __always_inline int open_verdict(struct file *file, int ret)
{
	if (ret != 0)
		return ret;
	if (!(BPF_CORE_READ(file, f_mode) & FMODE_WRITE))
		return 0;
	return check_write(BPF_CORE_READ(file, f_inode), LSM_HOOK_FILE_OPEN, 0);
}

/* Renaming a protected file away, or over it (and both, for RENAME_EXCHANGE). */
static __always_inline int rename_verdict(struct dentry *old_dentry, struct dentry *new_dentry, int ret)
{
	ret = check_write(dentry_inode(old_dentry), LSM_HOOK_PATH_RENAME, ret);
	return check_write(dentry_inode(new_dentry), LSM_HOOK_PATH_RENAME, ret);
}

SEC("lsm/bprm_check_security")
int BPF_PROG(lsm_bprm_check, struct linux_binprm *bprm, int ret)
{
	return exec_verdict(bprm, ret);
}

SEC("lsm/file_open")
int BPF_PROG(lsm_file_open, struct file *file, int ret)
{
	return open_verdict(file, ret);
}

SEC("lsm/path_truncate")
int BPF_PROG(lsm_path_truncate, const struct path *path, int ret)
{
	return check_write(path_inode(path), LSM_HOOK_PATH_TRUNCATE, ret);
}

SEC("lsm/path_unlink")
int BPF_PROG(lsm_path_unlink, const struct path *dir, struct dentry *dentry, int ret)
{
	return check_write(dentry_inode(dentry), LSM_HOOK_PATH_UNLINK, ret);
}

SEC("lsm/path_rename")
int BPF_PROG(lsm_path_rename, const struct path *old_dir, struct dentry *old_dentry, const struct path *new_dir,
	     struct dentry *new_dentry, unsigned int flags, int ret)
{
	return rename_verdict(old_dentry, new_dentry, ret);
}

SEC("lsm/path_chmod")
int BPF_PROG(lsm_path_chmod, const struct path *path, umode_t mode, int ret)
{
	return check_write(path_inode(path), LSM_HOOK_PATH_CHMOD, ret);
}

/* uid and gid are kuid_t and kgid_t, passed by value: read here as their one u32 field. */
SEC("lsm/path_chown")
int BPF_PROG(lsm_path_chown, const struct path *path, __u32 uid, __u32 gid, int ret)
{
	return check_write(path_inode(path), LSM_HOOK_PATH_CHOWN, ret);
}

/* A new hard link to a protected file would be a second, unprotected name for it. */
SEC("lsm/path_link")
int BPF_PROG(lsm_path_link, struct dentry *old_dentry, const struct path *new_dir, struct dentry *new_dentry,
	     int ret)
{
	return check_write(dentry_inode(old_dentry), LSM_HOOK_PATH_LINK, ret);
}
