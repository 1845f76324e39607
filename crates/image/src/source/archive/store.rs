//! Where the members of an archive-like source live: a tar file read in place through an
//! index of its members, or a directory. Nothing is ever extracted; a layer is read as a
//! byte range of the tar file.

use std::cell::Cell;
use std::collections::HashMap;
use std::fs::File;
use std::io::{self, BufReader, Read, Seek, SeekFrom, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use crate::layer::{Counting, HeaderBudget, Metered};
use crate::path::{join_in_root, parent};
use crate::{Compression, Error, Limits, sniff};

/// Most members an outer archive may list. `docker save` of many images together stays far
/// below; the cap bounds the memory of the index.
const MAX_MEMBERS: usize = 500_000;

/// Symlinks and hard links followed at most this many times to find a member.
const MAX_LINK_HOPS: usize = 16;

/// Members of a source, by archive-relative name (`manifest.json`, `blobs/sha256/…`).
pub(crate) enum Store {
    Tar(TarIndex),
    Dir(PathBuf),
}

/// The members of a tar file and where their bytes are.
pub(crate) struct TarIndex {
    path: PathBuf,
    members: HashMap<String, Member>,
}

enum Member {
    File {
        offset: u64,
        size: u64,
    },
    /// A symlink or hard link, with its target as a member name.
    Link(String),
}

/// A member's key: the lexically normalised name without the leading `/`.
pub(crate) fn member_key(name: &str) -> String {
    join_in_root("/", name).trim_start_matches('/').to_owned()
}

impl Store {
    /// A directory as it is, or a tar file (decompressed first into `scratch` when it is
    /// gzip- or zstd-compressed).
    pub(crate) fn open(path: &Path, scratch: &mut Option<tempfile::TempDir>) -> Result<Store, Error> {
        let meta = std::fs::metadata(path).map_err(|e| not_found_or_io(path, e))?;
        if meta.is_dir() {
            return Ok(Store::Dir(path.to_owned()));
        }
        let tar_path = decompress_if_needed(path, scratch)?;
        Ok(Store::Tar(TarIndex::build(&tar_path)?))
    }

    /// Whether this store is a directory.
    pub(crate) fn is_dir(&self) -> bool {
        matches!(self, Store::Dir(_))
    }

    /// The stored size of a member, or `None` when it is absent.
    pub(crate) fn size(&self, name: &str) -> Result<Option<u64>, Error> {
        match self {
            Store::Tar(index) => Ok(index.locate(name)?.map(|(_, size)| size)),
            Store::Dir(root) => {
                let path = root.join(member_key(name));
                match std::fs::metadata(&path) {
                    Ok(m) if m.is_file() => Ok(Some(m.len())),
                    Ok(_) => Ok(None),
                    Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
                    Err(e) => Err(Error::io(format!("reading {}", path.display()), e)),
                }
            }
        }
    }

    /// Opens a member for one sequential read.
    pub(crate) fn open_member(&self, name: &str) -> Result<Box<dyn Read + Send>, Error> {
        match self {
            Store::Tar(index) => {
                let (offset, size) =
                    index.locate(name)?.ok_or_else(|| Error::NotFound(format!("archive member {name}")))?;
                let mut file =
                    File::open(&index.path).map_err(|e| Error::io(format!("opening {}", index.path.display()), e))?;
                file.seek(SeekFrom::Start(offset))
                    .map_err(|e| Error::io(format!("seeking in {}", index.path.display()), e))?;
                Ok(Box::new(file.take(size)))
            }
            Store::Dir(root) => {
                let path = root.join(member_key(name));
                let file = File::open(&path).map_err(|e| not_found_or_io(&path, e))?;
                Ok(Box::new(file))
            }
        }
    }

    /// A layer member as a byte range of a local file, so that uncompressed layers can be
    /// read with seeks (see [`crate::apply_layer_range`]).
    pub(crate) fn layer_body(&self, name: &str) -> Result<crate::LayerBody<'static>, Error> {
        let (path, offset, len) = match self {
            Store::Tar(index) => {
                let (offset, size) =
                    index.locate(name)?.ok_or_else(|| Error::NotFound(format!("archive member {name}")))?;
                (index.path.clone(), offset, size)
            }
            Store::Dir(root) => {
                let path = root.join(member_key(name));
                let len = std::fs::metadata(&path).map_err(|e| not_found_or_io(&path, e))?.len();
                (path, 0, len)
            }
        };
        let file = File::open(&path).map_err(|e| not_found_or_io(&path, e))?;
        Ok(crate::LayerBody::Range { file: std::sync::Arc::new(file), offset, len })
    }

    /// Reads a small document (manifest, index, config), refusing one above `cap` bytes.
    /// Returns `None` when the member is absent.
    pub(crate) fn read_doc(&self, name: &str, cap: u64) -> Result<Option<Vec<u8>>, Error> {
        let Some(size) = self.size(name)? else {
            return Ok(None);
        };
        if size > cap {
            return Err(Error::Format(format!("{name} is {size} bytes, more than the {cap}-byte limit for documents")));
        }
        let mut bytes = Vec::new();
        self.open_member(name)?
            .take(cap)
            .read_to_end(&mut bytes)
            .map_err(|e| Error::io(format!("reading {name}"), e))?;
        if bytes.len() as u64 != size {
            return Err(Error::Format(format!("{name} is truncated: {} of {size} bytes", bytes.len())));
        }
        Ok(Some(bytes))
    }
}

impl TarIndex {
    /// Lists the members of a tar file without reading their contents.
    fn build(path: &Path) -> Result<TarIndex, Error> {
        let file = File::open(path).map_err(|e| not_found_or_io(path, e))?;
        let file_len = file.metadata().map_err(|e| Error::io(format!("reading {}", path.display()), e))?.len();
        let context = || format!("reading the member list of {}", path.display());
        // The tar reader holds a member's long name, long link and PAX header in memory:
        // bounded as in layers (see `layer::walk_tar`).
        let limit = Limits::default().max_member_header_bytes;
        let budget = HeaderBudget::new(limit);
        let mut archive = tar::Archive::new(Metered::new(BufReader::new(file), &budget));
        let mut entries = archive.entries_with_seek().map_err(|e| Error::io(context(), e))?;
        let mut members = HashMap::new();
        while let Some(item) = budget.measure(|| entries.next()) {
            let entry = item.map_err(|e| {
                if budget.exceeded() {
                    Error::Format(format!(
                        "{} has a member whose headers (PAX extended header, GNU long name or long link) exceed {limit} bytes",
                        path.display()
                    ))
                } else {
                    Error::io(context(), e)
                }
            })?;
            if members.len() >= MAX_MEMBERS {
                return Err(Error::Format(format!(
                    "{} has more than {MAX_MEMBERS} members; refusing it",
                    path.display()
                )));
            }
            let key = member_key(&String::from_utf8_lossy(&entry.path_bytes()));
            let link = || entry.link_name_bytes().map(|l| String::from_utf8_lossy(&l).into_owned());
            let member = match entry.header().entry_type() {
                tar::EntryType::Regular | tar::EntryType::Continuous => {
                    let offset = entry.raw_file_position();
                    let size = entry.size();
                    if offset.checked_add(size).is_none_or(|end| end > file_len) {
                        return Err(Error::Format(format!(
                            "{} is truncated: member {key} ({size} bytes at offset {offset}) runs past the end of the file ({file_len} bytes)",
                            path.display()
                        )));
                    }
                    Member::File { offset, size }
                }
                tar::EntryType::Symlink => match link() {
                    Some(target) => Member::Link(member_key(&join_in_root(parent(&format!("/{key}")), &target))),
                    None => continue,
                },
                tar::EntryType::Link => match link() {
                    Some(target) => Member::Link(member_key(&target)),
                    None => continue,
                },
                // Directories and extension headers name no content.
                _ => continue,
            };
            // As when extracting, a later member of the same name wins.
            members.insert(key, member);
        }
        Ok(TarIndex { path: path.to_owned(), members })
    }

    /// Offset and size of a member, following links inside the archive.
    fn locate(&self, name: &str) -> Result<Option<(u64, u64)>, Error> {
        let mut key = member_key(name);
        for _ in 0..=MAX_LINK_HOPS {
            match self.members.get(&key) {
                None => return Ok(None),
                Some(Member::File { offset, size }) => return Ok(Some((*offset, *size))),
                Some(Member::Link(target)) => key = target.clone(),
            }
        }
        Err(Error::Format(format!("archive member {name}: too many levels of links")))
    }
}

/// Returns the path of an uncompressed tar: `path` itself, or a decompressed copy in a
/// private temporary directory.
fn decompress_if_needed(path: &Path, scratch: &mut Option<tempfile::TempDir>) -> Result<PathBuf, Error> {
    let mut file = File::open(path).map_err(|e| not_found_or_io(path, e))?;
    let mut head = [0u8; 4];
    let mut filled = 0;
    while filled < head.len() {
        match file.read(&mut head[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(Error::io(format!("reading {}", path.display()), e)),
        }
    }
    let compression = sniff(head.get(..filled).unwrap_or_default());
    if compression == Compression::None {
        return Ok(path.to_owned());
    }
    file.seek(SeekFrom::Start(0)).map_err(|e| Error::io(format!("reading {}", path.display()), e))?;
    let dir = match scratch {
        Some(dir) => dir,
        None => scratch.insert(
            tempfile::Builder::new()
                .prefix("cguard-archive-")
                .permissions(std::fs::Permissions::from_mode(0o700))
                .tempdir()
                .map_err(|e| Error::io("creating a private temporary directory", e))?,
        ),
    };
    let out_path = dir.path().join("archive.tar");
    let out = File::create(&out_path).map_err(|e| Error::io(format!("creating {}", out_path.display()), e))?;
    decompress(path, file, compression, out, &Limits::default())?;
    Ok(out_path)
}

/// Decompresses `input` into `out`, stopping as soon as the output passes the layer size
/// limit or, past the ratio floor, the compression ratio limit: a bomb never fills the disk.
fn decompress(path: &Path, input: File, compression: Compression, mut out: File, limits: &Limits) -> Result<(), Error> {
    let failed = |e| Error::io(format!("decompressing {}", path.display()), e);
    let consumed = Rc::new(Cell::new(0u64));
    let counted = Counting { inner: BufReader::new(input), count: consumed.clone() };
    let mut decoder: Box<dyn Read> = match compression {
        Compression::Gzip => Box::new(flate2::bufread::MultiGzDecoder::new(counted)),
        _ => Box::new(zstd::stream::read::Decoder::with_buffer(counted).map_err(failed)?),
    };
    let mut buf = vec![0u8; 256 * 1024];
    let mut written = 0u64;
    loop {
        let n = match decoder.read(&mut buf) {
            Ok(0) => return Ok(()),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(failed(e)),
        };
        written = written.saturating_add(n as u64);
        if written > limits.max_layer_bytes {
            return Err(Error::Format(format!(
                "{} looks like a decompression bomb: it expands to more than {} bytes",
                path.display(),
                limits.max_layer_bytes
            )));
        }
        if limits.ratio_exceeded(written, consumed.get()) {
            return Err(Error::Format(format!(
                "{} looks like a decompression bomb: it expands more than {}-fold",
                path.display(),
                limits.max_compression_ratio
            )));
        }
        out.write_all(buf.get(..n).unwrap_or_default())
            .map_err(|e| Error::io(format!("writing the decompressed copy of {}", path.display()), e))?;
    }
}

/// A missing path is `NotFound`; any other failure keeps its I/O error.
pub(crate) fn not_found_or_io(path: &Path, e: io::Error) -> Error {
    if e.kind() == io::ErrorKind::NotFound {
        Error::NotFound(format!("{}: no such file or directory", path.display()))
    } else {
        Error::io(format!("opening {}", path.display()), e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compressed_bomb_stops_at_the_ratio_floor() {
        let dir = tempfile::tempdir().unwrap();
        let input = dir.path().join("bomb.gz");
        let mut enc = flate2::write::GzEncoder::new(File::create(&input).unwrap(), flate2::Compression::default());
        io::copy(&mut io::repeat(0).take(64 << 20), &mut enc).unwrap();
        enc.finish().unwrap();
        let output = dir.path().join("out.tar");
        let limits = Limits { ratio_floor_bytes: 1 << 20, ..Limits::default() };
        let err =
            decompress(&input, File::open(&input).unwrap(), Compression::Gzip, File::create(&output).unwrap(), &limits)
                .unwrap_err();
        assert!(err.to_string().contains("looks like a decompression bomb: it expands more than 250-fold"), "{err}");
        // Stopped right after the floor, far from the 64 MiB the blob holds.
        assert!(std::fs::metadata(&output).unwrap().len() <= 2 << 20);

        let small = Limits { max_layer_bytes: 1000, ..Limits::default() };
        let err =
            decompress(&input, File::open(&input).unwrap(), Compression::Gzip, File::create(&output).unwrap(), &small)
                .unwrap_err();
        assert!(err.to_string().contains("expands to more than 1000 bytes"), "{err}");
    }

    #[test]
    fn member_keys_are_normalised() {
        assert_eq!(member_key("./manifest.json"), "manifest.json");
        assert_eq!(member_key("/a//b/../c"), "a/c");
        assert_eq!(member_key("../../etc/passwd"), "etc/passwd");
    }
}
