//! What the running kernel lets us use, found by loading (and attaching) tiny programs.
//!
//! Kernel version numbers and config files do not answer this: hardened and virtualised
//! kernels refuse program types their version supports (fentry and BPF LSM are refused with
//! `EPERM` even for root on some), and `lsm=` decides at boot whether BPF LSM hooks run.

use std::error::Error as StdError;
use std::fmt;
use std::io;

use aya::programs::{BtfTracePoint, FEntry, Lsm, RawTracePoint};
use aya::{Btf, Ebpf};

use crate::objects;

/// Whether the kernel accepted a feature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Support {
    /// Loaded, and attached where attaching applies.
    Available,
    /// Refused: at which stage, with the kernel's error.
    Refused {
        stage: Stage,
        /// The errno the kernel returned (`EPERM` is 1), when the failure came from a syscall.
        errno: Option<i32>,
        message: String,
    },
}

impl Support {
    pub fn is_available(&self) -> bool {
        matches!(self, Support::Available)
    }
}

/// Where a probe failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Reading the kernel's BTF, which BTF-typed programs need.
    Btf,
    /// Parsing the object or creating its maps.
    Object,
    /// `BPF_PROG_LOAD` (the verifier, or a policy refusing the program type).
    Load,
    /// Attaching the loaded program.
    Attach,
}

/// The answer of [`probe_kernel`], one entry per feature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KernelFeatures {
    /// The kernel's own BTF at /sys/kernel/btf/vmlinux (CO-RE and BTF-typed programs).
    pub btf: Support,
    /// BTF-enabled tracepoints (`tp_btf/sched_process_exec`): what the shield uses.
    pub tp_btf: Support,
    /// Raw tracepoints (`raw_tp/sys_enter`).
    pub raw_tracepoint: Support,
    /// Ring buffer maps and `bpf_ringbuf_output`.
    pub ring_buffer: Support,
    /// fentry programs (`fentry/vfs_read`).
    pub fentry: Support,
    /// BPF LSM programs (`lsm/bprm_check_security`), needed for in-kernel enforcement.
    pub lsm: Support,
    /// The active LSMs (`/sys/kernel/security/lsm`), when readable: BPF LSM programs only
    /// run when `bpf` is in this list.
    pub active_lsms: Option<String>,
}

impl KernelFeatures {
    /// Every feature with its answer, in a fixed order.
    pub fn entries(&self) -> [(&'static str, &Support); 6] {
        [
            ("btf", &self.btf),
            ("tp_btf", &self.tp_btf),
            ("raw_tracepoint", &self.raw_tracepoint),
            ("ring_buffer", &self.ring_buffer),
            ("fentry", &self.fentry),
            ("lsm", &self.lsm),
        ]
    }

    /// What the shield's detection needs: BTF, tp_btf and ring buffers.
    pub fn detection_supported(&self) -> bool {
        self.btf.is_available() && self.tp_btf.is_available() && self.ring_buffer.is_available()
    }
}

impl fmt::Display for Support {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Support::Available => f.write_str("available"),
            Support::Refused { stage, message, .. } => {
                let stage = match stage {
                    Stage::Btf => "reading BTF",
                    Stage::Object => "loading the object",
                    Stage::Load => "load",
                    Stage::Attach => "attach",
                };
                write!(f, "refused at {stage}: {message}")
            }
        }
    }
}

impl fmt::Display for KernelFeatures {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (name, support) in self.entries() {
            writeln!(f, "{name}: {support}")?;
        }
        match &self.active_lsms {
            Some(lsms) => write!(f, "active LSMs: {lsms}"),
            None => write!(f, "active LSMs: unknown"),
        }
    }
}

/// Probes the kernel. Never fails: every failure is an answer.
pub fn probe_kernel() -> KernelFeatures {
    let btf = Btf::from_sys_fs();
    let btf_support = match &btf {
        Ok(_) => Support::Available,
        Err(e) => refused(Stage::Btf, e),
    };
    let ring_buffer = match Ebpf::load(objects::PROBE_RINGBUF) {
        Ok(mut ebpf) => with_program(&mut ebpf, "probe_ringbuf", |p: &mut RawTracePoint| p.load(), None),
        Err(e) => refused(Stage::Object, &e),
    };
    let mut features = KernelFeatures {
        btf: btf_support,
        tp_btf: Support::Available,
        raw_tracepoint: Support::Available,
        ring_buffer,
        fentry: Support::Available,
        lsm: Support::Available,
        active_lsms: std::fs::read_to_string("/sys/kernel/security/lsm").ok().map(|s| s.trim().to_owned()),
    };
    let mut ebpf = match Ebpf::load(objects::PROBE) {
        Ok(ebpf) => ebpf,
        Err(e) => {
            let answer = refused(Stage::Object, &e);
            features.tp_btf = answer.clone();
            features.raw_tracepoint = answer.clone();
            features.fentry = answer.clone();
            features.lsm = answer;
            return features;
        }
    };
    features.raw_tracepoint = with_program(
        &mut ebpf,
        "probe_raw_tp",
        |p: &mut RawTracePoint| p.load(),
        Some(&|p: &mut RawTracePoint| p.attach("sys_enter").map(drop)),
    );
    let btf = match btf {
        Ok(btf) => btf,
        Err(e) => {
            let answer = refused(Stage::Btf, &e);
            features.tp_btf = answer.clone();
            features.fentry = answer.clone();
            features.lsm = answer;
            return features;
        }
    };
    features.tp_btf = with_program(
        &mut ebpf,
        "probe_tp_btf",
        |p: &mut BtfTracePoint| p.load("sched_process_exec", &btf),
        Some(&|p: &mut BtfTracePoint| p.attach().map(drop)),
    );
    features.fentry = with_program(
        &mut ebpf,
        "probe_fentry",
        |p: &mut FEntry| p.load("vfs_read", &btf),
        Some(&|p: &mut FEntry| p.attach().map(drop)),
    );
    features.lsm = with_program(
        &mut ebpf,
        "probe_lsm",
        |p: &mut Lsm| p.load("bprm_check_security", &btf),
        Some(&|p: &mut Lsm| p.attach().map(drop)),
    );
    // Dropping `ebpf` detaches and unloads everything the probe attached.
    features
}

type Step<'a, P> = &'a dyn Fn(&mut P) -> Result<(), aya::programs::ProgramError>;

/// Loads (and attaches) one program of a probe object and turns the outcome into an answer.
fn with_program<P>(
    ebpf: &mut Ebpf,
    name: &str,
    load: impl FnOnce(&mut P) -> Result<(), aya::programs::ProgramError>,
    attach: Option<Step<'_, P>>,
) -> Support
where
    for<'a> &'a mut P: TryFrom<&'a mut aya::programs::Program, Error = aya::programs::ProgramError>,
{
    let Some(program) = ebpf.program_mut(name) else {
        return Support::Refused { stage: Stage::Object, errno: None, message: format!("no program {name}") };
    };
    let program: &mut P = match program.try_into() {
        Ok(program) => program,
        Err(e) => return refused(Stage::Object, &e),
    };
    if let Err(e) = load(program) {
        return refused(Stage::Load, &e);
    }
    if let Some(attach) = attach
        && let Err(e) = attach(program)
    {
        return refused(Stage::Attach, &e);
    }
    Support::Available
}

fn refused(stage: Stage, error: &(dyn StdError + 'static)) -> Support {
    let errno = errno_of(error);
    Support::Refused { stage, errno, message: refusal_message(errno, error) }
}

/// What a refusal says: the OS error and its name when there is one, else the error's
/// first line (a verifier log can be long: its first line says enough here).
pub(crate) fn refusal_message(errno: Option<i32>, error: &(dyn StdError + 'static)) -> String {
    match errno {
        Some(errno) => format!("{} ({})", io::Error::from_raw_os_error(errno), errno_name(errno)),
        None => error.to_string().lines().next().unwrap_or_default().to_owned(),
    }
}

/// The first OS error in an error's source chain.
pub(crate) fn errno_of(error: &(dyn StdError + 'static)) -> Option<i32> {
    let mut current = Some(error);
    while let Some(e) = current {
        if let Some(io) = e.downcast_ref::<io::Error>()
            && let Some(errno) = io.raw_os_error()
        {
            return Some(errno);
        }
        current = e.source();
    }
    None
}

fn errno_name(errno: i32) -> &'static str {
    match errno {
        1 => "EPERM",
        2 => "ENOENT",
        7 => "E2BIG",
        13 => "EACCES",
        14 => "EFAULT",
        16 => "EBUSY",
        22 => "EINVAL",
        95 => "EOPNOTSUPP",
        524 => "ENOTSUPP",
        _ => "errno",
    }
}
