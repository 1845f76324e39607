//! What happens when the answer is late, when the guard stops with execs held, and what the
//! kernel does when a fanotify group closes with an exec held.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use nix::sys::fanotify::{EventFFlags, Fanotify, InitFlags, MarkFlags, MaskFlags};
use shield_enforce::{ContainerTarget, ExecGuard, ExecGuardConfig, FailMode, Reason};

use crate::support::{Container, Exec, wait_for};

fn slow_guard(
    container: &Container,
    fail_mode: FailMode,
    timeout: Duration,
    slow: Duration,
) -> (ExecGuard, std::sync::mpsc::Receiver<shield_enforce::Decision>) {
    let config = ExecGuardConfig { answer_timeout: timeout, fail_mode, slow_answer: Some(slow) };
    let (guard, decisions) = ExecGuard::start(config).unwrap();
    // Only /bin/true is allowed.
    let target =
        ContainerTarget { id: container.id.clone(), pid: container.pid, allowed: vec![PathBuf::from("/bin/true")] };
    guard.protect(target).unwrap();
    (guard, decisions)
}

#[test]
fn late_answers_fail_open_lets_a_forbidden_exec_run() {
    let container = Container::start(&[]);
    let (guard, decisions) =
        slow_guard(&container, FailMode::FailOpen, Duration::from_millis(50), Duration::from_millis(300));
    let run = container.exec(&["/bin/ls", "/"]);
    assert_eq!(run.code, Some(0), "{run:?}");
    let seen = wait_for(&decisions, |d| d.path.ends_with("ls"));
    let ls = seen.last().unwrap();
    assert!(ls.allowed);
    assert_eq!(ls.reason, Reason::Timeout);
    assert!(ls.latency >= Duration::from_millis(50) && ls.latency < Duration::from_millis(300), "{ls:?}");
    drop(guard);
}

#[test]
fn late_answers_fail_closed_refuse_even_an_allowed_exec() {
    let container = Container::start(&[]);
    let (guard, decisions) =
        slow_guard(&container, FailMode::FailClosed, Duration::from_millis(50), Duration::from_millis(300));
    let run = container.exec(&["/bin/true"]);
    // Docker 20.10 reports a failed exec of `docker exec` with status 1 and runc's error.
    assert!(run.code != Some(0) && run.stderr.contains("exec /bin/true: operation not permitted"), "{run:?}");
    let seen = wait_for(&decisions, |d| d.path.ends_with("true"));
    let decision = seen.last().unwrap();
    assert!(!decision.allowed);
    assert_eq!(decision.reason, Reason::Timeout);
    // The late decision was discarded, not written a second time.
    std::thread::sleep(Duration::from_millis(400));
    assert!(guard.late_decisions() >= 1);
}

/// Starts `docker exec CONTAINER /bin/true` and waits until the guard holds it.
fn held_exec(container: &Container, guard: &ExecGuard) -> std::thread::JoinHandle<Exec> {
    let id = container.id.clone();
    let exec = std::thread::spawn(move || Exec::from(crate::support::docker(&["exec", &id, "/bin/true"])));
    let deadline = Instant::now() + Duration::from_secs(20);
    while guard.held_execs() == 0 {
        assert!(Instant::now() < deadline, "no exec was held");
        std::thread::sleep(Duration::from_millis(10));
    }
    exec
}

#[test]
fn dropping_a_fail_closed_guard_refuses_held_execs_then_removes_the_marks() {
    let container = Container::start(&[]);
    let (guard, decisions) =
        slow_guard(&container, FailMode::FailClosed, Duration::from_secs(60), Duration::from_secs(3));
    let exec = held_exec(&container, &guard);
    drop(guard);
    let run = exec.join().unwrap();
    assert!(run.code != Some(0) && run.stderr.contains("exec /bin/true: operation not permitted"), "{run:?}");
    let seen = wait_for(&decisions, |d| d.reason == Reason::GuardStopped);
    assert!(!seen.last().unwrap().allowed);
    // No guard, no marks: the container execs freely.
    assert_eq!(container.exec(&["/bin/ls", "/"]).code, Some(0));
}

#[test]
fn dropping_a_fail_open_guard_lets_held_execs_run() {
    let container = Container::start(&[]);
    let (guard, decisions) =
        slow_guard(&container, FailMode::FailOpen, Duration::from_secs(60), Duration::from_secs(3));
    let exec = held_exec(&container, &guard);
    let started = Instant::now();
    drop(guard);
    let run = exec.join().unwrap();
    assert_eq!(run.code, Some(0), "{run:?}");
    assert!(started.elapsed() < Duration::from_secs(3), "answered at drop, not after the slow decision");
    let seen = wait_for(&decisions, |d| d.reason == Reason::GuardStopped);
    assert!(seen.last().unwrap().allowed);
}

/// What a crash of the guard amounts to: the group's descriptor closes with an exec held
/// and unanswered. The kernel answers "allow" (fanotify fails open when its listener goes).
#[test]
fn the_kernel_allows_held_execs_when_the_group_closes_unanswered() {
    let container = Container::start(&[]);
    let group = Fanotify::init(
        InitFlags::FAN_CLASS_CONTENT | InitFlags::FAN_CLOEXEC | InitFlags::FAN_NONBLOCK,
        EventFFlags::O_RDONLY | EventFFlags::O_CLOEXEC,
    )
    .unwrap();
    let root = format!("/proc/{}/root", container.pid);
    group
        .mark(
            MarkFlags::FAN_MARK_ADD | MarkFlags::FAN_MARK_MOUNT,
            MaskFlags::FAN_OPEN_EXEC_PERM,
            rustix::fs::CWD,
            Some(root.as_str()),
        )
        .unwrap();
    let id = container.id.clone();
    let exec = std::thread::spawn(move || Exec::from(crate::support::docker(&["exec", &id, "/bin/true"])));
    // Read the event and keep it unanswered.
    let deadline = Instant::now() + Duration::from_secs(20);
    let held = loop {
        match group.read_events() {
            Ok(events) if !events.is_empty() => break events,
            _ => {
                assert!(Instant::now() < deadline, "no exec event");
                std::thread::sleep(Duration::from_millis(10));
            }
        }
    };
    assert!(held.iter().all(|e| e.mask().contains(MaskFlags::FAN_OPEN_EXEC_PERM)));
    std::thread::sleep(Duration::from_millis(500));
    assert!(!exec.is_finished(), "the exec waits for an answer");
    drop(group);
    let run = exec.join().unwrap();
    assert_eq!(run.code, Some(0), "the kernel let the exec run: {run:?}");
    drop(held);
}
