//! Enforcement backends of the shield: the kernel holds a forbidden operation until it is
//! decided, instead of user space killing a process after the fact.
//!
//! - [`ExecGuard`]: exec allow-lists per container with fanotify permission events
//!   (`FAN_OPEN_EXEC_PERM` on every mount of the container). Files are matched by
//!   (device, inode) resolved inside the container.
//! - [`protect_files`]: protected files and directories bind-mounted read-only onto
//!   themselves in the container's mount namespace (`EROFS` on write).
//! - [`probe`]: which backends work on this machine (BPF LSM is probed and reported; it is
//!   refused on kernels that deny LSM programs).
//!
//! Everything here needs root (`CAP_SYS_ADMIN`). See `docs/shield-enforce.md`.

mod elf;
mod error;
mod exec;
mod files;
mod identity;
mod mntns;
pub mod mountinfo;
mod probe;

pub use elf::interpreter as elf_interpreter;
pub use error::EnforceError;
pub use exec::{ContainerTarget, Decision, ExecGuard, ExecGuardConfig, FailMode, MarkedMounts, ProtectReport, Reason};
pub use files::{FileProtection, ReadOnlyMount, protect_files, release_files, reprotect_files};
pub use identity::FileId;
pub use probe::{Backends, Status, probe};
