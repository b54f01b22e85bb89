//! The envelope as bytes, every field byte-exact: the one binary form the drivers store
//! and send (a JetStream message body, a Redis stream entry, an embedded log record).
//!
//! Layout (integers little-endian): version byte `1`; edge, source, target, tenant, user,
//! session as `u32` length + UTF-8; run and task id as a flag byte (0 absent, 1 present)
//! and the string; event id; the header and meta maps as a `u32` count and key, value
//! pairs; the timestamp as a sign byte (0 at or after the Unix epoch, 1 before), `u64`
//! seconds and `u32` nanoseconds; then the payload as the rest. Binary-safe, no escaping,
//! and the payload is never copied on decode.
//!
//! ```
//! use harbor_distributed::{Envelope, Identity, frame};
//!
//! let who = Identity::new("acme", "ana", "s1")?;
//! let envelope = Envelope::new("orders.created", who, "ev-1", "{}").with_task("t-1");
//! let bytes = frame::encode(&envelope);
//! assert_eq!(frame::decode(bytes)?, envelope);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::{Buf, BufMut, Bytes, BytesMut};

use crate::{Envelope, Identity};

const VERSION: u8 = 1;

/// Bytes that are not an envelope frame; says what is wrong with them.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a harbor envelope frame: {0}")]
pub struct FrameError(String);

/// The frame of `envelope`.
pub fn encode(envelope: &Envelope) -> Bytes {
    let mut out = BytesMut::with_capacity(encoded_len(envelope));
    write(envelope, &mut out);
    out.freeze()
}

/// The length of the frame of `envelope`.
pub fn encoded_len(envelope: &Envelope) -> usize {
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
        + envelope.event_id.len();
    let optional = |s: Option<&str>| s.map_or(1, |s| 1 + 4 + s.len());
    1 + 7 * 4
        + strings
        + optional(id.run.as_deref())
        + optional(envelope.task_id.as_deref())
        + map_len(&envelope.headers)
        + map_len(&envelope.meta)
        + 13
        + envelope.payload.len()
}

/// Appends the frame of `envelope` to `out`.
pub fn write(envelope: &Envelope, out: &mut impl BufMut) {
    let id = &envelope.identity;
    out.put_u8(VERSION);
    put_str(out, &envelope.edge);
    put_str(out, &envelope.source);
    put_str(out, &envelope.target);
    put_str(out, &id.tenant);
    put_str(out, &id.user);
    put_str(out, &id.session);
    put_opt(out, id.run.as_deref());
    put_opt(out, envelope.task_id.as_deref());
    put_str(out, &envelope.event_id);
    put_map(out, &envelope.headers);
    put_map(out, &envelope.meta);
    let (negative, since) = match envelope.timestamp.duration_since(UNIX_EPOCH) {
        Ok(d) => (0u8, d),
        Err(e) => (1u8, e.duration()),
    };
    out.put_u8(negative);
    out.put_u64_le(since.as_secs());
    out.put_u32_le(since.subsec_nanos());
    out.put_slice(&envelope.payload);
}

/// The envelope in `body`; its payload shares `body`'s memory.
///
/// # Errors
///
/// [`FrameError`] naming the first thing wrong: an unknown version, a truncated field,
/// a string that is not UTF-8, a timestamp out of range.
pub fn decode(mut body: Bytes) -> Result<Envelope, FrameError> {
    if body.is_empty() || body.get_u8() != VERSION {
        return Err(FrameError("unknown frame version".into()));
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
        return Err(FrameError("truncated timestamp".into()));
    }
    let negative = match body.get_u8() {
        0 => false,
        1 => true,
        _ => return Err(FrameError("bad timestamp sign".into())),
    };
    let (secs, nanos) = (body.get_u64_le(), body.get_u32_le());
    // `Duration::new` carries whole seconds out of `nanos` and panics when that overflows.
    if nanos >= 1_000_000_000 {
        return Err(FrameError("timestamp nanoseconds out of range".into()));
    }
    let since = Duration::new(secs, nanos);
    let timestamp = if negative {
        UNIX_EPOCH.checked_sub(since)
    } else {
        UNIX_EPOCH.checked_add(since)
    }
    .ok_or_else(|| FrameError("timestamp out of range".into()))?;
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

fn put_str(out: &mut impl BufMut, s: &str) {
    out.put_u32_le(s.len() as u32);
    out.put_slice(s.as_bytes());
}

fn put_opt(out: &mut impl BufMut, s: Option<&str>) {
    match s {
        Some(s) => {
            out.put_u8(1);
            put_str(out, s);
        }
        None => out.put_u8(0),
    }
}

fn put_map(out: &mut impl BufMut, map: &BTreeMap<String, String>) {
    out.put_u32_le(map.len() as u32);
    for (k, v) in map {
        put_str(out, k);
        put_str(out, v);
    }
}

fn get_str(body: &mut Bytes) -> Result<String, FrameError> {
    if body.remaining() < 4 {
        return Err(FrameError("truncated length".into()));
    }
    let len = body.get_u32_le() as usize;
    if body.remaining() < len {
        return Err(FrameError("truncated string".into()));
    }
    let bytes = body.split_to(len);
    String::from_utf8(bytes.to_vec()).map_err(|_| FrameError("a string field is not UTF-8".into()))
}

fn get_opt(body: &mut Bytes) -> Result<Option<String>, FrameError> {
    if body.is_empty() {
        return Err(FrameError("truncated option".into()));
    }
    match body.get_u8() {
        0 => Ok(None),
        1 => get_str(body).map(Some),
        _ => Err(FrameError("bad option tag".into())),
    }
}

fn get_map(body: &mut Bytes) -> Result<BTreeMap<String, String>, FrameError> {
    if body.remaining() < 4 {
        return Err(FrameError("truncated map".into()));
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
        assert_eq!(encode(&env).len(), encoded_len(&env));
        env.timestamp = UNIX_EPOCH - Duration::new(5, 7);
        env.payload = Bytes::new();
        env.task_id = None;
        assert_eq!(decode(encode(&env)).as_ref(), Ok(&env));
        assert_eq!(encode(&env).len(), encoded_len(&env));
    }

    #[test]
    fn garbage_is_refused() {
        assert!(decode(Bytes::from_static(b"")).is_err());
        assert!(decode(Bytes::from_static(b"{\"json\":1}")).is_err());
        assert!(decode(Bytes::from_static(&[1, 9, 0, 0, 0, b'a'])).is_err());
    }

    /// The tail of a frame (sign, seconds, nanoseconds) after a valid head.
    fn with_timestamp(sign: u8, secs: u64, nanos: u32) -> Result<Envelope, FrameError> {
        let who = Identity::new("t", "u", "s").expect("identity");
        let env = Envelope::new("a.b", who, "ev-1", Bytes::new());
        let mut bytes = BytesMut::from(&encode(&env)[..encoded_len(&env) - 13]);
        bytes.put_u8(sign);
        bytes.put_u64_le(secs);
        bytes.put_u32_le(nanos);
        decode(bytes.freeze())
    }

    /// Found by the `frame` fuzz target: `Duration::new(u64::MAX, u32::MAX)` panics.
    #[test]
    fn timestamps_out_of_range_are_refused_not_panicked_on() {
        let err = with_timestamp(0, u64::MAX, u32::MAX).expect_err("nanoseconds out of range");
        assert!(err.to_string().contains("nanoseconds"), "{err}");
        assert!(with_timestamp(0, 1, 1_000_000_000).is_err());
        assert!(
            with_timestamp(2, 1, 0)
                .expect_err("sign")
                .to_string()
                .contains("sign")
        );
        assert!(
            with_timestamp(0, u64::MAX, 0).is_err(),
            "past SystemTime's range"
        );
        let ok = with_timestamp(1, 5, 999_999_999).expect("a valid timestamp");
        assert_eq!(ok.timestamp, UNIX_EPOCH - Duration::new(5, 999_999_999));
    }
}
