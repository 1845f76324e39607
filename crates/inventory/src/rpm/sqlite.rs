//! A read-only reader of the one thing rpm's SQLite database (`rpmdb.sqlite`) is needed
//! for: the rows of its `Packages(hnum INTEGER PRIMARY KEY, blob BLOB)` table.
//!
//! This reads the SQLite file format directly (<https://www.sqlite.org/fileformat.html>):
//! the 100-byte file header, the schema table on page 1, and the table b-tree of
//! `Packages` with its overflow chains. It is pure safe Rust over a byte slice, so it can
//! be fuzzed, and it links no C library: the project's server links SQLite through sqlx,
//! and `libsqlite3-sys` may appear only once in a build.
//!
//! Not handled: a write-ahead log (`rpmdb.sqlite-wal`) that was not checkpointed. rpm
//! checkpoints when it closes the database, so images normally carry an empty log.

use super::Blob;

const MAGIC: &[u8; 16] = b"SQLite format 3\0";
/// b-tree page types.
const INTERIOR_TABLE: u8 = 0x05;
const LEAF_TABLE: u8 = 0x0d;
/// The largest row payload accepted; rpm headers are a few hundred kilobytes at most.
const MAX_PAYLOAD: u64 = 256 << 20;

/// Reads every row of the `Packages` table: its rowid (rpm's header number) and blob.
/// Returns the rows it could read and what it could not.
pub fn read(db: &[u8]) -> (Vec<Blob>, Vec<String>) {
    let mut problems = Vec::new();
    let file = match File::open(db) {
        Ok(f) => f,
        Err(e) => return (Vec::new(), vec![e]),
    };
    let schema = file.table_rows(1, &mut problems);
    let root = schema.iter().find_map(|(_, payload)| {
        let cols = record(payload).ok()?;
        let text = |i: usize| match cols.get(i) {
            Some(Value::Text(r)) => std::str::from_utf8(payload.get(r.clone())?).ok(),
            _ => None,
        };
        let is_packages = text(0) == Some("table") && text(1).is_some_and(|n| n.eq_ignore_ascii_case("Packages"));
        match cols.get(3) {
            Some(Value::Int(root)) if is_packages => u32::try_from(*root).ok(),
            _ => None,
        }
    });
    let Some(root) = root else {
        problems.push("no Packages table in the schema".into());
        return (Vec::new(), problems);
    };
    let mut blobs = Vec::new();
    for (rowid, mut payload) in file.table_rows(root, &mut problems) {
        let range = match record(&payload) {
            Ok(cols) => match cols.get(1) {
                Some(Value::Blob(r)) => r.clone(),
                _ => {
                    problems.push(format!("Packages row {rowid}: second column is not a blob"));
                    continue;
                }
            },
            Err(e) => {
                problems.push(format!("Packages row {rowid}: {e}"));
                continue;
            }
        };
        // Keep the blob in the payload's allocation rather than copying it.
        payload.truncate(range.end);
        payload.drain(..range.start);
        blobs.push(Blob { id: rowid as u64, data: payload });
    }
    (blobs, problems)
}

/// The database file, checked and sized.
struct File<'a> {
    db: &'a [u8],
    page_size: usize,
    usable: usize,
    pages: u32,
}

impl<'a> File<'a> {
    fn open(db: &'a [u8]) -> Result<Self, String> {
        if db.len() < 100 || !db.starts_with(MAGIC) {
            return Err("not an SQLite database".into());
        }
        let page_size = match u16::from_be_bytes([db[16], db[17]]) {
            1 => 65536,
            n if n >= 512 && n.is_power_of_two() => usize::from(n),
            n => return Err(format!("invalid page size {n}")),
        };
        let reserved = usize::from(db[20]);
        let usable = page_size - reserved;
        if usable < 480 {
            return Err(format!("page size {page_size} with {reserved} reserved bytes leaves too little room"));
        }
        // A truncated file simply has fewer pages; reading a missing one is reported then.
        let in_file = u32::try_from(db.len() / page_size).unwrap_or(u32::MAX);
        let in_header = u32::from_be_bytes([db[28], db[29], db[30], db[31]]);
        let header_valid = db[24..28] == db[92..96] && in_header != 0;
        let pages = if header_valid { in_header.min(in_file) } else { in_file };
        Ok(File { db, page_size, usable, pages })
    }

    fn page(&self, number: u32) -> Result<&'a [u8], String> {
        if number == 0 || number > self.pages {
            return Err(format!("page {number} is outside the {} pages of the file", self.pages));
        }
        let start = (number as usize - 1) * self.page_size;
        self.db.get(start..start + self.page_size).ok_or_else(|| format!("page {number} is truncated"))
    }

    /// Every row of the table b-tree rooted at `root`, in rowid order, with its full
    /// payload. A page that cannot be read is reported and its subtree skipped.
    fn table_rows(&self, root: u32, problems: &mut Vec<String>) -> Vec<(i64, Vec<u8>)> {
        let mut rows = Vec::new();
        let mut seen = vec![false; self.pages as usize + 1];
        let mut stack = vec![root];
        while let Some(number) = stack.pop() {
            match seen.get_mut(number as usize) {
                Some(s) if !*s => *s = true,
                Some(_) => {
                    problems.push(format!("page {number} is referenced twice in the b-tree"));
                    continue;
                }
                None => {
                    problems.push(format!("page {number} is outside the {} pages of the file", self.pages));
                    continue;
                }
            }
            if let Err(e) = self.walk_page(number, &mut stack, &mut rows, problems) {
                problems.push(e);
            }
        }
        rows
    }

    fn walk_page(
        &self,
        number: u32,
        stack: &mut Vec<u32>,
        rows: &mut Vec<(i64, Vec<u8>)>,
        problems: &mut Vec<String>,
    ) -> Result<(), String> {
        let page = self.page(number)?;
        let at = if number == 1 { 100 } else { 0 };
        let short = || format!("page {number}: header is truncated");
        let kind = *page.get(at).ok_or_else(short)?;
        let cells = usize::from(be16(page, at + 3).ok_or_else(short)?);
        let pointers = match kind {
            LEAF_TABLE => at + 8,
            INTERIOR_TABLE => at + 12,
            other => return Err(format!("page {number}: type {other:#04x} is not a table b-tree page")),
        };
        let pointer = |i: usize| be16(page, pointers + 2 * i).map(usize::from);
        if kind == INTERIOR_TABLE {
            // Children are pushed right to left so that rows come out in rowid order.
            stack.push(be32(page, at + 8).ok_or_else(short)?);
            for i in (0..cells).rev() {
                let child = pointer(i).and_then(|off| be32(page, off));
                match child {
                    Some(c) => stack.push(c),
                    None => problems.push(format!("page {number}: cell {i} is out of bounds")),
                }
            }
            return Ok(());
        }
        for i in 0..cells {
            match pointer(i)
                .ok_or_else(|| "cell pointer out of bounds".to_owned())
                .and_then(|off| self.leaf_cell(page, off))
            {
                Ok(row) => rows.push(row),
                Err(e) => problems.push(format!("page {number}: cell {i}: {e}")),
            }
        }
        Ok(())
    }

    /// Reads one table leaf cell: payload size, rowid, the local part of the payload and
    /// the chain of overflow pages holding the rest.
    fn leaf_cell(&self, page: &[u8], offset: usize) -> Result<(i64, Vec<u8>), String> {
        let (size, n1) = varint(page.get(offset..).unwrap_or_default()).ok_or("truncated payload size")?;
        let (rowid, n2) = varint(page.get(offset + n1..).unwrap_or_default()).ok_or("truncated rowid")?;
        let limit = (u64::from(self.pages) * self.usable as u64).min(MAX_PAYLOAD);
        if size > limit {
            return Err(format!("payload of {size} bytes is larger than the file allows"));
        }
        let size = size as usize;
        let local = self.local_size(size);
        let start = offset + n1 + n2;
        let local_bytes = page.get(start..start + local).ok_or("payload runs past the page")?;
        let mut payload = Vec::with_capacity(size);
        payload.extend_from_slice(local_bytes);
        if local < size {
            let mut next = be32(page, start + local).ok_or("overflow page number runs past the page")?;
            // A page seen twice is a loop that would otherwise repeat its bytes until the
            // payload is full; the payload size bounds the chain's length.
            let mut visited = std::collections::HashSet::new();
            while payload.len() < size {
                if !visited.insert(next) {
                    return Err(format!("overflow chain loops back to page {next}"));
                }
                let overflow = self.page(next)?;
                let take = (size - payload.len()).min(self.usable - 4);
                payload.extend_from_slice(overflow.get(4..4 + take).ok_or("overflow page is truncated")?);
                next = be32(overflow, 0).ok_or("overflow page is truncated")?;
            }
        }
        Ok((rowid as i64, payload))
    }

    /// How much of a payload of `size` bytes a table leaf page stores itself.
    fn local_size(&self, size: usize) -> usize {
        let u = self.usable;
        let max_local = u - 35;
        if size <= max_local {
            return size;
        }
        let min_local = (u - 12) * 32 / 255 - 23;
        let k = min_local + (size - min_local) % (u - 4);
        if k <= max_local { k } else { min_local }
    }
}

/// One column of a record, as a range of the payload for texts and blobs.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Value {
    Null,
    Int(i64),
    Float,
    Text(std::ops::Range<usize>),
    Blob(std::ops::Range<usize>),
}

/// Decodes the header of a record and locates each column's value.
fn record(payload: &[u8]) -> Result<Vec<Value>, String> {
    let (header_size, mut pos) = varint(payload).ok_or("truncated record header")?;
    let header_size = usize::try_from(header_size)
        .ok()
        .filter(|&h| h <= payload.len())
        .ok_or("record header runs past the payload")?;
    let mut body = header_size;
    let mut out = Vec::new();
    while pos < header_size {
        let (serial, n) = varint(payload.get(pos..header_size).unwrap_or_default()).ok_or("truncated serial type")?;
        pos += n;
        let len = match serial {
            0 | 8 | 9 => 0,
            1..=4 => serial as usize,
            5 => 6,
            6 | 7 => 8,
            10 | 11 => return Err(format!("reserved serial type {serial}")),
            n if n % 2 == 0 => usize::try_from((n - 12) / 2).map_err(|_| "column too large")?,
            n => usize::try_from((n - 13) / 2).map_err(|_| "column too large")?,
        };
        let end = body.checked_add(len).filter(|&e| e <= payload.len()).ok_or("column runs past the payload")?;
        out.push(match serial {
            0 => Value::Null,
            1..=6 => Value::Int(int(&payload[body..end])),
            7 => Value::Float,
            8 => Value::Int(0),
            9 => Value::Int(1),
            n if n % 2 == 0 => Value::Blob(body..end),
            _ => Value::Text(body..end),
        });
        body = end;
    }
    Ok(out)
}

/// A big-endian two's complement integer.
fn int(bytes: &[u8]) -> i64 {
    let mut v: i64 = if bytes.first().is_some_and(|b| b & 0x80 != 0) { -1 } else { 0 };
    for &b in bytes {
        v = (v << 8) | i64::from(b);
    }
    v
}

/// SQLite's variable-length integer: up to nine bytes, seven bits each except the ninth.
fn varint(b: &[u8]) -> Option<(u64, usize)> {
    let mut v: u64 = 0;
    for i in 0..9 {
        let byte = *b.get(i)?;
        if i == 8 {
            return Some(((v << 8) | u64::from(byte), 9));
        }
        v = (v << 7) | u64::from(byte & 0x7f);
        if byte & 0x80 == 0 {
            return Some((v, i + 1));
        }
    }
    None
}

fn be16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes(b.get(at..at + 2)?.try_into().ok()?))
}

fn be32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints() {
        assert_eq!(varint(&[0x05]), Some((5, 1)));
        assert_eq!(varint(&[0x81, 0x00]), Some((128, 2)));
        assert_eq!(varint(&[0xff; 9]), Some((u64::MAX, 9)));
        assert_eq!(varint(&[0x81]), None);
    }

    #[test]
    fn records() {
        // A 4-byte header (its own size, then NULL, a 1-byte int, a 2-byte blob), then data.
        let payload = [4, 0, 1, 16, 0x2a, 0xde, 0xad];
        assert_eq!(record(&payload).unwrap(), vec![Value::Null, Value::Int(0x2a), Value::Blob(5..7)]);
        assert!(record(&[4, 0, 1, 18, 0x2a, 0xde]).is_err(), "a 3-byte blob past the end");
    }
}
