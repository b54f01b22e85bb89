//! A redis-server of the test's own: a free port, a temporary directory with an
//! append-only file, killed (SIGKILL) on stop and on drop.

use std::net::SocketAddr;
use std::process::Stdio;
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use harbor_conformance::bus::faults::ServiceControl;
use tokio::process::{Child, Command};

/// The binary the fault tests run.
const REDIS_SERVER: &str = "/usr/bin/redis-server";

pub struct RedisServer {
    port: u16,
    dir: tempfile::TempDir,
    child: Mutex<Option<Child>>,
}

fn free_port() -> u16 {
    match std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()) {
        Ok(addr) => addr.port(),
        Err(error) => panic!("no free port: {error}"),
    }
}

impl RedisServer {
    /// Starts a server, or returns `None` (saying why) when the binary is missing.
    pub async fn start() -> Option<Self> {
        if !std::path::Path::new(REDIS_SERVER).exists() {
            eprintln!("skipped: {REDIS_SERVER} is not installed");
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

    pub fn addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.port))
    }

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
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        loop {
            if self.ping().await {
                return;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "redis-server on port {} did not come up",
                self.port
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    async fn ping(&self) -> bool {
        let Ok(client) = redis::Client::open(self.url()) else {
            return false;
        };
        let Ok(mut conn) = client.get_multiplexed_async_connection().await else {
            return false;
        };
        redis::cmd("PING")
            .query_async::<String>(&mut conn)
            .await
            .is_ok()
    }
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
