//! Operating system detection (placeholder until the OS detector lands).

use image::{FileEntry, FileTree};

use crate::model::OsInfo;

#[derive(Debug, Default)]
pub struct OsDetector {}

impl OsDetector {
    pub fn wants(&self, _path: &str) -> bool {
        false
    }
    pub fn analyze(&mut self, _path: &str, _entry: &FileEntry, _content: &[u8]) {}
    pub fn finish(self, _tree: &FileTree) -> OsInfo {
        OsInfo::unknown()
    }
}
