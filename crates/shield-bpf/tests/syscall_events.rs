//! Watched syscalls: seen at entry, or at exit when seccomp refused them before entry.

use std::ffi::OsString;

use shield_bpf::{Event, FileOp, ResultOf, Syscall, SyscallHooks, SyscallPhase};

use crate::support::{Container, collect, collect_until, exec_tgid, load, load_with};

const EPERM: i64 = 1;

fn syscalls_of(events: &[Event], tgid: u32, wanted: Syscall) -> Vec<(SyscallPhase, bool)> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Syscall { process, syscall: Some(s), phase, compat, .. } if process.tgid == tgid && *s == wanted => {
                Some((*phase, *compat))
            }
            _ => None,
        })
        .collect()
}

fn exit_of(events: &[Event], tgid: u32) -> bool {
    events.iter().any(|e| matches!(e, Event::Exit { process, .. } if process.tgid == tgid))
}

/// Docker's default seccomp profile refuses unshare without CAP_SYS_ADMIN: the call never
/// reaches sys_enter, and the programs report it from sys_exit.
#[test]
fn unshare_refused_by_seccomp_is_reported_from_sys_exit() {
    let mut probes = load();
    let container = Container::start(&[]);
    container.sh("unshare -U true marker-refused");
    let events = collect(&mut probes, container.cgroup_id, |events| {
        events.iter().any(|e| matches!(e, Event::Exec { argv, .. } if argv.first().is_some_and(|a| a == "unshare")))
            && events.iter().any(|e| matches!(e, Event::Syscall { syscall: Some(Syscall::Unshare), .. }))
    });
    let tgid = exec_tgid(&events, "marker-refused").unwrap();
    assert_eq!(
        syscalls_of(&events, tgid, Syscall::Unshare),
        vec![(SyscallPhase::RefusedBeforeEntry { ret: -EPERM }, false)]
    );
    // Nothing reached the handler, so there is no result event.
    assert!(!events.iter().any(|e| matches!(e, Event::Result { process, .. } if process.tgid == tgid)));
}

#[test]
fn unshare_without_seccomp_is_reported_at_entry_with_its_result() {
    let mut probes = load();
    let container = Container::start(&["--security-opt", "seccomp=unconfined"]);
    container.sh("unshare -U true marker-entry");
    let events = collect(&mut probes, container.cgroup_id, |events| {
        exec_tgid(events, "marker-entry").is_some_and(|tgid| exit_of(events, tgid))
    });
    let tgid = exec_tgid(&events, "marker-entry").unwrap();
    assert_eq!(syscalls_of(&events, tgid, Syscall::Unshare), vec![(SyscallPhase::Entry, false)]);
    let args = events.iter().find_map(|e| match e {
        Event::Syscall { process, args, name, nr, .. } if process.tgid == tgid => Some((args[0], *name, *nr)),
        _ => None,
    });
    assert_eq!(args, Some((0x1000_0000, "unshare", 272)), "CLONE_NEWUSER");
    // The result follows the entry event: unshare(CLONE_NEWUSER) succeeds unconfined.
    let results: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            Event::Result { process, name, ret, .. } if process.tgid == tgid => Some((*name, *ret)),
            _ => None,
        })
        .collect();
    assert_eq!(results, vec![("unshare", 0)]);
}

#[test]
fn mount_reports_its_source_and_its_failure() {
    let mut probes = load();
    let container = Container::start(&["--security-opt", "seccomp=unconfined"]);
    container.sh("mount -t tmpfs marker-source /mnt");
    let events = collect_until(
        &mut probes,
        container.cgroup_id,
        |e| matches!(e, Event::Result { name: "mount", process, .. } if process.comm == "mount"),
    );
    let entry = events.iter().find_map(|e| match e {
        Event::Syscall { syscall: Some(Syscall::Mount), string_arg, phase, process, .. } if process.comm == "mount" => {
            Some((string_arg.clone(), *phase))
        }
        _ => None,
    });
    assert_eq!(entry, Some((Some(OsString::from("marker-source")), SyscallPhase::Entry)));
    // Docker drops CAP_SYS_ADMIN: the kernel refuses the mount itself.
    assert!(events.iter().any(|e| {
        matches!(e, Event::Result { name: "mount", ret, process, .. } if *ret == -EPERM && process.comm == "mount")
    }));
}

/// A 64-bit process can enter through `int 0x80`, where syscall numbers are the ia32 ones:
/// the rule table covers both, so this is no way around the filter. The per-syscall
/// tracepoints never fire for ia32 calls: with them, the exit program reports the call, as
/// an entry event followed by its result when it succeeded.
#[test]
fn the_ia32_entry_is_watched_with_ia32_numbers() {
    for hooks in [SyscallHooks::PerSyscall, SyscallHooks::Raw] {
        let mut probes = load_with(hooks);
        let container = Container::start(&["--security-opt", "seccomp=unconfined"]);
        let output = container.sh("/helpers/actions int80-unshare");
        assert_eq!(String::from_utf8_lossy(&output.stdout).trim(), "0", "{output:?}");
        let events = collect_until(
            &mut probes,
            container.cgroup_id,
            |e| matches!(e, Event::Result { compat: true, process, .. } if process.comm == "actions"),
        );
        let entry = events.iter().find_map(|e| match e {
            Event::Syscall { process, nr, name, syscall, compat, args, phase, .. } if process.comm == "actions" => {
                Some((*nr, *name, *syscall, *compat, args[0], *phase))
            }
            _ => None,
        });
        let expected = (310, "unshare", Some(Syscall::Unshare), true, 0x1000_0000, SyscallPhase::Entry);
        assert_eq!(entry, Some(expected), "{hooks:?}");
    }
}

/// An ia32 call that seccomp refuses reaches no entry hook; the exit program reports it.
#[test]
fn an_ia32_call_refused_by_seccomp_is_reported_from_sys_exit() {
    for hooks in [SyscallHooks::PerSyscall, SyscallHooks::Raw] {
        let mut probes = load_with(hooks);
        let container = Container::start(&[]);
        let output = container.sh("/helpers/actions int80-unshare");
        assert_eq!(String::from_utf8_lossy(&output.stdout).trim(), (-EPERM).to_string(), "{output:?}");
        let events = collect_until(
            &mut probes,
            container.cgroup_id,
            |e| matches!(e, Event::Syscall { compat: true, process, .. } if process.comm == "actions"),
        );
        let seen: Vec<_> = events
            .iter()
            .filter(|e| e.process().comm == "actions" && matches!(e, Event::Syscall { .. } | Event::Result { .. }))
            .map(|e| match e {
                Event::Syscall { nr, syscall, compat, phase, .. } => (*nr, *syscall, *compat, Some(*phase)),
                Event::Result { nr, compat, .. } => (*nr, None, *compat, None),
                _ => unreachable!(),
            })
            .collect();
        let refused = SyscallPhase::RefusedBeforeEntry { ret: -EPERM };
        assert_eq!(seen, vec![(310, Some(Syscall::Unshare), true, Some(refused))], "{hooks:?}");
    }
}

/// A high-risk syscall is reported whether or not the kernel has a tracepoint for it (it has
/// none for a syscall it does not implement, like init_module without module support).
#[test]
fn every_high_risk_syscall_has_an_entry_hook_or_is_left_to_the_exit_program() {
    let mut probes = load();
    assert_eq!(probes.syscall_hooks(), SyscallHooks::PerSyscall);
    let traced = probes.entry_tracepoints();
    // Every kernel with syscall tracepoints implements unshare.
    assert!(traced.contains(&Syscall::Unshare), "{traced:?}");
    assert!(load_with(SyscallHooks::Raw).entry_tracepoints().is_empty());
    // Docker's profile refuses init_module and kexec_load to a container without the
    // capabilities: reported from sys_exit, with or without a tracepoint for them.
    let container = Container::start(&[]);
    container.sh("perl -e 'syscall(175, 0, 0, 0); syscall(246, 0, 0, 0, 0)'");
    let events = collect_until(&mut probes, container.cgroup_id, |e| {
        matches!(e, Event::Syscall { syscall: Some(Syscall::KexecLoad), .. })
    });
    let phases: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            Event::Syscall { syscall: Some(s), phase, process, .. } if process.comm == "perl" => Some((*s, *phase)),
            _ => None,
        })
        .collect();
    let refused = SyscallPhase::RefusedBeforeEntry { ret: -EPERM };
    assert_eq!(phases, vec![(Syscall::InitModule, refused), (Syscall::KexecLoad, refused)]);
}

#[test]
fn syscalls_outside_the_watched_set_are_filtered_in_the_kernel() {
    let mut probes = load();
    probes.set_watched(&[Syscall::Ptrace], FileOp::ALL).unwrap();
    let container = Container::start(&["--security-opt", "seccomp=unconfined"]);
    container.sh("unshare -U true marker-unwatched; /bin/true marker-after");
    let events = collect_until(&mut probes, container.cgroup_id, |e| {
        exec_tgid(std::slice::from_ref(e), "marker-after").is_some()
    });
    let syscall_events = |e: &&Event| matches!(e, Event::Syscall { .. } | Event::Result { of: ResultOf::Syscall, .. });
    assert_eq!(events.iter().filter(syscall_events).count(), 0, "{events:#?}");

    // Watching it again takes effect at once.
    probes.set_watched(Syscall::ALL, FileOp::ALL).unwrap();
    container.sh("unshare -U true marker-watched");
    let events = collect_until(&mut probes, container.cgroup_id, |e| {
        matches!(e, Event::Syscall { syscall: Some(Syscall::Unshare), .. })
    });
    assert!(exec_tgid(&events, "marker-watched").is_some());
}

#[test]
fn without_the_exit_program_refusals_and_results_are_not_reported() {
    let config = shield_bpf::ProbeConfig { syscall_exit: false, ..shield_bpf::ProbeConfig::default() };
    let mut probes = shield_bpf::Probes::load(&config).unwrap();
    let names: Vec<_> =
        probes.verified_instructions().into_iter().filter(|(_, n)| n.is_some()).map(|(p, _)| p).collect();
    assert_eq!(names, ["shield_exec", "shield_exit", "shield_sys_enter"]);
    // File operations and ia32 calls need the exit program with per-syscall entry hooks.
    assert_eq!(probes.syscall_hooks(), shield_bpf::SyscallHooks::Raw);
    let container = Container::start(&[]);
    container.sh("unshare -U true marker-no-exit; /bin/true marker-after-no-exit");
    let events = collect_until(&mut probes, container.cgroup_id, |e| {
        exec_tgid(std::slice::from_ref(e), "marker-after-no-exit").is_some()
    });
    assert!(exec_tgid(&events, "marker-no-exit").is_some());
    assert!(!events.iter().any(|e| matches!(e, Event::Syscall { syscall: Some(Syscall::Unshare), .. })), "{events:#?}");
    assert!(!events.iter().any(|e| matches!(e, Event::Result { .. })), "{events:#?}");
}
