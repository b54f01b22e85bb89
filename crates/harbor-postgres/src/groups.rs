//! Consumer groups: their rows in the database and their wake-ups in this process.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use deadpool_postgres::Pool;
use harbor_distributed::kit::lock;
use harbor_distributed::{Error, IdentityScope, StartPosition, SubscribeOptions};
use tokio::sync::Notify;
use tokio::time::Instant;

use crate::{errors, pattern};

/// One consumer group as this process knows it.
#[derive(Debug)]
pub(crate) struct Group {
    pub(crate) id: i32,
    pub(crate) name: String,
    /// Wakes one idle subscription of the group (which wakes the next if it found work).
    pub(crate) wake: Notify,
    /// When deliveries of the group become claimable again (nack delays, deliveries
    /// dropped unsettled): idle subscriptions wake then rather than at the next poll.
    timers: Mutex<Vec<Instant>>,
}

impl Group {
    /// Remembers that something becomes claimable at `at`.
    pub(crate) fn wake_at(&self, at: Instant) {
        let mut timers = lock(&self.timers);
        if timers.len() < 1024 {
            timers.push(at);
        }
    }

    /// The earliest pending timer, forgetting the ones that passed.
    pub(crate) fn next_timer(&self, now: Instant) -> Option<Instant> {
        let mut timers = lock(&self.timers);
        let mut fired = false;
        timers.retain(|t| {
            fired |= *t <= now;
            *t > now
        });
        if fired {
            // Only reached by the subscription that woke for it: it claims right away.
            return Some(now);
        }
        timers.iter().min().copied()
    }
}

/// The groups this bus has subscriptions for, by id.
#[derive(Debug, Default)]
pub(crate) struct Groups {
    by_id: Mutex<HashMap<i32, Arc<Group>>>,
}

impl Groups {
    pub(crate) fn get_or_insert(&self, id: i32, name: &str) -> Arc<Group> {
        let mut map = lock(&self.by_id);
        Arc::clone(map.entry(id).or_insert_with(|| {
            Arc::new(Group {
                id,
                name: name.to_owned(),
                wake: Notify::new(),
                timers: Mutex::new(Vec::new()),
            })
        }))
    }

    /// Wakes every group: on a notification (something was stored; any group may want
    /// it), and after a reconnect, when notifications may have been missed.
    pub(crate) fn wake_all(&self) {
        let map = lock(&self.by_id);
        for group in map.values() {
            group.wake.notify_one();
        }
    }
}

/// Creates the group of `options` or finds it, returning its id.
///
/// An existing group keeps its position and takes the edges of this subscription (its
/// members should subscribe to the same edges; the latest wins for what it reads next).
/// A new group starting at `Earliest` or a sequence reads the retained log from its
/// start (from that sequence on); one starting at `New` reads what commits after it.
pub(crate) async fn register(
    pool: &Pool,
    schema: &str,
    options: &SubscribeOptions,
) -> Result<i32, Error> {
    let tenant = match &options.scope {
        IdentityScope::Tenant(t) => t.as_str(),
        IdentityScope::Admin => "",
    };
    let (exact, patterns) = pattern::split(&options.edges);
    let mut client = pool.get().await.map_err(errors::pool)?;
    let tx = client.transaction().await.map_err(errors::backend)?;
    let existing = tx
        .query_opt(
            &format!(
                "SELECT id, exact, patterns FROM {schema}.groups \
                 WHERE name = $1 AND tenant = $2 FOR UPDATE"
            ),
            &[&options.group, &tenant],
        )
        .await
        .map_err(errors::backend)?;
    if let Some(row) = existing {
        let id: i32 = row.get(0);
        let (old_exact, old_patterns): (Vec<String>, Vec<String>) = (row.get(1), row.get(2));
        if old_exact != exact || old_patterns != patterns {
            tracing::warn!(group = %options.group, edges = ?options.edges, "consumer group edges changed");
            tx.execute(
                &format!("UPDATE {schema}.groups SET exact = $2, patterns = $3 WHERE id = $1"),
                &[&id, &exact, &patterns],
            )
            .await
            .map_err(errors::backend)?;
        }
        tx.commit().await.map_err(errors::backend)?;
        return Ok(id);
    }
    // A new group reads the log after what is committed now (`done` defaults to the
    // current snapshot), or from its start: a snapshot that shows no transaction.
    let from: Option<i64> = match options.start {
        StartPosition::New => None,
        StartPosition::Earliest => Some(0),
        StartPosition::Sequence(n) => Some(i64::try_from(n).unwrap_or(i64::MAX)),
    };
    let inserted = tx
        .query_opt(
            &format!(
                "INSERT INTO {schema}.groups (name, tenant, exact, patterns, done, from_seq) \
                 VALUES ($1, $2, $3, $4, \
                     CASE WHEN $5::int8 IS NULL THEN pg_current_snapshot() ELSE '1:1:' END, \
                     coalesce($5, 0)) \
                 ON CONFLICT (name, tenant) DO NOTHING RETURNING id"
            ),
            &[&options.group, &tenant, &exact, &patterns, &from],
        )
        .await
        .map_err(errors::backend)?;
    let id: i32 = match inserted {
        Some(row) => row.get(0),
        None => {
            // Created by a concurrent subscriber meanwhile: join it.
            let row = tx
                .query_one(
                    &format!("SELECT id FROM {schema}.groups WHERE name = $1 AND tenant = $2"),
                    &[&options.group, &tenant],
                )
                .await
                .map_err(errors::backend)?;
            tx.commit().await.map_err(errors::backend)?;
            return Ok(row.get(0));
        }
    };
    tx.commit().await.map_err(errors::backend)?;
    Ok(id)
}

/// The backlog of the groups named `group`, in every scope: one statement, `sql` (see
/// [`Statements::backlog`](crate::statements::Statements::backlog)).
pub(crate) async fn backlog(pool: &Pool, sql: &str, group: &str) -> Result<u64, Error> {
    let client = pool.get().await.map_err(errors::pool)?;
    let statement = client.prepare_cached(sql).await.map_err(errors::backend)?;
    let row = client
        .query_one(&statement, &[&group])
        .await
        .map_err(errors::backend)?;
    Ok(u64::try_from(row.get::<_, i64>(0)).unwrap_or(0))
}
