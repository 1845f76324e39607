//! The process tree of an event: the process and its ancestors (pid, executable, argv),
//! read from /proc when the event is handled (or, for an ancestor that already exited, from
//! what its exec event said), up to [`MAX_DEPTH`] processes and never beyond the container
//! (the runtime's processes above it are left out).

use api::shield::ProcessInfo;

/// Most processes in a tree (the process itself included).
pub const MAX_DEPTH: usize = 8;
/// Most arguments kept per process, and bytes per argument.
const MAX_ARGS: usize = 64;
const MAX_ARG_BYTES: usize = 512;

/// The parent pid in the text of `/proc/PID/stat` (the field after the state, which
/// follows the command name in parentheses; the name may itself hold `)`).
pub fn parent_from_stat(stat: &str) -> Option<u32> {
    let after = &stat[stat.rfind(')')? + 1..];
    let mut fields = after.split_whitespace();
    let _state = fields.next()?;
    fields.next()?.parse().ok()
}

/// Splits `/proc/PID/cmdline` (NUL-separated) into arguments, bounded.
pub fn split_cmdline(bytes: &[u8]) -> Vec<String> {
    let bytes = bytes.strip_suffix(&[0]).unwrap_or(bytes);
    if bytes.is_empty() {
        return Vec::new();
    }
    bytes.split(|&b| b == 0).take(MAX_ARGS).map(|a| bounded(&String::from_utf8_lossy(a))).collect()
}

fn bounded(s: &str) -> String {
    if s.len() <= MAX_ARG_BYTES {
        return s.to_owned();
    }
    let mut end = MAX_ARG_BYTES;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &s[..end])
}

/// What /proc says of one process, with its parent, or `None` when it is gone.
fn read_process(pid: u32) -> Option<(ProcessInfo, Option<u32>)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let parent = parent_from_stat(&stat);
    let exe =
        std::fs::read_link(format!("/proc/{pid}/exe")).map(|p| p.to_string_lossy().into_owned()).unwrap_or_default();
    let argv = std::fs::read(format!("/proc/{pid}/cmdline")).map(|b| split_cmdline(&b)).unwrap_or_default();
    Some((ProcessInfo { pid: i64::from(pid), exe, argv }, parent))
}

/// The pid namespace of a process (`pid:[INODE]`), if it is alive.
pub fn pid_namespace(pid: u32) -> Option<String> {
    std::fs::read_link(format!("/proc/{pid}/ns/pid")).ok().map(|p| p.to_string_lossy().into_owned())
}

/// The tree of process `tgid`. `first`, when given, describes the process itself as the
/// kernel reported it (for an exec: the new program and its arguments) and `ppid` its
/// parent (0: read it from /proc), so that a process that already exited still heads its
/// tree. `inside` says
/// whether a live ancestor belongs to the container: the runtime's processes above it
/// are left out. `exited` describes an ancestor gone from /proc, with its parent, when
/// its exec in the container was seen.
pub fn process_tree(
    tgid: u32,
    first: Option<ProcessInfo>,
    ppid: u32,
    inside: &dyn Fn(u32) -> bool,
    exited: &dyn Fn(u32) -> Option<(ProcessInfo, u32)>,
) -> Vec<ProcessInfo> {
    let mut tree = Vec::new();
    let own = read_process(tgid);
    let mut next = match (first, own) {
        (Some(info), own) => {
            tree.push(info);
            // The kernel's parent at the event; /proc's may be a reaper it was handed to.
            if ppid > 0 { Some(ppid) } else { own.and_then(|(_, parent)| parent) }
        }
        (None, Some((info, parent))) => {
            tree.push(info);
            parent
        }
        (None, None) => {
            tree.push(ProcessInfo { pid: i64::from(tgid), exe: String::new(), argv: Vec::new() });
            Some(ppid)
        }
    };
    while let Some(pid) = next.filter(|&p| p > 0) {
        if tree.len() >= MAX_DEPTH {
            break;
        }
        // /proc is read only for a process of the container (the runtime's above it cost a
        // namespace lookup, as before). A zombie (exited, not yet reaped) names no program,
        // and a process gone from /proc none at all: what their exec said does.
        let live = if inside(pid) { read_process(pid).filter(|(info, _)| !info.exe.is_empty()) } else { None };
        let (info, parent) = match live.or_else(|| exited(pid).map(|(info, parent)| (info, Some(parent)))) {
            Some(found) => found,
            None => break,
        };
        tree.push(info);
        next = parent;
    }
    tree
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_lines_give_the_parent() {
        assert_eq!(parent_from_stat("42 (sleep) S 7 42 42 0 -1"), Some(7));
        assert_eq!(parent_from_stat("42 (a) b) c) R 9 1"), Some(9));
        assert_eq!(parent_from_stat("42 (x"), None);
        assert_eq!(parent_from_stat(""), None);
        assert_eq!(parent_from_stat("1 (x) S"), None);
    }

    #[test]
    fn command_lines_split_and_are_bounded() {
        assert_eq!(split_cmdline(b"sh\0-c\0echo hi\0"), vec!["sh", "-c", "echo hi"]);
        assert!(split_cmdline(b"").is_empty());
        let long = vec![b'a'; 2000];
        assert!(split_cmdline(&long)[0].len() < 600);
        let many: Vec<u8> = (0..200).flat_map(|_| b"x\0".to_vec()).collect();
        assert_eq!(split_cmdline(&many).len(), MAX_ARGS);
    }

    #[test]
    fn the_tree_of_this_test_names_this_process_and_its_parent() {
        let me = std::process::id();
        let none = |_| None;
        let tree = process_tree(me, None, 0, &|_| true, &none);
        assert_eq!(tree[0].pid, i64::from(me));
        assert!(!tree[0].exe.is_empty());
        assert!(tree.len() >= 2 && tree.len() <= MAX_DEPTH, "{tree:?}");
        let parent = std::os::unix::process::parent_id();
        assert_eq!(tree[1].pid, i64::from(parent));
        let alone = process_tree(me, None, 0, &|p| p != parent, &none);
        assert_eq!(alone.len(), 1);
        let x = ProcessInfo { pid: 5, exe: "/x".into(), argv: vec![] };
        let gone = process_tree(u32::MAX - 1, Some(x.clone()), 0, &|_| true, &none);
        assert_eq!(gone.len(), 1);
        // Ancestors that exited are named from their exec, up to a live one.
        let sh = ProcessInfo { pid: i64::from(u32::MAX - 2), exe: "/bin/sh".into(), argv: vec!["sh".into()] };
        let exited = |pid: u32| (pid == u32::MAX - 2).then(|| (sh.clone(), me));
        let tree = process_tree(u32::MAX - 1, Some(x.clone()), u32::MAX - 2, &|_| true, &exited);
        assert_eq!(tree[..3].iter().map(|p| p.pid).collect::<Vec<_>>(), [5, i64::from(u32::MAX - 2), i64::from(me)]);
        assert_eq!(tree[1], sh);
        // A live process outside the container ends the tree, whatever was seen before.
        let tree = process_tree(u32::MAX - 1, Some(x), u32::MAX - 2, &|p| p != me, &exited);
        assert_eq!(tree.len(), 2);
    }
}
