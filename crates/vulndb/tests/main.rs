//! The crate's integration tests, in one binary: one module per area.

mod db_bundle;
mod db_file;
mod feed_alpine;
mod feed_cve5;
mod feed_cvss;
mod feed_debian;
mod feed_garbled;
mod feed_load;
mod feed_nvd;
mod feed_osv;
mod update_feeds;
