//! The limits of `harbor serve`: what one request may hold, how large an answer may grow and
//! how long a connection may take, as flags over the library defaults (each flag's help
//! names its default).

use std::time::Duration;

use clap::Args;
use harbor_server::HandlerConfig;
use harbor_server::grpc::GrpcConfig;
use harbor_server::http::HttpConfig;

/// Limit flags of `harbor serve`.
#[derive(Debug, Args)]
pub(crate) struct LimitArgs {
    /// Deepest nesting of lists and objects in a data part or metadata (at most 28).
    #[arg(long, value_name = "LEVELS", default_value_t = 24)]
    max_data_depth: usize,
    /// Parts in one message.
    #[arg(long, value_name = "N", default_value_t = 256)]
    max_parts: usize,
    /// Bytes in an id (task, context, message, push config, reference task ids).
    #[arg(long, value_name = "BYTES", default_value_t = 256)]
    max_id_bytes: usize,
    /// Largest task an answer carries, in bytes: past it the oldest history is left out.
    #[arg(long, value_name = "BYTES", default_value_t = 16 * 1024 * 1024)]
    max_task_bytes: usize,
    /// Bytes of tasks after which a ListTasks page stops early (with a next-page token).
    #[arg(long, value_name = "BYTES", default_value_t = 8 * 1024 * 1024)]
    max_list_bytes: usize,
    /// Largest SSE event, in bytes of JSON.
    #[arg(long, value_name = "BYTES", default_value_t = 16 * 1024 * 1024)]
    max_event_bytes: usize,
    /// Largest request body, in bytes (and largest gRPC request message).
    #[arg(long, value_name = "BYTES", default_value_t = 8 * 1024 * 1024)]
    max_body_bytes: usize,
    /// Connections served at once on each port; past it new ones are refused (HTTP: 503).
    #[arg(long, value_name = "N", default_value_t = 512)]
    max_connections: usize,
    /// Seconds a connection may take to send a whole request head (also an HTTP/1.1
    /// connection's keep-alive wait).
    #[arg(long, value_name = "SECS", default_value_t = 10)]
    header_timeout: u64,
    /// Seconds a connection may stay open with no request in flight.
    #[arg(long, value_name = "SECS", default_value_t = 60)]
    idle_timeout: u64,
    /// Seconds a client may take to send a whole request body (then 408).
    #[arg(long, value_name = "SECS", default_value_t = 30)]
    body_timeout: u64,
}

impl LimitArgs {
    /// `http` with these limits.
    pub(crate) fn http(&self, http: HttpConfig) -> HttpConfig {
        HttpConfig {
            max_event_bytes: self.max_event_bytes,
            max_body_bytes: self.max_body_bytes,
            max_connections: self.max_connections,
            header_read_timeout: Duration::from_secs(self.header_timeout),
            idle_timeout: Duration::from_secs(self.idle_timeout),
            body_timeout: Duration::from_secs(self.body_timeout),
            ..http
        }
    }

    /// `grpc` with these limits.
    pub(crate) fn grpc(&self, grpc: GrpcConfig) -> GrpcConfig {
        GrpcConfig {
            max_request_bytes: self.max_body_bytes,
            max_connections: self.max_connections,
            ..grpc
        }
    }

    /// Sets the handler's limits and budgets.
    pub(crate) fn handler(&self, config: &mut HandlerConfig) {
        config.limits.max_depth = self.max_data_depth;
        config.limits.max_parts = self.max_parts;
        config.limits.max_id_bytes = self.max_id_bytes;
        config.max_task_bytes = self.max_task_bytes;
        config.max_list_bytes = self.max_list_bytes;
    }
}
