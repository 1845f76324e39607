// SPDX-License-Identifier: (GPL-2.0-only OR Apache-2.0)
/*
 * Empty programs on the syscall hooks, for examples/syscall_floor.rs: what attaching a
 * program costs every syscall of the host before the program does any work.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

SEC("tp_btf/sys_enter")
int BPF_PROG(floor_btf_enter)
{
	return 0;
}

SEC("tp_btf/sys_exit")
int BPF_PROG(floor_btf_exit)
{
	return 0;
}

SEC("raw_tp/sys_enter")
int floor_raw_enter(void *ctx)
{
	return 0;
}

SEC("raw_tp/sys_exit")
int floor_raw_exit(void *ctx)
{
	return 0;
}

/* Attached by the example to syscalls/sys_enter_NAME and syscalls/sys_exit_NAME. */
SEC("tracepoint/syscalls/sys_enter_unshare")
int floor_tp(void *ctx)
{
	return 0;
}
