//! Vulnerability feeds in their upstream formats, read into the normalised [`crate::model`].
//!
//! Each format has its own module with a `parse` function that takes the bytes of one file
//! and returns a [`Parsed`]: every record it could read plus a [`Problem`] for each thing it
//! skipped or repaired. Parsers never panic and never fail as a whole because one record is
//! bad. [`load_dir`] reads a directory laid out like the project's shared `vulndata/`
//! (see [`load_dir`] for the layout), merges records that different feeds publish about the
//! same identifier, and returns everything with one [`SourceInfo`] per feed.

pub mod alpine;
pub mod cve5;
pub mod cvss;
mod date;
pub mod debian;
pub mod dsa;
mod ids;
mod json;
mod load;
mod merge;
pub mod nvd;
pub mod osv;

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::model::{Affected, SourceInfo, Vulnerability};

pub use load::{MAX_FEED_FILE_BYTES, MAX_OSV_RECORD_BYTES, load_dir};
pub use merge::{Merger, TextRank};

/// Something a feed parser skipped or repaired. The rest of the feed is still read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    /// The feed, named as in [`SourceInfo::name`] (`debian-tracker`, `osv:PyPI`, ...).
    pub source: String,
    /// The file (and, inside an archive, the member) the problem is in.
    pub location: String,
    /// What was wrong and what the parser did about it.
    pub message: String,
}

/// What one parser read from one file.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Parsed {
    pub vulnerabilities: Vec<Vulnerability>,
    pub affected: Vec<Affected>,
    pub problems: Vec<Problem>,
    /// The newest timestamp the file itself carries (NVD `timestamp`, newest OSV
    /// `modified`, ...), as an RFC 3339 date, when it has one.
    pub updated: Option<String>,
    /// How good the descriptions in `vulnerabilities` are, for merging with other feeds.
    pub text_rank: TextRank,
}

impl Parsed {
    /// An empty result whose descriptions rank as `text_rank`.
    pub fn new(text_rank: TextRank) -> Self {
        Parsed { text_rank, ..Parsed::default() }
    }

    /// Records a problem found in `location` of feed `source`.
    pub(crate) fn problem(&mut self, source: &str, location: &str, message: impl Into<String>) {
        self.problems.push(Problem {
            source: source.to_string(),
            location: location.to_string(),
            message: message.into(),
        });
    }

    /// Keeps `date` as the feed's update time when it is newer than the one known so far.
    pub(crate) fn note_updated(&mut self, date: Option<&str>) {
        if let Some(date) = date
            && self.updated.as_deref().is_none_or(|known| known < date)
        {
            self.updated = Some(date.to_string());
        }
    }
}

/// Everything [`load_dir`] read from a feed directory, merged.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Feeds {
    /// One record per identifier, sorted by id.
    pub vulnerabilities: Vec<Vulnerability>,
    /// One record per (vulnerability, ecosystem, package), sorted by those three.
    pub affected: Vec<Affected>,
    /// One entry per feed read, in the order they were read.
    pub sources: Vec<SourceInfo>,
    /// What was skipped or repaired, in every feed.
    pub problems: Vec<Problem>,
}

/// Why a feed directory could not be read at all. Problems inside single files are not
/// errors: they are [`Problem`]s in [`Feeds::problems`].
#[derive(Debug, thiserror::Error)]
pub enum FeedError {
    /// The directory itself could not be listed.
    #[error("cannot read feed directory {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The directory holds none of the feed layouts `load_dir` knows.
    #[error(
        "{0} holds no known feed (expected debian/tracker.json, alpine/vX.Y/*.json, osv/<Ecosystem>/, cve/*.json or nvd/*.json)"
    )]
    NoFeeds(PathBuf),
}
