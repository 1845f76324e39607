//! Just enough of an executable's layout to find build metadata: named sections, and
//! the bytes at a virtual address. Parsing is done by the `object` crate, which checks
//! every offset it reads; this module adds checked arithmetic for the addresses that the
//! metadata itself contains.

use object::{Object, ObjectSection, ObjectSegment};

/// An executable (ELF, and whatever else `object` reads) opened for lookups.
pub struct Binary<'a> {
    file: object::File<'a>,
}

impl std::fmt::Debug for Binary<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Binary").finish_non_exhaustive()
    }
}

impl<'a> Binary<'a> {
    /// Opens `data`; `None` when it is no executable format `object` knows.
    pub fn parse(data: &'a [u8]) -> Option<Self> {
        object::File::parse(data).ok().map(|file| Binary { file })
    }

    /// The file bytes of the section called `name`, when it has any.
    pub fn section(&self, name: &str) -> Option<&'a [u8]> {
        let section = self.file.section_by_name(name)?;
        section.data().ok().filter(|d| !d.is_empty())
    }

    /// Up to `len` bytes at virtual address `addr`, read from whichever section or
    /// segment holds that address in the file. `None` when no file-backed data covers the
    /// whole range.
    pub fn read_at(&self, addr: u64, len: u64) -> Option<&'a [u8]> {
        let ranges = self
            .file
            .sections()
            .filter_map(|s| Some((s.address(), s.data().ok()?)))
            .chain(self.file.segments().filter_map(|s| Some((s.address(), s.data().ok()?))));
        for (start, data) in ranges {
            let Some(offset) = addr.checked_sub(start) else { continue };
            let (Ok(offset), Ok(len)) = (usize::try_from(offset), usize::try_from(len)) else { continue };
            if let Some(bytes) = offset.checked_add(len).and_then(|end| data.get(offset..end)) {
                return Some(bytes);
            }
        }
        None
    }

    /// Whether the file has section headers (beyond the null section).
    pub fn has_sections(&self) -> bool {
        self.file.sections().any(|s| s.size() > 0)
    }

    pub fn is_big_endian(&self) -> bool {
        !self.file.is_little_endian()
    }
}
