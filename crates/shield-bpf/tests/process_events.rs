//! Exec and exit events of container processes, and the programs' counters.

use std::ffi::OsString;
use std::path::Path;

use shield_bpf::Event;

use crate::support::{Container, collect, collect_until, exec_tgid, load};

#[test]
fn a_container_exec_reports_filename_arguments_file_and_a_container_cgroup() {
    let mut probes = load();
    let container = Container::start(&[]);
    let host_cgroup = shield_bpf::process_cgroup_id(std::process::id()).unwrap();
    assert_ne!(container.cgroup_id, host_cgroup);

    container.sh("exec /bin/true marker-exec two");
    let events = collect_until(&mut probes, container.cgroup_id, |e| {
        exec_tgid(std::slice::from_ref(e), "marker-exec").is_some()
    });
    let Some(Event::Exec {
        process,
        filename,
        argv,
        inode,
        device,
        nlink,
        size,
        ctime,
        memfd,
        deleted,
        interpreted,
        ..
    }) = events.iter().find(|e| exec_tgid(std::slice::from_ref(e), "marker-exec").is_some())
    else {
        unreachable!("collect_until returned without the exec event");
    };
    assert_eq!(filename, Path::new("/bin/true"));
    assert_eq!(argv, &["/bin/true", "marker-exec", "two"].map(OsString::from));
    assert_eq!(process.cgroup_id, container.cgroup_id);
    assert!(process.pid_ns_level >= 1, "{process:?}");
    assert_eq!(process.comm, "true");
    // The executed file, as the container sees it.
    let stat = container.run(&["stat", "-L", "-c", "%i %d %h %s %.9Z", "/bin/true"]);
    assert_eq!(stat, format!("{inode} {} {nlink} {size} {}.{:09}", device.st_dev(), ctime.0, ctime.1));
    assert!(!memfd && !deleted && !interpreted);
    // The mount namespace is the container's.
    let mnt = std::fs::read_link(format!("/proc/{}/ns/mnt", container.pid)).unwrap();
    assert_eq!(mnt.to_string_lossy(), format!("mnt:[{}]", process.mnt_ns));
}

#[test]
fn a_script_exec_is_flagged_and_describes_its_interpreter() {
    let mut probes = load();
    let container = Container::start(&[]);
    container.sh("printf '#!/bin/sh\\nexit 0\\n' >/tmp/s.sh; chmod +x /tmp/s.sh; /tmp/s.sh marker-script");
    let events = collect_until(&mut probes, container.cgroup_id, |e| {
        exec_tgid(std::slice::from_ref(e), "marker-script").is_some()
    });
    let Some(Event::Exec { filename, inode, interpreted, exe_name, .. }) =
        events.iter().find(|e| exec_tgid(std::slice::from_ref(e), "marker-script").is_some())
    else {
        unreachable!("collect_until returned without the exec event");
    };
    assert_eq!(filename, Path::new("/tmp/s.sh"));
    assert!(interpreted, "a script exec is not flagged");
    // The file mapped is the shell, not the script.
    assert_eq!(container.run(&["stat", "-L", "-c", "%i %n", "/bin/sh"]), format!("{inode} /bin/sh"));
    assert_ne!(exe_name, "s.sh");
}

#[test]
fn exit_reports_the_wait_status_once_per_process() {
    let mut probes = load();
    let container = Container::start(&[]);
    // $0 of the inner shell is the marker, so its exec event carries it.
    container.sh("sh -c 'sleep 0.1 & wait; exit 3' marker-exit; true");
    let events = collect(&mut probes, container.cgroup_id, |events| {
        exec_tgid(events, "marker-exit")
            .is_some_and(|tgid| events.iter().any(|e| matches!(e, Event::Exit { process, .. } if process.tgid == tgid)))
    });
    let tgid = exec_tgid(&events, "marker-exit").unwrap();
    let exits: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            Event::Exit { process, exit_code } if process.tgid == tgid => Some(*exit_code),
            _ => None,
        })
        .collect();
    assert_eq!(exits, vec![3 << 8]);
}

#[test]
fn memfd_and_deleted_file_execs_are_flagged() {
    let mut probes = load();
    let container = Container::start(&[]);
    container.sh("/helpers/actions memfd-exec; /helpers/actions deleted-exec /tmp/gone");
    let events = collect(&mut probes, container.cgroup_id, |events| {
        exec_tgid(events, "memfd-marker").is_some() && exec_tgid(events, "deleted-marker").is_some()
    });
    let exec = |marker: &str| {
        events
            .iter()
            .find(|e| exec_tgid(std::slice::from_ref(e), marker).is_some())
            .cloned()
            .unwrap_or_else(|| unreachable!("no exec event for {marker}"))
    };
    let Event::Exec { memfd, deleted, exe_name, filename, .. } = exec("memfd-marker") else { unreachable!() };
    assert!(memfd, "memfd exec not flagged");
    assert_eq!(exe_name, "memfd:payload");
    assert!(filename.starts_with("/dev/fd"), "{filename:?}");
    let Event::Exec { memfd, deleted: gone, nlink, exe_name, .. } = exec("deleted-marker") else { unreachable!() };
    assert!(gone && !memfd, "deleted exec flags: deleted {gone}, memfd {memfd}");
    assert_eq!(nlink, 0);
    assert_eq!(exe_name, "gone");
    // memfd files are not linked either: both flags hold for them.
    assert!(deleted);
}

#[test]
fn argument_capture_is_bounded_and_configurable() {
    let mut probes = load();
    let container = Container::start(&[]);
    let long = "x".repeat(3000);
    container.sh(&format!("/bin/true marker-long {long}"));
    let events = collect_until(&mut probes, container.cgroup_id, |e| {
        exec_tgid(std::slice::from_ref(e), "marker-long").is_some()
    });
    let Some(Event::Exec { argv, args_truncated, args_size, .. }) =
        events.iter().find(|e| exec_tgid(std::slice::from_ref(e), "marker-long").is_some())
    else {
        unreachable!()
    };
    assert!(*args_truncated);
    assert_eq!(*args_size as usize, "/bin/true".len() + "marker-long".len() + long.len() + 3);
    let kept: usize = argv.iter().map(|a| a.len() + 1).sum();
    assert_eq!(kept - 1, shield_bpf::ARGS_LEN, "the last, partial argument has no NUL");

    // A smaller limit applies at once, without reloading.
    let settings = shield_bpf::Settings { args_max: 16, ..shield_bpf::Settings::default() };
    probes.apply_settings(&settings).unwrap();
    container.sh("/bin/true marker-short-limit");
    let short = |e: &Event| matches!(e, Event::Exec { argv, .. } if argv.first().is_some_and(|a| a == "/bin/true") && argv.len() == 2);
    let events = collect_until(&mut probes, container.cgroup_id, short);
    let Some(Event::Exec { argv, args_truncated, .. }) = events.iter().find(|e| short(e)) else { unreachable!() };
    assert_eq!(argv, &[OsString::from("/bin/true"), OsString::from("marker")]);
    assert!(*args_truncated);
}

#[test]
fn counters_count_emitted_events_and_no_drops_under_light_load() {
    let mut probes = load();
    let container = Container::start(&[]);
    container.sh("for i in $(seq 50); do /bin/true marker-count; done");
    let events = collect(&mut probes, container.cgroup_id, |events| {
        events.iter().filter(|e| exec_tgid(std::slice::from_ref(e), "marker-count").is_some()).count() >= 50
    });
    let execs = events.iter().filter(|e| matches!(e, Event::Exec { .. })).count() as u64;
    let counters = probes.drop_counters().unwrap();
    assert!(counters.exec.emitted >= execs, "{counters:?}");
    assert!(counters.exit.emitted >= 50, "{counters:?}");
    assert_eq!(counters.total_dropped(), 0, "{counters:?}");
    assert_eq!(probes.decode_errors(), 0);
}

#[test]
fn a_full_ring_buffer_counts_drops_per_kind() {
    // One page holds two exec events: a burst that nobody reads overflows it.
    let config = shield_bpf::ProbeConfig { ring_buffer_bytes: 4096, ..shield_bpf::ProbeConfig::default() };
    let probes = shield_bpf::Probes::load(&config).unwrap();
    let container = Container::start(&[]);
    container.sh("for i in $(seq 40); do /bin/true; done");
    let counters = probes.drop_counters().unwrap();
    assert!(counters.exec.dropped > 0, "{counters:?}");
    assert!(counters.exec.emitted + counters.exec.dropped >= 40, "{counters:?}");
    assert_eq!(counters.total_dropped(), counters.kinds().iter().map(|(_, k)| k.dropped).sum::<u64>());
}
