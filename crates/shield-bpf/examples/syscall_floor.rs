//! What attaching programs to the syscall hooks costs before they do any work: runs a command
//! while empty programs are attached to a chosen set of hooks (or the shield's own programs).
//!
//! `cargo run --release -p shield-bpf --example syscall_floor -- HOOKS COMMAND [ARGS...]` (as
//! root). HOOKS is `none`, `shield` (the shield's programs, `Probes::load` with the default
//! configuration), `shield-raw` (the same with `SyscallHooks::Raw`), or hooks joined by `+`:
//! - `tp_btf-enter`, `tp_btf-exit`: empty programs on `tp_btf/sys_enter`, `tp_btf/sys_exit`
//!   (every syscall of the host); `tp_btf` is both;
//! - `raw_tp-enter`, `raw_tp-exit`, `raw_tp`: the same as raw tracepoints;
//! - `tp-enter`, `tp-exit`: an empty program on `syscalls/sys_enter_NAME` (`sys_exit_NAME`)
//!   of every watched x86_64 syscall, file operations included; `tracepoint` is both;
//! - `risky-enter`, `risky-exit`: the same for the high-risk syscalls only (no file
//!   operations); `risky` is both.
//!
//! The command's output is passed through; `bench/shield-floor.sh` runs it on syscall loops.

use std::process::{Command, ExitCode};

use aya::programs::{BtfTracePoint, RawTracePoint, TracePoint};
use aya::{Btf, Ebpf};
use shield_bpf::{ProbeConfig, Probes, Syscall, SyscallHooks, syscall_name};

const FLOOR: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/floor.bpf.o"));

fn expand(hooks: &str) -> Vec<&str> {
    hooks
        .split('+')
        .flat_map(|hook| match hook {
            "tp_btf" => vec!["tp_btf-enter", "tp_btf-exit"],
            "raw_tp" => vec!["raw_tp-enter", "raw_tp-exit"],
            "tracepoint" => vec!["tp-enter", "tp-exit"],
            "risky" => vec!["risky-enter", "risky-exit"],
            other => vec![other],
        })
        .collect()
}

/// The per-syscall tracepoints of one set of syscalls, for one phase.
fn attach_per_syscall(ebpf: &mut Ebpf, names: &[&str], phase: &str) -> Result<(), Box<dyn std::error::Error>> {
    let program: &mut TracePoint = ebpf.program_mut("floor_tp").ok_or("floor_tp")?.try_into()?;
    if program.fd().is_err() {
        program.load()?;
    }
    let mut attached = 0;
    for name in names {
        // The kernel defines umount2 as `umount`.
        let name = if *name == "umount2" { "umount" } else { name };
        match program.attach("syscalls", &format!("sys_{phase}_{name}")) {
            Ok(_) => attached += 1,
            Err(error) => eprintln!("sys_{phase}_{name}: {error}"),
        }
    }
    eprintln!("{attached} sys_{phase}_* tracepoints attached");
    Ok(())
}

/// Attaches the hooks; the returned values keep them attached.
fn attach(hooks: &str) -> Result<(Option<Ebpf>, Option<Probes>), Box<dyn std::error::Error>> {
    match hooks {
        "none" => return Ok((None, None)),
        "shield" => return Ok((None, Some(Probes::load(&ProbeConfig::default())?))),
        "shield-raw" => {
            let config = ProbeConfig { syscall_hooks: SyscallHooks::Raw, ..ProbeConfig::default() };
            return Ok((None, Some(Probes::load(&config)?)));
        }
        _ => {}
    }
    let btf = Btf::from_sys_fs()?;
    let mut ebpf = Ebpf::load(FLOOR)?;
    let watched: Vec<&str> = (0..512).filter_map(|nr| syscall_name(nr, false)).collect();
    let risky: Vec<&str> = Syscall::ALL.iter().map(|s| s.name()).collect();
    for hook in expand(hooks) {
        match hook {
            "tp_btf-enter" | "tp_btf-exit" => {
                let (name, target) = if hook.ends_with("enter") {
                    ("floor_btf_enter", "sys_enter")
                } else {
                    ("floor_btf_exit", "sys_exit")
                };
                let program: &mut BtfTracePoint = ebpf.program_mut(name).ok_or(name)?.try_into()?;
                program.load(target, &btf)?;
                program.attach()?;
            }
            "raw_tp-enter" | "raw_tp-exit" => {
                let (name, target) = if hook.ends_with("enter") {
                    ("floor_raw_enter", "sys_enter")
                } else {
                    ("floor_raw_exit", "sys_exit")
                };
                let program: &mut RawTracePoint = ebpf.program_mut(name).ok_or(name)?.try_into()?;
                program.load()?;
                program.attach(target)?;
            }
            "tp-enter" => attach_per_syscall(&mut ebpf, &watched, "enter")?,
            "tp-exit" => attach_per_syscall(&mut ebpf, &watched, "exit")?,
            "risky-enter" => attach_per_syscall(&mut ebpf, &risky, "enter")?,
            "risky-exit" => attach_per_syscall(&mut ebpf, &risky, "exit")?,
            other => return Err(format!("unknown hook {other}").into()),
        }
    }
    Ok((Some(ebpf), None))
}

fn main() -> Result<ExitCode, Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [hooks, program, rest @ ..] = args.as_slice() else {
        return Err("usage: syscall_floor HOOKS COMMAND [ARGS...]".into());
    };
    let attached = attach(hooks)?;
    let status = Command::new(program).args(rest).status()?;
    drop(attached);
    Ok(if status.success() { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}
