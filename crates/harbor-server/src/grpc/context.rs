//! The call context of a gRPC call: who calls (from authentication, never from metadata the
//! caller picks, unless told to trust it) and the A2A service parameters, which gRPC
//! carries as lower-case metadata (`a2a-version`, `a2a-extensions`).

use harbor_distributed::{CallContext, Identity};
use tonic::metadata::MetadataMap;

use crate::http::context::context_from_headers;

/// Builds the context of a call from its metadata.
pub(crate) fn call_context(
    anonymous: &Identity,
    trust_identity_headers: bool,
    metadata: MetadataMap,
) -> CallContext {
    let headers = metadata.into_headers();
    context_from_headers(anonymous, trust_identity_headers, &headers, None)
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
