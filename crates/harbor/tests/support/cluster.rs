//! A cluster of `harbor serve` replicas sharing a PostgreSQL task store and a bus, behind
//! HAProxy (round-robin over the HTTP bindings per request, over gRPC per connection, with
//! health checks), as an operator would run it.

#![allow(dead_code, unreachable_pub)]

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::serve::{Server, drain};

/// How long HAProxy may take to serve the first request through to a replica.
const PROXY_DEADLINE: Duration = Duration::from_secs(20);

/// The response header HAProxy names the serving replica in.
pub const SERVED_BY: &str = "x-harbor-replica";

/// Replicas behind HAProxy; all stopped when dropped.
pub struct Cluster {
    /// The replicas, `r0`, `r1`, ... (their names in HAProxy and `--replica-id`).
    pub replicas: Vec<Server>,
    /// `http://127.0.0.1:PORT`: HAProxy's HTTP front end, the agent card's base URL.
    pub base_url: String,
    proxy: Child,
    proxy_output: Arc<Mutex<String>>,
    _dir: tempfile::TempDir,
}

/// A free TCP port on loopback (free when this returns; used at once).
pub fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    listener.local_addr().expect("local address").port()
}

/// Whether HAProxy is installed (`.ci/run` installs it); says why not on stderr.
pub fn haproxy_installed() -> bool {
    let found = Command::new("haproxy")
        .arg("-v")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !found {
        harbor_test_support::skip("haproxy is not installed (.ci/run installs the Debian package)");
    }
    found
}

impl Cluster {
    /// Starts `n` replicas with `args` (the store, the bus, ...) each, then HAProxy in front,
    /// and returns once HAProxy has reached every replica.
    pub async fn start(n: usize, args: &[&str]) -> Cluster {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let (http, grpc) = (free_port(), free_port());
        let base_url = format!("http://127.0.0.1:{http}");
        let public_grpc = format!("127.0.0.1:{grpc}");
        let grpc_ports: Vec<u16> = (0..n).map(|_| free_port()).collect();
        let replicas: Vec<Server> = grpc_ports
            .iter()
            .enumerate()
            .map(|(i, grpc_port)| {
                let name = format!("r{i}");
                let grpc_port = grpc_port.to_string();
                let mut all = vec![
                    "--replica-id",
                    &name,
                    "--public-url",
                    &base_url,
                    "--public-grpc-url",
                    &public_grpc,
                    "--grpc-port",
                    &grpc_port,
                ];
                all.extend_from_slice(args);
                let all: Vec<&std::ffi::OsStr> = all.iter().map(std::ffi::OsStr::new).collect();
                Server::start_with_env(&all, &[("RUST_LOG", "warn,harbor_server::runtime=info")])
            })
            .collect();
        let config = dir.path().join("haproxy.cfg");
        std::fs::write(&config, haproxy_config(http, grpc, &replicas, &grpc_ports))
            .expect("write the config");
        let (proxy, proxy_output) = start_haproxy(&config);
        let cluster = Cluster {
            replicas,
            base_url,
            proxy,
            proxy_output,
            _dir: dir,
        };
        cluster.wait_until_served().await;
        cluster
    }

    /// The JSON-RPC endpoint through HAProxy.
    pub fn jsonrpc_url(&self) -> &str {
        // The replicas print their endpoints under the public (proxy) URL.
        &self.replicas[0].jsonrpc_url
    }

    /// Everything the replicas and HAProxy printed, for failure messages.
    pub fn output(&self) -> String {
        let mut all = String::new();
        for (i, replica) in self.replicas.iter().enumerate() {
            all.push_str(&format!("--- replica r{i} ---\n{}", replica.output()));
        }
        let proxy = self
            .proxy_output
            .lock()
            .map(|s| s.clone())
            .unwrap_or_default();
        all.push_str(&format!("--- haproxy ---\n{proxy}"));
        all
    }

    /// The replica HAProxy calls `name` (`r0`, ...).
    pub fn replica(&self, name: &str) -> &Server {
        let i: usize = name
            .strip_prefix('r')
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("not a replica name: {name:?}"));
        &self.replicas[i]
    }

    /// Waits until every replica answers through HAProxy.
    async fn wait_until_served(&self) {
        let started = Instant::now();
        let card = format!("{}/.well-known/agent-card.json", self.base_url);
        let mut seen = std::collections::BTreeSet::new();
        while seen.len() < self.replicas.len() {
            assert!(
                started.elapsed() < PROXY_DEADLINE,
                "HAProxy did not reach every replica within {PROXY_DEADLINE:?} (saw {seen:?}):\n{}",
                self.output()
            );
            if let Ok(response) = reqwest::get(&card).await
                && response.status().is_success()
                && let Some(name) = response.headers().get(SERVED_BY)
            {
                seen.insert(name.to_str().unwrap_or_default().to_owned());
                continue;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = self.proxy.kill();
        let _ = self.proxy.wait();
    }
}

/// HTTP front end on `http` (per-request round-robin, the serving replica named in a
/// response header), gRPC front end on `grpc` (TCP, per-connection round-robin); a replica
/// failing its health checks leaves the rotation, and a request it refuses goes to another.
fn haproxy_config(http: u16, grpc: u16, replicas: &[Server], grpc_ports: &[u16]) -> String {
    let mut http_servers = String::new();
    let mut grpc_servers = String::new();
    for (i, replica) in replicas.iter().enumerate() {
        // Out of rotation only after three failed checks in a row: a loaded test machine
        // may miss one, and the calls must keep spreading; a killed replica's requests are
        // redispatched meanwhile (`retries`, `option redispatch`).
        let check = "check inter 500ms fall 3 rise 1";
        http_servers.push_str(&format!("    server r{i} {} {check}\n", replica.listening));
        let grpc_port = grpc_ports[i];
        grpc_servers.push_str(&format!("    server r{i} 127.0.0.1:{grpc_port} {check}\n"));
    }
    format!(
        "global
    maxconn 2048
defaults
    timeout connect 2s
    timeout client 120s
    timeout server 120s
    timeout tunnel 120s
    retries 3
    option redispatch 1
frontend a2a
    mode http
    bind 127.0.0.1:{http}
    default_backend replicas
backend replicas
    mode http
    balance roundrobin
    option httpchk GET /.well-known/agent-card.json
    http-response set-header X-Harbor-Replica %[srv_name]
{http_servers}frontend a2a_grpc
    mode tcp
    bind 127.0.0.1:{grpc}
    default_backend grpc_replicas
backend grpc_replicas
    mode tcp
    balance roundrobin
{grpc_servers}"
    )
}

fn start_haproxy(config: &PathBuf) -> (Child, Arc<Mutex<String>>) {
    let mut child = Command::new("haproxy")
        .arg("-db")
        .arg("-f")
        .arg(config)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("cannot start haproxy");
    let output = Arc::new(Mutex::new(String::new()));
    drain(
        child.stdout.take().expect("stdout"),
        Arc::clone(&output),
        None,
    );
    drain(
        child.stderr.take().expect("stderr"),
        Arc::clone(&output),
        None,
    );
    (child, output)
}
