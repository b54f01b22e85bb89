//! Harbor's PostgreSQL [`MessageBus`](harbor_distributed::MessageBus) driver.
//!
//! A durable, at-least-once bus in one schema of a PostgreSQL (15+) database, on
//! `tokio-postgres` with a `deadpool-postgres` pool. Nothing needs installing in the
//! database: the driver creates its schema and versions it (a `schema_version` table;
//! migrations run under a transaction-scoped advisory lock, so concurrent opens are safe).
//!
//! The URL form, its parameters, the capabilities and the limits are in the
//! [URL](#url), [Capabilities](#capabilities) and [Limits](#limits) sections below (the
//! crate's `docs.md`).
//!
//! # Design
//!
//! - **Publish.** Concurrent publishes are grouped into one multi-row `INSERT` per
//!   transaction (up to `publish_batch` rows, `publish_pipeline` batches in flight); a
//!   lone publish goes out at once. `publish` returns only after its batch committed. The
//!   unique key `(task_id, edge, event_id)` makes a second publish of the same key a no-op
//!   that reports `duplicate: true`: a batch that hits it is inserted again with `ON
//!   CONFLICT DO NOTHING` (dearer, so only then). A publish writes one row, whatever the
//!   number of groups, and sends one `NOTIFY`; publishers never wait for one another.
//! - **Groups read the log.** Groups are keyed by (name, tenant scope). Each has a read
//!   position made of two snapshots, as in PgQ: the envelopes of every transaction visible
//!   in `done` were read; those visible in `upto` but not in `done` are being read, in
//!   (transaction, sequence) order. Since a snapshot shows only committed transactions, an
//!   envelope whose transaction commits after later ones is read in a later range, never
//!   skipped. Envelopes of other edges (equal, or matching a wildcard pattern as a
//!   regular expression) or tenants are read past.
//! - **Claim.** Each subscription has a task that calls the schema's `claim` function
//!   for up to `claim_batch` deliveries (never more than its free `max_in_flight`; while it
//!   holds some, only once half a batch is free). The function first takes `deliveries`
//!   rows that are due again (nacked, released, or whose visibility timeout passed) with
//!   `FOR UPDATE SKIP LOCKED`, raising their attempt counter; then, under the group row's
//!   lock, reads on in the log and gives each matching envelope a `deliveries` row leased
//!   at once (attempt 1, `vt` = now + the visibility timeout). The task wakes on a
//!   notification, on its group's timers (nack delays, deliveries dropped unsettled), and
//!   every `poll_interval` otherwise (deliveries whose timeout passed in another process,
//!   notifications missed while reconnecting).
//! - **Settle.** Concurrent acks become one `DELETE` per batch. The attempt counter is the
//!   lease token: settling a delivery that was handed out again fails with
//!   `DeliveryExpired`. A nack sets `vt = now() + delay`; the nack of the last attempt, or a
//!   last attempt whose visibility timeout expired, moves the envelope to
//!   `dead-letter.<group>.<edge>` (with the reason and attempt headers) in one statement.
//! - **Close** refuses new publishes and subscriptions, lets subscriptions drain their
//!   groups and settle what they hold (up to `drain_timeout`), then stops every task and
//!   closes the pool. Connections are re-opened by themselves after a failure; errors of a
//!   lost connection are `retryable`.
//! - **Backlog.** [`backlog`](harbor_distributed::MessageBus::backlog) is one statement:
//!   per group row of that name (every tenant scope), its `deliveries` rows plus the
//!   committed envelopes matching it past its read position. Exact (edges and tenants are
//!   matched as the claim matches them); it reads the log from the group's position, so it
//!   costs more for a group far behind.
//! - **Retention.** Envelopes are deleted after `retention` (default 24 h) once every group
//!   has read past them and none holds them (a group nobody reads any more holds the log
//!   from its position: remove it when it is retired). `retention` is the replay window
//!   and the publish dedup window.
//!
//! # Example
//!
//! ```no_run
//! use harbor_distributed::{Envelope, Identity, IdentityScope, MessageBus, SubscribeOptions};
//! use harbor_postgres::PostgresBus;
//!
//! # async fn demo() -> Result<(), harbor_distributed::Error> {
//! let bus = PostgresBus::connect_url("postgres://postgres@127.0.0.1:5432/test?schema=harbor").await?;
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

// The bus's modules, bottom up: `config`, `errors`, `statements`, `codec`, `pattern` and
// `groups` are leaves; `core` holds what the bus shares (`Db`, `Inner`, the queue items);
// `publish`, `lease`, `acker` (settling), `listener` and `subscription` build on it; `bus` is the
// facade on top and `driver` registers it. The task store (`store`, sharing `core`'s pool
// builder) and the `raw` baselines stand beside it.
mod acker;
mod bus;
mod codec;
mod config;
mod core;
mod driver;
mod errors;
mod groups;
mod lease;
mod listener;
mod pattern;
mod publish;
pub mod raw;
mod schema;
mod statements;
mod store;
mod subscription;

pub use bus::PostgresBus;
pub use config::PostgresBusConfig;

/// The old name of [`PostgresBusConfig`].
#[deprecated(note = "renamed `PostgresBusConfig`, as every driver's config is `<Engine>BusConfig`")]
pub type Config = PostgresBusConfig;
pub use driver::PostgresBusDriver;
pub use store::{DEFAULT_LOG_RETENTION, PostgresTaskStore, Retention, StoreOptions};
