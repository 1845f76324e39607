//! Shared pieces of the integration tests: a test image, containers that clean up after
//! themselves, the helper program, and waiting for events.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use shield_bpf::{Event, ProbeConfig, Probes};

/// How long a test waits for the events it expects.
pub const EVENT_TIMEOUT: Duration = Duration::from_secs(20);

/// The image the containers run: `CGUARD_TEST_IMAGE`, or the Debian minbase image that
/// scripts/build-test-images.sh builds, loaded from its archive when Docker lacks it.
pub fn image() -> &'static str {
    static IMAGE: OnceLock<String> = OnceLock::new();
    IMAGE.get_or_init(|| {
        if let Ok(image) = std::env::var("CGUARD_TEST_IMAGE") {
            return image;
        }
        let image = "cguard-test/minbase:bookworm".to_owned();
        if !docker(&["image", "inspect", &image]).status.success() {
            let images = std::env::var_os("CGUARD_IMAGES")
                .map(PathBuf::from)
                .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.cache/images"));
            let archive = images.join("minbase.tar");
            let load = docker(&["load", "-i", &archive.to_string_lossy()]);
            assert!(
                load.status.success(),
                "{image} is not in Docker and {} could not be loaded (run scripts/build-test-images.sh): {}",
                archive.display(),
                String::from_utf8_lossy(&load.stderr)
            );
        }
        image
    })
}

pub fn docker(args: &[&str]) -> Output {
    Command::new("docker").args(args).stdin(Stdio::null()).output().expect("docker runs")
}

/// The helper program (tests/helpers/actions.c), built static once per test run so that it
/// runs in any container. Its directory is mounted at /helpers in every container.
pub fn helpers_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("shield-bpf-helpers");
        std::fs::create_dir_all(&dir).expect("helper directory");
        let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/helpers/actions.c");
        let output = Command::new("cc")
            .args(["-static", "-O1", "-Wall", "-o"])
            .arg(dir.join("actions"))
            .arg(&source)
            .output()
            .expect("cc runs");
        assert!(output.status.success(), "building {}: {}", source.display(), String::from_utf8_lossy(&output.stderr));
        // A file that holds a protected path, for `actions cold-open`.
        std::fs::write(dir.join("cold-path"), b"/etc/passwd\0").expect("cold-path file");
        dir
    })
}

/// A running container (`sleep`), removed on drop.
pub struct Container {
    pub id: String,
    pub pid: u32,
    pub cgroup_id: u64,
}

impl Container {
    /// Starts a container with extra `docker run` options.
    pub fn start(options: &[&str]) -> Container {
        let volume = format!("{}:/helpers:ro", helpers_dir().display());
        let mut args = vec!["run", "-d", "--rm", "--network", "none", "-v", &volume];
        args.extend_from_slice(options);
        args.extend_from_slice(&[image(), "sleep", "300"]);
        let output = docker(&args);
        assert!(output.status.success(), "docker run: {}", String::from_utf8_lossy(&output.stderr));
        let id = String::from_utf8_lossy(&output.stdout).trim().to_owned();
        let inspect = docker(&["inspect", "-f", "{{.State.Pid}}", &id]);
        let pid: u32 = String::from_utf8_lossy(&inspect.stdout).trim().parse().expect("container pid");
        let cgroup_id = shield_bpf::process_cgroup_id(pid).expect("container cgroup id");
        Container { id, pid, cgroup_id }
    }

    /// Runs a shell script in the container and returns its output.
    pub fn sh(&self, script: &str) -> Output {
        docker(&["exec", &self.id, "sh", "-c", script])
    }

    /// Runs a command in the container and returns its standard output (trimmed).
    pub fn run(&self, command: &[&str]) -> String {
        let mut args = vec!["exec", self.id.as_str()];
        args.extend_from_slice(command);
        let output = docker(&args);
        String::from_utf8_lossy(&output.stdout).trim().to_owned()
    }
}

impl Drop for Container {
    fn drop(&mut self) {
        let _ = docker(&["rm", "-f", &self.id]);
    }
}

/// Loads the programs with the default configuration.
pub fn load() -> Probes {
    Probes::load(&ProbeConfig::default()).expect("the shield's programs load and attach (as root)")
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
