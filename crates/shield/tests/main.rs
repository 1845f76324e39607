//! The crate's integration tests, in one binary: one module per area.

mod docker_engine;
