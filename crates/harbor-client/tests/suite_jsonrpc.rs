//! The RemoteTransport conformance suite on the JSON-RPC binding, against the real HTTP
//! server hosting the suite's conformance agents.

mod support;

harbor_conformance::transport_suite!(support::A2aFactory {
    binding: harbor_client::Binding::JsonRpc
});
