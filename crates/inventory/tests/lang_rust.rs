//! Rust: `cargo auditable` binaries (a real one built by tests/data/lang/rust/build.sh)
//! and `Cargo.lock` files of every version.

use crate::lang_support;

use std::io::Write;

use inventory::lang::cargo_lock::{CargoLockAnalyzer, parse_cargo_lock};
use inventory::lang::rust_binary::{RustBinaryAnalyzer, parse_audit_json, parse_dep_section, parse_rust_binary};
use lang_support::{TestImage, check, data, no_panic};

#[test]
fn auditable_binary() {
    let mut img = TestImage::new();
    img.add_mode(3, "/usr/local/bin/hello-rust", &data("rust/hello-rust"), 0o755).add_mode(
        3,
        "/usr/local/bin/hello-go",
        &data("go/hello-go"),
        0o755,
    );
    check(
        &img,
        Box::<RustBinaryAnalyzer>::default(),
        "
        hello-rust 0.3.1 pkg:cargo/hello-rust@0.3.1 L3 /usr/local/bin/hello-rust
        itoa 1.0.11 pkg:cargo/itoa@1.0.11 L3 /usr/local/bin/hello-rust
        ",
    );
}

#[test]
fn build_dependencies_are_left_out() {
    let json = br#"{"packages":[
        {"name":"app","version":"1.0.0","source":"local","dependencies":[1,2],"root":true},
        {"name":"serde","version":"1.0.200","source":"crates.io"},
        {"name":"cc","version":"1.0.90","source":"crates.io","kind":"build"}]}"#;
    let names: Vec<String> = parse_audit_json(json).value.iter().map(|p| format!("{}@{}", p.name, p.version)).collect();
    assert_eq!(names, ["app@1.0.0", "serde@1.0.200"]);
}

#[test]
fn cargo_lock_registry_and_git_packages() {
    let mut img = TestImage::new();
    img.add(1, "/src/app/Cargo.lock", &data("cargo/Cargo.lock")).add(
        2,
        "/src/old/Cargo.lock",
        &data("cargo/Cargo.v1.lock"),
    );
    check(
        &img,
        Box::<CargoLockAnalyzer>::default(),
        "
        anyhow 1.0.86 pkg:cargo/anyhow@1.0.86 L1 /src/app/Cargo.lock
        serde 1.0.204 pkg:cargo/serde@1.0.204 L1 /src/app/Cargo.lock
        tokio 1.38.0 pkg:cargo/tokio@1.38.0 L1 /src/app/Cargo.lock
        libc 0.2.66 pkg:cargo/libc@0.2.66 L2 /src/old/Cargo.lock
        ",
    );
}

#[test]
fn garbage_lockfile_is_a_problem() {
    let parsed = parse_cargo_lock(b"\x00\x01 not toml at all");
    assert!(parsed.value.is_empty());
    assert_eq!(parsed.problems, ["no `[[package]]` tables found"]);
}

fn zlib(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap()
}

#[test]
fn decompression_is_bounded() {
    // A section that inflates to 16 MiB of spaces is refused, with a problem.
    let parsed = parse_dep_section(&zlib(&vec![b' '; 16 << 20]));
    assert!(parsed.value.is_empty());
    assert_eq!(parsed.problems, ["the .dep-v0 section decompresses to more than 8388608 bytes"]);
    let parsed = parse_dep_section(b"not zlib");
    assert!(parsed.problems[0].starts_with("cannot decompress"), "{:?}", parsed.problems);
}

/// The file range of the `.dep-v0` section, found by its zlib stream contents.
fn find_dep_section(bin: &[u8]) -> std::ops::Range<usize> {
    use object::{Object, ObjectSection};
    let file = object::File::parse(bin).expect("hello-rust is an ELF file");
    let s = file.section_by_name(".dep-v0").expect(".dep-v0 section");
    let (off, len) = s.file_range().expect("file-backed section");
    off as usize..(off + len) as usize
}

#[test]
fn parsers_never_panic() {
    no_panic(&data("cargo/Cargo.lock"), 1, 2000, None, |b| {
        let _ = parse_cargo_lock(b);
    });
    let bin = data("rust/hello-rust");
    let section = find_dep_section(&bin);
    no_panic(&bin, 4099, 500, Some(section), |b| {
        let _ = parse_rust_binary(b);
    });
}
