// SPDX-License-Identifier: (GPL-2.0-only OR Apache-2.0)
/*
 * Tiny programs that the loader's kernel feature probe loads (and attaches, then detaches)
 * one by one: whether the kernel accepts a program type is only known by trying it.
 * None of them does anything.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

SEC("tp_btf/sched_process_exec")
int BPF_PROG(probe_tp_btf, struct task_struct *p)
{
	return 0;
}

SEC("raw_tp/sys_enter")
int probe_raw_tp(void *ctx)
{
	return 0;
}

SEC("fentry/vfs_read")
int BPF_PROG(probe_fentry)
{
	return 0;
}

/* Returns the verdict it was given: attached, it changes nothing. */
SEC("lsm/bprm_check_security")
int BPF_PROG(probe_lsm, struct linux_binprm *bprm, int ret)
{
	return ret;
}
