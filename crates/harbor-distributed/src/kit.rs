//! What every bus driver needs, in one place: the bus's [`Lifecycle`] (open, draining,
//! closed, with the lock that serializes `close`), a poison-tolerant [`lock`] for the
//! drivers' short critical sections, the [`InFlight`] count that `close` waits on, and
//! [`UrlParams`], which reads a driver URL's query parameters (one duration syntax:
//! `drain_timeout=5s`).
//!
//! The kit is a leaf: it imports nothing from the drivers (only [`Error`](crate::Error)),
//! so every driver, in this crate or in its own, can use it without an import loop.
//!
//! ```
//! use std::sync::Mutex;
//!
//! use harbor_distributed::kit::{self, Lifecycle, Phase};
//!
//! # tokio::runtime::Runtime::new()?.block_on(async {
//! let life = Lifecycle::new();
//! let held = Mutex::new(Vec::<u32>::new());
//! assert!(life.is_open());
//! kit::lock(&held).push(1);
//!
//! // A close: one at a time, draining before it ends.
//! let _closing = life.lock_close().await;
//! assert!(life.begin_drain());
//! assert_eq!(life.phase(), Phase::Draining);
//! life.close();
//! assert!(life.is_closed());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # })?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod in_flight;
mod lifecycle;
mod lock;
mod url_params;

pub use in_flight::{InFlight, InFlightGuard, OwnedInFlightGuard};
pub use lifecycle::{CloseGuard, Lifecycle, Phase};
pub use lock::{get_mut, lock, read, wait, wait_timeout, write};
pub use url_params::{OldUnit, UrlParams, parse_duration};
