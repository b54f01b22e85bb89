//! Verifying an agent card's JWS signatures: each signature's protected header and the
//! card's RFC 8785 canonical form
//! ([`card_signing_payload`](harbor_a2a::canonical::card_signing_payload)) make the signing
//! input; a key the caller trusts (pinned PEM keys, a pinned JWKS document, or a JWKS URL
//! configured for the peer, never a `jku` the card itself names) must verify it. One good
//! signature is enough.

use std::fmt;

use harbor_a2a::AgentCard;
use harbor_a2a::canonical::card_signing_payload;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, AlgorithmFamily, DecodingKey};
use serde::{Deserialize, Serialize};

use super::signature::CardSignature;

/// What the client does with a peer's card signatures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum SignaturePolicy {
    /// Signatures are not checked (the default).
    #[default]
    Off,
    /// A signed card must carry a signature that verifies; an unsigned card is accepted.
    VerifyIfSigned,
    /// The card must carry a signature that verifies.
    Require,
}

/// How a peer's card signatures are checked. Data only.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct CardSignatureConfig {
    /// The policy. Default [`SignaturePolicy::Off`].
    pub policy: SignaturePolicy,
    /// Trusted keys: PEM public keys (EC P-256/P-384, Ed25519, RSA) or JWKS documents (JSON
    /// text). Default none.
    pub keys: Vec<String>,
    /// A JWKS URL of trusted keys (https, or http on loopback), fetched with the card and
    /// kept for the transport's life. Default none.
    pub jwks_url: Option<String>,
}

/// Keys a verifier trusts, each with its key id when it has one.
#[derive(Clone, Default)]
pub struct TrustedKeys {
    keys: Vec<(Option<String>, DecodingKey)>,
}

impl fmt::Debug for TrustedKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kids: Vec<_> = self.keys.iter().map(|(k, _)| k).collect();
        f.debug_struct("TrustedKeys").field("kids", &kids).finish()
    }
}

/// Why a card's signatures do not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// The card carries no signature.
    #[error("the card is not signed")]
    Unsigned,
    /// No signature verifies; the reasons of each.
    #[error("no signature of the card verifies: {}", .0.join("; "))]
    Invalid(Vec<String>),
    /// A trusted key cannot be read.
    #[error("trusted card key: {0}")]
    BadKey(String),
}

/// The signature that verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// Its algorithm.
    pub algorithm: String,
    /// Its key id, if any.
    pub key_id: Option<String>,
}

impl TrustedKeys {
    /// Adds keys from `text`: a PEM public key, or a JWKS document.
    ///
    /// # Errors
    ///
    /// Neither a readable PEM public key nor a JWKS with a usable key.
    pub fn add(&mut self, text: &str) -> Result<(), VerifyError> {
        if text.trim_start().starts_with('{') {
            let set: JwkSet = serde_json::from_str(text)
                .map_err(|e| VerifyError::BadKey(format!("not a JWKS: {e}")))?;
            let before = self.keys.len();
            for jwk in &set.keys {
                if let Ok(key) = DecodingKey::from_jwk(jwk) {
                    self.keys.push((jwk.common.key_id.clone(), key));
                }
            }
            if self.keys.len() == before {
                return Err(VerifyError::BadKey("the JWKS has no usable key".into()));
            }
            return Ok(());
        }
        let pem = text.as_bytes();
        let key = DecodingKey::from_ec_pem(pem)
            .or_else(|_| DecodingKey::from_ed_pem(pem))
            .or_else(|_| DecodingKey::from_rsa_pem(pem))
            .map_err(|_| VerifyError::BadKey("not an EC, Ed25519 or RSA public key".into()))?;
        self.keys.push((None, key));
        Ok(())
    }

    /// Keys from several texts (see [`add`](Self::add)).
    ///
    /// # Errors
    ///
    /// As [`add`](Self::add).
    pub fn from_texts<'a>(texts: impl IntoIterator<Item = &'a str>) -> Result<Self, VerifyError> {
        let mut keys = Self::default();
        for text in texts {
            keys.add(text)?;
        }
        Ok(keys)
    }

    /// How many keys are trusted.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether no key is trusted.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Checks `card`'s signatures: the first that one of these keys verifies.
    ///
    /// # Errors
    ///
    /// [`VerifyError::Unsigned`] or [`VerifyError::Invalid`] with each signature's reason.
    pub fn verify(&self, card: &AgentCard) -> Result<Verified, VerifyError> {
        if card.signatures.is_empty() {
            return Err(VerifyError::Unsigned);
        }
        let payload = card_signing_payload(card)
            .map_err(|e| VerifyError::Invalid(vec![e.message().to_owned()]))?;
        let encoded = base64::Engine::encode(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD,
            payload.as_bytes(),
        );
        let mut reasons = Vec::new();
        for (n, signature) in card.signatures.iter().enumerate() {
            match self.check(signature, &encoded) {
                Ok(verified) => return Ok(verified),
                Err(reason) => reasons.push(format!("signature {}: {reason}", n + 1)),
            }
        }
        Err(VerifyError::Invalid(reasons))
    }

    fn check(
        &self,
        signature: &harbor_a2a::AgentCardSignature,
        payload: &str,
    ) -> Result<Verified, String> {
        let parsed = CardSignature::parse(signature).map_err(|e| e.to_string())?;
        let algorithm: Algorithm = parsed
            .algorithm
            .parse()
            .map_err(|_| format!("algorithm {:?} is not supported", parsed.algorithm))?;
        if algorithm.family() == AlgorithmFamily::Hmac {
            return Err(format!("{algorithm:?} is symmetric: not a signature"));
        }
        if parsed.protected_header.contains_key("crit") {
            return Err("critical header parameters are not understood".into());
        }
        let input = format!("{}.{payload}", signature.protected);
        let candidates = self.keys.iter().filter(|(kid, key)| {
            key.family() == algorithm.family()
                && (kid.is_none() || parsed.key_id.is_none() || *kid == parsed.key_id)
        });
        for (_, key) in candidates {
            if jsonwebtoken::crypto::verify(&signature.signature, input.as_bytes(), key, algorithm)
                .unwrap_or(false)
            {
                return Ok(Verified {
                    algorithm: parsed.algorithm.clone(),
                    key_id: parsed.key_id.clone(),
                });
            }
        }
        Err(match &parsed.key_id {
            Some(kid) => format!("no trusted {algorithm:?} key {kid:?} verifies it"),
            None => format!("no trusted {algorithm:?} key verifies it"),
        })
    }
}

/// Applies `policy` to `card` with `keys`: `Ok(None)` when nothing was checked.
///
/// # Errors
///
/// The policy's refusal: an unsigned card under `Require`, or signatures that do not verify.
pub fn apply(
    policy: SignaturePolicy,
    card: &AgentCard,
    keys: &TrustedKeys,
) -> Result<Option<Verified>, VerifyError> {
    match policy {
        SignaturePolicy::Off => Ok(None),
        SignaturePolicy::VerifyIfSigned if card.signatures.is_empty() => Ok(None),
        _ => keys.verify(card).map(Some),
    }
}

impl TrustedKeys {
    /// These keys and `other`'s.
    #[must_use]
    pub fn merged(&self, other: &TrustedKeys) -> Self {
        let mut keys = self.keys.clone();
        keys.extend(other.keys.iter().cloned());
        Self { keys }
    }
}
