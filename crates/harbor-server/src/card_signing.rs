//! Signing the agent card: a JWS (RFC 7515) with a detached payload, the payload being the
//! card's RFC 8785 canonical form
//! ([`harbor_a2a::canonical::card_signing_payload`]). ES256 (P-256)
//! and EdDSA (Ed25519) keys, a `kid`, and optionally a `jku` where verifiers find the key set.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use harbor_a2a::canonical::card_signing_payload;
use harbor_a2a::{A2aError, AgentCard, AgentCardSignature};
use jsonwebtoken::{Algorithm, EncodingKey};
use serde_json::json;

/// Signs cards with one private key. `Debug` never shows the key.
#[derive(Clone)]
pub struct CardSigner {
    key: EncodingKey,
    algorithm: Algorithm,
    kid: String,
    jku: Option<String>,
}

impl fmt::Debug for CardSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CardSigner")
            .field("algorithm", &self.algorithm)
            .field("kid", &self.kid)
            .field("jku", &self.jku)
            .finish_non_exhaustive()
    }
}

impl CardSigner {
    /// A signer with a PKCS#8 PEM private key: P-256 (ES256) or Ed25519 (EdDSA).
    ///
    /// # Errors
    ///
    /// The key is neither (the message never quotes the key), or `kid` is empty.
    pub fn from_pem(pem: &str, kid: &str, jku: Option<String>) -> Result<Self, String> {
        if kid.is_empty() {
            return Err("a card signing key needs a key id (kid)".into());
        }
        let candidates = [
            (EncodingKey::from_ec_pem(pem.as_bytes()), Algorithm::ES256),
            (EncodingKey::from_ed_pem(pem.as_bytes()), Algorithm::EdDSA),
        ];
        for (key, algorithm) in candidates {
            let Ok(key) = key else { continue };
            // A P-384 key parses as EC too: only a key that signs with the algorithm is taken.
            if jsonwebtoken::crypto::sign(b"probe", &key, algorithm).is_ok() {
                return Ok(Self {
                    key,
                    algorithm,
                    kid: kid.to_owned(),
                    jku,
                });
            }
        }
        Err("the card signing key is not a P-256 or Ed25519 private key in PKCS#8 PEM".into())
    }

    /// The JWS algorithm (`ES256` or `EdDSA`).
    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    /// The signature of `card` (its `signatures` are not covered).
    ///
    /// # Errors
    ///
    /// Internal, when the card has no canonical form or signing fails.
    pub fn signature(&self, card: &AgentCard) -> Result<AgentCardSignature, A2aError> {
        let payload = card_signing_payload(card)?;
        let mut header = json!({"alg": self.algorithm, "kid": self.kid, "typ": "JOSE"});
        if let Some(jku) = &self.jku {
            header["jku"] = json!(jku);
        }
        let protected = URL_SAFE_NO_PAD.encode(header.to_string());
        let input = format!("{protected}.{}", URL_SAFE_NO_PAD.encode(payload));
        let signature = jsonwebtoken::crypto::sign(input.as_bytes(), &self.key, self.algorithm)
            .map_err(|e| A2aError::internal(format!("cannot sign the agent card: {e}")))?;
        Ok(AgentCardSignature {
            protected,
            signature,
            header: None,
        })
    }

    /// `card` with this signer's signature added.
    ///
    /// # Errors
    ///
    /// As [`signature`](Self::signature).
    pub fn sign(&self, mut card: AgentCard) -> Result<AgentCard, A2aError> {
        let signature = self.signature(&card)?;
        card.signatures.push(signature);
        Ok(card)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_that_sign_neither_way_are_refused_without_being_quoted() {
        let error = CardSigner::from_pem(
            "-----BEGIN PRIVATE KEY-----\nc2VjcmV0\n-----END PRIVATE KEY-----\n",
            "k",
            None,
        )
        .expect_err("not a key");
        assert!(!error.contains("c2VjcmV0"), "{error}");
        let pair = rcgen::KeyPair::generate_for(&rcgen::PKCS_ED25519).expect("key");
        let signer = CardSigner::from_pem(&pair.serialize_pem(), "k1", None).expect("signer");
        assert_eq!(signer.algorithm(), Algorithm::EdDSA);
        assert!(!format!("{signer:?}").contains("PRIVATE"));
        assert!(CardSigner::from_pem(&pair.serialize_pem(), "", None).is_err());
    }
}
