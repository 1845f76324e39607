//! The in-kernel container filter: host processes produce nothing unless their cgroup is
//! watched.

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use shield_bpf::{Event, PathRule, Settings, Syscall};

use crate::support::load;

/// A cgroup v2 directory for the test, removed on drop.
struct TestCgroup {
    path: PathBuf,
    id: u64,
}

impl TestCgroup {
    fn create() -> TestCgroup {
        let root = shield_bpf::cgroup2_mount().expect("a cgroup2 hierarchy");
        let path = root.join(format!("cguard-shield-bpf-test-{}", std::process::id()));
        std::fs::create_dir_all(&path).expect("creating a cgroup (as root)");
        let id = shield_bpf::cgroup_id(&path).unwrap();
        TestCgroup { path, id }
    }
}

impl Drop for TestCgroup {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir(&self.path);
    }
}

/// Runs a host shell script, first moved into `cgroup` when one is given.
fn host_sh(script: &str, cgroup: Option<&TestCgroup>) {
    let script = match cgroup {
        Some(cg) => format!("echo $$ > {}/cgroup.procs && {script}", cg.path.display()),
        None => script.to_owned(),
    };
    let status = Command::new("sh").arg("-c").arg(&script).status().expect("sh runs");
    assert!(status.success(), "{script}");
}

/// All events for a while (the host's events are filtered out, so there is no end marker).
fn events_for(probes: &mut shield_bpf::Probes, period: Duration) -> Vec<Event> {
    let deadline = Instant::now() + period;
    let mut events = Vec::new();
    while Instant::now() < deadline {
        events.extend(probes.poll_events(Duration::from_millis(100)).unwrap());
    }
    events
}

#[test]
fn host_processes_produce_nothing_unless_their_cgroup_is_watched() {
    let mut probes = load();
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("protected");
    probes.add_path_rule(&PathRule::Exact(target.clone()), 9).unwrap();
    let cgroup = TestCgroup::create();
    let script = format!("unshare -U true; echo x >> {}; /bin/true marker-host", target.display());

    // Outside any watched cgroup: nothing, not even from other tests' container runtimes.
    host_sh(&script, None);
    let events = events_for(&mut probes, Duration::from_secs(1));
    let host: Vec<_> = events.iter().filter(|e| e.process().pid_ns_level == 0).collect();
    assert!(host.is_empty(), "host events: {host:#?}");

    // In a watched cgroup, the same script is seen: exec, syscall and file write.
    probes.watch_cgroup(cgroup.id).unwrap();
    host_sh(&script, Some(&cgroup));
    let events = events_for(&mut probes, Duration::from_secs(1));
    let mine: Vec<_> = events.iter().filter(|e| e.process().cgroup_id == cgroup.id).collect();
    assert!(mine.iter().all(|e| e.process().pid_ns_level == 0));
    assert!(mine.iter().any(|e| matches!(e, Event::Exec { argv, .. } if argv.iter().any(|a| a == "marker-host"))));
    assert!(mine.iter().any(|e| matches!(e, Event::Syscall { syscall: Some(Syscall::Unshare), .. })));
    assert!(mine.iter().any(|e| matches!(e, Event::FileWrite { path, .. } if path.path == target)));
    assert!(!events.iter().any(|e| e.process().pid_ns_level == 0 && e.process().cgroup_id != cgroup.id));

    // The settings switch turns cgroup watching off again.
    probes.apply_settings(&Settings { watch_cgroups: false, ..Settings::default() }).unwrap();
    host_sh(&script, Some(&cgroup));
    let events = events_for(&mut probes, Duration::from_secs(1));
    assert!(!events.iter().any(|e| e.process().cgroup_id == cgroup.id), "{events:#?}");
}
