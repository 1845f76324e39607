//! Prints what the kernel supports, then the shield's events for a while.
//!
//! `cargo run -p shield-bpf --example watch -- [SECONDS] [PATH_RULE...]` (as root). Path
//! rules: `/exact/path`, `/directory/prefix/`, or a bare file name. `SYSCALL_HOOKS=raw` loads
//! the programs with `SyscallHooks::Raw`.

use std::time::{Duration, Instant};

use shield_bpf::{PathRule, ProbeConfig, Probes, SyscallHooks, probe_kernel};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let seconds: u64 = args.next().map(|s| s.parse()).transpose()?.unwrap_or(10);
    println!("{}\n", probe_kernel());

    let raw = std::env::var("SYSCALL_HOOKS").is_ok_and(|hooks| hooks == "raw");
    let syscall_hooks = if raw { SyscallHooks::Raw } else { SyscallHooks::PerSyscall };
    let mut probes = Probes::load(&ProbeConfig { syscall_hooks, ..ProbeConfig::default() })?;
    let timings = probes.timings();
    println!("loaded in {:?}, attached in {:?}", timings.load, timings.attach);
    println!("syscall hooks: {:?}, entry tracepoints: {:?}", probes.syscall_hooks(), probes.entry_tracepoints());
    for (name, count) in probes.verified_instructions() {
        println!("{name}: {count:?} instructions verified");
    }
    for (id, text) in (1..).zip(args) {
        probes.add_path_rule(&PathRule::parse(&text), id)?;
    }
    let deadline = Instant::now() + Duration::from_secs(seconds);
    while Instant::now() < deadline {
        for event in probes.poll_events(Duration::from_millis(200))? {
            println!("{event:?}");
        }
    }
    for (kind, counters) in probes.drop_counters()?.kinds() {
        println!("{kind}: {} emitted, {} dropped", counters.emitted, counters.dropped);
    }
    Ok(())
}
