//! Reading `text/event-stream` bodies with the client's decoder
//! ([`harbor_client::sse::SseDecoder`]), one chunk at a time.

use harbor_client::sse::SseDecoder;

/// Longest line (and event) the reader accepts, so a broken server cannot grow it unbounded.
const MAX_LINE: usize = 1 << 20;

/// Hands each event of an SSE body to a callback as `(event type, data)`.
#[derive(Debug)]
pub(super) struct SseReader {
    decoder: SseDecoder,
}

impl Default for SseReader {
    fn default() -> Self {
        Self {
            decoder: SseDecoder::new(MAX_LINE),
        }
    }
}

impl SseReader {
    /// Feeds one chunk, calling `on_event(kind, data)` for every event it completes.
    pub(super) fn feed(
        &mut self,
        chunk: &[u8],
        on_event: &mut impl FnMut(&str, &str) -> Result<(), String>,
    ) -> Result<(), String> {
        self.decoder.push(chunk).map_err(|e| format!("SSE: {e}"))?;
        self.dispatch(on_event)
    }

    /// The body ended: dispatches an event still open (a server may omit the last blank line).
    pub(super) fn finish(
        mut self,
        on_event: &mut impl FnMut(&str, &str) -> Result<(), String>,
    ) -> Result<(), String> {
        // Two line ends close a last line and the event it belongs to; after a complete
        // event they are blank lines, which dispatch nothing.
        self.feed(b"\n\n", on_event)
    }

    fn dispatch(
        &mut self,
        on_event: &mut impl FnMut(&str, &str) -> Result<(), String>,
    ) -> Result<(), String> {
        while let Some(event) = self.decoder.next_event() {
            on_event(&event.event, &event.data)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn events(chunks: &[&[u8]]) -> Vec<(String, String)> {
        let mut reader = SseReader::default();
        let mut seen = Vec::new();
        let mut push = |kind: &str, data: &str| {
            seen.push((kind.to_owned(), data.to_owned()));
            Ok(())
        };
        for chunk in chunks {
            reader.feed(chunk, &mut push).expect("feed");
        }
        reader.finish(&mut push).expect("finish");
        seen
    }

    #[test]
    fn events_split_across_chunks_and_line_endings() {
        let seen = events(&[
            b"data: {\"a\"",
            b":1}\n\n: ping\r\n\r\nevent: error\r\nda",
            b"ta: x\r\n\r\n",
        ]);
        assert_eq!(
            seen,
            [
                (String::new(), "{\"a\":1}".to_owned()),
                ("error".to_owned(), "x".to_owned())
            ]
        );
    }

    #[test]
    fn multi_line_data_joins_and_an_unterminated_event_counts() {
        let seen = events(&[b"data: a\ndata: b\n\nid: 3\ndata: c"]);
        assert_eq!(
            seen,
            [
                (String::new(), "a\nb".to_owned()),
                (String::new(), "c".to_owned())
            ]
        );
    }

    #[test]
    fn an_endless_line_is_refused() {
        let mut reader = SseReader::default();
        let long = vec![b'x'; MAX_LINE + 1];
        assert!(reader.feed(&long, &mut |_, _| Ok(())).is_err());
    }
}
