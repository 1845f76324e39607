//! Test support for the OS and OS package database tests: builds image layers as tar
//! streams and takes an inventory of them through the same code path a real image takes.

#![allow(dead_code)]

use image::{Expected, FileTree, Limits, apply_layer};
use inventory::{Inventorist, Inventory, Options};

/// One member of a test layer.
#[derive(Debug, Clone)]
pub enum Item {
    File(String, Vec<u8>),
    Symlink(String, String),
    Hardlink(String, String),
    Dir(String),
    /// Deletes a path of a lower layer (`.wh.NAME`).
    Whiteout(String),
}

pub fn file(path: &str, content: impl AsRef<[u8]>) -> Item {
    Item::File(path.to_owned(), content.as_ref().to_vec())
}

pub fn symlink(path: &str, target: &str) -> Item {
    Item::Symlink(path.to_owned(), target.to_owned())
}

pub fn hardlink(path: &str, target: &str) -> Item {
    Item::Hardlink(path.to_owned(), target.to_owned())
}

pub fn dir(path: &str) -> Item {
    Item::Dir(path.to_owned())
}

pub fn whiteout(path: &str) -> Item {
    Item::Whiteout(path.to_owned())
}

/// A layer as an uncompressed tar stream.
pub fn layer_tar(items: &[Item]) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    for item in items {
        let mut header = tar::Header::new_gnu();
        header.set_mode(0o644);
        header.set_mtime(1_700_000_000);
        match item {
            Item::File(path, content) => {
                header.set_entry_type(tar::EntryType::Regular);
                header.set_size(content.len() as u64);
                builder.append_data(&mut header, path.trim_start_matches('/'), content.as_slice()).unwrap();
            }
            Item::Symlink(path, target) | Item::Hardlink(path, target) => {
                let kind =
                    if matches!(item, Item::Symlink(..)) { tar::EntryType::Symlink } else { tar::EntryType::Link };
                header.set_entry_type(kind);
                header.set_size(0);
                let target = if kind == tar::EntryType::Link { target.trim_start_matches('/') } else { target };
                builder.append_link(&mut header, path.trim_start_matches('/'), target).unwrap();
            }
            Item::Dir(path) => {
                header.set_entry_type(tar::EntryType::Directory);
                header.set_mode(0o755);
                header.set_size(0);
                builder.append_data(&mut header, path.trim_start_matches('/'), std::io::empty()).unwrap();
            }
            Item::Whiteout(path) => {
                let (dir, name) = path.rsplit_once('/').unwrap();
                let marker = format!("{}/.wh.{name}", dir.trim_start_matches('/'));
                header.set_entry_type(tar::EntryType::Regular);
                header.set_size(0);
                builder.append_data(&mut header, marker.trim_start_matches('/'), std::io::empty()).unwrap();
            }
        }
    }
    builder.into_inner().unwrap()
}

/// Reads the layers, bottom first, and takes the inventory of the result.
pub fn inventory(layers: &[Vec<Item>]) -> (Inventory, FileTree) {
    let mut tree = FileTree::new();
    let mut visitor = Inventorist::new(&Options::default());
    for (i, items) in layers.iter().enumerate() {
        let tar = layer_tar(items);
        apply_layer(&mut tree, i as u32, &mut tar.as_slice(), &Expected::default(), &Limits::default(), &mut visitor)
            .unwrap();
    }
    let inventory = visitor.finish(&tree);
    (inventory, tree)
}

/// The test data file at `tests/data/NAME`.
pub fn data(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("reading {path}: {e}"))
}

/// A small deterministic generator for byte flips (no seeding from the clock, so that a
/// failure reproduces).
pub struct Flips(u64);

impl Flips {
    pub fn new(seed: u64) -> Self {
        Flips(seed ^ 0x9e37_79b9_7f4a_7c15)
    }

    pub fn next(&mut self) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A copy of `data` with `count` bytes replaced by random ones.
    pub fn garble(&mut self, data: &[u8], count: usize) -> Vec<u8> {
        let mut out = data.to_vec();
        if out.is_empty() {
            return out;
        }
        for _ in 0..count {
            let at = (self.next() % out.len() as u64) as usize;
            out[at] = self.next() as u8;
        }
        out
    }
}
