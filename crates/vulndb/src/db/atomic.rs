//! Replacing a file atomically: write a temporary file beside the target, flush it to
//! disk, then rename it over the target. Readers see the old file or the new one, never a
//! mixture, and a failure at any step (disk full, crash) leaves the old file as it was.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use super::error::DbError;

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// A temporary file beside its eventual target; removed on drop unless committed.
#[derive(Debug)]
pub(crate) struct TempFile {
    path: PathBuf,
    target: PathBuf,
    file: Option<File>,
}

fn io_err(action: &'static str, path: &Path, source: std::io::Error) -> DbError {
    DbError::Io { action, path: path.to_path_buf(), source }
}

/// The directory a path lives in (`.` for a bare file name).
pub(crate) fn parent_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

impl TempFile {
    /// Creates a new, empty temporary file in the directory of `target`, so that the final
    /// rename stays on one filesystem (a rename across filesystems is not atomic).
    pub(crate) fn beside(target: &Path) -> Result<Self, DbError> {
        let name = target.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "db".into());
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let path = parent_dir(target).join(format!(".{}.tmp-{}-{n}", name.trim_start_matches('.'), std::process::id()));
        let file =
            OpenOptions::new().write(true).create_new(true).open(&path).map_err(|e| io_err("creating", &path, e))?;
        Ok(TempFile { path, target: target.to_path_buf(), file: Some(file) })
    }

    /// Where the temporary file is.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Writes `bytes` at the current position.
    pub(crate) fn write_all(&mut self, bytes: &[u8]) -> Result<(), DbError> {
        match self.file.as_mut() {
            Some(f) => f.write_all(bytes).map_err(|e| io_err("writing", &self.path, e)),
            None => Err(io_err("writing", &self.path, std::io::Error::other("file already closed"))),
        }
    }

    /// Flushes the content to disk and closes the file, so that it can be checked (opened
    /// again) before it is committed.
    pub(crate) fn finish(&mut self) -> Result<(), DbError> {
        if let Some(f) = self.file.take() {
            f.sync_all().map_err(|e| io_err("flushing", &self.path, e))?;
        }
        Ok(())
    }

    /// Flushes, renames over the target, and flushes the directory so that the rename
    /// itself survives a crash.
    pub(crate) fn commit(mut self) -> Result<(), DbError> {
        self.finish()?;
        std::fs::rename(&self.path, &self.target).map_err(|e| io_err("renaming into place", &self.target, e))?;
        // The temporary file is now the target: nothing left to remove on drop.
        self.path = PathBuf::new();
        sync_dir(&parent_dir(&self.target));
        Ok(())
    }
}

/// Lets archive writers and copies stream into the temporary file.
impl Write for TempFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self.file.as_mut() {
            Some(f) => f.write(buf),
            None => Err(std::io::Error::other("file already closed")),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match self.file.as_mut() {
            Some(f) => f.flush(),
            None => Ok(()),
        }
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if !self.path.as_os_str().is_empty() {
            self.file = None;
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// Flushes a directory's entries. Failure is not fatal: some filesystems refuse to open
/// or sync directories, and the data itself is already on disk.
pub(crate) fn sync_dir(dir: &Path) {
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
}

/// Writes `bytes` to `target` atomically.
pub(crate) fn write_atomic(target: &Path, bytes: &[u8]) -> Result<(), DbError> {
    let mut tmp = TempFile::beside(target)?;
    tmp.write_all(bytes)?;
    tmp.commit()
}
