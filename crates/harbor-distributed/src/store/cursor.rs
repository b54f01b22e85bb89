//! The ListTasks order (newest status first) and its opaque page cursor.

use harbor_a2a::Task;

use crate::Error;

/// The sort key of a task: status timestamp in nanoseconds since the epoch, then id.
/// Lists are in descending order of this key.
pub(crate) fn sort_key(task: &Task) -> (i128, &str) {
    let nanos = task
        .status
        .as_ref()
        .and_then(|s| s.timestamp.as_ref())
        .map_or(0, |t| {
            i128::from(t.seconds) * 1_000_000_000 + i128::from(t.nanos)
        });
    (nanos, task.id.as_str())
}

/// The position after the last task of a page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Cursor {
    nanos: i128,
    id: String,
}

impl Cursor {
    /// The cursor just past `task`.
    pub(crate) fn of(task: &Task) -> Self {
        let (nanos, id) = sort_key(task);
        Self {
            nanos,
            id: id.to_owned(),
        }
    }

    /// Whether `task` sorts strictly after this cursor (so belongs to a later page).
    pub(crate) fn is_after(&self, task: &Task) -> bool {
        let (nanos, id) = sort_key(task);
        (nanos, id) < (self.nanos, self.id.as_str())
    }

    /// The opaque token: `v1.<nanos>.<hex id>`.
    pub(crate) fn encode(&self) -> String {
        let hex: String = self.id.bytes().map(|b| format!("{b:02x}")).collect();
        format!("v1.{}.{hex}", self.nanos)
    }

    /// Parses a token; the empty token is the first page.
    pub(crate) fn parse(token: &str) -> Result<Option<Self>, Error> {
        if token.is_empty() {
            return Ok(None);
        }
        let invalid = || Error::InvalidArgument(format!("invalid page token {token:?}"));
        let rest = token.strip_prefix("v1.").ok_or_else(invalid)?;
        let (nanos, hex) = rest.split_once('.').ok_or_else(invalid)?;
        let nanos = nanos.parse::<i128>().map_err(|_| invalid())?;
        if hex.len() % 2 != 0 || hex.len() > 2048 {
            return Err(invalid());
        }
        let bytes = (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(hex.get(i..i + 2).unwrap_or("zz"), 16))
            .collect::<Result<Vec<u8>, _>>()
            .map_err(|_| invalid())?;
        let id = String::from_utf8(bytes).map_err(|_| invalid())?;
        Ok(Some(Self { nanos, id }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_garbage_is_refused() {
        let cursor = Cursor {
            nanos: 1_700_000_000_123_456_789,
            id: "tâche-1".into(),
        };
        assert_eq!(Cursor::parse(&cursor.encode()).ok().flatten(), Some(cursor));
        assert_eq!(Cursor::parse("").ok(), Some(None));
        for bad in ["x", "v1.", "v1.12", "v1.12.zz", "v1.a.00", "v1.1.0"] {
            assert!(Cursor::parse(bad).is_err(), "{bad:?} accepted");
        }
    }
}
