//! NATS: scratch streams on the server at `HARBOR_NATS_URL`, and a nats-server of the
//! test's own (a free loopback port, a temporary data directory, killed when dropped).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use async_trait::async_trait;
use harbor_conformance::bus::faults::ServiceControl;
use tokio::process::{Child, Command};
use tokio::sync::Mutex;

use crate::{free_port, skip, wait_until, with_query};

/// Where the server binary is looked for, in order.
const BINARIES: &[&str] = &["/usr/sbin/nats-server", "/usr/bin/nats-server"];

/// `url` with a fresh stream and subject prefix of its own, deleted when the bus closes
/// (`temporary=true`).
pub fn scratch_url(url: &str) -> String {
    let id = uuid::Uuid::new_v4().simple();
    with_query(url, &format!("stream=T{id}&prefix=t{id}&temporary=true"))
}

/// A JetStream server on a free port with file storage in a temporary directory.
pub struct NatsServer {
    addr: SocketAddr,
    binary: PathBuf,
    dir: tempfile::TempDir,
    child: Mutex<Option<Child>>,
}

impl NatsServer {
    /// Starts a server, or returns `None` (a [`skip`]) when no nats-server is installed.
    pub async fn start() -> Option<Self> {
        let Some(binary) = BINARIES.iter().map(PathBuf::from).find(|p| p.exists()) else {
            skip(format_args!("no nats-server binary at {BINARIES:?}"));
            return None;
        };
        let server = Self {
            addr: SocketAddr::from(([127, 0, 0, 1], free_port())),
            binary,
            dir: tempfile::tempdir().expect("temporary data directory"),
            child: Mutex::new(None),
        };
        server.start().await;
        Some(server)
    }

    /// The address clients connect to.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// A bus URL for this server with the given stream, and its name in lower case as the
    /// subject prefix.
    pub fn url(&self, stream: &str) -> String {
        format!(
            "nats://{}?stream={stream}&prefix={}",
            self.addr,
            stream.to_lowercase()
        )
    }

    fn spawn(&self) -> Child {
        Command::new(&self.binary)
            .args(["-js", "-a", "127.0.0.1", "-p"])
            .arg(self.addr.port().to_string())
            .arg("-sd")
            .arg(self.dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("start nats-server")
    }
}

#[async_trait]
impl ServiceControl for NatsServer {
    async fn stop(&self) {
        if let Some(mut child) = self.child.lock().await.take() {
            // SIGKILL: no shutdown work, as when the machine dies.
            let _ = child.kill().await;
        }
    }

    async fn start(&self) {
        let mut slot = self.child.lock().await;
        if slot.is_some() {
            return;
        }
        *slot = Some(self.spawn());
        let addr = self.addr;
        wait_until(
            Duration::from_secs(20),
            &format!("nats-server accepting connections on {addr}"),
            || async move { tokio::net::TcpStream::connect(addr).await.is_ok() },
        )
        .await;
    }
}
