//! Checks decided from the final file tree: setuid/setgid files, sudo, package caches,
//! SSH host keys, and NOPASSWD rules in sudoers.

use image::{FileKind, FileTree};

use super::catalog;
use super::{CheckResult, Location};
use crate::secrets::select::is_ssh_host_key;

/// Most paths named in one problem text; the locations list them all.
const LISTED: usize = 30;

fn listing(items: &[String]) -> String {
    let mut text = items.iter().take(LISTED).cloned().collect::<Vec<_>>().join(", ");
    if items.len() > LISTED {
        text.push_str(&format!(" and {} more", items.len() - LISTED));
    }
    text
}

fn file(path: &str) -> Location {
    Location { path: path.to_owned(), line: None }
}

/// CIS-DI-4.8: lists the setuid and setgid regular files.
pub fn setuid_files(tree: &FileTree) -> CheckResult {
    let check = &catalog::SETUID_FILES;
    let found: Vec<(&str, u32, u64)> = tree
        .iter()
        .filter(|(_, e)| e.kind == FileKind::Regular && e.mode & 0o6000 != 0)
        .map(|(p, e)| (p, e.mode, e.uid))
        .collect();
    if found.is_empty() {
        return check.passed();
    }
    let items: Vec<String> = found
        .iter()
        .map(|(p, mode, uid)| {
            let bits = match (mode & 0o4000 != 0, mode & 0o2000 != 0) {
                (true, true) => "setuid+setgid",
                (true, false) => "setuid",
                _ => "setgid",
            };
            format!("{p} ({bits}, mode {:04o}, owner uid {uid})", mode & 0o7777)
        })
        .collect();
    check.failed(
        format!("{} setuid/setgid files: {}", found.len(), listing(&items)),
        found.iter().map(|(p, _, _)| file(p)).collect(),
    )
}

/// Where sudo-like tools are installed.
const SUDO_PATHS: &[&str] =
    &["/usr/bin/sudo", "/bin/sudo", "/usr/sbin/sudo", "/usr/local/bin/sudo", "/usr/bin/doas", "/usr/local/bin/doas"];

/// CG-IMAGE-001: sudo (or doas) is not installed.
pub fn no_sudo(tree: &FileTree) -> CheckResult {
    let check = &catalog::NO_SUDO;
    let mut found: Vec<String> = SUDO_PATHS
        .iter()
        .filter_map(|p| tree.lookup(p).filter(|(_, e)| e.kind == FileKind::Regular).map(|(resolved, _)| resolved))
        .collect();
    found.sort();
    found.dedup();
    if found.is_empty() {
        check.passed()
    } else {
        let locations = found.iter().map(|p| file(p)).collect();
        check.failed(format!("installed: {}", found.join(", ")), locations)
    }
}

/// Whether a file left below a cache directory is cache content.
fn cache_of(path: &str) -> Option<&'static str> {
    if let Some(rest) = path.strip_prefix("/var/cache/apt/") {
        return if rest.starts_with("archives/") && rest.ends_with(".deb") {
            Some("/var/cache/apt/archives (*.deb)")
        } else if !rest.contains('/') && rest.ends_with(".bin") {
            Some("/var/cache/apt (*.bin)")
        } else {
            None
        };
    }
    if let Some(rest) = path.strip_prefix("/var/lib/apt/lists/") {
        return (rest != "lock").then_some("/var/lib/apt/lists");
    }
    const DIRS: &[(&str, &str)] = &[
        ("/var/cache/apk/", "/var/cache/apk"),
        ("/var/cache/yum/", "/var/cache/yum"),
        ("/var/cache/dnf/", "/var/cache/dnf"),
        ("/root/.cache/pip/", "/root/.cache/pip"),
        ("/root/.npm/_cacache/", "/root/.npm/_cacache"),
    ];
    if let Some((_, label)) = DIRS.iter().find(|(prefix, _)| path.starts_with(prefix)) {
        return Some(label);
    }
    let home = path.strip_prefix("/home/")?;
    let (_, rest) = home.split_once('/')?;
    if rest.starts_with(".cache/pip/") {
        return Some("/home/*/.cache/pip");
    }
    if rest.starts_with(".npm/_cacache/") {
        return Some("/home/*/.npm/_cacache");
    }
    None
}

/// CG-IMAGE-002: package manager caches left behind.
pub fn no_package_caches(tree: &FileTree) -> CheckResult {
    let check = &catalog::NO_PACKAGE_CACHES;
    // (cache, files, bytes, first paths)
    let mut caches: Vec<(&'static str, u64, u64, Vec<String>)> = Vec::new();
    let mut locations = Vec::new();
    for (path, entry) in tree.iter().filter(|(_, e)| e.kind == FileKind::Regular) {
        let Some(cache) = cache_of(path) else { continue };
        let slot = match caches.iter().position(|c| c.0 == cache) {
            Some(i) => i,
            None => {
                caches.push((cache, 0, 0, Vec::new()));
                caches.len() - 1
            }
        };
        if let Some(c) = caches.get_mut(slot) {
            c.1 += 1;
            c.2 = c.2.saturating_add(entry.size);
            if c.3.len() < 3 {
                c.3.push(path.to_owned());
            }
            if c.1 == 1 {
                locations.push(file(path));
            }
        }
    }
    if caches.is_empty() {
        return check.passed();
    }
    let problems: Vec<String> = caches
        .iter()
        .map(|(cache, n, bytes, first)| {
            format!("{cache}: {n} files, {} KiB (e.g. {})", bytes.div_ceil(1024), first.join(", "))
        })
        .collect();
    check.failed(problems.join("; "), locations)
}

/// CG-IMAGE-004: SSH host keys in the final filesystem.
pub fn no_ssh_host_keys(tree: &FileTree) -> CheckResult {
    let check = &catalog::NO_SSH_HOST_KEYS;
    let keys: Vec<&str> = tree
        .walk_under("/etc/ssh")
        .filter(|(p, e)| e.kind == FileKind::Regular && is_ssh_host_key(p))
        .map(|(p, _)| p)
        .collect();
    if keys.is_empty() {
        check.passed()
    } else {
        check.failed(
            format!("host private keys shipped in the image: {}", keys.join(", ")),
            keys.iter().map(|p| file(p)).collect(),
        )
    }
}

/// CG-IMAGE-005: NOPASSWD rules in the sudoers files given as (path, content).
pub fn no_nopasswd(sudoers: &[(&str, &str)]) -> CheckResult {
    let check = &catalog::NO_NOPASSWD_SUDO;
    if sudoers.is_empty() {
        return check.not_applicable("no /etc/sudoers or /etc/sudoers.d/* in the image");
    }
    let mut problems = Vec::new();
    let mut locations = Vec::new();
    for (path, text) in sudoers {
        for (i, line) in text.lines().enumerate() {
            let t = line.trim();
            if t.starts_with('#') || !t.contains("NOPASSWD") {
                continue;
            }
            let n = u32::try_from(i + 1).unwrap_or(u32::MAX);
            problems.push(format!("{path}:{n}: {}", crate::secrets::mask::shorten(t, 120)));
            locations.push(Location { path: (*path).to_owned(), line: Some(n) });
        }
    }
    if problems.is_empty() { check.passed() } else { check.failed(problems.join("; "), locations) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caches() {
        assert_eq!(cache_of("/var/cache/apt/archives/curl_1_amd64.deb"), Some("/var/cache/apt/archives (*.deb)"));
        assert_eq!(cache_of("/var/cache/apt/archives/lock"), None);
        assert_eq!(cache_of("/var/cache/apt/pkgcache.bin"), Some("/var/cache/apt (*.bin)"));
        assert_eq!(cache_of("/var/lib/apt/lists/lock"), None);
        assert_eq!(cache_of("/var/lib/apt/lists/deb_Packages"), Some("/var/lib/apt/lists"));
        assert_eq!(cache_of("/var/cache/apk/APKINDEX.tar.gz"), Some("/var/cache/apk"));
        assert_eq!(cache_of("/home/u/.cache/pip/http/x"), Some("/home/*/.cache/pip"));
        assert_eq!(cache_of("/home/u"), None);
        assert_eq!(cache_of("/var/cache/debconf/config.dat"), None);
    }
}
