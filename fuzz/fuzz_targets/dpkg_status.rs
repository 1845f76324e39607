//! dpkg status (and status.d) files, `.list` and `.md5sums` files, copyright files.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = inventory::dpkg::parse_status(data);
    let _ = inventory::dpkg::parse_list(data);
    let _ = inventory::dpkg::parse_md5sums(data);
    let _ = inventory::dpkg::parse_copyright(data);
});
