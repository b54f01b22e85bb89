//! The stored form of an envelope: a versioned, checksummed record around the envelope's
//! [`frame`](harbor_distributed::frame) (the binary form every driver shares).
//!
//! ```text
//! version      u8 (1)
//! stored_at    u64 LE, milliseconds since the Unix epoch (for retention)
//! frame        the envelope, harbor_distributed::frame
//! checksum     u64 LE, FNV-1a of every byte before it
//! ```
//!
//! Decoding checks the version and the checksum, then the frame, and fails with a
//! [`RecordError`] naming what is wrong; it never panics on bad bytes.

use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use harbor_distributed::{Envelope, frame};

/// The record format version this crate writes and reads.
pub(crate) const VERSION: u8 = 1;

const CHECKSUM: usize = 8;

/// A stored record that does not decode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordError(String);

impl fmt::Display for RecordError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "corrupt bus record: {}", self.0)
    }
}

impl std::error::Error for RecordError {}

fn bad(what: impl Into<String>) -> RecordError {
    RecordError(what.into())
}

/// FNV-1a, 64 bits.
fn checksum(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash
}

fn put_varint(out: &mut Vec<u8>, mut n: u64) {
    while n >= 0x80 {
        out.push((n as u8) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

fn put_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    put_varint(out, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

/// Encodes `envelope`, stored at `stored_at_ms` (milliseconds since the epoch).
pub(crate) fn encode(envelope: &Envelope, stored_at_ms: u64) -> Vec<u8> {
    let mut out = Vec::with_capacity(1 + 8 + frame::encoded_len(envelope) + CHECKSUM);
    out.push(VERSION);
    out.extend_from_slice(&stored_at_ms.to_le_bytes());
    frame::write(envelope, &mut out);
    let sum = checksum(&out);
    out.extend_from_slice(&sum.to_le_bytes());
    out
}

/// The publish dedup key of `envelope`: `(task_id, edge, event_id)`, length-prefixed.
pub(crate) fn dedup_key(envelope: &Envelope) -> Vec<u8> {
    let task = envelope.task_id.as_deref().unwrap_or("");
    let mut out =
        Vec::with_capacity(8 + task.len() + envelope.edge.len() + envelope.event_id.len());
    put_bytes(&mut out, task.as_bytes());
    put_bytes(&mut out, envelope.edge.as_bytes());
    put_bytes(&mut out, envelope.event_id.as_bytes());
    out
}

/// Checks version and checksum; returns the body between them (`stored_at` and frame).
fn body(record: &[u8]) -> Result<&[u8], RecordError> {
    if record.len() < 1 + 8 + CHECKSUM {
        return Err(bad(format!("{} bytes is too short", record.len())));
    }
    if record[0] != VERSION {
        return Err(bad(format!(
            "format version {} (this build reads {VERSION})",
            record[0]
        )));
    }
    let (content, sum) = record.split_at(record.len() - CHECKSUM);
    let mut stored = [0u8; CHECKSUM];
    stored.copy_from_slice(sum);
    if u64::from_le_bytes(stored) != checksum(content) {
        return Err(bad("checksum mismatch"));
    }
    Ok(&content[1..])
}

/// When the record was stored, in milliseconds since the epoch (checks the record).
pub(crate) fn stored_at(record: &[u8]) -> Result<u64, RecordError> {
    let body = body(record)?;
    let mut at = [0u8; 8];
    at.copy_from_slice(&body[..8]);
    Ok(u64::from_le_bytes(at))
}

/// Decodes a record.
pub(crate) fn decode(record: &[u8]) -> Result<Envelope, RecordError> {
    let frame = Bytes::copy_from_slice(&body(record)?[8..]);
    frame::decode(frame).map_err(|e| bad(e.to_string()))
}

/// Milliseconds since the epoch, now.
pub(crate) fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use harbor_distributed::Identity;

    use super::*;

    fn sample() -> Envelope {
        let identity = Identity::new("tën", "ü", "s")
            .expect("identity")
            .with_run("r-🚀");
        let mut env = Envelope::new("a.b", identity, "ev-1", (0..=255u8).collect::<Vec<_>>())
            .with_task("task-1")
            .with_header("k", "v");
        env.meta.insert("m".into(), String::new());
        env.source = "src".into();
        env.timestamp = UNIX_EPOCH - Duration::new(5, 7);
        env
    }

    #[test]
    fn every_field_round_trips() {
        let env = sample();
        let record = encode(&env, 42);
        assert_eq!(decode(&record).expect("decode"), env);
        assert_eq!(stored_at(&record).expect("stored_at"), 42);
        let mut empty = Envelope::new("x", env.identity.clone(), "e", Vec::new());
        empty.identity.run = None;
        assert_eq!(decode(&encode(&empty, 0)).expect("decode"), empty);
    }

    #[test]
    fn corrupted_records_give_clear_errors() {
        let record = encode(&sample(), 1);
        let mut flipped = record.clone();
        flipped[20] ^= 0x40;
        let error = decode(&flipped).expect_err("a flipped bit decodes");
        assert_eq!(error.to_string(), "corrupt bus record: checksum mismatch");
        let error = decode(&record[..record.len() / 2]).expect_err("a torn record decodes");
        assert!(
            error.to_string().starts_with("corrupt bus record"),
            "{error}"
        );
        let mut version = record.clone();
        version[0] = 9;
        let error = decode(&version).expect_err("an unknown version decodes");
        assert!(error.to_string().contains("format version 9"), "{error}");
        assert!(decode(&[]).is_err() && decode(&[1, 2, 3]).is_err());
        // Every truncation and every single-byte change is refused, never a panic.
        for cut in 0..record.len() {
            assert!(decode(&record[..cut]).is_err(), "truncated at {cut}");
        }
        for i in 0..record.len() {
            let mut changed = record.clone();
            changed[i] = changed[i].wrapping_add(1);
            assert!(decode(&changed).is_err(), "byte {i} changed");
        }
    }

    #[test]
    fn the_body_is_validated_behind_a_valid_checksum() {
        // A record whose checksum matches but whose lengths lie still fails cleanly.
        let mut record = vec![VERSION];
        record.extend_from_slice(&0u64.to_le_bytes());
        record.extend_from_slice(&[1, 0xff, 0xff, 0xff, 0x0f]);
        let sum = checksum(&record);
        record.extend_from_slice(&sum.to_le_bytes());
        let error = decode(&record).expect_err("lying length decodes");
        assert!(error.to_string().contains("truncated string"), "{error}");
    }
}
