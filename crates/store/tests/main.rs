//! The store's tests, each run against SQLite and PostgreSQL.

mod audit;
mod identity;
mod images;
mod jobs;
mod objects;
mod support;
