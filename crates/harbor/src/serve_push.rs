//! Push delivery and the admin listener of `harbor serve`: where webhooks may go, how
//! failing deliveries are retried, and where operators list and re-drive dead letters.

use std::net::SocketAddr;
use std::time::Duration;

use clap::Args;
use harbor_server::push::{PushConfig, TargetPolicy};

use crate::duration::parse_duration;

/// Push and admin flags of `harbor serve`.
#[derive(Debug, Args)]
pub(crate) struct PushArgs {
    /// Allow push webhooks to loopback and private addresses (conformance runs whose
    /// webhook listens on localhost). Off by default: webhooks may reach public hosts only.
    #[arg(long)]
    allow_private_webhooks: bool,
    /// Timeout of one webhook request.
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = parse_duration)]
    push_timeout: Duration,
    /// Wait before the first retry of a failing webhook (the ceiling of its jitter),
    /// doubled for each further one.
    #[arg(long, value_name = "DURATION", default_value = "1s", value_parser = parse_duration)]
    push_first_retry: Duration,
    /// Longest wait between two attempts of a failing webhook.
    #[arg(long, value_name = "DURATION", default_value = "5m", value_parser = parse_duration)]
    push_max_backoff: Duration,
    /// How long an event may keep failing before its delivery becomes a dead letter.
    #[arg(long, value_name = "DURATION", default_value = "24h", value_parser = parse_duration)]
    push_give_up_after: Duration,
    /// Attempts an event gets before its delivery becomes a dead letter.
    #[arg(long, value_name = "N", default_value_t = 50, value_parser = clap::value_parser!(u32).range(1..))]
    push_max_attempts: u32,
    /// Serve the admin surface (push dead letters: `harbor push dead-letters --admin URL`)
    /// on this address, e.g. 127.0.0.1:9998. It sees every tenant: keep it on loopback or
    /// a private network. Default: off.
    #[arg(long, value_name = "ADDR")]
    pub(crate) admin: Option<SocketAddr>,
}

impl PushArgs {
    /// The push settings the flags name.
    pub(crate) fn config(&self) -> PushConfig {
        PushConfig {
            timeout: self.push_timeout,
            targets: if self.allow_private_webhooks {
                TargetPolicy::AllowPrivate
            } else {
                TargetPolicy::PublicOnly
            },
            first_retry: self.push_first_retry,
            max_backoff: self.push_max_backoff,
            give_up_after: self.push_give_up_after,
            max_attempts: self.push_max_attempts,
            ..PushConfig::default()
        }
    }
}
