//! Retention of the PostgreSQL task store: finished tasks deleted after their TTL, logs of
//! finished tasks compacted to their projections, in batches that skip rows another replica
//! is pruning at the same moment.

use std::sync::Arc;
use std::time::Duration;

use harbor_distributed::Error;
use tokio_util::sync::CancellationToken;

use super::db::Db;

/// Rows one retention statement handles, so a backlog never holds locks for long.
const BATCH: i64 = 512;

/// Deletes finished tasks stored finished longer than the TTL ago, with their logs and push
/// configs; returns how many.
pub(super) async fn prune(db: &Db) -> Result<u64, Error> {
    let Some(ttl) = db.options.retention.task else {
        return Ok(0);
    };
    let mut deleted = 0;
    loop {
        let rows = db
            .query(
                "WITH due AS (SELECT id FROM {s}.tasks \
                     WHERE terminal_at < now() - make_interval(secs => $1) \
                     ORDER BY terminal_at LIMIT $2 FOR UPDATE SKIP LOCKED), \
                 gone AS (DELETE FROM {s}.tasks WHERE id IN (SELECT id FROM due) RETURNING 1) \
                 SELECT count(*) FROM gone",
                &[&ttl.as_secs_f64(), &BATCH],
            )
            .await?;
        let batch: i64 = rows[0].get(0);
        deleted += u64::try_from(batch).unwrap_or(0);
        if batch < BATCH {
            return Ok(deleted);
        }
    }
}

/// Drops the logs of finished tasks stored finished longer than the log retention ago,
/// except those a live push cursor still reads; returns how many logs.
pub(super) async fn compact_logs(db: &Db) -> Result<u64, Error> {
    let Some(keep) = db.options.retention.log else {
        return Ok(0);
    };
    let mut compacted = 0;
    loop {
        // A task skipped for a push cursor behind stays due; the batch stops early rather
        // than loop on it.
        let rows = db
            .query(
                "WITH due AS (SELECT id, version FROM {s}.tasks t \
                     WHERE terminal_at < now() - make_interval(secs => $1) AND NOT log_compacted \
                     ORDER BY terminal_at LIMIT $2 FOR UPDATE SKIP LOCKED), \
                 ready AS (SELECT id FROM due WHERE NOT EXISTS ( \
                     SELECT 1 FROM {s}.push_cursors k \
                     WHERE k.task_id = due.id AND NOT k.dead AND k.delivered < due.version)), \
                 gone AS (DELETE FROM {s}.task_log WHERE task_id IN (SELECT id FROM ready)), \
                 done AS (UPDATE {s}.tasks SET log_compacted = true \
                     WHERE id IN (SELECT id FROM ready) RETURNING 1) \
                 SELECT (SELECT count(*) FROM due), (SELECT count(*) FROM done)",
                &[&keep.as_secs_f64(), &BATCH],
            )
            .await?;
        let (due, done): (i64, i64) = (rows[0].get(0), rows[0].get(1));
        compacted += u64::try_from(done).unwrap_or(0);
        if due < BATCH || done == 0 {
            return Ok(compacted);
        }
    }
}

/// Runs retention every `every` until `stop`.
pub(super) async fn run(db: Arc<Db>, every: Duration, stop: CancellationToken) {
    loop {
        tokio::select! {
            () = stop.cancelled() => return,
            () = tokio::time::sleep(every) => {}
        }
        match prune(&db).await {
            Ok(0) => {}
            Ok(n) => tracing::debug!(deleted = n, "pruned tasks"),
            Err(error) => tracing::warn!(%error, "pruning tasks failed"),
        }
        match compact_logs(&db).await {
            Ok(0) => {}
            Ok(n) => tracing::debug!(compacted = n, "compacted task logs"),
            Err(error) => tracing::warn!(%error, "compacting task logs failed"),
        }
    }
}
