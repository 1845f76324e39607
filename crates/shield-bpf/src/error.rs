//! Errors of the loader.

use std::io;

use crate::rules::RuleError;

/// Loading or attaching the programs failed.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The configuration is not one the kernel can take.
    #[error("invalid probe configuration: {0}")]
    Config(String),
    /// The object could not be parsed, or its maps could not be created.
    #[error("loading the eBPF object failed: {0}")]
    Object(#[source] aya::EbpfError),
    /// The running kernel's BTF (needed by the tp_btf programs) could not be read.
    #[error("reading the kernel's BTF (/sys/kernel/btf/vmlinux) failed: {0}")]
    Btf(#[source] aya::BtfError),
    /// A program or map the loader expects is missing from the object (a build mismatch).
    #[error("the eBPF object has no {what} named {name}")]
    Missing { what: &'static str, name: &'static str },
    /// The kernel refused a program (the verifier log is in the source error).
    #[error("loading program {program} failed: {source}")]
    Program {
        program: &'static str,
        #[source]
        source: aya::programs::ProgramError,
    },
    /// Attaching a loaded program failed.
    #[error("attaching program {program} failed: {source}")]
    Attach {
        program: &'static str,
        #[source]
        source: aya::programs::ProgramError,
    },
    /// A map could not be opened or filled.
    #[error(transparent)]
    Map(#[from] MapError),
}

/// Reading or writing one of the programs' maps failed.
#[derive(Debug, thiserror::Error)]
pub enum MapError {
    #[error("map {map}: {source}")]
    Map {
        map: &'static str,
        #[source]
        source: aya::maps::MapError,
    },
    #[error(transparent)]
    Rule(#[from] RuleError),
}

/// Waiting for events failed.
#[derive(Debug, thiserror::Error)]
pub enum PollError {
    #[error("waiting on the event ring buffer failed: {0}")]
    Wait(#[source] io::Error),
}

pub(crate) fn map_error(map: &'static str) -> impl FnOnce(aya::maps::MapError) -> MapError {
    move |source| MapError::Map { map, source }
}
