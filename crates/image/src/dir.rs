//! The `dir:` source: an unpacked root filesystem, read as one layer.

use std::path::Path;

use crate::tree::FileTree;
use crate::{Error, LayerStats, LayerVisitor, Limits};

pub(crate) fn apply_dir(
    _tree: &mut FileTree,
    _layer: u32,
    root: &Path,
    _limits: &Limits,
    _visitor: &mut dyn LayerVisitor,
) -> Result<LayerStats, Error> {
    Err(Error::NotFound(format!("{}: directory source not available yet", root.display())))
}

pub(crate) fn open(reference: &str, root: &Path) -> Result<crate::Image, Error> {
    Err(Error::NotFound(format!("{reference}: directory source not available yet ({})", root.display())))
}
