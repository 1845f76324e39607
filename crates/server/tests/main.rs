//! The server's tests, over HTTP against a real listener, on SQLite and PostgreSQL.

mod audit_trail;
mod harness;
mod identity;
mod images;
mod kubernetes;
mod permissions;
mod protection;
