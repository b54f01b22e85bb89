//! What every throwaway server needs: a free port, and a wait with a deadline.

use std::future::Future;
use std::time::Duration;

/// A loopback port nothing listens on (the OS's pick; free again once this returns).
pub fn free_port() -> u16 {
    match std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()) {
        Ok(addr) => addr.port(),
        Err(error) => panic!("no free loopback port: {error}"),
    }
}

/// Waits until `ready` holds, checking every 20 ms; fails the test after `deadline`,
/// naming `what` it waited for.
pub async fn wait_until<F, Fut>(deadline: Duration, what: &str, mut ready: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let until = tokio::time::Instant::now() + deadline;
    while !ready().await {
        assert!(
            tokio::time::Instant::now() < until,
            "{what} did not happen within {deadline:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
