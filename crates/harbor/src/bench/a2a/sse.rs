//! A small incremental reader of `text/event-stream` bodies.

/// Longest line (and event) the reader accepts, so a broken server cannot grow it unbounded.
const MAX_LINE: usize = 1 << 20;

/// Splits SSE chunks into events: `data:` lines joined by newlines, with the `event:` field;
/// comments and other fields are skipped.
#[derive(Debug, Default)]
pub(super) struct SseReader {
    pending: Vec<u8>,
    data: String,
    has_data: bool,
    kind: String,
}

impl SseReader {
    /// Feeds one chunk, calling `on_event(kind, data)` for every event it completes.
    pub(super) fn feed(
        &mut self,
        chunk: &[u8],
        on_event: &mut impl FnMut(&str, &str) -> Result<(), String>,
    ) -> Result<(), String> {
        self.pending.extend_from_slice(chunk);
        // Taken out so its lines can be read while `self` records them.
        let mut pending = std::mem::take(&mut self.pending);
        let mut start = 0;
        while let Some(end) = pending[start..].iter().position(|&b| b == b'\n') {
            let line = &pending[start..start + end];
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            let line =
                std::str::from_utf8(line).map_err(|_| "an SSE line is not UTF-8".to_owned())?;
            self.line(line, on_event)?;
            start += end + 1;
        }
        pending.drain(..start);
        self.pending = pending;
        if self.pending.len() > MAX_LINE || self.data.len() > MAX_LINE {
            return Err(format!("an SSE event is longer than {MAX_LINE} bytes"));
        }
        Ok(())
    }

    /// The body ended: dispatches an event still open (a server may omit the last blank line).
    pub(super) fn finish(
        mut self,
        on_event: &mut impl FnMut(&str, &str) -> Result<(), String>,
    ) -> Result<(), String> {
        if !self.pending.is_empty() {
            let rest = String::from_utf8(std::mem::take(&mut self.pending))
                .map_err(|_| "an SSE line is not UTF-8".to_owned())?;
            self.line(rest.trim_end_matches('\r'), on_event)?;
        }
        self.line("", on_event)
    }

    fn line(
        &mut self,
        line: &str,
        on_event: &mut impl FnMut(&str, &str) -> Result<(), String>,
    ) -> Result<(), String> {
        if line.is_empty() {
            let result = if self.has_data {
                on_event(&self.kind, &self.data)
            } else {
                Ok(())
            };
            self.data.clear();
            self.kind.clear();
            self.has_data = false;
            return result;
        }
        if line.starts_with(':') {
            return Ok(());
        }
        let (field, value) = line.split_once(':').unwrap_or((line, ""));
        let value = value.strip_prefix(' ').unwrap_or(value);
        match field {
            "data" => {
                if self.has_data {
                    self.data.push('\n');
                }
                self.data.push_str(value);
                self.has_data = true;
            }
            "event" => value.clone_into(&mut self.kind),
            _ => {}
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
