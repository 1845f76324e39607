//! A whole `docker save` archive (or OCI layout tar) of arbitrary bytes, opened and read.
#![no_main]

use image::{Image, Limits, NoContent};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("image.tar");
    std::fs::write(&path, data).expect("write");
    let limits = Limits { max_layer_bytes: 64 << 20, max_entries_per_layer: 10_000, ..Limits::default() };
    for scheme in ["docker-archive", "oci"] {
        if let Ok(img) = Image::open(&format!("{scheme}:{}", path.display()), &Default::default()) {
            let _ = img.read(&limits, &mut NoContent);
        }
    }
});
