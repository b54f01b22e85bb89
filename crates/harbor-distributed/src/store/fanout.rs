//! Log fan-out on a bus: how a process tells the others what it appended to a task's log.
//!
//! The log itself lives in the [`TaskLog`](super::TaskLog); the bus only carries news of
//! it, so processes that follow a task (an open stream, a subscriber) learn of new entries
//! as they are written, without polling the store. After an append is durable, its writer
//! publishes one envelope on [`EDGE`]:
//!
//! - `task_id` is the task; the identity is its owner's, with the publishing process as
//!   session; `event_id` is `<task id>:<last sequence>` (publish dedup keeps one of each);
//! - header [`FIRST`] is the sequence of the first entry appended, [`LAST`] of the last;
//! - the payload is the entries' events, each a length-delimited protobuf
//!   `StreamResponse`, in order; or empty when they would not fit the bus's payload limit,
//!   in which case the headers alone say what to read from the store.
//!
//! Followers subscribe to [`EDGE`] in a consumer group of their own (every process gets
//! every envelope), apply what continues the entries they have, and read the store when an
//! envelope leaves a gap. Envelopes may arrive twice or out of order; entries a follower
//! already has are ignored.

use bytes::{Buf, Bytes, BytesMut};
use harbor_a2a::StreamResponse;
use prost::Message;

use super::LogEntry;
use crate::{Envelope, Error, Identity, Owner};

/// The edge every log notice is published on.
pub const EDGE: &str = "harbor.task-log";
/// Header: the sequence of the first entry the notice reports.
pub const FIRST: &str = "harbor-log-first";
/// Header: the sequence of the last entry the notice reports.
pub const LAST: &str = "harbor-log-last";

/// What a log notice says: entries `first..=last` of `owner`'s task `task_id`, with their
/// events unless they were too large to carry.
#[derive(Debug, Clone, PartialEq)]
pub struct Notice {
    /// The task's owner.
    pub owner: Owner,
    /// The task.
    pub task_id: String,
    /// The first sequence appended.
    pub first: u64,
    /// The last sequence appended.
    pub last: u64,
    /// The entries, `first..=last`; empty when the notice carries only the range.
    pub entries: Vec<LogEntry>,
}

/// The envelope reporting `entries` (consecutive, not empty) of `owner`'s task `task_id`,
/// published by `source`; the events are left out past `max_payload` bytes.
///
/// # Errors
///
/// [`Error::InvalidArgument`] for no entries; [`Error::IdentityRequired`] for an owner or
/// source that is empty.
pub fn notice(
    owner: &Owner,
    task_id: &str,
    entries: &[LogEntry],
    source: &str,
    max_payload: usize,
) -> Result<Envelope, Error> {
    let (Some(first), Some(last)) = (entries.first(), entries.last()) else {
        return Err(Error::InvalidArgument(format!(
            "a log notice of task {task_id} needs at least one entry"
        )));
    };
    let identity = Identity::new(&*owner.tenant, &*owner.user, source)?;
    let size: usize = entries
        .iter()
        .map(|e| {
            let len = e.event.encoded_len();
            len + prost::length_delimiter_len(len)
        })
        .sum();
    let mut payload = BytesMut::new();
    if size <= max_payload {
        payload.reserve(size);
        for entry in entries {
            entry
                .event
                .encode_length_delimited(&mut payload)
                .map_err(|e| Error::InvalidArgument(e.to_string()))?;
        }
    }
    Ok(Envelope::new(
        EDGE,
        identity,
        format!("{task_id}:{}", last.sequence),
        payload.freeze(),
    )
    .with_task(task_id)
    .with_header(FIRST, first.sequence.to_string())
    .with_header(LAST, last.sequence.to_string()))
}

/// Reads a notice published by [`notice`].
///
/// # Errors
///
/// [`Error::InvalidEnvelope`] for an envelope that is not a well-formed log notice.
pub fn read_notice(envelope: &Envelope) -> Result<Notice, Error> {
    let invalid = |why: &str| Error::InvalidEnvelope(format!("not a task-log notice: {why}"));
    let task_id = envelope
        .task_id
        .clone()
        .ok_or_else(|| invalid("no task id"))?;
    let header = |name: &str| {
        envelope
            .headers
            .get(name)
            .and_then(|v| v.parse::<u64>().ok())
            .ok_or_else(|| invalid(&format!("no {name} header")))
    };
    let (first, last) = (header(FIRST)?, header(LAST)?);
    if first == 0 || last < first {
        return Err(invalid("the range is empty"));
    }
    let mut entries = Vec::new();
    let mut payload: Bytes = envelope.payload.clone();
    let mut sequence = first;
    while payload.has_remaining() {
        let event = StreamResponse::decode_length_delimited(&mut payload)
            .map_err(|e| invalid(&e.to_string()))?;
        entries.push(LogEntry { sequence, event });
        sequence += 1;
    }
    if !entries.is_empty() && sequence != last + 1 {
        return Err(invalid("the events do not match the range"));
    }
    Ok(Notice {
        owner: envelope.identity.owner(),
        task_id,
        first,
        last,
        entries,
    })
}

#[cfg(test)]
mod tests {
    use harbor_a2a::Task;

    use super::*;

    fn entries(first: u64, n: u64) -> Vec<LogEntry> {
        (first..first + n)
            .map(|sequence| LogEntry {
                sequence,
                event: StreamResponse::from(Task {
                    id: format!("t-{sequence}"),
                    ..Task::default()
                }),
            })
            .collect()
    }

    fn owner() -> Owner {
        Owner {
            tenant: "acme".into(),
            user: "ada".into(),
        }
    }

    #[test]
    fn a_notice_round_trips() {
        let sent = entries(4, 3);
        let envelope = notice(&owner(), "t", &sent, "replica-1", 1 << 20).expect("notice");
        assert!(envelope.validate().is_ok(), "{envelope:?}");
        assert_eq!(&*envelope.edge, EDGE);
        assert_eq!(envelope.event_id, "t:6");
        let read = read_notice(&envelope).expect("read");
        assert_eq!(
            read,
            Notice {
                owner: owner(),
                task_id: "t".into(),
                first: 4,
                last: 6,
                entries: sent,
            }
        );
    }

    #[test]
    fn events_past_the_payload_limit_are_left_to_the_store() {
        let envelope = notice(&owner(), "t", &entries(1, 3), "r", 10).expect("notice");
        assert!(envelope.payload.is_empty());
        let read = read_notice(&envelope).expect("read");
        assert_eq!((read.first, read.last, read.entries.len()), (1, 3, 0));
    }

    #[test]
    fn malformed_notices_are_refused() {
        let mut envelope = notice(&owner(), "t", &entries(1, 2), "r", 1 << 20).expect("notice");
        envelope.headers.insert(LAST.into(), "5".into());
        assert!(matches!(
            read_notice(&envelope),
            Err(Error::InvalidEnvelope(m)) if m.contains("match")
        ));
        envelope.headers.remove(FIRST);
        assert!(read_notice(&envelope).is_err());
        assert!(notice(&owner(), "t", &[], "r", 1).is_err());
    }
}
