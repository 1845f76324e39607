//! From a process to its container: the container id is read from the process's cgroup
//! paths (`/proc/PID/cgroup`), in the layouts container runtimes use:
//!
//! - Docker, cgroupfs driver: `/docker/<64 hex>` (v1 and v2, also under `/system.slice`);
//! - Docker, systemd driver: `/system.slice/docker-<64 hex>.scope`;
//! - containerd and CRI-O under Kubernetes: `…/cri-containerd-<64 hex>.scope`,
//!   `…/crio-<64 hex>.scope`, or `/kubepods/…/<64 hex>`.

/// The container id in one cgroup path, if it has one: the last component that is, or
/// that wraps, 64 hex digits.
pub fn container_id_in_path(path: &str) -> Option<String> {
    path.split('/').rev().find_map(|component| {
        let inner = component.strip_suffix(".scope").unwrap_or(component);
        let inner = ["docker-", "cri-containerd-", "crio-", "libpod-"]
            .iter()
            .find_map(|prefix| inner.strip_prefix(prefix))
            .unwrap_or(inner);
        is_container_id(inner).then(|| inner.to_ascii_lowercase())
    })
}

/// The container id in the text of `/proc/PID/cgroup` (`HIERARCHY:CONTROLLERS:PATH`
/// lines). The cgroup v2 line (`0::`) is preferred; a v1 line is used otherwise.
pub fn container_id_from_cgroup(text: &str) -> Option<String> {
    let paths: Vec<(&str, &str)> = text
        .lines()
        .filter_map(|line| {
            let mut parts = line.splitn(3, ':');
            let hierarchy = parts.next()?;
            let _controllers = parts.next()?;
            Some((hierarchy, parts.next()?))
        })
        .collect();
    paths
        .iter()
        .filter(|(h, _)| *h == "0")
        .chain(paths.iter().filter(|(h, _)| *h != "0"))
        .find_map(|(_, path)| container_id_in_path(path))
}

/// The container id of a running process, from `/proc/PID/cgroup`.
pub fn container_id_of_pid(pid: u32) -> Option<String> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/cgroup")).ok()?;
    container_id_from_cgroup(&text)
}

fn is_container_id(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "3f4e1a7c9b2d4e6f8a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f";

    #[test]
    fn docker_layouts_give_the_id() {
        let hybrid = format!("12:memory:/docker/{ID}\n1:name=systemd:/docker/{ID}\n0::/docker/{ID}\n");
        assert_eq!(container_id_from_cgroup(&hybrid).as_deref(), Some(ID));
        let systemd = format!("0::/system.slice/docker-{ID}.scope\n");
        assert_eq!(container_id_from_cgroup(&systemd).as_deref(), Some(ID));
        let nested = format!("0::/system.slice/docker-{ID}.scope/init\n");
        assert_eq!(container_id_from_cgroup(&nested).as_deref(), Some(ID));
        let v1_only = format!("4:cpu,cpuacct:/docker/{ID}\n0::/\n");
        assert_eq!(container_id_from_cgroup(&v1_only).as_deref(), Some(ID));
    }

    #[test]
    fn kubernetes_layouts_give_the_id() {
        let cri = format!("0::/kubepods.slice/kubepods-pod1.slice/cri-containerd-{ID}.scope\n");
        assert_eq!(container_id_from_cgroup(&cri).as_deref(), Some(ID));
        let crio = format!("0::/kubepods.slice/crio-{ID}.scope\n");
        assert_eq!(container_id_from_cgroup(&crio).as_deref(), Some(ID));
        let cgroupfs = format!("0::/kubepods/besteffort/pod123/{ID}\n");
        assert_eq!(container_id_from_cgroup(&cgroupfs).as_deref(), Some(ID));
    }

    #[test]
    fn host_processes_and_garbage_give_nothing() {
        assert_eq!(container_id_from_cgroup("0::/user.slice/user-0.slice/session-1.scope\n"), None);
        assert_eq!(container_id_from_cgroup("0::/\n"), None);
        assert_eq!(container_id_from_cgroup(""), None);
        assert_eq!(container_id_from_cgroup("garbage\n::\n0::/docker/abc\n"), None);
        assert_eq!(container_id_from_cgroup(&format!("0::/docker/{}\n", &ID[..63])), None);
        assert_eq!(container_id_from_cgroup(&format!("0::/docker/{ID}0\n")), None);
    }

    #[test]
    fn upper_case_ids_are_lowered() {
        assert_eq!(container_id_in_path(&format!("/docker/{}", ID.to_uppercase())).as_deref(), Some(ID));
    }
}
