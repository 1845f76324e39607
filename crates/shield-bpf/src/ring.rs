//! Reading a ring buffer map: what is waiting, or, when nothing is, what comes within a
//! time-out. Records that do not decode are counted and skipped.

use std::fmt::Display;
use std::time::Duration;

use aya::maps::{MapData, RingBuf};
use rustix::event::{PollFd, PollFlags, Timespec, poll};

use crate::error::PollError;

/// Decodes the records waiting in `ring`; when there are none, waits up to `timeout` for
/// some. A record `decode` refuses adds one to `errors` and is logged as an undecodable
/// `what` record.
pub(crate) fn read<T, E: Display>(
    ring: &mut RingBuf<MapData>,
    timeout: Duration,
    decode: impl Fn(&[u8]) -> Result<T, E>,
    errors: &mut u64,
    what: &str,
) -> Result<Vec<T>, PollError> {
    let mut out = drain(ring, &decode, errors, what);
    if out.is_empty() {
        let timespec = Timespec::try_from(timeout).unwrap_or(Timespec { tv_sec: i64::MAX, tv_nsec: 0 });
        let mut fds = [PollFd::new(&*ring, PollFlags::IN)];
        match poll(&mut fds, Some(&timespec)) {
            Ok(_) | Err(rustix::io::Errno::INTR) => {}
            Err(e) => return Err(PollError::Wait(e.into())),
        }
        out = drain(ring, &decode, errors, what);
    }
    Ok(out)
}

fn drain<T, E: Display>(
    ring: &mut RingBuf<MapData>,
    decode: &impl Fn(&[u8]) -> Result<T, E>,
    errors: &mut u64,
    what: &str,
) -> Vec<T> {
    let mut out = Vec::new();
    while let Some(record) = ring.next() {
        match decode(&record) {
            Ok(item) => out.push(item),
            Err(error) => {
                *errors += 1;
                tracing::warn!(%error, "undecodable {what} record");
            }
        }
    }
    out
}
