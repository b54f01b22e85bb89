//! The push outbox: where delivery of each push config stands, kept durably beside the
//! task's log.
//!
//! A push config does not copy the events it must deliver: they are in the task's log
//! already. Its [`PushCursor`] says how far delivery got (every entry up to `delivered`
//! was answered 2xx, or was not one to send), how the current entry is failing, and whether
//! delivery gave up (a dead letter). A deliverer reads the log after the cursor, POSTs in
//! order, and saves the cursor after each answer, so a restart resumes where delivery
//! stood and never loses an entry. Stores keep the log of a task whose live cursors are
//! behind it, whatever their log retention.

use std::time::SystemTime;

use async_trait::async_trait;
use harbor_a2a::TaskPushNotificationConfig;
use serde::{Deserialize, Serialize};

use crate::{Error, Owner};

/// Where push delivery of one config of one task stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushCursor {
    /// The task's owner.
    #[serde(with = "owner_parts")]
    pub owner: Owner,
    /// The task.
    pub task_id: String,
    /// The push config.
    pub config_id: String,
    /// Every log entry up to this sequence is done: answered 2xx, or not one to send.
    pub delivered: u64,
    /// Failed attempts at the next entry since it was first tried.
    pub attempts: u32,
    /// When the first of those attempts failed: the give-up deadline counts from it.
    pub failing_since: Option<SystemTime>,
    /// The last failure, if the next entry is failing.
    pub last_failure: Option<PushFailure>,
    /// Why delivery gave up, once it did (a dead letter); a dead cursor is not retried
    /// until it is re-driven.
    pub dead: Option<String>,
}

impl PushCursor {
    /// A live cursor of `config_id` of `owner`'s task `task_id`, with everything up to
    /// `delivered` done.
    pub fn new(owner: Owner, task_id: &str, config_id: &str, delivered: u64) -> Self {
        Self {
            owner,
            task_id: task_id.to_owned(),
            config_id: config_id.to_owned(),
            delivered,
            attempts: 0,
            failing_since: None,
            last_failure: None,
            dead: None,
        }
    }

    /// The cursor with delivery restarted at the entry it gave up on.
    #[must_use]
    pub fn redriven(mut self) -> Self {
        self.attempts = 0;
        self.failing_since = None;
        self.dead = None;
        self
    }
}

/// How one delivery attempt failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushFailure {
    /// The webhook's HTTP status, when it answered.
    pub status: Option<u16>,
    /// What happened, for people (never holds credentials).
    pub error: String,
}

/// The store side of push delivery: a durable [`PushCursor`] per push config, beside the
/// task's log, so delivery resumes where it stood after a restart.
#[async_trait]
pub trait PushOutbox: Send + Sync + 'static {
    /// Stores (or replaces) `owner`'s push config `config` (of task `config.task_id`) and
    /// starts its delivery after log entry `after`, in one durable write: the config covers
    /// every later entry.
    ///
    /// # Errors
    ///
    /// [`Error::TaskNotFound`] for a task that is missing or another owner's.
    async fn track(
        &self,
        owner: &Owner,
        config: &TaskPushNotificationConfig,
        after: u64,
    ) -> Result<(), Error>;

    /// The cursor of a config, if it is tracked.
    ///
    /// # Errors
    ///
    /// [`Error::TaskNotFound`] for a task that is missing or another owner's.
    async fn cursor(
        &self,
        owner: &Owner,
        task_id: &str,
        config_id: &str,
    ) -> Result<Option<PushCursor>, Error>;

    /// Saves a cursor (its owner, task and config name it), durably when the call returns.
    ///
    /// # Errors
    ///
    /// [`Error::TaskNotFound`] or [`Error::PushConfigNotFound`] when the task or the config
    /// is gone (deleted meanwhile): delivery of it is over.
    async fn save(&self, cursor: &PushCursor) -> Result<(), Error>;

    /// At most `limit` (at least 1) cursors that have or may get work, every owner's,
    /// ordered by `(task id, config id)` after `after` (`None` for the first): not dead, and
    /// behind their task's log or on a task that is not finished.
    ///
    /// # Errors
    ///
    /// [`Error::Backend`] when the store fails.
    async fn live_cursors(
        &self,
        after: Option<(&str, &str)>,
        limit: usize,
    ) -> Result<Vec<PushCursor>, Error>;

    /// At most `limit` (at least 1) dead cursors, every owner's, ordered by `(task id,
    /// config id)` after `after`.
    ///
    /// # Errors
    ///
    /// [`Error::Backend`] when the store fails.
    async fn dead_letters(
        &self,
        after: Option<(&str, &str)>,
        limit: usize,
    ) -> Result<Vec<PushCursor>, Error>;
}

/// `Owner` as a `(tenant, user)` pair on the wire of stores.
mod owner_parts {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    use crate::Owner;

    pub(super) fn serialize<S: Serializer>(owner: &Owner, s: S) -> Result<S::Ok, S::Error> {
        (&*owner.tenant, &*owner.user).serialize(s)
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Owner, D::Error> {
        let (tenant, user) = <(String, String)>::deserialize(d)?;
        Ok(Owner {
            tenant: tenant.into(),
            user: user.into(),
        })
    }
}
