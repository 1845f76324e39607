//! os-release and distribution release files.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let fields = inventory::os::parse_os_release(data);
    let _ = inventory::os::os_release_info(&fields);
    for path in ["/etc/debian_version", "/etc/alpine-release", "/etc/redhat-release", "/etc/lsb-release"] {
        let _ = inventory::os::parse_release_file(path, data);
    }
});
