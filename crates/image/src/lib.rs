//! Reading container images from every source cguard supports.
//!
//! An [`Image`] is a config plus an ordered list of layers held by a backend (a docker
//! archive, an OCI layout, a registry, the Docker engine, a root filesystem directory).
//! [`Image::read`] streams the layers once, in order, applies whiteouts to build the
//! merged [`FileTree`], and hands the contents that a [`LayerVisitor`] asks for to it
//! while they stream past. Nothing is extracted to disk.
//!
//! Architecture invariant: this crate knows nothing about packages or vulnerabilities.

pub mod config;
mod dir;
mod fanout;
#[doc(hidden)]
pub mod fuzzing;
mod layer;
pub mod path;
pub mod source;
mod tree;

use std::io::Read;
use std::path::PathBuf;

pub use config::ImageConfig;
pub use fanout::Fanout;
pub use layer::{
    Compression, Expected, LayerStats, LayerVisitor, NoContent, PendingDigest, Range, apply_layer, apply_layer_range,
    sniff,
};
pub use source::{SourceKind, SourceSpec};
pub use tree::{FileEntry, FileKind, FileTree};

/// Errors from reading an image. Every variant says what was refused and why.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
    #[error("refusing hostile layer member {name:?}: {reason}")]
    HostileEntry { name: String, reason: &'static str },
    #[error(
        "layer {layer} looks like a decompression bomb (limit {limit} bytes, or a compression ratio beyond the limit)"
    )]
    Bomb { layer: u32, limit: u64 },
    #[error("layer {layer} has more than {limit} entries")]
    TooManyEntries { layer: u32, limit: u64 },
    #[error(
        "layer {layer} has a member whose headers (PAX extended header, GNU long name or long link) exceed {limit} bytes"
    )]
    HeadersTooLarge { layer: u32, limit: u64 },
    #[error("digest mismatch for {what}: expected {expected}, got {actual}")]
    DigestMismatch { what: String, expected: String, actual: String },
    #[error("malformed image: {0}")]
    Format(String),
    #[error("not found: {0}")]
    NotFound(String),
    #[error("invalid image reference {0:?}: {1}")]
    Reference(String, String),
    #[error("registry {registry}: {message}")]
    Registry { registry: String, message: String },
    #[error("docker engine: {0}")]
    Docker(String),
}

impl Error {
    pub(crate) fn layer(layer: u32, source: std::io::Error) -> Self {
        Error::Io { context: format!("reading layer {layer}"), source }
    }

    pub(crate) fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Error::Io { context: context.into(), source }
    }
}

/// Bounds that keep hostile images from exhausting memory, disk or time.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Largest uncompressed tar stream of one layer.
    pub max_layer_bytes: u64,
    /// Largest uncompressed-to-stored ratio (real layers compress 2–10×; zero-filled bombs
    /// 1000×). Checked while a compressed layer streams, against the compressed bytes
    /// consumed so far, once `ratio_floor_bytes` have come out of the decompressor: a bomb
    /// is refused after `ratio_floor_bytes`, not after the walk of the whole layer.
    pub max_compression_ratio: u64,
    pub ratio_floor_bytes: u64,
    /// Most tar members in one layer.
    pub max_entries_per_layer: u64,
    /// Most bytes of headers that describe one tar member: its header block and its PAX
    /// extended header, GNU long name and GNU long link (blocks and contents), plus GNU
    /// sparse extension blocks. The tar reader holds these in memory, so this is what one
    /// member can make a scan allocate. A name needs at most `PATH_MAX` (4096 bytes), but a
    /// PAX header also carries the member's extended attributes (`SCHILY.xattr.*`), whose
    /// values Linux caps at 64 KiB each (`XATTR_SIZE_MAX`): 1 MiB leaves room for a dozen
    /// of the largest.
    pub max_member_header_bytes: u64,
    /// Largest manifest, index or config document accepted.
    pub max_document_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_layer_bytes: 64 << 30,
            max_compression_ratio: 250,
            ratio_floor_bytes: 256 << 20,
            max_entries_per_layer: 2_000_000,
            max_member_header_bytes: 1 << 20,
            max_document_bytes: 16 << 20,
        }
    }
}

impl Limits {
    /// Whether `produced` decompressed bytes from `consumed` compressed ones exceed the
    /// compression ratio limit (never below the ratio floor).
    pub(crate) fn ratio_exceeded(&self, produced: u64, consumed: u64) -> bool {
        produced >= self.ratio_floor_bytes && produced / consumed.max(1) > self.max_compression_ratio
    }
}

/// One layer as the manifest and config describe it.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct LayerRef {
    /// Digest of the blob as stored (`sha256:…`), when the source names one.
    pub digest: Option<String>,
    /// Digest of the uncompressed tar (`rootfs.diff_ids`), when the config names one.
    pub diff_id: Option<String>,
    /// Stored size in bytes, when known.
    pub size: Option<u64>,
    pub media_type: Option<String>,
}

impl LayerRef {
    /// The digest that names this layer in reports: the diff id (stable across
    /// recompression) when known, else the blob digest.
    pub fn id(&self) -> Option<&str> {
        self.diff_id.as_deref().or(self.digest.as_deref())
    }
}

/// The bytes of one layer, as a backend provides them.
pub enum LayerBody<'a> {
    /// A layer blob: a tar stream, gzip- or zstd-compressed or not.
    Blob(Box<dyn Read + 'a>),
    /// A blob stored in `[offset, offset + len)` of a local file (docker archives, OCI
    /// layouts): uncompressed layers are then read with seeks over unwanted contents.
    Range { file: std::sync::Arc<std::fs::File>, offset: u64, len: u64 },
    /// An unpacked root filesystem (the `dir:` source).
    Directory(PathBuf),
}

/// Where an image's layers come from.
pub trait Backend: Send + Sync {
    /// Opens layer `index` (0 = base) for one sequential read.
    fn open_layer(&self, index: usize) -> Result<LayerBody<'_>, Error>;
}

/// A container image ready to be read.
pub struct Image {
    /// The reference as the user gave it (`docker-archive:/tmp/x.tar`, `alpine:3.19`, ...).
    pub reference: String,
    pub source: SourceKind,
    /// `repo:tag` names the source knows the image by.
    pub repo_tags: Vec<String>,
    /// `repo@sha256:…` names, when known.
    pub repo_digests: Vec<String>,
    /// Digest of the manifest, when the source has one.
    pub manifest_digest: Option<String>,
    /// Image id: digest of the config blob (`sha256:…`), when the source has one.
    pub id: Option<String>,
    pub config: ImageConfig,
    pub layers: Vec<LayerRef>,
    backend: Box<dyn Backend>,
    /// Private temporary area this image owns (downloaded archives); removed on drop.
    _scratch: Option<tempfile::TempDir>,
}

impl std::fmt::Debug for Image {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Image")
            .field("reference", &self.reference)
            .field("source", &self.source)
            .field("id", &self.id)
            .field("layers", &self.layers)
            .finish_non_exhaustive()
    }
}

/// Digest checks still running after [`Image::read_deferred`].
#[derive(Debug, Default)]
#[must_use = "the image is only trusted once its digests are checked"]
pub struct Verification {
    digests: Vec<PendingDigest>,
}

impl Verification {
    /// Waits for every pending digest and fails on the first mismatch.
    pub fn wait(self) -> Result<(), Error> {
        let mut first_error = None;
        for d in self.digests {
            // Join every thread even after a failure, so none outlives the scan.
            if let Err(e) = d.check() {
                first_error.get_or_insert(e);
            }
        }
        first_error.map_or(Ok(()), Err)
    }
}

/// What [`Image::read`] produced.
#[derive(Debug)]
pub struct ReadOutcome {
    pub tree: FileTree,
    pub layers: Vec<LayerStats>,
}

impl Image {
    /// Assembles an image from its parts; used by the sources.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        reference: String,
        source: SourceKind,
        config: ImageConfig,
        layers: Vec<LayerRef>,
        backend: Box<dyn Backend>,
    ) -> Self {
        Image {
            reference,
            source,
            repo_tags: Vec::new(),
            repo_digests: Vec::new(),
            manifest_digest: None,
            id: None,
            config,
            layers,
            backend,
            _scratch: None,
        }
    }

    /// Keeps `dir` alive (and deletes it) with the image.
    pub fn with_scratch(mut self, dir: tempfile::TempDir) -> Self {
        self._scratch = Some(dir);
        self
    }

    /// Opens an image from a reference such as `docker-archive:PATH`, `oci:PATH`,
    /// `docker:NAME`, `dir:PATH`, `registry:REF` or a bare registry reference.
    pub fn open(reference: &str, options: &source::OpenOptions) -> Result<Image, Error> {
        source::open(reference, options)
    }

    /// Reads every layer in order, verifying digests, and returns the merged tree. The
    /// visitor sees the contents it asks for as they stream past.
    pub fn read(&self, limits: &Limits, visitor: &mut dyn LayerVisitor) -> Result<ReadOutcome, Error> {
        let (outcome, verification) = self.read_deferred(limits, visitor)?;
        verification.wait()?;
        Ok(outcome)
    }

    /// Like [`Image::read`], but digests of local uncompressed layers may still be being
    /// computed when it returns, so that the caller's own work overlaps with them. Nothing
    /// read may be reported before [`Verification::wait`] succeeds.
    pub fn read_deferred(
        &self,
        limits: &Limits,
        visitor: &mut dyn LayerVisitor,
    ) -> Result<(ReadOutcome, Verification), Error> {
        let mut tree = FileTree::new();
        let mut stats = Vec::with_capacity(self.layers.len());
        let mut pending = Verification::default();
        for (index, layer) in self.layers.iter().enumerate() {
            let index_u32 = u32::try_from(index).map_err(|_| Error::Format("too many layers".into()))?;
            let expected = Expected { blob: layer.digest.as_deref(), diff_id: layer.diff_id.as_deref() };
            let s = match self.backend.open_layer(index)? {
                LayerBody::Blob(mut blob) => apply_layer(&mut tree, index_u32, &mut blob, &expected, limits, visitor)?,
                LayerBody::Range { file, offset, len } => {
                    let (s, digest) =
                        apply_layer_range(&mut tree, index_u32, &file, offset, len, &expected, limits, visitor)?;
                    pending.digests.extend(digest);
                    s
                }
                LayerBody::Directory(root) => dir::apply_dir(&mut tree, index_u32, &root, limits, visitor)?,
            };
            tracing::debug!(layer = index, entries = s.entries, tar_bytes = s.tar_bytes, "layer read");
            stats.push(s);
        }
        Ok((ReadOutcome { tree, layers: stats }, pending))
    }
}
