//! Reading a driver URL's query parameters: typed values, one duration syntax, and refusals
//! that name the parameter.
//!
//! Every driver reads its URL the same way: take each parameter it knows by name and type,
//! then [`finish`](UrlParams::finish), which refuses whatever is left. Durations are written
//! with their unit (`drain_timeout=5s`, `500ms`, `2m`, `1h`, `7d`); the older spellings with
//! the unit in the name (`drain_timeout_ms=5000`) are still read, and a parse that used one
//! logs one deprecation warning naming the new spelling.
//!
//! Values of string parameters (names, tokens, passwords) never appear in an error or a log:
//! only typed values that failed to parse are quoted back.

use std::fmt::Write as _;
use std::str::FromStr;
use std::time::Duration;

use crate::Error;

/// The unit a deprecated duration parameter carried in its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OldUnit {
    /// `name_ms`: whole milliseconds.
    Millis,
    /// `name_s`: whole seconds.
    Seconds,
}

impl OldUnit {
    fn duration(self, n: u64) -> Duration {
        match self {
            Self::Millis => Duration::from_millis(n),
            Self::Seconds => Duration::from_secs(n),
        }
    }

    fn suffix(self) -> &'static str {
        match self {
            Self::Millis => "ms",
            Self::Seconds => "s",
        }
    }
}

/// The query parameters of one driver URL, taken one by one by name.
///
/// ```
/// use std::time::Duration;
///
/// use harbor_distributed::kit::{OldUnit, UrlParams};
///
/// let mut params = UrlParams::parse("demo bus URL", Some("prefix=p&drain_timeout=2s&dedup=false"))?;
/// assert_eq!(params.string("prefix")?.as_deref(), Some("p"));
/// assert_eq!(params.bool("dedup")?, Some(false));
/// let drain = params.duration_or_old("drain_timeout", "drain_timeout_ms", OldUnit::Millis)?;
/// assert_eq!(drain, Some(Duration::from_secs(2)));
/// assert_eq!(params.integer::<usize>("max_payload")?, None);
/// params.finish()?;
/// # Ok::<(), harbor_distributed::Error>(())
/// ```
#[derive(Debug)]
pub struct UrlParams {
    /// What the URL is, for messages: `"redis bus URL"`.
    what: &'static str,
    /// The pairs not taken yet, decoded, in URL order.
    pairs: Vec<(String, String)>,
    /// Every name the driver asked for, for the message about an unknown one.
    known: Vec<&'static str>,
    /// The deprecated spellings this parse read, with their new form.
    deprecated: Vec<String>,
}

impl UrlParams {
    /// Decodes `query` (the part after `?`, `%`-escapes and `+` decoded); `what` names the
    /// URL in messages (`"redis bus URL"`).
    pub fn parse(what: &'static str, query: Option<&str>) -> Result<Self, Error> {
        let pairs = url::form_urlencoded::parse(query.unwrap_or_default().as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        Ok(Self {
            what,
            pairs,
            known: Vec::new(),
            deprecated: Vec::new(),
        })
    }

    /// Takes the value of `name`, refusing a second occurrence.
    fn take(&mut self, name: &'static str) -> Result<Option<String>, Error> {
        if !self.known.contains(&name) {
            self.known.push(name);
        }
        self.take_unlisted(name)
    }

    /// [`take`](Self::take) for a deprecated name, which the list of known names leaves out.
    fn take_unlisted(&mut self, name: &'static str) -> Result<Option<String>, Error> {
        let mut found = None;
        let mut i = 0;
        while i < self.pairs.len() {
            if self.pairs[i].0 == name {
                let (_, value) = self.pairs.remove(i);
                if found.replace(value).is_some() {
                    return Err(self.error(name, "is given more than once"));
                }
            } else {
                i += 1;
            }
        }
        Ok(found)
    }

    /// `problem` follows the name: ` is …`, or `="value" is …` for a bad typed value.
    fn error(&self, name: &str, problem: &str) -> Error {
        let gap = if problem.starts_with('=') { "" } else { " " };
        Error::InvalidConfig(format!("{} parameter {name}{gap}{problem}", self.what))
    }

    /// A string. Its value is never quoted in an error or log, so secrets may be read here.
    pub fn string(&mut self, name: &'static str) -> Result<Option<String>, Error> {
        self.take(name)
    }

    /// A non-empty string: an empty value is refused.
    pub fn non_empty(&mut self, name: &'static str) -> Result<Option<String>, Error> {
        match self.take(name)? {
            Some(value) if value.is_empty() => Err(self.error(name, "must not be empty")),
            other => Ok(other),
        }
    }

    /// `true`/`false` (also `1`/`0`, `yes`/`no`).
    pub fn bool(&mut self, name: &'static str) -> Result<Option<bool>, Error> {
        let Some(value) = self.take(name)? else {
            return Ok(None);
        };
        match value.as_str() {
            "true" | "1" | "yes" => Ok(Some(true)),
            "false" | "0" | "no" => Ok(Some(false)),
            _ => Err(self.error(name, &format!("={value:?} must be true or false"))),
        }
    }

    /// A whole number of type `T` (`u32`, `u64`, `usize`, …).
    pub fn integer<T: FromStr>(&mut self, name: &'static str) -> Result<Option<T>, Error> {
        let Some(value) = self.take(name)? else {
            return Ok(None);
        };
        match value.parse::<T>() {
            Ok(n) => Ok(Some(n)),
            Err(_) => Err(self.error(name, &format!("={value:?} is not a whole number"))),
        }
    }

    /// A duration written with its unit: `250ms`, `5s`, `2m`, `1h`, `7d`, or `0`. A bare
    /// number is read as milliseconds, with a deprecation warning (write the unit).
    pub fn duration(&mut self, name: &'static str) -> Result<Option<Duration>, Error> {
        let Some(value) = self.take(name)? else {
            return Ok(None);
        };
        if let Some(d) = parse_duration(&value) {
            return Ok(Some(d));
        }
        match value.parse::<u64>() {
            Ok(n) => {
                self.deprecated
                    .push(format!("{name}={value} (write {name}={value}ms)"));
                Ok(Some(Duration::from_millis(n)))
            }
            Err(_) => Err(self.error(
                name,
                &format!("={value:?} is not a duration such as 500ms, 5s, 2m, 1h or 7d"),
            )),
        }
    }

    /// A duration under its name, or under its deprecated name `old` (a whole number in
    /// `old_unit`, as in `drain_timeout_ms=5000`). Giving both is refused.
    pub fn duration_or_old(
        &mut self,
        name: &'static str,
        old: &'static str,
        old_unit: OldUnit,
    ) -> Result<Option<Duration>, Error> {
        let new = self.duration(name)?;
        let Some(value) = self.take_unlisted(old)? else {
            return Ok(new);
        };
        if new.is_some() {
            return Err(self.error(
                old,
                &format!("is the old spelling of {name}: give one of them"),
            ));
        }
        let n = value.parse::<u64>().map_err(|_| {
            self.error(
                old,
                &format!("={value:?} is not a whole number (or write {name}=5s)"),
            )
        })?;
        let suffix = old_unit.suffix();
        self.deprecated
            .push(format!("{old}={value} (write {name}={value}{suffix})"));
        Ok(Some(old_unit.duration(n)))
    }

    /// Takes every pair whose name is in `names`, in URL order (repeats included): the
    /// parameters a driver hands on to its engine's client unread.
    pub fn pass_through(&mut self, names: &[&'static str]) -> Vec<(String, String)> {
        for name in names {
            if !self.known.contains(name) {
                self.known.push(name);
            }
        }
        let (taken, kept) = std::mem::take(&mut self.pairs)
            .into_iter()
            .partition(|(k, _)| names.contains(&k.as_str()));
        self.pairs = kept;
        taken
    }

    /// Refuses any parameter not taken (naming it and the known ones), and logs one
    /// warning if the URL used deprecated spellings.
    pub fn finish(self) -> Result<(), Error> {
        if let Some((name, _)) = self.pairs.first() {
            return Err(Error::InvalidConfig(format!(
                "unknown {} parameter {name:?} (known: {})",
                self.what,
                self.known.join(", ")
            )));
        }
        if !self.deprecated.is_empty() {
            let mut list = String::new();
            for (i, d) in self.deprecated.iter().enumerate() {
                let _ = write!(list, "{}{d}", if i == 0 { "" } else { ", " });
            }
            tracing::warn!(
                url = self.what,
                "deprecated {} parameters, still read: {list}",
                self.what
            );
        }
        Ok(())
    }
}

/// Parses a duration with its unit: a whole number followed by `ms`, `s`, `m`, `h` or `d`
/// (`500ms`, `5s`, `2m`, `1h`, `7d`), or `0`. `None` for anything else, a bare non-zero
/// number included.
///
/// ```
/// use std::time::Duration;
///
/// use harbor_distributed::kit::parse_duration;
///
/// assert_eq!(parse_duration("2m"), Some(Duration::from_secs(120)));
/// assert_eq!(parse_duration("500ms"), Some(Duration::from_millis(500)));
/// assert_eq!(parse_duration("5000"), None);
/// ```
pub fn parse_duration(value: &str) -> Option<Duration> {
    if value == "0" {
        return Some(Duration::ZERO);
    }
    let split = value.find(|c: char| !c.is_ascii_digit())?;
    let (number, unit) = value.split_at(split);
    let n: u64 = number.parse().ok()?;
    let ms_per_unit: u64 = match unit {
        "ms" => 1,
        "s" => 1_000,
        "m" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        _ => return None,
    };
    n.checked_mul(ms_per_unit).map(Duration::from_millis)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(query: &str) -> UrlParams {
        UrlParams::parse("test bus URL", Some(query)).expect("parses")
    }

    fn message(result: Result<impl std::fmt::Debug, Error>) -> String {
        match result {
            Err(Error::InvalidConfig(m)) => m,
            other => panic!("expected InvalidConfig, got {other:?}"),
        }
    }

    #[test]
    fn each_kind_of_value_is_read() {
        let mut p = params("name=a%20b&on=true&off=0&n=42&d=2m&e=");
        assert_eq!(p.string("name").expect("ok").as_deref(), Some("a b"));
        assert_eq!(p.bool("on").expect("ok"), Some(true));
        assert_eq!(p.bool("off").expect("ok"), Some(false));
        assert_eq!(p.integer::<u64>("n").expect("ok"), Some(42));
        assert_eq!(p.duration("d").expect("ok"), Some(Duration::from_secs(120)));
        assert_eq!(p.string("e").expect("ok").as_deref(), Some(""));
        assert_eq!(p.integer::<usize>("absent").expect("ok"), None);
        p.finish().expect("all taken");
    }

    #[test]
    fn durations_take_every_unit() {
        for (text, ms) in [
            ("0", 0),
            ("500ms", 500),
            ("5s", 5_000),
            ("2m", 120_000),
            ("1h", 3_600_000),
            ("7d", 604_800_000),
        ] {
            assert_eq!(
                parse_duration(text),
                Some(Duration::from_millis(ms)),
                "{text}"
            );
        }
        for bad in [
            "",
            "s",
            "5",
            "5 s",
            "1.5s",
            "-1s",
            "5sec",
            "99999999999999999999d",
        ] {
            assert_eq!(parse_duration(bad), None, "{bad}");
        }
    }

    #[test]
    fn unknown_parameters_are_refused_by_name() {
        let mut p = params("prefix=x&colour=red");
        p.string("prefix").expect("ok");
        let m = message(p.finish());
        assert!(
            m.contains("\"colour\"") && m.contains("known: prefix"),
            "{m}"
        );
        assert!(!m.contains("red"), "{m}");
    }

    #[test]
    fn bad_values_and_repeats_name_the_parameter() {
        let m = message(params("drain_timeout=soon").duration("drain_timeout"));
        assert!(m.contains("drain_timeout") && m.contains("soon"), "{m}");
        let m = message(params("d=5x").duration("d"));
        assert!(m.contains("d=\"5x\""), "{m}");
        let m = message(params("n=x").integer::<u32>("n"));
        assert!(m.contains("n=\"x\""), "{m}");
        let m = message(params("b=maybe").bool("b"));
        assert!(m.contains("b=\"maybe\""), "{m}");
        let m = message(params("token=s1&token=s2").string("token"));
        assert!(m.contains("token") && m.contains("more than once"), "{m}");
        assert!(!m.contains("s1") && !m.contains("s2"), "{m}");
        let m = message(params("p=").non_empty("p"));
        assert!(m.contains("empty"), "{m}");
    }

    #[test]
    fn old_spellings_are_read_as_the_new_ones() {
        let old = params("drain_timeout_ms=5000")
            .duration_or_old("drain_timeout", "drain_timeout_ms", OldUnit::Millis)
            .expect("ok");
        let new = params("drain_timeout=5s")
            .duration_or_old("drain_timeout", "drain_timeout_ms", OldUnit::Millis)
            .expect("ok");
        assert_eq!(old, Some(Duration::from_secs(5)));
        assert_eq!(old, new);
        let mut p = params("max_age_s=600");
        let age = p.duration_or_old("max_age", "max_age_s", OldUnit::Seconds);
        assert_eq!(age.expect("ok"), Some(Duration::from_secs(600)));
        assert_eq!(p.deprecated, ["max_age_s=600 (write max_age=600s)"]);
        p.finish().expect("only deprecated");
        let mut p = params("nope=1");
        let _ = p.duration_or_old("max_age", "max_age_s", OldUnit::Seconds);
        let m = message(p.finish());
        assert!(m.contains("known: max_age)"), "{m}");
        let bare = params("poll_interval=250").duration("poll_interval");
        assert_eq!(bare.expect("ok"), Some(Duration::from_millis(250)));
        let both = params("drain_timeout=5s&drain_timeout_ms=5000").duration_or_old(
            "drain_timeout",
            "drain_timeout_ms",
            OldUnit::Millis,
        );
        assert!(message(both).contains("give one of them"));
        let m =
            message(params("retry_ms=5s").duration_or_old("retry", "retry_ms", OldUnit::Millis));
        assert!(m.contains("retry_ms") && m.contains("retry=5s"), "{m}");
    }

    #[test]
    fn pass_through_keeps_order_and_repeats() {
        let mut p = params("host=a&schema=s&host=b&sslmode=disable");
        assert_eq!(p.string("schema").expect("ok").as_deref(), Some("s"));
        let passed = p.pass_through(&["host", "sslmode"]);
        let names: Vec<_> = passed.iter().map(|(k, v)| format!("{k}={v}")).collect();
        assert_eq!(names, ["host=a", "host=b", "sslmode=disable"]);
        p.finish().expect("all taken");
    }
}
