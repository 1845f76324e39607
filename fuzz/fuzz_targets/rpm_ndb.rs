//! An rpm database in the ndb format, then every header it yields.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = inventory::rpm::ndb::read(data);
    let _ = inventory::rpm::read_packages(inventory::rpm::Backend::Ndb, data);
});
