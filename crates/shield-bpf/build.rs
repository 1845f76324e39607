//! Compiles the eBPF programs in `bpf/*.bpf.c` with clang into objects that the crate embeds,
//! and writes `layout.rs`: the constants and struct offsets of `bpf/shield.h` as Rust items,
//! printed by a host program (`bpf/layout.c`), so the decoder cannot drift from the C side.
//!
//! `vmlinux.h` (the kernel's types, for CO-RE) is written at build time from the kernel's BTF
//! with `bpftool btf dump file ... format c`: it is 3 MB and specific to a kernel build, so it
//! is not kept in the repository. CO-RE relocations make the objects load on other kernels.
//!
//! Environment:
//! - `SHIELD_BPF_VMLINUX_BTF`: BTF file to read the kernel's types from (default
//!   `/sys/kernel/btf/vmlinux`).
//! - `CLANG`, `BPFTOOL`: the tools to use (default: found on `PATH`, `/usr/sbin`, `/sbin`).

use std::env;
use std::ffi::OsString;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

const INSTALL_HINT: &str = "run scripts/install-bpf-toolchain.sh (Debian packages clang, bpftool, libbpf-dev)";

fn main() {
    if let Err(message) = build() {
        // A build script reports a failure by panicking; the message is what the user reads.
        panic!("\n\nshield-bpf: {message}\n\n");
    }
}

fn build() -> Result<(), String> {
    let out_dir = PathBuf::from(env::var_os("OUT_DIR").ok_or("OUT_DIR is not set")?);
    let manifest_dir = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").ok_or("CARGO_MANIFEST_DIR is not set")?);
    let bpf_dir = manifest_dir.join("bpf");

    println!("cargo:rerun-if-env-changed=SHIELD_BPF_VMLINUX_BTF");
    println!("cargo:rerun-if-env-changed=CLANG");
    println!("cargo:rerun-if-env-changed=BPFTOOL");
    println!("cargo:rerun-if-changed=bpf");

    let arch = env::var("CARGO_CFG_TARGET_ARCH").unwrap_or_default();
    if arch != "x86_64" {
        return Err(format!("the eBPF programs support x86_64 only (syscall numbers, registers); target is {arch}"));
    }

    let clang = find_tool("CLANG", "clang")?;
    let bpftool = find_tool("BPFTOOL", "bpftool")?;
    if !Path::new("/usr/include/bpf/bpf_helpers.h").exists() {
        return Err(format!("the libbpf headers (/usr/include/bpf/bpf_helpers.h) are missing: {INSTALL_HINT}"));
    }

    let btf = env::var_os("SHIELD_BPF_VMLINUX_BTF").unwrap_or_else(|| OsString::from("/sys/kernel/btf/vmlinux"));
    if !Path::new(&btf).exists() {
        return Err(format!(
            "no kernel BTF at {}: the kernel needs CONFIG_DEBUG_INFO_BTF=y, or point SHIELD_BPF_VMLINUX_BTF \
             at a BTF file",
            Path::new(&btf).display()
        ));
    }
    let header = run(Command::new(&bpftool).args(["btf", "dump", "file"]).arg(&btf).args(["format", "c"]))?;
    fs::write(out_dir.join("vmlinux.h"), header).map_err(|e| format!("writing vmlinux.h: {e}"))?;

    // The layout program prints shield.h's constants and struct offsets as Rust items.
    let layout = out_dir.join("layout");
    run(Command::new(&clang)
        .args(["-O0", "-Wall", "-Werror", "-I"])
        .arg(&bpf_dir)
        .arg(bpf_dir.join("layout.c"))
        .arg("-o")
        .arg(&layout))?;
    let items = run(&mut Command::new(&layout))?;
    fs::write(out_dir.join("layout.rs"), items).map_err(|e| format!("writing layout.rs: {e}"))?;

    let mut sources: Vec<PathBuf> = fs::read_dir(&bpf_dir)
        .map_err(|e| format!("reading {}: {e}", bpf_dir.display()))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.to_string_lossy().ends_with(".bpf.c"))
        .collect();
    sources.sort();
    for source in &sources {
        let stem = source.file_name().and_then(|n| n.to_str()).and_then(|n| n.strip_suffix(".c")).unwrap_or("program");
        let object = out_dir.join(format!("{stem}.o"));
        let mut command = Command::new(&clang);
        command
            .args(["-target", "bpf", "-O2", "-g", "-D__TARGET_ARCH_x86", "-Wall", "-Werror"])
            .arg("-I")
            .arg(&out_dir)
            .arg("-I")
            .arg(&bpf_dir)
            .arg("-c")
            .arg(source)
            .arg("-o")
            .arg(&object);
        run(&mut command)?;
    }
    Ok(())
}

/// The tool named by the environment variable, or `name` on `PATH`, `/usr/sbin` or `/sbin`
/// (Debian installs bpftool in /usr/sbin, which is not on every user's `PATH`).
fn find_tool(variable: &str, name: &str) -> Result<PathBuf, String> {
    if let Some(path) = env::var_os(variable) {
        let path = PathBuf::from(path);
        if !path.is_file() {
            return Err(format!("{variable}={} is not a file: {INSTALL_HINT}", path.display()));
        }
        return Ok(path);
    }
    let path = env::var_os("PATH").unwrap_or_default();
    let mut dirs: Vec<PathBuf> = env::split_paths(&path).collect();
    dirs.extend([PathBuf::from("/usr/sbin"), PathBuf::from("/sbin")]);
    dirs.into_iter()
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
        .ok_or_else(|| format!("{name} was not found: {INSTALL_HINT}"))
}

/// Runs a command and returns its standard output, or an error with its standard error.
fn run(command: &mut Command) -> Result<Vec<u8>, String> {
    let output = command.output().map_err(|e| format!("running {command:?}: {e}"))?;
    if !output.status.success() {
        return Err(format!("{command:?} failed ({}):\n{}", output.status, String::from_utf8_lossy(&output.stderr)));
    }
    Ok(output.stdout)
}
