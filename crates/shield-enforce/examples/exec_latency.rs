//! Measures the exec guard's answer time: 1,000 execs (three loops: 3,000 decisions) of an allowed `/bin/true` in a
//! container, with the loop's wall time with and without the guard.
//!
//! `cargo run --release -p shield-enforce --example exec_latency` (root, dockerd running,
//! image `cguard-test/minbase:bookworm` or `CGUARD_TEST_IMAGE`).

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use shield_enforce::{ContainerTarget, ExecGuard, ExecGuardConfig, FailMode, Reason};

const EXECS: usize = 1000;

fn docker(args: &[&str]) -> String {
    let output = Command::new("docker").args(args).output().expect("docker runs");
    assert!(output.status.success(), "docker {args:?}: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}

fn exec_loop(id: &str) -> Duration {
    let script = format!("i=0; while [ $i -lt {EXECS} ]; do /bin/true; i=$((i+1)); done");
    let start = Instant::now();
    docker(&["exec", id, "sh", "-c", &script]);
    start.elapsed()
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

fn main() {
    let image = std::env::var("CGUARD_TEST_IMAGE").unwrap_or_else(|_| "cguard-test/minbase:bookworm".to_owned());
    let id = docker(&["run", "-d", "--rm", "--network", "none", &image, "sleep", "600"]);
    let pid: u32 = docker(&["inspect", "-f", "{{.State.Pid}}", &id]).parse().expect("pid");

    // The best of three runs each: the machine is shared.
    let best = |id: &str| (0..3).map(|_| exec_loop(id)).min().expect("runs");
    let unguarded = best(&id);

    let (guard, decisions) =
        ExecGuard::start(ExecGuardConfig::new(Duration::from_secs(1), FailMode::FailClosed)).expect("guard");
    let report = guard
        .protect(ContainerTarget {
            id: id.clone(),
            pid,
            allowed: vec![PathBuf::from("/bin/sh"), PathBuf::from("/bin/true")],
        })
        .expect("protect");
    println!("marked mounts: {:?}", report.mounts.marked);
    println!("skipped mounts: {:?}", report.mounts.skipped);
    // Collect decisions while the loops run (the channel is bounded).
    let collector = std::thread::spawn(move || decisions.iter().collect::<Vec<_>>());
    let guarded = best(&id);
    let dropped = guard.dropped_decisions();
    guard.release(&id).expect("release");
    drop(guard);
    let all = collector.join().expect("collector");
    docker(&["rm", "-f", &id]);

    let denied = all.iter().filter(|d| !d.allowed).count();
    let mut program: Vec<Duration> =
        all.iter().filter(|d| d.reason == Reason::AllowListed && d.path.ends_with("true")).map(|d| d.latency).collect();
    let mut loader: Vec<Duration> = all.iter().filter(|d| d.reason == Reason::Interpreter).map(|d| d.latency).collect();
    program.sort();
    loader.sort();
    if let Some(first) = all.iter().find(|d| d.path.ends_with("true")) {
        println!("example decision: {first:?}");
    }
    println!("decisions: {} ({} denied, {} dropped)", all.len(), denied, dropped);
    for (name, sorted) in [("/bin/true (allow-list)", &program), ("ld.so (interpreter)", &loader)] {
        if sorted.is_empty() {
            println!("{name}: no decisions");
            continue;
        }
        println!(
            "{name}: n={} p50={:?} p99={:?} max={:?}",
            sorted.len(),
            percentile(sorted, 0.50),
            percentile(sorted, 0.99),
            sorted[sorted.len() - 1]
        );
    }
    let per_exec = |d: Duration| d / EXECS as u32;
    println!(
        "{EXECS} execs: unguarded {:?} ({:?}/exec), guarded {:?} ({:?}/exec), ratio {:.2}",
        unguarded,
        per_exec(unguarded),
        guarded,
        per_exec(guarded),
        guarded.as_secs_f64() / unguarded.as_secs_f64()
    );
}
