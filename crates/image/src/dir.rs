//! The `dir:` source: an unpacked root filesystem, read as one layer.
//!
//! The tree is walked through directory descriptors: every component is opened with
//! `openat` and `O_NOFOLLOW`, and a file's identity is checked again once it is open, so
//! a symlink swapped in while we read can never make us read outside the root. Symlinks
//! are recorded, never followed; devices, FIFOs and sockets are recorded (sockets
//! skipped) and never opened.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::ffi::{OsStr, OsString};
use std::fs::File;
use std::io::{self, Read};
use std::os::fd::OwnedFd;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};

use rustix::fs::{AtFlags, Dir, FileType, Mode, OFlags, Stat};
use rustix::io::Errno;

use crate::source::SourceKind;
use crate::tree::{FileEntry, FileKind, FileTree};
use crate::{Backend, Error, Image, ImageConfig, LayerBody, LayerRef, LayerStats, LayerVisitor, Limits};

/// Directories nested deeper than this are refused: no real root filesystem comes close,
/// and each level costs one `openat` per directory below it.
const MAX_DEPTH: usize = 256;

/// Opens an unpacked root filesystem as a one-layer image.
pub(crate) fn open(reference: &str, root: &Path) -> Result<Image, Error> {
    let root = std::fs::canonicalize(root).map_err(|e| {
        if e.kind() == io::ErrorKind::NotFound {
            Error::NotFound(format!("{reference}: no such directory {}", root.display()))
        } else {
            Error::io(format!("{reference}: opening {}", root.display()), e)
        }
    })?;
    let meta =
        std::fs::metadata(&root).map_err(|e| Error::io(format!("{reference}: reading {}", root.display()), e))?;
    if !meta.is_dir() {
        return Err(Error::Format(format!("{reference}: {} is not a directory", root.display())));
    }
    let config = ImageConfig {
        os: Some("linux".to_owned()),
        architecture: Some(host_architecture().to_owned()),
        ..ImageConfig::default()
    };
    let backend = DirBackend { root };
    Ok(Image::new(reference.to_owned(), SourceKind::Dir, config, vec![LayerRef::default()], Box::new(backend)))
}

struct DirBackend {
    root: PathBuf,
}

impl Backend for DirBackend {
    fn open_layer(&self, index: usize) -> Result<LayerBody<'_>, Error> {
        if index != 0 {
            return Err(Error::NotFound(format!("layer {index} of a directory image")));
        }
        Ok(LayerBody::Directory(self.root.clone()))
    }
}

/// The host architecture under its OCI name.
fn host_architecture() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        "powerpc64" if cfg!(target_endian = "little") => "ppc64le",
        "powerpc64" => "ppc64",
        other => other,
    }
}

/// Reads the tree below `root` as layer `layer`, in a deterministic order: each
/// directory's entries sorted by name, then its subdirectories depth first.
pub(crate) fn apply_dir(
    tree: &mut FileTree,
    layer: u32,
    root: &Path,
    limits: &Limits,
    visitor: &mut dyn LayerVisitor,
) -> Result<LayerStats, Error> {
    let root_fd = rustix::fs::open(root, OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC, Mode::empty())
        .map_err(|e| Error::io(format!("opening directory {}", root.display()), e.into()))?;
    let mut walk = Walk { root: root_fd, layer, limits, ordinal: 0, bytes: 0, first_copy: HashMap::new() };
    let mut pending = vec![Pending { path: "/".to_owned(), components: Vec::new() }];
    while let Some(dir) = pending.pop() {
        let subdirs = walk.read_dir(tree, &dir, visitor)?;
        // Reversed so that the stack pops them in name order.
        pending.extend(subdirs.into_iter().rev());
    }
    Ok(LayerStats { entries: walk.ordinal, stored_bytes: walk.bytes, tar_bytes: walk.bytes })
}

/// A directory still to read: its image path and its components below the root.
struct Pending {
    path: String,
    components: Vec<OsString>,
}

struct Walk<'a> {
    root: OwnedFd,
    layer: u32,
    limits: &'a Limits,
    ordinal: u64,
    bytes: u64,
    /// The first path seen for each (device, inode) of a regular file with several links.
    first_copy: HashMap<(u64, u64), (String, u64)>,
}

/// The fields of a `stat` result, widened to the types `FileEntry` uses.
struct Meta {
    file_type: FileType,
    mode: u32,
    uid: u64,
    gid: u64,
    size: u64,
    mtime: u64,
    dev: u64,
    ino: u64,
    nlink: u64,
}

// The field types of `struct stat` differ between architectures; the casts only widen.
#[allow(clippy::unnecessary_cast, clippy::useless_conversion)]
fn meta(stat: &Stat) -> Meta {
    Meta {
        file_type: FileType::from_raw_mode(stat.st_mode),
        mode: stat.st_mode as u32,
        uid: stat.st_uid as u64,
        gid: stat.st_gid as u64,
        size: u64::try_from(stat.st_size).unwrap_or(0),
        mtime: u64::try_from(stat.st_mtime).unwrap_or(0),
        dev: stat.st_dev as u64,
        ino: stat.st_ino as u64,
        nlink: stat.st_nlink as u64,
    }
}

impl Walk<'_> {
    /// Opens a directory below the root one component at a time, never following a
    /// symlink. `None` when it vanished or was replaced since it was listed.
    fn open_dir(&self, components: &[OsString]) -> Result<Option<OwnedFd>, Error> {
        let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
        let mut current = rustix::fs::openat(&self.root, ".", flags, Mode::empty())
            .map_err(|e| Error::io("opening the root directory", e.into()))?;
        for component in components {
            match rustix::fs::openat(&current, component.as_os_str(), flags, Mode::empty()) {
                Ok(fd) => current = fd,
                Err(e) if [Errno::NOENT, Errno::LOOP, Errno::NOTDIR].contains(&e) => {
                    tracing::warn!(component = ?component, "directory changed while being read; skipped");
                    return Ok(None);
                }
                Err(e) => return Err(Error::io(format!("opening directory {component:?}"), e.into())),
            }
        }
        Ok(Some(current))
    }

    /// Records every entry of one directory and returns its subdirectories, sorted.
    fn read_dir(
        &mut self,
        tree: &mut FileTree,
        dir: &Pending,
        visitor: &mut dyn LayerVisitor,
    ) -> Result<Vec<Pending>, Error> {
        let Some(fd) = self.open_dir(&dir.components)? else {
            return Ok(Vec::new());
        };
        let too_many = || Error::TooManyEntries { layer: self.layer, limit: self.limits.max_entries_per_layer };
        let listing = Dir::read_from(&fd).map_err(|e| Error::io(format!("listing {}", dir.path), e.into()))?;
        let mut names: Vec<Vec<u8>> = Vec::new();
        for item in listing {
            let entry = item.map_err(|e| Error::io(format!("listing {}", dir.path), e.into()))?;
            let name = entry.file_name().to_bytes();
            if name == b"." || name == b".." {
                continue;
            }
            if self.ordinal.saturating_add(names.len() as u64) >= self.limits.max_entries_per_layer {
                return Err(too_many());
            }
            names.push(name.to_vec());
        }
        names.sort();

        let mut subdirs = Vec::new();
        for name in names {
            let os_name = OsStr::from_bytes(&name);
            let path = if dir.path == "/" {
                format!("/{}", String::from_utf8_lossy(&name))
            } else {
                format!("{}/{}", dir.path, String::from_utf8_lossy(&name))
            };
            let stat = match rustix::fs::statat(&fd, os_name, AtFlags::SYMLINK_NOFOLLOW) {
                Ok(stat) => stat,
                // Removed since the listing: nothing to record.
                Err(Errno::NOENT) => continue,
                Err(e) => return Err(Error::io(format!("reading {path}"), e.into())),
            };
            let m = meta(&stat);
            let kind = match m.file_type {
                FileType::RegularFile => FileKind::Regular,
                FileType::Directory => FileKind::Directory,
                FileType::Symlink => FileKind::Symlink,
                FileType::CharacterDevice => FileKind::CharDevice,
                FileType::BlockDevice => FileKind::BlockDevice,
                FileType::Fifo => FileKind::Fifo,
                // Sockets have no place in an image; counted like the tar walker's skipped
                // members so that ordinals stay comparable.
                _ => {
                    self.ordinal += 1;
                    continue;
                }
            };
            let mut entry = FileEntry {
                kind,
                size: if kind == FileKind::Regular { m.size } else { 0 },
                mode: m.mode & 0o7777,
                uid: m.uid,
                gid: m.gid,
                mtime: m.mtime,
                link: None,
                layer: self.layer,
                ordinal: self.ordinal,
            };
            match kind {
                FileKind::Symlink => {
                    let target = rustix::fs::readlinkat(&fd, os_name, Vec::new())
                        .map_err(|e| Error::io(format!("reading link {path}"), e.into()))?;
                    entry.link = Some(String::from_utf8_lossy(target.as_bytes()).into_owned());
                }
                FileKind::Directory => {
                    if dir.components.len() >= MAX_DEPTH {
                        return Err(Error::HostileEntry { name: path, reason: "directories nested too deep" });
                    }
                    let mut components = dir.components.clone();
                    components.push(OsString::from_vec(name.clone()));
                    subdirs.push(Pending { path: path.clone(), components });
                }
                FileKind::Regular => {
                    if m.nlink > 1 {
                        match self.first_copy.entry((m.dev, m.ino)) {
                            Entry::Occupied(first) => {
                                let (first_path, first_size) = first.get();
                                entry.kind = FileKind::Hardlink;
                                entry.link = Some(first_path.clone());
                                entry.size = *first_size;
                            }
                            Entry::Vacant(slot) => {
                                slot.insert((path.clone(), m.size));
                            }
                        }
                    }
                    if entry.kind == FileKind::Regular {
                        self.bytes = self.bytes.saturating_add(m.size);
                        if visitor.wants(&path, &entry) {
                            self.visit(&fd, os_name, &path, &entry, &m, visitor)?;
                        }
                    }
                }
                _ => {}
            }
            tree.insert(path, entry);
            self.ordinal += 1;
        }
        Ok(subdirs)
    }

    /// Opens a regular file relative to its directory and hands its content to the
    /// visitor, unless it was replaced since it was listed.
    fn visit(
        &self,
        dir: &OwnedFd,
        name: &OsStr,
        path: &str,
        entry: &FileEntry,
        listed: &Meta,
        visitor: &mut dyn LayerVisitor,
    ) -> Result<(), Error> {
        // O_NONBLOCK: should a FIFO have been swapped in, opening it must not hang; the
        // identity check below then refuses it before any read.
        let flags = OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::NOCTTY | OFlags::CLOEXEC;
        let fd = match rustix::fs::openat(dir, name, flags, Mode::empty()) {
            Ok(fd) => fd,
            Err(e) => {
                tracing::warn!(path, error = %e, "cannot open file; its content is not read");
                return Ok(());
            }
        };
        let now = rustix::fs::fstat(&fd).map_err(|e| Error::io(format!("reading {path}"), e.into()))?;
        let now = meta(&now);
        if now.file_type != FileType::RegularFile || now.dev != listed.dev || now.ino != listed.ino {
            tracing::warn!(path, "file replaced while being read; its content is not read");
            return Ok(());
        }
        let mut content = Exact { inner: File::from(fd).take(entry.size), left: entry.size };
        visitor.visit(path, entry, &mut content).map_err(|e| Error::layer(self.layer, e))
    }
}

/// Yields exactly `left` bytes, failing if the file shrank since it was listed, as the
/// tar walker fails on a truncated member.
struct Exact<R> {
    inner: R,
    left: u64,
}

impl<R: Read> Read for Exact<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.left == 0 || buf.is_empty() {
            return Ok(0);
        }
        let n = self.inner.read(buf)?;
        if n == 0 {
            return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "file shrank while being read"));
        }
        self.left = self.left.saturating_sub(n as u64);
        Ok(n)
    }
}
