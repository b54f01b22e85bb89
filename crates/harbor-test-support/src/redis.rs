//! Redis: buses in a random key prefix that delete their keys when closed, and a
//! redis-server of the test's own (a free port, a temporary directory with an append-only
//! file, killed with SIGKILL on stop and on drop).

use std::net::SocketAddr;
use std::path::Path;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use harbor_conformance::bus::ScopedBus;
use harbor_conformance::bus::faults::ServiceControl;
use harbor_distributed::MessageBus;
use harbor_redis::RedisBus;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::process::{Child, Command};

use crate::{free_port, skip, wait_until, with_query};

/// The binary the fault tests run.
const REDIS_SERVER: &str = "/usr/bin/redis-server";

/// A random key prefix, one per test.
pub fn random_prefix() -> String {
    format!("harbor-test-{}", uuid::Uuid::new_v4().simple())
}

/// `url` with the key prefix `prefix`.
pub fn with_prefix(url: &str, prefix: &str) -> String {
    with_query(url, &format!("prefix={prefix}"))
}

/// Opens a bus on `url` in a fresh prefix; it deletes every key under it after `close`.
pub async fn purging_bus(url: &str) -> Arc<dyn MessageBus> {
    let url = with_prefix(url, &random_prefix());
    let bus = match RedisBus::connect_url(&url).await {
        Ok(bus) => Arc::new(bus),
        Err(error) => panic!("cannot open the redis bus: {error}"),
    };
    let purged = Arc::clone(&bus);
    Arc::new(ScopedBus::new(bus).after_close(async move { purged.purge().await }))
}

/// A redis-server of the test's own.
pub struct RedisServer {
    port: u16,
    dir: tempfile::TempDir,
    child: Mutex<Option<Child>>,
}

impl RedisServer {
    /// Starts a server, or returns `None` (a [`skip`]) when the binary is missing.
    pub async fn start() -> Option<Self> {
        if !Path::new(REDIS_SERVER).exists() {
            skip(format_args!("{REDIS_SERVER} is not installed"));
            return None;
        }
        let dir = match tempfile::tempdir() {
            Ok(dir) => dir,
            Err(error) => panic!("no temp dir: {error}"),
        };
        let server = Self {
            port: free_port(),
            dir,
            child: Mutex::new(None),
        };
        server.start_process().await;
        Some(server)
    }

    /// Where the server listens.
    pub fn addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.port))
    }

    /// The server's URL (no prefix).
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    async fn start_process(&self) {
        let child = Command::new(REDIS_SERVER)
            .arg("--port")
            .arg(self.port.to_string())
            .arg("--bind")
            .arg("127.0.0.1")
            .arg("--appendonly")
            .arg("yes")
            .arg("--dir")
            .arg(self.dir.path())
            .arg("--save")
            .arg("")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn();
        let child = match child {
            Ok(child) => child,
            Err(error) => panic!("cannot start {REDIS_SERVER}: {error}"),
        };
        *self.child.lock().unwrap_or_else(|e| e.into_inner()) = Some(child);
        let addr = self.addr();
        wait_until(
            Duration::from_secs(20),
            &format!("redis-server answering PING on {addr}"),
            || ping(addr),
        )
        .await;
    }
}

/// Whether the server at `addr` answers `PING` with `PONG`: not while it still loads its
/// append-only file (it answers `-LOADING`).
async fn ping(addr: SocketAddr) -> bool {
    let Ok(mut stream) = tokio::net::TcpStream::connect(addr).await else {
        return false;
    };
    if stream.write_all(b"PING\r\n").await.is_err() {
        return false;
    }
    let mut answer = [0u8; 7];
    stream.read_exact(&mut answer).await.is_ok() && &answer == b"+PONG\r\n"
}

#[async_trait]
impl ServiceControl for RedisServer {
    async fn stop(&self) {
        let child = self.child.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(mut child) = child {
            let _ = child.start_kill();
            let _ = child.wait().await;
        }
    }

    async fn start(&self) {
        self.start_process().await;
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        if let Some(child) = self
            .child
            .get_mut()
            .unwrap_or_else(|e| e.into_inner())
            .as_mut()
        {
            let _ = child.start_kill();
        }
    }
}
