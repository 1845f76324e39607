//! Errors of the shield's user space.

/// A policy file that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    #[error("reading policy file {path}: {source}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    /// Not a JSON array of policy objects (unknown fields are refused).
    #[error("policy file is not a JSON array of policies: {0}")]
    Json(String),
    /// A policy breaks a rule; `index` counts from 0, the message counts from 1.
    #[error("policy {} ({name}): {field}: {message}", index + 1)]
    Invalid { index: usize, name: String, field: String, message: String },
}

/// A failed exchange with the Docker engine.
#[derive(Debug, thiserror::Error)]
pub enum DockerError {
    #[error("connecting to the Docker engine at {socket}: {source}")]
    Connect {
        socket: String,
        #[source]
        source: std::io::Error,
    },
    #[error("Docker engine request {target}: {source}")]
    Exchange {
        target: String,
        #[source]
        source: std::io::Error,
    },
    #[error("Docker engine request {target}: HTTP status {status}: {message}")]
    Status { target: String, status: u16, message: String },
    #[error("Docker engine request {target}: unexpected answer: {message}")]
    Answer { target: String, message: String },
}

/// Why the shield could not start or stopped.
#[derive(Debug, thiserror::Error)]
pub enum ShieldError {
    #[error(transparent)]
    Policy(#[from] PolicyError),
    #[error(transparent)]
    Docker(#[from] DockerError),
    #[error("loading the shield's eBPF programs: {0}")]
    Load(#[from] shield_bpf::LoadError),
    #[error("installing a path rule: {0}")]
    Map(#[from] shield_bpf::MapError),
    #[error("reading kernel events: {0}")]
    Poll(#[from] shield_bpf::PollError),
    #[error("this kernel cannot run the shield's detection programs: {0}")]
    Unsupported(String),
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
    #[error("enforcement: {0}")]
    Enforce(#[from] crate::enforce::EnforceError),
}
