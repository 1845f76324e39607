//! Shared pieces of the integration tests: a test image, containers that clean up after
//! themselves, the helper program, and waiting for events.

use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use shield_bpf::{Event, ProbeConfig, Probes, SyscallHooks};

/// How long a test waits for the events it expects.
pub const EVENT_TIMEOUT: Duration = Duration::from_secs(20);

/// The helper program (tests/helpers/actions.c), built static once per test run so that it
/// runs in any container. Its directory is mounted at /helpers in every container.
pub fn helpers_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("shield-bpf-helpers");
        testkit::build_static_helpers(&dir, &[Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/helpers/actions.c")]);
        // A file that holds a protected path, for `actions cold-open`.
        std::fs::write(dir.join("cold-path"), b"/etc/passwd\0").expect("cold-path file");
        dir
    })
}

/// A running container (`sleep`), removed on drop.
pub struct Container {
    pub pid: u32,
    pub cgroup_id: u64,
    /// Removes the container on drop.
    _inner: testkit::Container,
}

impl Container {
    /// Starts a container with extra `docker run` options.
    pub fn start(options: &[&str]) -> Container {
        let volume = format!("{}:/helpers:ro", helpers_dir().display());
        let mut args = vec!["-v", volume.as_str()];
        args.extend_from_slice(options);
        let inner = testkit::Container::start(&args, 300);
        let cgroup_id = shield_bpf::process_cgroup_id(inner.pid).expect("container cgroup id");
        Container { pid: inner.pid, cgroup_id, _inner: inner }
    }

    /// Runs a shell script in the container and returns its output.
    pub fn sh(&self, script: &str) -> Output {
        self._inner.sh(script)
    }

    /// Runs a command in the container and returns its standard output (trimmed).
    pub fn run(&self, command: &[&str]) -> String {
        String::from_utf8_lossy(&self._inner.exec(command).stdout).trim().to_owned()
    }
}

/// Loads the programs with the default configuration.
pub fn load() -> Probes {
    Probes::load(&ProbeConfig::default()).expect("the shield's programs load and attach (as root)")
}

/// Loads the programs with the given syscall hooks, and checks that they are the ones used.
pub fn load_with(hooks: SyscallHooks) -> Probes {
    let probes = Probes::load(&ProbeConfig { syscall_hooks: hooks, ..ProbeConfig::default() })
        .expect("the shield's programs load and attach (as root)");
    assert_eq!(probes.syscall_hooks(), hooks);
    probes
}

/// Collects the events of one cgroup until `done` holds for the events so far.
pub fn collect(probes: &mut Probes, cgroup_id: u64, mut done: impl FnMut(&[Event]) -> bool) -> Vec<Event> {
    let deadline = Instant::now() + EVENT_TIMEOUT;
    let mut events = Vec::new();
    loop {
        let batch = probes.poll_events(Duration::from_millis(100)).expect("poll");
        events.extend(batch.into_iter().filter(|e| e.process().cgroup_id == cgroup_id));
        if done(&events) {
            return events;
        }
        assert!(Instant::now() < deadline, "timed out; events of cgroup {cgroup_id} so far:\n{events:#?}");
    }
}

/// Collects the events of one cgroup until one of them satisfies `wanted`.
pub fn collect_until(probes: &mut Probes, cgroup_id: u64, wanted: impl Fn(&Event) -> bool) -> Vec<Event> {
    collect(probes, cgroup_id, |events| events.iter().any(&wanted))
}

/// The process id of the exec event whose arguments include `marker`.
pub fn exec_tgid(events: &[Event], marker: &str) -> Option<u32> {
    events.iter().find_map(|e| match e {
        Event::Exec { process, argv, .. } if argv.iter().any(|a| a == marker) => Some(process.tgid),
        _ => None,
    })
}
