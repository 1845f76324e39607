//! File info (SPEC 5): how much of the image packages own, and the largest files that
//! no package owns.

use std::collections::{BinaryHeap, HashSet};

use image::{FileKind, FileTree};

use crate::model::{FileStats, Package, SizedFile};

/// How many unowned files the report lists.
pub const LARGEST_UNOWNED: usize = 50;

/// Counts regular files (hard links count as files of their own, with their target's
/// size) as owned when any package lists them.
pub fn compute(tree: &FileTree, packages: &[Package]) -> FileStats {
    let owned: HashSet<&str> = packages.iter().flat_map(|p| p.files.iter().map(String::as_str)).collect();
    let mut stats = FileStats::default();
    // Min-heap of the largest unowned files seen so far.
    let mut heap: BinaryHeap<std::cmp::Reverse<(u64, String)>> = BinaryHeap::new();
    for (path, entry) in tree.iter() {
        if !matches!(entry.kind, FileKind::Regular | FileKind::Hardlink) {
            continue;
        }
        if owned.contains(path) {
            stats.owned_count += 1;
            stats.owned_bytes += entry.size;
            continue;
        }
        stats.unowned_count += 1;
        stats.unowned_bytes += entry.size;
        heap.push(std::cmp::Reverse((entry.size, path.to_owned())));
        if heap.len() > LARGEST_UNOWNED {
            heap.pop();
        }
    }
    let mut largest: Vec<SizedFile> =
        heap.into_iter().map(|std::cmp::Reverse((size, path))| SizedFile { path, size }).collect();
    largest.sort_by(|a, b| b.size.cmp(&a.size).then_with(|| a.path.cmp(&b.path)));
    stats.largest_unowned = largest;
    stats
}
