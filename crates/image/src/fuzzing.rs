//! Entry points for the fuzz targets in `fuzz/`: thin wrappers over private parsers.

/// Parses a registry document (manifest, index or manifest list) and, when it is an
/// index, selects a platform from it.
pub fn registry_document(bytes: &[u8]) {
    crate::source::fuzz_registry_document(bytes);
}
