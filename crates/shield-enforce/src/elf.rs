//! The ELF program interpreter (`PT_INTERP`) of an executable: the dynamic loader that the
//! kernel opens for exec right after the program itself.

use std::io::{self, Read, Seek, SeekFrom};
use std::path::PathBuf;

const PT_INTERP: u32 = 3;
/// Longest interpreter path we accept (`PATH_MAX`).
const MAX_INTERP: u64 = 4096;
/// Most program headers we read.
const MAX_PHNUM: u64 = 512;

/// The `PT_INTERP` path of an ELF file, `None` for a static or non-ELF file (a script, for
/// example). Malformed files give `None` or an error, never a panic.
pub fn interpreter(file: &mut (impl Read + Seek)) -> io::Result<Option<PathBuf>> {
    let mut header = [0u8; 64];
    let n = read_up_to(file, &mut header)?;
    if n < 52 || header[..4] != *b"\x7fELF" {
        return Ok(None);
    }
    let class64 = match header[4] {
        1 => false,
        2 => true,
        _ => return Ok(None),
    };
    let little = match header[5] {
        1 => true,
        2 => false,
        _ => return Ok(None),
    };
    if class64 && n < 64 {
        return Ok(None);
    }
    let u16_at = |b: &[u8], o: usize| {
        let v = [b[o], b[o + 1]];
        u64::from(if little { u16::from_le_bytes(v) } else { u16::from_be_bytes(v) })
    };
    let u32_at = |b: &[u8], o: usize| {
        let v = [b[o], b[o + 1], b[o + 2], b[o + 3]];
        u64::from(if little { u32::from_le_bytes(v) } else { u32::from_be_bytes(v) })
    };
    let u64_at = |b: &[u8], o: usize| {
        let mut v = [0u8; 8];
        v.copy_from_slice(&b[o..o + 8]);
        if little { u64::from_le_bytes(v) } else { u64::from_be_bytes(v) }
    };
    let (phoff, phentsize, phnum) = if class64 {
        (u64_at(&header, 32), u16_at(&header, 54), u16_at(&header, 56))
    } else {
        (u32_at(&header, 28), u16_at(&header, 42), u16_at(&header, 44))
    };
    let min_entry = if class64 { 56 } else { 32 };
    if phentsize < min_entry || phnum > MAX_PHNUM {
        return Ok(None);
    }
    let mut entry = vec![0u8; phentsize as usize];
    for index in 0..phnum {
        let Some(offset) = index.checked_mul(phentsize).and_then(|o| o.checked_add(phoff)) else {
            return Ok(None);
        };
        file.seek(SeekFrom::Start(offset))?;
        if read_up_to(file, &mut entry)? < entry.len() {
            return Ok(None);
        }
        if u32_at(&entry, 0) != u64::from(PT_INTERP) {
            continue;
        }
        let (offset, size) =
            if class64 { (u64_at(&entry, 8), u64_at(&entry, 32)) } else { (u32_at(&entry, 4), u32_at(&entry, 16)) };
        if size == 0 || size > MAX_INTERP {
            return Ok(None);
        }
        let mut path = vec![0u8; size as usize];
        file.seek(SeekFrom::Start(offset))?;
        let n = read_up_to(file, &mut path)?;
        path.truncate(n);
        if let Some(nul) = path.iter().position(|b| *b == 0) {
            path.truncate(nul);
        }
        if path.is_empty() {
            return Ok(None);
        }
        use std::os::unix::ffi::OsStringExt;
        return Ok(Some(PathBuf::from(std::ffi::OsString::from_vec(path))));
    }
    Ok(None)
}

fn read_up_to(file: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match file.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    #[test]
    fn finds_the_interpreter_of_a_dynamic_executable() {
        let mut file = std::fs::File::open("/bin/sh").unwrap();
        let interp = interpreter(&mut file).unwrap().expect("/bin/sh is dynamic");
        assert!(interp.to_string_lossy().contains("ld-linux"), "{interp:?}");
    }

    #[test]
    fn scripts_and_garbage_have_none() {
        assert_eq!(interpreter(&mut Cursor::new(b"#!/bin/sh\necho hi\n".to_vec())).unwrap(), None);
        assert_eq!(interpreter(&mut Cursor::new(b"\x7fELF\x02\x01".to_vec())).unwrap(), None);
    }

    proptest::proptest! {
        #[test]
        fn never_panics(mut bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..512)) {
            if bytes.len() > 6 {
                bytes[..4].copy_from_slice(b"\x7fELF");
            }
            let _ = interpreter(&mut Cursor::new(bytes));
        }
    }
}
