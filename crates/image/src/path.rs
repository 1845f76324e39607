//! Image paths: how tar member names become absolute paths inside the image root.
//!
//! Every path the rest of cguard sees is absolute, `/`-separated, without `.` or `..`
//! components and without a trailing slash (the root itself is `/`). Member names that
//! try to leave the root are refused, never clamped: a layer that contains them was made
//! by hand, and the user should hear about it.

use crate::Error;

/// Turns a tar member name into an absolute image path.
///
/// Accepts `etc/passwd`, `./etc/passwd` and `etc/` (directories); refuses absolute names,
/// any `..` component and NUL bytes.
pub fn normalize_member(name: &[u8]) -> Result<String, Error> {
    let shown = || String::from_utf8_lossy(name).into_owned();
    if name.contains(&0) {
        return Err(Error::HostileEntry { name: shown(), reason: "NUL byte in name" });
    }
    if name.first() == Some(&b'/') {
        return Err(Error::HostileEntry { name: shown(), reason: "absolute member name" });
    }
    let text = String::from_utf8_lossy(name);
    let mut out = String::with_capacity(text.len() + 1);
    for part in text.split('/') {
        match part {
            "" | "." => continue,
            ".." => {
                return Err(Error::HostileEntry { name: shown(), reason: "`..` in member name" });
            }
            _ => {
                out.push('/');
                out.push_str(part);
            }
        }
    }
    if out.is_empty() {
        out.push('/');
    }
    Ok(out)
}

/// The parent directory of an absolute image path (`/` for top-level entries and the root).
pub fn parent(path: &str) -> &str {
    match path.rfind('/') {
        Some(0) | None => "/",
        Some(i) => &path[..i],
    }
}

/// The last component of an absolute image path (empty for the root).
pub fn file_name(path: &str) -> &str {
    match path.rfind('/') {
        Some(i) => &path[i + 1..],
        None => path,
    }
}

/// Joins `rel` onto the directory `base` lexically, with chroot semantics: `..` never goes
/// above `/`. An absolute `rel` starts again from the root. The result is normalised.
pub fn join_in_root(base: &str, rel: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    let start = if rel.starts_with('/') { "" } else { base };
    for part in start.split('/').chain(rel.split('/')) {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    if parts.is_empty() {
        return "/".to_owned();
    }
    let mut out = String::new();
    for p in parts {
        out.push('/');
        out.push_str(p);
    }
    out
}

/// Whether `path` is `dir` itself or lies below it.
pub fn is_within(path: &str, dir: &str) -> bool {
    if dir == "/" {
        return true;
    }
    path == dir || (path.starts_with(dir) && path.as_bytes().get(dir.len()) == Some(&b'/'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(name: &str, expect: Result<&str, &str>) {
        let got = normalize_member(name.as_bytes());
        match (got, expect) {
            (Ok(p), Ok(e)) => assert_eq!(p, e, "{name}"),
            (Err(Error::HostileEntry { reason, .. }), Err(e)) => assert_eq!(reason, e, "{name}"),
            (got, expect) => panic!("{name}: got {got:?}, expected {expect:?}"),
        }
    }

    #[test]
    fn member_names() {
        check("etc/passwd", Ok("/etc/passwd"));
        check("./etc/passwd", Ok("/etc/passwd"));
        check("etc/", Ok("/etc"));
        check("./", Ok("/"));
        check(".", Ok("/"));
        check("a//b/./c", Ok("/a/b/c"));
        check("/etc/passwd", Err("absolute member name"));
        check("../etc/passwd", Err("`..` in member name"));
        check("a/../../etc", Err("`..` in member name"));
        check("a/..", Err("`..` in member name"));
        check("a\0b", Err("NUL byte in name"));
    }

    #[test]
    fn joins_stay_in_root() {
        assert_eq!(join_in_root("/usr/bin", "python3"), "/usr/bin/python3");
        assert_eq!(join_in_root("/usr/bin", "../lib/x"), "/usr/lib/x");
        assert_eq!(join_in_root("/usr/bin", "../../../../../etc/shadow"), "/etc/shadow");
        assert_eq!(join_in_root("/usr/bin", "/etc/alternatives/x"), "/etc/alternatives/x");
        assert_eq!(join_in_root("/", ".."), "/");
    }

    #[test]
    fn parents_and_names() {
        assert_eq!(parent("/etc/passwd"), "/etc");
        assert_eq!(parent("/etc"), "/");
        assert_eq!(parent("/"), "/");
        assert_eq!(file_name("/etc/passwd"), "passwd");
        assert!(is_within("/etc/ssh/sshd_config", "/etc"));
        assert!(is_within("/etc", "/etc"));
        assert!(!is_within("/etcetera", "/etc"));
        assert!(is_within("/x", "/"));
    }

    proptest::proptest! {
        #[test]
        fn normalized_paths_never_escape(name in "[a-z./]{0,24}") {
            if let Ok(p) = normalize_member(name.as_bytes()) {
                proptest::prop_assert!(p.starts_with('/'));
                proptest::prop_assert!(!p.split('/').any(|c| c == ".." || c == "."));
            }
        }

        #[test]
        fn joins_never_escape(base in "(/[a-z.]{1,3}){0,4}", rel in "[a-z./]{0,24}") {
            let p = join_in_root(if base.is_empty() { "/" } else { &base }, &rel);
            proptest::prop_assert!(p.starts_with('/'));
            proptest::prop_assert!(!p.split('/').any(|c| c == ".." || c == "."));
        }
    }
}
