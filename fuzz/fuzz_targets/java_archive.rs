//! Java archives (jar, war, ear), nested archives included.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = inventory::lang::java::parse_java_archive(data, "fuzz-1.0.jar", &Default::default());
});
