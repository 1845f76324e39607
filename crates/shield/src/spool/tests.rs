use std::time::Duration;

use api::shield::{ContainerRef, RuntimeEvent};

use super::*;

fn event(n: u64) -> RuntimeEvent {
    RuntimeEvent {
        id: format!("ev-{n}"),
        time: "2026-11-27T00:00:00Z".into(),
        category: "process".into(),
        kind: "abnormal-program".into(),
        container: ContainerRef { id: "c".repeat(64), name: "web".into(), pod: None, namespace: None },
        image: "nginx:latest".into(),
        description: "x".repeat(200),
        blocked: false,
        process_tree: Vec::new(),
        solution: String::new(),
        node: None,
        cluster: None,
    }
}

fn events(range: std::ops::Range<u64>) -> Vec<RuntimeEvent> {
    range.map(event).collect()
}

fn ids(batch: &[Spooled]) -> Vec<String> {
    batch.iter().map(|s| s.event.id.clone()).collect()
}

fn names(range: std::ops::Range<u64>) -> Vec<String> {
    range.map(|n| format!("ev-{n}")).collect()
}

const NO_WAIT: Duration = Duration::ZERO;

#[test]
fn events_come_back_in_order_once_and_acked_ones_stay_gone_after_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let spool = Spool::open(dir.path(), DEFAULT_LIMIT_BYTES).unwrap();
    spool.append(&events(0..10)).unwrap();
    let first = spool.next_batch(4, usize::MAX, NO_WAIT).unwrap();
    assert_eq!(ids(&first), names(0..4));
    assert_eq!(first.iter().map(|s| s.seq).collect::<Vec<_>>(), [0, 1, 2, 3]);
    let second = spool.next_batch(100, usize::MAX, NO_WAIT).unwrap();
    assert_eq!(ids(&second), names(4..10));
    assert!(spool.next_batch(100, usize::MAX, NO_WAIT).unwrap().is_empty());
    spool.ack(4).unwrap();
    assert_eq!(spool.stats().pending, 6);
    drop(spool);

    // A restart reads again from the first unacknowledged event.
    let spool = Spool::open(dir.path(), DEFAULT_LIMIT_BYTES).unwrap();
    assert_eq!(ids(&spool.next_batch(100, usize::MAX, NO_WAIT).unwrap()), names(4..10));
    spool.append(&events(10..12)).unwrap();
    let more = spool.next_batch(100, usize::MAX, NO_WAIT).unwrap();
    assert_eq!(ids(&more), names(10..12));
    assert_eq!(more[0].seq, 10);
    spool.ack(12).unwrap();
    assert_eq!(spool.stats().pending, 0);
    drop(spool);
    let spool = Spool::open(dir.path(), DEFAULT_LIMIT_BYTES).unwrap();
    assert!(spool.next_batch(100, usize::MAX, NO_WAIT).unwrap().is_empty());
}

#[test]
fn a_line_cut_short_by_a_crash_is_dropped_and_appending_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let spool = Spool::open(dir.path(), DEFAULT_LIMIT_BYTES).unwrap();
    spool.append(&events(0..3)).unwrap();
    drop(spool);
    let segment = dir.path().join(segment_name(0));
    let mut f = OpenOptions::new().append(true).open(&segment).unwrap();
    f.write_all(br#"{"id":"ev-torn","time":"#).unwrap();
    drop(f);
    let spool = Spool::open(dir.path(), DEFAULT_LIMIT_BYTES).unwrap();
    spool.append(&events(3..5)).unwrap();
    assert_eq!(ids(&spool.next_batch(100, usize::MAX, NO_WAIT).unwrap()), names(0..5));
    assert!(std::fs::read_to_string(&segment).unwrap().lines().all(|l| l.ends_with('}')));
}

#[test]
fn a_garbled_line_is_skipped_and_counted() {
    let dir = tempfile::tempdir().unwrap();
    let spool = Spool::open(dir.path(), DEFAULT_LIMIT_BYTES).unwrap();
    spool.append(&events(0..3)).unwrap();
    drop(spool);
    let segment = dir.path().join(segment_name(0));
    let text = std::fs::read_to_string(&segment).unwrap();
    let mut lines: Vec<&str> = text.lines().collect();
    lines[1] = "not json at all";
    std::fs::write(&segment, lines.join("\n") + "\n").unwrap();
    let spool = Spool::open(dir.path(), DEFAULT_LIMIT_BYTES).unwrap();
    let batch = spool.next_batch(100, usize::MAX, NO_WAIT).unwrap();
    assert_eq!(ids(&batch), ["ev-0", "ev-2"]);
    assert_eq!(batch[1].seq, 2);
    assert_eq!(spool.stats().corrupt, 1);
}

#[test]
fn an_unreadable_ack_mark_sends_everything_again_rather_than_losing_it() {
    let dir = tempfile::tempdir().unwrap();
    let spool = Spool::open(dir.path(), DEFAULT_LIMIT_BYTES).unwrap();
    spool.append(&events(0..5)).unwrap();
    spool.ack(3).unwrap();
    drop(spool);
    std::fs::write(dir.path().join(ACKED), "garbage").unwrap();
    let spool = Spool::open(dir.path(), DEFAULT_LIMIT_BYTES).unwrap();
    assert_eq!(ids(&spool.next_batch(100, usize::MAX, NO_WAIT).unwrap()), names(0..5));
    // A mark beyond the end is clamped.
    drop(spool);
    std::fs::write(dir.path().join(ACKED), "99999").unwrap();
    let spool = Spool::open(dir.path(), DEFAULT_LIMIT_BYTES).unwrap();
    assert_eq!(spool.stats().pending, 0);
    spool.append(&events(5..6)).unwrap();
    assert_eq!(ids(&spool.next_batch(100, usize::MAX, NO_WAIT).unwrap()), names(5..6));
}

#[test]
fn segments_rotate_and_delivered_ones_are_removed() {
    let dir = tempfile::tempdir().unwrap();
    let spool = Spool::open(dir.path(), DEFAULT_LIMIT_BYTES).unwrap();
    // About 400 bytes an event: 4 MiB segments hold about 10,000.
    let total = 25_000;
    for chunk in (0..total).collect::<Vec<u64>>().chunks(1000) {
        spool.append(&chunk.iter().map(|&n| event(n)).collect::<Vec<_>>()).unwrap();
    }
    let files =
        || std::fs::read_dir(dir.path()).unwrap().filter(|e| e.as_ref().unwrap().path().extension().is_some()).count();
    assert!(files() >= 3, "{} segment files", files());
    let mut seen = Vec::new();
    loop {
        let batch = spool.next_batch(700, 64 << 10, NO_WAIT).unwrap();
        if batch.is_empty() {
            break;
        }
        assert!(batch.iter().map(|s| s.bytes).sum::<usize>() <= (64 << 10) + 1024);
        let next = batch.last().unwrap().seq + 1;
        seen.extend(batch.into_iter().map(|s| s.seq));
        spool.ack(next).unwrap();
    }
    assert_eq!(seen, (0..total).collect::<Vec<_>>());
    assert_eq!(files(), 1, "only the segment being appended to remains");
    drop(spool);
    let spool = Spool::open(dir.path(), DEFAULT_LIMIT_BYTES).unwrap();
    spool.append(&events(total..total + 1)).unwrap();
    assert_eq!(spool.next_batch(10, usize::MAX, NO_WAIT).unwrap()[0].seq, total);
}

#[test]
fn a_full_spool_drops_its_oldest_events_and_counts_them() {
    let dir = tempfile::tempdir().unwrap();
    // The limit is never below one segment; two segments' worth is kept.
    let spool = Spool::open(dir.path(), 2 * SEGMENT_BYTES).unwrap();
    let total = 40_000u64;
    for chunk in (0..total).collect::<Vec<u64>>().chunks(1000) {
        spool.append(&chunk.iter().map(|&n| event(n)).collect::<Vec<_>>()).unwrap();
    }
    let stats = spool.stats();
    assert!(stats.bytes <= 2 * SEGMENT_BYTES, "{stats:?}");
    assert!(stats.lost > 0);
    assert_eq!(stats.lost + stats.pending, total);
    let batch = spool.next_batch(usize::MAX, usize::MAX, NO_WAIT).unwrap();
    assert_eq!(batch.len() as u64, stats.pending);
    assert_eq!(batch.last().unwrap().seq, total - 1);
    assert_eq!(batch[0].seq, stats.lost, "what is left is the newest events, in order");
}

#[test]
fn a_waiting_reader_wakes_when_events_are_appended() {
    let dir = tempfile::tempdir().unwrap();
    let spool = std::sync::Arc::new(Spool::open(dir.path(), DEFAULT_LIMIT_BYTES).unwrap());
    let writer = {
        let spool = std::sync::Arc::clone(&spool);
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(100));
            spool.append(&events(0..1)).unwrap();
        })
    };
    let started = std::time::Instant::now();
    let batch = spool.next_batch(10, usize::MAX, Duration::from_secs(20)).unwrap();
    writer.join().unwrap();
    assert_eq!(ids(&batch), names(0..1));
    assert!(started.elapsed() < Duration::from_secs(10));
}

#[test]
fn rewind_reads_the_unacknowledged_events_again() {
    let dir = tempfile::tempdir().unwrap();
    let spool = Spool::open(dir.path(), DEFAULT_LIMIT_BYTES).unwrap();
    spool.append(&events(0..6)).unwrap();
    spool.next_batch(2, usize::MAX, NO_WAIT).unwrap();
    spool.ack(2).unwrap();
    spool.next_batch(3, usize::MAX, NO_WAIT).unwrap();
    spool.rewind().unwrap();
    assert_eq!(ids(&spool.next_batch(100, usize::MAX, NO_WAIT).unwrap()), names(2..6));
}

#[test]
fn the_spool_is_private_to_root() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("spool");
    let spool = Spool::open(&path, DEFAULT_LIMIT_BYTES).unwrap();
    spool.append(&events(0..1)).unwrap();
    spool.ack(1).unwrap();
    assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o700);
    for name in [segment_name(0), ACKED.to_owned()] {
        let mode = std::fs::metadata(path.join(&name)).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{name}");
    }
}
