//! `docker:` source: an image in the local Docker engine, through its API.

use crate::source::OpenOptions;
use crate::{Error, Image};

pub(crate) fn open(reference: &str, name: &str, _options: &OpenOptions) -> Result<Image, Error> {
    Err(Error::NotFound(format!("{reference}: docker engine source not available yet ({name})")))
}
