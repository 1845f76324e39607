// SPDX-License-Identifier: (GPL-2.0-only OR Apache-2.0)
/*
 * Ring buffer probe: loading this object creates a ring buffer map and verifies a program
 * that writes to it. It is only loaded, never attached.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} probe_events SEC(".maps");

SEC("raw_tp/sys_enter")
int probe_ringbuf(void *ctx)
{
	__u64 value = 0;

	bpf_ringbuf_output(&probe_events, &value, sizeof(value), 0);
	return 0;
}
