//! Integration tests: they load the programs into the running kernel and drive real
//! containers, so they need root, a kernel with BTF, and a running Docker engine.

mod features;
mod file_events;
mod host_filter;
mod lsm;
mod process_events;
mod support;
mod syscall_events;
