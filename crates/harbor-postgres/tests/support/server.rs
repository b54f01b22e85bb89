//! A throwaway PostgreSQL cluster of the test's own (never the machine's shared service):
//! `initdb` in a temp dir, started on a free port, stopped abruptly on demand (`pg_ctl stop
//! -m immediate`: no checkpoint, crash recovery on the next start) and on drop.
//!
//! PostgreSQL refuses to run as root; as root the binaries run as the `postgres` user
//! through `runuser`, with the temp dir handed to that user.

use std::path::{Path, PathBuf};
use std::process::Command;

use async_trait::async_trait;
use harbor_conformance::bus::faults::ServiceControl;

const BIN: &str = "/usr/lib/postgresql/15/bin";

/// One private cluster.
pub(crate) struct PgServer {
    dir: tempfile::TempDir,
    port: u16,
    /// `Some(user)` when the binaries run as that user (we are root).
    run_as: Option<&'static str>,
}

/// Why the fault tests cannot run here, if they cannot.
pub(crate) fn unavailable() -> Option<String> {
    let initdb = Path::new(BIN).join("initdb");
    (!initdb.exists()).then(|| format!("{} is not installed", initdb.display()))
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    listener.local_addr().expect("local addr").port()
}

impl PgServer {
    /// Creates and starts a cluster.
    pub(crate) async fn start() -> Self {
        let run_as = is_root().then_some("postgres");
        let dir = tempfile::Builder::new()
            .prefix("harbor-pg-")
            .tempdir()
            .expect("temp dir");
        if run_as.is_some() {
            let status = Command::new("chown")
                .args(["postgres:postgres"])
                .arg(dir.path())
                .status()
                .expect("chown");
            assert!(status.success(), "chown of the temp dir failed");
        }
        let server = Self {
            dir,
            port: free_port(),
            run_as,
        };
        let data = server.data();
        server.run(
            "initdb",
            &[
                "-D",
                path(&data),
                "-A",
                "trust",
                "-U",
                "postgres",
                "--no-sync",
            ],
        );
        server.pg_start();
        server
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// The cluster's URL (database `postgres`).
    pub(crate) fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// Where the server listens.
    pub(crate) fn addr(&self) -> std::net::SocketAddr {
        std::net::SocketAddr::from(([127, 0, 0, 1], self.port))
    }

    fn run(&self, tool: &str, args: &[&str]) {
        let program = Path::new(BIN).join(tool);
        let mut command = match self.run_as {
            Some(user) => {
                let mut c = Command::new("runuser");
                c.args(["-u", user, "--"]).arg(&program);
                c
            }
            None => Command::new(&program),
        };
        let output = command.args(args).output().expect("run a PostgreSQL tool");
        assert!(
            output.status.success(),
            "{tool} {args:?} failed: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }

    fn pg_start(&self) {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1",
            self.port,
            self.dir.path().display()
        );
        let log = self.dir.path().join("server.log");
        let data = self.data();
        self.run(
            "pg_ctl",
            &[
                "-D",
                path(&data),
                "-o",
                &options,
                "-l",
                path(&log),
                "-w",
                "-t",
                "60",
                "start",
            ],
        );
    }

    fn pg_stop(&self) {
        let data = self.data();
        self.run(
            "pg_ctl",
            &["-D", path(&data), "-m", "immediate", "-w", "stop"],
        );
    }
}

fn path(p: &Path) -> &str {
    p.to_str().expect("a UTF-8 temp path")
}

#[async_trait]
impl ServiceControl for PgServer {
    async fn stop(&self) {
        tokio::task::block_in_place(|| self.pg_stop());
    }

    async fn start(&self) {
        tokio::task::block_in_place(|| self.pg_start());
    }
}

impl Drop for PgServer {
    fn drop(&mut self) {
        let data = self.data();
        let pg_ctl = Path::new(BIN).join("pg_ctl");
        let mut command = match self.run_as {
            Some(user) => {
                let mut c = Command::new("runuser");
                c.args(["-u", user, "--"]).arg(&pg_ctl);
                c
            }
            None => Command::new(&pg_ctl),
        };
        let _ = command
            .args(["-D", path(&data), "-m", "immediate", "stop"])
            .output();
    }
}
