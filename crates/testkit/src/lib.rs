//! Test support for the crates whose tests run real containers: the test image (loaded
//! into Docker from the archive `scripts/build-test-images.sh` makes), containers that
//! remove themselves, and small static helper programs built from C once per test run.

pub mod pki;
pub mod registry;
pub mod throttle;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

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

/// Runs the docker CLI.
pub fn docker(args: &[&str]) -> Output {
    Command::new("docker").args(args).stdin(Stdio::null()).output().expect("docker runs")
}

/// Compiles `sources` (C files) statically into `dir`, each to a program named after its
/// file stem, so that they run in any container. Panics with the compiler's message.
pub fn build_static_helpers(dir: &Path, sources: &[PathBuf]) {
    std::fs::create_dir_all(dir).expect("helper directory");
    for source in sources {
        let name = source.file_stem().expect("a file name");
        let output = Command::new("cc")
            .args(["-static", "-O1", "-Wall", "-o"])
            .arg(dir.join(name))
            .arg(source)
            .output()
            .expect("cc runs");
        assert!(output.status.success(), "building {}: {}", source.display(), String::from_utf8_lossy(&output.stderr));
    }
}

/// A running container (`sleep`), removed on drop.
#[derive(Debug)]
pub struct Container {
    pub id: String,
    /// The container's first process, in the host's pid namespace.
    pub pid: u32,
}

impl Container {
    /// Starts `sleep SECONDS` in the test image with `--network none` and extra
    /// `docker run` options.
    pub fn start(options: &[&str], seconds: u32) -> Container {
        let seconds = seconds.to_string();
        let mut args = vec!["run", "-d", "--rm", "--network", "none"];
        args.extend_from_slice(options);
        args.extend_from_slice(&[image(), "sleep", &seconds]);
        let output = docker(&args);
        assert!(output.status.success(), "docker run: {}", String::from_utf8_lossy(&output.stderr));
        let id = String::from_utf8_lossy(&output.stdout).trim().to_owned();
        let inspect = docker(&["inspect", "-f", "{{.State.Pid}}", &id]);
        let pid: u32 = String::from_utf8_lossy(&inspect.stdout).trim().parse().expect("container pid");
        Container { id, pid }
    }

    /// Runs a command in the container (`docker exec`).
    pub fn exec(&self, command: &[&str]) -> Output {
        let mut args = vec!["exec", self.id.as_str()];
        args.extend_from_slice(command);
        docker(&args)
    }

    /// Runs a shell script in the container.
    pub fn sh(&self, script: &str) -> Output {
        self.exec(&["sh", "-c", script])
    }
}

impl Drop for Container {
    fn drop(&mut self) {
        let _ = docker(&["rm", "-f", &self.id]);
    }
}
