//! Integration tests against real containers (root, dockerd running, the test image).

mod support;

mod exec_allow;
mod exec_fail_modes;
mod files;
mod probe;
