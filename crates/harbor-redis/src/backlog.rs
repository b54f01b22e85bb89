//! A group's backlog, from what Redis keeps of it.
//!
//! The group has one Redis group per scope, registered in `<prefix>:groups` with its edge
//! patterns. For each: `lag + pending` of `XINFO GROUPS` on every stream its patterns name
//! (entries not read yet, and read and not acked), plus its retry stream's length (acked
//! retry entries are deleted, so what is left is owed) and its delay set's size (nacked
//! envelopes waiting for their delay).

use std::collections::BTreeSet;

use harbor_distributed::Error;
use redis::aio::ConnectionManager;
use redis::streams::StreamInfoGroupsReply;

use crate::core::Inner;
use crate::errors::backend;
use crate::keys;

/// The backlog of `group` over its scopes; `None` when Redis cannot tell a stream's lag
/// (see the crate docs).
pub(crate) async fn backlog(inner: &Inner, group: &str) -> Result<Option<u64>, Error> {
    let mut conn = inner.conn()?;
    let prefix = &inner.config.prefix;
    let mut total = 0u64;
    for (name, patterns) in scopes(&mut conn, prefix, group).await? {
        let streams: BTreeSet<String> = patterns
            .split(' ')
            .filter_map(|p| keys::stream_of_pattern(prefix, p).ok())
            .collect();
        for stream in &streams {
            match unread_and_pending(&mut conn, stream, &name).await? {
                Some(n) => total += n,
                None => return Ok(None),
            }
        }
        let (retries, delayed): (u64, u64) = redis::pipe()
            .cmd("XLEN")
            .arg(keys::retry_stream(prefix, &name))
            .cmd("ZCARD")
            .arg(keys::delay_set(prefix, &name))
            .query_async(&mut conn)
            .await
            .map_err(backend)?;
        total += retries + delayed;
    }
    Ok(Some(total))
}

/// The Redis groups of `group` (one per scope it was subscribed in) and their patterns.
async fn scopes(
    conn: &mut ConnectionManager,
    prefix: &str,
    group: &str,
) -> Result<Vec<(String, String)>, Error> {
    let hash = keys::groups_hash(prefix);
    let names = keys::group_names_prefix(group);
    let pattern = keys::glob_prefix(&names);
    let mut found = Vec::new();
    let mut cursor: u64 = 0;
    loop {
        let (next, fields): (u64, Vec<(String, String)>) = redis::cmd("HSCAN")
            .arg(&hash)
            .arg(cursor)
            .arg("MATCH")
            .arg(&pattern)
            .arg("COUNT")
            .arg(1000)
            .query_async(conn)
            .await
            .map_err(backend)?;
        // HSCAN may return a field twice; the prefix is checked again, exactly.
        for (name, patterns) in fields {
            if name.starts_with(&names) && !found.iter().any(|(n, _)| *n == name) {
                found.push((name, patterns));
            }
        }
        if next == 0 {
            return Ok(found);
        }
        cursor = next;
    }
}

/// `lag + pending` of Redis group `name` on `stream`: 0 when either is gone, `None` when
/// Redis cannot tell the lag.
async fn unread_and_pending(
    conn: &mut ConnectionManager,
    stream: &str,
    name: &str,
) -> Result<Option<u64>, Error> {
    let reply: Result<StreamInfoGroupsReply, _> = redis::cmd("XINFO")
        .arg("GROUPS")
        .arg(stream)
        .query_async(conn)
        .await;
    let reply = match reply {
        Ok(reply) => reply,
        Err(error) if error.detail().is_some_and(|d| d.contains("no such key")) => {
            return Ok(Some(0));
        }
        Err(error) => return Err(backend(error)),
    };
    let Some(info) = reply.groups.into_iter().find(|g| g.name == name) else {
        return Ok(Some(0));
    };
    Ok(info.lag.map(|lag| (lag + info.pending) as u64))
}
