//! The MessageBus conformance suite.
