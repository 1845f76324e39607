//! The compiled vulnerability database: one file, built from feed records, that opens in
//! milliseconds and answers the two questions matching asks.
//!
//! # Design
//!
//! A custom format with sorted fixed-size indexes searched in place, and records decoded
//! only when a lookup asks for them:
//!
//! * **Open is one pass over the file.** `open` checks magic, format version and length,
//!   then reads the file once, computing a CRC-32 over all of it (hardware-accelerated,
//!   about 25 GB/s here, so the check costs a few ms), and keeps in memory everything
//!   except the compressed vulnerability blocks, the last and largest section. Only
//!   the metadata and the small ecosystem table are parsed; nothing proportional to the
//!   record count is built. `unsafe` is denied in this workspace, so the file cannot be
//!   memory-mapped; streaming the blocks through a reused buffer avoids allocating and
//!   faulting in tens of MB. Measured with 300,000 affected and 250,000 vulnerability
//!   records (a 78 MB file): 6–16 ms with the file in the page cache, under 40 ms cold.
//! * **Lookups are binary searches over the raw bytes.** The package index is a sorted
//!   array of 24-byte entries inside each ecosystem's range; the vulnerability index a
//!   sorted array of 20-byte entries. A lookup is about 20 comparisons plus decoding the
//!   records found.
//! * **Affected records are kept uncompressed in memory**, one contiguous run per
//!   package, in a compact binary encoding (see `codec`). Matching an inventory touches
//!   hundreds of packages; 1,000 package lookups take about 3 ms.
//! * **Vulnerability records are zstd-compressed in ~1 KiB blocks with a trained
//!   dictionary**, read from the file on demand. They hold the bulk of the text
//!   (descriptions, references) but are needed only for findings. The dictionary keeps
//!   the ratio of small blocks close to that of large ones; small blocks keep a lookup
//!   at a few microseconds. Each block carries a zstd frame checksum, so a file damaged
//!   after it was opened gives an error rather than wrong data.
//! * **One self-describing file.** A header with magic, format version, length and
//!   checksum, then a table of sections (see `format`). A newer format version is refused
//!   with an explicit error; unknown sections are skipped so that additions stay
//!   compatible. Metadata (build time, cguard version, sources with their timestamps and
//!   counts) is a JSON section.
//! * **Atomic replacement.** `build` writes a temporary file beside the target, flushes it
//!   and renames it over the target. An open `Database` keeps reading the file it
//!   opened (the old inode) until it is dropped.
//!
//! Embedded stores were considered: SQLite is excluded (its `libsqlite3-sys` would clash
//! with the server's), and a B-tree store such as `redb` brings page overhead, a larger
//! file and no compression for data that is written once and only read afterwards.

mod atomic;
mod build;
mod codec;
mod error;
mod format;
mod meta;
mod open;
#[cfg(test)]
mod tests;

use std::io::{Read, Seek};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

pub use build::BuildStats;
pub use error::DbError;
pub use format::FORMAT_VERSION;
pub use meta::DbStatus;

pub(crate) use atomic::{TempFile, parent_dir, sync_dir};
pub(crate) use meta::{now_unix, rfc3339};

use codec::{DecodeError, Reader, decode_affected, decode_vulnerability};
use format::{BLOCK_ENTRY_LEN, Layout, PKG_ENTRY_LEN, VULN_ENTRY_LEN, u32_at, u64_at};
use meta::Metadata;

use crate::model::{Affected, SourceInfo, Vulnerability};

/// A decompressed vulnerability block larger than this is refused (the writer keeps
/// blocks near 32 KiB; only a damaged file claims more).
pub(crate) const MAX_BLOCK: usize = 64 << 20;

/// One ecosystem's slice of the package index.
#[derive(Debug, Clone)]
struct EcoRange {
    name: String,
    first: usize,
    end: usize,
}

/// An opened database file. Cheap to share between threads (`&Database` is enough for
/// every lookup).
pub struct Database {
    path: PathBuf,
    /// The file up to the vulnerability blocks (indexes, affected records, metadata).
    bytes: Vec<u8>,
    file_len: u64,
    layout: Layout,
    meta: Metadata,
    ecosystems: Vec<EcoRange>,
    /// The most recently decompressed vulnerability block: findings of one package often
    /// sit in neighbouring ids, and status reports look up many ids in order.
    block_cache: Mutex<Option<(u32, Arc<Vec<u8>>)>>,
    blocks: Mutex<BlockReader>,
}

/// What reading a vulnerability block needs: the open file (the blocks are not kept in
/// memory) and a decompression context with the file's dictionary loaded once.
struct BlockReader {
    file: std::fs::File,
    decompressor: zstd::bulk::Decompressor<'static>,
    buf: Vec<u8>,
}

impl std::fmt::Debug for Database {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Database").field("path", &self.path).field("size", &self.file_len).finish_non_exhaustive()
    }
}

impl Database {
    /// Builds a database file at `path` from feed records, replacing any file there
    /// atomically. Records with an id seen before are dropped (counted in the stats).
    pub fn build(
        vulns: Vec<Vulnerability>,
        affected: Vec<Affected>,
        sources: Vec<SourceInfo>,
        path: &Path,
    ) -> Result<BuildStats, DbError> {
        build::build(vulns, affected, sources, path)
    }

    /// Opens a database file, refusing it if it is not a database, has a format version
    /// this cguard does not read, is truncated, or fails its checksum.
    pub fn open(path: &Path) -> Result<Database, DbError> {
        let opened = open::read(path)?;
        let corrupt = |what: String| DbError::Corrupt { path: path.to_path_buf(), what };
        let bytes = opened.bytes;
        let layout = opened.layout;
        let meta_bytes = bytes.get(layout.meta.clone()).unwrap_or(&[]);
        let meta: Metadata =
            serde_json::from_slice(meta_bytes).map_err(|e| corrupt(format!("metadata is not valid: {e}")))?;
        let pkg_count = layout.pkg_index.len() / PKG_ENTRY_LEN;
        let ecosystems = read_ecosystems(bytes.get(layout.ecosystems.clone()).unwrap_or(&[]), pkg_count)
            .map_err(|e| corrupt(format!("ecosystem table: {}", e.0)))?;
        let dict = bytes.get(layout.vuln_dict.clone()).unwrap_or(&[]);
        let decompressor = zstd::bulk::Decompressor::with_dictionary(dict)
            .map_err(|e| corrupt(format!("compression dictionary: {e}")))?;
        Ok(Database {
            path: path.to_path_buf(),
            bytes,
            file_len: opened.file_len,
            layout,
            meta,
            ecosystems,
            block_cache: Mutex::new(None),
            blocks: Mutex::new(BlockReader { file: opened.file, decompressor, buf: Vec::new() }),
        })
    }

    /// Every affected record of `package` in `ecosystem` (exact, case-sensitive names as
    /// the feeds store them), in vulnerability id order. Empty when the package has none.
    pub fn affected(&self, ecosystem: &str, package: &str) -> Result<Vec<Affected>, DbError> {
        let Some(eco) = self.ecosystem(ecosystem) else {
            return Ok(Vec::new());
        };
        let found = self.search(eco.first, eco.end, package.as_bytes(), |i| self.pkg_name(i))?;
        let Some(i) = found else {
            return Ok(Vec::new());
        };
        self.decode_group(i, ecosystem, package)
            .map_err(|e| self.corrupt(format!("records of {ecosystem}/{package}: {}", e.0)))
    }

    /// The vulnerability record with this exact id, if the database has one.
    pub fn vulnerability(&self, id: &str) -> Result<Option<Vulnerability>, DbError> {
        let count = self.layout.vuln_index.len() / VULN_ENTRY_LEN;
        let Some(i) = self.search(0, count, id.as_bytes(), |i| self.vuln_id(i))? else {
            return Ok(None);
        };
        self.decode_vulnerability_at(i).map(Some).map_err(|e| self.corrupt(format!("record {id}: {}", e.0)))
    }

    /// The ecosystems present, sorted.
    pub fn ecosystems(&self) -> impl Iterator<Item = &str> {
        self.ecosystems.iter().map(|e| e.name.as_str())
    }

    /// The package names of one ecosystem that have records, sorted by their bytes.
    pub fn packages(&self, ecosystem: &str) -> Result<Vec<&str>, DbError> {
        let Some(eco) = self.ecosystem(ecosystem) else {
            return Ok(Vec::new());
        };
        (eco.first..eco.end)
            .map(|i| {
                self.pkg_name(i)
                    .and_then(|b| std::str::from_utf8(b).map_err(|_| DecodeError("package name is not UTF-8")))
                    .map_err(|e| self.corrupt(e.0.to_owned()))
            })
            .collect()
    }

    /// Age, sources, counts and size of this database.
    pub fn status(&self) -> DbStatus {
        DbStatus {
            path: self.path.clone(),
            format_version: self.meta.format_version,
            built_at_unix: self.meta.built_at,
            built_at: meta::rfc3339(self.meta.built_at),
            age_seconds: meta::age_seconds(self.meta.built_at),
            cguard_version: self.meta.cguard_version.clone(),
            sources: self.meta.sources.clone(),
            vulnerabilities: self.meta.vulnerabilities,
            affected: self.meta.affected,
            packages: self.meta.packages,
            ecosystems: self.ecosystems().map(str::to_owned).collect(),
            file_size: self.file_len,
        }
    }

    /// The feeds this database was built from.
    pub fn sources(&self) -> &[SourceInfo] {
        &self.meta.sources
    }

    /// The path it was opened from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn corrupt(&self, what: String) -> DbError {
        DbError::Corrupt { path: self.path.clone(), what }
    }

    fn ecosystem(&self, name: &str) -> Option<&EcoRange> {
        let i = self.ecosystems.binary_search_by(|e| e.name.as_bytes().cmp(name.as_bytes())).ok()?;
        self.ecosystems.get(i)
    }

    /// Binary search for `key` among entries `lo..hi` whose keys `key_of` returns.
    fn search<'a>(
        &'a self,
        mut lo: usize,
        mut hi: usize,
        key: &[u8],
        key_of: impl Fn(usize) -> Result<&'a [u8], DecodeError>,
    ) -> Result<Option<usize>, DbError> {
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            let k = key_of(mid).map_err(|e| self.corrupt(format!("index entry {mid}: {}", e.0)))?;
            match k.cmp(key) {
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
                std::cmp::Ordering::Equal => return Ok(Some(mid)),
            }
        }
        Ok(None)
    }

    /// The u32 at `field` bytes into entry `i` of an index section.
    fn field32(
        &self,
        section: &std::ops::Range<usize>,
        entry_len: usize,
        i: usize,
        field: usize,
    ) -> Result<usize, DecodeError> {
        let at = i
            .checked_mul(entry_len)
            .and_then(|o| o.checked_add(section.start))
            .and_then(|o| o.checked_add(field))
            .ok_or(DecodeError("index offset overflows"))?;
        if at.checked_add(4).is_none_or(|e| e > section.end) {
            return Err(DecodeError("index entry out of range"));
        }
        let v = u32_at(&self.bytes, at).ok_or(DecodeError("index entry out of range"))?;
        usize::try_from(v).map_err(|_| DecodeError("index value too large"))
    }

    /// `len` bytes at `off` inside `section`.
    fn slice_in(&self, section: &std::ops::Range<usize>, off: usize, len: usize) -> Result<&[u8], DecodeError> {
        let sec = self.bytes.get(section.clone()).ok_or(DecodeError("section out of range"))?;
        let end = off.checked_add(len).ok_or(DecodeError("length overflows"))?;
        sec.get(off..end).ok_or(DecodeError("points outside its section"))
    }

    fn pkg_name(&self, i: usize) -> Result<&[u8], DecodeError> {
        let idx = &self.layout.pkg_index;
        let off = self.field32(idx, PKG_ENTRY_LEN, i, 0)?;
        let len = self.field32(idx, PKG_ENTRY_LEN, i, 4)?;
        self.slice_in(&self.layout.pkg_names, off, len)
    }

    fn decode_group(&self, i: usize, ecosystem: &str, package: &str) -> Result<Vec<Affected>, DecodeError> {
        let idx = &self.layout.pkg_index;
        let entry_at = i
            .checked_mul(PKG_ENTRY_LEN)
            .and_then(|o| o.checked_add(idx.start))
            .ok_or(DecodeError("index offset overflows"))?;
        let data_off = u64_at(&self.bytes, entry_at + 8).ok_or(DecodeError("index entry out of range"))?;
        let data_off = usize::try_from(data_off).map_err(|_| DecodeError("data offset too large"))?;
        let data_len = self.field32(idx, PKG_ENTRY_LEN, i, 16)?;
        let count = self.field32(idx, PKG_ENTRY_LEN, i, 20)?;
        let data = self.slice_in(&self.layout.affected, data_off, data_len)?;
        let mut r = Reader::new(data);
        // Each record takes at least a few bytes, so the data length bounds the allocation.
        let mut out = Vec::with_capacity(count.min(data.len()));
        for _ in 0..count {
            out.push(decode_affected(&mut r, ecosystem, package)?);
        }
        if r.remaining() != 0 {
            return Err(DecodeError("trailing bytes after the records"));
        }
        Ok(out)
    }

    fn vuln_id(&self, i: usize) -> Result<&[u8], DecodeError> {
        let idx = &self.layout.vuln_index;
        let off = self.field32(idx, VULN_ENTRY_LEN, i, 0)?;
        let len = self.field32(idx, VULN_ENTRY_LEN, i, 4)?;
        self.slice_in(&self.layout.vuln_ids, off, len)
    }

    fn decode_vulnerability_at(&self, i: usize) -> Result<Vulnerability, DecodeError> {
        let idx = &self.layout.vuln_index;
        let block_no = self.field32(idx, VULN_ENTRY_LEN, i, 8)?;
        let off = self.field32(idx, VULN_ENTRY_LEN, i, 12)?;
        let len = self.field32(idx, VULN_ENTRY_LEN, i, 16)?;
        let block = self.block(block_no)?;
        let end = off.checked_add(len).ok_or(DecodeError("length overflows"))?;
        let rec = block.get(off..end).ok_or(DecodeError("record points outside its block"))?;
        let mut r = Reader::new(rec);
        let v = decode_vulnerability(&mut r)?;
        if r.remaining() != 0 {
            return Err(DecodeError("trailing bytes after the record"));
        }
        Ok(v)
    }

    /// Decompressed block `n`, from the cache when it was the last one used.
    fn block(&self, n: usize) -> Result<Arc<Vec<u8>>, DecodeError> {
        let key = u32::try_from(n).map_err(|_| DecodeError("block number too large"))?;
        {
            let cache = self.block_cache.lock().unwrap_or_else(|e| e.into_inner());
            if let Some((k, b)) = cache.as_ref()
                && *k == key
            {
                return Ok(Arc::clone(b));
            }
        }
        let table = &self.layout.vuln_blocks;
        let entry_at = n
            .checked_mul(BLOCK_ENTRY_LEN)
            .and_then(|o| o.checked_add(table.start))
            .ok_or(DecodeError("block offset overflows"))?;
        if entry_at.checked_add(BLOCK_ENTRY_LEN).is_none_or(|e| e > table.end) {
            return Err(DecodeError("block number out of range"));
        }
        let off = u64_at(&self.bytes, entry_at).ok_or(DecodeError("block entry out of range"))?;
        let off = usize::try_from(off).map_err(|_| DecodeError("block offset too large"))?;
        let comp_len = self.field32(table, BLOCK_ENTRY_LEN, n, 8)?;
        let raw_len = self.field32(table, BLOCK_ENTRY_LEN, n, 12)?;
        if raw_len > MAX_BLOCK {
            return Err(DecodeError("block claims an implausible size"));
        }
        if comp_len > MAX_BLOCK {
            return Err(DecodeError("block claims an implausible size"));
        }
        let data = &self.layout.vuln_data;
        let end = off.checked_add(comp_len).ok_or(DecodeError("length overflows"))?;
        if end > data.len() {
            return Err(DecodeError("block points outside its section"));
        }
        let at = (data.start as u64).checked_add(off as u64).ok_or(DecodeError("offset overflows"))?;
        let mut guard = self.blocks.lock().unwrap_or_else(|e| e.into_inner());
        let reader = &mut *guard;
        reader.buf.resize(comp_len, 0);
        reader
            .file
            .seek(std::io::SeekFrom::Start(at))
            .and_then(|_| reader.file.read_exact(&mut reader.buf))
            .map_err(|_| DecodeError("block cannot be read from the file"))?;
        let raw = reader
            .decompressor
            .decompress(&reader.buf, raw_len)
            .map_err(|_| DecodeError("block does not decompress (damaged since it was opened?)"))?;
        drop(guard);
        if raw.len() != raw_len {
            return Err(DecodeError("block decompresses to the wrong size"));
        }
        let raw = Arc::new(raw);
        *self.block_cache.lock().unwrap_or_else(|e| e.into_inner()) = Some((key, Arc::clone(&raw)));
        Ok(raw)
    }
}

/// Parses the ecosystem table and checks that it is sorted and inside the package index.
fn read_ecosystems(buf: &[u8], pkg_count: usize) -> Result<Vec<EcoRange>, DecodeError> {
    let mut r = Reader::new(buf);
    let n = usize::try_from(r.varint()?).map_err(|_| DecodeError("count too large"))?;
    if n > r.remaining() {
        return Err(DecodeError("count larger than the table"));
    }
    let mut out: Vec<EcoRange> = Vec::with_capacity(n);
    for _ in 0..n {
        let name = r.str()?.to_owned();
        let first = usize::try_from(r.u32()?).map_err(|_| DecodeError("index too large"))?;
        let end = usize::try_from(r.u32()?).map_err(|_| DecodeError("index too large"))?;
        if first > end || end > pkg_count {
            return Err(DecodeError("range outside the package index"));
        }
        if out.last().is_some_and(|prev| prev.name.as_bytes() >= name.as_bytes() || prev.end > first) {
            return Err(DecodeError("not sorted"));
        }
        out.push(EcoRange { name, first, end });
    }
    Ok(out)
}

/// The matcher reads through this. A read error here can only come from a damaged file
/// that still passed its checksum (or a writer bug); it is logged loudly rather than
/// turned into a silent "no findings".
impl crate::matcher::VulnSource for Database {
    fn affected(&self, ecosystem: &str, package: &str) -> Vec<Affected> {
        Database::affected(self, ecosystem, package).unwrap_or_else(|e| {
            tracing::error!("{e}");
            Vec::new()
        })
    }

    fn vulnerability(&self, id: &str) -> Option<Vulnerability> {
        Database::vulnerability(self, id).unwrap_or_else(|e| {
            tracing::error!("{e}");
            None
        })
    }
}
