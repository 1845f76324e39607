//! Reading a whole feed directory.

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use super::merge::Merger;
use super::{FeedError, Feeds, Parsed, Problem, alpine, cve5, debian, dsa, nvd, osv};
use crate::model::SourceInfo;

/// The largest feed file read (the Debian tracker export is the largest, near 100 MiB).
pub const MAX_FEED_FILE_BYTES: u64 = 1 << 30;

/// The largest single OSV record read from a directory or an `all.zip`; real records are
/// a few kilobytes, the largest a few megabytes.
pub const MAX_OSV_RECORD_BYTES: u64 = 32 << 20;

/// Reads every feed in `dir` and merges them.
///
/// The layout (each part optional, at least one present):
///
/// ```text
/// debian/tracker.json              Debian Security Tracker export
/// debian/DSA/list, debian/DLA/list the tracker's advisory lists (also debian/advisories.tsv
///                                  in the same text format)
/// alpine/vX.Y/{main,community}.json Alpine secdb
/// osv/<Ecosystem>/*.json           OSV records, one per file
/// osv/<Ecosystem>/all.zip          OSV's per-ecosystem archive
/// cve/*.json                       CVE JSON 5 records
/// nvd/*.json                       NVD CVE API 2.0 responses
/// ```
///
/// A file that cannot be read or parsed is a [`Problem`]; everything else is still read.
/// Only a directory that cannot be listed, or that holds none of these feeds, is an error.
pub fn load_dir(dir: &Path) -> Result<Feeds, FeedError> {
    let io_error = |source| FeedError::Io { path: dir.to_path_buf(), source };
    if !std::fs::metadata(dir).map_err(io_error)?.is_dir() {
        return Err(io_error(std::io::Error::new(std::io::ErrorKind::NotADirectory, "not a directory")));
    }
    let mut loader = Loader::default();
    loader.debian(&dir.join("debian"));
    loader.alpine(&dir.join("alpine"));
    loader.osv(&dir.join("osv"));
    loader.records(&dir.join("cve"), cve5::SOURCE, cve5::parse);
    loader.records(&dir.join("nvd"), nvd::SOURCE, nvd::parse);
    if loader.sources.is_empty() {
        return Err(FeedError::NoFeeds(dir.to_path_buf()));
    }
    let (vulnerabilities, mut affected) = loader.merger.finish();
    if let Some(index) = loader.advisory_source {
        let annotated = dsa::apply(&loader.advisories, &mut affected);
        if let Some(source) = loader.sources.get_mut(index) {
            source.affected = annotated;
        }
    }
    Ok(Feeds { vulnerabilities, affected, sources: loader.sources, problems: loader.problems })
}

/// The state of one [`load_dir`] run.
#[derive(Default)]
struct Loader {
    merger: Merger,
    sources: Vec<SourceInfo>,
    problems: Vec<Problem>,
    advisories: Vec<dsa::Advisory>,
    /// The index in `sources` of the advisory lists, once read.
    advisory_source: Option<usize>,
}

impl Loader {
    /// Merges what a feed read and records its [`SourceInfo`].
    fn add(&mut self, name: String, location: &Path, mut parsed: Parsed) {
        self.problems.append(&mut parsed.problems);
        let updated = parsed.updated.take();
        let counts = self.merger.add(parsed);
        self.sources.push(SourceInfo {
            name,
            location: location.display().to_string(),
            updated,
            vulnerabilities: counts.vulnerabilities,
            affected: counts.affected,
        });
    }

    fn problem(&mut self, source: &str, location: &Path, message: String) {
        self.problems.push(Problem { source: source.to_string(), location: location.display().to_string(), message });
    }

    /// Reads a file of at most [`MAX_FEED_FILE_BYTES`], recording a problem on failure.
    fn read(&mut self, source: &str, path: &Path) -> Option<Vec<u8>> {
        match read_capped(path, MAX_FEED_FILE_BYTES) {
            Ok(data) => Some(data),
            Err(message) => {
                self.problem(source, path, message);
                None
            }
        }
    }

    fn debian(&mut self, dir: &Path) {
        let tracker = dir.join("tracker.json");
        if tracker.is_file()
            && let Some(data) = self.read(debian::SOURCE, &tracker)
        {
            let parsed = debian::parse(&data, &tracker.display().to_string());
            self.add(debian::SOURCE.to_string(), &tracker, parsed);
        }
        let lists = [dir.join("DSA").join("list"), dir.join("DLA").join("list"), dir.join("advisories.tsv")];
        let mut read_any = false;
        for list in lists.iter().filter(|p| p.is_file()) {
            let Some(data) = self.read(dsa::SOURCE, list) else { continue };
            let text = String::from_utf8_lossy(&data);
            let (mut advisories, mut problems) = dsa::parse(&text, &list.display().to_string());
            self.advisories.append(&mut advisories);
            self.problems.append(&mut problems);
            read_any = true;
        }
        if read_any {
            self.advisory_source = Some(self.sources.len());
            self.sources.push(SourceInfo {
                name: dsa::SOURCE.to_string(),
                location: dir.display().to_string(),
                updated: self.advisories.iter().filter_map(|a| a.date.as_ref()).max().map(|d| format!("{d}T00:00:00Z")),
                vulnerabilities: 0,
                affected: 0,
            });
        }
    }

    fn alpine(&mut self, dir: &Path) {
        for release_dir in sorted_entries(dir).into_iter().filter(|p| p.is_dir()) {
            for file in sorted_entries(&release_dir).into_iter().filter(|p| has_extension(p, "json")) {
                let Some(data) = self.read(alpine::SOURCE, &file) else { continue };
                let fallback = path_release(&release_dir, &file);
                let (parsed, release) = alpine::parse(&data, &file.display().to_string(), fallback.as_ref());
                let name = release.map(|r| r.source()).unwrap_or_else(|| alpine::SOURCE.to_string());
                self.add(name, &file, parsed);
            }
        }
    }

    fn osv(&mut self, dir: &Path) {
        for ecosystem_dir in sorted_entries(dir).into_iter().filter(|p| p.is_dir()) {
            let ecosystem = ecosystem_dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            let source = format!("{}:{ecosystem}", osv::SOURCE);
            let mut all = Parsed::new(super::TextRank::Advisory);
            for file in sorted_entries(&ecosystem_dir) {
                if has_extension(&file, "json") {
                    match read_capped(&file, MAX_OSV_RECORD_BYTES) {
                        Ok(data) => absorb(&mut all, osv::parse(&data, &file.display().to_string(), &source)),
                        Err(message) => all.problem(&source, &file.display().to_string(), message),
                    }
                } else if has_extension(&file, "zip") {
                    read_osv_zip(&mut all, &file, &source);
                }
            }
            self.add(source, &ecosystem_dir, all);
        }
    }

    /// Reads every `*.json` of `dir` with `parse` as one feed called `source`.
    fn records(&mut self, dir: &Path, source: &str, parse: fn(&[u8], &str) -> Parsed) {
        let files: Vec<PathBuf> = sorted_entries(dir).into_iter().filter(|p| has_extension(p, "json")).collect();
        if files.is_empty() {
            return;
        }
        let mut all = Parsed::new(super::TextRank::Authority);
        for file in files {
            match read_capped(&file, MAX_FEED_FILE_BYTES) {
                Ok(data) => absorb(&mut all, parse(&data, &file.display().to_string())),
                Err(message) => all.problem(source, &file.display().to_string(), message),
            }
        }
        self.add(source.to_string(), dir, all);
    }
}

/// Appends the records of `part` to `all`, keeping the newest update time.
fn absorb(all: &mut Parsed, mut part: Parsed) {
    all.vulnerabilities.append(&mut part.vulnerabilities);
    all.affected.append(&mut part.affected);
    all.problems.append(&mut part.problems);
    all.note_updated(part.updated.as_deref());
}

/// Reads every `*.json` member of an OSV `all.zip`, each bounded by
/// [`MAX_OSV_RECORD_BYTES`] whatever size the archive declares.
fn read_osv_zip(all: &mut Parsed, path: &Path, source: &str) {
    let location = path.display().to_string();
    let file = match File::open(path) {
        Ok(f) => f,
        Err(e) => return all.problem(source, &location, format!("cannot open: {e}")),
    };
    let mut archive = match zip::ZipArchive::new(std::io::BufReader::new(file)) {
        Ok(a) => a,
        Err(e) => return all.problem(source, &location, format!("not a readable zip archive: {e}")),
    };
    for index in 0..archive.len() {
        let mut member = match archive.by_index(index) {
            Ok(m) => m,
            Err(e) => {
                all.problem(source, &location, format!("member {index}: {e}"));
                continue;
            }
        };
        let name = member.name().to_string();
        if member.is_dir() || !name.ends_with(".json") {
            continue;
        }
        let member_location = format!("{location}!{name}");
        if member.size() > MAX_OSV_RECORD_BYTES {
            all.problem(source, &member_location, format!("declares {} bytes, over the limit; skipped", member.size()));
            continue;
        }
        let mut data = Vec::new();
        let read = (&mut member).take(MAX_OSV_RECORD_BYTES + 1).read_to_end(&mut data);
        match read {
            Ok(_) if data.len() as u64 > MAX_OSV_RECORD_BYTES => {
                all.problem(source, &member_location, "inflates past the size limit; skipped".to_string());
            }
            Ok(_) => absorb(all, osv::parse(&data, &member_location, source)),
            Err(e) => all.problem(source, &member_location, format!("cannot be read: {e}")),
        }
    }
}

/// Reads a file, refusing one larger than `cap` bytes (also if it grows while read).
fn read_capped(path: &Path, cap: u64) -> Result<Vec<u8>, String> {
    let file = File::open(path).map_err(|e| format!("cannot open: {e}"))?;
    let declared = file.metadata().map(|m| m.len()).unwrap_or(0);
    if declared > cap {
        return Err(format!("{declared} bytes, over the {cap}-byte limit; skipped"));
    }
    let mut data = Vec::with_capacity(usize::try_from(declared).unwrap_or(0));
    file.take(cap + 1).read_to_end(&mut data).map_err(|e| format!("cannot read: {e}"))?;
    if data.len() as u64 > cap {
        return Err(format!("over the {cap}-byte limit; skipped"));
    }
    Ok(data)
}

/// The entries of `dir` sorted by name; none when it is missing or unreadable.
fn sorted_entries(dir: &Path) -> Vec<PathBuf> {
    let mut entries: Vec<PathBuf> = match std::fs::read_dir(dir) {
        Ok(read) => read.filter_map(Result::ok).map(|e| e.path()).collect(),
        Err(_) => Vec::new(),
    };
    entries.sort();
    entries
}

fn has_extension(path: &Path, extension: &str) -> bool {
    path.is_file() && path.extension().is_some_and(|e| e.eq_ignore_ascii_case(extension))
}

/// The release and repository an Alpine file's path implies (`v3.10/main.json`).
fn path_release(release_dir: &Path, file: &Path) -> Option<alpine::Release> {
    let distroversion = release_dir.file_name()?.to_string_lossy().into_owned();
    let reponame = file.file_stem()?.to_string_lossy().into_owned();
    Some(alpine::Release { distroversion, reponame })
}
