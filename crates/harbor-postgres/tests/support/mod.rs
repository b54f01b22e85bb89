//! What the integration tests share.

#![allow(dead_code)]

pub(crate) mod scoped;
pub(crate) mod server;
