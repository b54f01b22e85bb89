//! The SQL the bus runs, written once per schema.

use harbor_distributed::bus::dead_letter;

/// Envelope columns as the claim returns them (see `codec::decode`).
pub(crate) const ENVELOPE_COLUMNS: &str = "m.edge, m.tenant, m.user_id, m.session_id, m.run_id, \
     m.task_id, m.event_id, m.source, m.target, m.payload, m.headers::text, m.meta::text, \
     m.ts_secs, m.ts_nanos";

/// Every statement of one bus.
#[derive(Debug)]
pub(crate) struct Statements {
    /// Multi-row insert of a batch; returns the stored rows' keys (duplicates are absent).
    pub(crate) publish: String,
    /// Claims up to `$2` claimable deliveries of group `$1` for `$3` ms; the ones whose
    /// last attempt (of `$4`) timed out are dead-lettered for group name `$5` instead.
    pub(crate) claim: String,
    /// Batched ack: deletes the named (group, seq, attempts) rows, returns those deleted.
    pub(crate) ack: String,
    /// Batched give-back of deliveries never handed to a consumer.
    pub(crate) release: String,
    /// Nack: visible again after `$4` ms with reason `$5`.
    pub(crate) nack: String,
    /// Nack of the last attempt: dead-letters with reason `$4` for group name `$5`.
    pub(crate) nack_dead: String,
    /// Deletes settled envelopes older than `$1` ms, up to 10 000 per run.
    pub(crate) sweep: String,
}

/// `INSERT … SELECT` of a dead letter for each row of the CTE `dead(seq, attempts, reason)`
/// in group named by parameter `$group`.
fn dead_letters(s: &str, group: &str) -> String {
    format!(
        "INSERT INTO {s}.messages (edge, tenant, user_id, session_id, run_id, task_id, event_id, \
             source, target, payload, headers, meta, ts_secs, ts_nanos)
         SELECT '{prefix}.' || {group}::text || '.' || m.edge, m.tenant, m.user_id, m.session_id,
             m.run_id, m.task_id, m.event_id, m.source, m.target, m.payload,
             m.headers || jsonb_build_object(
                 '{edge_h}', m.edge, '{reason_h}', dead.reason,
                 '{attempts_h}', dead.attempts::text, '{group_h}', {group}::text),
             m.meta, m.ts_secs, m.ts_nanos
         FROM dead JOIN {s}.messages m ON m.seq = dead.seq
         ON CONFLICT DO NOTHING",
        prefix = dead_letter::PREFIX,
        edge_h = dead_letter::ORIGINAL_EDGE,
        reason_h = dead_letter::REASON,
        attempts_h = dead_letter::ATTEMPTS,
        group_h = dead_letter::GROUP,
    )
}

impl Statements {
    pub(crate) fn new(s: &str) -> Self {
        let publish = format!(
            "INSERT INTO {s}.messages (edge, tenant, user_id, session_id, run_id, task_id, \
                 event_id, source, target, payload, headers, meta, ts_secs, ts_nanos)
             SELECT edge, tenant, user_id, session_id, run_id, task_id, event_id, source, target,
                 payload, headers::jsonb, meta::jsonb, ts_secs, ts_nanos
             FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
                 $7::text[], $8::text[], $9::text[], $10::bytea[], $11::text[], $12::text[],
                 $13::int8[], $14::int4[]) WITH ORDINALITY
                 AS t(edge, tenant, user_id, session_id, run_id, task_id, event_id, source,
                     target, payload, headers, meta, ts_secs, ts_nanos, ord)
             ORDER BY ord
             ON CONFLICT DO NOTHING
             RETURNING seq, task_id, edge, event_id"
        );
        let claim = format!(
            "WITH cand AS (
                 SELECT group_id, seq, attempts FROM {s}.deliveries
                 WHERE group_id = $1 AND vt <= now()
                 ORDER BY seq LIMIT $2
                 FOR UPDATE SKIP LOCKED
             ), live AS (
                 UPDATE {s}.deliveries d
                 SET vt = now() + $3::int8 * interval '1 millisecond',
                     attempts = d.attempts + 1, reason = NULL
                 FROM cand
                 WHERE d.group_id = cand.group_id AND d.seq = cand.seq AND cand.attempts < $4
                 RETURNING d.seq, d.attempts
             ), dead AS (
                 DELETE FROM {s}.deliveries d USING cand
                 WHERE d.group_id = cand.group_id AND d.seq = cand.seq AND cand.attempts >= $4
                 RETURNING d.seq, d.attempts,
                     coalesce(d.reason || ' (then the visibility timeout expired)',
                         'the visibility timeout expired') AS reason
             ), letters AS ({letters})
             SELECT live.seq, live.attempts, {ENVELOPE_COLUMNS}
             FROM live JOIN {s}.messages m ON m.seq = live.seq
             ORDER BY live.seq",
            letters = dead_letters(s, "$5"),
        );
        let ack = format!(
            "DELETE FROM {s}.deliveries d
             USING unnest($1::int4[], $2::int8[], $3::int4[]) AS a(g, s, n)
             WHERE d.group_id = a.g AND d.seq = a.s AND d.attempts = a.n
             RETURNING d.group_id, d.seq"
        );
        let release = format!(
            "UPDATE {s}.deliveries d SET vt = now(), attempts = d.attempts - 1
             FROM unnest($1::int4[], $2::int8[], $3::int4[]) AS a(g, s, n)
             WHERE d.group_id = a.g AND d.seq = a.s AND d.attempts = a.n"
        );
        let nack = format!(
            "UPDATE {s}.deliveries
             SET vt = now() + $4::int8 * interval '1 millisecond', reason = $5
             WHERE group_id = $1 AND seq = $2 AND attempts = $3"
        );
        let nack_dead = format!(
            "WITH dead AS (
                 DELETE FROM {s}.deliveries
                 WHERE group_id = $1 AND seq = $2 AND attempts = $3
                 RETURNING seq, attempts, $4::text AS reason
             ), letters AS ({letters})
             SELECT count(*) FROM dead",
            letters = dead_letters(s, "$5"),
        );
        let sweep = format!(
            "WITH floor AS (
                 SELECT min(x.seq) AS seq FROM {s}.groups g,
                 LATERAL (SELECT d.seq FROM {s}.deliveries d WHERE d.group_id = g.id
                          ORDER BY d.seq LIMIT 1) x
             )
             DELETE FROM {s}.messages WHERE seq IN (
                 SELECT m.seq FROM {s}.messages m
                 WHERE m.seq < coalesce((SELECT seq FROM floor), 9223372036854775807)
                   AND m.stored_at < now() - $1::int8 * interval '1 millisecond'
                 ORDER BY m.seq LIMIT 10000)"
        );
        Self {
            publish,
            claim,
            ack,
            release,
            nack,
            nack_dead,
            sweep,
        }
    }
}
