//! A subscription's reader: its own pending entries first, then new ones with a blocking
//! `XREADGROUP` on a dedicated connection; releases what it still queues when it stops.

use harbor_distributed::frame;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use harbor_distributed::Error;
use redis::Value;
use redis::aio::ConnectionManager;

use crate::core::Sub;
use crate::errors::{backend, with_retry};
use crate::{reply, scripts};
use harbor_distributed::kit::{Phase, lock};

/// Most pending entries of its own a consumer takes back per stream and round.
const RECOVER_BATCH: usize = 1000;
/// How often a reader with no room looks again without being woken.
const ROOM_POLL: Duration = Duration::from_millis(50);
/// How long a reader with little room waits for more before it reads anyway.
const BATCH_WAIT: Duration = Duration::from_millis(2);

pub(crate) async fn run(sub: Arc<Sub>, mut conn: ConnectionManager) {
    let mut recover = true;
    let mut pause = Duration::from_millis(20);
    loop {
        let phase = sub.bus.life.phase();
        if sub.dropped.is_cancelled() || phase == Phase::Closed {
            break;
        }
        if recover {
            // After a start or a lost reply: entries delivered to this consumer that it
            // never saw are in its pending list; take them back before reading new ones.
            match recover_own(&sub, &mut conn).await {
                Ok(()) => recover = false,
                Err(error) => {
                    tracing::debug!(%error, "redis bus reader cannot recover its pending entries yet");
                    pause_for(&sub, &mut pause).await;
                    continue;
                }
            }
        }
        let room = sub.room();
        if room == 0 {
            wait_for_room(&sub, ROOM_POLL).await;
            continue;
        }
        // Read in batches: while the consumer holds most of its window, wait (briefly, so a
        // consumer that holds many and waits for one more is not stalled) for more room
        // rather than fetching entries one by one as single slots free up.
        let low = sub.max_in_flight / 4;
        if room < low {
            let deadline = tokio::time::Instant::now() + BATCH_WAIT;
            while sub.room() < low && !sub.dropped.is_cancelled() {
                let left = deadline.saturating_duration_since(tokio::time::Instant::now());
                if left.is_zero() {
                    break;
                }
                wait_for_room(&sub, left).await;
            }
        }
        let room = sub.room();
        let draining = phase == Phase::Draining;
        let mut cmd = redis::cmd("XREADGROUP");
        cmd.arg("GROUP")
            .arg(&*sub.group)
            .arg(&*sub.consumer)
            .arg("COUNT")
            .arg(room);
        if !draining {
            cmd.arg("BLOCK")
                .arg(sub.bus.config.block.as_millis() as u64);
        }
        cmd.arg("STREAMS");
        for key in &sub.keys {
            cmd.arg(&**key);
        }
        for _ in &sub.keys {
            cmd.arg(">");
        }
        let sent = Instant::now();
        match cmd.query_async::<Value>(&mut conn).await {
            Ok(value) => {
                pause = Duration::from_millis(20);
                let queued = accept_read(&sub, value, sent);
                if queued > 0 {
                    sub.notify_queued();
                } else if draining {
                    if sub.idle() {
                        break;
                    }
                    // Held deliveries may still be nacked back to the retry stream.
                    wait_for_room(&sub, ROOM_POLL).await;
                }
            }
            Err(error) => {
                let error = backend(error);
                tracing::debug!(%error, "redis bus read failed; reconnecting");
                recover = true;
                pause_for(&sub, &mut pause).await;
            }
        }
    }
    release(&sub).await;
    sub.mark_done();
}

fn accept_read(sub: &Sub, value: Value, sent: Instant) -> usize {
    let mut queued = 0;
    for (key, entries) in reply::read_groups(value) {
        let Some(idx) = sub.keys.iter().position(|k| **k == *key) else {
            continue;
        };
        for entry in entries {
            if sub.accept(idx, entry, 1, sent) {
                queued += 1;
            }
        }
    }
    queued
}

/// Waits for a settled delivery, the stream's drop, or `at_most`.
async fn wait_for_room(sub: &Sub, at_most: Duration) {
    tokio::select! {
        () = sub.room.notified() => {}
        () = sub.dropped.cancelled() => {}
        () = tokio::time::sleep(at_most) => {}
    }
}

async fn pause_for(sub: &Sub, pause: &mut Duration) {
    tokio::select! {
        () = tokio::time::sleep(*pause) => {}
        () = sub.dropped.cancelled() => {}
        () = sub.bus.cancel.cancelled() => {}
    }
    *pause = (*pause * 2).min(Duration::from_secs(1));
}

/// Claims back this consumer's pending entries that it does not hold.
async fn recover_own(sub: &Sub, conn: &mut ConnectionManager) -> Result<(), Error> {
    let mut found = 0;
    for (idx, key) in sub.keys.iter().enumerate() {
        let lines = redis::cmd("XPENDING")
            .arg(&**key)
            .arg(&*sub.group)
            .arg("-")
            .arg("+")
            .arg(RECOVER_BATCH)
            .arg(&*sub.consumer)
            .query_async::<Value>(conn)
            .await
            .map_err(backend)?;
        let lines = reply::pending(lines);
        let lost: Vec<_> = {
            let known = lock(&sub.ledger);
            lines
                .into_iter()
                .filter(|p| !known.contains_key(&(idx, p.id.clone())))
                .collect()
        };
        if lost.is_empty() {
            continue;
        }
        found += claim(sub, conn, idx, lost, 0).await?;
    }
    if found > 0 {
        sub.notify_queued();
    }
    Ok(())
}

/// `XCLAIM`s `lines` (pending entries with their delivery counts) idle at least `min_idle`
/// ms to this consumer; queues the claimed ones, dead-letters those past their attempts.
/// Returns how many were queued.
pub(crate) async fn claim(
    sub: &Sub,
    conn: &mut ConnectionManager,
    idx: usize,
    lines: Vec<reply::Pending>,
    min_idle: u64,
) -> Result<usize, Error> {
    let counts: HashMap<String, u32> = lines.into_iter().map(|p| (p.id, p.count)).collect();
    let mut cmd = redis::cmd("XCLAIM");
    cmd.arg(&*sub.keys[idx])
        .arg(&*sub.group)
        .arg(&*sub.consumer)
        .arg(min_idle);
    for id in counts.keys() {
        cmd.arg(id);
    }
    let sent = Instant::now();
    let entries = reply::entries(cmd.query_async::<Value>(conn).await.map_err(backend)?);
    let mut queued = 0;
    for entry in entries {
        let count = counts.get(&entry.id).copied().unwrap_or(0) + 1;
        let attempt = entry.base + count;
        if attempt > sub.max_attempts && entry.data.is_some() {
            let Some(Ok(envelope)) = entry.data.clone().map(frame::decode) else {
                sub.ack_away(idx, entry.id);
                continue;
            };
            if idx != sub.retry_idx() && !sub.admits(&envelope) {
                sub.ack_away(idx, entry.id);
                continue;
            }
            let reason = "not settled within the visibility timeout";
            crate::acker::dead_letter(
                sub,
                conn,
                idx,
                &entry.id,
                count,
                &envelope,
                attempt - 1,
                reason,
            )
            .await?;
            lock(&sub.ledger).remove(&(idx, entry.id));
            continue;
        }
        if sub.accept(idx, entry, count, sent) {
            queued += 1;
        }
    }
    Ok(queued)
}

/// Hands back the entries fetched and never handed out, so other members of the group get
/// them at once: each goes to the group's retry stream with its attempt count unchanged.
async fn release(sub: &Sub) {
    let queued = sub.take_queue();
    if queued.is_empty() {
        return;
    }
    let Ok(conn) = sub.bus.conn() else {
        return;
    };
    for f in queued {
        let data = frame::encode(&f.envelope);
        let delete = if f.idx == sub.retry_idx() { "1" } else { "0" };
        let (result, _) = with_retry(sub.bus.config.retry, || {
            let mut conn = conn.clone();
            let mut call = scripts::REQUEUE.prepare_invoke();
            call.key(&*sub.keys[f.idx])
                .key(&*sub.keys[sub.retry_idx()])
                .key(&sub.delay_key)
                .arg(&*sub.group)
                .arg(&*sub.consumer)
                .arg(&f.id)
                .arg(f.count)
                .arg(delete)
                .arg(0)
                .arg(f.base + f.count - 1)
                .arg(&data[..]);
            async move { call.invoke_async::<i64>(&mut conn).await }
        })
        .await;
        if let Err(error) = result {
            tracing::debug!(%error, id = %f.id, "could not release an entry; it returns after its visibility timeout");
        }
        lock(&sub.ledger).remove(&(f.idx, f.id));
    }
}
