//! Shared pieces of the integration tests: the test image, containers that clean up after
//! themselves, and waiting for decisions.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;
use std::sync::mpsc::Receiver;
use std::time::{Duration, Instant};

use shield_enforce::Decision;

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

/// A running container (`sleep`), removed on drop.
pub struct Container {
    pub id: String,
    pub pid: u32,
}

impl Container {
    /// Starts a container with extra `docker run` options.
    pub fn start(options: &[&str]) -> Container {
        let mut args = vec!["run", "-d", "--rm", "--network", "none"];
        args.extend_from_slice(options);
        args.extend_from_slice(&[image(), "sleep", "600"]);
        let output = docker(&args);
        assert!(output.status.success(), "docker run: {}", String::from_utf8_lossy(&output.stderr));
        let id = String::from_utf8_lossy(&output.stdout).trim().to_owned();
        let inspect = docker(&["inspect", "-f", "{{.State.Pid}}", &id]);
        let pid: u32 = String::from_utf8_lossy(&inspect.stdout).trim().parse().expect("container pid");
        Container { id, pid }
    }

    /// Runs a shell script in the container.
    pub fn sh(&self, script: &str) -> Exec {
        self.exec(&["sh", "-c", script])
    }

    /// Runs a command in the container (`docker exec`).
    pub fn exec(&self, command: &[&str]) -> Exec {
        let mut args = vec!["exec", self.id.as_str()];
        args.extend_from_slice(command);
        Exec::from(docker(&args))
    }
}

impl Drop for Container {
    fn drop(&mut self) {
        let _ = docker(&["rm", "-f", &self.id]);
    }
}

/// The result of a `docker exec`.
#[derive(Debug)]
pub struct Exec {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl From<Output> for Exec {
    fn from(output: Output) -> Exec {
        Exec {
            code: output.status.code(),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }
}

/// Receives decisions until one satisfies `wanted`; returns all received so far.
pub fn wait_for(decisions: &Receiver<Decision>, wanted: impl Fn(&Decision) -> bool) -> Vec<Decision> {
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut seen = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match decisions.recv_timeout(left) {
            Ok(decision) => {
                let done = wanted(&decision);
                seen.push(decision);
                if done {
                    return seen;
                }
            }
            Err(_) => panic!("no such decision; received:\n{seen:#?}"),
        }
    }
}

/// Everything received right now.
pub fn drain(decisions: &Receiver<Decision>) -> Vec<Decision> {
    decisions.try_iter().collect()
}

/// Whether a decision's path names the file `name` (the last component).
pub fn names(decision: &Decision, name: &str) -> bool {
    decision.path.file_name().is_some_and(|n| n == name)
}

/// The directory of the static helper programs (tests/helpers/*.c), built once per run.
/// Containers mount it at /helpers.
pub fn helpers_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("shield-enforce-helpers");
        std::fs::create_dir_all(&dir).expect("helper directory");
        let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/helpers/memfd_exec.c");
        let output = Command::new("cc")
            .args(["-static", "-O1", "-Wall", "-o"])
            .arg(dir.join("memfd_exec"))
            .arg(&source)
            .output()
            .expect("cc runs");
        assert!(output.status.success(), "building {}: {}", source.display(), String::from_utf8_lossy(&output.stderr));
        dir
    })
}
