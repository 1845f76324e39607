//! Go binaries: a real binary built by tests/data/lang/go/build.sh (Go ≥ 1.18 inline
//! build information), a synthetic binary in the older pointer layout, and damaged input.

use crate::lang_support;

use inventory::lang::golang::{GoBinaryAnalyzer, parse_go_binary};
use lang_support::{TestImage, check, data, no_panic};

fn analyzer() -> Box<GoBinaryAnalyzer> {
    Box::default()
}

#[test]
fn real_binary() {
    let bin = data("go/hello-go");
    let mut img = TestImage::new();
    img.add_mode(1, "/usr/local/bin/hello", &bin, 0o755);
    // The same bytes without execute permission are not looked at.
    img.add_mode(1, "/srv/hello.copy", &bin, 0o644);
    check(
        &img,
        analyzer(),
        "
        example.com/greet (devel) pkg:golang/example.com/greet@%28devel%29 L1 /usr/local/bin/hello
        example.com/hello (devel) pkg:golang/example.com/hello@%28devel%29 L1 /usr/local/bin/hello
        stdlib go1.19.8 pkg:golang/stdlib@1.19.8 L1 /usr/local/bin/hello [BSD-3-Clause]
        ",
    );
    let info = parse_go_binary(&bin).value.expect("build information");
    assert_eq!(info.go_version, "go1.19.8");
    assert_eq!(info.path, "example.com/hello");
    assert_eq!(info.deps.len(), 1);
    assert_eq!(info.deps[0].version, "v1.2.3");
    assert_eq!(info.deps[0].replace.as_ref().map(|r| r.path.as_str()), Some("../greet"));
    assert!(info.settings.contains(&("GOARCH".to_owned(), "amd64".to_owned())));
}

#[test]
fn non_go_executables_give_nothing() {
    let mut img = TestImage::new();
    img.add_mode(0, "/bin/rusty", &data("rust/hello-rust"), 0o755).add_mode(
        0,
        "/bin/script",
        b"#!/bin/sh\necho hi\n",
        0o755,
    );
    check(&img, analyzer(), "");
}

/// Builds a little-endian ELF64 whose `.go.buildinfo` holds the pre-1.18 header: two
/// pointers to Go string headers in `.rodata`.
fn pointer_layout_elf(version: &str, modinfo: &str) -> Vec<u8> {
    const RODATA_ADDR: u64 = 0x40_0000;
    const BUILDINFO_ADDR: u64 = 0x50_0000;
    let sentinel = [0x30u8; 16];
    let mut wrapped = sentinel.to_vec();
    wrapped.extend_from_slice(modinfo.as_bytes());
    wrapped.extend_from_slice(&sentinel);
    // .rodata: version header, modinfo header, then the bytes.
    let mut rodata = Vec::new();
    let strings_at = RODATA_ADDR + 32;
    rodata.extend_from_slice(&strings_at.to_le_bytes());
    rodata.extend_from_slice(&(version.len() as u64).to_le_bytes());
    rodata.extend_from_slice(&(strings_at + version.len() as u64).to_le_bytes());
    rodata.extend_from_slice(&(wrapped.len() as u64).to_le_bytes());
    rodata.extend_from_slice(version.as_bytes());
    rodata.extend_from_slice(&wrapped);
    let mut buildinfo = b"\xff Go buildinf:".to_vec();
    buildinfo.push(8); // pointer size
    buildinfo.push(0); // flags: little endian, pointers
    buildinfo.extend_from_slice(&RODATA_ADDR.to_le_bytes());
    buildinfo.extend_from_slice(&(RODATA_ADDR + 16).to_le_bytes());
    let shstrtab = b"\0.go.buildinfo\0.rodata\0.shstrtab\0".to_vec();

    let mut out = vec![0u8; 64];
    let place = |out: &mut Vec<u8>, bytes: &[u8]| {
        while !out.len().is_multiple_of(16) {
            out.push(0);
        }
        let at = out.len() as u64;
        out.extend_from_slice(bytes);
        at
    };
    let bi_off = place(&mut out, &buildinfo);
    let ro_off = place(&mut out, &rodata);
    let sh_off_str = place(&mut out, &shstrtab);
    let shoff = place(&mut out, &[]);
    let section = |out: &mut Vec<u8>, name: u32, kind: u32, addr: u64, off: u64, size: u64| {
        out.extend_from_slice(&name.to_le_bytes());
        out.extend_from_slice(&kind.to_le_bytes());
        out.extend_from_slice(&(if kind == 1 { 2u64 } else { 0 }).to_le_bytes()); // SHF_ALLOC
        out.extend_from_slice(&addr.to_le_bytes());
        out.extend_from_slice(&off.to_le_bytes());
        out.extend_from_slice(&size.to_le_bytes());
        out.extend_from_slice(&0u32.to_le_bytes());
        out.extend_from_slice(&0u32.to_le_bytes());
        out.extend_from_slice(&1u64.to_le_bytes());
        out.extend_from_slice(&0u64.to_le_bytes());
    };
    section(&mut out, 0, 0, 0, 0, 0);
    section(&mut out, 1, 1, BUILDINFO_ADDR, bi_off, buildinfo.len() as u64);
    section(&mut out, 15, 1, RODATA_ADDR, ro_off, rodata.len() as u64);
    section(&mut out, 23, 3, 0, sh_off_str, shstrtab.len() as u64);
    let mut header = vec![0x7f, b'E', b'L', b'F', 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    header.extend_from_slice(&2u16.to_le_bytes()); // ET_EXEC
    header.extend_from_slice(&0x3eu16.to_le_bytes()); // x86-64
    header.extend_from_slice(&1u32.to_le_bytes());
    header.extend_from_slice(&0u64.to_le_bytes()); // entry
    header.extend_from_slice(&0u64.to_le_bytes()); // no program headers
    header.extend_from_slice(&shoff.to_le_bytes());
    header.extend_from_slice(&0u32.to_le_bytes());
    header.extend_from_slice(&64u16.to_le_bytes());
    header.extend_from_slice(&56u16.to_le_bytes());
    header.extend_from_slice(&0u16.to_le_bytes());
    header.extend_from_slice(&64u16.to_le_bytes());
    header.extend_from_slice(&4u16.to_le_bytes());
    header.extend_from_slice(&3u16.to_le_bytes());
    out[..64].copy_from_slice(&header);
    out
}

const OLD_MODINFO: &str = "path\tgithub.com/acme/tool\nmod\tgithub.com/acme/tool\tv1.4.0\th1:x=\ndep\tgithub.com/pkg/errors\tv0.9.1\th1:y=\ndep\tgolang.org/x/sys\tv0.0.0-20200116001909-b77594299b42\th1:z=\n=>\tgolang.org/x/sys\tv0.1.0\th1:w=\n";

#[test]
fn pointer_layout_before_go_1_18() {
    let elf = pointer_layout_elf("go1.16.15", OLD_MODINFO);
    let mut img = TestImage::new();
    img.add_mode(2, "/app/tool", &elf, 0o755);
    check(
        &img,
        analyzer(),
        "
        github.com/acme/tool v1.4.0 pkg:golang/github.com/acme/tool@v1.4.0 L2 /app/tool
        github.com/pkg/errors v0.9.1 pkg:golang/github.com/pkg/errors@v0.9.1 L2 /app/tool
        golang.org/x/sys v0.1.0 pkg:golang/golang.org/x/sys@v0.1.0 L2 /app/tool
        stdlib go1.16.15 pkg:golang/stdlib@1.16.15 L2 /app/tool [BSD-3-Clause]
        ",
    );
}

#[test]
fn pointers_outside_the_binary_are_a_problem() {
    let mut elf = pointer_layout_elf("go1.16.15", OLD_MODINFO);
    let at = elf.windows(14).position(|w| w == b"\xff Go buildinf:").unwrap();
    elf[at + 16..at + 24].copy_from_slice(&0xdead_beef_u64.to_le_bytes());
    let parsed = parse_go_binary(&elf);
    assert!(parsed.value.is_none());
    assert_eq!(parsed.problems, ["Go version string points outside the binary"]);
}

#[test]
fn parsers_never_panic() {
    let old = pointer_layout_elf("go1.16.15", OLD_MODINFO);
    no_panic(&old, 1, 3000, None, |b| {
        let _ = parse_go_binary(b);
    });
    // The real binary is large: prefixes at a stride, flips inside its build information.
    let bin = data("go/hello-go");
    let at = bin.windows(14).position(|w| w == b"\xff Go buildinf:").expect("magic in hello-go");
    no_panic(&bin, 4099, 300, Some(at..at + 600), |b| {
        let _ = parse_go_binary(b);
    });
}

#[test]
fn binaries_without_section_headers_are_searched() {
    let mut bin = data("go/hello-go");
    // e_shoff (offset 40) and e_shnum (offset 60) of an ELF64 header: no sections left.
    bin[40..48].fill(0);
    bin[60..62].fill(0);
    let info = parse_go_binary(&bin).value.expect("build information found by searching");
    assert_eq!(info.path, "example.com/hello");
}
