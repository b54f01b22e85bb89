//! The JWS signatures of an agent card, parsed (not verified: that needs key discovery
//! through `kid`/`jku`, which comes later).

use base64::Engine;
use base64::engine::general_purpose::{URL_SAFE, URL_SAFE_NO_PAD};
use harbor_a2a::AgentCardSignature;
use serde_json::{Map, Value};

/// One card signature: its protected header's fields and the signature bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CardSignature {
    /// `alg` of the protected header (`ES256`, `RS256`, ...).
    pub algorithm: String,
    /// `kid`: which key signed.
    pub key_id: Option<String>,
    /// `jku`: where the signer's key set is published.
    pub key_set_url: Option<String>,
    /// `typ` (should be `JOSE`).
    pub media_type: Option<String>,
    /// The whole protected header.
    pub protected_header: Map<String, Value>,
    /// The protected header as sent (base64url), which the signing input starts with.
    pub protected: String,
    /// The decoded signature.
    pub signature: Vec<u8>,
}

/// A signature whose fields cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed card signature: {0}")]
pub struct SignatureError(String);

fn decode(field: &str, text: &str) -> Result<Vec<u8>, SignatureError> {
    URL_SAFE_NO_PAD
        .decode(text)
        .or_else(|_| URL_SAFE.decode(text))
        .map_err(|e| SignatureError(format!("{field} is not base64url: {e}")))
}

impl CardSignature {
    /// Reads the protected header (base64url JSON with at least `alg`) and the signature.
    ///
    /// # Errors
    /// When either is not base64url, the header is not a JSON object, or `alg` is missing.
    pub fn parse(signature: &AgentCardSignature) -> Result<Self, SignatureError> {
        let header = decode("protected", &signature.protected)?;
        let header: Map<String, Value> = serde_json::from_slice(&header)
            .map_err(|e| SignatureError(format!("protected header is not a JSON object: {e}")))?;
        let text = |key: &str| header.get(key).and_then(Value::as_str).map(str::to_owned);
        let algorithm = text("alg")
            .filter(|a| !a.is_empty())
            .ok_or_else(|| SignatureError("the protected header has no alg".to_owned()))?;
        Ok(Self {
            algorithm,
            key_id: text("kid"),
            key_set_url: text("jku"),
            media_type: text("typ"),
            signature: decode("signature", &signature.signature)?,
            protected: signature.protected.clone(),
            protected_header: header,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signature(header: &str, sig: &[u8]) -> AgentCardSignature {
        AgentCardSignature {
            protected: URL_SAFE_NO_PAD.encode(header),
            signature: URL_SAFE_NO_PAD.encode(sig),
            header: None,
        }
    }

    #[test]
    fn header_fields_are_read() {
        let parsed = CardSignature::parse(&signature(
            r#"{"alg":"ES256","typ":"JOSE","kid":"k1","jku":"https://a.example/jwks.json"}"#,
            b"\x01\x02",
        ))
        .expect("well formed");
        assert_eq!(parsed.algorithm, "ES256");
        assert_eq!(parsed.key_id.as_deref(), Some("k1"));
        assert_eq!(
            parsed.key_set_url.as_deref(),
            Some("https://a.example/jwks.json")
        );
        assert_eq!(parsed.media_type.as_deref(), Some("JOSE"));
        assert_eq!(parsed.signature, [1, 2]);
    }

    #[test]
    fn malformed_signatures_are_errors() {
        for bad in [
            signature(r#"{"typ":"JOSE"}"#, b"x"),
            signature("[1]", b"x"),
            AgentCardSignature {
                protected: "***".into(),
                signature: "x".into(),
                header: None,
            },
        ] {
            assert!(CardSignature::parse(&bad).is_err(), "{bad:?}");
        }
    }
}
