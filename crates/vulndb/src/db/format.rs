//! The container layout of the database file: a fixed header, a section table, and the
//! sections themselves.
//!
//! ```text
//! offset  size  field
//!      0     8  magic "CGVULNDB"
//!      8     4  format version (u32 LE)
//!     12     4  header length (u32 LE, 64 in version 1)
//!     16     8  total file length (u64 LE)
//!     24     4  CRC-32 of the whole file, these four bytes taken as zero
//!     28    36  reserved, zero
//!     64     4  section count, then per section: id u32, offset u64, length u64
//! ```
//!
//! The version is checked before anything else so that a file from a newer cguard is
//! refused with a clear message even if its header grew. Readers ignore section ids
//! they do not know, so a later writer can add sections without a new format version.

use std::ops::Range;

use super::codec::{DecodeError, DecodeResult, Reader, Writer};

/// The magic bytes every database file starts with.
pub(crate) const MAGIC: [u8; 8] = *b"CGVULNDB";
/// The format version this code writes and reads.
pub const FORMAT_VERSION: u32 = 1;
/// The header length of format version 1.
pub(crate) const HEADER_LEN: usize = 64;
pub(crate) const CHECKSUM_AT: usize = 24;

/// Metadata as JSON (build time, cguard version, sources, counts).
pub(crate) const SEC_META: u32 = 1;
/// The ecosystem table: name and the range of package index entries it owns.
pub(crate) const SEC_ECOSYSTEMS: u32 = 2;
/// Fixed-size package index entries, sorted by (ecosystem, package).
pub(crate) const SEC_PKG_INDEX: u32 = 3;
/// Package names the package index points into.
pub(crate) const SEC_PKG_NAMES: u32 = 4;
/// Encoded affected records, one contiguous run per package.
pub(crate) const SEC_AFFECTED: u32 = 5;
/// Fixed-size vulnerability index entries, sorted by id.
pub(crate) const SEC_VULN_INDEX: u32 = 6;
/// Vulnerability ids the vulnerability index points into.
pub(crate) const SEC_VULN_IDS: u32 = 7;
/// Fixed-size block table of the compressed vulnerability data.
pub(crate) const SEC_VULN_BLOCKS: u32 = 8;
/// zstd-compressed blocks of encoded vulnerability records.
pub(crate) const SEC_VULN_DATA: u32 = 9;
/// The zstd dictionary the blocks are compressed with (empty: none).
pub(crate) const SEC_VULN_DICT: u32 = 10;

/// Package index entry: name offset u32, name length u32, data offset u64, data length
/// u32, record count u32.
pub(crate) const PKG_ENTRY_LEN: usize = 24;
/// Vulnerability index entry: id offset u32, id length u32, block u32, offset in the
/// decompressed block u32, length u32.
pub(crate) const VULN_ENTRY_LEN: usize = 20;
/// Block table entry: data offset u64, compressed length u32, decompressed length u32.
pub(crate) const BLOCK_ENTRY_LEN: usize = 16;

/// What the header says, before the checksum is verified.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Header {
    pub(crate) header_len: usize,
    pub(crate) file_len: u64,
    pub(crate) checksum: u32,
}

/// Reads the header fields. The caller checks the magic first.
pub(crate) fn read_header(file: &[u8]) -> DecodeResult<Header> {
    let mut r = Reader::new(file);
    r.bytes(MAGIC.len())?;
    // The version, checked by the caller before the rest of the header is trusted.
    r.u32()?;
    let header_len = usize::try_from(r.u32()?).map_err(|_| DecodeError("header length too large"))?;
    let file_len = r.u64()?;
    let checksum = r.u32()?;
    Ok(Header { header_len, file_len, checksum })
}

/// The CRC-32 of the whole file with the checksum field taken as zero.
pub(crate) fn checksum(file: &[u8]) -> u32 {
    let mut h = crc32fast::Hasher::new();
    h.update(file.get(..CHECKSUM_AT).unwrap_or(file));
    if file.len() > CHECKSUM_AT {
        h.update(&[0u8; 4][..(file.len() - CHECKSUM_AT).min(4)]);
    }
    h.update(file.get(CHECKSUM_AT + 4..).unwrap_or(&[]));
    h.finalize()
}

/// Where each known section lies in the file.
#[derive(Debug, Clone, Default)]
pub(crate) struct Layout {
    pub(crate) meta: Range<usize>,
    pub(crate) ecosystems: Range<usize>,
    pub(crate) pkg_index: Range<usize>,
    pub(crate) pkg_names: Range<usize>,
    pub(crate) affected: Range<usize>,
    pub(crate) vuln_index: Range<usize>,
    pub(crate) vuln_ids: Range<usize>,
    pub(crate) vuln_blocks: Range<usize>,
    pub(crate) vuln_data: Range<usize>,
    pub(crate) vuln_dict: Range<usize>,
}

/// Reads the section table that follows the header in `start` (the beginning of the
/// file) and checks that every section lies inside the file of `file_len` bytes and that
/// every required section is present.
pub(crate) fn read_layout(start: &[u8], header_len: usize, file_len: u64) -> Result<Layout, String> {
    let table = start.get(header_len..).ok_or("section table missing")?;
    let mut r = Reader::new(table);
    let count = r.u32().map_err(|e| e.0)?;
    let mut layout = Layout::default();
    let mut seen = [false; 11];
    for _ in 0..count {
        let id = r.u32().map_err(|e| e.0)?;
        let off = r.u64().map_err(|e| e.0)?;
        let len = r.u64().map_err(|e| e.0)?;
        let start = usize::try_from(off).map_err(|_| "section offset too large")?;
        let end = off.checked_add(len).and_then(|e| usize::try_from(e).ok()).ok_or("section length overflows")?;
        if start < header_len || end as u64 > file_len {
            return Err(format!("section {id} lies outside the file"));
        }
        let slot = match id {
            SEC_META => &mut layout.meta,
            SEC_ECOSYSTEMS => &mut layout.ecosystems,
            SEC_PKG_INDEX => &mut layout.pkg_index,
            SEC_PKG_NAMES => &mut layout.pkg_names,
            SEC_AFFECTED => &mut layout.affected,
            SEC_VULN_INDEX => &mut layout.vuln_index,
            SEC_VULN_IDS => &mut layout.vuln_ids,
            SEC_VULN_BLOCKS => &mut layout.vuln_blocks,
            SEC_VULN_DATA => &mut layout.vuln_data,
            SEC_VULN_DICT => &mut layout.vuln_dict,
            // A section added by a later writer of the same format version.
            _ => continue,
        };
        *slot = start..end;
        if let Some(s) = usize::try_from(id).ok().and_then(|i| seen.get_mut(i)) {
            *s = true;
        }
    }
    if let Some(missing) = (SEC_META..=SEC_VULN_DICT)
        .find(|&id| !usize::try_from(id).ok().and_then(|i| seen.get(i)).copied().unwrap_or(false))
    {
        return Err(format!("required section {missing} is missing"));
    }
    for (name, range, entry) in [
        ("package index", &layout.pkg_index, PKG_ENTRY_LEN),
        ("vulnerability index", &layout.vuln_index, VULN_ENTRY_LEN),
        ("block table", &layout.vuln_blocks, BLOCK_ENTRY_LEN),
    ] {
        if range.len() % entry != 0 {
            return Err(format!("{name} length {} is not a multiple of {entry}", range.len()));
        }
    }
    Ok(layout)
}

/// Lays sections out after a header and section table and fills the header in,
/// checksum included. Fails only if the file would not be addressable.
pub(crate) fn assemble(sections: Vec<(u32, Vec<u8>)>) -> Result<Vec<u8>, String> {
    let table_len = 4 + sections.len() * 20;
    let total: usize = HEADER_LEN + table_len + sections.iter().map(|(_, s)| s.len()).sum::<usize>();
    let mut w = Writer { buf: Vec::with_capacity(total) };
    w.buf.extend_from_slice(&MAGIC);
    w.u32(FORMAT_VERSION);
    w.u32(HEADER_LEN as u32);
    w.u64(total as u64);
    w.u32(0);
    w.buf.resize(HEADER_LEN, 0);
    w.u32(u32::try_from(sections.len()).map_err(|_| "too many sections")?);
    let mut offset = HEADER_LEN + table_len;
    for (id, data) in &sections {
        w.u32(*id);
        w.u64(offset as u64);
        w.u64(data.len() as u64);
        offset += data.len();
    }
    for (_, data) in sections {
        w.buf.extend_from_slice(&data);
    }
    let sum = checksum(&w.buf);
    if let Some(field) = w.buf.get_mut(CHECKSUM_AT..CHECKSUM_AT + 4) {
        field.copy_from_slice(&sum.to_le_bytes());
    }
    Ok(w.buf)
}

/// Reads a little-endian u32 at `at`, or `None` past the end.
pub(crate) fn u32_at(buf: &[u8], at: usize) -> Option<u32> {
    let b: [u8; 4] = buf.get(at..at.checked_add(4)?)?.try_into().ok()?;
    Some(u32::from_le_bytes(b))
}

/// Reads a little-endian u64 at `at`, or `None` past the end.
pub(crate) fn u64_at(buf: &[u8], at: usize) -> Option<u64> {
    let b: [u8; 8] = buf.get(at..at.checked_add(8)?)?.try_into().ok()?;
    Some(u64::from_le_bytes(b))
}
