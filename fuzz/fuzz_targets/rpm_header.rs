//! One rpm header blob, as the rpm databases store them.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = inventory::rpm::header::parse(data);
    let _ = inventory::rpm::package_from_header(data);
});
