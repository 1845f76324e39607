//! `cguard-runc`: the OCI runtime a container engine is configured with in place of
//! `runc`. Every call is handed to the real `runc` unchanged; `runc start` is handed over
//! only after the shield has protected the container (see the [module](super) text).
//!
//! - No shield listening: the container starts (nothing on this node is protected then).
//! - The shield refuses (an enforce-mode policy could not be put in place and the shield
//!   is fail-closed): `runc start` is not run, and the engine reports the message.
//! - The shield does not answer in time: its greeting said what to do.

use std::ffi::{OsStr, OsString};
use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::net::UnixStream;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Duration;

use super::{Answer, Greeting, SOCKET_ENV, StartRequest};

/// How long the shield has to greet (it greets as soon as it accepts).
const GREETING_TIMEOUT: Duration = Duration::from_secs(2);
/// How long the shield has to protect a container.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(10);
/// The environment variable naming the real runtime (default: `runc` on the `PATH`).
pub const RUNC_ENV: &str = "CGUARD_RUNC";
const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// `runc`'s global options that take a value.
const VALUE_OPTIONS: &[&str] = &["root", "log", "log-format", "criu", "rootless"];

/// A `runc start` call: the global options (to ask `runc state` the same way) and the id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StartCall {
    pub global: Vec<OsString>,
    pub id: String,
}

/// The `runc start` call in `args` (without the program name), if it is one.
pub fn parse_start(args: &[OsString]) -> Option<StartCall> {
    let mut global = Vec::new();
    let mut i = 0;
    while i < args.len() {
        let arg = args[i].to_str()?;
        if let Some(option) = arg.strip_prefix("--").or_else(|| arg.strip_prefix('-')) {
            global.push(args[i].clone());
            if !option.contains('=') && VALUE_OPTIONS.contains(&option) {
                global.push(args.get(i + 1)?.clone());
                i += 1;
            }
            i += 1;
            continue;
        }
        if arg != "start" {
            return None;
        }
        let rest: Vec<&str> = args[i + 1..].iter().filter_map(|a| a.to_str()).collect();
        // `runc start [--help] <id>`: anything else is left to runc to judge.
        return match rest.as_slice() {
            [id] if super::is_valid_id(id) => Some(StartCall { global, id: (*id).to_owned() }),
            _ => None,
        };
    }
    None
}

/// The real `runc`: `$CGUARD_RUNC`, or the first `runc` on the `PATH` that is not this
/// program.
pub fn find_runc() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os(RUNC_ENV) {
        return Some(PathBuf::from(path));
    }
    let own = std::env::current_exe().ok().and_then(|p| p.canonicalize().ok());
    let path = std::env::var_os("PATH").unwrap_or_else(|| DEFAULT_PATH.into());
    std::env::split_paths(&path).map(|dir| dir.join("runc")).find(|candidate| {
        let real = candidate.canonicalize().ok();
        real.is_some() && real != own && is_executable(candidate)
    })
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// Runs as `cguard-runc` with `args` (without the program name): never returns unless the
/// container may not start or `runc` cannot be run.
pub fn main(args: Vec<OsString>) -> ExitCode {
    let Some(runc) = find_runc() else {
        eprintln!("cguard-runc: no runc found on the PATH (set {RUNC_ENV})");
        return ExitCode::from(1);
    };
    if let Some(call) = parse_start(&args) {
        let socket = std::env::var_os(SOCKET_ENV).map(PathBuf::from).unwrap_or_else(|| super::DEFAULT_SOCKET.into());
        if let Err(refusal) = ask_shield(&socket, &runc, &call) {
            eprintln!("cguard-runc: container {} not started: {refusal}", call.id);
            return ExitCode::from(1);
        }
    }
    let error = Command::new(&runc).arg0("runc").args(&args).exec();
    eprintln!("cguard-runc: cannot run {}: {error}", runc.display());
    ExitCode::from(1)
}

/// Asks the shield at `socket` to protect the container of `call`. `Err` is the refusal.
pub fn ask_shield(socket: &Path, runc: &Path, call: &StartCall) -> Result<(), String> {
    ask_shield_within(socket, runc, call, ANSWER_TIMEOUT)
}

/// [`ask_shield`], waiting `answer_timeout` for the answer.
fn ask_shield_within(socket: &Path, runc: &Path, call: &StartCall, answer_timeout: Duration) -> Result<(), String> {
    let Ok(stream) = UnixStream::connect(socket) else {
        // No shield runs on this node: nothing is to be put in place.
        return Ok(());
    };
    let mut reader = BufReader::new(stream.try_clone().map_err(|e| e.to_string())?);
    let _ = stream.set_read_timeout(Some(GREETING_TIMEOUT));
    let greeting: Greeting = match read_line(&mut reader).and_then(|l| serde_json::from_str(&l).ok()) {
        Some(g) => g,
        // Something listens that is not a shield, or a shield that is stopping.
        None => return Ok(()),
    };
    let fail = |why: String| if greeting.fail_closed { Err(why) } else { Ok(()) };
    let (pid, bundle) = match container_state(runc, call) {
        Ok(state) => state,
        Err(e) => return fail(format!("cannot read its state from runc: {e}")),
    };
    let request = StartRequest { id: call.id.clone(), pid, bundle };
    let mut line = serde_json::to_vec(&request).map_err(|e| e.to_string())?;
    line.push(b'\n');
    if let Err(e) = (&stream).write_all(&line) {
        return fail(format!("the shield went away: {e}"));
    }
    let _ = stream.set_read_timeout(Some(answer_timeout));
    match read_line(&mut reader).and_then(|l| serde_json::from_str::<Answer>(&l).ok()) {
        Some(answer) if answer.start => Ok(()),
        Some(answer) => Err(answer.message),
        None => fail(format!("the shield gave no answer within {answer_timeout:?}")),
    }
}

/// One line of at most 64 KiB, without its newline.
fn read_line(reader: &mut impl BufRead) -> Option<String> {
    let mut line = String::new();
    match reader.take(64 << 10).read_line(&mut line) {
        Ok(n) if n > 0 && line.ends_with('\n') => Some(line.trim_end().to_owned()),
        _ => None,
    }
}

/// The container's init pid and bundle, from `runc state`.
fn container_state(runc: &Path, call: &StartCall) -> Result<(u32, String), String> {
    let out = Command::new(runc)
        .arg0("runc")
        .args(&call.global)
        .args([OsStr::new("state"), OsStr::new(&call.id)])
        .output()
        .map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).trim().to_owned());
    }
    parse_state(&out.stdout)
}

/// The pid and bundle of a `runc state` answer.
pub fn parse_state(json: &[u8]) -> Result<(u32, String), String> {
    let state: serde_json::Value = serde_json::from_slice(json).map_err(|e| format!("runc state: {e}"))?;
    let pid = state["pid"].as_u64().and_then(|p| u32::try_from(p).ok()).filter(|p| *p > 0);
    let bundle = state["bundle"].as_str().filter(|b| b.starts_with('/'));
    match (pid, bundle) {
        (Some(pid), Some(bundle)) => Ok((pid, bundle.to_owned())),
        _ => Err("runc state gave no pid or bundle".to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<OsString> {
        list.iter().map(OsString::from).collect()
    }

    #[test]
    fn the_start_call_is_found_behind_global_options() {
        let id = "4f".repeat(32);
        let call = parse_start(&args(&[
            "--root",
            "/var/run/docker/runtime-runc/moby",
            "--log=/run/x/log.json",
            "--log-format",
            "json",
            "--systemd-cgroup",
            "start",
            &id,
        ]))
        .unwrap();
        assert_eq!(call.id, id);
        assert_eq!(
            call.global,
            args(&[
                "--root",
                "/var/run/docker/runtime-runc/moby",
                "--log=/run/x/log.json",
                "--log-format",
                "json",
                "--systemd-cgroup"
            ])
        );
        assert_eq!(parse_start(&args(&["-root", "/r", "start", "web"])).unwrap().global, args(&["-root", "/r"]));
    }

    #[test]
    fn other_calls_are_not_start_calls() {
        assert_eq!(parse_start(&args(&["--root", "/r", "create", "--bundle", "/b", "start"])), None);
        assert_eq!(parse_start(&args(&["--root", "start"])), None);
        assert_eq!(parse_start(&args(&["start", "--help"])), None);
        assert_eq!(parse_start(&args(&["start", "a", "b"])), None);
        assert_eq!(parse_start(&args(&["start", "../x"])), None);
        assert_eq!(parse_start(&args(&["--root"])), None);
        assert_eq!(parse_start(&[]), None);
    }

    #[test]
    fn state_answers_give_pid_and_bundle() {
        let ok = br#"{"ociVersion":"1.0.2","id":"x","pid":4242,"status":"created","bundle":"/run/b/x"}"#;
        assert_eq!(parse_state(ok), Ok((4242, "/run/b/x".to_owned())));
        assert!(parse_state(br#"{"pid":0,"bundle":"/b"}"#).is_err());
        assert!(parse_state(br#"{"pid":7,"bundle":"relative"}"#).is_err());
        assert!(parse_state(b"garbage").is_err());
    }

    /// A `runc` that answers `state` for container `x` (pid 1, bundle `/run/b`) and fails
    /// for any other.
    fn fake_runc(dir: &Path) -> PathBuf {
        use std::os::unix::fs::PermissionsExt;
        let path = dir.join("runc");
        std::fs::write(
            &path,
            "#!/bin/sh\n[ \"$1 $2\" = \"state x\" ] || { echo \"no container $2\" >&2; exit 1; }\n\
             echo '{\"id\":\"x\",\"pid\":1,\"status\":\"created\",\"bundle\":\"/run/b\"}'\n",
        )
        .unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        path
    }

    /// A shield stand-in on `socket`: greets with `fail_closed`, reads the request, and
    /// answers `answer` (or nothing, holding the connection, when `None`). Returns the request.
    fn stand_in(
        socket: &Path,
        fail_closed: bool,
        answer: Option<&'static str>,
    ) -> std::thread::JoinHandle<StartRequest> {
        let listener = std::os::unix::net::UnixListener::bind(socket).unwrap();
        std::thread::spawn(move || {
            let (stream, _) = listener.accept().unwrap();
            (&stream).write_all(format!("{{\"failClosed\":{fail_closed}}}\n").as_bytes()).unwrap();
            let mut line = String::new();
            BufReader::new(&stream).read_line(&mut line).unwrap();
            match answer {
                Some(a) => (&stream).write_all(a.as_bytes()).unwrap(),
                None => std::thread::sleep(Duration::from_millis(500)),
            }
            serde_json::from_str(&line).unwrap()
        })
    }

    #[test]
    fn the_shields_answer_and_its_fail_mode_decide() {
        let dir = tempfile::tempdir().unwrap();
        let runc = fake_runc(dir.path());
        let call = StartCall { global: Vec::new(), id: "x".into() };
        let short = Duration::from_millis(200);
        let cases: [(bool, Option<&'static str>, Result<(), String>); 4] = [
            (true, Some("{\"start\":true,\"enforced\":true}\n"), Ok(())),
            (
                false,
                Some("{\"start\":false,\"enforced\":false,\"message\":\"policy p: no\"}\n"),
                Err("policy p: no".into()),
            ),
            (true, None, Err(format!("the shield gave no answer within {short:?}"))),
            (false, None, Ok(())),
        ];
        for (i, (fail_closed, answer, expected)) in cases.into_iter().enumerate() {
            let socket = dir.path().join(format!("s{i}.sock"));
            let shield = stand_in(&socket, fail_closed, answer);
            assert_eq!(ask_shield_within(&socket, &runc, &call, short), expected, "case {i}");
            let request = shield.join().unwrap();
            assert_eq!(request, StartRequest { id: "x".into(), pid: 1, bundle: "/run/b".into() });
        }
        // runc cannot tell the container's state: refused when fail-closed.
        let other = StartCall { global: Vec::new(), id: "y".into() };
        let socket = dir.path().join("state.sock");
        let listener = std::os::unix::net::UnixListener::bind(&socket).unwrap();
        let greeter = std::thread::spawn(move || {
            let (stream, _) = listener.accept().unwrap();
            (&stream).write_all(b"{\"failClosed\":true}\n").unwrap();
            std::thread::sleep(Duration::from_millis(200));
        });
        let refused = ask_shield_within(&socket, &runc, &other, short).unwrap_err();
        assert!(refused.starts_with("cannot read its state from runc: no container y"), "{refused}");
        greeter.join().unwrap();
    }

    #[test]
    fn no_shield_listening_lets_the_container_start() {
        let dir = tempfile::tempdir().unwrap();
        let call = StartCall { global: Vec::new(), id: "x".into() };
        assert_eq!(ask_shield(&dir.path().join("absent.sock"), Path::new("/bin/false"), &call), Ok(()));
    }
}
