//! A `harbor worker` child process for the binary's integration tests.

#![allow(dead_code, unreachable_pub)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

/// How long a worker may take to start taking work.
const STARTUP_DEADLINE: Duration = Duration::from_secs(30);

/// A `harbor worker` child process, killed when dropped.
pub struct Worker {
    child: Child,
    output: Arc<Mutex<String>>,
}

impl Worker {
    /// A worker on `store` and `bus` named `name`, its leases living `lease_ttl`; returns
    /// once it takes work.
    pub fn start(store: &str, bus: &str, name: &str, lease_ttl: &str) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_harbor"))
            .args([
                "worker",
                "--store",
                store,
                "--bus",
                bus,
                "--replica-id",
                name,
            ])
            .args(["--lease-ttl", lease_ttl, "--concurrency", "4"])
            .env("RUST_LOG", "warn,harbor_server=info")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("cannot start `harbor worker`");
        let output = Arc::new(Mutex::new(String::new()));
        let (lines_tx, lines_rx) = mpsc::channel();
        for pipe in [
            Box::new(child.stdout.take().expect("stdout")) as Box<dyn std::io::Read + Send>,
            Box::new(child.stderr.take().expect("stderr")),
        ] {
            let (output, lines) = (Arc::clone(&output), lines_tx.clone());
            std::thread::spawn(move || {
                for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                    if let Ok(mut s) = output.lock() {
                        s.push_str(&line);
                        s.push('\n');
                    }
                    let _ = lines.send(line);
                }
            });
        }
        let mut worker = Self { child, output };
        let deadline = Instant::now() + STARTUP_DEADLINE;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match lines_rx.recv_timeout(left) {
                // Subscribed to the work: nothing published from now on can miss it.
                Ok(line) if line.contains("taking work") && line.contains("group") => break,
                Ok(_) => {}
                Err(_) => {
                    let status = worker.child.try_wait().ok().flatten();
                    panic!(
                        "`harbor worker` did not start (status {status:?}); output:\n{}",
                        worker.output()
                    )
                }
            }
        }
        worker
    }

    pub fn output(&self) -> String {
        self.output.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// SIGKILLs the worker and reaps it.
    pub fn kill(&mut self) {
        let killed = Command::new("kill")
            .args(["-KILL", &self.child.id().to_string()])
            .status()
            .expect("kill");
        assert!(killed.success(), "the worker was killed");
        let _ = self.child.wait();
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Which workers' output names `task`: the ones that ran it.
pub fn ran(workers: &[Worker], task: &str) -> Vec<usize> {
    (0..workers.len())
        .filter(|&i| {
            workers[i]
                .output()
                .lines()
                .any(|l| l.contains("took work") && l.contains(task))
        })
        .collect()
}
