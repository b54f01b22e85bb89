//! Reading the log: a group's position is a pair of snapshots, not a sequence number, so
//! an envelope whose transaction commits after later ones is still delivered; a group
//! reads past any number of other edges' envelopes without waiting for the next poll; only
//! what stores envelopes notifies; and a schema left by version 1 of the driver keeps its
//! envelopes and deliveries. Against the server at `HARBOR_POSTGRES_URL`, each test in a
//! schema of its own.

use std::time::Duration;

use futures::StreamExt;
use harbor_distributed::{
    Envelope, Identity, IdentityScope, StartPosition, SubscribeOptions, Subscription,
};
use tokio_postgres::{AsyncMessage, NoTls};

use harbor_test_support::postgres::{bus_in, scoped_bus_named};

fn envelope(edge: &str, event: &str) -> Envelope {
    let who = Identity::new("acme", "ada", "s-1").expect("identity");
    Envelope::new(edge, who, event, "payload")
}

/// The next delivery's event id, acked; fails after `within`.
async fn next_event(sub: &mut Subscription, within: Duration) -> String {
    let delivery = tokio::time::timeout(within, sub.next())
        .await
        .unwrap_or_else(|_| panic!("no delivery within {within:?}"))
        .expect("the subscription ended")
        .expect("a delivery");
    let id = delivery.envelope().event_id.clone();
    delivery.ack().await.expect("ack");
    id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_envelope_committed_after_later_ones_is_delivered() {
    let url = harbor_test_support::require!(postgres);
    let (bus, schema) = scoped_bus_named(&url, "").await;
    let mut sub = bus
        .subscribe(SubscribeOptions::new(
            ["late.edge"],
            "g",
            IdentityScope::Admin,
        ))
        .await
        .expect("subscribe");

    // A publisher that took its sequence number and transaction id first, then stalls
    // before committing.
    let server = url.split('?').next().unwrap_or(&url);
    let (mut slow, connection) = tokio_postgres::connect(server, NoTls)
        .await
        .expect("connect");
    tokio::spawn(connection);
    let tx = slow.transaction().await.expect("begin");
    tx.execute(
        &format!(
            "INSERT INTO {schema}.messages (edge, tenant, user_id, session_id, task_id, \
                 event_id, source, target, payload, headers, meta, ts_secs, ts_nanos) \
             VALUES ('late.edge', 'acme', 'ada', 's-1', '', 'slow', '', '', 'p', '{{}}', '{{}}', 0, 0)"
        ),
        &[],
    )
    .await
    .expect("insert the slow envelope");

    // Later publishes commit first and are read: the group's position moves past them.
    for event in ["a", "b", "c"] {
        bus.publish(envelope("late.edge", event))
            .await
            .expect("publish");
    }
    let mut seen = Vec::new();
    for _ in 0..3 {
        seen.push(next_event(&mut sub, Duration::from_secs(10)).await);
    }
    seen.sort();
    assert_eq!(seen, ["a", "b", "c"]);

    tx.commit().await.expect("commit the slow envelope");
    // Its sequence is below all three, but it was not committed when they were read.
    assert_eq!(next_event(&mut sub, Duration::from_secs(10)).await, "slow");
    drop(sub);
    bus.close().await.expect("close");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_group_reads_past_other_edges_without_waiting_for_a_poll() {
    let url = harbor_test_support::require!(postgres);
    let (bus, schema) = scoped_bus_named(&url, "").await;
    let publishes = (0..10_000).map(|i| bus.publish(envelope("other.edge", &format!("o{i}"))));
    for result in futures::future::join_all(publishes).await {
        result.expect("publish");
    }
    bus.publish(envelope("wanted.edge", "wanted"))
        .await
        .expect("publish");

    // Another bus, opened once all is stored, so that no notification of those publishes
    // reaches it; its poll is far beyond the deadline. Only the claim function's "read
    // on" answer can get its subscription through the other edge's envelopes in time.
    let reader = bus_in(&url, &schema, "poll_interval=1h").await;
    let mut sub = reader
        .subscribe(
            SubscribeOptions::new(["wanted.edge"], "g", IdentityScope::Admin)
                .start(StartPosition::Earliest),
        )
        .await
        .expect("subscribe");
    assert_eq!(
        next_event(&mut sub, Duration::from_secs(10)).await,
        "wanted"
    );
    drop(sub);
    reader.close().await.expect("close the reader");
    bus.close().await.expect("close");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_version_1_schema_is_migrated_with_its_envelopes_and_deliveries() {
    let url = harbor_test_support::require!(postgres);
    let schema = format!("harbor_test_{}", uuid::Uuid::new_v4().simple());
    let server = url.split('?').next().unwrap_or(&url);
    let (admin, connection) = tokio_postgres::connect(server, NoTls)
        .await
        .expect("connect");
    tokio::spawn(connection);
    // The schema as version 1 of the driver left it: one envelope, stored before group
    // "late" existed, and its pending delivery to group "g" (fanned out on publish).
    admin
        .batch_execute(&format!(
            r#"
CREATE SCHEMA {schema};
CREATE TABLE {schema}.schema_version (version integer NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now());
INSERT INTO {schema}.schema_version (version) VALUES (1);
CREATE TABLE {schema}.messages (seq bigserial PRIMARY KEY, edge text NOT NULL,
    tenant text NOT NULL, user_id text NOT NULL, session_id text NOT NULL, run_id text,
    task_id text NOT NULL, event_id text NOT NULL, source text NOT NULL, target text NOT NULL,
    payload bytea NOT NULL, headers jsonb NOT NULL, meta jsonb NOT NULL,
    ts_secs bigint NOT NULL, ts_nanos integer NOT NULL,
    stored_at timestamptz NOT NULL DEFAULT now(), UNIQUE (task_id, edge, event_id));
CREATE TABLE {schema}.groups (id serial PRIMARY KEY, name text NOT NULL, tenant text NOT NULL,
    exact text[] NOT NULL, patterns text[] NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(), UNIQUE (name, tenant));
CREATE TABLE {schema}.deliveries (group_id integer NOT NULL, seq bigint NOT NULL,
    vt timestamptz NOT NULL DEFAULT now(), attempts integer NOT NULL DEFAULT 0, reason text,
    PRIMARY KEY (group_id, seq));
CREATE FUNCTION {schema}.fan_out() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RETURN NULL; END $$;
CREATE TRIGGER fan_out AFTER INSERT ON {schema}.messages
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION {schema}.fan_out();
INSERT INTO {schema}.groups (name, tenant, exact, patterns)
    VALUES ('g', '', ARRAY['old.edge'], ARRAY[]::text[]);
INSERT INTO {schema}.messages (edge, tenant, user_id, session_id, task_id, event_id, source,
    target, payload, headers, meta, ts_secs, ts_nanos)
    VALUES ('old.edge', 'acme', 'ada', 's-1', '', 'old', '', '', 'p', '{{}}', '{{}}', 0, 0);
INSERT INTO {schema}.deliveries (group_id, seq) VALUES (1, 1);
"#
        ))
        .await
        .expect("a version 1 schema");

    let bus = bus_in(&url, &schema, "").await;
    // The pending delivery is handed out once, to its group.
    let mut g = bus
        .subscribe(SubscribeOptions::new(
            ["old.edge"],
            "g",
            IdentityScope::Admin,
        ))
        .await
        .expect("subscribe g");
    assert_eq!(next_event(&mut g, Duration::from_secs(10)).await, "old");
    // A group made after the migration replays the envelope from the log.
    let mut late = bus
        .subscribe(
            SubscribeOptions::new(["old.edge"], "late", IdentityScope::Admin)
                .start(StartPosition::Earliest),
        )
        .await
        .expect("subscribe late");
    assert_eq!(next_event(&mut late, Duration::from_secs(10)).await, "old");
    // And both read what is published now.
    bus.publish(envelope("old.edge", "new"))
        .await
        .expect("publish");
    assert_eq!(next_event(&mut g, Duration::from_secs(10)).await, "new");
    assert_eq!(next_event(&mut late, Duration::from_secs(10)).await, "new");
    drop((g, late));
    bus.close().await.expect("close");
    let version: i32 = admin
        .query_one(
            &format!("SELECT max(version) FROM {schema}.schema_version"),
            &[],
        )
        .await
        .expect("version")
        .get(0);
    assert_eq!(version, 2);
    harbor_postgres::raw::drop_schema(server, &schema)
        .await
        .expect("drop the schema");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_statements_that_store_envelopes_notify() {
    let url = harbor_test_support::require!(postgres);
    let (bus, schema) = scoped_bus_named(&url, "").await;
    let server = url.split('?').next().unwrap_or(&url);
    let (listener, mut connection) = tokio_postgres::connect(server, NoTls)
        .await
        .expect("connect");
    let (heard, mut notifications) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(
        futures::stream::poll_fn(move |cx| connection.poll_message(cx)).for_each(move |message| {
            if let Ok(AsyncMessage::Notification(n)) = message {
                let _ = heard.send(n.channel().to_owned());
            }
            futures::future::ready(())
        }),
    );
    listener
        .batch_execute(&format!("LISTEN {schema}_wake"))
        .await
        .expect("listen");

    let mut sub = bus
        .subscribe(SubscribeOptions::new(
            ["quiet.edge"],
            "g",
            IdentityScope::Admin,
        ))
        .await
        .expect("subscribe");
    for event in ["one", "two"] {
        bus.publish(envelope("quiet.edge", event))
            .await
            .expect("publish");
        assert_eq!(next_event(&mut sub, Duration::from_secs(10)).await, event);
    }
    // A notification committed before this round trip has reached the listener.
    listener
        .batch_execute("SELECT 1")
        .await
        .expect("round trip");
    let mut count = 0;
    while notifications.try_recv().is_ok() {
        count += 1;
    }
    // One per publish; claims and acks (which also commit) notify no one, or every claim
    // would wake every claimer again.
    assert_eq!(count, 2, "notifications heard for two publishes");
    drop(sub);
    bus.close().await.expect("close");
}
