//! Downloading one feed into the staging directory: conditional request, size limit,
//! completeness and checksum checks.

use std::fs::File;
use std::io::{Read, Write};
use std::path::Path;

use reqwest::StatusCode;
use reqwest::blocking::Client;
use reqwest::header::{CONTENT_LENGTH, ETAG, IF_MODIFIED_SINCE, IF_NONE_MATCH, LAST_MODIFIED};
use sha2::{Digest, Sha256};

use super::config::{Checksum, FeedSpec};
use super::state::FeedState;

/// A published checksum file is a line or two; anything larger is not one.
const MAX_CHECKSUM_BYTES: u64 = 64 * 1024;

/// What happened to one feed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Fetched {
    /// A new copy was downloaded.
    Downloaded(FeedState),
    /// The server said the cached copy is current (304); it was linked into staging.
    NotModified(FeedState),
}

/// An error with its causes, which reqwest keeps in the source chain ("connection
/// refused", "unexpected EOF", ...).
pub(crate) fn describe(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut cur = e.source();
    while let Some(s) = cur {
        let text = s.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        cur = s.source();
    }
    out
}

fn header(resp: &reqwest::blocking::Response, name: reqwest::header::HeaderName) -> Option<String> {
    resp.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_owned)
}

/// Downloads `feed` into `staging/<feed.path>`, or links the cached copy there when the
/// server answers 304 to the validators remembered in `prev`.
pub(crate) fn fetch(
    client: &Client,
    feed: &FeedSpec,
    prev: Option<&FeedState>,
    cache_dir: &Path,
    staging: &Path,
) -> Result<Fetched, String> {
    let dest = staging.join(&feed.path);
    if let Some(parent) = dest.parent() {
        std::fs::create_dir_all(parent).map_err(|e| format!("creating {}: {e}", parent.display()))?;
    }
    // A cached copy is usable for a conditional request only if it is the same URL and
    // still the size that was recorded.
    let cached = cache_dir.join(&feed.path);
    let usable = prev.filter(|p| {
        p.url == feed.url && p.path == feed.path && std::fs::metadata(&cached).is_ok_and(|m| m.len() == p.size)
    });

    let mut req = client.get(&feed.url);
    if let Some(p) = usable {
        if let Some(etag) = &p.etag {
            req = req.header(IF_NONE_MATCH, etag);
        }
        if let Some(lm) = &p.last_modified {
            req = req.header(IF_MODIFIED_SINCE, lm);
        }
    }
    let mut resp = req.send().map_err(|e| describe(&e))?;
    let status = resp.status();
    if status == StatusCode::NOT_MODIFIED {
        let Some(p) = usable else {
            return Err("server answered 304 Not Modified to an unconditional request".into());
        };
        link_or_copy(&cached, &dest)?;
        return Ok(Fetched::NotModified(p.clone()));
    }
    if !status.is_success() {
        return Err(format!("HTTP {status}"));
    }
    let declared = header(&resp, CONTENT_LENGTH).and_then(|v| v.parse::<u64>().ok());
    if let Some(len) = declared
        && len > feed.max_bytes
    {
        return Err(format!("{len} bytes announced, over the {}-byte limit of this feed", feed.max_bytes));
    }
    let etag = header(&resp, ETAG);
    let last_modified = header(&resp, LAST_MODIFIED);
    let expected = match &feed.checksum {
        None => None,
        Some(Checksum::Sha256(hex)) => {
            Some(parse_sha256(hex).ok_or_else(|| format!("configured sha256 `{hex}` is not 64 hex digits"))?)
        }
        Some(Checksum::Sha256Url(url)) => Some(fetch_checksum(client, url)?),
    };

    let part = dest.with_file_name(format!(
        "{}.part",
        dest.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
    ));
    let result = stream_to(&mut resp, &part, feed.max_bytes);
    let (size, digest) = match result {
        Ok(v) => v,
        Err(e) => {
            let _ = std::fs::remove_file(&part);
            return Err(e);
        }
    };
    let check = || -> Result<(), String> {
        if let Some(len) = declared
            && len != size
        {
            return Err(format!("connection closed after {size} of {len} bytes"));
        }
        if let Some(want) = &expected
            && *want != digest
        {
            return Err(format!("sha256 mismatch: published {want}, downloaded {digest}"));
        }
        std::fs::rename(&part, &dest).map_err(|e| format!("renaming into {}: {e}", dest.display()))
    };
    if let Err(e) = check() {
        let _ = std::fs::remove_file(&part);
        return Err(e);
    }
    Ok(Fetched::Downloaded(FeedState {
        url: feed.url.clone(),
        path: feed.path.clone(),
        etag,
        last_modified,
        sha256: digest,
        size,
        fetched_at: crate::db::now_unix(),
    }))
}

/// Copies the body into `path`, hashing it and stopping past `max` bytes.
fn stream_to(body: &mut impl Read, path: &Path, max: u64) -> Result<(u64, String), String> {
    let mut file = File::create(path).map_err(|e| format!("creating {}: {e}", path.display()))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 256 * 1024];
    let mut total: u64 = 0;
    loop {
        let n = match body.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(format!("download interrupted after {total} bytes: {}", describe(&e))),
        };
        total = total.saturating_add(n as u64);
        if total > max {
            return Err(format!("larger than the {max}-byte limit of this feed"));
        }
        let chunk = buf.get(..n).unwrap_or(&[]);
        hasher.update(chunk);
        file.write_all(chunk).map_err(|e| format!("writing {}: {e}", path.display()))?;
    }
    file.sync_all().map_err(|e| format!("writing {}: {e}", path.display()))?;
    Ok((total, hex::encode(hasher.finalize())))
}

/// A lowercase SHA-256 hex digest, if `s` is one (any case).
fn parse_sha256(s: &str) -> Option<String> {
    let s = s.trim();
    (s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit())).then(|| s.to_ascii_lowercase())
}

/// Reads a published checksum: the first word of the file, as `sha256sum` writes it.
fn fetch_checksum(client: &Client, url: &str) -> Result<String, String> {
    let resp = client.get(url).send().map_err(|e| format!("checksum {url}: {}", describe(&e)))?;
    if !resp.status().is_success() {
        return Err(format!("checksum {url}: HTTP {}", resp.status()));
    }
    let mut text = String::new();
    resp.take(MAX_CHECKSUM_BYTES).read_to_string(&mut text).map_err(|e| format!("checksum {url}: {}", describe(&e)))?;
    let first = text.split_whitespace().next().unwrap_or("");
    parse_sha256(first).ok_or_else(|| format!("checksum {url}: does not start with a SHA-256 hex digest"))
}

/// Puts the cached copy into staging without copying its bytes where the filesystem
/// allows (a hard link), so that a not-modified feed costs neither time nor disk space.
fn link_or_copy(from: &Path, to: &Path) -> Result<(), String> {
    let _ = std::fs::remove_file(to);
    if std::fs::hard_link(from, to).is_ok() {
        return Ok(());
    }
    std::fs::copy(from, to)
        .map(|_| ())
        .map_err(|e| format!("copying cached {} to {}: {e}", from.display(), to.display()))
}
