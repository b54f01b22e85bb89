//! The RemoteTransport conformance suite.
