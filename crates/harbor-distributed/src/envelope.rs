//! The unit the bus carries.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::SystemTime;

use bytes::Bytes;

use crate::{Error, Identity};

/// One event on the bus.
///
/// `event_id` is the caller's idempotency key (a ULID is a good choice): consumers dedupe
/// on `(task_id, edge, event_id)`, and drivers that declare publish dedup store it once.
/// The payload is opaque: redact secrets before publishing.
///
/// `edge` and the [`Identity`] parts are shared strings (`Arc<str>`): a publisher usually
/// sends many envelopes on the same edge for the same identity, so it keeps them once and
/// clones them per envelope for a reference-count bump instead of a copy. Set them with
/// `.into()` from `&str` or `String`. `source` and `target` stay `String`s: they are
/// usually empty, and an empty `String` costs nothing where an empty `Arc<str>` is one
/// reference count shared by the whole process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    /// Routing label, dot-separated segments (`planner.next`). No wildcards.
    pub edge: Arc<str>,
    /// Who sent it.
    pub source: String,
    /// Who it is for; empty means broadcast.
    pub target: String,
    /// Who it acts for; mandatory.
    pub identity: Identity,
    /// The task it belongs to, if any.
    pub task_id: Option<String>,
    /// Caller-supplied unique id, the idempotency key.
    pub event_id: String,
    /// Opaque bytes.
    pub payload: Bytes,
    /// Transport headers (trace context and the like).
    pub headers: BTreeMap<String, String>,
    /// Application metadata.
    pub meta: BTreeMap<String, String>,
    /// Set by the caller, never rewritten by the bus.
    pub timestamp: SystemTime,
}

impl Envelope {
    /// An envelope on `edge` for `identity` with `event_id` and `payload`; the other fields
    /// are empty and the timestamp is now.
    ///
    /// Pass the edge as an `Arc<str>` the publisher keeps (cloned per envelope) to avoid
    /// copying it; a `&str` or `String` is copied into a new allocation.
    pub fn new(
        edge: impl Into<Arc<str>>,
        identity: Identity,
        event_id: impl Into<String>,
        payload: impl Into<Bytes>,
    ) -> Self {
        Self {
            edge: edge.into(),
            source: String::new(),
            target: String::new(),
            identity,
            task_id: None,
            event_id: event_id.into(),
            payload: payload.into(),
            headers: BTreeMap::new(),
            meta: BTreeMap::new(),
            timestamp: SystemTime::now(),
        }
    }

    /// Sets the task id.
    #[must_use]
    pub fn with_task(mut self, task_id: impl Into<String>) -> Self {
        self.task_id = Some(task_id.into());
        self
    }

    /// Adds a header.
    #[must_use]
    pub fn with_header(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.insert(key.into(), value.into());
        self
    }

    /// Checks what every driver requires before publishing: a complete identity, a valid
    /// concrete edge and an event id.
    pub fn validate(&self) -> Result<(), Error> {
        self.identity.validate()?;
        crate::edge::validate_edge(&self.edge)?;
        if self.event_id.is_empty() {
            return Err(Error::InvalidEnvelope("event_id is empty".into()));
        }
        if self.task_id.as_deref() == Some("") {
            return Err(Error::InvalidEnvelope("task_id is set but empty".into()));
        }
        Ok(())
    }

    /// Checks what every driver requires before publishing ([`validate`](Self::validate)),
    /// and that the payload fits the driver's `max_payload`.
    pub fn check_publishable(&self, max_payload: usize) -> Result<(), Error> {
        self.validate()?;
        if self.payload.len() > max_payload {
            return Err(Error::PayloadTooLarge {
                size: self.payload.len(),
                max: max_payload,
            });
        }
        Ok(())
    }

    /// The consumer idempotency key.
    pub fn dedup_key(&self) -> DedupKey {
        DedupKey {
            task_id: self.task_id.clone().unwrap_or_default(),
            edge: self.edge.to_string(),
            event_id: self.event_id.clone(),
        }
    }
}

/// `(task_id, edge, event_id)`: what makes two deliveries the same event.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DedupKey {
    /// The task id, or empty.
    pub task_id: String,
    /// The edge.
    pub edge: String,
    /// The event id.
    pub event_id: String,
}
