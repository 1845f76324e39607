//! Analyzers and the collector that feeds them while an image's layers stream past.
//!
//! Each analyzer says which files it wants ([`Analyzer::interest`]), receives their
//! contents in layer order, including copies that later layers shadow, and at the end
//! turns what is still visible in the final tree into packages. Analyzing every copy is
//! what lets a package be attributed to the layer that introduced it.

use std::io::{self, Read};

use image::{FileEntry, FileTree, LayerVisitor};

use crate::model::{OsInfo, Package, Problem};

/// How much of a file an analyzer wants.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Interest {
    No,
    /// The content, only if it starts with an ELF header (binaries with build info).
    IfElf,
    /// The whole content.
    Content,
}

/// Reads one kind of package database or manifest.
pub trait Analyzer: Send {
    fn name(&self) -> &'static str;
    /// Whether this analyzer wants the content of this regular file.
    fn interest(&self, path: &str, entry: &FileEntry) -> Interest;
    /// Receives one file's content. Problems are recorded, never raised.
    fn analyze(&mut self, path: &str, entry: &FileEntry, content: &[u8], problems: &mut Vec<Problem>);
    /// Produces the packages still present in the final tree.
    fn finish(self: Box<Self>, ctx: &Context<'_>, out: &mut Vec<Package>, problems: &mut Vec<Problem>);
}

/// What analyzers know when they finish.
#[derive(Debug)]
pub struct Context<'a> {
    pub tree: &'a FileTree,
    pub os: &'a OsInfo,
}

/// A value an analyzer found in one copy of a file.
#[derive(Debug, Clone)]
pub struct Found<T> {
    pub path: String,
    pub layer: u32,
    pub ordinal: u64,
    pub value: T,
}

impl<T> Found<T> {
    pub fn new(path: &str, entry: &FileEntry, value: T) -> Self {
        Found { path: path.to_owned(), layer: entry.layer, ordinal: entry.ordinal, value }
    }

    /// Whether this copy is the one the final tree shows.
    pub fn is_visible(&self, tree: &FileTree) -> bool {
        tree.is_visible(&self.path, self.layer, self.ordinal)
    }
}

/// For each key present in the final copy of a database, the layer where it was
/// introduced: the first layer of the unbroken run of copies, ending with the final one,
/// in which the key appears. `copies` is in layer order; `keys` gives each copy's keys.
pub fn introducing_layers<T, K: Ord + Clone>(
    copies: &[&Found<T>],
    keys: impl Fn(&T) -> Vec<K>,
) -> std::collections::BTreeMap<K, u32> {
    use std::collections::{BTreeMap, BTreeSet};
    let mut since: BTreeMap<K, u32> = BTreeMap::new();
    for copy in copies {
        let present: BTreeSet<K> = keys(&copy.value).into_iter().collect();
        since.retain(|k, _| present.contains(k));
        for k in present {
            since.entry(k).or_insert(copy.layer);
        }
    }
    since
}

/// Feeds analyzers from the layer stream. Content is read once per file, up to
/// `max_file_bytes`, and shared by every analyzer that wants it.
pub struct Collector {
    analyzers: Vec<Box<dyn Analyzer>>,
    max_file_bytes: u64,
    buffer: Vec<u8>,
    pub problems: Vec<Problem>,
}

impl std::fmt::Debug for Collector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<_> = self.analyzers.iter().map(|a| a.name()).collect();
        f.debug_struct("Collector").field("analyzers", &names).finish_non_exhaustive()
    }
}

impl Collector {
    pub fn new(analyzers: Vec<Box<dyn Analyzer>>, max_file_bytes: u64) -> Self {
        Collector { analyzers, max_file_bytes, buffer: Vec::new(), problems: Vec::new() }
    }

    fn interest(&self, path: &str, entry: &FileEntry) -> Interest {
        self.analyzers.iter().map(|a| a.interest(path, entry)).max().unwrap_or(Interest::No)
    }

    /// Runs every analyzer's `finish`, the OS analyzer's answer first.
    pub fn finish(self, tree: &FileTree, os: &OsInfo) -> (Vec<Package>, Vec<Problem>) {
        let mut packages = Vec::new();
        let mut problems = self.problems;
        let ctx = Context { tree, os };
        for a in self.analyzers {
            a.finish(&ctx, &mut packages, &mut problems);
        }
        (packages, problems)
    }
}

impl LayerVisitor for Collector {
    fn wants(&mut self, path: &str, entry: &FileEntry) -> bool {
        entry.size <= self.max_file_bytes && self.interest(path, entry) != Interest::No
    }

    fn visit(&mut self, path: &str, entry: &FileEntry, content: &mut dyn Read) -> io::Result<()> {
        let interest = self.interest(path, entry);
        self.buffer.clear();
        if interest == Interest::IfElf {
            let mut head = [0u8; 4];
            let n = read_up_to(content, &mut head)?;
            self.buffer.extend_from_slice(&head[..n]);
            if &head[..n] != b"\x7fELF" {
                let only_elf = self.analyzers.iter().all(|a| a.interest(path, entry) <= Interest::IfElf);
                if only_elf {
                    return Ok(());
                }
            }
        }
        content.read_to_end(&mut self.buffer)?;
        let is_elf = self.buffer.starts_with(b"\x7fELF");
        let buffer = std::mem::take(&mut self.buffer);
        for a in &mut self.analyzers {
            match a.interest(path, entry) {
                Interest::Content => a.analyze(path, entry, &buffer, &mut self.problems),
                Interest::IfElf if is_elf => a.analyze(path, entry, &buffer, &mut self.problems),
                _ => {}
            }
        }
        self.buffer = buffer;
        // Keep one large allocation from living on after a big file.
        if self.buffer.capacity() > 8 << 20 {
            self.buffer = Vec::new();
        }
        Ok(())
    }
}

fn read_up_to(r: &mut dyn Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..])? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(layer: u32, keys: &[&str]) -> Found<Vec<String>> {
        Found { path: "/db".into(), layer, ordinal: 0, value: keys.iter().map(|s| s.to_string()).collect() }
    }

    #[test]
    fn introducing_layer_is_start_of_unbroken_run() {
        let a = found(0, &["base", "gone-and-back"]);
        let b = found(2, &["base", "added"]);
        let c = found(3, &["base", "added", "gone-and-back"]);
        let layers = introducing_layers(&[&a, &b, &c], |v| v.clone());
        assert_eq!(layers["base"], 0);
        assert_eq!(layers["added"], 2);
        assert_eq!(layers["gone-and-back"], 3);
    }
}
