//! Exec allow-lists on real containers: what runs, what is refused, and how.

use std::path::PathBuf;
use std::time::Duration;

use shield_enforce::{ContainerTarget, ExecGuard, ExecGuardConfig, FailMode, Reason};

use crate::support::{Container, drain, names, wait_for};

fn guard() -> (ExecGuard, std::sync::mpsc::Receiver<shield_enforce::Decision>) {
    ExecGuard::start(ExecGuardConfig::new(Duration::from_secs(5), FailMode::FailClosed)).expect("guard starts")
}

fn target(container: &Container, allowed: &[&str]) -> ContainerTarget {
    ContainerTarget {
        id: container.id.clone(),
        pid: container.pid,
        allowed: allowed.iter().map(PathBuf::from).collect(),
    }
}

#[test]
fn allowed_exec_runs_and_forbidden_exec_fails_with_eperm() {
    let container = Container::start(&[]);
    let (guard, decisions) = guard();
    let report = guard.protect(target(&container, &["/bin/sh", "/bin/true"])).unwrap();
    assert!(report.mounts.marked.contains(&PathBuf::from("/")), "{report:?}");
    assert!(report.allowed.iter().all(|(_, file)| file.is_some()), "{report:?}");

    let run = container.sh("/bin/true && echo true-ran; /bin/ls /; echo ls=$?");
    assert!(run.stdout.contains("true-ran"), "{run:?}");
    assert!(run.stdout.contains("ls=126"), "{run:?}");
    assert!(run.stderr.contains("/bin/ls: Operation not permitted"), "{run:?}");
    assert!(!run.stdout.contains("bin"), "ls printed a listing: {run:?}");

    let seen = wait_for(&decisions, |d| names(d, "ls"));
    let ls = seen.last().unwrap();
    assert_eq!(ls.container_id, container.id);
    assert!(!ls.allowed);
    assert_eq!(ls.reason, Reason::NotAllowed);
    assert!(ls.pid > 0 && ls.ino > 0, "{ls:?}");
    let true_run = seen.iter().find(|d| names(d, "true")).expect("a decision for /bin/true");
    assert!(true_run.allowed);
    assert_eq!(true_run.reason, Reason::AllowListed);
    // The dynamic loader of an allowed program is allowed for that exec only.
    assert!(seen.iter().any(|d| d.reason == Reason::Interpreter && d.allowed), "{seen:#?}");
}

#[test]
fn the_dynamic_loader_cannot_run_a_forbidden_program() {
    let container = Container::start(&[]);
    let (guard, decisions) = guard();
    guard.protect(target(&container, &["/bin/sh", "/bin/true"])).unwrap();
    let run = container.sh("/lib64/ld-linux-x86-64.so.2 /bin/ls /; echo rc=$?");
    assert!(run.stdout.contains("rc=126"), "{run:?}");
    let seen = wait_for(&decisions, |d| names(d, "ld-linux-x86-64.so.2") && !d.allowed);
    assert_eq!(seen.last().unwrap().reason, Reason::NotAllowed);
}

#[test]
fn a_copy_or_a_symlink_of_a_binary_is_judged_by_its_inode() {
    let container = Container::start(&[]);
    let (guard, decisions) = guard();
    guard.protect(target(&container, &["/bin/sh", "/bin/true", "/bin/cp", "/bin/ln"])).unwrap();
    // A copy of an allowed binary is another file.
    let run = container.sh("cp /bin/true /tmp/true && /tmp/true; echo copy=$?");
    assert!(run.stdout.contains("copy=126"), "{run:?}");
    wait_for(&decisions, |d| d.path.as_path() == std::path::Path::new("/tmp/true") && !d.allowed);
    // A symlink with an allowed name to a forbidden binary is the forbidden binary.
    let run = container.sh("ln -s /bin/ls /tmp/sh && /tmp/sh /; echo link=$?");
    assert!(run.stdout.contains("link=126"), "{run:?}");
    wait_for(&decisions, |d| names(d, "ls") && !d.allowed);
}

#[test]
fn a_hard_link_under_an_allowed_name_is_denied_and_a_replaced_file_is_resolved_again() {
    let container = Container::start(&[]);
    // Present before protection: trusted.
    assert_eq!(container.sh("cp /bin/true /usr/local/bin/app").code, Some(0));
    let (guard, decisions) = guard();
    let allowed = ["/bin/sh", "/bin/cp", "/bin/ln", "/bin/mv", "/usr/local/bin/app", "/usr/local/bin/tool"];
    let report = guard.protect(target(&container, &allowed)).unwrap();
    let tool = report.allowed.iter().find(|(p, _)| p == &PathBuf::from("/usr/local/bin/tool")).unwrap();
    assert_eq!(tool.1, None, "absent at protect time");

    // A hard link to a forbidden binary placed under an allowed name does not pass.
    let run = container.sh("ln /bin/ls /usr/local/bin/tool && /usr/local/bin/tool /; echo tool=$?");
    assert!(run.stdout.contains("tool=126"), "{run:?}");
    let seen = wait_for(&decisions, |d| names(d, "tool") || (names(d, "ls") && !d.allowed));
    assert!(!seen.last().unwrap().allowed);

    // The allowed file replaced by a new file (an upgrade): the new file runs.
    let run =
        container.sh("cp /bin/false /tmp/new && mv /tmp/new /usr/local/bin/app && /usr/local/bin/app; echo app=$?");
    assert!(run.stdout.contains("app=1"), "false ran and failed as false does: {run:?}");
    wait_for(&decisions, |d| names(d, "app") && d.allowed && d.reason == Reason::AllowListed);
}

#[test]
fn an_unchanged_allowed_file_is_answered_at_once_and_a_changed_one_is_looked_at_again() {
    let container = Container::start(&[]);
    assert_eq!(container.sh("cp /bin/true /usr/local/bin/app").code, Some(0));
    let (guard, decisions) = guard();
    guard.protect(target(&container, &["/bin/sh", "/bin/chmod", "/bin/cat", "/usr/local/bin/app"])).unwrap();
    // `docker exec` runs the program itself: one event for it, one for its loader.
    let run_app = || {
        let before = guard.known_answers();
        let run = container.exec(&["/usr/local/bin/app"]);
        (run.code, guard.known_answers() - before)
    };
    assert_eq!(run_app(), (Some(0), 2), "found at protect time, unchanged: both answered at once");
    assert_eq!(run_app(), (Some(0), 2));
    // A new mode moves the change time: the file is looked up at its path again (still
    // there: allowed), and known again from then on.
    assert_eq!(container.exec(&["/bin/chmod", "755", "/usr/local/bin/app"]).code, Some(0));
    assert_eq!(run_app(), (Some(0), 1), "the program looked up again, its loader answered at once");
    assert_eq!(run_app(), (Some(0), 2));
    // Rewritten in place at its allowed path: the new content runs (it is what the path
    // names), after a look.
    assert_eq!(container.sh("cat /bin/false > /usr/local/bin/app").code, Some(0));
    assert_eq!(run_app(), (Some(1), 1), "false ran");
    assert!(drain(&decisions).iter().all(|d| d.allowed), "nothing refused");
}

#[test]
fn a_new_allow_list_is_swapped_in_while_the_container_stays_guarded() {
    let container = Container::start(&[]);
    let (guard, _decisions) = guard();
    guard.protect(target(&container, &["/bin/sh", "/bin/true"])).unwrap();
    let status = |program: &str| container.sh(&format!("{program} >/dev/null; echo rc=$?")).stdout;
    assert!(status("/bin/ls").contains("rc=126"));
    let resolved = guard.set_allowed(&container.id, ["/bin/sh", "/bin/true", "/bin/ls"].map(PathBuf::from).to_vec());
    assert!(resolved.unwrap().iter().all(|(_, file)| file.is_some()));
    assert!(status("/bin/ls").contains("rc=0"));
    guard.set_allowed(&container.id, vec![PathBuf::from("/bin/sh")]).unwrap();
    assert!(status("/bin/true").contains("rc=126"), "narrowed: true is refused now");
    assert!(guard.set_allowed("not-protected", Vec::new()).is_err());
}

#[test]
fn scripts_run_by_an_allowed_shell_are_not_execs_but_direct_script_execs_are() {
    let container = Container::start(&[]);
    let (guard, _decisions) = guard();
    guard.protect(target(&container, &["/bin/sh", "/bin/chmod"])).unwrap();
    let run = container.sh("printf '#!/bin/sh\\necho script-ran\\n' > /tmp/s.sh && chmod +x /tmp/s.sh && sh /tmp/s.sh; /tmp/s.sh; echo direct=$?");
    // `sh /tmp/s.sh` only reads the file; `/tmp/s.sh` executes it, and it is not allowed.
    assert_eq!(run.stdout.matches("script-ran").count(), 1, "{run:?}");
    assert!(run.stdout.contains("direct=126"), "{run:?}");
    assert!(run.stderr.contains("/tmp/s.sh: Operation not permitted"), "{run:?}");
}

#[test]
fn the_host_is_unaffected_and_release_lets_the_container_exec_freely() {
    let container = Container::start(&[]);
    let (guard, decisions) = guard();
    guard.protect(target(&container, &["/bin/sh"])).unwrap();
    let refused = container.exec(&["/bin/true"]);
    assert!(refused.code != Some(0) && refused.stderr.contains("operation not permitted"), "{refused:?}");

    // The host runs the very same programs, unguarded, while the container is protected.
    let host = std::process::Command::new("/bin/ls").arg("/").output().unwrap();
    assert!(host.status.success());
    let host = std::process::Command::new("/bin/true").status().unwrap();
    assert!(host.success());
    let me = std::process::id();
    std::thread::sleep(Duration::from_millis(200));
    let seen = drain(&decisions);
    assert!(seen.iter().all(|d| d.container_id == container.id), "{seen:#?}");
    assert!(seen.iter().all(|d| d.pid != me), "{seen:#?}");

    guard.release(&container.id).unwrap();
    assert!(guard.protected().is_empty());
    let run = container.sh("/bin/ls / >/dev/null && echo free");
    assert!(run.stdout.contains("free"), "{run:?}");
    std::thread::sleep(Duration::from_millis(200));
    assert!(drain(&decisions).is_empty(), "no decisions after release");
}

#[test]
fn volumes_and_tmpfs_are_guarded_too() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy("/bin/ls", dir.path().join("ls")).unwrap();
    let volume = format!("{}:/vol", dir.path().display());
    let container = Container::start(&["-v", &volume, "--tmpfs", "/scratch:exec"]);
    let (guard, decisions) = guard();
    let report = guard.protect(target(&container, &["/bin/sh", "/bin/cp"])).unwrap();
    assert!(report.mounts.marked.contains(&PathBuf::from("/vol")), "{report:?}");
    assert!(report.mounts.marked.contains(&PathBuf::from("/scratch")), "{report:?}");
    let run = container.sh("/vol/ls /; echo vol=$?; cp /bin/ls /scratch/ls && /scratch/ls /; echo tmpfs=$?");
    assert!(run.stdout.contains("vol=126") && run.stdout.contains("tmpfs=126"), "{run:?}");
    wait_for(&decisions, |d| d.path.ends_with("scratch/ls") && !d.allowed);
    // The same file on the host is not guarded.
    let host = std::process::Command::new(dir.path().join("ls")).arg("/").output().unwrap();
    assert!(host.status.success());
}

/// A program copied into a memfd lives on the kernel's internal shmem mount, which is in
/// no container's mount table: mount marks do not see its exec. A dynamic program is still
/// refused, because the kernel opens its loader from the container's root for exec; a
/// static one runs. (The BPF LSM backend or `vm.memfd_noexec` close this; see the docs.)
#[test]
fn memfd_execs_are_caught_through_the_loader_only() {
    let volume = format!("{}:/helpers:ro", crate::support::helpers_dir().display());
    let container = Container::start(&["-v", &volume]);
    let (guard, decisions) = guard();
    guard.protect(target(&container, &["/bin/sh", "/helpers/memfd_exec"])).unwrap();
    let run = container
        .sh("/helpers/memfd_exec /bin/true; echo dynamic=$?; /helpers/memfd_exec /helpers/memfd_exec; echo static=$?");
    assert!(run.stdout.contains("dynamic=126"), "{run:?}");
    assert!(run.stderr.contains("fexecve: Operation not permitted"), "{run:?}");
    wait_for(&decisions, |d| names(d, "ld-linux-x86-64.so.2") && !d.allowed);
    assert!(run.stdout.contains("static=2") && run.stderr.contains("usage: memfd_exec"), "{run:?}");
}
