//! The stream entry format of an envelope: one binary field, length-prefixed strings.
//!
//! Layout (integers little-endian): version byte `1`; then edge, tenant, user, session as
//! `u32` length + bytes; a flag byte and the run; source, target; a flag byte and the task
//! id; event id; timestamp as `i64` seconds + `u32` nanoseconds from the Unix epoch; `u32`
//! header count and pairs; `u32` meta count and pairs; the payload to the end. Edge and
//! tenant come first so filtering could stop early; binary-safe, no escaping.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use bytes::Bytes;
use harbor_distributed::{Envelope, Error, Identity};

const VERSION: u8 = 1;

/// Encodes `envelope` for the `d` field of a stream entry.
pub(crate) fn encode(envelope: &Envelope) -> Vec<u8> {
    let strings = envelope.edge.len()
        + envelope.identity.tenant.len()
        + envelope.identity.user.len()
        + envelope.identity.session.len()
        + envelope.source.len()
        + envelope.target.len()
        + envelope.event_id.len()
        + 128;
    let mut out = Vec::with_capacity(strings + envelope.payload.len());
    out.push(VERSION);
    put(&mut out, &envelope.edge);
    put(&mut out, &envelope.identity.tenant);
    put(&mut out, &envelope.identity.user);
    put(&mut out, &envelope.identity.session);
    put_opt(&mut out, envelope.identity.run.as_deref());
    put(&mut out, &envelope.source);
    put(&mut out, &envelope.target);
    put_opt(&mut out, envelope.task_id.as_deref());
    put(&mut out, &envelope.event_id);
    let (secs, nanos) = match envelope.timestamp.duration_since(UNIX_EPOCH) {
        Ok(d) => (d.as_secs() as i64, d.subsec_nanos()),
        Err(e) => {
            // Before the epoch: floor to whole seconds, nanoseconds always positive.
            let d = e.duration();
            let (s, n) = (d.as_secs() as i64, d.subsec_nanos());
            if n == 0 {
                (-s, 0)
            } else {
                (-s - 1, 1_000_000_000 - n)
            }
        }
    };
    out.extend_from_slice(&secs.to_le_bytes());
    out.extend_from_slice(&nanos.to_le_bytes());
    put_map(&mut out, &envelope.headers);
    put_map(&mut out, &envelope.meta);
    out.extend_from_slice(&envelope.payload);
    out
}

/// Decodes what [`encode`] wrote.
pub(crate) fn decode(data: &[u8]) -> Result<Envelope, Error> {
    let mut r = Reader { data, at: 0 };
    if r.take(1)? != [VERSION] {
        return Err(corrupt("unknown entry format version"));
    }
    let edge: Arc<str> = r.string()?.into();
    let tenant: Arc<str> = r.string()?.into();
    let user: Arc<str> = r.string()?.into();
    let session: Arc<str> = r.string()?.into();
    let run = r.opt()?.map(Arc::<str>::from);
    let source = r.string()?.to_owned();
    let target = r.string()?.to_owned();
    let task_id = r.opt()?.map(str::to_owned);
    let event_id = r.string()?.to_owned();
    let secs = i64::from_le_bytes(r.array::<8>()?);
    let nanos = u32::from_le_bytes(r.array::<4>()?);
    let timestamp = if secs >= 0 {
        UNIX_EPOCH + Duration::new(secs as u64, nanos)
    } else {
        UNIX_EPOCH - Duration::from_secs(secs.unsigned_abs()) + Duration::from_nanos(nanos.into())
    };
    let headers = r.map()?;
    let meta = r.map()?;
    let payload = Bytes::copy_from_slice(&data[r.at..]);
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

fn put(out: &mut Vec<u8>, s: &str) {
    out.extend_from_slice(&(s.len() as u32).to_le_bytes());
    out.extend_from_slice(s.as_bytes());
}

fn put_opt(out: &mut Vec<u8>, s: Option<&str>) {
    match s {
        Some(s) => {
            out.push(1);
            put(out, s);
        }
        None => out.push(0),
    }
}

fn put_map(out: &mut Vec<u8>, map: &BTreeMap<String, String>) {
    out.extend_from_slice(&(map.len() as u32).to_le_bytes());
    for (k, v) in map {
        put(out, k);
        put(out, v);
    }
}

fn corrupt(what: &str) -> Error {
    Error::Backend {
        driver: "redis",
        retryable: false,
        source: format!("corrupt stream entry: {what}").into(),
    }
}

struct Reader<'a> {
    data: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], Error> {
        let end = self.at.checked_add(n).filter(|e| *e <= self.data.len());
        let end = end.ok_or_else(|| corrupt("truncated"))?;
        let out = &self.data[self.at..end];
        self.at = end;
        Ok(out)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], Error> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }

    fn string(&mut self) -> Result<&'a str, Error> {
        let len = u32::from_le_bytes(self.array::<4>()?) as usize;
        std::str::from_utf8(self.take(len)?).map_err(|_| corrupt("a string is not UTF-8"))
    }

    fn opt(&mut self) -> Result<Option<&'a str>, Error> {
        match self.take(1)? {
            [0] => Ok(None),
            [1] => self.string().map(Some),
            _ => Err(corrupt("bad option flag")),
        }
    }

    fn map(&mut self) -> Result<BTreeMap<String, String>, Error> {
        let n = u32::from_le_bytes(self.array::<4>()?);
        let mut map = BTreeMap::new();
        for _ in 0..n {
            let k = self.string()?.to_owned();
            map.insert(k, self.string()?.to_owned());
        }
        Ok(map)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelopes_round_trip_exactly() {
        let identity = Identity::new("t", "ü", "s")
            .expect("identity")
            .with_run("r🚀");
        let mut env = Envelope::new("a.b", identity, "ev-1", Bytes::from_static(b"\0\xffx"))
            .with_task("task")
            .with_header("k", "v")
            .with_header("", "");
        env.meta.insert("m".into(), "n".into());
        env.source = "src".into();
        for ts in [
            UNIX_EPOCH + Duration::new(1_700_000_000, 123_456_789),
            UNIX_EPOCH - Duration::new(5, 250),
            UNIX_EPOCH - Duration::from_secs(3),
            UNIX_EPOCH,
        ] {
            env.timestamp = ts;
            assert_eq!(decode(&encode(&env)).expect("decode"), env);
        }
        let mut bare = Envelope::new("x", Identity::new("t", "u", "s").expect("id"), "e", "");
        bare.timestamp = UNIX_EPOCH;
        assert_eq!(decode(&encode(&bare)).expect("decode"), bare);
    }

    #[test]
    fn corrupt_entries_are_errors() {
        assert!(decode(b"").is_err());
        assert!(decode(&[9]).is_err());
        let env = Envelope::new("x", Identity::new("t", "u", "s").expect("id"), "e", "p");
        let data = encode(&env);
        assert!(decode(&data[..10]).is_err());
    }
}
