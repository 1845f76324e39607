//! Vulnerability data: feeds in their upstream formats, the compiled database file,
//! matching an inventory against it, and urgency.
//!
//! Architecture invariant: knows nothing of HTTP servers or the console. Feed parsers
//! never panic on input and report what they skipped.

pub mod bundle;
pub mod db;
pub mod feed;
pub mod ignore;
pub mod matcher;
pub mod model;
pub mod update;
pub mod urgency;

pub use db::{BuildStats, Database, DbError, DbStatus};
pub use feed::{FeedError, Feeds, load_dir};
pub use matcher::{Finding, Matches, VulnSource, match_inventory};
pub use model::{Affected, Cvss, Ecosystem, Range, RangeKind, SourceInfo, Status, Vulnerability};
pub use urgency::{Urgency, UrgencyPolicy};
