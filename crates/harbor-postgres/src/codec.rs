//! Envelopes to column arrays (for the multi-row insert) and rows back to envelopes.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use harbor_distributed::{Envelope, Error, Identity};
use tokio_postgres::Row;
use tokio_postgres::types::ToSql;

/// Refuses text PostgreSQL cannot store (`text` and `jsonb` reject NUL characters).
pub(crate) fn check_storable(envelope: &Envelope) -> Result<(), Error> {
    let id = &envelope.identity;
    let mut fields: Vec<(&str, &str)> = vec![
        ("edge", &envelope.edge),
        ("source", &envelope.source),
        ("target", &envelope.target),
        ("event_id", &envelope.event_id),
        ("tenant", &id.tenant),
        ("user", &id.user),
        ("session", &id.session),
    ];
    if let Some(run) = &id.run {
        fields.push(("run", run));
    }
    if let Some(task) = &envelope.task_id {
        fields.push(("task_id", task));
    }
    for (k, v) in envelope.headers.iter().chain(&envelope.meta) {
        fields.push(("a header or meta entry", k));
        fields.push(("a header or meta entry", v));
    }
    match fields.iter().find(|(_, v)| v.contains('\0')) {
        Some((name, _)) => Err(Error::InvalidEnvelope(format!(
            "{name} contains a NUL character, which PostgreSQL text cannot store"
        ))),
        None => Ok(()),
    }
}

/// `(seconds, nanoseconds)` since the Unix epoch; nanoseconds are always in `0..1e9`.
pub(crate) fn split_time(t: SystemTime) -> (i64, i32) {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => (d.as_secs() as i64, d.subsec_nanos() as i32),
        Err(before) => {
            let d = before.duration();
            let (mut secs, mut nanos) = (-(d.as_secs() as i64), d.subsec_nanos() as i32);
            if nanos > 0 {
                secs -= 1;
                nanos = 1_000_000_000 - nanos;
            }
            (secs, nanos)
        }
    }
}

fn join_time(secs: i64, nanos: i32) -> SystemTime {
    let nanos = Duration::from_nanos(nanos.max(0) as u64);
    let base = if secs >= 0 {
        UNIX_EPOCH.checked_add(Duration::from_secs(secs as u64))
    } else {
        UNIX_EPOCH.checked_sub(Duration::from_secs(secs.unsigned_abs()))
    };
    base.and_then(|b| b.checked_add(nanos))
        .unwrap_or(UNIX_EPOCH)
}

fn json(map: &BTreeMap<String, String>) -> String {
    // A map of strings always serialises.
    serde_json::to_string(map).unwrap_or_else(|_| "{}".into())
}

/// The insert's fourteen column arrays for a batch.
#[derive(Default)]
pub(crate) struct Columns<'a> {
    edge: Vec<&'a str>,
    tenant: Vec<&'a str>,
    user: Vec<&'a str>,
    session: Vec<&'a str>,
    run: Vec<Option<&'a str>>,
    task: Vec<&'a str>,
    event: Vec<&'a str>,
    source: Vec<&'a str>,
    target: Vec<&'a str>,
    payload: Vec<&'a [u8]>,
    headers: Vec<String>,
    meta: Vec<String>,
    secs: Vec<i64>,
    nanos: Vec<i32>,
}

impl<'a> Columns<'a> {
    pub(crate) fn new(envelopes: impl ExactSizeIterator<Item = &'a Envelope>) -> Self {
        let mut c = Self::default();
        for e in envelopes {
            c.edge.push(&e.edge);
            c.tenant.push(&e.identity.tenant);
            c.user.push(&e.identity.user);
            c.session.push(&e.identity.session);
            c.run.push(e.identity.run.as_deref());
            c.task.push(e.task_id.as_deref().unwrap_or(""));
            c.event.push(&e.event_id);
            c.source.push(&e.source);
            c.target.push(&e.target);
            c.payload.push(&e.payload);
            c.headers.push(json(&e.headers));
            c.meta.push(json(&e.meta));
            let (secs, nanos) = split_time(e.timestamp);
            c.secs.push(secs);
            c.nanos.push(nanos);
        }
        c
    }

    pub(crate) fn params(&self) -> [&(dyn ToSql + Sync); 14] {
        [
            &self.edge,
            &self.tenant,
            &self.user,
            &self.session,
            &self.run,
            &self.task,
            &self.event,
            &self.source,
            &self.target,
            &self.payload,
            &self.headers,
            &self.meta,
            &self.secs,
            &self.nanos,
        ]
    }
}

fn map(text: &str) -> BTreeMap<String, String> {
    serde_json::from_str(text).unwrap_or_default()
}

/// The envelope in a claim row, whose columns start at `at` (see
/// [`ENVELOPE_COLUMNS`](crate::statements::ENVELOPE_COLUMNS)).
pub(crate) fn decode(row: &Row, at: usize) -> Result<Envelope, tokio_postgres::Error> {
    let text = |i: usize| row.try_get::<_, &str>(at + i);
    let task: &str = text(5)?;
    let run: Option<&str> = row.try_get(at + 4)?;
    let payload: Vec<u8> = row.try_get(at + 9)?;
    Ok(Envelope {
        edge: Arc::from(text(0)?),
        source: text(7)?.to_owned(),
        target: text(8)?.to_owned(),
        identity: Identity {
            tenant: Arc::from(text(1)?),
            user: Arc::from(text(2)?),
            session: Arc::from(text(3)?),
            run: run.map(Arc::from),
        },
        task_id: (!task.is_empty()).then(|| task.to_owned()),
        event_id: text(6)?.to_owned(),
        payload: Bytes::from(payload),
        headers: map(text(10)?),
        meta: map(text(11)?),
        timestamp: join_time(row.try_get(at + 12)?, row.try_get(at + 13)?),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_round_trip_on_both_sides_of_the_epoch() {
        for t in [
            UNIX_EPOCH + Duration::new(1_700_000_000, 123_456_789),
            UNIX_EPOCH,
            UNIX_EPOCH - Duration::new(5, 250),
            UNIX_EPOCH - Duration::from_secs(3),
        ] {
            let (s, n) = split_time(t);
            assert!((0..1_000_000_000).contains(&n));
            assert_eq!(join_time(s, n), t);
        }
    }

    #[test]
    fn nul_characters_are_refused() {
        let who = Identity::new("t", "u", "s").expect("identity");
        let env = Envelope::new("a.b", who, "e", "p").with_header("k", "v\0");
        assert!(matches!(
            check_storable(&env),
            Err(Error::InvalidEnvelope(_))
        ));
    }
}
