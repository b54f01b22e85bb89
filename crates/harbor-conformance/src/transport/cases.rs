//! The cases of the transport suite, one `pub async fn` each.
//!
//! Each takes the driver's [`TransportFactory`], builds its own fixture, and panics with a
//! message saying what the transport got wrong. Cases gated on a capability return at once
//! (and say so on stderr) when the factory does not declare it.
//!
//! [`TransportFactory`]: super::TransportFactory

mod calls;
mod edge;
mod events;
mod push;
mod send;
mod stream;
mod subscribe;
mod tasks;
mod wait;

use std::time::Duration;

use super::{TransportCapabilities, TransportFactory};

pub use edge::{
    concurrent_sends, identity_reaches_agent, identity_required, no_leak_after_close,
    routes_to_named_peer,
};
pub use push::{extended_card, push_config_crud};
pub use send::{send_artifact_parts, send_configuration, send_round_trip};
pub use stream::{stream_close, stream_ordered_terminal};
pub use subscribe::{subscribe_close, subscribe_updates};
pub use tasks::{cancel_task, get_task, get_task_not_found, list_tasks_filter};

/// How long any single wait of a case may take before the case fails.
pub const DEADLINE: Duration = Duration::from_secs(10);

/// The name of every case, in the order [`transport_suite!`](crate::transport_suite) lists them.
pub const ALL: &[&str] = &[
    "send_round_trip",
    "send_artifact_parts",
    "send_configuration",
    "identity_reaches_agent",
    "stream_ordered_terminal",
    "stream_close",
    "get_task",
    "get_task_not_found",
    "list_tasks_filter",
    "cancel_task",
    "subscribe_updates",
    "subscribe_close",
    "push_config_crud",
    "extended_card",
    "concurrent_sends",
    "no_leak_after_close",
    "routes_to_named_peer",
    "identity_required",
];

/// Whether the factory declares the capability `case` needs; says so when it does not.
fn declared(
    factory: &dyn TransportFactory,
    case: &str,
    capability: &str,
    has: fn(&TransportCapabilities) -> bool,
) -> bool {
    let declared = has(&factory.capabilities());
    if !declared {
        eprintln!("{case}: skipped, the transport does not declare {capability}");
    }
    declared
}
