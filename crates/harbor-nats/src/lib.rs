//! Harbor's NATS JetStream [`MessageBus`](harbor_distributed::MessageBus) driver.
//!
//! [`NatsBus`] carries envelopes through one JetStream stream per namespace, with a durable
//! pull consumer per consumer group. It works with nats-server 2.9 and later (it uses no
//! 2.10+ feature: no `FilterSubjects`, no per-message TTL, no batch publish).
//!
//! The URL form, its parameters, the capabilities and the limits are in the
//! [URL](#url), [Capabilities](#capabilities) and [Limits](#limits) sections below (the
//! crate's `docs.md`).
//!
//! # Layout
//!
//! - **Stream.** One stream (`stream`, default `HARBOR`) holds the subjects `<prefix>.>`
//!   (`prefix` default `harbor`), with Limits retention (envelopes stay, acked or not,
//!   until `max_age`), so new groups can replay. It is created on connect unless it exists.
//! - **Subjects.** An envelope is stored under `<prefix>.<tenant>.<edge>`. The tenant token
//!   is the tenant itself when it is letters, digits, `-` and `_`, else `~` and its bytes in
//!   hex. Edge patterns map to subject wildcards one to one (`*` one token, `>` the rest).
//! - **Groups.** A consumer group is a durable pull consumer named after the group and a
//!   hash of (group, scope), so `workers` of tenant `a` and of tenant `b` are two groups. Its
//!   filter is `<prefix>.<tenant>.<pattern>` for `IdentityScope::Tenant` and
//!   `<prefix>.*.<pattern>` for `IdentityScope::Admin`: scoping happens on the server.
//! - **Several edges.** nats-server 2.9 takes one filter per consumer, so a subscription to
//!   several edges gets one consumer whose filter is the narrowest pattern covering them all
//!   (`a.x` and `a.y` give `a.*`); envelopes that pattern lets through but no edge matches
//!   are acknowledged by the subscriber without being handed out. One consumer per edge was
//!   the alternative, but overlapping patterns would then deliver an envelope twice to one
//!   group, and attempts, the in-flight bound and the start position would be counted per
//!   edge rather than per envelope. Every member of a group must subscribe to the same edges
//!   (they are recorded in the consumer's description and checked).
//! - **Start.** A new group starts at `StartPosition::New` (DeliverPolicy `new`),
//!   `Earliest` (`all`) or `Sequence(n)` (`by_start_sequence`); an existing group resumes.
//!
//! # Delivery
//!
//! - **Envelopes** travel whole in the message body (the
//!   [`frame`](harbor_distributed::frame) every driver uses): envelope header keys need not
//!   be valid NATS header names. `Nats-Msg-Id` is the only NATS header.
//! - **Publish** waits for the stream's PubAck, so `Ok` means stored. Publishes from many
//!   tasks are pipelined on one connection (a caller keeps a window of them in flight). A
//!   timeout or lost connection is a retryable error: retrying is safe, see dedup.
//! - **Dedup.** `Nats-Msg-Id` is `task|edge|event_id` (escaped): a second publish of the same
//!   key within `duplicate_window` is not stored, and its receipt says `duplicate`. Note
//!   that the window is not cleared on ack (nats-server#2921): a deliberate re-publish of an
//!   already used key within the window is dropped too; use a new `event_id` for new work.
//! - **Pulling.** Each subscription pulls with credit: it never has more than
//!   `max_in_flight` envelopes requested or held. Pull requests long-poll for
//!   `pull_expires`; a request unanswered past its deadline, and every request after a
//!   reconnection (the server forgets them with the connection), is sent again.
//! - **Settling.** Ack is `+ACK`, nack is `-NAK` with the delay (JetStream's own nak delay;
//!   `BackOff` lists would not apply to naks). The visibility timeout is the consumer's
//!   `AckWait`, set from the subscription (the newest member's setting wins). Settling after
//!   the visibility timeout fails with `DeliveryExpired`. Dropping a delivery leaves it to
//!   the timeout; envelopes received but not yet handed out when a subscription is dropped
//!   are nacked back at once.
//! - **Attempts and dead letters.** The attempt number is JetStream's delivery count. A nack
//!   of the `max_attempts`-th delivery publishes the dead letter (`bus::dead_letter`: edge
//!   `dead-letter.<group>.<edge>`, reason and count headers) and then `+TERM`s the original.
//!   A last delivery that times out comes back once more and the subscriber dead-letters it
//!   then with the timeout as reason. The consumer's `MaxDeliver` is unlimited on purpose:
//!   a dead letter that cannot be stored is retried rather than lost with the envelope.
//! - **Close** refuses new publishes and subscriptions, keeps pulling (without waiting) until
//!   each group's backlog is empty and every delivery is settled, within `drain_timeout`, then
//!   ends the subscriptions, flushes the last acks and closes the connection.
//! - **Acked stays acked.** nats-server writes a consumer's ack state out only every ~100 ms
//!   (measured with 2.9.10: 5 000 acks, `SIGKILL` 20 ms later, and after the restart all
//!   5 000 came back), and acks in flight are lost with a connection. Each subscription
//!   remembers the stream sequences it acked (the last `acked_memory`) and re-acks such a
//!   redelivery instead of handing it out again.
//! - **Backlog.** [`backlog`](harbor_distributed::MessageBus::backlog) sums
//!   `num_pending + num_ack_pending` (not delivered yet, and delivered or nacked without
//!   an ack yet) over the group's consumers, one per scope, found among the stream's
//!   consumer names and confirmed by their description: a listing call per 1 024 consumers
//!   of the stream plus a `CONSUMER.INFO` per consumer of the group. With several edges the
//!   covering filter's extra subjects count until a subscriber acks them away; an ack is
//!   sent without waiting for the server, so the count may fall a moment after `ack`
//!   returned.
//! - **Faults.** The client reconnects by itself (forever, backing off up to
//!   `reconnect_delay_max`); durable consumers survive server restarts; what a dead consumer
//!   held comes back after the visibility timeout.
//!
//! # Example
//!
//! ```no_run
//! use harbor_distributed::{Envelope, Identity, IdentityScope, MessageBus, SubscribeOptions};
//! use harbor_nats::NatsBus;
//!
//! # async fn example() -> Result<(), harbor_distributed::Error> {
//! let bus = NatsBus::connect_url("nats://127.0.0.1:4222?stream=HARBOR&prefix=harbor").await?;
//! let scope = IdentityScope::Tenant("acme".into());
//! let mut sub = bus
//!     .subscribe(SubscribeOptions::new(["planner.*"], "planners", scope))
//!     .await?;
//! let who = Identity::new("acme", "ada", "s-1")?;
//! bus.publish(Envelope::new("planner.next", who, "01J0000000000000000000000A", "hi"))
//!     .await?;
//! if let Some(delivery) = sub.next().await {
//!     let delivery = delivery?;
//!     assert_eq!(delivery.envelope().payload.as_ref(), b"hi");
//!     delivery.ack().await?;
//! }
//! bus.close().await?;
//! # Ok(())
//! # }
//! ```

#![doc = include_str!("../docs.md")]

mod acker;
mod backlog;
mod bus;
mod config;
mod core;
mod credit;
mod driver;
mod errors;
mod layout;
mod publish;
mod pulls;
mod pump;
pub mod raw;
mod setup;
mod subscription;

pub use bus::NatsBus;
pub use config::{NatsBusConfig, PARAMETERS, Storage};
pub use driver::NatsBusDriver;
