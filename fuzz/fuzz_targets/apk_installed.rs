//! The apk database, `lib/apk/db/installed`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = inventory::apk::parse_installed(data);
});
