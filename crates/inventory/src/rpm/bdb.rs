//! A reader of rpm's BerkeleyDB `Packages` file, a hash database (RHEL and CentOS up to 8,
//! older SUSE and Amazon Linux 2): key = the header number as a 4-byte integer, value = the
//! header blob. Key 0 holds rpm's instance counter and is skipped.
//!
//! Only the on-disk layout is read, page by page, with no hashing: page 0 is the hash
//! metadata page (magic `0x061561`, page size, last page number); hash pages hold an index
//! of item offsets and items in pairs (key, value), each either stored on the page
//! (`H_KEYDATA`) or on a chain of overflow pages (`H_OFFPAGE`). The database is in the byte
//! order of the machine that wrote it, which the magic tells.

use super::Blob;

const HASH_MAGIC: u32 = 0x0006_1561;
/// Page types.
const P_HASH_UNSORTED: u8 = 2;
const P_OVERFLOW: u8 = 7;
const P_HASHMETA: u8 = 8;
const P_HASH: u8 = 13;
/// Item types on hash pages.
const H_KEYDATA: u8 = 1;
const H_DUPLICATE: u8 = 2;
const H_OFFPAGE: u8 = 3;
const H_OFFDUP: u8 = 4;
/// Size of the page header that precedes the item index and overflow data.
const PAGE_HEADER: usize = 26;
/// The largest value accepted; rpm headers are a few hundred kilobytes at most.
const MAX_VALUE: u32 = 256 << 20;

/// Reads every (header number, header blob) pair. Returns what it could read and what it
/// could not.
pub fn read(db: &[u8]) -> (Vec<Blob>, Vec<String>) {
    let mut problems = Vec::new();
    let file = match File::open(db) {
        Ok(f) => f,
        Err(e) => return (Vec::new(), vec![e]),
    };
    if file.claimed_last_page > file.last_page {
        problems
            .push(format!("the file is truncated: it ends at page {} of {}", file.last_page, file.claimed_last_page));
    }
    let mut blobs = Vec::new();
    for number in 1..=file.last_page {
        let Some(page) = file.page(number) else { break };
        if !matches!(page.get(25), Some(&P_HASH) | Some(&P_HASH_UNSORTED)) {
            continue;
        }
        if let Err(e) = file.hash_page(number, page, &mut blobs, &mut problems) {
            problems.push(e);
        }
    }
    (blobs, problems)
}

struct File<'a> {
    db: &'a [u8],
    big_endian: bool,
    page_size: usize,
    /// The last page the file has, and the one the metadata names.
    last_page: u32,
    claimed_last_page: u32,
}

impl<'a> File<'a> {
    fn open(db: &'a [u8]) -> Result<Self, String> {
        let magic = db.get(12..16).ok_or("not a BerkeleyDB file: too short")?;
        let big_endian = match magic {
            m if u32::from_le_bytes([m[0], m[1], m[2], m[3]]) == HASH_MAGIC => false,
            m if u32::from_be_bytes([m[0], m[1], m[2], m[3]]) == HASH_MAGIC => true,
            _ => return Err("not a BerkeleyDB hash database".into()),
        };
        let mut f = File { db, big_endian, page_size: 0, last_page: 0, claimed_last_page: 0 };
        let page_size = f.u32_at(db, 20).ok_or("truncated metadata page")? as usize;
        if !(512..=65536).contains(&page_size) || !page_size.is_power_of_two() {
            return Err(format!("invalid page size {page_size}"));
        }
        if db.get(24) != Some(&0) {
            return Err("encrypted databases are not supported".into());
        }
        if db.get(25) != Some(&P_HASHMETA) {
            return Err("page 0 is not a hash metadata page".into());
        }
        let last_page = f.u32_at(db, 32).ok_or("truncated metadata page")?;
        // A truncated file is read as far as it goes; the loop reports the missing pages.
        let in_file = u32::try_from(db.len() / page_size).unwrap_or(u32::MAX);
        if in_file == 0 {
            return Err("truncated metadata page".into());
        }
        f.page_size = page_size;
        f.claimed_last_page = last_page;
        f.last_page = last_page.min(in_file - 1);
        Ok(f)
    }

    fn u16_at(&self, b: &[u8], at: usize) -> Option<u16> {
        let raw: [u8; 2] = b.get(at..at.checked_add(2)?)?.try_into().ok()?;
        Some(if self.big_endian { u16::from_be_bytes(raw) } else { u16::from_le_bytes(raw) })
    }

    fn u32_at(&self, b: &[u8], at: usize) -> Option<u32> {
        let raw: [u8; 4] = b.get(at..at.checked_add(4)?)?.try_into().ok()?;
        Some(if self.big_endian { u32::from_be_bytes(raw) } else { u32::from_le_bytes(raw) })
    }

    fn page(&self, number: u32) -> Option<&'a [u8]> {
        let start = (number as usize).checked_mul(self.page_size)?;
        self.db.get(start..start.checked_add(self.page_size)?)
    }

    /// Reads the (key, value) pairs of one hash page.
    fn hash_page(
        &self,
        number: u32,
        page: &[u8],
        blobs: &mut Vec<Blob>,
        problems: &mut Vec<String>,
    ) -> Result<(), String> {
        let entries = usize::from(self.u16_at(page, 20).ok_or("truncated page header")?);
        let offset = |i: usize| self.u16_at(page, PAGE_HEADER + 2 * i).map(usize::from);
        // Items are laid out from the end of the page downwards: item i ends where item
        // i - 1 starts.
        let item = |i: usize| -> Option<&[u8]> {
            let start = offset(i)?;
            let end = if i == 0 { self.page_size } else { offset(i - 1)? };
            page.get(start..end)
        };
        for pair in 0..entries / 2 {
            let (k, v) = (2 * pair, 2 * pair + 1);
            let (Some(key), Some(value)) = (item(k), item(v)) else {
                problems.push(format!("page {number}: item {k} or {v} is out of bounds"));
                continue;
            };
            let id = match key.split_first() {
                Some((&H_KEYDATA, bytes)) if bytes.len() == 4 => self.u32_at(bytes, 0).unwrap_or(0),
                _ => {
                    problems.push(format!("page {number}: item {k} is not a 4-byte package number"));
                    continue;
                }
            };
            match self.value(value) {
                // Key 0 is rpm's counter of header numbers, not a package.
                Ok(_) if id == 0 => {}
                Ok(data) => blobs.push(Blob { id: u64::from(id), data }),
                Err(e) => problems.push(format!("page {number}: package {id}: {e}")),
            }
        }
        Ok(())
    }

    fn value(&self, item: &[u8]) -> Result<Vec<u8>, String> {
        match item.split_first() {
            Some((&H_KEYDATA, bytes)) => Ok(bytes.to_vec()),
            Some((&H_OFFPAGE, rest)) => {
                // 3 unused bytes, the first overflow page, the total length.
                let first = self.u32_at(rest, 3).ok_or("truncated off-page item")?;
                let total = self.u32_at(rest, 7).ok_or("truncated off-page item")?;
                self.overflow(first, total)
            }
            Some((&H_DUPLICATE, _)) | Some((&H_OFFDUP, _)) => Err("duplicate values are not used by rpm".into()),
            _ => Err("unknown item type".into()),
        }
    }

    /// Follows a chain of overflow pages, collecting `total` bytes.
    fn overflow(&self, first: u32, total: u32) -> Result<Vec<u8>, String> {
        let room = self.page_size - PAGE_HEADER;
        let pages_needed = (total as usize).div_ceil(room);
        if total > MAX_VALUE || pages_needed > self.last_page as usize {
            return Err(format!("value of {total} bytes is larger than the file allows"));
        }
        let mut out = Vec::with_capacity(total as usize);
        let mut next = first;
        let mut visited = std::collections::HashSet::new();
        // Bounded by the number of pages the value needs, so a chain cannot run on; a page
        // seen twice is a loop that would otherwise repeat its bytes.
        for _ in 0..pages_needed {
            if next == 0 || next > self.last_page {
                return Err(format!("overflow chain points at page {next}"));
            }
            if !visited.insert(next) {
                return Err(format!("overflow chain loops back to page {next}"));
            }
            let page = self.page(next).ok_or("overflow page is missing")?;
            if page.get(25) != Some(&P_OVERFLOW) {
                return Err(format!("page {next} in an overflow chain is not an overflow page"));
            }
            // On overflow pages the header's free-area offset holds the length used.
            let len = usize::from(self.u16_at(page, 22).ok_or("truncated overflow page")?);
            let bytes = page.get(PAGE_HEADER..PAGE_HEADER + len).ok_or("overflow page length is too large")?;
            let take = bytes.len().min(total as usize - out.len());
            out.extend_from_slice(&bytes[..take]);
            if out.len() == total as usize {
                return Ok(out);
            }
            next = self.u32_at(page, 16).ok_or("truncated overflow page")?;
        }
        Err(format!("overflow chain ended after {} of {total} bytes", out.len()))
    }
}
