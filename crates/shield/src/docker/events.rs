//! The engine's `/events` stream: one JSON object per line, for as long as the connection
//! lasts.

use std::io::{BufRead, Read};
use std::os::unix::net::UnixStream;

use serde_json::Value;

/// What happened to a container.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContainerAction {
    Create,
    Start,
    Die,
    Destroy,
}

/// One container event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DockerEvent {
    pub action: ContainerAction,
    pub id: String,
}

/// Reads one line of the stream; `None` for events of other kinds or actions, and for
/// lines that are not JSON (never an error: the stream goes on).
pub fn parse_event(line: &str) -> Option<DockerEvent> {
    let v: Value = serde_json::from_str(line).ok()?;
    if v["Type"].as_str().is_some_and(|t| t != "container") {
        return None;
    }
    let action = v["Action"].as_str().or_else(|| v["status"].as_str())?;
    let action = match action {
        "create" => ContainerAction::Create,
        "start" => ContainerAction::Start,
        "die" => ContainerAction::Die,
        "destroy" => ContainerAction::Destroy,
        _ => return None,
    };
    let id = v["Actor"]["ID"].as_str().or_else(|| v["id"].as_str())?.to_owned();
    Some(DockerEvent { action, id })
}

/// An open event stream. [`EventStream::stopper`] gives a handle that ends a blocked read
/// from another thread.
pub struct EventStream {
    body: Box<dyn BufRead + Send>,
    control: UnixStream,
}

impl std::fmt::Debug for EventStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventStream").finish_non_exhaustive()
    }
}

/// Ends the read of an [`EventStream`] (its connection is shut down).
#[derive(Debug)]
pub struct StreamStopper(UnixStream);

impl StreamStopper {
    pub fn stop(&self) {
        let _ = self.0.shutdown(std::net::Shutdown::Both);
    }
}

impl EventStream {
    pub(crate) fn new(body: Box<dyn BufRead + Send>, control: UnixStream) -> EventStream {
        EventStream { body, control }
    }

    /// A handle that stops this stream.
    pub fn stopper(&self) -> std::io::Result<StreamStopper> {
        Ok(StreamStopper(self.control.try_clone()?))
    }

    /// The next container event; `None` when the stream ended (engine gone, or stopped).
    pub fn next_event(&mut self) -> Option<DockerEvent> {
        loop {
            let mut line = String::new();
            // Bounded: an event is a few hundred bytes; a line of a megabyte is not one.
            match (&mut self.body).take(1 << 20).read_line(&mut line) {
                Ok(0) | Err(_) => return None,
                Ok(_) => {
                    if let Some(event) = parse_event(line.trim()) {
                        return Some(event);
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn container_events_parse() {
        let line = r#"{"status":"start","id":"abc","Type":"container","Action":"start","Actor":{"ID":"abc","Attributes":{"name":"x"}}}"#;
        assert_eq!(parse_event(line), Some(DockerEvent { action: ContainerAction::Start, id: "abc".into() }));
        assert_eq!(parse_event(r#"{"Type":"network","Action":"connect","Actor":{"ID":"n"}}"#), None);
        assert_eq!(parse_event(r#"{"Type":"container","Action":"exec_start: sh","Actor":{"ID":"n"}}"#), None);
        assert_eq!(parse_event("not json"), None);
        assert_eq!(parse_event(r#"{"Type":"container","Action":"die"}"#), None);
    }
}
