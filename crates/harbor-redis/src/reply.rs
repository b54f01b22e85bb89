//! Reading stream replies (`XREADGROUP`, `XCLAIM`, `XPENDING`) straight from `redis::Value`,
//! keeping the binary entry data as it came.

use bytes::Bytes;
use redis::Value;

/// One stream entry as the driver stores it.
#[derive(Debug)]
pub(crate) struct Entry {
    /// The entry id (`<ms>-<seq>`).
    pub(crate) id: String,
    /// The encoded envelope (`d`); `None` for an entry deleted while pending.
    pub(crate) data: Option<Bytes>,
    /// Attempts made before this entry was written (`a`, retry stream entries only).
    pub(crate) base: u32,
}

/// One line of an extended `XPENDING` reply.
#[derive(Debug)]
pub(crate) struct Pending {
    pub(crate) id: String,
    pub(crate) count: u32,
}

fn text(v: Value) -> Option<String> {
    match v {
        Value::BulkString(b) => String::from_utf8(b).ok(),
        Value::SimpleString(s) => Some(s),
        _ => None,
    }
}

fn items(v: Value) -> Vec<Value> {
    match v {
        Value::Array(items) | Value::Set(items) => items,
        _ => Vec::new(),
    }
}

fn entry(v: Value) -> Option<Entry> {
    let mut parts = items(v).into_iter();
    let id = text(parts.next()?)?;
    let mut data = None;
    let mut base = 0;
    let mut fields = items(parts.next().unwrap_or(Value::Nil)).into_iter();
    while let (Some(k), Some(v)) = (fields.next(), fields.next()) {
        match (k, v) {
            (Value::BulkString(k), Value::BulkString(v)) if k == b"d" => {
                data = Some(Bytes::from(v))
            }
            (Value::BulkString(k), v) if k == b"a" => {
                base = text(v).and_then(|s| s.parse().ok()).unwrap_or(0)
            }
            _ => {}
        }
    }
    Some(Entry { id, data, base })
}

/// Entries of an `XCLAIM` or `XRANGE` reply.
pub(crate) fn entries(v: Value) -> Vec<Entry> {
    items(v).into_iter().filter_map(entry).collect()
}

/// `(stream key, entries)` of an `XREADGROUP` reply (nil when nothing came).
pub(crate) fn read_groups(v: Value) -> Vec<(String, Vec<Entry>)> {
    let pairs: Vec<(Value, Value)> = match v {
        Value::Map(pairs) => pairs,
        other => items(other)
            .into_iter()
            .filter_map(|s| {
                let mut s = items(s).into_iter();
                Some((s.next()?, s.next()?))
            })
            .collect(),
    };
    pairs
        .into_iter()
        .filter_map(|(k, v)| Some((text(k)?, entries(v))))
        .collect()
}

/// Lines of an extended `XPENDING key group [IDLE ms] start end count [consumer]` reply.
pub(crate) fn pending(v: Value) -> Vec<Pending> {
    items(v)
        .into_iter()
        .filter_map(|line| {
            let mut p = items(line).into_iter();
            let id = text(p.next()?)?;
            let _consumer = p.next()?;
            let _idle = p.next()?;
            let count = match p.next()? {
                Value::Int(n) => n as u32,
                _ => return None,
            };
            Some(Pending { id, count })
        })
        .collect()
}

/// The entry id of driver sequence `n` (`(ms << 20) | seq`) and back.
pub(crate) fn sequence_of(id: &str) -> Option<u64> {
    let (ms, seq) = id.split_once('-')?;
    let (ms, seq): (u64, u64) = (ms.parse().ok()?, seq.parse().ok()?);
    (seq < 1 << 20 && ms < 1 << 43).then_some((ms << 20) | seq)
}

/// The id just before sequence `n`, for `XGROUP CREATE` (which starts after the id).
pub(crate) fn id_before(n: u64) -> String {
    let (ms, seq) = (n >> 20, n & ((1 << 20) - 1));
    match (ms, seq) {
        (0, 0) => "0-0".to_owned(),
        (ms, 0) => format!("{}-{}", ms - 1, u64::MAX),
        (ms, seq) => format!("{ms}-{}", seq - 1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequences_map_to_ids() {
        let n = sequence_of("1700000000000-5").expect("fits");
        assert_eq!(id_before(n), "1700000000000-4");
        let m = sequence_of("1700000000000-0").expect("fits");
        assert_eq!(id_before(m), format!("1699999999999-{}", u64::MAX));
        assert!(sequence_of("1-2000000").is_none());
    }

    #[test]
    fn read_replies_parse() {
        let bulk = |s: &str| Value::BulkString(s.as_bytes().to_vec());
        let reply = Value::Array(vec![Value::Array(vec![
            bulk("k"),
            Value::Array(vec![
                Value::Array(vec![
                    bulk("1-0"),
                    Value::Array(vec![bulk("d"), bulk("x"), bulk("a"), bulk("3")]),
                ]),
                Value::Array(vec![bulk("1-1"), Value::Nil]),
            ]),
        ])]);
        let got = read_groups(reply);
        assert_eq!(got.len(), 1);
        let (key, entries) = &got[0];
        assert_eq!(key, "k");
        assert_eq!(entries[0].data.as_deref(), Some(&b"x"[..]));
        assert_eq!(entries[0].base, 3);
        assert!(entries[1].data.is_none());
    }
}
