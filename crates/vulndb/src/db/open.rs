//! Reading a database file at open: header checks, one pass over the whole file for the
//! checksum, and keeping in memory everything but the compressed vulnerability blocks.
//!
//! The blocks are the last section and most of the file. They pass through the checksum
//! in a reused buffer and are read again only for a lookup, so opening costs one copy
//! of the file from the page cache and no large allocation: this is what keeps open
//! well under 100 ms for a full database.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

use super::error::DbError;
use super::format::{self, FORMAT_VERSION, HEADER_LEN, Layout, MAGIC};

/// Files larger than this are refused.
const MAX_FILE_SIZE: u64 = 16 << 30;
/// Section tables with more entries than this are refused (version 1 writes ten).
const MAX_SECTIONS: usize = 64;
/// Headers longer than this are refused (version 1 writes 64 bytes).
const MAX_HEADER_LEN: usize = 4096;

/// A checked file: its in-memory part, its layout, and the handle for lazy reads.
#[derive(Debug)]
pub(crate) struct Opened {
    /// The file's bytes up to the start of the vulnerability blocks.
    pub(crate) bytes: Vec<u8>,
    pub(crate) layout: Layout,
    pub(crate) file: File,
    pub(crate) file_len: u64,
}

/// Opens, checks and reads `path` (see the module documentation).
pub(crate) fn read(path: &Path) -> Result<Opened, DbError> {
    let p = || path.to_path_buf();
    let io = |source| DbError::Io { action: "reading", path: p(), source };
    let mut file = File::open(path).map_err(io)?;
    let actual = file.metadata().map_err(io)?.len();

    let mut head = Vec::with_capacity(HEADER_LEN);
    (&mut file).take(HEADER_LEN as u64).read_to_end(&mut head).map_err(io)?;
    let short = || DbError::Truncated { path: p(), expected: HEADER_LEN as u64, actual };
    if head.len() < MAGIC.len() {
        return Err(if MAGIC.starts_with(&head) { short() } else { DbError::NotADatabase { path: p() } });
    }
    if head.get(..MAGIC.len()) != Some(&MAGIC[..]) {
        return Err(DbError::NotADatabase { path: p() });
    }
    // The version first: a newer format may have a different header.
    let version = format::u32_at(&head, MAGIC.len()).ok_or_else(short)?;
    if version > FORMAT_VERSION {
        return Err(DbError::TooNew { path: p(), found: version, supported: FORMAT_VERSION });
    }
    if version < FORMAT_VERSION {
        return Err(DbError::TooOld { path: p(), found: version, supported: FORMAT_VERSION });
    }
    let header = format::read_header(&head).map_err(|_| short())?;
    if header.file_len != actual {
        return Err(DbError::Truncated { path: p(), expected: header.file_len, actual });
    }
    let corrupt = |what: String| DbError::Corrupt { path: p(), what };
    if actual > MAX_FILE_SIZE {
        return Err(corrupt(format!("file is {actual} bytes, over the {MAX_FILE_SIZE}-byte limit")));
    }

    // The section table, then where the in-memory part ends. Its errors are reported
    // only after the checksum, which explains damage better than a symptom of it.
    let layout = read_table(&mut file, &header, actual);
    let hot_end = layout.as_ref().map_or(0, |l| l.vuln_data.start);

    let (bytes, sum) = checksum_pass(&mut file, hot_end, actual).map_err(io)?;
    if (bytes.len() as u64) < hot_end as u64 {
        return Err(DbError::Truncated { path: p(), expected: header.file_len, actual: bytes.len() as u64 });
    }
    if sum != header.checksum {
        return Err(DbError::ChecksumMismatch { path: p(), expected: header.checksum, actual: sum });
    }
    let layout = layout.map_err(corrupt)?;
    Ok(Opened { bytes, layout, file, file_len: actual })
}

/// Reads and checks the section table; the blocks must be the last section and every
/// other section must lie before them.
fn read_table(file: &mut File, header: &format::Header, file_len: u64) -> Result<Layout, String> {
    if header.header_len < HEADER_LEN || header.header_len > MAX_HEADER_LEN {
        return Err(format!("header length {} is not plausible", header.header_len));
    }
    let want = (header.header_len + 4 + MAX_SECTIONS * 20) as u64;
    let mut start = Vec::new();
    file.seek(SeekFrom::Start(0)).map_err(|e| e.to_string())?;
    file.take(want.min(file_len)).read_to_end(&mut start).map_err(|e| e.to_string())?;
    let count = format::u32_at(&start, header.header_len).ok_or("section table missing")?;
    if usize::try_from(count).map_or(true, |c| c > MAX_SECTIONS) {
        return Err(format!("{count} sections is not plausible"));
    }
    let layout = format::read_layout(&start, header.header_len, file_len)?;
    if layout.vuln_data.end as u64 != file_len {
        return Err("the vulnerability blocks are not the last section".into());
    }
    let hot_end = layout.vuln_data.start;
    for (name, r) in [
        ("metadata", &layout.meta),
        ("ecosystems", &layout.ecosystems),
        ("package index", &layout.pkg_index),
        ("package names", &layout.pkg_names),
        ("affected records", &layout.affected),
        ("vulnerability index", &layout.vuln_index),
        ("vulnerability ids", &layout.vuln_ids),
        ("block table", &layout.vuln_blocks),
        ("dictionary", &layout.vuln_dict),
    ] {
        if r.end > hot_end {
            return Err(format!("{name} section overlaps the vulnerability blocks"));
        }
    }
    Ok(layout)
}

/// Reads the whole file once from the start: returns its first `keep` bytes and the
/// CRC-32 of the file with the checksum field taken as zero.
fn checksum_pass(file: &mut File, keep: usize, file_len: u64) -> std::io::Result<(Vec<u8>, u32)> {
    file.seek(SeekFrom::Start(0))?;
    let keep = keep.min(usize::try_from(file_len).unwrap_or(usize::MAX));
    let mut bytes = Vec::with_capacity(keep);
    let mut hasher = crc32fast::Hasher::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut pos: usize = 0;
    loop {
        let n = match file.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        let chunk = buf.get_mut(..n).unwrap_or(&mut []);
        for field in format::CHECKSUM_AT..format::CHECKSUM_AT + 4 {
            if let Some(b) = field.checked_sub(pos).and_then(|i| chunk.get_mut(i)) {
                *b = 0;
            }
        }
        if pos < keep {
            let take = (keep - pos).min(n);
            // The kept copy has the checksum field zeroed; the header was parsed before.
            bytes.extend_from_slice(chunk.get(..take).unwrap_or(&[]));
        }
        hasher.update(chunk);
        pos = pos.saturating_add(n);
    }
    Ok((bytes, hasher.finalize()))
}
