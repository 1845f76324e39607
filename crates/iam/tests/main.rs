//! The crate's integration tests, in one binary: one module per area.

mod common;
mod docs;
mod evaluation;
mod parse_errors;
mod properties;
mod scopes;
mod seed_examples;
mod serialization;
mod system_policies;
mod wildcards;
