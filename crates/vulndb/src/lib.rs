//! Vulnerability data: feeds in their upstream formats, the compiled database file,
//! matching an inventory against it, and urgency.
//!
//! Architecture invariant: knows nothing of HTTP servers or the console. Feed parsers
//! never panic on input and report what they skipped.

pub mod model;

pub use model::{Affected, Cvss, Ecosystem, Range, RangeKind, SourceInfo, Status, Vulnerability};
