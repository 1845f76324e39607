//! A layer blob of arbitrary bytes (tar, gzip- or zstd-compressed tar) applied to a tree.
#![no_main]

use image::{Expected, FileTree, Limits, NoContent, apply_layer};
use libfuzzer_sys::fuzz_target;

/// A visitor that reads every file it is offered, so that content streaming is exercised.
struct ReadAll;

impl image::LayerVisitor for ReadAll {
    fn wants(&mut self, _: &str, _: &image::FileEntry) -> bool {
        true
    }
    fn visit(&mut self, _: &str, _: &image::FileEntry, content: &mut dyn std::io::Read) -> std::io::Result<()> {
        std::io::copy(content, &mut std::io::sink()).map(|_| ())
    }
}

fuzz_target!(|data: &[u8]| {
    let limits = Limits { max_layer_bytes: 64 << 20, max_entries_per_layer: 10_000, ..Limits::default() };
    let mut tree = FileTree::new();
    let _ = apply_layer(&mut tree, 0, &mut &data[..], &Expected::default(), &limits, &mut ReadAll);
    let mut tree = FileTree::new();
    let _ = apply_layer(&mut tree, 1, &mut &data[..], &Expected::default(), &limits, &mut NoContent);
    for (path, _) in tree.iter().take(50) {
        let _ = tree.resolve(path);
    }
});
