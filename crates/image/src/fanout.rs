//! Several visitors over one layer stream: each file's content is read once and handed to
//! every visitor that wants it.

use std::io::{self, Read};

use crate::layer::LayerVisitor;
use crate::tree::FileEntry;

/// Feeds every visitor in `visitors` from one pass over the layers. When one visitor wants
/// a file, it reads the stream directly; when several do, the content is read into one
/// reused buffer and each gets a reader over it.
pub struct Fanout<'a> {
    visitors: Vec<&'a mut dyn LayerVisitor>,
    wanting: Vec<usize>,
    buffer: Vec<u8>,
}

impl std::fmt::Debug for Fanout<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fanout").field("visitors", &self.visitors.len()).finish_non_exhaustive()
    }
}

impl<'a> Fanout<'a> {
    pub fn new(visitors: Vec<&'a mut dyn LayerVisitor>) -> Self {
        Fanout { visitors, wanting: Vec::new(), buffer: Vec::new() }
    }
}

/// Buffers above this size are released after use rather than kept for the next file.
const KEEP_BUFFER_BYTES: usize = 8 << 20;

impl LayerVisitor for Fanout<'_> {
    fn wants(&mut self, path: &str, entry: &FileEntry) -> bool {
        self.wanting.clear();
        for (i, v) in self.visitors.iter_mut().enumerate() {
            if v.wants(path, entry) {
                self.wanting.push(i);
            }
        }
        !self.wanting.is_empty()
    }

    fn visit(&mut self, path: &str, entry: &FileEntry, content: &mut dyn Read) -> io::Result<()> {
        if let [only] = self.wanting[..] {
            return self.visitors[only].visit(path, entry, content);
        }
        self.buffer.clear();
        content.read_to_end(&mut self.buffer)?;
        for &i in &self.wanting {
            self.visitors[i].visit(path, entry, &mut self.buffer.as_slice())?;
        }
        if self.buffer.capacity() > KEEP_BUFFER_BYTES {
            self.buffer = Vec::new();
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tree::FileKind;

    /// Wants files whose path contains `needle`; records what it read.
    struct Picky {
        needle: &'static str,
        seen: Vec<(String, Vec<u8>)>,
    }

    impl LayerVisitor for Picky {
        fn wants(&mut self, path: &str, _: &FileEntry) -> bool {
            path.contains(self.needle)
        }
        fn visit(&mut self, path: &str, _: &FileEntry, content: &mut dyn Read) -> io::Result<()> {
            let mut data = Vec::new();
            content.read_to_end(&mut data)?;
            self.seen.push((path.to_owned(), data));
            Ok(())
        }
    }

    fn entry() -> FileEntry {
        FileEntry {
            kind: FileKind::Regular,
            size: 3,
            mode: 0o644,
            uid: 0,
            gid: 0,
            mtime: 0,
            link: None,
            layer: 0,
            ordinal: 0,
        }
    }

    #[test]
    fn each_visitor_gets_what_it_wants_once() {
        let mut a = Picky { needle: "etc", seen: vec![] };
        let mut b = Picky { needle: "passwd", seen: vec![] };
        {
            let mut fan = Fanout::new(vec![&mut a, &mut b]);
            for (path, data) in [("/etc/passwd", b"abc"), ("/etc/group", b"def"), ("/usr/x", b"ghi")] {
                if fan.wants(path, &entry()) {
                    fan.visit(path, &entry(), &mut &data[..]).unwrap();
                }
            }
        }
        assert_eq!(a.seen, [("/etc/passwd".to_owned(), b"abc".to_vec()), ("/etc/group".to_owned(), b"def".to_vec())]);
        assert_eq!(b.seen, [("/etc/passwd".to_owned(), b"abc".to_vec())]);
    }
}
