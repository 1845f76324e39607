//! The merged file tree of an image: every visible path after all layers, with the layer
//! that last wrote it. Only metadata is kept; contents are streamed to visitors while the
//! layers are read, so memory grows with the number of files, not with their size.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::path::join_in_root;

/// What kind of file a tree entry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FileKind {
    Regular,
    Directory,
    Symlink,
    /// A hard link; [`FileEntry::link`] names the path it links to.
    Hardlink,
    CharDevice,
    BlockDevice,
    Fifo,
}

/// Metadata of one file in the image.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FileEntry {
    pub kind: FileKind,
    /// Size in bytes of a regular file (for a hard link, of the file it links to).
    pub size: u64,
    /// Permission bits including setuid/setgid/sticky (`0o7777`).
    pub mode: u32,
    pub uid: u64,
    pub gid: u64,
    pub mtime: u64,
    /// Symlink target as written, or the absolute path a hard link points at.
    pub link: Option<String>,
    /// Index of the layer that wrote this entry (0 = base layer).
    pub layer: u32,
    /// Position of the entry in its layer, counted from 0. Together with `layer` it names
    /// one tar member, so that results computed for shadowed copies can be told apart.
    pub ordinal: u64,
}

impl FileEntry {
    pub fn is_regular(&self) -> bool {
        self.kind == FileKind::Regular
    }

    /// Whether any execute bit is set.
    pub fn is_executable(&self) -> bool {
        self.mode & 0o111 != 0
    }
}

/// The merged view of all layers.
#[derive(Debug, Default, Clone)]
pub struct FileTree {
    entries: BTreeMap<String, FileEntry>,
}

/// Symlinks followed at most this many times while resolving one path (as Linux does).
const MAX_SYMLINK_HOPS: usize = 40;

impl FileTree {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The entry at exactly `path` (no symlink resolution).
    pub fn get(&self, path: &str) -> Option<&FileEntry> {
        self.entries.get(path)
    }

    /// All entries, sorted by path.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &FileEntry)> {
        self.entries.iter().map(|(p, e)| (p.as_str(), e))
    }

    /// Entries at or below `dir`, sorted by path.
    pub fn walk_under<'a>(&'a self, dir: &'a str) -> Box<dyn Iterator<Item = (&'a str, &'a FileEntry)> + 'a> {
        use std::ops::Bound::{Excluded, Included};
        if dir == "/" {
            return Box::new(self.iter());
        }
        // Children of `/a/b` sort between `/a/b/` and `/a/b0` ('0' follows '/'), while
        // siblings such as `/a/b-dev` sort before them: a plain prefix scan would stop there.
        let (lo, hi) = (format!("{dir}/"), format!("{dir}0"));
        let own = self.entries.get_key_value(dir).map(|(p, e)| (p.as_str(), e));
        let below = self.entries.range::<str, _>((Included(lo.as_str()), Excluded(hi.as_str())));
        Box::new(own.into_iter().chain(below.map(|(p, e)| (p.as_str(), e))))
    }

    /// Whether this exact tar member (layer, ordinal) is the one visible at `path`.
    pub fn is_visible(&self, path: &str, layer: u32, ordinal: u64) -> bool {
        self.entries.get(path).is_some_and(|e| e.layer == layer && e.ordinal == ordinal)
    }

    /// Adds or replaces an entry, as a later layer does.
    pub fn insert(&mut self, path: String, entry: FileEntry) {
        // A non-directory replacing a directory hides everything that was below it.
        if entry.kind != FileKind::Directory && self.entries.get(&path).is_some_and(|e| e.kind == FileKind::Directory) {
            self.remove_subtree(&path, true, |_| true);
        }
        self.entries.insert(path, entry);
    }

    /// Applies a `.wh.NAME` whiteout: `path` and everything below it disappear.
    pub fn whiteout(&mut self, path: &str) {
        self.remove_subtree(path, true, |_| true);
    }

    /// Applies a `.wh..wh..opq` marker in `dir` written by layer `layer`: everything below
    /// `dir` that lower layers wrote disappears; entries of this layer stay.
    pub fn opaque(&mut self, dir: &str, layer: u32) {
        // The directory itself stays: only its lower-layer contents are hidden.
        self.remove_subtree(dir, false, |e| e.layer < layer);
    }

    fn remove_subtree(&mut self, dir: &str, include_self: bool, pred: impl Fn(&FileEntry) -> bool) {
        let doomed: Vec<String> = self
            .walk_under(dir)
            .filter(|(p, e)| (include_self || *p != dir) && pred(e))
            .map(|(p, _)| p.to_owned())
            .collect();
        for p in doomed {
            self.entries.remove(&p);
        }
    }

    /// Resolves `path` inside the image root, following symlinks in every component (the
    /// way the kernel would inside a chroot). Returns `None` if a component is missing, the
    /// path loops, or a non-final component is not a directory.
    pub fn resolve(&self, path: &str) -> Option<String> {
        let mut hops = 0;
        let mut pending: Vec<String> = components(path);
        pending.reverse();
        let mut current = String::from("/");
        while let Some(part) = pending.pop() {
            let candidate = join_in_root(&current, &part);
            match self.entries.get(&candidate) {
                Some(e) if e.kind == FileKind::Symlink => {
                    hops += 1;
                    if hops > MAX_SYMLINK_HOPS {
                        return None;
                    }
                    let target = e.link.as_deref().unwrap_or("");
                    let restart = join_in_root(&current, target);
                    let mut rest = components(&restart);
                    rest.reverse();
                    pending.extend(rest);
                    current = String::from("/");
                }
                Some(e) => {
                    if !pending.is_empty() && e.kind != FileKind::Directory {
                        return None;
                    }
                    current = candidate;
                }
                // Directories are often absent from layers as entries of their own: the
                // path is still valid if something lives below it.
                None if candidate == "/" => current = candidate,
                None if !pending.is_empty() && self.has_children(&candidate) => current = candidate,
                None => return None,
            }
        }
        Some(current)
    }

    /// Resolves `path` and returns the entry it lands on, after symlinks.
    pub fn lookup(&self, path: &str) -> Option<(String, &FileEntry)> {
        let resolved = self.resolve(path)?;
        let entry = self.entries.get(&resolved)?;
        Some((resolved, entry))
    }

    fn has_children(&self, dir: &str) -> bool {
        self.walk_under(dir).any(|(p, _)| p != dir)
    }
}

fn components(path: &str) -> Vec<String> {
    path.split('/').filter(|c| !c.is_empty()).map(str::to_owned).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(layer: u32) -> FileEntry {
        FileEntry {
            kind: FileKind::Regular,
            size: 1,
            mode: 0o644,
            uid: 0,
            gid: 0,
            mtime: 0,
            link: None,
            layer,
            ordinal: 0,
        }
    }

    fn link(target: &str) -> FileEntry {
        FileEntry { kind: FileKind::Symlink, link: Some(target.into()), ..file(0) }
    }

    fn dir(layer: u32) -> FileEntry {
        FileEntry { kind: FileKind::Directory, ..file(layer) }
    }

    #[test]
    fn whiteout_removes_subtree() {
        let mut t = FileTree::new();
        t.insert("/a".into(), dir(0));
        t.insert("/a/b".into(), file(0));
        t.insert("/ab".into(), file(0));
        t.whiteout("/a");
        assert!(t.get("/a").is_none());
        assert!(t.get("/a/b").is_none());
        assert!(t.get("/ab").is_some());
    }

    #[test]
    fn opaque_keeps_dir_and_same_layer_entries() {
        let mut t = FileTree::new();
        t.insert("/d".into(), dir(0));
        t.insert("/d/old".into(), file(0));
        t.insert("/d/new".into(), file(1));
        t.opaque("/d", 1);
        assert!(t.get("/d").is_some());
        assert!(t.get("/d/old").is_none());
        assert!(t.get("/d/new").is_some());
    }

    #[test]
    fn file_replacing_dir_hides_children() {
        let mut t = FileTree::new();
        t.insert("/x".into(), dir(0));
        t.insert("/x/y".into(), file(0));
        t.insert("/x".into(), file(1));
        assert!(t.get("/x/y").is_none());
    }

    #[test]
    fn subtree_walk_skips_siblings_sharing_a_prefix() {
        let mut t = FileTree::new();
        t.insert("/doc/zlib1g-dev/copyright".into(), file(0));
        t.insert("/doc/zlib1g/copyright".into(), file(0));
        t.insert("/doc/zlib1g.txt".into(), file(0));
        let under: Vec<_> = t.walk_under("/doc/zlib1g").map(|(p, _)| p).collect();
        assert_eq!(under, ["/doc/zlib1g/copyright"]);
        assert_eq!(t.resolve("/doc/zlib1g/copyright").as_deref(), Some("/doc/zlib1g/copyright"));
        t.whiteout("/doc/zlib1g");
        assert!(t.get("/doc/zlib1g-dev/copyright").is_some());
        assert!(t.get("/doc/zlib1g/copyright").is_none());
    }

    #[test]
    fn resolve_follows_links_inside_root() {
        let mut t = FileTree::new();
        t.insert("/etc/shadow".into(), file(0));
        t.insert("/usr/lib/os-release".into(), file(0));
        t.insert("/etc/os-release".into(), link("../usr/lib/os-release"));
        t.insert("/escape".into(), link("../../../../etc/shadow"));
        t.insert("/lib".into(), link("usr/lib"));
        t.insert("/loop".into(), link("/loop"));
        assert_eq!(t.resolve("/etc/os-release").as_deref(), Some("/usr/lib/os-release"));
        assert_eq!(t.resolve("/escape").as_deref(), Some("/etc/shadow"));
        assert_eq!(t.resolve("/lib/os-release").as_deref(), Some("/usr/lib/os-release"));
        assert_eq!(t.resolve("/loop"), None);
        assert_eq!(t.resolve("/missing"), None);
        assert_eq!(t.resolve("/etc/shadow/x"), None);
    }
}
