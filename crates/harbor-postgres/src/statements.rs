//! The SQL the bus runs, written once per schema.

use harbor_distributed::bus::dead_letter;

/// Envelope columns as the claim returns them (see `codec::decode`).
pub(crate) const ENVELOPE_COLUMNS: &str = "m.edge, m.tenant, m.user_id, m.session_id, m.run_id, \
     m.task_id, m.event_id, m.source, m.target, m.payload, m.headers::text, m.meta::text, \
     m.ts_secs, m.ts_nanos";

/// Every statement of one bus.
#[derive(Debug)]
pub(crate) struct Statements {
    /// Multi-row insert of a batch; returns the stored rows' keys. Fails as a whole with a
    /// unique violation when one is a duplicate.
    pub(crate) publish: String,
    /// The same, skipping duplicates (absent from what it returns). Dearer: each row is
    /// checked against the dedup key before it is inserted.
    pub(crate) publish_dedup: String,
    /// Claims up to `$2` deliveries of group `$1` for `$3` ms with the `claim` function
    /// (see [`claim_function`]); `$4` is the most attempts, `$5` the group's name.
    pub(crate) claim: String,
    /// Batched ack: deletes the named (group, seq, attempts) rows, returns those deleted.
    pub(crate) ack: String,
    /// Batched give-back of deliveries never handed to a consumer.
    pub(crate) release: String,
    /// Nack: visible again after `$4` ms with reason `$5`.
    pub(crate) nack: String,
    /// Nack of the last attempt: dead-letters with reason `$4` for group name `$5`.
    pub(crate) nack_dead: String,
    /// Deletes envelopes older than `$1` ms that every group has read past and none holds,
    /// up to 10 000 per run.
    pub(crate) sweep: String,
    /// The backlog of the groups named `$1` (every tenant scope): their `deliveries` rows
    /// (in flight, nacked, due again) and the committed envelopes matching them that they
    /// have not read yet (see [`backlog`]).
    pub(crate) backlog: String,
}

/// The statement behind [`Statements::backlog`]. An envelope is unread by a group when
/// its transaction is not visible in `done` and, while a range is being read, it is not
/// at or before the range's position; the `txid` bound lets the `(txid, seq)` index skip
/// everything older than `done`'s horizon, all of it read. The count is exact: edge and
/// tenant are matched as the claim matches them.
fn backlog(s: &str) -> String {
    format!(
        "SELECT coalesce(sum(
             (SELECT count(*) FROM {s}.deliveries d WHERE d.group_id = g.id)
             + (SELECT count(*) FROM {s}.messages m
                WHERE m.txid >= pg_snapshot_xmin(g.done)
                  AND NOT pg_visible_in_snapshot(m.txid, g.done)
                  AND NOT (g.pos_txid IS NOT NULL
                           AND pg_visible_in_snapshot(m.txid, g.upto)
                           AND (m.txid, m.seq) <= (g.pos_txid, g.pos_seq))
                  AND m.seq >= g.from_seq
                  AND (g.tenant = '' OR g.tenant = m.tenant)
                  AND (m.edge = ANY (g.exact) OR m.edge ~ ANY (g.patterns)))
         ), 0)::int8
         FROM {s}.groups g WHERE g.name = $1"
    )
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
         ON CONFLICT (task_id, edge, event_id) DO NOTHING",
        prefix = dead_letter::PREFIX,
        edge_h = dead_letter::ORIGINAL_EDGE,
        reason_h = dead_letter::REASON,
        attempts_h = dead_letter::ATTEMPTS,
        group_h = dead_letter::GROUP,
    )
}

impl Statements {
    /// The statements of the bus in schema `s`, waking listeners on `channel`.
    pub(crate) fn new(s: &str, channel: &str) -> Self {
        let insert = format!(
            "INSERT INTO {s}.messages (edge, tenant, user_id, session_id, run_id, task_id, \
                 event_id, source, target, payload, headers, meta, ts_secs, ts_nanos)
             SELECT edge, tenant, user_id, session_id, run_id, task_id, event_id, source, target,
                 payload, headers::jsonb, meta::jsonb, ts_secs, ts_nanos
             FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
                 $7::text[], $8::text[], $9::text[], $10::bytea[], $11::text[], $12::text[],
                 $13::int8[], $14::int4[]) WITH ORDINALITY
                 AS t(edge, tenant, user_id, session_id, run_id, task_id, event_id, source,
                     target, payload, headers, meta, ts_secs, ts_nanos, ord)
             ORDER BY ord"
        );
        // One NOTIFY per statement that stored something: the scalar subquery is run once,
        // for the first row returned, so a batch of duplicates wakes no one.
        let wake = |insert: String| {
            format!(
                "WITH stored AS ({insert} RETURNING seq, task_id, edge, event_id)
                 SELECT seq, task_id, edge, event_id, (SELECT pg_notify('{channel}', '')) IS NULL
                 FROM stored"
            )
        };
        let publish = wake(insert.clone());
        let publish_dedup = wake(format!(
            "{insert} ON CONFLICT (task_id, edge, event_id) DO NOTHING"
        ));
        let claim = format!("SELECT * FROM {s}.claim($1, $2, $3, $4, $5)");
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
             ), letters AS ({letters} RETURNING 1)
             SELECT (SELECT count(*) FROM dead),
                 (SELECT count(*) FROM (SELECT pg_notify('{channel}', '')
                                        WHERE EXISTS (SELECT 1 FROM letters)) wake)",
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
                   AND NOT EXISTS (
                       SELECT 1 FROM {s}.groups g
                       WHERE m.seq >= g.from_seq AND NOT pg_visible_in_snapshot(m.txid, g.done))
                 ORDER BY m.seq LIMIT 10000)"
        );
        Self {
            publish,
            publish_dedup,
            claim,
            ack,
            release,
            nack,
            nack_dead,
            sweep,
            backlog: backlog(s),
        }
    }
}

/// Most rows one `claim` call reads past (envelopes of other edges or tenants included)
/// before it returns, telling the claimer there is more.
const SCAN_BUDGET: i32 = 4096;

/// The `claim(group, want, vt_ms, max_attempts, group_name)` function of schema `s`.
///
/// It returns up to `want` leased deliveries, in two parts:
///
/// 1. **Redeliveries**: `deliveries` rows whose `vt` passed (nacked, released, or whose
///    visibility timeout expired), longest due first (the `(group_id, vt)` index finds
///    them without reading the deliveries in flight), with `FOR UPDATE SKIP LOCKED`;
///    each gets a new lease
///    (`vt`, `attempts + 1`), or is dead-lettered when its last attempt timed out.
/// 2. **New envelopes**, read from the log at the group's position under the group row's
///    lock. The position is a pair of snapshots, as in PgQ: every message whose
///    transaction is visible in `done` was read; the range being read holds those visible
///    in `upto` but not in `done`, in `(txid, seq)` order, `pos_*` being the last one read.
///    A snapshot only ever shows committed transactions, so a publish that commits late
///    falls into a later range and is never skipped, whatever its `seq`; and publishers
///    never wait for one another. Each matching envelope gets a `deliveries` row leased at
///    once (attempt 1); envelopes of other edges or tenants are read past.
///
/// When it read [`SCAN_BUDGET`] rows without reaching the end of the log, it adds a row
/// whose sequence is null: the claimer should call again.
///
/// Every statement of a volatile PL/pgSQL function takes a fresh snapshot, so the snapshot
/// taken for a new range, and the reads, come after the group lock was granted.
pub(crate) fn claim_function(s: &str, channel: &str) -> String {
    format!(
        r#"
CREATE FUNCTION {s}.claim(p_group integer, p_want integer, p_vt_ms bigint, p_max integer,
                          p_name text)
RETURNS TABLE (o_seq bigint, o_attempts integer, o_edge text, o_tenant text, o_user_id text,
               o_session_id text, o_run_id text, o_task_id text, o_event_id text,
               o_source text, o_target text, o_payload bytea, o_headers text, o_meta text,
               o_ts_secs bigint, o_ts_nanos integer)
LANGUAGE plpgsql
-- Each statement is planned once per session: planning on every call would cost more than
-- most calls do. Every statement here is an index lookup by design; as a plan can be made
-- while a table is still small, plans that read a whole table are ruled out.
SET plan_cache_mode = force_generic_plan
SET enable_seqscan = off
SET enable_hashjoin = off
SET enable_mergejoin = off
AS $fn$
#variable_conflict use_column
DECLARE
    g {s}.groups%ROWTYPE;
    taken integer;
    page integer;
    scanned integer;
    hits bigint[];
    last_txid xid8;
    last_seq bigint;
    fresh boolean;
    budget integer := {SCAN_BUDGET};
BEGIN
    taken := 0;
    -- Redeliveries, when any is due (the check is a probe of the (group_id, vt) index;
    -- the statement below costs more even when it finds nothing).
    IF EXISTS (SELECT 1 FROM {s}.deliveries WHERE group_id = p_group AND vt <= now()) THEN
        RETURN QUERY
        WITH cand AS (
            SELECT group_id, seq, attempts FROM {s}.deliveries
            WHERE group_id = p_group AND vt <= now()
            ORDER BY vt LIMIT p_want
            FOR UPDATE SKIP LOCKED
        ), live AS (
            UPDATE {s}.deliveries d
            SET vt = now() + p_vt_ms * interval '1 millisecond',
                attempts = d.attempts + 1, reason = NULL
            FROM cand
            WHERE d.group_id = cand.group_id AND d.seq = cand.seq AND cand.attempts < p_max
            RETURNING d.seq, d.attempts
        ), dead AS (
            DELETE FROM {s}.deliveries d USING cand
            WHERE d.group_id = cand.group_id AND d.seq = cand.seq AND cand.attempts >= p_max
            RETURNING d.seq, d.attempts,
                coalesce(d.reason || ' (then the visibility timeout expired)',
                    'the visibility timeout expired') AS reason
        ), letters AS ({letters})
        SELECT live.seq, live.attempts, {ENVELOPE_COLUMNS}
        FROM live JOIN {s}.messages m ON m.seq = live.seq
        ORDER BY live.seq;
        GET DIAGNOSTICS taken = ROW_COUNT;
        IF EXISTS (SELECT 1 FROM {s}.messages WHERE txid = pg_current_xact_id_if_assigned()) THEN
            PERFORM pg_notify('{channel}', '');  -- dead letters were stored
        END IF;
    END IF;
    IF taken >= p_want THEN
        RETURN;
    END IF;

    SELECT * INTO g FROM {s}.groups WHERE id = p_group FOR UPDATE;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    LOOP
        fresh := g.upto IS NULL;
        IF fresh THEN
            g.upto := pg_current_snapshot();
        END IF;
        page := least(p_want - taken, budget);
        SELECT count(*)::integer,
               coalesce(array_agg(r.seq ORDER BY r.txid, r.seq) FILTER (WHERE r.hit), '{{}}'),
               (array_agg(r.txid ORDER BY r.txid DESC, r.seq DESC))[1],
               (array_agg(r.seq ORDER BY r.txid DESC, r.seq DESC))[1]
          INTO scanned, hits, last_txid, last_seq
          FROM (SELECT m.seq, m.txid,
                       m.seq >= g.from_seq
                       AND (g.tenant = '' OR g.tenant = m.tenant)
                       AND (m.edge = ANY (g.exact) OR m.edge ~ ANY (g.patterns)) AS hit
                  FROM {s}.messages m
                 WHERE (m.txid, m.seq) > (coalesce(g.pos_txid, pg_snapshot_xmin(g.done)),
                                          coalesce(g.pos_seq, -1))
                   AND m.txid < pg_snapshot_xmax(g.upto)
                   AND pg_visible_in_snapshot(m.txid, g.upto)
                   AND NOT pg_visible_in_snapshot(m.txid, g.done)
                 ORDER BY m.txid, m.seq
                 LIMIT page) r;
        IF cardinality(hits) > 0 THEN
            RETURN QUERY
            WITH made AS (
                INSERT INTO {s}.deliveries (group_id, seq, vt, attempts)
                SELECT p_group, h, now() + p_vt_ms * interval '1 millisecond', 1
                FROM unnest(hits) h
                RETURNING seq, attempts
            )
            SELECT made.seq, made.attempts, {ENVELOPE_COLUMNS}
            FROM made JOIN {s}.messages m ON m.seq = made.seq
            ORDER BY m.txid, m.seq;
            taken := taken + cardinality(hits);
        END IF;
        budget := budget - scanned;
        IF scanned < page THEN
            -- The range is read: it is done. Unless it was begun in this call, a fresh
            -- one may already hold more.
            g.done := g.upto;
            g.upto := NULL;
            g.pos_txid := NULL;
            g.pos_seq := NULL;
            EXIT WHEN fresh;
        ELSE
            g.pos_txid := last_txid;
            g.pos_seq := last_seq;
        END IF;
        EXIT WHEN taken >= p_want;
        IF budget <= 0 THEN
            o_seq := NULL;
            RETURN NEXT;
            EXIT;
        END IF;
    END LOOP;
    UPDATE {s}.groups
       SET done = g.done, upto = g.upto, pos_txid = g.pos_txid, pos_seq = g.pos_seq
     WHERE id = p_group;
END
$fn$;
"#,
        letters = dead_letters(s, "p_name"),
    )
}
