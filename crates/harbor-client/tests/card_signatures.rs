//! Card signatures per peer: the transport checks a peer's card with pinned keys or a JWKS
//! URL under the peer's policy (verify-if-signed, require) before any call uses it.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::Router;
use axum::routing::get;
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use harbor_a2a::AgentCard;
use harbor_client::{
    A2aTransport, CardSignatureConfig, ClientConfig, ClientError, PeerConfig, SignaturePolicy,
};
use harbor_distributed::Peer;
use harbor_server::card_signing::CardSigner;
use serde_json::json;
use support::cards::{CARD_PATH, client_error, interface};
use support::{Server, spawn};

struct Key {
    private: String,
    public: String,
}

fn key() -> Key {
    let pair = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).expect("key");
    Key {
        private: pair.serialize_pem(),
        public: pair.public_key_pem(),
    }
}

/// The JWK of a P-256 public key in PEM (its SubjectPublicKeyInfo ends with 04 || x || y).
fn jwk(public_pem: &str, kid: &str) -> serde_json::Value {
    let b64: String = public_pem
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect();
    let der = STANDARD.decode(b64).expect("base64");
    let point = &der[der.len() - 65..];
    json!({"kty": "EC", "crv": "P-256", "kid": kid, "alg": "ES256",
           "x": URL_SAFE_NO_PAD.encode(&point[1..33]), "y": URL_SAFE_NO_PAD.encode(&point[33..])})
}

/// A peer serving its card (signed with `signer` if any) and a JWKS of `jwks`.
async fn peer(signer: Option<CardSigner>, jwks: serde_json::Value) -> (Server, Arc<AtomicUsize>) {
    let fetches = Arc::new(AtomicUsize::new(0));
    let count = Arc::clone(&fetches);
    let server = spawn(move |base| {
        let card = AgentCard {
            name: "signed".into(),
            description: "a signed card".into(),
            version: "1".into(),
            supported_interfaces: vec![interface("JSONRPC", format!("{base}/rpc"), "1.0", "")],
            ..AgentCard::default()
        };
        let card = match signer {
            Some(signer) => signer.sign(card).expect("signed"),
            None => card,
        };
        let body = harbor_a2a::to_json_string(&card).expect("json");
        Router::new()
            .route(CARD_PATH, get(move || async move { body }))
            .route(
                "/jwks",
                get(move || async move {
                    count.fetch_add(1, Ordering::SeqCst);
                    jwks.to_string()
                }),
            )
    })
    .await;
    (server, fetches)
}

fn transport(url: &str, signatures: CardSignatureConfig) -> A2aTransport {
    let mut config = ClientConfig::default();
    config.peers.insert(
        url.to_owned(),
        PeerConfig {
            card_signatures: signatures,
            ..PeerConfig::default()
        },
    );
    A2aTransport::builder()
        .config(config)
        .build()
        .expect("transport")
}

fn refusal(error: &harbor_distributed::Error) -> String {
    match client_error(error) {
        ClientError::InvalidCard { reason, .. } => reason.clone(),
        other => panic!("expected an invalid card, got {other:?}"),
    }
}

#[tokio::test]
async fn pinned_keys_verify_and_other_keys_refuse() {
    let signing = key();
    let signer = CardSigner::from_pem(&signing.private, "k1", None).expect("signer");
    let (server, _) = peer(Some(signer), json!({"keys": []})).await;
    let peer_ref = Peer::new(&server.url);
    let good = transport(
        &server.url,
        CardSignatureConfig {
            policy: SignaturePolicy::Require,
            keys: vec![signing.public.clone()],
            jwks_url: None,
        },
    );
    good.agent_card(&peer_ref).await.expect("the card verifies");
    let wrong = transport(
        &server.url,
        CardSignatureConfig {
            policy: SignaturePolicy::VerifyIfSigned,
            keys: vec![key().public],
            jwks_url: None,
        },
    );
    let error = wrong.agent_card(&peer_ref).await.expect_err("refused");
    assert!(
        refusal(&error).contains("no signature of the card verifies"),
        "{error}"
    );
}

#[tokio::test]
async fn a_jwks_url_is_fetched_once_and_trusted() {
    let signing = key();
    let signer = CardSigner::from_pem(&signing.private, "k1", None).expect("signer");
    let jwks = json!({"keys": [jwk(&signing.public, "k1")]});
    let (server, fetches) = peer(Some(signer), jwks).await;
    let peer_ref = Peer::new(&server.url);
    let client = transport(
        &server.url,
        CardSignatureConfig {
            policy: SignaturePolicy::Require,
            keys: Vec::new(),
            jwks_url: Some(format!("{}/jwks", server.url)),
        },
    );
    for _ in 0..2 {
        client
            .agent_card(&peer_ref)
            .await
            .expect("verified by the JWKS key");
    }
    assert_eq!(fetches.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn unsigned_cards_pass_only_when_signatures_are_optional() {
    let (server, _) = peer(None, json!({"keys": []})).await;
    let peer_ref = Peer::new(&server.url);
    let config = |policy| CardSignatureConfig {
        policy,
        keys: vec![key().public],
        jwks_url: None,
    };
    transport(&server.url, config(SignaturePolicy::VerifyIfSigned))
        .agent_card(&peer_ref)
        .await
        .expect("unsigned is fine when optional");
    let error = transport(&server.url, config(SignaturePolicy::Require))
        .agent_card(&peer_ref)
        .await
        .expect_err("unsigned is refused when required");
    assert!(refusal(&error).contains("not signed"), "{error}");
}

#[test]
fn bad_pinned_keys_fail_the_build() {
    let config = ClientConfig {
        default_peer: PeerConfig {
            card_signatures: CardSignatureConfig {
                policy: SignaturePolicy::Require,
                keys: vec!["not a key".into()],
                jwks_url: None,
            },
            ..PeerConfig::default()
        },
        ..ClientConfig::default()
    };
    assert!(A2aTransport::builder().config(config).build().is_err());
}
