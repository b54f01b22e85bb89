//! The CPU time a local server's processes have used, from `/proc/<pid>/stat` (user plus
//! system time of all their threads), to report the server's CPU per request.

use std::time::Duration;

/// `/proc/<pid>/stat` counts in USER_HZ, which Linux fixes at 100 per second for every
/// user-visible interface.
const TICKS_PER_SECOND: u64 = 100;

/// The processes of one server (one, or a cluster's replicas and proxy).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Pids(Vec<u32>);

impl Pids {
    /// The user plus system CPU time the processes have used so far, added up.
    pub(super) fn used(&self) -> std::io::Result<Duration> {
        self.0
            .iter()
            .try_fold(Duration::ZERO, |sum, pid| Ok(sum + used(*pid)?))
    }
}

/// `PID` or `PID+PID+...`.
pub(super) fn parse_pids(text: &str) -> Result<Pids, String> {
    text.split('+')
        .map(|pid| {
            pid.trim()
                .parse::<u32>()
                .map_err(|_| format!("{pid:?} is not a process id (give PID or PID+PID+...)"))
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Pids)
}

/// The user plus system CPU time process `pid` has used so far.
pub(super) fn used(pid: u32) -> std::io::Result<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    parse(&stat).ok_or_else(|| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("/proc/{pid}/stat has no CPU times"),
        )
    })
}

/// utime and stime: fields 14 and 15, counted after the command name, which may hold
/// spaces and parentheses (so the fields start after its last `)`).
fn parse(stat: &str) -> Option<Duration> {
    let rest = &stat[stat.rfind(')')? + 1..];
    let mut fields = rest.split_whitespace().skip(11);
    let utime: u64 = fields.next()?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    let ticks = utime + stime;
    Some(Duration::from_millis(ticks * 1000 / TICKS_PER_SECOND))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_user_and_system_time() {
        let stat = "4242 (harbor (serve)) S 1 4242 4242 0 -1 4194560 1526 0 0 0 250 50 0 0 20 0 9 0 100 0 0";
        assert_eq!(parse(stat), Some(Duration::from_secs(3)));
        assert_eq!(parse("nonsense"), None);
    }

    #[test]
    fn several_pids_are_joined_by_plus() {
        assert_eq!(parse_pids("7"), Ok(Pids(vec![7])));
        assert_eq!(parse_pids("7+8+9"), Ok(Pids(vec![7, 8, 9])));
        assert!(parse_pids("7+x").is_err());
        assert!(parse_pids("").is_err());
        let me = std::process::id();
        assert!(Pids(vec![me, me]).used().is_ok());
        assert!(
            Pids(vec![me, u32::MAX]).used().is_err(),
            "one missing process fails the sum"
        );
    }

    #[test]
    fn this_process_has_used_some_time() {
        let mut spent = 0u64;
        for i in 0..2_000_000u64 {
            spent = spent.wrapping_add(i * i);
        }
        assert!(spent > 0);
        assert!(used(std::process::id()).is_ok());
    }
}
