//! A subscription's janitor: claims its group's entries whose visibility timeout passed
//! (from any consumer, dead ones included) and moves due delayed retries.

use std::sync::Arc;
use std::time::Duration;

use redis::Value;

use crate::core::Sub;
use crate::reader::claim;
use crate::{reply, scripts};
use harbor_distributed::kit::lock;

/// Most entries one claim scan looks at per stream.
const CLAIM_BATCH: usize = 100;

pub(crate) async fn run(sub: Arc<Sub>) {
    let interval = (sub.visibility / 4)
        .min(sub.bus.config.claim_interval)
        .max(Duration::from_millis(10));
    let Ok(mut conn) = sub.bus.conn() else {
        return;
    };
    loop {
        let mut until = tokio::time::Instant::now() + interval;
        if let Some(due) = *lock(&sub.next_move) {
            until = until.min(due);
        }
        tokio::select! {
            () = tokio::time::sleep_until(until) => {}
            () = sub.janitor_wake.notified() => {}
            () = sub.dropped.cancelled() => return,
            () = sub.bus.cancel.cancelled() => return,
        }
        if !sub.bus.life.is_open() {
            return;
        }
        if let Err(error) = tick(&sub, &mut conn).await {
            tracing::debug!(%error, "redis bus janitor round failed");
        }
    }
}

async fn tick(
    sub: &Sub,
    conn: &mut redis::aio::ConnectionManager,
) -> Result<(), harbor_distributed::Error> {
    use crate::errors::backend;
    // The script reports the next due time itself; a nack meanwhile sets it again.
    *lock(&sub.next_move) = None;
    let wait: i64 = scripts::MOVE_DUE
        .key(&sub.delay_key)
        .key(&*sub.keys[sub.retry_idx()])
        .arg(CLAIM_BATCH)
        .invoke_async(conn)
        .await
        .map_err(backend)?;
    if wait >= 0 {
        let next = tokio::time::Instant::now() + Duration::from_millis(wait as u64 + 1);
        let mut slot = lock(&sub.next_move);
        if slot.is_none_or(|n| next < n) {
            *slot = Some(next);
        }
    }
    let min_idle = sub.visibility.as_millis() as u64;
    let mut queued = 0;
    for idx in 0..sub.keys.len() {
        let room = sub.room();
        if room == 0 {
            break;
        }
        let lines = redis::cmd("XPENDING")
            .arg(&*sub.keys[idx])
            .arg(&*sub.group)
            .arg("IDLE")
            .arg(min_idle)
            .arg("-")
            .arg("+")
            .arg(room.min(CLAIM_BATCH))
            .query_async::<Value>(conn)
            .await
            .map_err(backend)?;
        let lines = reply::pending(lines);
        if !lines.is_empty() {
            queued += claim(sub, conn, idx, lines, min_idle).await?;
        }
    }
    if queued > 0 {
        sub.notify_queued();
    }
    // Forget leases long past: another consumer has those entries by now.
    let horizon = sub.visibility * 2;
    lock(&sub.ledger).retain(|_, (_, at)| at.elapsed() < horizon);
    Ok(())
}
