//! `cguard shield --standalone` against real containers: each test starts the shield with a
//! policy for the test image, waits for `ready`, runs its scenarios (each in a container of
//! its own), and checks that the exact event (category, type, container id and name,
//! image) is written, and that a quiet control container running alongside produces none.
//!
//! Host files are only ever reached through read-only bind mounts: write attempts fail
//! (EROFS) and are still seen.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use serde_json::Value;

/// One shield at a time: they would all see every container, and the machine is small.
pub(crate) static SERIAL: Mutex<()> = Mutex::new(());

const IMAGE: &str = "cguard-test/minbase:bookworm";
/// How long a scenario waits for its event.
pub(crate) const EVENT_TIMEOUT: Duration = Duration::from_secs(20);
/// How long to wait for events that must not come.
pub(crate) const QUIET: Duration = Duration::from_secs(2);

pub(crate) const POLICY: &str = r#"[{"name":"minbase-policy","mode":"detect","images":["cguard-test/minbase:bookworm"],
  "processWhitelist":["/usr/bin/sleep","/bin/sleep","/usr/bin/sh","/bin/sh","/usr/bin/dash","/usr/bin/perl",
    "/usr/bin/cat","/usr/bin/cp","/usr/bin/mv","/usr/bin/rm","/usr/bin/chmod","/usr/bin/chown","/usr/bin/ln",
    "/usr/bin/truncate","/usr/bin/touch","/usr/bin/mkdir","/usr/bin/unshare","/usr/bin/mount","/usr/bin/true"],
  "fileProtection":["/etc/passwd","/etc/protected.d/"]}]"#;

pub(crate) fn docker(args: &[&str]) -> Output {
    Command::new("docker").args(args).stdin(Stdio::null()).output().expect("docker runs")
}

/// The test image, loaded from the test image archive when Docker lacks it.
pub(crate) fn image() -> &'static str {
    static LOADED: OnceLock<()> = OnceLock::new();
    LOADED.get_or_init(|| {
        if !docker(&["image", "inspect", IMAGE]).status.success() {
            let archive = crate::common::image("minbase.tar");
            let load = docker(&["load", "-i", &archive.to_string_lossy()]);
            assert!(load.status.success(), "docker load: {}", String::from_utf8_lossy(&load.stderr));
        }
    });
    IMAGE
}

/// A running shield, stopped with SIGTERM on drop.
pub(crate) struct Shield {
    child: Child,
    events: PathBuf,
    /// Its standard error, line by line.
    log: std::sync::Arc<Mutex<Vec<String>>>,
    _dir: tempfile::TempDir,
}

impl Shield {
    fn start() -> Shield {
        Shield::start_with(POLICY)
    }

    /// A shield with this policy file's text, its runtime socket in its own directory.
    pub(crate) fn start_with(policies: &str) -> Shield {
        Shield::start_listening(policies, None)
    }

    /// A shield with this policy file's text, whose runtime socket is `socket` (`None`: in
    /// its own directory, where no `cguard-runc` asks it anything).
    pub(crate) fn start_listening(policies: &str, socket: Option<&Path>) -> Shield {
        Shield::start_args(policies, socket, &[])
    }

    /// [`Shield::start_listening`], with more arguments.
    pub(crate) fn start_args(policies: &str, socket: Option<&Path>, extra: &[&std::ffi::OsStr]) -> Shield {
        let dir = tempfile::tempdir().expect("temp dir");
        let policy = dir.path().join("policy.json");
        std::fs::write(&policy, policies).expect("policy file");
        let events = dir.path().join("events.jsonl");
        let own_socket = dir.path().join("shield.sock");
        let mut child = Command::new(env!("CARGO_BIN_EXE_cguard"))
            .args(["shield", "--standalone", "--policy-file"])
            .arg(&policy)
            .arg("--events-file")
            .arg(&events)
            .arg("--runtime-socket")
            .arg(socket.unwrap_or(&own_socket))
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("cguard shield starts");
        let stderr = child.stderr.take().expect("stderr");
        let (tx, rx) = std::sync::mpsc::channel();
        let log = std::sync::Arc::new(Mutex::new(Vec::new()));
        let lines = std::sync::Arc::clone(&log);
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                eprintln!("[shield] {line}");
                let ready = line == "ready";
                lines.lock().unwrap_or_else(|p| p.into_inner()).push(line);
                if ready {
                    let _ = tx.send(());
                }
            }
        });
        if rx.recv_timeout(Duration::from_secs(120)).is_err() {
            let _ = child.kill();
            panic!("cguard shield did not print `ready` within two minutes");
        }
        Shield { child, events, log, _dir: dir }
    }

    /// The lines the shield wrote to standard error so far.
    pub(crate) fn stderr_lines(&self) -> Vec<String> {
        self.log.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    fn events(&self) -> Vec<Value> {
        let text = std::fs::read_to_string(&self.events).unwrap_or_default();
        // A line being written may be incomplete: only complete lines count.
        text.lines().filter_map(|l| serde_json::from_str(l).ok()).collect()
    }

    pub(crate) fn events_of(&self, container_id: &str) -> Vec<Value> {
        self.events().into_iter().filter(|e| e["container"]["id"] == container_id).collect()
    }

    /// Waits for an event of the container with this category and type whose description
    /// holds `text` (when given). On time-out, returns the first event of that category and
    /// type, if any, so that the caller can say what differs.
    pub(crate) fn wait_for(
        &self,
        c: &Container,
        category: &str,
        kind: &str,
        text: Option<&str>,
        timeout: Duration,
    ) -> Option<Value> {
        let deadline = Instant::now() + timeout;
        let holds = |e: &Value| text.is_none_or(|t| e["description"].as_str().unwrap_or_default().contains(t));
        loop {
            let events: Vec<Value> =
                self.events_of(&c.id).into_iter().filter(|e| e["category"] == category && e["type"] == kind).collect();
            if let Some(e) = events.iter().find(|e| holds(e)) {
                return Some(e.clone());
            }
            if Instant::now() > deadline {
                return events.into_iter().next();
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Stops the shield with SIGTERM and returns whether it exited cleanly in time.
    pub(crate) fn stop(&mut self) -> bool {
        let _ = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status();
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status.success();
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        false
    }
}

impl Drop for Shield {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            self.stop();
        }
    }
}

/// A container (running `sleep`, or only created), removed on drop.
pub(crate) struct Container {
    pub(crate) id: String,
    pub(crate) name: String,
}

fn unique_name(label: &str) -> String {
    format!("cg-shield-{label}-{}", std::process::id())
}

impl Container {
    pub(crate) fn run(label: &str, options: &[&str]) -> Container {
        Container::make("run", label, options)
    }

    fn create(label: &str, options: &[&str]) -> Container {
        Container::make("create", label, options)
    }

    fn make(verb: &str, label: &str, options: &[&str]) -> Container {
        Container::make_from(verb, label, options, image())
    }

    /// A container of `image` (a tag of the test image) running `sleep 300`.
    pub(crate) fn run_image(label: &str, options: &[&str], image: &str) -> Container {
        Container::make_from("run", label, options, image)
    }

    fn make_from(verb: &str, label: &str, options: &[&str], image: &str) -> Container {
        let name = unique_name(label);
        let _ = docker(&["rm", "-f", &name]);
        let mut args = vec![verb, "--network", "none", "--name", &name];
        if verb == "run" {
            args.push("-d");
        }
        args.extend_from_slice(options);
        args.extend_from_slice(&[image, "sleep", "300"]);
        let out = docker(&args);
        assert!(out.status.success(), "docker {verb} {label}: {}", String::from_utf8_lossy(&out.stderr));
        Container { id: String::from_utf8_lossy(&out.stdout).trim().to_owned(), name }
    }

    pub(crate) fn sh(&self, script: &str) -> Output {
        docker(&["exec", &self.id, "sh", "-c", script])
    }
}

impl Drop for Container {
    fn drop(&mut self) {
        let _ = docker(&["rm", "-f", &self.id]);
    }
}

/// One scenario: a container made with `options`, then `script` run in it, and the event
/// expected (and, optionally, a text its description holds).
struct Scenario {
    label: &'static str,
    create_only: bool,
    options: &'static [&'static str],
    script: &'static str,
    category: &'static str,
    kind: &'static str,
    description: Option<&'static str>,
}

const fn run(
    label: &'static str,
    options: &'static [&'static str],
    script: &'static str,
    category: &'static str,
    kind: &'static str,
) -> Scenario {
    Scenario { label, create_only: false, options, script, category, kind, description: None }
}

const fn with_text(mut s: Scenario, text: &'static str) -> Scenario {
    s.description = Some(text);
    s
}

const fn create(
    label: &'static str,
    options: &'static [&'static str],
    kind: &'static str,
    text: &'static str,
) -> Scenario {
    Scenario { label, create_only: true, options, script: "", category: "environment", kind, description: Some(text) }
}

/// Checks one event against the scenario; `Err` says what differs.
fn check_event(s: &Scenario, c: &Container, event: Option<Value>) -> Result<(), String> {
    let Some(e) = event else { return Err(format!("no {}/{} event", s.category, s.kind)) };
    let expect = [
        ("container.id", &e["container"]["id"], c.id.as_str()),
        ("container.name", &e["container"]["name"], c.name.as_str()),
        ("image", &e["image"], IMAGE),
    ];
    for (field, value, wanted) in expect {
        if value != wanted {
            return Err(format!("{field} is {value}, expected {wanted}"));
        }
    }
    // A container a kubelet would have made: the event names its pod and namespace.
    for (label, field) in [("io.kubernetes.pod.name=", "pod"), ("io.kubernetes.pod.namespace=", "namespace")] {
        let wanted = s.options.iter().find_map(|o| o.strip_prefix(label));
        if e["container"].get(field).and_then(Value::as_str) != wanted {
            return Err(format!("container.{field} is {}, expected {wanted:?}", e["container"][field]));
        }
    }
    if e["blocked"] != false || e["id"].as_str().is_none_or(str::is_empty) || e["time"].as_str().is_none() {
        return Err(format!("malformed event {e}"));
    }
    if let Some(text) = s.description
        && !e["description"].as_str().unwrap_or_default().contains(text)
    {
        return Err(format!("description {} lacks {text:?}", e["description"]));
    }
    if s.category != "environment" {
        let tree = e["process_tree"].as_array().cloned().unwrap_or_default();
        if tree.is_empty() {
            return Err(format!("empty process tree in {e}"));
        }
        // The tree stops at the container: the runtime's processes above it are not in it.
        let runtime = |p: &Value| {
            let name = p["exe"].as_str().unwrap_or_default().rsplit('/').next().unwrap_or_default().to_owned();
            name == "runc" || name == "dockerd" || name.starts_with("containerd")
        };
        if tree.iter().any(runtime) {
            return Err(format!("process tree reaches the runtime: {e}"));
        }
    }
    Ok(())
}

/// Runs scenarios with a shield and a control container, prints a table of results, and
/// fails if any scenario failed or the control container produced an event.
fn run_scenarios(group: &str, scenarios: &[Scenario]) {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let image = image();
    let mut shield = Shield::start();
    // With the engine's defaults: a container doing nothing unusual gives no event at all.
    let control = Container::run(&format!("{group}-control"), &[]);
    let mut results = Vec::new();
    for s in scenarios {
        let c = if s.create_only { Container::create(s.label, s.options) } else { Container::run(s.label, s.options) };
        if !s.create_only {
            let out = c.sh(s.script);
            eprintln!("[{}] exit {:?}: {}", s.label, out.status.code(), String::from_utf8_lossy(&out.stderr).trim());
        }
        let result = check_event(s, &c, shield.wait_for(&c, s.category, s.kind, s.description, EVENT_TIMEOUT));
        results.push((s.label, format!("{}/{}", s.category, s.kind), result));
    }
    // The control container ran alongside: nothing may have been reported about it.
    let _ = control.sh("sleep 0.1");
    std::thread::sleep(QUIET);
    let control_events = shield.events_of(&control.id);
    eprintln!("shield scenarios ({group}, image {image}):");
    for (label, expected, result) in &results {
        eprintln!(
            "  {:<28} {:<36} {}",
            label,
            expected,
            match result {
                Ok(()) => "ok".to_owned(),
                Err(e) => format!("FAILED: {e}"),
            }
        );
    }
    let failed: Vec<_> = results.iter().filter(|(_, _, r)| r.is_err()).collect();
    assert!(failed.is_empty(), "{} of {} scenarios failed", failed.len(), results.len());
    assert!(control_events.is_empty(), "the quiet control container produced events: {control_events:#?}");
    assert!(shield.stop(), "the shield did not stop cleanly on SIGTERM");
}

const EICAR: &str = r"printf '%s' 'X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*' > /tmp/eicar.com && chmod +x /tmp/eicar.com && /tmp/eicar.com; true";

#[test]
fn shield_detects_abnormal_and_malicious_processes() {
    run_scenarios(
        "process",
        &[
            // Labelled as a kubelet labels a pod's container: the event names the pod.
            with_text(
                run(
                    "exec-off-whitelist",
                    &["--label", "io.kubernetes.pod.name=web-7f9c", "--label", "io.kubernetes.pod.namespace=shop"],
                    "id",
                    "process",
                    "abnormal-program",
                ),
                "/usr/bin/id was executed",
            ),
            with_text(
                run(
                    "script-off-whitelist",
                    &[],
                    "printf '#!/bin/sh\\nexit 0\\n' > /tmp/s.sh; chmod +x /tmp/s.sh; /tmp/s.sh",
                    "process",
                    "abnormal-program",
                ),
                "/tmp/s.sh",
            ),
            // A container process running its own program again as the runtime does
            // (`/proc/self/exe init`) is judged: only the runtime's init is not.
            with_text(
                run("self-exe-init", &[], "/proc/self/exe init 2>/dev/null; true", "process", "abnormal-program"),
                "/proc/self/exe was executed",
            ),
            with_text(run("eicar-executed", &[], EICAR, "process", "malicious-program"), "EICAR_Test_File"),
            with_text(
                run(
                    "miner-argv",
                    &[],
                    "true -o stratum+tcp://pool.example.com:3333 --donate-level 1",
                    "process",
                    "malicious-program",
                ),
                "crypto-currency miner",
            ),
            with_text(
                run(
                    "miner-script-file",
                    &[],
                    "printf '#!/bin/sh\\n# stratum+tcp://pool.example.com:3333\\nexit 0\\n' > /tmp/m.sh; chmod +x /tmp/m.sh; /tmp/m.sh",
                    "process",
                    "malicious-program",
                ),
                "Miner_Stratum_URL",
            ),
            // Scanned clean, then rewritten in place (same inode, size and modification
            // time): the change time tells, and the new content is scanned.
            with_text(
                run(
                    "rewritten-in-place",
                    &[],
                    "printf '#!/bin/sh\\n# 00000000000000000000000000000000000\\nexit 0\\n' > /tmp/r.sh; chmod +x /tmp/r.sh; /tmp/r.sh; \
                     sleep 2; touch -r /tmp/r.sh /tmp/ref; \
                     printf '#!/bin/sh\\n# stratum+tcp://pool.example.com:3333\\nexit 0\\n' | dd of=/tmp/r.sh conv=notrunc status=none; \
                     touch -r /tmp/ref /tmp/r.sh; /tmp/r.sh",
                    "process",
                    "malicious-program",
                ),
                "Miner_Stratum_URL",
            ),
        ],
    );
}

#[test]
fn shield_detects_writes_to_protected_files() {
    run_scenarios(
        "file",
        &[
            with_text(run("protected-echo", &[], "echo x >> /etc/passwd", "file", "file-modified"), "(open)"),
            with_text(
                run("protected-mv-onto", &[], "echo x > /tmp/x; mv /tmp/x /etc/passwd", "file", "file-modified"),
                "(rename)",
            ),
            with_text(run("protected-mv-away", &[], "mv /etc/passwd /tmp/p", "file", "file-modified"), "(rename)"),
            with_text(run("protected-rm", &[], "rm -f /etc/passwd", "file", "file-modified"), "(unlink)"),
            with_text(run("protected-chmod", &[], "chmod 600 /etc/passwd", "file", "file-modified"), "(chmod)"),
            with_text(run("protected-chown", &[], "chown 1:1 /etc/passwd", "file", "file-modified"), "(chown)"),
            with_text(run("protected-ln", &[], "ln /etc/passwd /tmp/hard", "file", "file-modified"), "(link)"),
            with_text(
                run("protected-truncate", &[], "truncate -s 0 /etc/passwd", "file", "file-modified"),
                "/etc/passwd",
            ),
            with_text(
                run(
                    "protected-dir-touch",
                    &[],
                    "mkdir -p /etc/protected.d && touch /etc/protected.d/new",
                    "file",
                    "file-modified",
                ),
                "/etc/protected.d/new",
            ),
            with_text(
                // The writer stays alive a moment: a relative path is resolved from the
                // process's working directory, which is gone once the process has exited
                // (a known limit, see docs/shield.md).
                run("protected-relative", &[], "cd /etc && echo x >> passwd; sleep 2", "file", "file-modified"),
                "/etc/passwd,",
            ),
        ],
    );
}

#[test]
fn shield_detects_high_risk_syscalls() {
    run_scenarios(
        "syscall",
        &[
            run("ptrace", &[], "perl -e 'syscall(101, 16, 999999, 0, 0)'", "syscall", "ptrace"),
            run("setns", &[], "perl -e 'syscall(308, -1, 0)'", "syscall", "setns"),
            with_text(run("unshare-refused", &[], "unshare -U true", "syscall", "unshare"), "refused before entry"),
            with_text(
                run(
                    "unshare-unconfined",
                    &["--security-opt", "seccomp=unconfined"],
                    "unshare -U true",
                    "syscall",
                    "unshare",
                ),
                "reached the kernel",
            ),
            run("open-by-handle-at", &[], "perl -e 'syscall(304, -1, 0, 0)'", "syscall", "open_by_handle_at"),
            run("reboot", &[], "perl -e 'syscall(169, 0, 0, 0, 0)'", "syscall", "reboot"),
            run("init-module", &[], "perl -e 'syscall(175, 0, 0, 0)'", "syscall", "init_module"),
            run("finit-module", &[], "perl -e 'syscall(313, -1, 0, 0)'", "syscall", "finit_module"),
            run("kexec-load", &[], "perl -e 'syscall(246, 0, 0, 0, 0)'", "syscall", "kexec_load"),
            run("bpf", &[], "perl -e 'syscall(321, 0, 0, 0)'", "syscall", "bpf"),
            run("mount", &[], "mount -t tmpfs none /mnt", "syscall", "mount"),
            run("keyctl", &[], "perl -e 'syscall(250, 0, 0, 0, 0, 0)'", "syscall", "keyctl"),
            run("userfaultfd", &[], "perl -e 'syscall(323, 0)'", "syscall", "userfaultfd"),
            run("process-vm-writev", &[], "perl -e 'syscall(311, 1, 0, 0, 0, 0, 0)'", "syscall", "process_vm_writev"),
            run("personality", &[], "perl -e 'syscall(135, 0xffffffff)'", "syscall", "personality"),
        ],
    );
}

const MEMFD_EXEC: &str = r#"perl -e 'my $n = "payload"; my $fd = syscall(319, $n, 0); open(my $o, ">&=", $fd) or die; open(my $i, "<", "/bin/true") or die; binmode $i; my $d = do { local $/; <$i> }; syswrite($o, $d) or die; exec { "/proc/self/fd/$fd" } "memfd-marker" or die "exec: $!"'"#;

/// The Dirty COW path: a process opens its own memory for writing and writes over a
/// read-only mapping (the first page of its own program), which `/proc/self/mem` allows.
const DIRTY_COW_WRITE: &str = r#"perl -e 'open(M, "<", "/proc/self/maps") or die; my ($l) = grep { / r--p 00000000 / } <M>; my ($a) = $l =~ /^([0-9a-f]+)-/ or die "no read-only mapping"; open(my $f, "+<", "/proc/self/mem") or die "open: $!"; sysseek($f, hex($a), 0) or die "seek: $!"; defined(syswrite($f, "\x7fELF")) or die "write: $!"; print "wrote over read-only memory at $a\n"'"#;

#[test]
fn shield_detects_escape_attempts() {
    run_scenarios(
        "escape",
        &[
            run("release-agent", &[], "echo /x > /sys/fs/cgroup/release_agent", "escape", "release-agent-write"),
            run(
                "notify-on-release",
                &[],
                "echo 1 > /sys/fs/cgroup/memory/notify_on_release",
                "escape",
                "notify-on-release-write",
            ),
            run("core-pattern", &[], "echo '|/x' > /proc/sys/kernel/core_pattern", "escape", "core-pattern-write"),
            run("proc-mem", &[], "echo x > /proc/1/mem", "escape", "proc-mem-write"),
            run("proc-self-exe", &[], "echo x > /proc/self/exe", "escape", "runc-exe-overwrite"),
            with_text(run("dirty-cow", &[], DIRTY_COW_WRITE, "escape", "dirty-cow"), "/proc/self/mem"),
            run("shocker", &[], "perl -e 'syscall(304, -1, 0, 0)'", "escape", "shocker"),
            run("memfd-exec", &[], MEMFD_EXEC, "escape", "memfd-exec"),
            run(
                "deleted-exec",
                &[],
                "cp /bin/true /tmp/d && exec 3</tmp/d && rm /tmp/d && exec /proc/self/fd/3",
                "escape",
                "deleted-file-exec",
            ),
            with_text(
                run(
                    "host-shadow-write",
                    &["-v", "/etc:/host/etc:ro"],
                    "echo x >> /host/etc/shadow",
                    "escape",
                    "escape-file-access",
                ),
                "the host's /etc/shadow",
            ),
            with_text(
                run(
                    "host-shadow-read",
                    &["-v", "/etc:/host/etc:ro"],
                    "cat /host/etc/shadow > /dev/null",
                    "escape",
                    "escape-file-access",
                ),
                "the container read /host/etc/shadow, which is the host's /etc/shadow",
            ),
            // Read by the shell itself (a redirection): no program names the file.
            with_text(
                run(
                    "host-shadow-redirect",
                    &["-v", "/etc:/host/etc:ro"],
                    "read -r line < /host/etc/shadow",
                    "escape",
                    "escape-file-access",
                ),
                "the container read /host/etc/shadow",
            ),
            with_text(
                run(
                    "host-root-ssh",
                    &["-v", "/root:/hostroot:ro"],
                    "touch /hostroot/.ssh/authorized_keys",
                    "escape",
                    "escape-file-access",
                ),
                "the host's /root/.ssh/authorized_keys",
            ),
            with_text(
                run(
                    "host-root-fs-sudoers",
                    &["-v", "/:/host:ro"],
                    "echo x >> /host/etc/sudoers",
                    "escape",
                    "escape-file-access",
                ),
                "the host's /etc/sudoers",
            ),
        ],
    );
}

#[test]
fn shield_checks_container_environments() {
    run_scenarios(
        "environment",
        &[
            create("env-privileged", &["--privileged"], "privileged", "privileged:true"),
            create(
                "env-cap-add",
                &["--cap-add", "SYS_ADMIN", "--cap-add", "CHOWN"],
                "capabilities",
                "capabilities:[SYS_ADMIN]",
            ),
            create(
                "env-seccomp",
                &["--security-opt", "seccomp=unconfined"],
                "seccomp-unconfined",
                "seccomp=unconfined",
            ),
            // Reported when the configuration asks for it; a default container is the
            // control (see `run_scenarios`).
            create(
                "env-no-new-privs",
                &["--security-opt", "no-new-privileges=false"],
                "no-new-privileges",
                "no-new-privileges:false",
            ),
            create(
                "env-mount-etc",
                &["-v", "/etc:/host/etc:ro"],
                "sensitive-mount",
                r#"mounts:[{"source":"/etc","destination":"/host/etc"}]"#,
            ),
            create(
                "env-mount-docker-sock",
                &["-v", "/var/run/docker.sock:/var/run/docker.sock"],
                "sensitive-mount",
                r#"{"source":"/var/run/docker.sock","destination":"/var/run/docker.sock"}"#,
            ),
            create(
                "env-mount-root",
                &["-v", "/:/host:ro"],
                "sensitive-mount",
                r#"{"source":"/","destination":"/host"}"#,
            ),
            create("env-mount-proc", &["-v", "/proc:/hostproc:ro"], "sensitive-mount", r#""source":"/proc""#),
            Scenario {
                label: "env-at-start",
                create_only: false,
                options: &["--cap-add", "NET_ADMIN"],
                script: "true",
                category: "environment",
                kind: "capabilities",
                description: Some("capabilities:[NET_ADMIN]"),
            },
        ],
    );
}

/// The process tree names the parent of a forbidden program even when the parent exited
/// before the shield handled the exec (exec events are handled up to a poll interval late).
#[test]
fn shield_names_a_parent_that_already_exited() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let shield = Shield::start();
    let c = Container::run("parent-exited", &["--security-opt", "no-new-privileges"]);
    // dash forks for `id` (a command follows), waits for it and exits.
    let out = c.sh("id >/dev/null; exit 0");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let e = shield
        .wait_for(&c, "process", "abnormal-program", Some("/usr/bin/id"), EVENT_TIMEOUT)
        .expect("an abnormal-program event for id");
    let tree = e["process_tree"].as_array().cloned().unwrap_or_default();
    assert!(tree.len() >= 2, "no parent in {e}");
    assert_eq!(tree[0]["exe"], "/usr/bin/id", "{e}");
    let parent = tree[1]["argv"].as_array().cloned().unwrap_or_default();
    assert!(parent.iter().any(|a| a.as_str().is_some_and(|a| a.contains("id >/dev/null;"))), "parent: {}", tree[1]);
}

/// A container configured with care (no-new-privileges, only Docker's own files mounted)
/// produces no environment event, and a whitelisted program no process event.
#[test]
fn shield_stays_quiet_for_a_careful_container() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let shield = Shield::start();
    let hosts = Path::new("/etc/hosts");
    assert!(hosts.exists());
    let c = Container::run(
        "careful",
        &["--security-opt", "no-new-privileges", "-v", "/etc/hosts:/etc/hosts:ro", "--cap-drop", "NET_RAW"],
    );
    let out = c.sh("cat /etc/passwd > /dev/null; echo x > /tmp/other; sleep 0.1");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    // A noisy neighbour proves that the shield was watching meanwhile.
    let noisy = Container::run("careful-neighbour", &["--security-opt", "no-new-privileges"]);
    let _ = noisy.sh("id");
    assert!(shield.wait_for(&noisy, "process", "abnormal-program", None, EVENT_TIMEOUT).is_some());
    std::thread::sleep(QUIET);
    let events = shield.events_of(&c.id);
    assert!(events.is_empty(), "events for a careful container: {events:#?}");
}

/// A container started with the engine's defaults that runs only programs its policy lists
/// gives no event at all: no environment notice for a default setting, no process event
/// for the runtime's own start (`runc init`), at creation, at a restart, or for `docker
/// exec`.
#[test]
fn shield_stays_quiet_for_a_default_container_running_listed_programs() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let shield = Shield::start();
    let c = Container::run("listed-only", &[]);
    let out = c.sh("cat /etc/hostname > /dev/null; true");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let restart = docker(&["restart", "-t", "0", &c.id]);
    assert!(restart.status.success(), "docker restart: {}", String::from_utf8_lossy(&restart.stderr));
    let out = c.sh("true");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    // A noisy neighbour proves that the shield was watching meanwhile.
    let noisy = Container::run("listed-only-neighbour", &[]);
    let _ = noisy.sh("id");
    assert!(shield.wait_for(&noisy, "process", "abnormal-program", None, EVENT_TIMEOUT).is_some());
    std::thread::sleep(QUIET);
    let events = shield.events_of(&c.id);
    assert!(events.is_empty(), "events for a default container running listed programs: {events:#?}");
    let events = shield.events_of(&noisy.id);
    assert!(
        events.iter().all(|e| e["category"] == "process"),
        "only the neighbour's unlisted program is reported: {events:#?}"
    );
}

/// `--report-default-no-new-privileges` reports the default too, with a text that says it
/// is the default; a container that sets no-new-privileges is still not reported.
#[test]
fn shield_reports_default_no_new_privileges_when_asked() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let flag = std::ffi::OsStr::new("--report-default-no-new-privileges");
    let shield = Shield::start_args(POLICY, None, &[flag]);
    let default = Container::create("nnp-default", &[]);
    let set = Container::create("nnp-set", &["--security-opt", "no-new-privileges"]);
    let e = shield.wait_for(&default, "environment", "no-new-privileges", None, EVENT_TIMEOUT);
    let e = e.expect("a no-new-privileges event for a default container");
    assert_eq!(e["description"], "no-new-privileges:false (not set: the runtime's default)", "{e}");
    assert_eq!(e["container"]["name"], default.name.as_str(), "{e}");
    std::thread::sleep(QUIET);
    let events = shield.events_of(&set.id);
    assert!(events.is_empty(), "events for a container with no-new-privileges: {events:#?}");
}

/// A policy file that breaks a rule stops the shield before it starts, naming the policy
/// and the field.
#[test]
fn shield_refuses_invalid_policy_files() {
    let dir = tempfile::tempdir().expect("temp dir");
    let cases = [
        (r#"[{"name":"ok","images":["a:b"],"processWhitelist":["bin/sh"]}]"#, "policy 1 (ok): processWhitelist"),
        (r#"[{"name":"9lives","images":["a:b"]}]"#, "policy 1 (9lives): name"),
        (r#"[{"name":"ok","images":["a:b"]},{"name":"two","mode":"block","images":["a:b"]}]"#, "policy 2 (two): mode"),
        (r#"[{"name":"ok","images":["no-tag"]}]"#, "policy 1 (ok): images"),
        (r#"{"name":"ok"}"#, "not a JSON array of policies"),
    ];
    for (text, message) in cases {
        let path = dir.path().join("policy.json");
        std::fs::write(&path, text).expect("policy file");
        let out = Command::new(env!("CARGO_BIN_EXE_cguard"))
            .args(["shield", "--standalone", "--runtime-socket", "none", "--policy-file"])
            .arg(&path)
            .output()
            .expect("cguard runs");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{text}: {stderr}");
        assert!(stderr.contains(message), "{text}: {stderr:?} lacks {message:?}");
        assert!(!stderr.lines().any(|l| l == "ready"), "{stderr}");
    }
    let out = Command::new(env!("CARGO_BIN_EXE_cguard")).args(["shield"]).output().expect("cguard runs");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--standalone"));
}

/// `--events-file -` writes the JSON lines to standard output.
#[test]
fn shield_writes_events_to_standard_output() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let image = image();
    let dir = tempfile::tempdir().expect("temp dir");
    let policy = dir.path().join("policy.json");
    std::fs::write(&policy, POLICY).expect("policy file");
    let mut child = Command::new(env!("CARGO_BIN_EXE_cguard"))
        .args(["shield", "--standalone", "--runtime-socket", "none", "--events-file", "-", "--policy-file"])
        .arg(&policy)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("cguard shield starts");
    let stderr = child.stderr.take().expect("stderr");
    let stdout = child.stdout.take().expect("stdout");
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if line == "ready" {
                let _ = ready_tx.send(());
            }
        }
    });
    let (line_tx, line_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = line_tx.send(line);
        }
    });
    assert!(ready_rx.recv_timeout(Duration::from_secs(120)).is_ok(), "no `ready`");
    let c = Container::run("stdout", &["--security-opt", "no-new-privileges"]);
    let _ = c.sh("id");
    let deadline = Instant::now() + EVENT_TIMEOUT;
    let mut found = None;
    while found.is_none() && Instant::now() < deadline {
        if let Ok(line) = line_rx.recv_timeout(Duration::from_millis(200)) {
            let event: Value = serde_json::from_str(&line).expect("every line of standard output is a JSON event");
            if event["container"]["id"] == c.id.as_str() && event["type"] == "abnormal-program" {
                found = Some(event);
            }
        }
    }
    let _ = Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
    let status = child.wait().expect("shield exits");
    let event = found.expect("the abnormal-program event on standard output");
    assert_eq!((event["image"].as_str(), event["container"]["name"].as_str()), (Some(image), Some(c.name.as_str())));
    assert!(status.success(), "exit status {status}");
}
