//! The Lua scripts: each runs atomically on the server, so a retry after a lost reply
//! either finds its effect done or does it once.

use std::sync::LazyLock;

use redis::Script;

/// Publish with dedup, for a batch. KEYS: stream and dedup key of each envelope, in pairs.
/// ARGV: window ms, then each envelope's entry data. Returns per envelope, in order, its
/// entry id, or nil for a duplicate: an envelope whose key is already set is not stored
/// again. Two calls per envelope (the server's cost of a publish), none for its reply.
pub(crate) static PUBLISH_MANY: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r#"
local out = {}
for i = 1, #KEYS / 2 do
  if redis.call('SET', KEYS[2 * i], '1', 'NX', 'PX', ARGV[1]) then
    out[i] = redis.call('XADD', KEYS[2 * i - 1], '*', 'd', ARGV[i + 1])
  else
    out[i] = false
  end
end
return out
"#,
    )
});

/// The lease check every settling script starts with: ARGV[1] group, ARGV[2] consumer,
/// ARGV[3] id, ARGV[4] expected delivery count ('' skips the check). Returns from the
/// script with 0 when another consumer or a later delivery holds the entry, 2 when it is
/// no longer pending at all.
const CHECK: &str = r#"
if ARGV[4] ~= '' then
  local e = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[3], ARGV[3], 1)[1]
  if not e then return 2 end
  if e[2] ~= ARGV[2] or tostring(e[4]) ~= ARGV[4] then return 0 end
end
"#;

/// Checked ack. KEYS: stream. ARGV: group, consumer, id, count, delete ('1' for a retry
/// stream, whose entries only this group reads). Returns 1, or the check's 0/2.
pub(crate) static ACK: LazyLock<Script> = LazyLock::new(|| {
    Script::new(&format!(
        r#"{CHECK}
redis.call('XACK', KEYS[1], ARGV[1], ARGV[3])
if ARGV[5] == '1' then redis.call('XDEL', KEYS[1], ARGV[3]) end
return 1
"#
    ))
});

/// Requeue (nack, or release of an entry never handed out). KEYS: stream, retry stream,
/// delay set. ARGV: group, consumer, id, count, delete, delay ms, attempts so far, data.
/// A zero delay appends to the group's retry stream at once; otherwise the entry waits in
/// the delay set, scored by the server's clock, for [`MOVE_DUE`]. Then the original is
/// acked. Returns 1, or the check's 0/2.
pub(crate) static REQUEUE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(&format!(
        r#"{CHECK}
local delay = tonumber(ARGV[6])
if delay <= 0 then
  redis.call('XADD', KEYS[2], '*', 'd', ARGV[8], 'a', ARGV[7])
else
  local t = redis.call('TIME')
  local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  local token = string.gsub(KEYS[1], ':', '|')
  redis.call('ZADD', KEYS[3], now + delay, ARGV[7] .. ':' .. token .. '/' .. ARGV[3] .. ':' .. ARGV[8])
end
redis.call('XACK', KEYS[1], ARGV[1], ARGV[3])
if ARGV[5] == '1' then redis.call('XDEL', KEYS[1], ARGV[3]) end
return 1
"#
    ))
});

/// Dead-letter. KEYS: stream, dead-letter stream, dead-letter dedup key. ARGV: group,
/// consumer, id, count, delete, dedup window ms, dead-letter entry data. Appends the dead
/// letter once (the dedup key makes a retried call a no-op) and acks the original.
pub(crate) static DEAD_LETTER: LazyLock<Script> = LazyLock::new(|| {
    Script::new(&format!(
        r#"{CHECK}
if not redis.call('GET', KEYS[3]) then
  local id = redis.call('XADD', KEYS[2], '*', 'd', ARGV[7])
  redis.call('SET', KEYS[3], id, 'PX', ARGV[6])
end
redis.call('XACK', KEYS[1], ARGV[1], ARGV[3])
if ARGV[5] == '1' then redis.call('XDEL', KEYS[1], ARGV[3]) end
return 1
"#
    ))
});

/// Moves due delayed retries to the retry stream. KEYS: delay set, retry stream. ARGV:
/// most to move. Returns the milliseconds until the next one is due, or -1 when none waits.
pub(crate) static MOVE_DUE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r#"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, tonumber(ARGV[1]))
for _, m in ipairs(due) do
  local a = string.find(m, ':', 1, true)
  local b = string.find(m, ':', a + 1, true)
  redis.call('XADD', KEYS[2], '*', 'd', string.sub(m, b + 1), 'a', string.sub(m, 1, a - 1))
  redis.call('ZREM', KEYS[1], m)
end
local next = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
if next[2] then return math.max(0, tonumber(next[2]) - now) end
return -1
"#,
    )
});
