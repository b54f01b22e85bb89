//! The stored form of an envelope: a compact, versioned, checksummed binary record.
//!
//! ```text
//! version      u8 (1)
//! stored_at    u64 LE, milliseconds since the Unix epoch (for retention)
//! edge, source, target, tenant, user, session          varint length + UTF-8
//! run, task_id  u8 flag (0 absent, 1 present) [+ varint length + UTF-8]
//! event_id     varint length + UTF-8
//! timestamp    u8 (0 at or after the epoch, 1 before) + varint seconds + varint nanos
//! payload      varint length + bytes
//! headers, meta  varint count + (key, value) pairs as above
//! checksum     u64 LE, FNV-1a of every byte before it
//! ```
//!
//! Decoding checks the version, every length, UTF-8 and the checksum, and fails with a
//! [`RecordError`] naming what is wrong; it never panics on bad bytes.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use harbor_distributed::{Envelope, Identity};

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

fn put_opt(out: &mut Vec<u8>, value: Option<&str>) {
    match value {
        None => out.push(0),
        Some(s) => {
            out.push(1);
            put_bytes(out, s.as_bytes());
        }
    }
}

fn put_map(out: &mut Vec<u8>, map: &BTreeMap<String, String>) {
    put_varint(out, map.len() as u64);
    for (k, v) in map {
        put_bytes(out, k.as_bytes());
        put_bytes(out, v.as_bytes());
    }
}

/// Encodes `envelope`, stored at `stored_at_ms` (milliseconds since the epoch).
pub(crate) fn encode(envelope: &Envelope, stored_at_ms: u64) -> Vec<u8> {
    let strings = envelope.edge.len()
        + envelope.source.len()
        + envelope.target.len()
        + envelope.event_id.len()
        + envelope.task_id.as_ref().map_or(0, String::len)
        + envelope.identity.tenant.len()
        + envelope.identity.user.len()
        + envelope.identity.session.len();
    let mut out = Vec::with_capacity(64 + strings + envelope.payload.len());
    out.push(VERSION);
    out.extend_from_slice(&stored_at_ms.to_le_bytes());
    let id = &envelope.identity;
    for s in [
        &*envelope.edge,
        &envelope.source,
        &envelope.target,
        &id.tenant,
        &id.user,
        &id.session,
    ] {
        put_bytes(&mut out, s.as_bytes());
    }
    put_opt(&mut out, id.run.as_deref());
    put_opt(&mut out, envelope.task_id.as_deref());
    put_bytes(&mut out, envelope.event_id.as_bytes());
    let (sign, since) = match envelope.timestamp.duration_since(UNIX_EPOCH) {
        Ok(d) => (0, d),
        Err(e) => (1, e.duration()),
    };
    out.push(sign);
    put_varint(&mut out, since.as_secs());
    put_varint(&mut out, u64::from(since.subsec_nanos()));
    put_bytes(&mut out, &envelope.payload);
    put_map(&mut out, &envelope.headers);
    put_map(&mut out, &envelope.meta);
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

/// Reads fields off a record body.
struct Reader<'a> {
    bytes: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8], RecordError> {
        if self.bytes.len() < n {
            return Err(bad(format!(
                "{what}: {n} bytes expected, {} left",
                self.bytes.len()
            )));
        }
        let (head, rest) = self.bytes.split_at(n);
        self.bytes = rest;
        Ok(head)
    }

    fn byte(&mut self, what: &str) -> Result<u8, RecordError> {
        Ok(self.take(1, what)?[0])
    }

    fn varint(&mut self, what: &str) -> Result<u64, RecordError> {
        let mut n: u64 = 0;
        for shift in (0..64).step_by(7) {
            let b = self.byte(what)?;
            n |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(n);
            }
        }
        Err(bad(format!("{what}: varint too long")))
    }

    fn bytes(&mut self, what: &str) -> Result<&'a [u8], RecordError> {
        let len = self.varint(what)?;
        let len = usize::try_from(len).map_err(|_| bad(format!("{what}: length {len}")))?;
        self.take(len, what)
    }

    fn string(&mut self, what: &str) -> Result<&'a str, RecordError> {
        std::str::from_utf8(self.bytes(what)?).map_err(|e| bad(format!("{what}: {e}")))
    }

    fn opt(&mut self, what: &str) -> Result<Option<&'a str>, RecordError> {
        match self.byte(what)? {
            0 => Ok(None),
            1 => self.string(what).map(Some),
            flag => Err(bad(format!("{what}: presence flag {flag}"))),
        }
    }

    fn map(&mut self, what: &str) -> Result<BTreeMap<String, String>, RecordError> {
        let n = self.varint(what)?;
        let mut map = BTreeMap::new();
        for _ in 0..n {
            let k = self.string(what)?.to_owned();
            let v = self.string(what)?.to_owned();
            map.insert(k, v);
        }
        Ok(map)
    }
}

/// Checks version and checksum; returns the body between them.
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
    let mut r = Reader {
        bytes: &body(record)?[8..],
    };
    let edge: Arc<str> = r.string("edge")?.into();
    let source = r.string("source")?.to_owned();
    let target = r.string("target")?.to_owned();
    let tenant: Arc<str> = r.string("tenant")?.into();
    let user: Arc<str> = r.string("user")?.into();
    let session: Arc<str> = r.string("session")?.into();
    let run = r.opt("run")?.map(Arc::from);
    let task_id = r.opt("task_id")?.map(str::to_owned);
    let event_id = r.string("event_id")?.to_owned();
    let sign = r.byte("timestamp")?;
    let secs = r.varint("timestamp")?;
    let nanos = r.varint("timestamp")?;
    let nanos = u32::try_from(nanos)
        .ok()
        .filter(|n| *n < 1_000_000_000)
        .ok_or_else(|| bad(format!("timestamp: {nanos} nanoseconds")))?;
    let since = Duration::new(secs, nanos);
    let timestamp = match sign {
        0 => UNIX_EPOCH.checked_add(since),
        1 => UNIX_EPOCH.checked_sub(since),
        _ => None,
    }
    .ok_or_else(|| bad("timestamp out of range"))?;
    let payload = Bytes::copy_from_slice(r.bytes("payload")?);
    let headers = r.map("headers")?;
    let meta = r.map("meta")?;
    if !r.bytes.is_empty() {
        return Err(bad(format!("{} bytes after the last field", r.bytes.len())));
    }
    Ok(Envelope {
        edge,
        source,
        target,
        identity: Identity {
            tenant,
            user,
            session,
            run,
        },
        task_id,
        event_id,
        payload,
        headers,
        meta,
        timestamp,
    })
}

/// Milliseconds since the epoch, now.
pub(crate) fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

#[cfg(test)]
mod tests {
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
        record.extend_from_slice(&[0xff, 0xff, 0xff, 0xff, 0x0f]);
        let sum = checksum(&record);
        record.extend_from_slice(&sum.to_le_bytes());
        let error = decode(&record).expect_err("lying length decodes");
        assert!(error.to_string().contains("edge"), "{error}");
    }
}
