//! Shared pieces of the integration tests: the test image, containers that clean up after
//! themselves, and waiting for decisions.

use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::OnceLock;
use std::sync::mpsc::Receiver;
use std::time::{Duration, Instant};

use shield_enforce::Decision;

pub use testkit::docker;

/// A running container (`sleep`), removed on drop.
pub struct Container {
    pub id: String,
    pub pid: u32,
    inner: testkit::Container,
}

impl Container {
    /// Starts a container with extra `docker run` options.
    pub fn start(options: &[&str]) -> Container {
        let inner = testkit::Container::start(options, 600);
        Container { id: inner.id.clone(), pid: inner.pid, inner }
    }

    /// Runs a shell script in the container.
    pub fn sh(&self, script: &str) -> Exec {
        Exec::from(self.inner.sh(script))
    }

    /// Runs a command in the container (`docker exec`).
    pub fn exec(&self, command: &[&str]) -> Exec {
        Exec::from(self.inner.exec(command))
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
        testkit::build_static_helpers(
            &dir,
            &[Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/helpers/memfd_exec.c")],
        );
        dir
    })
}
