//! Language package analyzers (placeholder).

use image::FileEntry;

use crate::analyzer::{Analyzer, Context, Interest};
use crate::model::{Package, Problem};

pub fn analyzers() -> Vec<Box<dyn Analyzer>> {
    Vec::new()
}

/// An analyzer that wants nothing.
#[derive(Debug)]
pub struct Nothing;

impl Analyzer for Nothing {
    fn name(&self) -> &'static str {
        "nothing"
    }
    fn interest(&self, _: &str, _: &FileEntry) -> Interest {
        Interest::No
    }
    fn analyze(&mut self, _: &str, _: &FileEntry, _: &[u8], _: &mut Vec<Problem>) {}
    fn finish(self: Box<Self>, _: &Context<'_>, _: &mut Vec<Package>, _: &mut Vec<Problem>) {}
}
