//! The crate's integration tests, in one binary: one module per area.

mod common;
mod image_hostile;
mod image_layers;
mod registry;
mod source_archive;
mod source_dir;
mod source_docker;
mod source_oci;
