//! A nats-server of the test's own: a free loopback port, a temporary data directory,
//! killed when dropped. Never the machine's shared server.

use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use async_trait::async_trait;
use harbor_conformance::bus::faults::ServiceControl;
use tokio::process::{Child, Command};
use tokio::sync::Mutex;

/// Where the server binary is looked for, in order.
const BINARIES: &[&str] = &["/usr/sbin/nats-server", "/usr/bin/nats-server"];

/// A JetStream server on a free port with file storage in a temporary directory.
pub(crate) struct NatsServer {
    addr: SocketAddr,
    binary: PathBuf,
    dir: tempfile::TempDir,
    child: Mutex<Option<Child>>,
}

impl NatsServer {
    /// Starts a server, or returns `None` (saying why) when no nats-server is installed.
    pub(crate) async fn start() -> Option<Self> {
        let Some(binary) = BINARIES.iter().map(PathBuf::from).find(|p| p.exists()) else {
            eprintln!("skipped: no nats-server binary at {BINARIES:?}");
            return None;
        };
        let port = {
            let probe = TcpListener::bind("127.0.0.1:0").expect("bind a probe port");
            probe.local_addr().expect("probe address").port()
        };
        let server = Self {
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
            binary,
            dir: tempfile::tempdir().expect("temporary data directory"),
            child: Mutex::new(None),
        };
        server.start().await;
        Some(server)
    }

    /// The address clients connect to.
    pub(crate) fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// A bus URL for this server with the given stream and prefix.
    pub(crate) fn url(&self, stream: &str) -> String {
        format!(
            "nats://{}?stream={stream}&prefix={}",
            self.addr,
            stream.to_lowercase()
        )
    }

    async fn spawn(&self) -> Child {
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
        *slot = Some(self.spawn().await);
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        while tokio::net::TcpStream::connect(self.addr).await.is_err() {
            assert!(
                tokio::time::Instant::now() < deadline,
                "nats-server did not accept connections on {} within 20 s",
                self.addr
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}
