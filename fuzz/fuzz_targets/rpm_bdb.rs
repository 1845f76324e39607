//! An rpm database in the bdb format, then every header it yields.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = inventory::rpm::bdb::read(data);
    let _ = inventory::rpm::read_packages(inventory::rpm::Backend::BerkeleyDb, data);
});
