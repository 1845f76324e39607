//! `registry:` source: OCI Distribution API v2.

use crate::source::OpenOptions;
use crate::{Error, Image};

pub(crate) fn open(reference: &str, name: &str, _options: &OpenOptions) -> Result<Image, Error> {
    Err(Error::NotFound(format!("{reference}: registry source not available yet ({name})")))
}
