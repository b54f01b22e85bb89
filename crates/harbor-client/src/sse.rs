//! A server-sent events decoder (the WHATWG `text/event-stream` rules), fed with whatever
//! chunks the network delivers.
//!
//! - Lines end in CRLF, LF or CR, also when a CRLF is split between two chunks; a UTF-8
//!   byte-order mark at the start is skipped.
//! - `data:` lines of one event are joined with `\n`; `event:`, `id:` and `retry:` are kept;
//!   comment lines (`: keep-alive`) and unknown fields are ignored; a blank line ends an
//!   event, and an event with no data is not dispatched.
//! - The last event id persists across events, as `Last-Event-ID` needs.
//! - A line or an event larger than the cap is an error (never a panic, never unbounded
//!   memory): the stream cannot be trusted after it, so the decoder stays failed.
//!
//! Bytes are scanned a chunk at a time for line ends (`memchr`), never re-scanned.
//!
//! ```
//! use harbor_client::sse::SseDecoder;
//!
//! let mut decoder = SseDecoder::new(1024);
//! decoder.push(b": keep-alive\r\nid: 7\r\nevent: update\r\ndata: {\"a\":\r\ndata: 1}\r")?;
//! assert!(decoder.next_event().is_none(), "the event is not over yet");
//! decoder.push(b"\n\r\n")?;
//! let event = decoder.next_event().expect("one event");
//! assert_eq!(event.event, "update");
//! assert_eq!(event.data, "{\"a\":\n1}");
//! assert_eq!(event.id.as_deref(), Some("7"));
//! # Ok::<(), harbor_client::sse::SseError>(())
//! ```

use std::collections::VecDeque;
use std::time::Duration;

/// The cap on one line or one event that the client uses by default: 16 MiB.
pub const DEFAULT_MAX_EVENT_BYTES: usize = 16 * 1024 * 1024;

/// One dispatched event.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SseEvent {
    /// The `event:` type; empty when none was given (the default type, `message`).
    pub event: String,
    /// The `data:` lines, joined with `\n`.
    pub data: String,
    /// The last event id seen so far in the stream (set by this or an earlier event).
    pub id: Option<String>,
}

/// A stream that breaks the decoder's caps.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SseError {
    /// A line grew past the cap without ending.
    #[error("a line exceeds the limit of {limit} bytes")]
    LineTooLong {
        /// The cap.
        limit: usize,
    },
    /// The data of one event grew past the cap.
    #[error("an event exceeds the limit of {limit} bytes")]
    EventTooLarge {
        /// The cap.
        limit: usize,
    },
}

/// The event being assembled, and what persists between events.
#[derive(Debug, Default)]
struct Pending {
    data: String,
    has_data: bool,
    event: String,
    last_id: Option<String>,
    retry: Option<Duration>,
}

/// Decodes `text/event-stream` bytes into [`SseEvent`]s.
#[derive(Debug)]
pub struct SseDecoder {
    buf: Vec<u8>,
    /// Bytes of `buf` already searched for a line end.
    scanned: usize,
    /// The previous line ended in CR: a LF that follows belongs to it.
    skip_lf: bool,
    at_start: bool,
    max: usize,
    pending: Pending,
    ready: VecDeque<SseEvent>,
    failed: Option<SseError>,
}

impl SseDecoder {
    /// A decoder whose lines and events may be at most `max_bytes` long.
    pub fn new(max_bytes: usize) -> Self {
        Self {
            buf: Vec::new(),
            scanned: 0,
            skip_lf: false,
            at_start: true,
            max: max_bytes.max(1),
            pending: Pending::default(),
            ready: VecDeque::new(),
            failed: None,
        }
    }

    /// Feeds the next bytes of the stream; the events they complete wait in
    /// [`next_event`](Self::next_event).
    ///
    /// # Errors
    /// When a line or an event passes the cap; the decoder then stays failed.
    pub fn push(&mut self, chunk: &[u8]) -> Result<(), SseError> {
        if let Some(error) = &self.failed {
            return Err(error.clone());
        }
        let mut chunk = chunk;
        if self.skip_lf && !chunk.is_empty() {
            self.skip_lf = false;
            if chunk[0] == b'\n' {
                chunk = &chunk[1..];
            }
        }
        self.buf.extend_from_slice(chunk);
        let result = self.lines();
        if let Err(error) = &result {
            self.failed = Some(error.clone());
            self.buf = Vec::new();
            self.pending = Pending::default();
        }
        result
    }

    /// Takes every complete line out of the buffer.
    fn lines(&mut self) -> Result<(), SseError> {
        let mut start = 0;
        loop {
            let Some(offset) = memchr::memchr2(b'\r', b'\n', &self.buf[start + self.scanned..])
            else {
                self.scanned = self.buf.len() - start;
                break;
            };
            let end = start + self.scanned + offset;
            self.scanned = 0;
            if end - start > self.max {
                return Err(SseError::LineTooLong { limit: self.max });
            }
            let mut line = &self.buf[start..end];
            if self.at_start {
                self.at_start = false;
                line = line.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(line);
            }
            if let Some(event) = self.pending.line(line, self.max)? {
                self.ready.push_back(event);
            }
            start = end + 1;
            if self.buf[end] == b'\r' {
                match self.buf.get(start) {
                    Some(b'\n') => start += 1,
                    Some(_) => {}
                    None => self.skip_lf = true,
                }
            }
        }
        self.buf.drain(..start);
        if self.buf.len() > self.max {
            return Err(SseError::LineTooLong { limit: self.max });
        }
        Ok(())
    }

    /// The next complete event, if one is ready.
    pub fn next_event(&mut self) -> Option<SseEvent> {
        self.ready.pop_front()
    }

    /// The last event id the stream set, for `Last-Event-ID` on reconnect.
    pub fn last_event_id(&self) -> Option<&str> {
        self.pending.last_id.as_deref()
    }

    /// The reconnection delay the stream asked for with `retry:`.
    pub fn retry(&self) -> Option<Duration> {
        self.pending.retry
    }

    /// Bytes held that do not form a complete line yet (at most the cap).
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }

    /// Forgets the event in progress and any partial line, keeping the last event id and
    /// retry: for a new connection that resumes the same stream.
    pub fn reset_connection(&mut self) {
        self.buf.clear();
        self.scanned = 0;
        self.skip_lf = false;
        self.at_start = true;
        self.ready.clear();
        self.failed = None;
        self.pending.data.clear();
        self.pending.has_data = false;
        self.pending.event.clear();
    }
}

impl Pending {
    /// Applies one line; a blank line dispatches the event.
    fn line(&mut self, line: &[u8], max: usize) -> Result<Option<SseEvent>, SseError> {
        if line.is_empty() {
            return Ok(self.dispatch());
        }
        if line[0] == b':' {
            return Ok(None);
        }
        let (field, value) = match memchr::memchr(b':', line) {
            Some(i) => {
                let value = &line[i + 1..];
                (&line[..i], value.strip_prefix(b" ").unwrap_or(value))
            }
            None => (line, &b""[..]),
        };
        match field {
            b"data" => {
                // Measured after decoding: each invalid byte becomes a 3-byte U+FFFD.
                let text = String::from_utf8_lossy(value);
                if self.data.len() + text.len() + 1 > max {
                    return Err(SseError::EventTooLarge { limit: max });
                }
                self.data.push_str(&text);
                self.data.push('\n');
                self.has_data = true;
            }
            b"event" => self.event = String::from_utf8_lossy(value).into_owned(),
            b"id" if !value.contains(&0) => {
                self.last_id = Some(String::from_utf8_lossy(value).into_owned());
            }
            b"retry" if !value.is_empty() && value.iter().all(u8::is_ascii_digit) => {
                if let Ok(ms) = std::str::from_utf8(value).unwrap_or("").parse::<u64>() {
                    self.retry = Some(Duration::from_millis(ms));
                }
            }
            _ => {}
        }
        Ok(None)
    }

    fn dispatch(&mut self) -> Option<SseEvent> {
        let event = std::mem::take(&mut self.event);
        if !std::mem::take(&mut self.has_data) {
            return None;
        }
        let mut data = std::mem::take(&mut self.data);
        data.pop();
        Some(SseEvent {
            event,
            data,
            id: self.last_id.clone().filter(|id| !id.is_empty()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(input: &[u8]) -> Vec<SseEvent> {
        let mut d = SseDecoder::new(1 << 20);
        d.push(input).expect("within the cap");
        std::iter::from_fn(|| d.next_event()).collect()
    }

    fn data(events: &[SseEvent]) -> Vec<&str> {
        events.iter().map(|e| e.data.as_str()).collect()
    }

    #[test]
    fn every_line_ending_works() {
        for input in [
            &b"data: a\n\ndata: b\n\n"[..],
            b"data: a\r\n\r\ndata: b\r\n\r\n",
            b"data: a\r\rdata: b\r\r",
        ] {
            assert_eq!(data(&all(input)), ["a", "b"], "{input:?}");
        }
    }

    #[test]
    fn a_crlf_split_between_chunks_is_one_line_end() {
        let mut d = SseDecoder::new(1024);
        for chunk in [&b"data: a\r"[..], b"\n", b"\r", b"\ndata: b\r\n", b"\r\n"] {
            d.push(chunk).expect("pushed");
        }
        let events: Vec<_> = std::iter::from_fn(|| d.next_event()).collect();
        assert_eq!(data(&events), ["a", "b"]);
    }

    #[test]
    fn fields_comments_and_defaults() {
        let events = all(
            b"\xEF\xBB\xBF: hello\nretry: 1500\nid: 1\nevent: error\ndata\ndata:x\ndata:  y\n\n\
              id\n\nevent: ignored\n\ndata: z\nbogus: field\n\n",
        );
        assert_eq!(events.len(), 2, "{events:?}");
        assert_eq!(events[0].event, "error");
        assert_eq!(events[0].data, "\nx\n y");
        assert_eq!(events[0].id.as_deref(), Some("1"));
        // `id` with no value clears the id; an event with no data is not dispatched.
        assert_eq!(events[1].event, "");
        assert_eq!(events[1].id, None);
        let mut d = SseDecoder::new(64);
        d.push(b"retry: 1500\nretry: soon\n").expect("pushed");
        assert_eq!(d.retry(), Some(Duration::from_millis(1500)));
    }

    #[test]
    fn an_unfinished_event_is_not_dispatched() {
        assert!(all(b"data: a\ndata: b").is_empty());
        assert!(all(b"data: a\n").is_empty());
    }

    #[test]
    fn caps_hold_and_stick() {
        let mut d = SseDecoder::new(16);
        assert_eq!(
            d.push(&[b'a'; 17]),
            Err(SseError::LineTooLong { limit: 16 })
        );
        assert!(d.push(b"\n\n").is_err(), "a failed decoder stays failed");
        let mut d = SseDecoder::new(16);
        let error = d.push(b"data: 0123456789\ndata: 0123456789\n");
        assert_eq!(error, Err(SseError::EventTooLarge { limit: 16 }));
        assert_eq!(d.buffered(), 0);
    }

    #[test]
    fn reset_keeps_the_last_id() {
        let mut d = SseDecoder::new(64);
        d.push(b"id: 5\ndata: a\n\ndata: partial").expect("pushed");
        d.reset_connection();
        d.push(b"data: b\n\n").expect("pushed");
        assert_eq!(d.next_event().map(|e| e.data), Some("b".to_owned()));
        assert_eq!(d.last_event_id(), Some("5"));
    }
}
