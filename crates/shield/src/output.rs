//! Events out: a [`Finding`] plus its container and process tree becomes an
//! `api::shield::RuntimeEvent` with a unique id and the time; the writer hands them to an
//! [`EventSink`]: JSON lines (standalone mode) or the durable spool (connected mode).

use std::io::Write;
use std::sync::mpsc::{Receiver, Sender};

use api::shield::{ContainerRef, ProcessInfo, RuntimeEvent};

use crate::finding::Finding;

/// Where an event happened: the container, its image and the process tree.
#[derive(Debug, Clone, PartialEq)]
pub struct EventContext {
    pub container: ContainerRef,
    /// The image as the container was created with (`repo:tag`).
    pub image: String,
    pub process_tree: Vec<ProcessInfo>,
}

/// Makes events and hands them to the writer; cheap to clone, one per thread.
#[derive(Debug, Clone)]
pub struct Emitter {
    tx: Sender<RuntimeEvent>,
    node: Option<String>,
}

/// The current time as RFC 3339 (UTC, nanoseconds).
pub fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| "1970-01-01T00:00:00Z".to_owned())
}

/// Builds the event of a finding.
pub fn runtime_event(finding: Finding, context: &EventContext, blocked: bool, node: Option<String>) -> RuntimeEvent {
    RuntimeEvent {
        id: uuid::Uuid::new_v4().to_string(),
        time: now_rfc3339(),
        category: finding.category.to_owned(),
        kind: finding.kind,
        container: context.container.clone(),
        image: context.image.clone(),
        description: finding.description,
        blocked,
        process_tree: context.process_tree.clone(),
        solution: finding.solution,
        node,
        cluster: None,
    }
}

impl Emitter {
    /// An emitter sending to `tx`; `node` (the host name) is copied into every event.
    pub fn new(tx: Sender<RuntimeEvent>, node: Option<String>) -> Emitter {
        Emitter { tx, node }
    }

    /// Sends the event of a finding. A writer that is gone (shutting down) drops it.
    pub fn emit(&self, finding: Finding, context: &EventContext, blocked: bool) {
        let event = runtime_event(finding, context, blocked, self.node.clone());
        tracing::debug!(category = event.category, kind = event.kind, container = event.container.name, "event");
        let _ = self.tx.send(event);
    }
}

/// Where the writer puts events.
pub trait EventSink: Send {
    /// Stores a group of events; it returns once they are where they belong (flushed, or
    /// synced to disk).
    fn write(&mut self, events: &[RuntimeEvent]) -> std::io::Result<()>;

    /// Whether the writer goes on after a failed write (the events of that write are lost
    /// and counted) instead of stopping.
    fn survives_errors(&self) -> bool {
        false
    }
}

/// Standalone mode: JSON lines to a file or standard output, flushed after each group.
pub struct JsonLines(pub Box<dyn Write + Send>);

impl EventSink for JsonLines {
    fn write(&mut self, events: &[RuntimeEvent]) -> std::io::Result<()> {
        for event in events {
            let line = serde_json::to_string(event).map_err(std::io::Error::other)?;
            self.0.write_all(line.as_bytes())?;
            self.0.write_all(b"\n")?;
        }
        self.0.flush()
    }
}

/// Connected mode: the durable spool the delivery loop sends from.
impl EventSink for std::sync::Arc<crate::spool::Spool> {
    fn write(&mut self, events: &[RuntimeEvent]) -> std::io::Result<()> {
        self.append(events)
    }

    fn survives_errors(&self) -> bool {
        true
    }
}

/// The most events the writer hands to its sink at once.
const WRITE_GROUP: usize = 512;

/// Writes events until every [`Emitter`] is dropped, in groups of what has arrived (one
/// flush or sync per group). Returns the number of events written.
pub fn write_events(rx: Receiver<RuntimeEvent>, mut sink: Box<dyn EventSink>) -> std::io::Result<u64> {
    let mut written = 0;
    let mut lost = 0u64;
    while let Ok(first) = rx.recv() {
        let mut group = vec![first];
        group.extend(rx.try_iter().take(WRITE_GROUP - 1));
        match sink.write(&group) {
            Ok(()) => written += group.len() as u64,
            Err(e) if sink.survives_errors() => {
                lost += group.len() as u64;
                tracing::error!(error = %e, lost = group.len(), total_lost = lost, "events could not be stored");
            }
            Err(e) => return Err(e),
        }
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_are_valid_json_lines_with_unique_ids() {
        let (tx, rx) = std::sync::mpsc::channel();
        let emitter = Emitter::new(tx, Some("node-1".into()));
        let context = EventContext {
            container: ContainerRef { id: "c".repeat(64), name: "web".into(), pod: None, namespace: None },
            image: "nginx:1.25".into(),
            process_tree: vec![ProcessInfo { pid: 9, exe: "/usr/bin/id".into(), argv: vec!["id".into()] }],
        };
        emitter.emit(crate::finding::abnormal_program("/usr/bin/id", &["p".into()]), &context, false);
        emitter.emit(crate::finding::syscall("ptrace", None), &context, false);
        drop(emitter);
        let file = tempfile::NamedTempFile::new().unwrap();
        let written = write_events(rx, Box::new(JsonLines(Box::new(file.reopen().unwrap())))).unwrap();
        assert_eq!(written, 2);
        let text = std::fs::read_to_string(file.path()).unwrap();
        let events: Vec<RuntimeEvent> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        assert_eq!(events.len(), 2);
        assert_ne!(events[0].id, events[1].id);
        for e in &events {
            e.validate().unwrap();
            assert_eq!(e.container.name, "web");
            assert!(!e.blocked);
            assert!(time::OffsetDateTime::parse(&e.time, &time::format_description::well_known::Rfc3339).is_ok());
        }
        assert_eq!((events[0].category.as_str(), events[0].kind.as_str()), ("process", "abnormal-program"));
        let raw: serde_json::Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
        for key in ["id", "time", "category", "type", "container", "image", "description", "blocked", "process_tree"] {
            assert!(raw.get(key).is_some(), "{key} missing in {raw}");
        }
    }
}
