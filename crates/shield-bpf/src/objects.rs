//! The compiled eBPF objects, embedded at build time (see build.rs).

/// The detection programs (`bpf/shield.bpf.c`).
pub(crate) const SHIELD: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/shield.bpf.o"));
/// The feature probe programs (`bpf/probe.bpf.c`).
pub(crate) const PROBE: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/probe.bpf.o"));
/// The ring buffer probe (`bpf/probe_ringbuf.bpf.c`).
pub(crate) const PROBE_RINGBUF: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/probe_ringbuf.bpf.o"));
/// The BPF LSM enforcement programs (`bpf/lsm.bpf.c`).
pub(crate) const LSM: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/lsm.bpf.o"));
