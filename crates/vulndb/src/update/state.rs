//! What the last successful update remembered of each feed: the validators for
//! conditional requests and what the cached copy is.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

/// One feed's remembered download.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeedState {
    pub url: String,
    pub path: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub etag: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_modified: Option<String>,
    pub sha256: String,
    pub size: u64,
    /// When it was downloaded, seconds since the Unix epoch.
    pub fetched_at: i64,
}

/// The state file kept in the feed cache directory beside the database.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct State {
    pub(crate) feeds: BTreeMap<String, FeedState>,
}

/// The state file is small; a larger one is not ours.
const MAX_STATE_BYTES: u64 = 4 << 20;

impl State {
    /// Reads the state file; a missing, oversized or unreadable one counts as empty,
    /// which only costs full downloads.
    pub(crate) fn load(path: &Path) -> State {
        let Ok(meta) = std::fs::metadata(path) else {
            return State::default();
        };
        if meta.len() > MAX_STATE_BYTES {
            tracing::warn!("ignoring {}: too large for a feed state file", path.display());
            return State::default();
        }
        match std::fs::read(path).map(|b| serde_json::from_slice(&b)) {
            Ok(Ok(state)) => state,
            Ok(Err(e)) => {
                tracing::warn!("ignoring {}: {e}", path.display());
                State::default()
            }
            Err(_) => State::default(),
        }
    }

    pub(crate) fn save(&self, path: &Path) -> std::io::Result<()> {
        let bytes = serde_json::to_vec_pretty(self).map_err(std::io::Error::other)?;
        std::fs::write(path, bytes)
    }
}
