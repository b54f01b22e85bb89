//! The RemoteTransport conformance suite on the gRPC binding, against the real gRPC server
//! hosting the suite's conformance agents (the card still comes over HTTP).

mod support;

harbor_conformance::transport_suite!(support::A2aFactory {
    binding: harbor_client::Binding::Grpc
});
