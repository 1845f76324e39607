//! A layer blob of arbitrary bytes (tar, gzip- or zstd-compressed tar) applied to a tree.
//! Inputs go up to 8 MiB (`run.sh`), past the 1 MiB bound on a member's headers; seeds
//! include PAX headers with extended attributes and gzip blobs that expand to PAX headers
//! and GNU long names of several MiB.
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
    // A low ratio floor, so that bombs are stopped by the streaming ratio check.
    let limits = Limits {
        max_layer_bytes: 64 << 20,
        ratio_floor_bytes: 4 << 20,
        max_entries_per_layer: 10_000,
        ..Limits::default()
    };
    let mut tree = FileTree::new();
    let _ = apply_layer(&mut tree, 0, &mut &data[..], &Expected::default(), &limits, &mut ReadAll);
    let mut tree = FileTree::new();
    let _ = apply_layer(&mut tree, 1, &mut &data[..], &Expected::default(), &limits, &mut NoContent);
    for (path, _) in tree.iter().take(50) {
        let _ = tree.resolve(path);
    }
});
