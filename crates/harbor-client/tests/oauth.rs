//! OAuth2 client credentials per peer: the transport fetches a token from a local token
//! endpoint, sends it to a server that checks JWTs, keeps it while it is valid, renews it
//! when it expires, and drops it when the server refuses it.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use axum::Router;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use harbor_a2a::{ErrorKind, ListTasksRequest};
use harbor_client::{A2aTransport, ClientConfig, ClientError, OAuth2ClientCredentials, PeerConfig};
use harbor_distributed::{A2aHandler, CallContext, Error, Identity, Peer, RemoteTransport};
use harbor_server::DefaultHandler;
use harbor_server::agent::ConformanceAgent;
use harbor_server::auth::{
    Auth, Authenticator, FailureLimit, JwtAuthenticator, JwtConfig, JwtKeySource,
};
use harbor_server::http::{HttpConfig, router};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::json;
use support::{Server, spawn};

const SECRET: &str = "client-secret-0123456789";

/// The token endpoint: Basic auth `harbor:SECRET`, tokens for audience `aud` (swappable),
/// lifetime `expires_in`; counts the tokens it issues.
struct Issuer {
    server: Server,
    issued: Arc<AtomicUsize>,
    expires_in: Arc<AtomicU64>,
    audience: Arc<std::sync::Mutex<String>>,
}

async fn issuer(key: EncodingKey) -> Issuer {
    let issued = Arc::new(AtomicUsize::new(0));
    let expires_in = Arc::new(AtomicU64::new(3600));
    let audience = Arc::new(std::sync::Mutex::new("harbor".to_owned()));
    let (count, life, aud) = (
        Arc::clone(&issued),
        Arc::clone(&expires_in),
        Arc::clone(&audience),
    );
    let server = spawn(move |_| {
        Router::new().route(
            "/token",
            post(move |headers: HeaderMap, body: String| async move {
                let basic = format!(
                    "Basic {}",
                    base64::Engine::encode(
                        &base64::engine::general_purpose::STANDARD,
                        format!("harbor:{SECRET}")
                    )
                );
                let authorized = headers.get("authorization").and_then(|v| v.to_str().ok())
                    == Some(basic.as_str());
                if !authorized || !body.contains("grant_type=client_credentials") {
                    return (
                        StatusCode::UNAUTHORIZED,
                        json!({"error": "invalid_client"}).to_string(),
                    );
                }
                let n = count.fetch_add(1, Ordering::SeqCst);
                let now = jsonwebtoken::get_current_timestamp();
                let audience = aud.lock().expect("lock").clone();
                let claims = json!({"iss": "https://issuer.example", "aud": audience, "sub": "svc",
                                    "tenant": "acme", "exp": now + 3600, "jti": n});
                let token = jsonwebtoken::encode(&Header::new(Algorithm::ES256), &claims, &key)
                    .expect("token");
                let body = json!({"access_token": token, "token_type": "Bearer",
                                  "expires_in": life.load(Ordering::SeqCst)});
                (StatusCode::OK, body.to_string())
            }),
        )
    })
    .await;
    Issuer {
        server,
        issued,
        expires_in,
        audience,
    }
}

/// An A2A server that accepts the issuer's JWTs.
async fn agent(public_pem: String) -> Server {
    spawn(move |base| {
        let card = harbor_a2a::AgentCard {
            name: "oauth".into(),
            description: "t".into(),
            version: "1".into(),
            supported_interfaces: vec![support::cards::interface(
                "JSONRPC",
                format!("{base}/a2a/jsonrpc"),
                "1.0",
                "",
            )],
            capabilities: Some(harbor_a2a::AgentCapabilities::default()),
            default_input_modes: vec!["text/plain".into()],
            default_output_modes: vec!["text/plain".into()],
            ..harbor_a2a::AgentCard::default()
        };
        let handler: Arc<dyn A2aHandler> = Arc::new(
            DefaultHandler::builder(card, Arc::new(ConformanceAgent::default()))
                .build()
                .expect("handler"),
        );
        let jwt = JwtAuthenticator::new(JwtConfig {
            keys: JwtKeySource::Pem(vec![public_pem]),
            ..JwtConfig::new("https://issuer.example", "harbor")
        })
        .expect("jwt");
        let schemes: Vec<Arc<dyn Authenticator>> = vec![Arc::new(jwt)];
        let config = HttpConfig {
            auth: Auth::new(schemes, FailureLimit::default()),
            ..HttpConfig::default()
        };
        router(handler, &config)
    })
    .await
}

fn client(agent: &str, token_url: String, secret: &str) -> A2aTransport {
    let mut config = ClientConfig::default();
    config.peers.insert(
        agent.to_owned(),
        PeerConfig {
            oauth2: Some(OAuth2ClientCredentials {
                token_url,
                client_id: "harbor".into(),
                client_secret: secret.into(),
                scopes: vec!["a2a".into()],
                audience: None,
            }),
            ..PeerConfig::default()
        },
    );
    A2aTransport::builder()
        .config(config)
        .build()
        .expect("transport")
}

fn ctx() -> CallContext {
    CallContext::new(Identity::new("t", "u", "s").expect("identity"))
}

async fn list(client: &A2aTransport, peer: &Peer) -> Result<(), Error> {
    client
        .list_tasks(peer, &ctx(), ListTasksRequest::default())
        .await
        .map(|_| ())
}

async fn setup() -> (Issuer, Server) {
    let pair = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).expect("key");
    let key = EncodingKey::from_ec_pem(pair.serialize_pem().as_bytes()).expect("key");
    (issuer(key).await, agent(pair.public_key_pem()).await)
}

#[tokio::test]
async fn a_token_is_fetched_once_and_reused_while_valid() {
    let (issuer, agent) = setup().await;
    let peer = Peer::new(&agent.url);
    let client = client(&agent.url, format!("{}/token", issuer.server.url), SECRET);
    for _ in 0..3 {
        list(&client, &peer).await.expect("authorized");
    }
    assert_eq!(issuer.issued.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn an_expiring_token_is_renewed() {
    let (issuer, agent) = setup().await;
    issuer.expires_in.store(0, Ordering::SeqCst);
    let peer = Peer::new(&agent.url);
    let client = client(&agent.url, format!("{}/token", issuer.server.url), SECRET);
    for _ in 0..3 {
        list(&client, &peer).await.expect("authorized");
    }
    assert_eq!(issuer.issued.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn a_refused_token_is_dropped_and_the_next_call_gets_a_new_one() {
    let (issuer, agent) = setup().await;
    *issuer.audience.lock().expect("lock") = "someone-else".into();
    let peer = Peer::new(&agent.url);
    let client = client(&agent.url, format!("{}/token", issuer.server.url), SECRET);
    let error = list(&client, &peer).await.expect_err("wrong audience");
    assert_eq!(error.to_a2a().kind(), ErrorKind::Unauthenticated, "{error}");
    *issuer.audience.lock().expect("lock") = "harbor".into();
    list(&client, &peer).await.expect("a new token");
    assert_eq!(issuer.issued.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_bad_secret_is_a_credentials_error_that_does_not_show_it() {
    let (issuer, agent) = setup().await;
    let peer = Peer::new(&agent.url);
    let wrong = "wrong-secret-0123456789";
    let client = client(&agent.url, format!("{}/token", issuer.server.url), wrong);
    let error = list(&client, &peer).await.expect_err("refused");
    match support::cards::client_error(&error) {
        ClientError::Credentials { reason, .. } => {
            assert!(
                reason.contains("401") && reason.contains("invalid_client"),
                "{reason}"
            )
        }
        other => panic!("expected a credentials error, got {other:?}"),
    }
    assert!(!error.to_string().contains(wrong), "{error}");
    assert!(!format!("{error:?}").contains(wrong));
}
