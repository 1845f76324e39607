//! A reader of rpm's own "ndb" package database, `Packages.db` (SUSE since 15 SP3 and
//! openSUSE). All numbers are little-endian.
//!
//! The file starts with slot pages of 4096 bytes. The first 32 bytes are the file header:
//! magic `RpmP`, version 0, generation, number of slot pages, next package index. The rest
//! of the slot pages are 16-byte slots: magic `Slot`, package index, block offset, block
//! count, where a block is 16 bytes and offset 0 marks a free slot. A slot's blocks hold a
//! blob: a 16-byte head (magic `BlbS`, package index, timestamp, length), the header blob,
//! zero padding, and a 12-byte tail (adler32 of everything before it, length, magic `BlbE`).

use super::Blob;

const FILE_MAGIC: &[u8; 4] = b"RpmP";
const SLOT_MAGIC: &[u8; 4] = b"Slot";
const BLOB_HEAD_MAGIC: &[u8; 4] = b"BlbS";
const BLOB_TAIL_MAGIC: &[u8; 4] = b"BlbE";
const PAGE: usize = 4096;
const SLOT: usize = 16;
const BLOCK: usize = 16;
const FILE_HEADER: usize = 32;
const BLOB_HEAD: usize = 16;
const BLOB_TAIL: usize = 12;

/// Reads every (package index, header blob) pair. Returns what it could read and what it
/// could not; a blob whose checksum or framing is wrong is reported and skipped.
pub fn read(db: &[u8]) -> (Vec<Blob>, Vec<String>) {
    let mut problems = Vec::new();
    if db.get(..4) != Some(&FILE_MAGIC[..]) {
        return (Vec::new(), vec!["not an rpm ndb database".into()]);
    }
    let version = le32(db, 4).unwrap_or(u32::MAX);
    if version != 0 {
        return (Vec::new(), vec![format!("unsupported ndb version {version}")]);
    }
    let Some(slot_pages) = le32(db, 12) else {
        return (Vec::new(), vec!["truncated file header".into()]);
    };
    let slots_end = (slot_pages as usize).checked_mul(PAGE).filter(|&e| e <= db.len() && e > 0);
    let Some(slots_end) = slots_end else {
        return (Vec::new(), vec![format!("{slot_pages} slot pages do not fit in the file")]);
    };
    let mut blobs = Vec::new();
    for (i, slot) in db[FILE_HEADER..slots_end].chunks_exact(SLOT).enumerate() {
        if &slot[..4] != SLOT_MAGIC {
            problems.push(format!("slot {i} has no slot magic"));
            continue;
        }
        let (Some(index), Some(offset), Some(count)) = (le32(slot, 4), le32(slot, 8), le32(slot, 12)) else {
            continue;
        };
        if offset == 0 {
            continue;
        }
        match read_blob(db, index, offset, count, slots_end) {
            Ok(data) => blobs.push(Blob { id: u64::from(index), data }),
            Err(e) => problems.push(format!("package {index}: {e}")),
        }
    }
    (blobs, problems)
}

fn read_blob(db: &[u8], index: u32, offset: u32, count: u32, slots_end: usize) -> Result<Vec<u8>, String> {
    let start = (offset as usize).checked_mul(BLOCK).ok_or("block offset overflows")?;
    let len = (count as usize).checked_mul(BLOCK).ok_or("block count overflows")?;
    if start < slots_end {
        return Err("blob starts inside the slot pages".into());
    }
    let blocks =
        start.checked_add(len).and_then(|end| db.get(start..end)).ok_or("blob runs past the end of the file")?;
    if blocks.len() < BLOB_HEAD + BLOB_TAIL {
        return Err("blob is too short".into());
    }
    if &blocks[..4] != BLOB_HEAD_MAGIC {
        return Err("blob has no head magic".into());
    }
    if le32(blocks, 4) != Some(index) {
        return Err("blob belongs to another package".into());
    }
    let length = le32(blocks, 12).ok_or("truncated blob head")? as usize;
    let framed = BLOB_HEAD.checked_add(length).and_then(|n| n.checked_add(BLOB_TAIL));
    if framed.map(|n| n.div_ceil(BLOCK)) != Some(count as usize) {
        return Err(format!("blob length {length} does not match its {count} blocks"));
    }
    let tail_at = blocks.len() - BLOB_TAIL;
    let tail = &blocks[tail_at..];
    if &tail[8..12] != BLOB_TAIL_MAGIC || le32(tail, 4).map(|n| n as usize) != Some(length) {
        return Err("blob tail does not match its head".into());
    }
    if le32(tail, 0) != Some(adler32(&blocks[..tail_at])) {
        return Err("blob checksum mismatch".into());
    }
    blocks.get(BLOB_HEAD..BLOB_HEAD + length).map(<[u8]>::to_vec).ok_or_else(|| "blob length is too large".into())
}

/// Adler-32 (RFC 1950), the checksum of ndb blobs.
fn adler32(data: &[u8]) -> u32 {
    const MOD: u32 = 65521;
    let (mut a, mut b) = (1u32, 0u32);
    // 5552 bytes is the most that can be summed before the u32 sums could overflow.
    for chunk in data.chunks(5552) {
        for &byte in chunk {
            a += u32::from(byte);
            b += a;
        }
        a %= MOD;
        b %= MOD;
    }
    (b << 16) | a
}

fn le32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at.checked_add(4)?)?.try_into().ok()?))
}

#[cfg(test)]
mod tests {
    use super::adler32;

    #[test]
    fn adler32_matches_rfc_example() {
        assert_eq!(adler32(b"Wikipedia"), 0x11E6_0398);
        assert_eq!(adler32(b""), 1);
    }
}
