//! The `loopback` transport: A2A calls to handlers in this process.
