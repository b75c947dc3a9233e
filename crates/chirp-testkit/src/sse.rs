//! Reading a `text/event-stream` answer event by event, for tests of the
//! live notification stream over real HTTP.

use std::time::Duration;

/// One Server-Sent Event (comments, such as keep-alives, are skipped).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SseEvent {
    pub id: Option<String>,
    pub event: Option<String>,
    pub data: String,
}

/// Reads events off a streaming response.
pub struct SseReader {
    resp: reqwest::Response,
    buf: String,
}

/// How long [`SseReader::next`] waits for an event that should come: a
/// guard against a hung test, far beyond any delivery time, never a
/// measure of speed.
pub const PATIENCE: Duration = Duration::from_secs(20);

impl SseReader {
    pub fn new(resp: reqwest::Response) -> Self {
        Self {
            resp,
            buf: String::new(),
        }
    }

    /// The next event; `Ok(None)` when the server ended the stream,
    /// `Err` when nothing came within `patience` or the connection failed.
    pub async fn next_within(&mut self, patience: Duration) -> Result<Option<SseEvent>, String> {
        let deadline = tokio::time::Instant::now() + patience;
        loop {
            while let Some(end) = self.buf.find("\n\n") {
                let block: String = self.buf.drain(..end + 2).collect();
                if let Some(event) = parse(&block) {
                    return Ok(Some(event));
                }
            }
            match tokio::time::timeout_at(deadline, self.resp.chunk()).await {
                Err(_) => return Err(format!("no event within {patience:?}")),
                Ok(Err(e)) => return Err(format!("stream failed: {e}")),
                Ok(Ok(None)) => return Ok(None),
                Ok(Ok(Some(bytes))) => {
                    self.buf
                        .push_str(&String::from_utf8_lossy(&bytes).replace("\r\n", "\n"));
                }
            }
        }
    }

    /// The next event, within [`PATIENCE`]; panics otherwise (tests only).
    pub async fn next(&mut self) -> SseEvent {
        match self.next_within(PATIENCE).await {
            Ok(Some(event)) => event,
            Ok(None) => panic!("the stream ended"),
            Err(e) => panic!("{e}"),
        }
    }

    /// Whether the server ends the stream within `patience`, skipping any
    /// events before that.
    pub async fn ends_within(&mut self, patience: Duration) -> bool {
        loop {
            match self.next_within(patience).await {
                Ok(None) => return true,
                Ok(Some(_)) => continue,
                Err(_) => return false,
            }
        }
    }
}

/// An event from one blank-line-terminated block; `None` for a block of
/// comments only.
fn parse(block: &str) -> Option<SseEvent> {
    let mut event = SseEvent::default();
    let mut any = false;
    let mut data: Vec<&str> = Vec::new();
    for line in block.lines() {
        if line.is_empty() || line.starts_with(':') {
            continue;
        }
        let (field, value) = line.split_once(':').unwrap_or((line, ""));
        let value = value.strip_prefix(' ').unwrap_or(value);
        any = true;
        match field {
            "id" => event.id = Some(value.to_owned()),
            "event" => event.event = Some(value.to_owned()),
            "data" => data.push(value),
            _ => {}
        }
    }
    event.data = data.join("\n");
    any.then_some(event)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_become_events_and_comments_are_skipped() {
        assert_eq!(parse(": keep-alive\n\n"), None);
        assert_eq!(
            parse("id: 3\nevent: notification\ndata: {\"a\":1}\n\n"),
            Some(SseEvent {
                id: Some("3".into()),
                event: Some("notification".into()),
                data: "{\"a\":1}".into(),
            })
        );
    }
}
