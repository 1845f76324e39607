//! File events: writes to paths that match the path rules, and only those.

use std::path::Path;

use shield_bpf::{Event, FileOp, MatchKind, PathMatch, PathRule, Probes, ResultOf, SyscallHooks};

use crate::support::{Container, collect, collect_until, exec_tgid, load, load_with};

const O_WRONLY: u32 = 0o1;
const O_CREAT: u32 = 0o100;
const O_APPEND: u32 = 0o2000;
const EROFS: i64 = 30;

fn protect(probes: &mut Probes, rules: &[(&str, u32)]) {
    for (text, id) in rules {
        probes.add_path_rule(&PathRule::parse(text), *id).unwrap();
    }
}

/// The file events of a batch, as (operation, path, second path, match).
fn writes(events: &[Event]) -> Vec<(FileOp, String, Option<String>, PathMatch)> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::FileWrite { op, path, path2, matched, .. } => Some((
                *op,
                path.path.to_string_lossy().into_owned(),
                path2.as_ref().map(|p| p.path.to_string_lossy().into_owned()),
                *matched,
            )),
            _ => None,
        })
        .collect()
}

fn is_write_to(e: &Event, wanted: &str) -> bool {
    matches!(e, Event::FileWrite { path, path2, .. }
        if path.path == Path::new(wanted) || path2.as_ref().is_some_and(|p| p.path == Path::new(wanted)))
}

/// The event that ends a write of `sh`: its result, which comes with the file event when the
/// file operations are seen at exit only, and as a result event when they are seen at entry.
fn write_completed(e: &Event, hooks: SyscallHooks) -> bool {
    match hooks {
        SyscallHooks::PerSyscall => {
            matches!(e, Event::FileWrite { completed: Some(_), process, .. } if process.comm == "sh")
        }
        SyscallHooks::Raw => {
            matches!(e, Event::Result { of: ResultOf::FileWrite, process, .. } if process.comm == "sh")
        }
    }
}

/// The result of `sh`'s write, from the file event or from its result event.
fn write_result(events: &[Event]) -> Option<i64> {
    events.iter().find_map(|e| match e {
        Event::FileWrite { completed: Some(ret), process, .. } if process.comm == "sh" => Some(*ret),
        Event::Result { of: ResultOf::FileWrite, ret, process, .. } if process.comm == "sh" => Some(*ret),
        _ => None,
    })
}

#[test]
fn a_write_to_a_protected_file_is_reported_at_exit_with_its_result() {
    a_write_to_a_protected_file_is_reported_and_other_writes_are_not(SyscallHooks::PerSyscall);
}

#[test]
fn a_write_to_a_protected_file_is_reported_at_entry_with_the_raw_hooks() {
    a_write_to_a_protected_file_is_reported_and_other_writes_are_not(SyscallHooks::Raw);
}

fn a_write_to_a_protected_file_is_reported_and_other_writes_are_not(hooks: SyscallHooks) {
    let mut probes = load_with(hooks);
    protect(&mut probes, &[("/etc/passwd", 7)]);
    let container = Container::start(&[]);
    container.sh("echo y > /tmp/x; cat /etc/passwd > /dev/null; echo x >> /etc/passwd");
    let events = collect(&mut probes, container.cgroup_id, |events| events.iter().any(|e| write_completed(e, hooks)));
    let sh: Vec<_> = events.iter().filter(|e| e.process().comm == "sh").cloned().collect();
    assert_eq!(
        writes(&sh),
        vec![(FileOp::Open, "/etc/passwd".into(), None, PathMatch { kind: MatchKind::Exact, rule_id: 7, which: 1 })]
    );
    let Some(Event::FileWrite { flags, name, path, completed, .. }) = sh.iter().find(|e| is_write_to(e, "/etc/passwd"))
    else {
        unreachable!()
    };
    assert_eq!(flags & (O_WRONLY | O_CREAT | O_APPEND), O_WRONLY | O_CREAT | O_APPEND);
    assert!(*name == "openat" || *name == "open", "{name}");
    assert_eq!(path.dirfd, None);
    // `cat` only read the file: no event. The result of the write-open comes with the event
    // (seen at exit), or follows it (seen at entry).
    assert!(!events.iter().any(|e| e.process().comm == "cat" && matches!(e, Event::FileWrite { .. })));
    match hooks {
        SyscallHooks::PerSyscall => {
            assert!(completed.is_some_and(|fd| fd >= 0), "{completed:?}");
            assert!(!sh.iter().any(|e| matches!(e, Event::Result { .. })), "{sh:#?}");
        }
        SyscallHooks::Raw => {
            assert_eq!(*completed, None);
            assert!(sh.iter().any(|e| matches!(e, Event::Result { ret, .. } if *ret >= 0)));
        }
    }
}

#[test]
fn prefix_name_and_unresolved_paths_match_and_near_misses_do_not() {
    let mut probes = load();
    protect(&mut probes, &[("/etc/cron.d/", 1), ("release_agent", 2), ("/etc/passwd", 3)]);
    let container = Container::start(&[]);
    // The last write (to /etc/passwd) marks the end: events of one thread arrive in order.
    container.sh("mkdir -p /etc/cron.d; echo > /etc/cron.d/job; echo > /etc/cron.daily-x; echo > /tmp/release_agent; \
         echo > /tmp/release_agent.txt; cd /etc && echo > relative-file; echo > /etc/./dotted; echo > /tmp/plain; \
         echo >> /etc/passwd");
    let events = collect_until(&mut probes, container.cgroup_id, |e| is_write_to(e, "/etc/passwd"));
    let sh: Vec<_> = events.iter().filter(|e| e.process().comm == "sh").cloned().collect();
    let found: Vec<_> = writes(&sh).into_iter().map(|(_, path, _, m)| (path, m.kind, m.rule_id)).collect();
    assert_eq!(
        found,
        vec![
            ("/etc/cron.d/job".into(), MatchKind::Prefix, 1),
            ("/tmp/release_agent".into(), MatchKind::Name, 2),
            ("relative-file".into(), MatchKind::Unresolved, 0),
            ("/etc/./dotted".into(), MatchKind::Unresolved, 0),
            ("/etc/passwd".into(), MatchKind::Exact, 3),
        ]
    );

    // Without unresolved reporting, the relative and dotted paths stay in the kernel.
    let settings = shield_bpf::Settings { report_unresolved_paths: false, ..shield_bpf::Settings::default() };
    probes.apply_settings(&settings).unwrap();
    container.sh("cd /etc && echo > relative-again; echo > /etc/./dotted-again; echo >> /etc/passwd");
    let events = collect_until(&mut probes, container.cgroup_id, |e| is_write_to(e, "/etc/passwd"));
    let found: Vec<_> = writes(&events).into_iter().map(|(_, path, _, _)| path).collect();
    assert_eq!(found, vec!["/etc/passwd".to_owned()]);

    // A removed rule matches no more.
    probes.remove_path_rule(&PathRule::Name("release_agent".into())).unwrap();
    container.sh("echo > /tmp/release_agent; echo >> /etc/passwd");
    let events = collect_until(&mut probes, container.cgroup_id, |e| is_write_to(e, "/etc/passwd"));
    assert!(!events.iter().any(|e| is_write_to(e, "/tmp/release_agent")), "{events:#?}");
}

#[test]
fn rename_unlink_chmod_and_link_match_either_path() {
    let mut probes = load();
    protect(&mut probes, &[("/etc/shadow", 1), ("/etc/passwd", 2)]);
    let container = Container::start(&[]);
    container.sh(
        "cp /etc/passwd /tmp/new && mv /tmp/new /etc/passwd; chmod 600 /etc/passwd; ln /etc/shadow /tmp/shadow-link; \
         rm /tmp/shadow-link; ln -s /etc/shadow /tmp/shadow-symlink; rm /etc/shadow",
    );
    let events = collect_until(
        &mut probes,
        container.cgroup_id,
        |e| matches!(e, Event::FileWrite { op: FileOp::Unlink, path, .. } if path.path == Path::new("/etc/shadow")),
    );
    let mut found: Vec<_> =
        writes(&events).into_iter().map(|(op, path, path2, m)| (op, path, path2, m.which)).collect();
    // mv tries renameat2(RENAME_NOREPLACE) first and renames again when the target exists:
    // two attempts, both reported.
    let renames = events.iter().filter(|e| matches!(e, Event::FileWrite { op: FileOp::Rename, .. })).count();
    assert!((1..=2).contains(&renames), "{events:#?}");
    found.dedup();
    assert_eq!(
        found,
        vec![
            (FileOp::Rename, "/tmp/new".into(), Some("/etc/passwd".into()), 2),
            (FileOp::Chmod, "/etc/passwd".into(), None, 1),
            (FileOp::Link, "/etc/shadow".into(), Some("/tmp/shadow-link".into()), 1),
            (FileOp::Symlink, "/tmp/shadow-symlink".into(), Some("/etc/shadow".into()), 2),
            (FileOp::Unlink, "/etc/shadow".into(), None, 1),
        ]
    );
}

#[test]
fn a_write_refused_by_a_read_only_file_system_reports_erofs() {
    for hooks in [SyscallHooks::PerSyscall, SyscallHooks::Raw] {
        let mut probes = load_with(hooks);
        protect(&mut probes, &[("/etc/passwd", 1)]);
        let container = Container::start(&["--read-only"]);
        let output = container.sh("echo x >> /etc/passwd");
        assert!(!output.status.success());
        let events = collect_until(&mut probes, container.cgroup_id, |e| write_completed(e, hooks));
        assert!(events.iter().any(|e| is_write_to(e, "/etc/passwd")));
        assert_eq!(write_result(&events), Some(-EROFS), "{hooks:?}");
    }
}

/// A path in a page that is not resident cannot be read at sys_enter (these programs cannot
/// take a page fault); it is read again at sys_exit, after the kernel faulted it in. (The
/// per-syscall hooks read every path at exit.)
#[test]
fn a_path_not_resident_at_entry_is_matched_at_exit() {
    for hooks in [SyscallHooks::Raw, SyscallHooks::PerSyscall] {
        a_path_not_resident_is_matched(hooks);
    }
}

fn a_path_not_resident_is_matched(hooks: SyscallHooks) {
    let mut probes = load_with(hooks);
    protect(&mut probes, &[("/etc/passwd", 1)]);
    let container = Container::start(&[]);
    let output = container.sh("/helpers/actions cold-open /helpers/cold-path");
    assert!(output.status.success(), "{output:?}");
    let events = collect_until(
        &mut probes,
        container.cgroup_id,
        |e| matches!(e, Event::FileWrite { process, .. } if process.comm == "actions"),
    );
    let Some(Event::FileWrite { path, completed, matched, .. }) =
        events.iter().find(|e| matches!(e, Event::FileWrite { process, .. } if process.comm == "actions"))
    else {
        unreachable!()
    };
    assert_eq!(path.path, Path::new("/etc/passwd"));
    assert_eq!(matched.kind, MatchKind::Exact);
    let fd: i64 = String::from_utf8_lossy(&output.stdout).trim().parse().unwrap();
    assert!(fd >= 0, "the open succeeded: {fd}");
    assert_eq!(*completed, Some(fd));
}

#[test]
fn read_only_opens_are_matched_only_in_cgroups_whose_reads_are_watched() {
    for hooks in [SyscallHooks::PerSyscall, SyscallHooks::Raw] {
        let mut probes = load_with(hooks);
        // A write rule alone never reports a read.
        protect(&mut probes, &[("/etc/group", 3)]);
        probes.add_read_rule(&PathRule::parse("/etc/passwd"), 9).unwrap();
        probes.add_read_rule(&PathRule::parse("/etc/cron.d/"), 10).unwrap();
        assert!(probes.add_read_rule(&PathRule::parse("core_pattern"), 11).is_err(), "name rules are for writes");
        let watched = Container::start(&[]);
        let other = Container::start(&[]);
        probes.watch_reads(watched.cgroup_id).unwrap();
        let script = "cat /etc/passwd /etc/group /etc/hostname >/dev/null; ls /etc/cron.d >/dev/null; \
                      cat /etc/cron.d/e2scrub_all >/dev/null 2>&1; cat /etc/passwd >/dev/null";
        watched.sh(script);
        let reads = |events: &[Event]| -> Vec<(String, String, u32)> {
            events
                .iter()
                .filter_map(|e| match e {
                    Event::FileWrite { read: true, path, process, matched, flags, .. } => {
                        assert_eq!(*flags, 0);
                        Some((
                            process.comm.to_string_lossy().into_owned(),
                            path.path.to_string_lossy().into_owned(),
                            matched.rule_id,
                        ))
                    }
                    _ => None,
                })
                .collect()
        };
        let done =
            |events: &[Event]| events.iter().filter(|e| matches!(e, Event::FileWrite { read: true, .. })).count() >= 3;
        let events = collect(&mut probes, watched.cgroup_id, done);
        let seen = reads(&events);
        assert!(seen.contains(&("cat".into(), "/etc/passwd".into(), 9)), "{hooks:?}: {seen:?}");
        assert!(seen.contains(&("cat".into(), "/etc/cron.d/e2scrub_all".into(), 10)), "{hooks:?}: {seen:?}");
        assert!(!seen.iter().any(|(_, p, _)| p == "/etc/group" || p == "/etc/hostname"), "{hooks:?}: {seen:?}");
        // The same reads in a container whose reads are not watched: nothing.
        other.sh(&format!("{script}; /bin/true marker-other"));
        let other_events = collect_until(&mut probes, other.cgroup_id, |e| {
            exec_tgid(std::slice::from_ref(e), "marker-other").is_some()
        });
        assert!(reads(&other_events).is_empty(), "{hooks:?}: {other_events:#?}");
        // Unwatched: reads are not matched any more.
        probes.unwatch_reads(watched.cgroup_id).unwrap();
        watched.sh("cat /etc/passwd >/dev/null; /bin/true marker-after");
        let after = collect_until(&mut probes, watched.cgroup_id, |e| {
            exec_tgid(std::slice::from_ref(e), "marker-after").is_some()
        });
        assert!(reads(&after).is_empty(), "{hooks:?}: {after:#?}");
    }
}
