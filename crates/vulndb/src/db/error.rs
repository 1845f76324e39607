//! Errors of the database file.

use std::path::PathBuf;

/// Why a database could not be built, opened or read.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// Reading or writing the file failed (missing file, permissions, disk full, ...).
    #[error("{action} {path}: {source}")]
    Io {
        /// What was being done (`reading`, `writing`, `renaming into place`, ...).
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The file does not start with the database magic: it is not a cguard database.
    #[error("{path} is not a cguard vulnerability database (bad magic bytes)")]
    NotADatabase { path: PathBuf },
    /// The file was written by a newer cguard whose format this one does not know.
    #[error(
        "{path} uses database format version {found}, newer than the version {supported} this cguard reads; \
         upgrade cguard or rebuild the database with this version"
    )]
    TooNew { path: PathBuf, found: u32, supported: u32 },
    /// The file was written in an older format this cguard no longer reads.
    #[error(
        "{path} uses database format version {found}, older than the version {supported} this cguard reads; \
         rebuild it with `cguard db build` or `cguard db update`"
    )]
    TooOld { path: PathBuf, found: u32, supported: u32 },
    /// The file is shorter or longer than its header says: typically an interrupted copy.
    #[error("{path} is truncated or padded: the header says {expected} bytes, the file has {actual}")]
    Truncated { path: PathBuf, expected: u64, actual: u64 },
    /// The content does not match the checksum in the header.
    #[error("{path} is corrupt: content checksum {actual:08x} does not match {expected:08x} in the header")]
    ChecksumMismatch { path: PathBuf, expected: u32, actual: u32 },
    /// The structure inside the file is inconsistent (only possible with a damaged file that
    /// still matches its checksum, or a bug in the writer).
    #[error("{path} is corrupt: {what}")]
    Corrupt { path: PathBuf, what: String },
    /// The records given to the builder cannot be stored (for example an index over 4 GiB).
    #[error("cannot build the database: {0}")]
    Build(String),
}
