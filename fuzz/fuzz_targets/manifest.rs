//! Registry documents (manifests, indexes, manifest lists) and image configs.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    image::fuzzing::registry_document(data);
    let _ = image::ImageConfig::parse(data);
});
