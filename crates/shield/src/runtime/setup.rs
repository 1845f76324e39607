//! What the container runtime itself does before a container's first program: its init
//! process setting the container up. It is not the container's behaviour, so no policy
//! judges it; each test is narrow, so that a container process cannot pass for the runtime.

use std::collections::HashMap;

/// Whether an event comes from the container runtime's own setup: runc's init process
/// (`runc:[2:INIT]`, and its `[0:PARENT]`/`[1:CHILD]` helpers) before it executes the
/// container's first program. Its mounts, `pivot_root` and masked paths are not the
/// container's behaviour. A process seen executing a program, or whose parent was, is
/// never setup, so a container process cannot hide by renaming itself `runc:[…]`.
pub fn is_runtime_setup<V>(comm: &str, tgid: u32, ppid: u32, execed: &HashMap<u32, V>) -> bool {
    comm.starts_with("runc:[") && !execed.contains_key(&tgid) && !execed.contains_key(&ppid)
}

/// An exec as [`is_runtime_init`] judges it.
#[derive(Debug, Clone, Copy)]
pub struct Exec<'a> {
    /// The file name given to `execve`, as the kernel reported it.
    pub filename: &'a str,
    pub argv: &'a [String],
    pub tgid: u32,
    pub ppid: u32,
    /// The task is the runtime's, outside the container (see [`outside_container`]).
    pub outside_container: bool,
}

/// Whether an exec is the runtime starting a container's init: `runc create` and `runc
/// exec` start `/proc/self/exe init` (the runtime binary again, argv `[runc, init]`), and
/// runc 1.1 executes that process once more from a sealed copy of itself (`/dev/fd/N` of
/// a memfd); only then does the init join the container's namespaces and execute the
/// container's program. It is seen in a container where the runtime runs in a pid
/// namespace of its own (Kubernetes in containers) or places its init in the container's
/// cgroup before the exec (`CLONE_INTO_CGROUP`) for a container that shares the host's pid
/// namespace; it is the runtime's program, not the container's, and the container's
/// process whitelist does not list it. All of these must hold:
///
/// - the file is the caller's own executable (`/proc/self/exe`) or a descriptor of it
///   (`/proc/self/fd/N`, `/dev/fd/N`);
/// - the arguments are exactly `[_, "init"]`;
/// - the task is the runtime's, outside the container ([`outside_container`]): the
///   runtime's init joins the container's namespaces only after this exec;
/// - neither the process nor its parent was seen executing a program in the container, so
///   a container process that later runs `/proc/self/exe init` is judged as any other exec.
pub fn is_runtime_init<V>(exec: &Exec<'_>, execed: &HashMap<u32, V>) -> bool {
    let own_file = exec.filename == "/proc/self/exe"
        || ["/proc/self/fd/", "/dev/fd/"].iter().any(|dir| {
            exec.filename.strip_prefix(dir).is_some_and(|fd| !fd.is_empty() && fd.bytes().all(|b| b.is_ascii_digit()))
        });
    own_file
        && matches!(exec.argv, [_, init] if init == "init")
        && exec.outside_container
        && !execed.contains_key(&exec.tgid)
        && !execed.contains_key(&exec.ppid)
}

/// The mount namespace of a process (the inode number in `/proc/PID/ns/mnt`).
pub fn mount_namespace(pid: u32) -> Option<u32> {
    let link = std::fs::read_link(format!("/proc/{pid}/ns/mnt")).ok()?;
    link.to_str()?.strip_prefix("mnt:[")?.strip_suffix(']')?.parse().ok()
}

/// Whether a task (`tgid`, mount namespace `mnt_ns`, parent `ppid`) is the runtime's,
/// outside the container `container_id` whose first process is `container_pid`: its parent
/// (the runtime: `runc create`, `runc exec`) is in the same mount namespace and not in the
/// container's cgroup, and, when a process of the container is known, the task is not in
/// that process's mount namespace. A container process is in that namespace, and its
/// parent is in the container or (for the first program of `docker exec`) is a process of
/// the runtime in another mount namespace. A parent gone from /proc fails the test: the
/// exec is then judged.
pub fn outside_container(mnt_ns: u32, tgid: u32, ppid: u32, container_id: &str, container_pid: u32) -> bool {
    let parent = ppid > 0
        && mount_namespace(ppid) == Some(mnt_ns)
        && crate::attribution::container_id_of_pid(ppid).as_deref() != Some(container_id);
    // The container's first process as the engine named it; a container described from
    // this very exec has the task itself there.
    let container = container_pid == 0 || container_pid == tgid || mount_namespace(container_pid) != Some(mnt_ns);
    parent && container
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runc_init_before_the_first_exec_is_runtime_setup() {
        let mut execed = HashMap::new();
        assert!(is_runtime_setup("runc:[2:INIT]", 10, 9, &execed));
        assert!(is_runtime_setup("runc:[1:CHILD]", 10, 9, &execed));
        assert!(!is_runtime_setup("sh", 10, 9, &execed));
        execed.insert(10, ());
        assert!(!is_runtime_setup("runc:[2:INIT]", 10, 9, &execed));
        // A child of a container process that renamed itself.
        assert!(!is_runtime_setup("runc:[2:INIT]", 11, 10, &execed));
    }

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|a| (*a).to_owned()).collect()
    }

    #[test]
    fn the_runtimes_own_init_exec_is_recognised() {
        let execed: HashMap<u32, ()> = HashMap::new();
        let init = args(&["runc", "init"]);
        let exec = Exec { filename: "/proc/self/exe", argv: &init, tgid: 20, ppid: 19, outside_container: true };
        assert!(is_runtime_init(&exec, &execed));
        // runc 1.1 runs itself again from its sealed copy.
        assert!(is_runtime_init(&Exec { filename: "/dev/fd/6", ..exec }, &execed));
        assert!(is_runtime_init(&Exec { filename: "/proc/self/fd/7", ..exec }, &execed));
        let full = args(&["/usr/sbin/runc", "init"]);
        assert!(is_runtime_init(&Exec { argv: &full, ..exec }, &execed));
    }

    #[test]
    fn a_container_process_running_itself_again_is_not_the_runtime() {
        let mut execed: HashMap<u32, ()> = HashMap::new();
        let init = args(&["runc", "init"]);
        let exec = Exec { filename: "/proc/self/exe", argv: &init, tgid: 20, ppid: 19, outside_container: true };
        // Inside the container's mount namespace: a container process.
        assert!(!is_runtime_init(&Exec { outside_container: false, ..exec }, &execed));
        // Other arguments, other files.
        for other in [args(&["runc"]), args(&["runc", "init", "x"]), args(&["sh", "-c", "init"]), args(&["x", "boot"])]
        {
            assert!(!is_runtime_init(&Exec { argv: &other, ..exec }, &execed), "{other:?}");
        }
        for file in ["/usr/sbin/runc", "/proc/1/exe", "/proc/self/fd/", "/dev/fd/3x", "/tmp/exe", "/proc/self/exe/"] {
            assert!(!is_runtime_init(&Exec { filename: file, ..exec }, &execed), "{file}");
        }
        // A process seen executing a program in the container, or its child.
        execed.insert(20, ());
        assert!(!is_runtime_init(&exec, &execed));
        assert!(!is_runtime_init(&Exec { tgid: 21, ppid: 20, ..exec }, &execed));
    }

    #[test]
    fn the_runtime_is_told_from_a_container_process_by_namespace_and_parent() {
        let me = std::process::id();
        let parent = std::os::unix::process::parent_id();
        let own = mount_namespace(me).expect("own mount namespace");
        assert_eq!(mount_namespace(u32::MAX), None);
        let id = "a".repeat(64);
        // This test's process, child of a parent in the same mount namespace and in no
        // container `a…a`: as the runtime's init is, before a process of the container is
        // known or when the container's process is elsewhere.
        if mount_namespace(parent) == Some(own) {
            assert!(outside_container(own, me, parent, &id, 0));
            assert!(outside_container(own, me, parent, &id, me));
        }
        // In the known container process's mount namespace: a container process.
        let child = std::process::Command::new("sleep").arg("5").spawn().expect("sleep");
        assert!(!outside_container(own, me, parent, &id, child.id()));
        // A parent in another mount namespace, or gone.
        assert!(!outside_container(own.wrapping_add(1), me, parent, &id, 0));
        assert!(!outside_container(own, me, u32::MAX, &id, 0));
        assert!(!outside_container(own, me, 0, &id, 0));
        let mut child = child;
        let _ = child.kill();
        let _ = child.wait();
    }
}
