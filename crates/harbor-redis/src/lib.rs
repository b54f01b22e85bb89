//! Harbor's Redis Streams [`MessageBus`](harbor_distributed::MessageBus) driver.
//!
//! At-least-once delivery over Redis Streams consumer groups (server 6.2 or later; tested
//! on 7.0), with redis-rs 1.8.
//!
//! The URL form, its parameters, the capabilities and the limits are in the
//! [URL](#url), [Capabilities](#capabilities) and [Limits](#limits) sections below (the
//! crate's `docs.md`).
//!
//! # Layout
//!
//! - **Streams per edge prefix.** An edge is stored in the stream of its first segment
//!   (`<prefix>:s:orders` holds `orders.created` and `orders.paid.eu`); a dead-letter edge
//!   `dead-letter.<group>.<edge>` in the stream of its first two segments. A subscription
//!   reads the streams its patterns name and matches `*` / `>` on the client. That is why
//!   the first segment of a pattern (the first two of a dead-letter pattern) must be
//!   concrete: `orders.*` and `orders.>` work, `*.created` and `>` are refused with
//!   `InvalidArgument`. The alternative, one stream per edge plus a registry of stream
//!   keys that every wildcard subscriber rescans, needs a moving set of streams per group
//!   and loses one-stream ordering; the first segment is in practice the application's
//!   namespace, so one stream per namespace keeps reads to one or two streams.
//! - **Groups.** A group is named for its name *and* scope (`<len>:<group>:t=<tenant>` or
//!   `…:admin`), so tenant `a`'s `workers` and tenant `b`'s `workers` are two Redis groups.
//!   It is created on its streams at subscribe time (`$` for
//!   [`StartPosition::New`](harbor_distributed::StartPosition), `0` for `Earliest`, the id
//!   for `Sequence`), and its edge patterns are registered in `<prefix>:groups`: members
//!   must subscribe to the same edges.
//! - **Tenant scope.** Entries carry the tenant; a tenant-scoped group's reader decodes each
//!   entry and acks away (batched, without delivering) the ones of other tenants or of
//!   edges its patterns do not match, so the group never hands out another tenant's
//!   envelope and skipped entries never linger in its pending list.
//! - **Retries.** Each group has its own retry stream `<prefix>:r:<group>` (read with the
//!   main streams in the same `XREADGROUP`) and delay set `<prefix>:z:<group>`. A nack
//!   writes the envelope with the attempts made so far to the retry stream (zero delay) or
//!   to the delay set scored with the server's clock (non-zero delay), and acks the
//!   original, in one Lua script; a janitor moves due entries to the retry stream. This
//!   way a nacked envelope is available to every member at once (the memory bus's
//!   behaviour), the delay survives the consumer's death, and other groups never see it.
//!   Leaving the entry pending and claiming it after the delay was the alternative; it
//!   keeps the envelope with one consumer and mixes nack delays with the visibility
//!   timeout, so a dead consumer's delayed entry would wait for the longer of the two.
//! - **Attempts.** `attempt = a + delivery count`, where the delivery count is the
//!   server's (`XPENDING`, raised by every `XCLAIM`) and `a` is the attempts recorded in a
//!   retry entry (0 in the main streams). A nack carries the count over in `a`, so it
//!   survives the ack of the original.
//! - **Visibility timeout** is the `XCLAIM` min-idle time: each subscription's janitor
//!   scans its group's pending entries idle longer than the timeout (`XPENDING … IDLE`),
//!   claims them to itself and delivers them again; past `max_attempts` they go to the
//!   dead-letter edge instead, published once (dedup key) and acked in one script.
//! - **Own pending entries first.** On start and after every failed read, a reader takes
//!   back the entries in its own consumer's pending list it does not hold before reading
//!   new ones with `>` (a reply lost with the connection leaves entries there). With the
//!   default random consumer names a restarted process has no own entries; set `consumer`
//!   to a stable name and it takes them back at once instead of after the visibility
//!   timeout.
//! - **Publish dedup** (the server is 7.0, without `XADD IDMP`): a Lua script sets the
//!   idempotency key of `(task_id, edge, event_id)` with `SET NX PX` (an expiry of
//!   `dedup_window`) and `XADD`s only when it was absent, atomically. A publish retried
//!   after a lost reply is therefore stored once; a duplicate's receipt has no sequence.
//!   Concurrent publishes share one script call (up to 256 envelopes, two calls in
//!   flight): the script's fixed cost dominates a lone envelope's.
//!   Entries hold the envelope's [`frame`](harbor_distributed::frame) in their field `d`.
//! - **Backlog.** [`backlog`](harbor_distributed::MessageBus::backlog) sums, over the
//!   group's Redis groups (its scopes, found in `<prefix>:groups`), `lag + pending` of
//!   `XINFO GROUPS` on each stream its patterns read, the length of its retry stream (acked
//!   retry entries are deleted) and the size of its delay set. A stream holds every edge of
//!   its first segment and every tenant, so entries the group skips count until its reader
//!   has acked them away (at once while it has room). Redis cannot tell the lag of a group
//!   created at a `Sequence` inside a stream until it has read to the stream's end; the
//!   backlog is `None` then.
//! - **Trimming** never removes a pending entry: each stream a bus reads is cut with
//!   `XTRIM MINID ~` below the oldest entry any of its groups still needs. A stream no group
//!   reads is not trimmed; a group nobody consumes any more holds its stream's history.
//!
//! # Connections and failures
//!
//! One multiplexed, self-reconnecting connection (`ConnectionManager`) carries publishes,
//! scripts, claims and acks; concurrent publishes are pipelined on it. Each subscription
//! reads on a connection of its own, with a reply timeout of `block + response_timeout`:
//! a blocking `XREADGROUP` on the shared connection would stall every command behind it,
//! and redis-rs's 500 ms default would cut it. `ConnectionManager` drops the command that
//! hit a broken connection, so publish, ack and nack retry retryable errors for `retry`,
//! idempotently (dedup key; `XACK` is idempotent; the settle scripts check the pending
//! entry's consumer and delivery count, and a retry that finds its own effect done counts
//! as success). Publish returns only after the server stored the entry.
//!
//! Acks are batched: one task gathers every ack of the bus and sends one `XACK` per stream
//! and group per round trip; each `ack()` still returns only after its `XACK` was answered.
//! While a delivery is well inside its visibility timeout no other consumer can have
//! claimed it, so the plain batched `XACK` is exact; later, ack and nack run a script that
//! checks the entry is still this delivery's and otherwise fail with `DeliveryExpired`.
//!
//! # Example
//!
//! ```no_run
//! use harbor_distributed::{Envelope, Identity, IdentityScope, MessageBus, SubscribeOptions};
//! use harbor_redis::RedisBus;
//!
//! # async fn run() -> Result<(), harbor_distributed::Error> {
//! let bus = RedisBus::connect_url("redis://127.0.0.1:6379?prefix=demo").await?;
//! let scope = IdentityScope::Tenant("acme".into());
//! let mut sub = bus
//!     .subscribe(SubscribeOptions::new(["planner.*"], "planners", scope))
//!     .await?;
//! let who = Identity::new("acme", "ada", "s-1")?;
//! bus.publish(Envelope::new("planner.next", who, "01J0000000000000000000000A", "hi"))
//!     .await?;
//! if let Some(delivery) = sub.next().await {
//!     delivery?.ack().await?;
//! }
//! bus.close().await?;
//! # Ok(())
//! # }
//! ```

#![doc = include_str!("../docs.md")]

// The bus's modules, bottom up: `config`, `keys`, `reply`, `scripts`, `errors` and
// `publish` are leaves; `core` holds what the bus and its subscriptions share (`Inner`,
// the phase, each subscription's `Sub` and its leases); `ack_batch` (the batched `XACK`),
// `acker` (settling one delivery), `reader`, `janitor`, `trim` and `backlog` work on it;
// `subscription` opens one and hands out its deliveries; `bus` is the facade on top and
// `driver` registers it. `raw` (the baselines) borrows the publisher's batch size and the
// facade's purge.
mod ack_batch;
mod acker;
mod backlog;
mod bus;
mod config;
mod core;
mod driver;
mod errors;
mod janitor;
mod keys;
mod publish;
pub mod raw;
mod reader;
mod reply;
mod scripts;
mod subscription;
mod trim;

pub use bus::RedisBus;
pub use config::RedisBusConfig;

/// The old name of [`RedisBusConfig`].
#[deprecated(note = "renamed `RedisBusConfig`, as every driver's config is `<Engine>BusConfig`")]
pub type Config = RedisBusConfig;
pub use driver::RedisBusDriver;
