//! Publishing: concurrent publishes leave together as one multi-row insert.

use std::collections::HashMap;
use std::sync::Arc;

use harbor_distributed::{Error, PublishReceipt};
use tokio_postgres::error::SqlState;

use crate::codec::Columns;
use crate::core::{Db, PublishOp};
use crate::errors;

/// A copy of a batch's error for each of its publishes.
pub(crate) fn share(error: &Error) -> Error {
    match error {
        Error::Closed => Error::Closed,
        other => Error::Backend {
            driver: errors::DRIVER,
            retryable: other.is_retryable(),
            source: error_chain(other).into(),
        },
    }
}

fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

/// Stores a batch in one statement (one transaction) and answers every publish of it: a
/// publish is answered `Ok` only once its row is committed.
pub(crate) async fn run_batch(db: Arc<Db>, batch: Vec<PublishOp>) {
    match insert(&db, &batch).await {
        Ok(mut stored) => {
            for op in batch {
                let e = &op.envelope;
                let key = (
                    e.task_id.clone().unwrap_or_default(),
                    e.edge.to_string(),
                    e.event_id.clone(),
                );
                let receipt = match stored.remove(&key) {
                    Some(seq) => PublishReceipt {
                        sequence: u64::try_from(seq).ok(),
                        duplicate: false,
                    },
                    None => PublishReceipt {
                        sequence: None,
                        duplicate: true,
                    },
                };
                let _ = op.reply.send(Ok(receipt));
            }
        }
        Err(error) => {
            tracing::debug!(%error, "publish batch failed");
            for op in batch {
                let _ = op.reply.send(Err(share(&error)));
            }
        }
    }
}

type Key = (String, String, String);

/// Inserts a batch. Duplicates are rare (a publish retried after a lost reply), so the
/// batch is first inserted as it is; only when that hits the dedup key is it inserted
/// again skipping the duplicates, which costs a check of the key per row.
async fn insert(db: &Db, batch: &[PublishOp]) -> Result<HashMap<Key, i64>, Error> {
    let client = db.pool.get().await.map_err(errors::pool)?;
    let columns = Columns::new(batch.iter().map(|op| &op.envelope));
    let statement = client
        .prepare_cached(&db.sql.publish)
        .await
        .map_err(errors::backend)?;
    let rows = match client.query(&statement, &columns.params()).await {
        Err(error) if error.code() == Some(&SqlState::UNIQUE_VIOLATION) => {
            let statement = client
                .prepare_cached(&db.sql.publish_dedup)
                .await
                .map_err(errors::backend)?;
            client
                .query(&statement, &columns.params())
                .await
                .map_err(errors::backend)?
        }
        other => other.map_err(errors::backend)?,
    };
    let mut stored = HashMap::with_capacity(rows.len());
    for row in rows {
        let seq: i64 = row.get(0);
        let key = (row.get(1), row.get(2), row.get(3));
        stored.insert(key, seq);
    }
    Ok(stored)
}
