//! `harbor serve` with authentication: API keys from a file of hashes (the client commands
//! send `--api-key`), and mutual TLS on HTTP and gRPC whose client certificates name the
//! caller; the card declares what is configured, and the extended card needs a credential.

use std::path::Path;

use harbor_a2a::pb::a2a_service_client::A2aServiceClient;
use harbor_a2a::{AgentCard, GetTaskRequest};
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
use serde_json::{Value, json};
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Identity};

mod support;

use support::run::{message_id, run};
use support::serve::Server;

const ALICE: &str = "alice-acme-0123456789abcdef";

fn keys_file(dir: &Path) -> String {
    let path = dir.join("keys.txt");
    let hash = harbor_server::auth::hash_api_key(ALICE);
    std::fs::write(&path, format!("# tenant user key\nacme alice {hash}\n")).expect("write");
    path.to_str().expect("utf-8").to_owned()
}

#[test]
fn anonymous_serve_says_so() {
    let server = Server::start(&[]);
    assert!(
        server
            .output()
            .contains("auth        none: every caller is the anonymous principal"),
        "{}",
        server.output()
    );
}

#[test]
fn api_keys_guard_every_rpc_and_the_cli_sends_them() {
    let dir = tempfile::tempdir().expect("dir");
    let server = Server::start(&["--api-keys", &keys_file(dir.path())]);
    assert!(
        server.output().contains("auth        apiKey"),
        "{}",
        server.output()
    );
    assert!(!server.output().contains(ALICE));

    let card = run(&["card", &server.base_url, "--json"]).ok("card");
    let card: AgentCard = harbor_a2a::from_json(&card.stdout).expect("card");
    let json = harbor_a2a::to_json(&card).expect("json");
    assert_eq!(
        json["securitySchemes"]["apiKey"]["apiKeySecurityScheme"],
        json!({"location": "header", "name": "x-api-key", "description": "an API key issued by the operator"})
    );
    assert_eq!(
        json["securityRequirements"][0]["schemes"]["apiKey"],
        json!({})
    );
    assert_eq!(json["capabilities"]["extendedAgentCard"], true);

    for binding in ["jsonrpc", "http-json", "grpc"] {
        let id = message_id("tck-complete-task");
        let refused = run(&[
            "send",
            &server.base_url,
            "hi",
            "--message-id",
            &id,
            "--binding",
            binding,
        ]);
        assert_eq!(refused.code, Some(3), "{binding}: {}", refused.stderr);
        assert!(
            refused.stderr.contains("UNAUTHENTICATED"),
            "{binding}: {}",
            refused.stderr
        );
        let sent = run(&[
            "send",
            &server.base_url,
            "hi",
            "--message-id",
            &id,
            "--binding",
            binding,
            "--api-key",
            ALICE,
        ])
        .ok("send with a key");
        assert!(
            sent.stdout.contains("COMPLETED"),
            "{binding}: {}",
            sent.stdout
        );
        assert!(!sent.stdout.contains(ALICE) && !sent.stderr.contains(ALICE));
    }
    // The extended card needs a credential, and has one more skill.
    let refused = run(&["card", &server.base_url, "--extended"]);
    assert_eq!(refused.code, Some(3), "{}", refused.stderr);
    let extended = run(&[
        "card",
        &server.base_url,
        "--extended",
        "--json",
        "--api-key",
        ALICE,
    ])
    .ok("card --extended");
    let extended: AgentCard = harbor_a2a::from_json(&extended.stdout).expect("card");
    assert_eq!(extended.skills.len(), card.skills.len() + 1);
}

/// A CA, a server certificate for 127.0.0.1 and localhost, and client certificates.
struct Pki {
    ca_pem: String,
    issuer: Issuer<'static, KeyPair>,
}

impl Pki {
    fn new() -> Self {
        let key = KeyPair::generate().expect("key");
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("params");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(DnType::CommonName, "harbor test CA");
        let ca = params.self_signed(&key).expect("CA");
        Self {
            ca_pem: ca.pem(),
            issuer: Issuer::new(params, key),
        }
    }

    /// (certificate PEM, key PEM) for `names` with subject `cn` / `org`.
    fn issue(&self, names: &[&str], cn: &str, org: Option<&str>) -> (String, String) {
        let key = KeyPair::generate().expect("key");
        let names: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
        let mut params = CertificateParams::new(names).expect("params");
        params.distinguished_name.push(DnType::CommonName, cn);
        if let Some(org) = org {
            params
                .distinguished_name
                .push(DnType::OrganizationName, org);
        }
        let cert = params.signed_by(&key, &self.issuer).expect("signed");
        (cert.pem(), key.serialize_pem())
    }
}

fn https_client(pki: &Pki, identity: Option<&(String, String)>) -> reqwest::Client {
    let mut builder = reqwest::Client::builder()
        .tls_certs_only([reqwest::Certificate::from_pem(pki.ca_pem.as_bytes()).expect("ca")]);
    if let Some((cert, key)) = identity {
        builder = builder.identity(
            reqwest::Identity::from_pem(format!("{cert}{key}").as_bytes()).expect("identity"),
        );
    }
    builder.build().expect("client")
}

async fn jsonrpc(client: &reqwest::Client, url: &str, method: &str, params: Value) -> (u16, Value) {
    let response = client
        .post(url)
        .header("a2a-version", "1.0")
        .json(&json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}))
        .send()
        .await
        .expect("an answer");
    let status = response.status().as_u16();
    (status, response.json().await.expect("json"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_certificates_name_the_caller_on_http_and_grpc() {
    let dir = tempfile::tempdir().expect("dir");
    let pki = Pki::new();
    let (server_cert, server_key) = pki.issue(&["localhost", "127.0.0.1"], "server", None);
    let write = |name: &str, text: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, text).expect("write");
        path.to_str().expect("utf-8").to_owned()
    };
    let (cert, key, ca) = (
        write("server.pem", &server_cert),
        write("server.key", &server_key),
        write("ca.pem", &pki.ca_pem),
    );
    let server = Server::start(&["--tls-cert", &cert, "--tls-key", &key, "--client-ca", &ca]);
    assert!(
        server.jsonrpc_url.starts_with("https://"),
        "{}",
        server.jsonrpc_url
    );
    assert!(
        server.output().contains("auth        mtls"),
        "{}",
        server.output()
    );

    let alice = pki.issue(&[], "alice", Some("acme"));
    let bob = pki.issue(&[], "bob", Some("acme"));
    let as_alice = https_client(&pki, Some(&alice));
    let send = json!({"message": {"messageId": message_id("tck-input-required"), "role": "ROLE_USER",
                                  "parts": [{"text": "hi"}]}});
    let (status, reply) = jsonrpc(&as_alice, &server.jsonrpc_url, "SendMessage", send).await;
    assert_eq!(status, 200, "{reply}");
    let task_id = reply["result"]["task"]["id"]
        .as_str()
        .expect("a task")
        .to_owned();

    let get = json!({"id": task_id});
    let (_, mine) = jsonrpc(&as_alice, &server.jsonrpc_url, "GetTask", get.clone()).await;
    assert_eq!(mine["result"]["id"], task_id.as_str(), "{mine}");
    let as_bob = https_client(&pki, Some(&bob));
    let (_, theirs) = jsonrpc(&as_bob, &server.jsonrpc_url, "GetTask", get.clone()).await;
    assert_eq!(theirs["error"]["code"], -32001, "{theirs}");
    let anonymous = https_client(&pki, None);
    let (status, nobody) = jsonrpc(&anonymous, &server.jsonrpc_url, "GetTask", get).await;
    assert_eq!(
        (status, &nobody["error"]["code"]),
        (401, &json!(-32041)),
        "{nobody}"
    );

    // gRPC on the same certificates: alice sees her task, bob does not.
    let authority = server.grpc_url.clone().expect("gRPC");
    let channel = |identity: &(String, String)| {
        let tls = ClientTlsConfig::new()
            .ca_certificate(Certificate::from_pem(&pki.ca_pem))
            .identity(Identity::from_pem(&identity.0, &identity.1))
            .domain_name("localhost");
        Channel::from_shared(format!("https://{authority}"))
            .expect("uri")
            .tls_config(tls)
            .expect("tls")
    };
    let request = || {
        let mut request = tonic::Request::new(GetTaskRequest {
            id: task_id.clone(),
            ..GetTaskRequest::default()
        });
        request
            .metadata_mut()
            .insert("a2a-version", "1.0".parse().expect("metadata"));
        request
    };
    let mut grpc_alice = A2aServiceClient::new(channel(&alice).connect().await.expect("connect"));
    let task = grpc_alice.get_task(request()).await.expect("alice's task");
    assert_eq!(task.get_ref().id, task_id);
    let mut grpc_bob = A2aServiceClient::new(channel(&bob).connect().await.expect("connect"));
    let status = grpc_bob.get_task(request()).await.expect_err("not bob's");
    assert_eq!(status.code(), tonic::Code::NotFound, "{status:?}");

    // The client commands present a certificate on every binding.
    let (alice_cert, alice_key) = (write("alice.pem", &alice.0), write("alice.key", &alice.1));
    for binding in ["jsonrpc", "http-json", "grpc"] {
        let out = run(&[
            "get",
            &server.base_url,
            &task_id,
            "--json",
            "--binding",
            binding,
            "--ca-cert",
            &ca,
            "--client-cert",
            &alice_cert,
            "--client-key",
            &alice_key,
        ]);
        assert_eq!(out.code, Some(0), "{binding}: {}", out.stderr);
        assert!(out.stdout.contains(&task_id), "{binding}: {}", out.stdout);
        let anonymous = run(&[
            "get",
            &server.base_url,
            &task_id,
            "--binding",
            binding,
            "--ca-cert",
            &ca,
        ]);
        assert_eq!(anonymous.code, Some(3), "{binding}: {}", anonymous.stderr);
    }
}
