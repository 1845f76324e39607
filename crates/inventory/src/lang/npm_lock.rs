//! Node lockfiles: `package-lock.json` (v1 nested `dependencies`, v2/v3 `packages`),
//! `yarn.lock` (classic v1 and Berry) and `pnpm-lock.yaml` (v5, v6, v9).
//!
//! Each parser returns the non-dev packages the lockfile pins, each `name@version` once.
//! Entries that do not name a registry version (links, workspaces, `file:` and git
//! sources) are left out: no vulnerability data speaks of them. The YAML lockfiles are
//! read line by line: both tools write them in one fixed layout, and a line reader needs
//! no YAML library and cannot be made to allocate without bound.

use std::collections::HashSet;

use super::npm::npm_package;
use super::{LangPackage, Parsed, json_str, text};

/// Most packages read from one lockfile; real ones have a few thousand.
const MAX_PACKAGES: usize = 200_000;
/// Deepest v1 `dependencies` nesting followed.
const MAX_DEPTH: usize = 64;

/// Whether a lockfile version names a registry release (`1.2.3`, `1.0.0-rc.1`).
fn is_registry_version(v: &str) -> bool {
    v.starts_with(|c: char| c.is_ascii_digit()) && !v.contains([':', '/', ' '])
}

#[derive(Default)]
struct Collected {
    seen: HashSet<(String, String)>,
    packages: Vec<LangPackage>,
    problems: Vec<String>,
}

impl Collected {
    fn add(&mut self, name: &str, version: &str) {
        let (name, version) = (name.trim(), version.trim());
        if name.is_empty() || !is_registry_version(version) {
            return;
        }
        if self.packages.len() >= MAX_PACKAGES {
            if self.problems.is_empty() {
                self.problems.push(format!("more than {MAX_PACKAGES} packages; the rest are left out"));
            }
            return;
        }
        if self.seen.insert((name.to_owned(), version.to_owned())) {
            self.packages.push(npm_package(name, version));
        }
    }

    fn done(self) -> Parsed<Vec<LangPackage>> {
        Parsed::new(self.packages, self.problems)
    }
}

/// Parses `package-lock.json` (or `npm-shrinkwrap.json`) of any lockfile version.
pub fn parse_package_lock(content: &[u8]) -> Parsed<Vec<LangPackage>> {
    let v: serde_json::Value = match serde_json::from_str(&text(content)) {
        Ok(v) => v,
        Err(e) => return Parsed::new(vec![], vec![format!("not valid JSON: {e}")]),
    };
    let mut c = Collected::default();
    if let Some(packages) = v.get("packages").and_then(|p| p.as_object()) {
        for (path, entry) in packages {
            // Only installed locations: "" is the project itself, other paths without
            // `node_modules/` are workspace members (the project's own code).
            let Some(idx) = path.rfind("node_modules/") else { continue };
            if entry.get("link").and_then(|l| l.as_bool()) == Some(true) || is_dev(entry) {
                continue;
            }
            let name = json_str(entry, "name").unwrap_or(&path[idx + "node_modules/".len()..]);
            c.add(name, json_str(entry, "version").unwrap_or(""));
        }
    } else if let Some(deps) = v.get("dependencies") {
        walk_v1(deps, 0, &mut c);
    } else {
        c.problems.push("neither `packages` nor `dependencies` found".into());
    }
    c.done()
}

fn is_dev(entry: &serde_json::Value) -> bool {
    entry.get("dev").and_then(|d| d.as_bool()) == Some(true)
}

fn walk_v1(deps: &serde_json::Value, depth: usize, c: &mut Collected) {
    let Some(deps) = deps.as_object() else { return };
    if depth > MAX_DEPTH {
        c.problems.push(format!("dependencies nested deeper than {MAX_DEPTH} levels are left out"));
        return;
    }
    for (name, entry) in deps {
        if is_dev(entry) {
            continue;
        }
        let version = json_str(entry, "version").unwrap_or("");
        // An alias (`"string-width-cjs": {"version": "npm:string-width@4.2.3"}`) pins the
        // real package named after `npm:`.
        match version.strip_prefix("npm:").and_then(|a| split_name_at(a, '@')) {
            Some((real, v)) => c.add(real, v),
            None => c.add(name, version),
        }
        if let Some(nested) = entry.get("dependencies") {
            walk_v1(nested, depth + 1, c);
        }
    }
}

/// Splits `@scope/name@1.0.0` or `name@1.0.0` at the `sep` that ends the name (the first
/// one after a leading `@`).
fn split_name_at(s: &str, sep: char) -> Option<(&str, &str)> {
    let start = usize::from(s.starts_with('@'));
    let idx = s.get(start..)?.find(sep)? + start;
    Some((&s[..idx], &s[idx + 1..]))
}

/// Parses `yarn.lock`, classic (v1) or Berry (v2+).
pub fn parse_yarn_lock(content: &[u8]) -> Parsed<Vec<LangPackage>> {
    let text = text(content);
    let mut c = Collected::default();
    let mut current: Option<String> = None;
    let mut version: Option<String> = None;
    let mut skip = false;
    let mut keys = 0usize;
    let flush = |name: &mut Option<String>, version: &mut Option<String>, skip: bool, c: &mut Collected| {
        if let (Some(n), Some(v)) = (name.take(), version.take())
            && !skip
        {
            c.add(&n, &v);
        }
    };
    for line in text.lines() {
        let trimmed = line.trim_end();
        if trimmed.is_empty() || trimmed.trim_start().starts_with('#') {
            continue;
        }
        if !line.starts_with([' ', '\t']) {
            flush(&mut current, &mut version, skip, &mut c);
            // `"@babel/core@^7.0.0", "@babel/core@npm:^7.1.0":` — the name is that of the
            // first descriptor.
            let key = trimmed.trim_end_matches(':');
            let first = key.split(',').next().unwrap_or("").trim().trim_matches('"');
            current = split_name_at(first, '@').map(|(n, _)| n.to_owned());
            skip = first.starts_with("__metadata");
            keys += 1;
            continue;
        }
        let field = trimmed.trim_start();
        // Fields of an entry sit at two spaces; deeper lines are its dependency lists.
        if line.len() - field.len() != 2 {
            continue;
        }
        // v1: `version "1.2.3"`; Berry: `version: 1.2.3`.
        if let Some(rest) = field.strip_prefix("version ").or_else(|| field.strip_prefix("version:")) {
            version = Some(rest.trim().trim_matches('"').to_owned());
        } else if let Some(rest) = field.strip_prefix("resolution:") {
            // Workspace members and links are the project's own code.
            let r = rest.trim().trim_matches('"');
            if r.contains("@workspace:") || r.contains("@link:") || r.contains("@portal:") {
                skip = true;
            }
        }
    }
    flush(&mut current, &mut version, skip, &mut c);
    if keys == 0 && text.lines().any(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#')) {
        c.problems.push("no package entries found".into());
    }
    c.done()
}

/// Parses `pnpm-lock.yaml`: the keys of its top-level `packages:` map.
pub fn parse_pnpm_lock(content: &[u8]) -> Parsed<Vec<LangPackage>> {
    let text = text(content);
    let mut c = Collected::default();
    let mut in_packages = false;
    let mut pending: Option<(String, String)> = None;
    let mut dev = false;
    let mut saw_packages = false;
    for line in text.lines() {
        if line.trim().is_empty() || line.trim_start().starts_with('#') {
            continue;
        }
        let indent = line.len() - line.trim_start().len();
        if indent == 0 {
            if let Some((n, v)) = pending.take()
                && !dev
            {
                c.add(&n, &v);
            }
            in_packages = line.trim_end() == "packages:";
            saw_packages |= in_packages;
            continue;
        }
        if !in_packages {
            continue;
        }
        let field = line.trim();
        if indent == 2 && field.ends_with(':') {
            if let Some((n, v)) = pending.take()
                && !dev
            {
                c.add(&n, &v);
            }
            dev = false;
            pending = pnpm_key(field.trim_end_matches(':'));
        } else if indent > 2 && field == "dev: true" {
            dev = true;
        }
    }
    if let Some((n, v)) = pending.take()
        && !dev
    {
        c.add(&n, &v);
    }
    if !saw_packages && !text.trim().is_empty() && !text.contains("lockfileVersion") {
        c.problems.push("not a pnpm lockfile: no `lockfileVersion`".into());
    }
    c.done()
}

/// A pnpm package key as name and version: `/name/1.0.0_peer@2.0.0` (v5),
/// `/@scope/name@1.0.0(peer@2.0.0)` (v6) or `'@scope/name@1.0.0'` (v9).
fn pnpm_key(key: &str) -> Option<(String, String)> {
    let key = key.trim().trim_matches(|c| c == '\'' || c == '"');
    let key = key.strip_prefix('/').unwrap_or(key);
    // v5: `name/version` or `@scope/name/version`, the version cut at its `_peer` suffix.
    let name_segments = if key.starts_with('@') { 2 } else { 1 };
    let segments: Vec<&str> = key.splitn(name_segments + 1, '/').collect();
    if let [.., version] = segments.as_slice()
        && segments.len() == name_segments + 1
        && version.starts_with(|c: char| c.is_ascii_digit())
    {
        let name = segments[..name_segments].join("/");
        return Some((name, version.split('_').next().unwrap_or(version).to_owned()));
    }
    // v6 and v9: `name@version`, with peer dependencies in parentheses.
    let key = key.split('(').next().unwrap_or(key);
    split_name_at(key, '@').map(|(n, v)| (n.to_owned(), v.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pnpm_keys() {
        let k = |s: &str| pnpm_key(s).map(|(n, v)| format!("{n} {v}"));
        assert_eq!(k("/lodash/4.17.21").as_deref(), Some("lodash 4.17.21"));
        assert_eq!(k("/@babel/core/7.0.0_eslint@8.0.0").as_deref(), Some("@babel/core 7.0.0"));
        assert_eq!(k("/@babel/core@7.0.0(eslint@8.0.0)").as_deref(), Some("@babel/core 7.0.0"));
        assert_eq!(k("'@babel/core@7.0.0'").as_deref(), Some("@babel/core 7.0.0"));
        assert_eq!(k("ms@2.1.3").as_deref(), Some("ms 2.1.3"));
        assert_eq!(k("/react-dom@18.2.0(@types/react@18.0.0)").as_deref(), Some("react-dom 18.2.0"));
        assert_eq!(k("/@a/b@1.0.0(@c/d@2.0.0)").as_deref(), Some("@a/b 1.0.0"));
    }

    #[test]
    fn registry_versions() {
        assert!(is_registry_version("1.2.3-rc.1"));
        assert!(!is_registry_version("file:../x"));
        assert!(!is_registry_version("github:a/b#c"));
        assert!(!is_registry_version(""));
    }
}
