//! The envelope as a message body: every field, byte-exact.
//!
//! NATS header names cannot carry arbitrary envelope header keys (spaces, non-ASCII), so
//! the whole envelope travels in the body: a version byte, the length-prefixed string
//! fields, the header and meta maps, the timestamp, then the payload as the rest. Only
//! `Nats-Msg-Id` goes in a NATS header.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::{Buf, BufMut, Bytes, BytesMut};
use harbor_distributed::{Envelope, Identity};

const VERSION: u8 = 1;

/// The body for `envelope`.
pub(crate) fn encode(envelope: &Envelope) -> Bytes {
    let map_len = |m: &BTreeMap<String, String>| {
        m.iter().map(|(k, v)| 8 + k.len() + v.len()).sum::<usize>() + 4
    };
    let id = &envelope.identity;
    let strings = envelope.edge.len()
        + envelope.source.len()
        + envelope.target.len()
        + id.tenant.len()
        + id.user.len()
        + id.session.len()
        + id.run.as_deref().map_or(0, str::len)
        + envelope.task_id.as_deref().map_or(0, str::len)
        + envelope.event_id.len();
    let size = 1
        + 9 * 4
        + 2
        + strings
        + map_len(&envelope.headers)
        + map_len(&envelope.meta)
        + 13
        + envelope.payload.len();
    let mut out = BytesMut::with_capacity(size);
    out.put_u8(VERSION);
    put_str(&mut out, &envelope.edge);
    put_str(&mut out, &envelope.source);
    put_str(&mut out, &envelope.target);
    put_str(&mut out, &id.tenant);
    put_str(&mut out, &id.user);
    put_str(&mut out, &id.session);
    put_opt(&mut out, id.run.as_deref());
    put_opt(&mut out, envelope.task_id.as_deref());
    put_str(&mut out, &envelope.event_id);
    put_map(&mut out, &envelope.headers);
    put_map(&mut out, &envelope.meta);
    let (negative, since) = match envelope.timestamp.duration_since(UNIX_EPOCH) {
        Ok(d) => (0u8, d),
        Err(e) => (1u8, e.duration()),
    };
    out.put_u8(negative);
    out.put_u64_le(since.as_secs());
    out.put_u32_le(since.subsec_nanos());
    out.put_slice(&envelope.payload);
    out.freeze()
}

/// The envelope in `body`, or why it is not one.
pub(crate) fn decode(mut body: Bytes) -> Result<Envelope, String> {
    if body.is_empty() || body.get_u8() != VERSION {
        return Err("not a harbor envelope (unknown frame version)".into());
    }
    let edge: Arc<str> = get_str(&mut body)?.into();
    let source = get_str(&mut body)?;
    let target = get_str(&mut body)?;
    let tenant = get_str(&mut body)?;
    let user = get_str(&mut body)?;
    let session = get_str(&mut body)?;
    let run = get_opt(&mut body)?;
    let task_id = get_opt(&mut body)?;
    let event_id = get_str(&mut body)?;
    let headers = get_map(&mut body)?;
    let meta = get_map(&mut body)?;
    if body.remaining() < 13 {
        return Err("truncated timestamp".into());
    }
    let negative = body.get_u8() == 1;
    let since = Duration::new(body.get_u64_le(), body.get_u32_le());
    let timestamp = if negative {
        UNIX_EPOCH.checked_sub(since)
    } else {
        UNIX_EPOCH.checked_add(since)
    }
    .ok_or("timestamp out of range")?;
    Ok(Envelope {
        edge,
        source,
        target,
        identity: Identity {
            tenant: tenant.into(),
            user: user.into(),
            session: session.into(),
            run: run.map(Into::into),
        },
        task_id,
        event_id,
        payload: body,
        headers,
        meta,
        timestamp: timestamp as SystemTime,
    })
}

fn put_str(out: &mut BytesMut, s: &str) {
    out.put_u32_le(s.len() as u32);
    out.put_slice(s.as_bytes());
}

fn put_opt(out: &mut BytesMut, s: Option<&str>) {
    match s {
        Some(s) => {
            out.put_u8(1);
            put_str(out, s);
        }
        None => out.put_u8(0),
    }
}

fn put_map(out: &mut BytesMut, map: &BTreeMap<String, String>) {
    out.put_u32_le(map.len() as u32);
    for (k, v) in map {
        put_str(out, k);
        put_str(out, v);
    }
}

fn get_str(body: &mut Bytes) -> Result<String, String> {
    if body.remaining() < 4 {
        return Err("truncated length".into());
    }
    let len = body.get_u32_le() as usize;
    if body.remaining() < len {
        return Err("truncated string".into());
    }
    let bytes = body.split_to(len);
    String::from_utf8(bytes.to_vec()).map_err(|_| "a string field is not UTF-8".to_owned())
}

fn get_opt(body: &mut Bytes) -> Result<Option<String>, String> {
    if body.is_empty() {
        return Err("truncated option".into());
    }
    match body.get_u8() {
        0 => Ok(None),
        1 => get_str(body).map(Some),
        _ => Err("bad option tag".into()),
    }
}

fn get_map(body: &mut Bytes) -> Result<BTreeMap<String, String>, String> {
    if body.remaining() < 4 {
        return Err("truncated map".into());
    }
    let n = body.get_u32_le();
    let mut map = BTreeMap::new();
    for _ in 0..n {
        let k = get_str(body)?;
        let v = get_str(body)?;
        map.insert(k, v);
    }
    Ok(map)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelopes_round_trip_exactly() {
        let who = Identity::new("t", "ユーザー", "séance")
            .expect("identity")
            .with_run("run-🚀");
        let mut env = Envelope::new("a.b", who, "ev-1", vec![0u8, 255, 7])
            .with_task("tâche")
            .with_header("spaces and\ttabs", "  v  ")
            .with_header("empty", "");
        env.meta.insert("méta".into(), "ß".into());
        env.source = "src".into();
        env.timestamp = UNIX_EPOCH + Duration::new(1_700_000_000, 123_456_789);
        assert_eq!(decode(encode(&env)).as_ref(), Ok(&env));
        env.timestamp = UNIX_EPOCH - Duration::new(5, 7);
        env.payload = Bytes::new();
        env.task_id = None;
        assert_eq!(decode(encode(&env)).as_ref(), Ok(&env));
    }

    #[test]
    fn garbage_is_refused() {
        assert!(decode(Bytes::from_static(b"")).is_err());
        assert!(decode(Bytes::from_static(b"{\"json\":1}")).is_err());
        assert!(decode(Bytes::from_static(&[1, 9, 0, 0, 0, b'a'])).is_err());
    }
}
