//! When to try a webhook again: what an answer means, and how long to wait.

use std::time::{Duration, SystemTime};

use super::PushConfig;

/// What one POST's outcome means for the delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Verdict {
    /// 2xx: delivered.
    Delivered,
    /// Worth another try, at the earliest after the server's `Retry-After`, if it gave one.
    Retry(Option<Duration>),
    /// Trying again cannot help (a 4xx other than 408 and 429, a redirect, a refused
    /// target): the delivery is dead.
    Permanent,
}

/// The verdict on an HTTP answer with `status`; `retry_after` is its `Retry-After`
/// header, honoured on 429 and 503.
pub(super) fn judge(status: u16, retry_after: Option<&str>) -> Verdict {
    match status {
        200..=299 => Verdict::Delivered,
        429 | 503 => Verdict::Retry(retry_after.and_then(parse_retry_after)),
        408 | 500..=599 => Verdict::Retry(None),
        _ => Verdict::Permanent,
    }
}

/// `Retry-After` as seconds or an HTTP date (RFC 9110 §10.2.3); a date in the past is 0.
pub(super) fn parse_retry_after(value: &str) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(SystemTime::now()).unwrap_or_default())
}

/// The wait before attempt `attempt + 1` after `attempt` failures (1 for the first
/// failure): exponential from `first_retry`, capped at `max_backoff`, with full jitter (a
/// uniform draw below the cap, so many failing deliveries do not retry in step). `draw`
/// is a number in `[0, 1)`.
pub(super) fn backoff(config: &PushConfig, attempt: u32, draw: f64) -> Duration {
    let exponent = attempt.saturating_sub(1).min(30);
    let ceiling = config
        .first_retry
        .saturating_mul(1u32 << exponent)
        .min(config.max_backoff);
    ceiling.mul_f64(draw.clamp(0.0, 1.0))
}

/// Whether a delivery failing since `since`, after `attempts` failures, should give up.
pub(super) fn exhausted(config: &PushConfig, attempts: u32, since: SystemTime) -> bool {
    attempts >= config.max_attempts
        || SystemTime::now()
            .duration_since(since)
            .is_ok_and(|failing| failing >= config.give_up_after)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_are_judged_as_the_protocol_says() {
        assert_eq!(judge(200, None), Verdict::Delivered);
        assert_eq!(judge(204, None), Verdict::Delivered);
        for status in [500, 502, 504, 408] {
            assert_eq!(judge(status, None), Verdict::Retry(None), "{status}");
        }
        assert_eq!(
            judge(429, Some("7")),
            Verdict::Retry(Some(Duration::from_secs(7)))
        );
        assert_eq!(
            judge(503, Some("2")),
            Verdict::Retry(Some(Duration::from_secs(2)))
        );
        assert_eq!(
            judge(500, Some("9")),
            Verdict::Retry(None),
            "only 429 and 503 name a wait"
        );
        for status in [301, 302, 400, 401, 403, 404, 410, 422] {
            assert_eq!(judge(status, None), Verdict::Permanent, "{status}");
        }
    }

    #[test]
    fn retry_after_takes_seconds_and_dates() {
        assert_eq!(parse_retry_after(" 120 "), Some(Duration::from_secs(120)));
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"),
            Some(Duration::ZERO),
            "a date in the past means now"
        );
        let soon = httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(30));
        let wait = parse_retry_after(&soon).expect("a date");
        assert!(
            wait > Duration::from_secs(25) && wait <= Duration::from_secs(30),
            "{wait:?}"
        );
        assert_eq!(parse_retry_after("soon"), None);
    }

    #[test]
    fn backoff_doubles_up_to_the_cap_with_full_jitter() {
        let config = PushConfig::default();
        assert_eq!(
            backoff(&config, 1, 0.999_999),
            config.first_retry.mul_f64(0.999_999)
        );
        assert_eq!(backoff(&config, 3, 0.5), config.first_retry * 2);
        assert_eq!(backoff(&config, 40, 1.0), config.max_backoff, "capped");
        assert_eq!(
            backoff(&config, 5, 0.0),
            Duration::ZERO,
            "full jitter reaches zero"
        );
    }

    #[test]
    fn deliveries_give_up_by_attempts_or_age() {
        let config = PushConfig {
            max_attempts: 3,
            give_up_after: Duration::from_secs(60),
            ..PushConfig::default()
        };
        let now = SystemTime::now();
        assert!(!exhausted(&config, 2, now));
        assert!(exhausted(&config, 3, now));
        assert!(exhausted(&config, 1, now - Duration::from_secs(61)));
    }
}
