//! The crate's integration tests, in one binary: one module per area.

mod apk_installed;
mod dpkg_status;
mod lang_all;
mod lang_gem_composer;
mod lang_go;
mod lang_java;
mod lang_npm;
mod lang_python;
mod lang_rust;
mod lang_support;
mod os_detect;
mod os_support;
mod rpm_damaged;
mod rpm_databases;
mod rpm_header;
