//! Measures the window between a container's start and its protected files becoming
//! read-only when the protection follows Docker's `start` event: the time from the event's
//! timestamp to the end of `protect_files`, split into the time to learn the container's
//! pid (`docker inspect`) and the mounts themselves.
//!
//! `cargo run --release -p shield-enforce --example protect_window` (root, dockerd running).

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use shield_enforce::protect_files;

const RUNS: usize = 10;

fn docker(args: &[&str]) -> String {
    let output = Command::new("docker").args(args).output().expect("docker runs");
    assert!(output.status.success(), "docker {args:?}: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}

fn main() {
    let image = std::env::var("CGUARD_TEST_IMAGE").unwrap_or_else(|_| "cguard-test/minbase:bookworm".to_owned());
    let mut events = Command::new("docker")
        .args(["events", "--filter", "type=container", "--filter", "event=start", "--format", "{{.ID}} {{.TimeNano}}"])
        .stdout(Stdio::piped())
        .spawn()
        .expect("docker events");
    let mut lines = BufReader::new(events.stdout.take().expect("stdout")).lines();
    std::thread::sleep(Duration::from_millis(300));
    let paths = [PathBuf::from("/etc/passwd"), PathBuf::from("/etc/shadow"), PathBuf::from("/etc/cron.d")];
    let mut windows = Vec::new();
    for _ in 0..RUNS {
        let id = docker(&["run", "-d", "--rm", "--network", "none", &image, "sleep", "60"]);
        let line = loop {
            let line = lines.next().expect("event").expect("event line");
            if id.starts_with(line.split(' ').next().unwrap_or("-")) {
                break line;
            }
        };
        let received = Instant::now();
        let started_ns: u128 = line.split(' ').nth(1).and_then(|t| t.parse().ok()).expect("TimeNano");
        let event_delay = SystemTime::now().duration_since(UNIX_EPOCH).expect("clock").as_nanos() - started_ns;
        let pid: u32 = docker(&["inspect", "-f", "{{.State.Pid}}", &id]).parse().expect("pid");
        let inspected = received.elapsed();
        let protection = protect_files(pid, &paths).expect("protect");
        let total = Duration::from_nanos(event_delay as u64) + received.elapsed();
        println!(
            "start event → protected: {:>9.3?} (event delivery {:>8.3?}, inspect {:>8.3?}, mounts {:>8.3?}, {} paths)",
            total,
            Duration::from_nanos(event_delay as u64),
            inspected,
            protection.elapsed,
            protection.mounts.len()
        );
        windows.push(total);
        docker(&["rm", "-f", &id]);
    }
    let _ = events.kill();
    let _ = events.wait();
    windows.sort();
    println!(
        "window over {RUNS} containers: min {:?}, median {:?}, max {:?}",
        windows[0],
        windows[RUNS / 2],
        windows[RUNS - 1]
    );
}
