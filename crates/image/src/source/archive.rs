//! `docker-archive:` (output of `docker save`) and `oci:` (OCI image layout) sources.

use std::path::Path;

use crate::source::OpenOptions;
use crate::{Error, Image};

pub(crate) fn open_docker_archive(reference: &str, path: &Path) -> Result<Image, Error> {
    Err(Error::NotFound(format!("{reference}: docker-archive source not available yet ({})", path.display())))
}

pub(crate) fn open_oci(reference: &str, path: &Path, _options: &OpenOptions) -> Result<Image, Error> {
    Err(Error::NotFound(format!("{reference}: oci source not available yet ({})", path.display())))
}
