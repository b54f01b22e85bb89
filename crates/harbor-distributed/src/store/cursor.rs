//! The ListTasks order (newest status first) and its opaque page cursor, shared by every
//! store so that page tokens mean the same everywhere.

use harbor_a2a::Task;

use crate::Error;

/// The sort key of a task: status timestamp in nanoseconds since the epoch (0 without
/// one), then id. Lists are in descending order of this key.
pub fn sort_key(task: &Task) -> (i128, &str) {
    let nanos = task
        .status
        .as_ref()
        .and_then(|s| s.timestamp.as_ref())
        .map_or(0, |t| {
            i128::from(t.seconds) * 1_000_000_000 + i128::from(t.nanos)
        });
    (nanos, task.id.as_str())
}

/// The position after the last task of a page: the next page holds the tasks whose
/// [`sort_key`] is strictly smaller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageCursor {
    /// The status timestamp of the last task, in nanoseconds since the epoch.
    pub nanos: i128,
    /// The id of the last task.
    pub id: String,
}

impl PageCursor {
    /// The cursor just past `task`.
    pub fn of(task: &Task) -> Self {
        let (nanos, id) = sort_key(task);
        Self {
            nanos,
            id: id.to_owned(),
        }
    }

    /// Whether `task` sorts strictly after this cursor (so belongs to a later page).
    pub fn is_after(&self, task: &Task) -> bool {
        let (nanos, id) = sort_key(task);
        (nanos, id) < (self.nanos, self.id.as_str())
    }

    /// The opaque token: `v1.<nanos>.<hex id>`.
    pub fn encode(&self) -> String {
        let hex: String = self.id.bytes().map(|b| format!("{b:02x}")).collect();
        format!("v1.{}.{hex}", self.nanos)
    }

    /// Parses a token; the empty token is the first page.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidArgument`] for anything [`encode`](Self::encode) cannot have made.
    pub fn parse(token: &str) -> Result<Option<Self>, Error> {
        if token.is_empty() {
            return Ok(None);
        }
        let invalid = || Error::InvalidArgument(format!("invalid page token {token:?}"));
        let rest = token.strip_prefix("v1.").ok_or_else(invalid)?;
        let (nanos, hex) = rest.split_once('.').ok_or_else(invalid)?;
        let nanos = nanos.parse::<i128>().map_err(|_| invalid())?;
        if hex.is_empty()
            || hex.len() % 2 != 0
            || hex.len() > 2048
            || !hex.bytes().all(|b| b.is_ascii_hexdigit())
        {
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
        let cursor = PageCursor {
            nanos: -1_700_000_000_123_456_789,
            id: "tâche-1".into(),
        };
        assert_eq!(
            PageCursor::parse(&cursor.encode()).ok().flatten(),
            Some(cursor)
        );
        assert_eq!(PageCursor::parse("").ok(), Some(None));
        for bad in [
            "x", "v1.", "v1.12", "v1.12.", "v1.12.zz", "v1.a.00", "v1.1.0", "v1.1.+f", "v1.1.ff",
            "v1.1.é0",
        ] {
            assert!(PageCursor::parse(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn page_sizes_outside_the_range_are_refused() {
        use crate::store::{MAX_PAGE_SIZE, check_page_size};
        assert!(check_page_size(0).is_err());
        assert!(check_page_size(MAX_PAGE_SIZE + 1).is_err());
        assert!(check_page_size(u32::MAX).is_err());
        assert_eq!(check_page_size(MAX_PAGE_SIZE).ok(), Some(100));
    }
}
