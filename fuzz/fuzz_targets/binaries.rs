//! Executables: Go build info and cargo-auditable dependency lists.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = inventory::lang::golang::parse_go_binary(data);
    let _ = inventory::lang::rust_binary::parse_rust_binary(data);
});
