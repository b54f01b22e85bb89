//! A throwaway PostgreSQL cluster of the test's own (never the machine's shared service):
//! `initdb` in a temp dir, started on a free port, stopped abruptly on demand (`pg_ctl stop
//! -m immediate`: no checkpoint, crash recovery on the next start) and on drop.
//!
//! PostgreSQL refuses to run as root; as root the binaries run as the `postgres` user
//! through `runuser`, with the temp dir handed to that user.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;

use async_trait::async_trait;
use harbor_conformance::bus::faults::ServiceControl;

use crate::{free_port, skip};

const BIN: &str = "/usr/lib/postgresql/15/bin";

/// One private cluster.
pub struct PgServer {
    dir: tempfile::TempDir,
    port: u16,
    /// `Some(user)` when the binaries run as that user (we are root).
    run_as: Option<&'static str>,
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

impl PgServer {
    /// Creates and starts a cluster, or returns `None` (a [`skip`]) when PostgreSQL's
    /// binaries are not installed. Blocks while `initdb` runs.
    pub async fn start() -> Option<Self> {
        let initdb = Path::new(BIN).join("initdb");
        if !initdb.exists() {
            skip(format_args!("{} is not installed", initdb.display()));
            return None;
        }
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
        Some(server)
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// The cluster's URL (database `postgres`).
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// Where the server listens.
    pub fn addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.port))
    }

    fn command(&self, tool: &str) -> Command {
        let program = Path::new(BIN).join(tool);
        match self.run_as {
            Some(user) => {
                let mut c = Command::new("runuser");
                c.args(["-u", user, "--"]).arg(&program);
                c
            }
            None => Command::new(&program),
        }
    }

    fn run(&self, tool: &str, args: &[&str]) {
        let output = self
            .command(tool)
            .args(args)
            .output()
            .expect("run a PostgreSQL tool");
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
        let _ = self
            .command("pg_ctl")
            .args(["-D", path(&data), "-m", "immediate", "stop"])
            .output();
    }
}
