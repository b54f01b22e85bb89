//! The call context of a gRPC call: who calls (from authentication, never from metadata the
//! caller picks, unless told to trust it) and the A2A service parameters, which gRPC
//! carries as lower-case metadata (`a2a-version`, `a2a-extensions`).

use std::net::SocketAddr;
use std::sync::Arc;

use harbor_a2a::A2aError;
use harbor_distributed::{CallContext, Identity};
use tonic::metadata::MetadataMap;

use crate::auth::{Auth, ClientCertificate, is_credential_header};
use crate::call::{Connection, context_from_headers, identify};

/// Builds the context of a call from its metadata (no authentication: tests of the
/// metadata mapping).
#[cfg(test)]
pub(crate) fn call_context(
    anonymous: &Identity,
    trust_identity_headers: bool,
    metadata: MetadataMap,
) -> CallContext {
    let headers = metadata.into_headers();
    context_from_headers(anonymous, trust_identity_headers, &headers, None)
}

/// Builds the context of a call from its connection and metadata: the identity is the
/// principal `auth` authenticates (the anonymous one without schemes); credential
/// metadata is left out.
pub(crate) async fn authenticated_context(
    auth: &Auth,
    anonymous: &Identity,
    trust_identity_headers: bool,
    metadata: MetadataMap,
    peer: Option<SocketAddr>,
    certificate: Option<ClientCertificate>,
) -> Result<CallContext, A2aError> {
    let headers = metadata.into_headers();
    let connection = peer.map(|peer| Connection {
        peer,
        certificate: certificate.map(Arc::new),
    });
    let identity = identify(
        auth,
        anonymous,
        trust_identity_headers,
        &headers,
        connection.as_ref(),
    )
    .await?;
    let mut ctx = context_from_headers(&identity, false, &headers, None);
    ctx.headers
        .retain(|name, _| !is_credential_header(name, auth));
    Ok(ctx)
}

#[cfg(test)]
mod tests {
    use tonic::metadata::MetadataValue;

    use super::*;

    fn anonymous() -> Identity {
        Identity::new("default", "anonymous", "anonymous").expect("valid")
    }

    #[test]
    fn service_parameters_come_from_metadata() {
        let mut metadata = MetadataMap::new();
        metadata.insert("a2a-version", MetadataValue::from_static("1.0"));
        metadata.append("a2a-extensions", MetadataValue::from_static("urn:a, urn:b"));
        metadata.append("a2a-extensions", MetadataValue::from_static("urn:c"));
        metadata.insert("x-harbor-tenant", MetadataValue::from_static("t"));
        metadata.insert("x-harbor-user", MetadataValue::from_static("u"));
        metadata.insert("x-harbor-session", MetadataValue::from_static("s"));
        let ctx = call_context(&anonymous(), false, metadata.clone());
        assert_eq!(ctx.version.as_deref(), Some("1.0"));
        assert_eq!(ctx.extensions, ["urn:a", "urn:b", "urn:c"]);
        assert_eq!(
            ctx.identity,
            anonymous(),
            "identity metadata is not trusted"
        );
        let trusted = call_context(&anonymous(), true, metadata);
        assert_eq!(&*trusted.identity.tenant, "t");
    }

    #[test]
    fn a_missing_version_stays_missing() {
        let ctx = call_context(&anonymous(), false, MetadataMap::new());
        assert_eq!(ctx.version, None);
        assert!(ctx.extensions.is_empty());
    }
}
