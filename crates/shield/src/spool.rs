//! The durable event spool of connected mode. Events are appended to segment files before
//! anything tries to deliver them, and leave the spool only once the server acknowledged
//! them, so that events survive a server outage and a restart (or a `kill -9`) of the
//! shield; the server de-duplicates by event id, so a batch sent again after a crash is
//! stored once.
//!
//! Layout of the spool directory (0700):
//! - `<first sequence number, 20 digits>.jsonl`: a segment, one event per line, appended and
//!   `fdatasync`ed by [`Spool::append`]; a new one starts after [`SEGMENT_BYTES`];
//! - `acked`: the sequence number of the first event not yet acknowledged, replaced
//!   atomically (write, fsync, rename) by [`Spool::ack`].
//!
//! At open, a line cut short by a crash is cut off, and a line that does not parse is
//! counted and skipped when read. The spool is bounded: past its limit the oldest segment
//! is dropped, acknowledged or not, and the events lost that way are counted.

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Seek, SeekFrom, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::Duration;

use api::shield::RuntimeEvent;

use crate::private_file::{sync_dir, write_private};

/// A segment is closed and a new one started once it holds this many bytes.
pub const SEGMENT_BYTES: u64 = 4 << 20;
/// The default bound of the spool's size.
pub const DEFAULT_LIMIT_BYTES: u64 = 256 << 20;
/// The longest line read back; longer ones are skipped as corrupt.
const MAX_LINE: usize = 1 << 20;
const ACKED: &str = "acked";

/// An event read back from the spool, with its sequence number and the size of its line.
#[derive(Debug, Clone, PartialEq)]
pub struct Spooled {
    pub seq: u64,
    pub bytes: usize,
    pub event: RuntimeEvent,
}

/// Counters of the spool.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SpoolStats {
    /// Events written and not yet acknowledged.
    pub pending: u64,
    /// Bytes of the segment files.
    pub bytes: u64,
    /// Events dropped unacknowledged because the spool was full (since it was opened).
    pub lost: u64,
    /// Lines that could not be read back (since it was opened).
    pub corrupt: u64,
}

#[derive(Debug)]
struct Segment {
    first: u64,
    count: u64,
    bytes: u64,
}

#[derive(Debug)]
struct State {
    segments: Vec<Segment>,
    /// Append handle of the last segment.
    file: Option<File>,
    /// Sequence number of the next appended event.
    next: u64,
    /// First sequence number not acknowledged.
    acked: u64,
    /// The reader's position: sequence number, and byte offset in the segment that starts
    /// at `read_segment` (the offset is 0 in any other segment).
    read_seq: u64,
    read_segment: u64,
    read_offset: u64,
    lost: u64,
    corrupt: u64,
}

/// The spool; shared between the writer (appends) and the delivery loop (reads, acks).
#[derive(Debug)]
pub struct Spool {
    dir: PathBuf,
    limit: u64,
    state: Mutex<State>,
    more: Condvar,
}

fn segment_name(first: u64) -> String {
    format!("{first:020}.jsonl")
}

/// Counts the complete lines of a segment and cuts off a last line without its newline.
fn recover_segment(path: &Path) -> std::io::Result<(u64, u64)> {
    let data = std::fs::read(path)?;
    let end = data.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
    if end < data.len() {
        tracing::warn!(segment = %path.display(), bytes = data.len() - end, "cutting off an event line cut short");
        let file = OpenOptions::new().write(true).open(path)?;
        file.set_len(end as u64)?;
        file.sync_all()?;
    }
    let lines = data[..end].iter().filter(|&&b| b == b'\n').count() as u64;
    Ok((lines, end as u64))
}

impl Spool {
    /// Opens (or creates) the spool in `dir`, bounded to `limit` bytes.
    pub fn open(dir: &Path, limit: u64) -> std::io::Result<Spool> {
        std::fs::DirBuilder::new().recursive(true).mode(0o700).create(dir)?;
        let mut firsts: Vec<u64> = std::fs::read_dir(dir)?
            .filter_map(|e| e.ok())
            .filter_map(|e| {
                let name = e.file_name().to_string_lossy().into_owned();
                name.strip_suffix(".jsonl").filter(|n| n.len() == 20).and_then(|n| n.parse().ok())
            })
            .collect();
        firsts.sort_unstable();
        let mut segments = Vec::with_capacity(firsts.len());
        let mut next = 0;
        for first in firsts {
            let (count, bytes) = recover_segment(&dir.join(segment_name(first)))?;
            if first < next {
                tracing::warn!(first, expected = next, "spool segments overlap; later numbers win");
            }
            next = first + count;
            segments.push(Segment { first, count, bytes });
        }
        let oldest = segments.first().map_or(next, |s| s.first);
        let acked = match std::fs::read_to_string(dir.join(ACKED)) {
            Ok(text) => text.trim().parse::<u64>().unwrap_or_else(|_| {
                tracing::warn!("the spool's acknowledgement mark is unreadable: every spooled event is sent again");
                oldest
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => oldest,
            Err(e) => return Err(e),
        }
        .clamp(oldest, next);
        let file = match segments.last() {
            Some(s) if s.bytes < SEGMENT_BYTES => {
                Some(OpenOptions::new().append(true).open(dir.join(segment_name(s.first)))?)
            }
            _ => None,
        };
        let mut state = State {
            segments,
            file,
            next,
            acked,
            read_seq: acked,
            read_segment: u64::MAX,
            read_offset: 0,
            lost: 0,
            corrupt: 0,
        };
        (state.read_segment, state.read_offset) = offset_of(dir, &state, acked)?;
        let spool = Spool {
            dir: dir.to_owned(),
            limit: limit.max(SEGMENT_BYTES),
            state: Mutex::new(state),
            more: Condvar::new(),
        };
        spool.remove_acked_segments(&mut spool.lock())?;
        Ok(spool)
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock leaves consistent state (every change is a plain
        // assignment after its I/O succeeded), so a poisoned lock is still usable.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Appends events and syncs them to disk: once this returns, they survive a crash.
    pub fn append(&self, events: &[RuntimeEvent]) -> std::io::Result<()> {
        if events.is_empty() {
            return Ok(());
        }
        let mut lines = Vec::with_capacity(events.len() * 512);
        for e in events {
            serde_json::to_writer(&mut lines, e).map_err(std::io::Error::other)?;
            lines.push(b'\n');
        }
        let mut state = self.lock();
        if state.file.is_none() || state.segments.last().is_none_or(|s| s.bytes >= SEGMENT_BYTES) {
            let first = state.next;
            let file = OpenOptions::new()
                .create_new(true)
                .append(true)
                .mode(0o600)
                .open(self.dir.join(segment_name(first)))?;
            sync_dir(&self.dir)?;
            state.segments.push(Segment { first, count: 0, bytes: 0 });
            state.file = Some(file);
        }
        let file = state.file.as_mut().expect("a segment is open");
        file.write_all(&lines)?;
        file.sync_data()?;
        let n = events.len() as u64;
        state.next += n;
        let last = state.segments.last_mut().expect("a segment is open");
        last.count += n;
        last.bytes += lines.len() as u64;
        self.enforce_limit(&mut state)?;
        drop(state);
        self.more.notify_all();
        Ok(())
    }

    /// Drops the oldest segments while the spool is over its limit (never the last one).
    fn enforce_limit(&self, state: &mut State) -> std::io::Result<()> {
        while state.segments.iter().map(|s| s.bytes).sum::<u64>() > self.limit && state.segments.len() > 1 {
            let s = state.segments.remove(0);
            let end = s.first + s.count;
            let lost = end.saturating_sub(state.acked.max(s.first));
            if lost > 0 {
                tracing::warn!(
                    lost,
                    limit = self.limit,
                    "the event spool is full: its oldest undelivered events are dropped"
                );
            }
            state.lost += lost;
            state.acked = state.acked.max(end);
            state.read_seq = state.read_seq.max(end);
            std::fs::remove_file(self.dir.join(segment_name(s.first)))?;
        }
        Ok(())
    }

    /// Reads up to `max` events (and about `max_bytes` of lines) not yet read, waiting up
    /// to `wait` for one to be appended. Events are returned once: the caller keeps them
    /// until [`Spool::ack`]; after a restart, reading starts again at the first
    /// unacknowledged event.
    pub fn next_batch(&self, max: usize, max_bytes: usize, wait: Duration) -> std::io::Result<Vec<Spooled>> {
        let mut state = self.lock();
        if state.read_seq >= state.next && !wait.is_zero() {
            state = self.more.wait_timeout(state, wait).unwrap_or_else(|p| p.into_inner()).0;
        }
        let mut out = Vec::new();
        let mut bytes = 0;
        while out.len() < max && bytes < max_bytes && state.read_seq < state.next {
            let Some(index) = segment_index(&state, state.read_seq) else {
                // A gap between segments (a file removed outside the spool): skip it.
                let Some(s) = state.segments.iter().find(|s| s.first > state.read_seq) else { break };
                let first = s.first;
                state.corrupt += first - state.read_seq;
                state.read_seq = first;
                continue;
            };
            let first = state.segments[index].first;
            let end = first + state.segments[index].count;
            if state.read_segment != first {
                state.read_segment = first;
                state.read_offset = 0;
            }
            let mut reader = BufReader::new(File::open(self.dir.join(segment_name(first)))?);
            reader.seek(SeekFrom::Start(state.read_offset))?;
            let mut line = Vec::new();
            while out.len() < max && bytes < max_bytes && state.read_seq < end {
                line.clear();
                let n = read_line(&mut reader, &mut line)?;
                if n == 0 {
                    break;
                }
                let seq = state.read_seq;
                state.read_seq += 1;
                state.read_offset += n as u64;
                match serde_json::from_slice::<RuntimeEvent>(line.trim_ascii_end()) {
                    Ok(event) => {
                        bytes += n;
                        out.push(Spooled { seq, bytes: n, event });
                    }
                    Err(e) => {
                        state.corrupt += 1;
                        tracing::warn!(seq, error = %e, "skipping a spooled event that cannot be read");
                    }
                }
            }
            if state.read_seq < end && out.len() < max && bytes < max_bytes {
                // The file ended before its counted lines: it was cut outside the spool.
                state.corrupt += end - state.read_seq;
                state.read_seq = end;
            }
        }
        Ok(out)
    }

    /// Marks every event before `next` as delivered (durably), and removes the segments
    /// that hold only delivered events.
    pub fn ack(&self, next: u64) -> std::io::Result<()> {
        let mut state = self.lock();
        let next = next.min(state.next);
        if next <= state.acked {
            return Ok(());
        }
        write_private(&self.dir.join(ACKED), format!("{next}\n").as_bytes())?;
        state.acked = next;
        self.remove_acked_segments(&mut state)
    }

    fn remove_acked_segments(&self, state: &mut State) -> std::io::Result<()> {
        while state.segments.len() > 1 && state.segments[0].first + state.segments[0].count <= state.acked {
            let s = state.segments.remove(0);
            std::fs::remove_file(self.dir.join(segment_name(s.first)))?;
        }
        Ok(())
    }

    /// Moves the reader back to the first unacknowledged event (after a batch that could
    /// not be delivered was given up).
    pub fn rewind(&self) -> std::io::Result<()> {
        let mut state = self.lock();
        let acked = state.acked;
        (state.read_segment, state.read_offset) = offset_of(&self.dir, &state, acked)?;
        state.read_seq = acked;
        Ok(())
    }

    pub fn stats(&self) -> SpoolStats {
        let state = self.lock();
        SpoolStats {
            pending: state.next - state.acked,
            bytes: state.segments.iter().map(|s| s.bytes).sum(),
            lost: state.lost,
            corrupt: state.corrupt,
        }
    }
}

/// The index of the segment holding `seq`.
fn segment_index(state: &State, seq: u64) -> Option<usize> {
    state.segments.iter().position(|s| seq >= s.first && seq < s.first + s.count)
}

/// The segment holding event `seq` and the event's byte offset in it (`u64::MAX` and 0
/// when no segment holds it).
fn offset_of(dir: &Path, state: &State, seq: u64) -> std::io::Result<(u64, u64)> {
    let Some(index) = segment_index(state, seq) else {
        // Just past the last segment: the next event appended to it starts at its end.
        return Ok(match state.segments.last() {
            Some(last) if last.first + last.count == seq => (last.first, last.bytes),
            _ => (u64::MAX, 0),
        });
    };
    let s = &state.segments[index];
    let mut reader = BufReader::new(File::open(dir.join(segment_name(s.first)))?);
    let mut offset = 0;
    let mut line = Vec::new();
    for _ in s.first..seq {
        line.clear();
        let n = read_line(&mut reader, &mut line)?;
        if n == 0 {
            break;
        }
        offset += n as u64;
    }
    Ok((s.first, offset))
}

/// Reads one line (with its newline); keeps at most [`MAX_LINE`] bytes of it but returns
/// the number of bytes consumed.
fn read_line(reader: &mut impl BufRead, line: &mut Vec<u8>) -> std::io::Result<usize> {
    let mut consumed = 0;
    loop {
        let buf = reader.fill_buf()?;
        if buf.is_empty() {
            return Ok(consumed);
        }
        let (take, done) = match buf.iter().position(|&b| b == b'\n') {
            Some(i) => (i + 1, true),
            None => (buf.len(), false),
        };
        if line.len() < MAX_LINE {
            line.extend_from_slice(&buf[..take.min(MAX_LINE - line.len())]);
        }
        reader.consume(take);
        consumed += take;
        if done {
            return Ok(consumed);
        }
    }
}

#[cfg(test)]
mod tests;
