//! Authentication on the wire: the answers of each binding to missing, wrong and good
//! credentials, the limit on failed attempts, and JWT bearer tokens checked against static
//! keys, a JWKS URL (with key rotation) and OIDC discovery served by a local issuer.

mod grpc_support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::Json;
use axum::routing::get;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use harbor_a2a::ListTasksRequest;
use harbor_a2a::pb::a2a_service_client::A2aServiceClient;
use harbor_distributed::A2aHandler;
use harbor_server::auth::{
    ApiKeys, Auth, Authenticator, FailureLimit, JwtAuthenticator, JwtConfig, JwtKeySource,
};
use harbor_server::grpc::{self, GrpcConfig};
use harbor_server::http::{self, HttpConfig};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

const KEY: &str = "alice-acme-0123456789abcdef";

struct Served {
    base: String,
    grpc: String,
    _stop: tokio_util::sync::DropGuard,
}

async fn serve(auth: Auth) -> Served {
    let http_listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let grpc_listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base = format!("http://{}", http_listener.local_addr().expect("addr"));
    let grpc_addr = format!("http://{}", grpc_listener.local_addr().expect("addr"));
    let handler: Arc<dyn A2aHandler> = Arc::new(grpc_support::handler(
        grpc_support::card(),
        Duration::from_millis(10),
    ));
    let shutdown = CancellationToken::new();
    let http_config = HttpConfig {
        auth: auth.clone(),
        ..HttpConfig::default()
    };
    let app = http::router_with_shutdown(Arc::clone(&handler), &http_config, shutdown.clone());
    let stop = shutdown.clone();
    tokio::spawn(async move { http::serve(http_listener, app, &http_config, stop).await });
    let grpc_config = GrpcConfig {
        auth,
        ..GrpcConfig::default()
    };
    let stop = shutdown.clone();
    tokio::spawn(async move { grpc::serve(grpc_listener, handler, &grpc_config, stop).await });
    Served {
        base,
        grpc: grpc_addr,
        _stop: shutdown.drop_guard(),
    }
}

fn api_keys(limit: FailureLimit) -> Auth {
    let keys = ApiKeys::new().add_key("acme", "alice", KEY).expect("key");
    let schemes: Vec<Arc<dyn Authenticator>> = vec![Arc::new(keys)];
    Auth::new(schemes, limit)
}

fn list_body() -> Value {
    json!({"jsonrpc": "2.0", "id": 7, "method": "ListTasks", "params": {}})
}

async fn jsonrpc(base: &str, headers: &[(&str, &str)]) -> (u16, reqwest::header::HeaderMap, Value) {
    let mut request = reqwest::Client::new()
        .post(format!("{base}/a2a/jsonrpc"))
        .header("a2a-version", "1.0")
        .json(&list_body());
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.send().await.expect("answer");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    (status, headers, response.json().await.expect("json"))
}

async fn rest(base: &str, headers: &[(&str, &str)]) -> (u16, reqwest::header::HeaderMap, Value) {
    let mut request = reqwest::Client::new()
        .get(format!("{base}/a2a/rest/tasks"))
        .header("a2a-version", "1.0");
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.send().await.expect("answer");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    (status, headers, response.json().await.expect("json"))
}

async fn grpc_list(addr: &str, headers: &[(&str, &str)]) -> Result<(), tonic::Status> {
    let mut client = A2aServiceClient::connect(addr.to_owned())
        .await
        .expect("connect");
    let mut request = tonic::Request::new(ListTasksRequest::default());
    request
        .metadata_mut()
        .insert("a2a-version", "1.0".parse().expect("metadata"));
    for (name, value) in headers {
        request.metadata_mut().insert(
            tonic::metadata::MetadataKey::from_bytes(name.as_bytes()).expect("key"),
            value.parse().expect("value"),
        );
    }
    client.list_tasks(request).await.map(|_| ())
}

#[tokio::test]
async fn each_binding_answers_missing_and_wrong_keys_in_its_own_form() {
    // The test's runtime has one thread, so the servers' tasks record here too.
    let recorder = metrics_exporter_prometheus::PrometheusBuilder::new().build_recorder();
    let metrics = recorder.handle();
    let _local = metrics::set_default_local_recorder(&recorder);
    let served = serve(api_keys(FailureLimit::default())).await;
    let wrong = [("x-api-key", "wrong-key-0123456789abcdef")];
    for headers in [&[][..], &wrong[..]] {
        let (status, h, body) = jsonrpc(&served.base, headers).await;
        assert_eq!(status, 401, "{body}");
        assert_eq!(body["error"]["code"], -32041, "{body}");
        assert_eq!(body["id"], Value::Null);
        let challenge = h.get("www-authenticate").expect("a challenge");
        assert_eq!(challenge, "ApiKey header=\"x-api-key\"");

        let (status, h, body) = rest(&served.base, headers).await;
        assert_eq!(status, 401, "{body}");
        assert_eq!(body["error"]["status"], "UNAUTHENTICATED", "{body}");
        assert!(h.get("www-authenticate").is_some());
        assert!(
            !body.to_string().contains("wrong-key"),
            "the key is echoed: {body}"
        );

        let status = grpc_list(&served.grpc, headers).await.expect_err("refused");
        assert_eq!(status.code(), tonic::Code::Unauthenticated, "{status:?}");
        assert!(!status.message().contains("wrong-key"), "{status:?}");
    }
    let good = [("x-api-key", KEY)];
    let (status, _, body) = jsonrpc(&served.base, &good).await;
    assert_eq!(status, 200, "{body}");
    assert!(body["result"]["tasks"].is_array(), "{body}");
    assert_eq!(rest(&served.base, &good).await.0, 200);
    grpc_list(&served.grpc, &good).await.expect("alice lists");
    // Each refusal is counted, by binding: a missing and a wrong key on each.
    let text = metrics.render();
    for binding in ["jsonrpc", "http_json", "grpc"] {
        let series = format!(
            r#"harbor_a2a_refusals_total{{binding="{binding}",reason="UNAUTHENTICATED"}} 2"#
        );
        assert!(text.lines().any(|l| l == series), "{series} in {text}");
    }
    // The public card needs no credential.
    let card = reqwest::get(format!("{}/.well-known/agent-card.json", served.base))
        .await
        .expect("card");
    assert_eq!(card.status(), 200);
}

#[tokio::test]
async fn failed_attempts_are_limited_per_source() {
    let served = serve(api_keys(FailureLimit {
        max_failures: 3,
        window: Duration::from_secs(60),
        max_sources: 100,
    }))
    .await;
    let wrong = [("x-api-key", "wrong-key-0123456789abcdef")];
    for _ in 0..3 {
        assert_eq!(rest(&served.base, &wrong).await.0, 401);
    }
    // Past the limit even the right key waits: nothing is checked until the window ends.
    let (status, headers, body) = rest(&served.base, &[("x-api-key", KEY)]).await;
    assert_eq!(status, 429, "{body}");
    assert!(headers.get("retry-after").is_some());
    let (status, _, body) = jsonrpc(&served.base, &wrong).await;
    assert_eq!((status, &body["error"]["code"]), (429, &json!(-32029)));
    let status = grpc_list(&served.grpc, &wrong).await.expect_err("limited");
    assert_eq!(status.code(), tonic::Code::ResourceExhausted);
}

/// A local issuer: a discovery document and a JWKS that the test can rotate.
struct Issuer {
    url: String,
    jwks: Arc<std::sync::Mutex<Value>>,
    fetches: Arc<AtomicUsize>,
    _stop: tokio_util::sync::DropGuard,
}

async fn issuer() -> Issuer {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let jwks = Arc::new(std::sync::Mutex::new(json!({"keys": []})));
    let fetches = Arc::new(AtomicUsize::new(0));
    let discovery = json!({"issuer": url, "jwks_uri": format!("{url}/jwks")});
    let (keys, count) = (Arc::clone(&jwks), Arc::clone(&fetches));
    let app = axum::Router::new()
        .route(
            "/.well-known/openid-configuration",
            get(move || async move { Json(discovery) }),
        )
        .route(
            "/jwks",
            get(move || async move {
                count.fetch_add(1, Ordering::SeqCst);
                let keys = keys.lock().expect("lock").clone();
                Json(keys)
            }),
        );
    let shutdown = CancellationToken::new();
    let stop = shutdown.clone();
    tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(stop.cancelled_owned())
            .await
    });
    Issuer {
        url,
        jwks,
        fetches,
        _stop: shutdown.drop_guard(),
    }
}

/// A P-256 signing key: its encoding key, its public PEM and its JWK with `kid`.
struct EcKey {
    encoding: EncodingKey,
    public_pem: String,
    kid: String,
}

impl EcKey {
    fn new(kid: &str) -> Self {
        let pair = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).expect("key");
        Self {
            encoding: EncodingKey::from_ec_pem(pair.serialize_pem().as_bytes()).expect("pem"),
            public_pem: pair.public_key_pem(),
            kid: kid.to_owned(),
        }
    }

    fn jwk(&self) -> Value {
        let pem = pem_body(&self.public_pem);
        // The SubjectPublicKeyInfo of P-256 ends with the uncompressed point 04 || x || y.
        let point = &pem[pem.len() - 65..];
        json!({
            "kty": "EC", "crv": "P-256", "use": "sig", "alg": "ES256", "kid": self.kid,
            "x": URL_SAFE_NO_PAD.encode(&point[1..33]),
            "y": URL_SAFE_NO_PAD.encode(&point[33..]),
        })
    }

    fn token(&self, claims: &Value) -> String {
        let mut header = Header::new(Algorithm::ES256);
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&header, claims, &self.encoding).expect("token")
    }
}

fn pem_body(pem: &str) -> Vec<u8> {
    let b64: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    base64::engine::general_purpose::STANDARD
        .decode(b64)
        .expect("base64")
}

fn now() -> u64 {
    jsonwebtoken::get_current_timestamp()
}

fn claims(issuer: &str) -> Value {
    json!({"iss": issuer, "aud": "harbor", "sub": "alice", "tenant": "acme",
           "exp": now() + 300, "nbf": now() - 10})
}

fn jwt_auth(config: JwtConfig) -> Auth {
    let jwt = JwtAuthenticator::new(config).expect("jwt");
    let schemes: Vec<Arc<dyn Authenticator>> = vec![Arc::new(jwt)];
    Auth::new(
        schemes,
        FailureLimit {
            max_failures: 1000,
            ..FailureLimit::default()
        },
    )
}

async fn rest_with_token(base: &str, token: &str) -> (u16, Value) {
    let bearer = format!("Bearer {token}");
    let (status, _, body) = rest(base, &[("authorization", bearer.as_str())]).await;
    (status, body)
}

#[tokio::test]
async fn jwt_claims_are_checked_against_a_static_key() {
    let key = EcKey::new("k1");
    let issuer = "https://issuer.example";
    let config = JwtConfig {
        keys: JwtKeySource::Pem(vec![key.public_pem.clone()]),
        ..JwtConfig::new(issuer, "harbor")
    };
    let served = serve(jwt_auth(config)).await;
    assert_eq!(
        rest_with_token(&served.base, &key.token(&claims(issuer)))
            .await
            .0,
        200
    );

    let mut cases: Vec<(&str, Value)> = Vec::new();
    let mut expired = claims(issuer);
    expired["exp"] = json!(now() - 120);
    cases.push(("expired", expired));
    let mut early = claims(issuer);
    early["nbf"] = json!(now() + 600);
    cases.push(("not valid yet", early));
    let mut audience = claims(issuer);
    audience["aud"] = json!("someone-else");
    cases.push(("another audience", audience));
    let mut other_issuer = claims(issuer);
    other_issuer["iss"] = json!("https://evil.example");
    cases.push(("another issuer", other_issuer));
    let mut no_exp = claims(issuer);
    no_exp.as_object_mut().expect("object").remove("exp");
    cases.push(("lacks exp", no_exp));
    for (why, claims) in cases {
        let (status, body) = rest_with_token(&served.base, &key.token(&claims)).await;
        assert_eq!(status, 401, "{why}: {body}");
        assert!(
            body["error"]["message"]
                .as_str()
                .is_some_and(|m| m.contains(why)),
            "{why}: {body}"
        );
    }
    // Another key, `none`, and a symmetric algorithm never pass.
    let stranger = EcKey::new("k1");
    let (status, _) = rest_with_token(&served.base, &stranger.token(&claims(issuer))).await;
    assert_eq!(status, 401);
    let none_header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
    let payload = URL_SAFE_NO_PAD.encode(claims(issuer).to_string());
    let (status, _) = rest_with_token(&served.base, &format!("{none_header}.{payload}.")).await;
    assert_eq!(status, 401, "alg none");
    let hs = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims(issuer),
        &EncodingKey::from_secret(key.public_pem.as_bytes()).expect("secret"),
    )
    .expect("token");
    let (status, body) = rest_with_token(&served.base, &hs).await;
    assert_eq!(status, 401, "{body}");
    assert!(body.to_string().contains("not allowed"), "{body}");
}

#[tokio::test]
async fn symmetric_algorithms_cannot_be_allowed() {
    let mut config = JwtConfig::new("https://issuer.example", "harbor");
    config.algorithms.push(Algorithm::HS256);
    let error = JwtAuthenticator::new(config).expect_err("HS256 refused");
    assert!(error.contains("symmetric"), "{error}");
}

#[tokio::test]
async fn jwks_keys_are_cached_and_rotated_through_oidc_discovery() {
    let issuer = issuer().await;
    let old = EcKey::new("old");
    *issuer.jwks.lock().expect("lock") = json!({"keys": [old.jwk()]});
    let config = JwtConfig {
        keys: JwtKeySource::OidcDiscovery,
        jwks_min_refresh: Duration::ZERO,
        ..JwtConfig::new(issuer.url.clone(), "harbor")
    };
    let served = serve(jwt_auth(config)).await;
    let claims = claims(&issuer.url);
    for _ in 0..3 {
        assert_eq!(
            rest_with_token(&served.base, &old.token(&claims)).await.0,
            200
        );
    }
    assert_eq!(issuer.fetches.load(Ordering::SeqCst), 1, "keys are cached");
    // The issuer rotates: a token with the new kid makes the server fetch again.
    let new = EcKey::new("new");
    *issuer.jwks.lock().expect("lock") = json!({"keys": [new.jwk()]});
    assert_eq!(
        rest_with_token(&served.base, &new.token(&claims)).await.0,
        200
    );
    assert_eq!(issuer.fetches.load(Ordering::SeqCst), 2);
    // An unknown kid is refused (after one more look).
    let stray = EcKey::new("stray");
    let (status, body) = rest_with_token(&served.base, &stray.token(&claims)).await;
    assert_eq!(status, 401, "{body}");
    assert!(body.to_string().contains("key id"), "{body}");
}

#[tokio::test]
async fn a_jwks_url_works_without_discovery_and_refetches_are_rate_limited() {
    let issuer = issuer().await;
    let key = EcKey::new("k");
    *issuer.jwks.lock().expect("lock") = json!({"keys": [key.jwk()]});
    let config = JwtConfig {
        keys: JwtKeySource::Jwks(format!("{}/jwks", issuer.url)),
        jwks_min_refresh: Duration::from_secs(60),
        ..JwtConfig::new("https://issuer.example", "harbor")
    };
    let served = serve(jwt_auth(config)).await;
    let claims = claims("https://issuer.example");
    assert_eq!(
        rest_with_token(&served.base, &key.token(&claims)).await.0,
        200
    );
    let stray = EcKey::new("stray");
    for _ in 0..5 {
        assert_eq!(
            rest_with_token(&served.base, &stray.token(&claims)).await.0,
            401
        );
    }
    assert_eq!(
        issuer.fetches.load(Ordering::SeqCst),
        1,
        "unknown kids do not make the server hammer the issuer"
    );
}

/// A `Write` into a shared buffer, for capturing the log.
#[derive(Clone, Default)]
struct Captured(Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("lock").extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn credentials_never_reach_the_log_or_the_answers() {
    let log = Captured::default();
    let writer = log.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .finish();
    // The current-thread runtime runs the servers' tasks here, under this subscriber.
    let _guard = tracing::subscriber::set_default(subscriber);

    let key = EcKey::new("k1");
    let issuer = "https://issuer.example";
    let jwt = JwtAuthenticator::new(JwtConfig {
        keys: JwtKeySource::Pem(vec![key.public_pem.clone()]),
        ..JwtConfig::new(issuer, "harbor")
    })
    .expect("jwt");
    let keys = ApiKeys::new().add_key("acme", "alice", KEY).expect("key");
    let schemes: Vec<Arc<dyn Authenticator>> = vec![Arc::new(keys), Arc::new(jwt)];
    let auth = Auth::new(schemes, FailureLimit::default());
    assert!(!format!("{auth:?}").contains(KEY));
    let served = serve(auth).await;

    let wrong_key = "wrong-key-do-not-log-0123456789";
    let mut expired = claims(issuer);
    expired["exp"] = json!(now() - 600);
    let expired = key.token(&expired);
    let good = key.token(&claims(issuer));
    let mut answers = String::new();
    for headers in [
        vec![("x-api-key", KEY.to_owned())],
        vec![("x-api-key", wrong_key.to_owned())],
        vec![("authorization", format!("Bearer {expired}"))],
        vec![("authorization", format!("Bearer {good}"))],
    ] {
        let headers: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
        answers.push_str(&rest(&served.base, &headers).await.2.to_string());
        answers.push_str(&jsonrpc(&served.base, &headers).await.2.to_string());
        if let Err(status) = grpc_list(&served.grpc, &headers).await {
            answers.push_str(status.message());
        }
    }
    let logged = String::from_utf8(log.0.lock().expect("lock").clone()).expect("utf-8");
    assert!(
        logged.contains("authentication failed"),
        "the log was not captured: {logged}"
    );
    for secret in [KEY, wrong_key, expired.as_str(), good.as_str()] {
        // The signature part of a token is what makes it a credential.
        let needle = secret.rsplit('.').next().unwrap_or(secret);
        assert!(
            !logged.contains(needle),
            "a credential reached the log:\n{logged}"
        );
        assert!(
            !answers.contains(needle),
            "a credential reached an answer: {answers}"
        );
    }
}

#[tokio::test]
async fn a_valid_token_without_the_required_scope_is_forbidden_on_every_binding() {
    let key = EcKey::new("k1");
    let issuer = "https://issuer.example";
    let config = JwtConfig {
        keys: JwtKeySource::Pem(vec![key.public_pem.clone()]),
        required_scopes: vec!["a2a:call".into()],
        ..JwtConfig::new(issuer, "harbor")
    };
    let served = serve(jwt_auth(config)).await;
    let mut scoped = claims(issuer);
    scoped["scope"] = json!("openid a2a:call");
    let bearer = format!("Bearer {}", key.token(&scoped));
    let allowed = [("authorization", bearer.as_str())];
    assert_eq!(rest(&served.base, &allowed).await.0, 200);
    let bearer = format!("Bearer {}", key.token(&claims(issuer)));
    let unscoped = [("authorization", bearer.as_str())];
    let (status, _, body) = rest(&served.base, &unscoped).await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["error"]["status"], "PERMISSION_DENIED", "{body}");
    assert!(body.to_string().contains("a2a:call"), "{body}");
    let (status, _, body) = jsonrpc(&served.base, &unscoped).await;
    assert_eq!(
        (status, &body["error"]["code"]),
        (403, &json!(-32043)),
        "{body}"
    );
    let status = grpc_list(&served.grpc, &unscoped)
        .await
        .expect_err("forbidden");
    assert_eq!(status.code(), tonic::Code::PermissionDenied, "{status:?}");
}
