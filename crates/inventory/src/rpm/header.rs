//! rpm header blobs, as the package databases store them.
//!
//! A blob is two big-endian 32-bit counts, `il` index entries and `dl` bytes of data,
//! then `il` entries of 16 bytes (tag, type, offset into the data, count), then the data.
//! The first entry is usually a region tag (`HEADERIMMUTABLE`) that marks which entries
//! came signed with the package; entries that rpm added at install time follow it, and
//! where a tag appears twice the later entry is the current one. Files written to disk
//! (`.rpm` headers) start with an 8-byte magic, which is accepted too.

use std::collections::BTreeMap;

pub const NAME: u32 = 1000;
pub const VERSION: u32 = 1001;
pub const RELEASE: u32 = 1002;
pub const EPOCH: u32 = 1003;
pub const VENDOR: u32 = 1011;
pub const LICENSE: u32 = 1014;
pub const OLDFILENAMES: u32 = 1027;
pub const FILESIZES: u32 = 1028;
pub const FILEMODES: u32 = 1030;
pub const ARCH: u32 = 1022;
pub const SOURCERPM: u32 = 1044;
pub const DIRINDEXES: u32 = 1116;
pub const BASENAMES: u32 = 1117;
pub const DIRNAMES: u32 = 1118;

/// Region tags: they describe a span of other entries and carry no value of their own.
const REGION_TAGS: [u32; 3] = [61, 62, 63];

/// rpm refuses headers with more entries or data than this (`hdrchkTags`, `hdrchkData`).
const MAX_ENTRIES: u32 = 0x00ff_ffff;
const MAX_DATA: u32 = 0x3fff_ffff;

/// The magic of a header as written in `.rpm` files.
const HEADER_MAGIC: [u8; 8] = [0x8e, 0xad, 0xe8, 0x01, 0, 0, 0, 0];

/// rpm's data types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Type {
    Null,
    Char,
    Int8,
    Int16,
    Int32,
    Int64,
    String,
    Bin,
    StringArray,
    I18nString,
}

impl Type {
    fn from_u32(t: u32) -> Option<Type> {
        Some(match t {
            0 => Type::Null,
            1 => Type::Char,
            2 => Type::Int8,
            3 => Type::Int16,
            4 => Type::Int32,
            5 => Type::Int64,
            6 => Type::String,
            7 => Type::Bin,
            8 => Type::StringArray,
            9 => Type::I18nString,
            _ => return None,
        })
    }
}

/// Why a header blob could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HeaderError {
    #[error("header blob is {0} bytes, shorter than its counts")]
    Short(usize),
    #[error("header claims {il} entries and {dl} data bytes, but the blob has {len} bytes")]
    Sizes { il: u32, dl: u32, len: usize },
    #[error("header has no entries")]
    Empty,
}

/// One index entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry {
    pub ty: Type,
    pub offset: u32,
    pub count: u32,
}

/// A parsed header: its index, by tag, over its data. Values are decoded on request, and a
/// value that does not fit its data reads as absent.
#[derive(Debug, Clone)]
pub struct Header<'a> {
    entries: BTreeMap<u32, Entry>,
    data: &'a [u8],
    /// Index entries that were malformed (unknown type) and skipped.
    pub skipped: usize,
}

fn be32(b: &[u8], at: usize) -> Option<u32> {
    let bytes = b.get(at..at.checked_add(4)?)?;
    Some(u32::from_be_bytes(bytes.try_into().ok()?))
}

/// Parses a header blob.
pub fn parse(blob: &[u8]) -> Result<Header<'_>, HeaderError> {
    let blob = blob.strip_prefix(&HEADER_MAGIC[..]).unwrap_or(blob);
    let (Some(il), Some(dl)) = (be32(blob, 0), be32(blob, 4)) else {
        return Err(HeaderError::Short(blob.len()));
    };
    let sizes = HeaderError::Sizes { il, dl, len: blob.len() };
    if il > MAX_ENTRIES || dl > MAX_DATA {
        return Err(sizes);
    }
    if il == 0 {
        return Err(HeaderError::Empty);
    }
    // il and dl are bounded above, so this cannot overflow even on 32-bit targets.
    let index_end = 8 + il as usize * 16;
    let data_end = index_end + dl as usize;
    if data_end > blob.len() {
        return Err(sizes);
    }
    let data = &blob[index_end..data_end];
    let mut entries = BTreeMap::new();
    let mut skipped = 0;
    for chunk in blob[8..index_end].chunks_exact(16) {
        let field = |i: usize| be32(chunk, i * 4).unwrap_or(0);
        let (tag, ty, offset, count) = (field(0), field(1), field(2), field(3));
        if REGION_TAGS.contains(&tag) {
            continue;
        }
        match Type::from_u32(ty) {
            Some(ty) => {
                entries.insert(tag, Entry { ty, offset, count });
            }
            None => skipped += 1,
        }
    }
    Ok(Header { entries, data, skipped })
}

impl<'a> Header<'a> {
    /// The index entry of `tag`, if present.
    pub fn entry(&self, tag: u32) -> Option<Entry> {
        self.entries.get(&tag).copied()
    }

    /// The `count` NUL-terminated strings starting at `offset`.
    fn raw_strings(&self, e: Entry) -> Option<Vec<&'a str>> {
        let mut rest = self.data.get(e.offset as usize..)?;
        // Every string takes at least one byte, which bounds the allocation.
        if e.count as usize > rest.len() {
            return None;
        }
        let mut out = Vec::with_capacity(e.count as usize);
        for _ in 0..e.count {
            let end = rest.iter().position(|&b| b == 0)?;
            out.push(std::str::from_utf8(&rest[..end]).ok()?);
            rest = &rest[end + 1..];
        }
        Some(out)
    }

    /// A string value: a `STRING`, or the first of a `STRING_ARRAY` or `I18NSTRING` (the
    /// untranslated text).
    pub fn string(&self, tag: u32) -> Option<&'a str> {
        let e = self.entry(tag)?;
        match e.ty {
            Type::String | Type::StringArray | Type::I18nString if e.count >= 1 => {
                self.raw_strings(Entry { count: 1, ..e })?.first().copied()
            }
            _ => None,
        }
    }

    /// A string array value (a single `STRING` reads as an array of one).
    pub fn strings(&self, tag: u32) -> Option<Vec<&'a str>> {
        let e = self.entry(tag)?;
        match e.ty {
            Type::StringArray | Type::I18nString => self.raw_strings(e),
            Type::String => self.raw_strings(Entry { count: 1, ..e }),
            _ => None,
        }
    }

    /// An integer array of any integer type, widened.
    pub fn integers(&self, tag: u32) -> Option<Vec<u64>> {
        let e = self.entry(tag)?;
        let width: usize = match e.ty {
            Type::Char | Type::Int8 => 1,
            Type::Int16 => 2,
            Type::Int32 => 4,
            Type::Int64 => 8,
            _ => return None,
        };
        let len = (e.count as usize).checked_mul(width)?;
        let start = e.offset as usize;
        let bytes = self.data.get(start..start.checked_add(len)?)?;
        Some(bytes.chunks_exact(width).map(|c| c.iter().fold(0u64, |acc, &b| (acc << 8) | u64::from(b))).collect())
    }

    /// The first value of an integer tag.
    pub fn integer(&self, tag: u32) -> Option<u64> {
        self.integers(tag)?.first().copied()
    }

    /// The files the package installed: `DIRNAMES[DIRINDEXES[i]] + BASENAMES[i]`, or the
    /// `OLDFILENAMES` of packages built before rpm 4. `Err` when the arrays disagree.
    pub fn file_names(&self) -> Result<Vec<String>, String> {
        if let Some(basenames) = self.strings(BASENAMES) {
            let dirnames = self.strings(DIRNAMES).ok_or("BASENAMES without readable DIRNAMES")?;
            let indexes = self.integers(DIRINDEXES).ok_or("BASENAMES without readable DIRINDEXES")?;
            if indexes.len() != basenames.len() {
                return Err(format!("{} BASENAMES but {} DIRINDEXES", basenames.len(), indexes.len()));
            }
            let mut out = Vec::with_capacity(basenames.len());
            for (base, index) in basenames.iter().zip(indexes) {
                let dir = usize::try_from(index)
                    .ok()
                    .and_then(|i| dirnames.get(i))
                    .ok_or_else(|| format!("DIRINDEXES entry {index} is past the {} DIRNAMES", dirnames.len()))?;
                out.push(format!("{dir}{base}"));
            }
            return Ok(out);
        }
        if self.entry(BASENAMES).is_some() {
            return Err("BASENAMES is unreadable".into());
        }
        match self.entry(OLDFILENAMES) {
            Some(_) => self
                .strings(OLDFILENAMES)
                .map(|v| v.into_iter().map(str::to_owned).collect())
                .ok_or_else(|| "OLDFILENAMES is unreadable".into()),
            None => Ok(Vec::new()),
        }
    }
}
