//! Trimming: each stream a bus reads is cut below the oldest entry any of its groups still
//! needs (its oldest pending entry, or its last delivered one), so a pending entry is never
//! trimmed away. A stream no group reads is left alone.

use std::sync::Weak;

use redis::Value;
use redis::aio::ConnectionManager;
use tokio_util::sync::CancellationToken;

use crate::core::Inner;
use crate::errors::backend;
use harbor_distributed::kit::lock;

pub(crate) async fn run(bus: Weak<Inner>, cancel: CancellationToken) {
    loop {
        let interval = match bus.upgrade() {
            Some(bus) => bus.config.trim_interval,
            None => return,
        };
        tokio::select! {
            () = tokio::time::sleep(interval) => {}
            () = cancel.cancelled() => return,
        }
        let Some(bus) = bus.upgrade() else { return };
        let streams: Vec<String> = lock(&bus.streams).iter().cloned().collect();
        let Ok(mut conn) = bus.conn() else { return };
        drop(bus);
        for key in streams {
            if let Err(error) = trim(&mut conn, &key).await {
                tracing::debug!(%error, stream = %key, "redis bus trim failed");
            }
        }
    }
}

fn parse_id(id: &str) -> Option<(u64, u64)> {
    let (ms, seq) = id.split_once('-')?;
    Some((ms.parse().ok()?, seq.parse().ok()?))
}

fn text(v: &Value) -> Option<String> {
    match v {
        Value::BulkString(b) => String::from_utf8(b.clone()).ok(),
        Value::SimpleString(s) => Some(s.clone()),
        _ => None,
    }
}

/// Trims `key` below what every group still needs.
pub(crate) async fn trim(
    conn: &mut ConnectionManager,
    key: &str,
) -> Result<(), harbor_distributed::Error> {
    let groups: Value = redis::cmd("XINFO")
        .arg("GROUPS")
        .arg(key)
        .query_async(conn)
        .await
        .map_err(backend)?;
    let Value::Array(groups) = groups else {
        return Ok(());
    };
    let mut floor: Option<(u64, u64)> = None;
    for group in groups {
        let fields: Vec<(Value, Value)> = match group {
            Value::Map(pairs) => pairs,
            Value::Array(items) => {
                let mut it = items.into_iter();
                let mut pairs = Vec::new();
                while let (Some(k), Some(v)) = (it.next(), it.next()) {
                    pairs.push((k, v));
                }
                pairs
            }
            _ => continue,
        };
        let field = |name: &str| {
            fields
                .iter()
                .find(|(k, _)| text(k).as_deref() == Some(name))
                .map(|(_, v)| v.clone())
        };
        let (Some(name), Some(last)) = (
            field("name").as_ref().and_then(text),
            field("last-delivered-id").as_ref().and_then(text),
        ) else {
            return Ok(());
        };
        let pending = matches!(field("pending"), Some(Value::Int(n)) if n > 0);
        let needed = if pending {
            let summary: Value = redis::cmd("XPENDING")
                .arg(key)
                .arg(&name)
                .query_async(conn)
                .await
                .map_err(backend)?;
            match summary {
                Value::Array(items) => items.get(1).and_then(text),
                _ => None,
            }
        } else {
            Some(last)
        };
        // Unknown means keep everything.
        let Some(needed) = needed.as_deref().and_then(parse_id) else {
            return Ok(());
        };
        floor = Some(floor.map_or(needed, |f| f.min(needed)));
    }
    if let Some((ms, seq)) = floor {
        redis::cmd("XTRIM")
            .arg(key)
            .arg("MINID")
            .arg("~")
            .arg(format!("{ms}-{seq}"))
            .query_async::<i64>(conn)
            .await
            .map_err(backend)?;
    }
    Ok(())
}
