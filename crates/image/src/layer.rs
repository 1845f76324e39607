//! Reading one layer: sniffing its compression, verifying its digests, refusing hostile
//! members and bombs, applying it to the [`FileTree`] and streaming the contents that a
//! [`LayerVisitor`] asks for. Nothing is ever written to disk.

use std::cell::Cell;
use std::io::{self, BufRead, BufReader, Read, Seek};
use std::rc::Rc;

use sha2::{Digest, Sha256};

use crate::path::{file_name, normalize_member, parent};
use crate::tree::{FileEntry, FileKind, FileTree};
use crate::{Error, Limits};

/// Receives the contents of the files it asks for while layers are read.
///
/// Every copy of a path is offered, in layer order, including copies that a later layer
/// shadows or deletes: a visitor that wants only the final view checks
/// [`FileTree::is_visible`] once all layers are read, with the entry's `layer` and
/// `ordinal`.
pub trait LayerVisitor {
    /// Whether the visitor wants the content of this regular file.
    fn wants(&mut self, path: &str, entry: &FileEntry) -> bool;
    /// Called with the content of a file `wants` accepted. The reader yields exactly
    /// `entry.size` bytes unless the layer is truncated, which is an error.
    fn visit(&mut self, path: &str, entry: &FileEntry, content: &mut dyn Read) -> io::Result<()>;
}

/// A visitor that wants nothing: builds the tree alone.
#[derive(Debug, Default)]
pub struct NoContent;

impl LayerVisitor for NoContent {
    fn wants(&mut self, _: &str, _: &FileEntry) -> bool {
        false
    }
    fn visit(&mut self, _: &str, _: &FileEntry, _: &mut dyn Read) -> io::Result<()> {
        Ok(())
    }
}

/// What reading a layer found.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct LayerStats {
    pub entries: u64,
    /// Bytes of the blob as stored (compressed).
    pub stored_bytes: u64,
    /// Bytes after decompression (the tar stream).
    pub tar_bytes: u64,
}

/// Compression of a layer blob, detected from its first bytes (media types lie).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    None,
    Gzip,
    Zstd,
}

/// Detects compression from the magic bytes at the start of a blob.
pub fn sniff(head: &[u8]) -> Compression {
    if head.starts_with(&[0x1f, 0x8b]) {
        Compression::Gzip
    } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        Compression::Zstd
    } else {
        Compression::None
    }
}

/// Digests a layer must have, as named by the manifest and the image config.
#[derive(Debug, Clone, Default)]
pub struct Expected<'a> {
    /// `sha256:…` of the blob as stored (manifest layer digest).
    pub blob: Option<&'a str>,
    /// `sha256:…` of the uncompressed tar stream (config `rootfs.diff_ids`).
    pub diff_id: Option<&'a str>,
}

/// Reads one layer blob (compressed or not) and applies it to `tree`.
pub fn apply_layer(
    tree: &mut FileTree,
    layer: u32,
    blob: &mut dyn Read,
    expected: &Expected<'_>,
    limits: &Limits,
    visitor: &mut dyn LayerVisitor,
) -> Result<LayerStats, Error> {
    let mut stored = Hashing::new(blob, expected.blob.is_some());
    let mut buffered = BufReader::with_capacity(128 * 1024, &mut stored);
    let head = buffered.fill_buf().map_err(|e| Error::layer(layer, e))?;
    let compression = sniff(head);
    let consumed = Rc::new(Cell::new(0u64));
    let counted = Counting { inner: buffered, count: consumed.clone() };
    let decoder: Box<dyn Read + '_> = match compression {
        Compression::None => Box::new(counted),
        Compression::Gzip => Box::new(flate2::bufread::MultiGzDecoder::new(counted)),
        Compression::Zstd => {
            Box::new(zstd::stream::read::Decoder::with_buffer(counted).map_err(|e| Error::layer(layer, e))?)
        }
    };
    let tripped = Rc::new(Cell::new(false));
    let bounded = Bounded { inner: decoder, produced: 0, consumed, limits, tripped: tripped.clone() };
    let mut tar_stream = Hashing::new(bounded, expected.diff_id.is_some());
    let bomb = || Error::Bomb { layer, limit: limits.max_layer_bytes };
    let entries = match walk_tar(tree, layer, Forward { inner: &mut tar_stream, pos: 0 }, limits, visitor) {
        Err(_) if tripped.get() => return Err(bomb()),
        other => other?,
    };
    // Drain the tar padding and anything after the end marker so that the digests cover
    // the whole blob (and the limits the whole stream).
    io::copy(&mut tar_stream, &mut io::sink())
        .map_err(|e| if tripped.get() { bomb() } else { Error::layer(layer, e) })?;
    let tar_bytes = tar_stream.count;
    let diff_id = tar_stream.finish();
    drop(tar_stream);
    io::copy(&mut stored, &mut io::sink()).map_err(|e| Error::layer(layer, e))?;
    let stored_bytes = stored.count;
    check_digest(layer, "diff_id", expected.diff_id, diff_id.as_deref())?;
    check_digest(layer, "blob", expected.blob, stored.finish().as_deref())?;
    Ok(LayerStats { entries, stored_bytes, tar_bytes })
}

/// Compares a computed digest with the one the manifest or config named, when both exist.
fn check_digest(layer: u32, what: &str, want: Option<&str>, got: Option<&str>) -> Result<(), Error> {
    match (want, got) {
        (Some(want), Some(got)) if want != got => Err(Error::DigestMismatch {
            what: format!("layer {layer} {what}"),
            expected: want.into(),
            actual: got.into(),
        }),
        _ => Ok(()),
    }
}

const WHITEOUT_PREFIX: &str = ".wh.";
const OPAQUE_MARKER: &str = ".wh..wh..opq";

/// Walks the members of a tar stream into `tree`.
///
/// `source` seeks over what nobody reads (a seek in a local file, reading and discarding in
/// a stream), so everything the tar reader reads while it looks for the next member is that
/// member's headers, which it keeps in memory: GNU long names and links and PAX extended
/// headers. [`Metered`] counts those bytes and refuses the member past
/// `max_member_header_bytes`, before the tar reader has buffered more than that.
fn walk_tar<R: Read + Seek>(
    tree: &mut FileTree,
    layer: u32,
    source: R,
    limits: &Limits,
    visitor: &mut dyn LayerVisitor,
) -> Result<u64, Error> {
    let budget = HeaderBudget::new(limits.max_member_header_bytes);
    let mut archive = tar::Archive::new(Metered::new(source, &budget));
    let mut entries = archive.entries_with_seek().map_err(|e| Error::layer(layer, e))?;
    let mut ordinal = 0u64;
    while let Some(item) = budget.measure(|| entries.next()) {
        let mut entry = item.map_err(|e| {
            if budget.exceeded() {
                Error::HeadersTooLarge { layer, limit: limits.max_member_header_bytes }
            } else {
                Error::layer(layer, e)
            }
        })?;
        if ordinal >= limits.max_entries_per_layer {
            return Err(Error::TooManyEntries { layer, limit: limits.max_entries_per_layer });
        }
        let raw_name = entry.path_bytes().into_owned();
        let path = normalize_member(&raw_name)?;
        let header = entry.header();
        let kind = match header.entry_type() {
            tar::EntryType::Regular | tar::EntryType::Continuous => FileKind::Regular,
            tar::EntryType::Directory => FileKind::Directory,
            tar::EntryType::Symlink => FileKind::Symlink,
            tar::EntryType::Link => FileKind::Hardlink,
            tar::EntryType::Char => FileKind::CharDevice,
            tar::EntryType::Block => FileKind::BlockDevice,
            tar::EntryType::Fifo => FileKind::Fifo,
            // PAX and GNU extension headers are consumed by the tar reader; anything else
            // (sparse files, vendor types) is skipped, but counted.
            _ => {
                ordinal += 1;
                continue;
            }
        };
        let name = file_name(&path);
        if name == OPAQUE_MARKER {
            tree.opaque(parent(&path), layer);
            ordinal += 1;
            continue;
        }
        if let Some(hidden) = name.strip_prefix(WHITEOUT_PREFIX) {
            let dir = parent(&path);
            let target = if dir == "/" { format!("/{hidden}") } else { format!("{dir}/{hidden}") };
            tree.whiteout(&target);
            ordinal += 1;
            continue;
        }
        let link = match kind {
            FileKind::Symlink => entry.link_name_bytes().map(|l| String::from_utf8_lossy(&l).into_owned()),
            FileKind::Hardlink => {
                let target = entry
                    .link_name_bytes()
                    .ok_or_else(|| Error::HostileEntry { name: path.clone(), reason: "hard link without a target" })?;
                Some(normalize_member(&target)?)
            }
            _ => None,
        };
        let mut file = FileEntry {
            kind,
            size: if kind == FileKind::Regular { header.size().unwrap_or(0) } else { 0 },
            mode: header.mode().unwrap_or(0) & 0o7777,
            uid: header.uid().unwrap_or(0),
            gid: header.gid().unwrap_or(0),
            mtime: header.mtime().unwrap_or(0),
            link,
            layer,
            ordinal,
        };
        if kind == FileKind::Hardlink {
            // A hard link shares its target's data; it carries the target's size so that
            // file statistics add up. Its content is offered once, under the target.
            if let Some(target) = file.link.as_deref().and_then(|t| tree.get(t)) {
                file.size = target.size;
            }
        }
        if kind == FileKind::Regular && visitor.wants(&path, &file) {
            let mut content = (&mut entry).take(file.size);
            visitor.visit(&path, &file, &mut content).map_err(|e| Error::layer(layer, e))?;
        }
        tree.insert(path, file);
        ordinal += 1;
    }
    Ok(ordinal)
}

/// Reader that counts bytes and optionally hashes them with SHA-256.
struct Hashing<R> {
    inner: R,
    hasher: Option<Sha256>,
    count: u64,
}

impl<R: Read> Hashing<R> {
    fn new(inner: R, hash: bool) -> Self {
        Self { inner, hasher: hash.then(Sha256::new), count: 0 }
    }

    fn finish(&mut self) -> Option<String> {
        self.hasher.take().map(|h| format!("sha256:{}", hex::encode(h.finalize())))
    }
}

impl<R: Read> Read for Hashing<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if let Some(h) = self.hasher.as_mut() {
            h.update(&buf[..n]);
        }
        self.count += n as u64;
        Ok(n)
    }
}

/// The decompressed side of a layer: fails once more than `max_layer_bytes` have come out
/// of it or, past the ratio floor, once the output exceeds the compression ratio limit
/// times the compressed bytes consumed so far (counted by [`Counting`]). The defence
/// against decompression bombs: it stops them while they stream, and never buffers.
/// The tar reader wraps I/O errors in its own, so the bound reports through `tripped`.
struct Bounded<'l, R> {
    inner: R,
    produced: u64,
    consumed: Rc<Cell<u64>>,
    limits: &'l Limits,
    tripped: Rc<Cell<bool>>,
}

impl<R: Read> Read for Bounded<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.tripped.get() {
            return Err(io::Error::other("decompression limit exceeded"));
        }
        let n = self.inner.read(buf)?;
        self.produced = self.produced.saturating_add(n as u64);
        if self.produced > self.limits.max_layer_bytes {
            self.tripped.set(true);
            return Err(io::Error::other("decompressed size limit exceeded"));
        }
        if self.limits.ratio_exceeded(self.produced, self.consumed.get()) {
            self.tripped.set(true);
            return Err(io::Error::other("compression ratio limit exceeded"));
        }
        Ok(n)
    }
}

/// Counts the compressed bytes a decoder consumes (read, or taken from the buffer).
pub(crate) struct Counting<R> {
    pub(crate) inner: R,
    pub(crate) count: Rc<Cell<u64>>,
}

impl<R: BufRead> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.set(self.count.get().saturating_add(n as u64));
        Ok(n)
    }
}

impl<R: BufRead> BufRead for Counting<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        self.inner.fill_buf()
    }
    fn consume(&mut self, amount: usize) {
        self.count.set(self.count.get().saturating_add(amount as u64));
        self.inner.consume(amount);
    }
}

/// A stream made seekable forwards, by reading and discarding: the tar reader then skips
/// the contents nobody wants by seeking, as it does in a local file, so that what it reads
/// is only headers and the contents handed to visitors.
struct Forward<R> {
    inner: R,
    pos: u64,
}

impl<R: Read> Read for Forward<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.pos += n as u64;
        Ok(n)
    }
}

impl<R: Read> Seek for Forward<R> {
    fn seek(&mut self, to: io::SeekFrom) -> io::Result<u64> {
        let target = match to {
            io::SeekFrom::Start(p) => Some(p),
            io::SeekFrom::Current(d) => self.pos.checked_add_signed(d),
            io::SeekFrom::End(_) => None,
        };
        let mut left = match target {
            Some(t) if t >= self.pos => t - self.pos,
            _ => return Err(io::Error::new(io::ErrorKind::Unsupported, "a layer stream only seeks forwards")),
        };
        let mut buf = [0u8; 32 * 1024];
        while left > 0 {
            let want = usize::try_from(left.min(buf.len() as u64)).unwrap_or(buf.len());
            match self.inner.read(&mut buf[..want]) {
                Ok(0) => {
                    return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "unexpected EOF: the layer is truncated"));
                }
                Ok(n) => {
                    self.pos += n as u64;
                    left -= n as u64;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(self.pos)
    }
}

/// Bytes the tar reader may read while it looks for the next member: see [`walk_tar`].
#[derive(Debug, Default)]
pub(crate) struct HeaderBudget {
    limit: u64,
    armed: Cell<bool>,
    used: Cell<u64>,
    exceeded: Cell<bool>,
}

impl HeaderBudget {
    pub(crate) fn new(limit: u64) -> Self {
        HeaderBudget { limit, ..HeaderBudget::default() }
    }

    /// Whether the last [`measure`](Self::measure)d step failed for want of budget.
    pub(crate) fn exceeded(&self) -> bool {
        self.exceeded.get()
    }

    /// Runs `f` (one step of the tar reader) with the budget counting from zero.
    pub(crate) fn measure<T>(&self, f: impl FnOnce() -> T) -> T {
        self.used.set(0);
        self.exceeded.set(false);
        self.armed.set(true);
        let out = f();
        self.armed.set(false);
        out
    }
}

/// The tar reader's source: reads are counted against the [`HeaderBudget`] while it is
/// armed; seeks (skipped contents) are not.
pub(crate) struct Metered<'b, R> {
    inner: R,
    budget: &'b HeaderBudget,
}

impl<'b, R> Metered<'b, R> {
    pub(crate) fn new(inner: R, budget: &'b HeaderBudget) -> Self {
        Metered { inner, budget }
    }
}

impl<R: Read> Read for Metered<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let budget = self.budget;
        if !budget.armed.get() || buf.is_empty() {
            return self.inner.read(buf);
        }
        let left = budget.limit.saturating_sub(budget.used.get());
        if left == 0 {
            budget.exceeded.set(true);
            return Err(io::Error::other("member headers exceed the size limit"));
        }
        let want = usize::try_from(left.min(buf.len() as u64)).unwrap_or(buf.len());
        let n = self.inner.read(&mut buf[..want])?;
        budget.used.set(budget.used.get() + n as u64);
        Ok(n)
    }
}

impl<R: Seek> Seek for Metered<'_, R> {
    fn seek(&mut self, to: io::SeekFrom) -> io::Result<u64> {
        self.inner.seek(to)
    }
}

/// Reads one layer stored in a byte range of a local file (a docker archive member, an
/// OCI layout blob). An uncompressed layer is walked with seeks over the contents nobody
/// wants, while a background thread hashes the range for the digest checks: the returned
/// [`PendingDigest`] must be [checked](PendingDigest::check) before the result is trusted.
/// A compressed layer is streamed like any other blob and checked at once.
#[allow(clippy::too_many_arguments)]
pub fn apply_layer_range(
    tree: &mut FileTree,
    layer: u32,
    file: &std::sync::Arc<std::fs::File>,
    offset: u64,
    len: u64,
    expected: &Expected<'_>,
    limits: &Limits,
    visitor: &mut dyn LayerVisitor,
) -> Result<(LayerStats, Option<PendingDigest>), Error> {
    use std::os::unix::fs::FileExt;
    let mut head = [0u8; 4];
    let n = file.read_at(&mut head, offset).map_err(|e| Error::layer(layer, e))?;
    if sniff(&head[..n]) != Compression::None {
        let mut range = Range::new(file, offset, len);
        return apply_layer(tree, layer, &mut range, expected, limits, visitor).map(|s| (s, None));
    }
    if len > limits.max_layer_bytes {
        return Err(Error::Bomb { layer, limit: limits.max_layer_bytes });
    }
    let pending = (expected.blob.is_some() || expected.diff_id.is_some()).then(|| {
        let file = std::sync::Arc::clone(file);
        PendingDigest {
            layer,
            blob: expected.blob.map(str::to_owned),
            diff_id: expected.diff_id.map(str::to_owned),
            hasher: std::thread::spawn(move || hash_range(&file, offset, len)),
        }
    });
    let walked = walk_tar(tree, layer, Range::new(file, offset, len), limits, visitor);
    match walked {
        Ok(entries) => Ok((LayerStats { entries, stored_bytes: len, tar_bytes: len }, pending)),
        Err(e) => {
            // The walk's error says what is wrong with the layer; the hash is only awaited
            // so that its thread does not outlive the call.
            if let Some(p) = pending {
                let _ = p.check();
            }
            Err(e)
        }
    }
}

/// The digest of an uncompressed local layer, still being computed in the background.
#[derive(Debug)]
#[must_use = "a layer is only trusted once its digest is checked"]
pub struct PendingDigest {
    layer: u32,
    blob: Option<String>,
    diff_id: Option<String>,
    hasher: std::thread::JoinHandle<io::Result<String>>,
}

impl PendingDigest {
    /// Waits for the digest and compares it with the expected ones.
    pub fn check(self) -> Result<(), Error> {
        let layer = self.layer;
        let digest = self
            .hasher
            .join()
            .unwrap_or_else(|_| Err(io::Error::other("hashing thread panicked")))
            .map_err(|e| Error::layer(layer, e))?;
        // An uncompressed blob is its own tar stream: blob digest and diff id are one hash.
        check_digest(layer, "blob", self.blob.as_deref(), Some(&digest))?;
        check_digest(layer, "diff_id", self.diff_id.as_deref(), Some(&digest))
    }
}

fn hash_range(file: &std::fs::File, offset: u64, len: u64) -> io::Result<String> {
    use std::os::unix::fs::FileExt;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut done = 0u64;
    while done < len {
        let want = usize::try_from((len - done).min(buf.len() as u64)).unwrap_or(buf.len());
        let n = file.read_at(&mut buf[..want], offset + done)?;
        if n == 0 {
            return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "layer is truncated"));
        }
        hasher.update(&buf[..n]);
        done += n as u64;
    }
    Ok(format!("sha256:{}", hex::encode(hasher.finalize())))
}

/// A window `[offset, offset + len)` of a file, readable and seekable on its own (pread),
/// so that several windows of one file can be read at once.
pub struct Range<'a> {
    file: &'a std::fs::File,
    start: u64,
    len: u64,
    pos: u64,
}

impl<'a> Range<'a> {
    pub fn new(file: &'a std::fs::File, start: u64, len: u64) -> Self {
        Range { file, start, len, pos: 0 }
    }
}

impl Read for Range<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        use std::os::unix::fs::FileExt;
        if self.pos > self.len {
            // A seek over a member's content went past the end: the member was cut short.
            return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "unexpected EOF: the layer is truncated"));
        }
        let left = self.len - self.pos;
        let want = usize::try_from(left.min(buf.len() as u64)).unwrap_or(buf.len());
        if want == 0 {
            return Ok(0);
        }
        let n = self.file.read_at(&mut buf[..want], self.start + self.pos)?;
        if n == 0 {
            return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "file ends inside the member"));
        }
        self.pos += n as u64;
        Ok(n)
    }
}

impl io::Seek for Range<'_> {
    fn seek(&mut self, to: io::SeekFrom) -> io::Result<u64> {
        let target = match to {
            io::SeekFrom::Start(p) => Some(p),
            io::SeekFrom::Current(d) => self.pos.checked_add_signed(d),
            io::SeekFrom::End(d) => self.len.checked_add_signed(d),
        };
        // Seeking past the end is allowed (reads then return 0), as for files.
        self.pos = target.ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "seek before start"))?;
        Ok(self.pos)
    }
}
