//! Protected files made read-only inside real containers.

use std::path::PathBuf;

use shield_enforce::{protect_files, release_files, reprotect_files};

use crate::support::Container;

#[test]
fn a_protected_file_is_read_only_in_the_container_only() {
    let dir = tempfile::tempdir().unwrap();
    let shared = dir.path().join("app.conf");
    std::fs::write(&shared, "setting=1\n").unwrap();
    let mount = format!("{}:/etc/app.conf", shared.display());
    let container = Container::start(&["-v", &mount]);
    let other = Container::start(&["-v", &mount]);
    let before = std::fs::read("/etc/passwd").unwrap();

    let paths = ["/etc/passwd", "/etc/app.conf", "/etc/absent"].map(PathBuf::from);
    let protection = protect_files(container.pid, &paths).unwrap();
    assert_eq!(protection.protected(), vec![PathBuf::from("/etc/passwd"), PathBuf::from("/etc/app.conf")]);
    assert_eq!(protection.missing, vec![PathBuf::from("/etc/absent")]);

    let run = container.sh("echo evil >> /etc/passwd; echo passwd=$?; echo 2 > /etc/app.conf; echo conf=$?");
    assert!(run.stdout.contains("passwd=2") && run.stdout.contains("conf=2"), "{run:?}");
    assert_eq!(run.stderr.matches("Read-only file system").count(), 2, "{run:?}");
    // Other ways to replace the file fail too.
    let run = container.sh("cp /etc/group /tmp/x; mv /tmp/x /etc/passwd; echo mv=$?; rm -f /etc/passwd; echo rm=$?; chmod 777 /etc/passwd; echo chmod=$?");
    assert!(!run.stdout.contains("mv=0") && !run.stdout.contains("rm=0") && !run.stdout.contains("chmod=0"), "{run:?}");
    // Reading works; an unprotected file stays writable.
    let run = container.sh("head -1 /etc/passwd; echo ok >> /etc/group && echo group-written");
    assert!(run.stdout.starts_with("root:"), "{run:?}");
    assert!(run.stdout.contains("group-written"), "{run:?}");

    // The host's files and another container mounting the same file are unaffected.
    assert_eq!(std::fs::read("/etc/passwd").unwrap(), before);
    assert_eq!(std::fs::read_to_string(&shared).unwrap(), "setting=1\n");
    let run = other.sh("echo setting=2 > /etc/app.conf && echo other-wrote");
    assert!(run.stdout.contains("other-wrote"), "{run:?}");
    assert_eq!(std::fs::read_to_string(&shared).unwrap(), "setting=2\n");
    std::fs::write(&shared, "setting=3\n").unwrap();
    assert_eq!(container.sh("cat /etc/app.conf").stdout, "setting=3\n", "the container still reads the live file");
}

#[test]
fn a_protected_directory_is_read_only_recursively() {
    let outer = tempfile::tempdir().unwrap();
    let inner = tempfile::tempdir().unwrap();
    let data = format!("{}:/data", outer.path().display());
    let sub = format!("{}:/data/sub", inner.path().display());
    std::fs::create_dir_all(outer.path().join("sub")).unwrap();
    let container = Container::start(&["-v", &data, "-v", &sub]);
    assert_eq!(container.sh("touch /data/a /data/sub/b && echo ok").stdout.trim(), "ok");

    let protection = protect_files(container.pid, &[PathBuf::from("/data")]).unwrap();
    assert_eq!(protection.protected(), vec![PathBuf::from("/data")]);
    let run = container.sh("touch /data/c; echo top=$?; touch /data/sub/d; echo sub=$?; cat /data/a && echo read");
    assert!(run.stdout.contains("top=1") && run.stdout.contains("sub=1") && run.stdout.contains("read"), "{run:?}");
    assert_eq!(run.stderr.matches("Read-only file system").count(), 2, "{run:?}");
    // The host still writes there.
    std::fs::write(inner.path().join("host"), "x").unwrap();
    assert_eq!(container.sh("cat /data/sub/host").stdout, "x");
}

#[test]
fn symlinks_are_resolved_inside_the_container() {
    let container = Container::start(&[]);
    // An absolute symlink inside the container must not reach the host's /etc.
    assert_eq!(container.sh("ln -s /etc/hostname /tmp/link && echo ok").stdout.trim(), "ok");
    let protection = protect_files(container.pid, &[PathBuf::from("/tmp/link")]).unwrap();
    assert_eq!(protection.protected(), vec![PathBuf::from("/etc/hostname")]);
    let run = container.sh("echo x > /etc/hostname; echo rc=$?");
    assert!(run.stdout.contains("rc=2"), "{run:?}");
    assert!(std::fs::metadata("/etc/hostname").is_ok());
}

#[test]
fn relative_paths_are_refused() {
    let container = Container::start(&[]);
    assert!(protect_files(container.pid, &[PathBuf::from("etc/passwd")]).is_err());
}

#[test]
fn protection_follows_a_new_list_and_released_files_are_writable_again() {
    let container = Container::start(&[]);
    let both = ["/etc/passwd", "/etc/group"].map(PathBuf::from);
    let first = protect_files(container.pid, &both).unwrap();
    assert_eq!(first.mounts.len(), 2);
    let writes = || container.sh("echo x >> /etc/passwd; echo passwd=$?; echo x >> /etc/group; echo group=$?").stdout;
    assert!(writes().contains("passwd=2") && writes().contains("group=2"));

    // Only /etc/passwd stays protected: its mount is kept as it is, not placed again.
    let again = reprotect_files(container.pid, &both[..1], &first.mounts).unwrap();
    assert_eq!(again.mounts, vec![first.mounts[0].clone()]);
    let stale: Vec<_> = first.mounts.iter().filter(|m| !again.mounts.contains(m)).cloned().collect();
    assert_eq!(release_files(container.pid, &stale).unwrap(), vec![PathBuf::from("/etc/group")]);
    let out = writes();
    assert!(out.contains("passwd=2") && out.contains("group=0"), "{out}");
    // Released twice: nothing left to take away.
    assert!(release_files(container.pid, &stale).unwrap().is_empty());

    // A mount placed over ours afterwards (here a second, independent protection) is not
    // taken away by releasing ours; once it is gone, ours can be.
    let over = protect_files(container.pid, &both[..1]).unwrap();
    assert_ne!(over.mounts, again.mounts);
    assert!(release_files(container.pid, &again.mounts).unwrap().is_empty());
    assert_eq!(release_files(container.pid, &over.mounts).unwrap(), vec![PathBuf::from("/etc/passwd")]);
    assert!(writes().contains("passwd=2"), "ours is still there");
    assert_eq!(release_files(container.pid, &again.mounts).unwrap(), vec![PathBuf::from("/etc/passwd")]);
    assert!(writes().contains("passwd=0"));
}
