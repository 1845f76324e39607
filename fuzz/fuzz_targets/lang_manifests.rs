//! Language package manifests and lockfiles.
#![no_main]

use inventory::lang;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = lang::python::parse_metadata(data);
    let _ = lang::python::parse_record(data);
    let _ = lang::npm::parse_package_json(data);
    let _ = lang::npm_lock::parse_package_lock(data);
    let _ = lang::npm_lock::parse_yarn_lock(data);
    let _ = lang::npm_lock::parse_pnpm_lock(data);
    let _ = lang::cargo_lock::parse_cargo_lock(data);
    let _ = lang::gem::parse_gemspec(data);
    let _ = lang::composer::parse_installed_json(data);
    let _ = lang::composer::parse_composer_lock(data);
});
