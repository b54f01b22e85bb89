//! Lines from a pipe, each cut at a bound: a program's output may be anything.

use tokio::io::{AsyncBufRead, AsyncBufReadExt};

/// One line, without its newline.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct Line {
    /// At most the bound's bytes of the line.
    pub(super) bytes: Vec<u8>,
    /// Whether the line was longer than the bound (the rest was skipped).
    pub(super) cut: bool,
}

/// Reads lines of at most `max` bytes; the rest of a longer line is read and dropped, so
/// memory stays bounded whatever the program prints.
///
/// [`next_line`](Self::next_line) is cancel-safe: a partly read line stays here, so it
/// may sit in a `select!` beside timers.
#[derive(Debug)]
pub(super) struct BoundedLines<R> {
    reader: R,
    max: usize,
    /// The line read so far, and whether anything of it was read.
    pending: Line,
    started: bool,
}

impl<R: AsyncBufRead + Unpin> BoundedLines<R> {
    pub(super) fn new(reader: R, max: usize) -> Self {
        Self {
            reader,
            max,
            pending: Line::default(),
            started: false,
        }
    }

    /// The next line; `None` at the end (a last line without a newline still counts).
    pub(super) async fn next_line(&mut self) -> std::io::Result<Option<Line>> {
        loop {
            let buffer = self.reader.fill_buf().await?;
            if buffer.is_empty() {
                return Ok(self.take());
            }
            self.started = true;
            let (chunk, used, done) = match find_newline(buffer) {
                Some(at) => (&buffer[..at], at + 1, true),
                None => (buffer, buffer.len(), false),
            };
            let line = &mut self.pending;
            let room = self.max.saturating_sub(line.bytes.len());
            if chunk.len() > room {
                line.cut = true;
            }
            line.bytes
                .extend_from_slice(&chunk[..chunk.len().min(room)]);
            self.reader.consume(used);
            if done {
                if self.pending.bytes.last() == Some(&b'\r') {
                    self.pending.bytes.pop();
                }
                return Ok(self.take());
            }
        }
    }

    /// The pending line, if anything of it was read.
    fn take(&mut self) -> Option<Line> {
        let started = std::mem::take(&mut self.started);
        let line = std::mem::take(&mut self.pending);
        started.then_some(line)
    }
}

fn find_newline(buffer: &[u8]) -> Option<usize> {
    buffer.iter().position(|b| *b == b'\n')
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn all(input: &[u8], max: usize, capacity: usize) -> Vec<(String, bool)> {
        let reader = tokio::io::BufReader::with_capacity(capacity, input);
        let mut lines = BoundedLines::new(reader, max);
        let mut out = Vec::new();
        while let Some(line) = lines.next_line().await.expect("read") {
            out.push((String::from_utf8_lossy(&line.bytes).into_owned(), line.cut));
        }
        out
    }

    #[tokio::test]
    async fn lines_are_split_and_cut_at_the_bound() {
        let input = b"one\r\ntwo\n0123456789abcdef\n\nlast";
        for capacity in [1, 3, 64] {
            assert_eq!(
                all(input, 8, capacity).await,
                [
                    ("one".to_owned(), false),
                    ("two".to_owned(), false),
                    ("01234567".to_owned(), true),
                    (String::new(), false),
                    ("last".to_owned(), false),
                ],
                "buffer of {capacity} bytes"
            );
        }
        assert!(all(b"", 8, 8).await.is_empty());
    }
}
