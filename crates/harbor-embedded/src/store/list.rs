//! ListTasks over the index: one range per query, read newest first.
//!
//! The query picks the narrowest facet (context, else state, else all); `status_after` is
//! the range's lower bound and the page cursor its upper bound, so a page reads only its own
//! rows plus the rows a second filter skips (state, when a context is also given). The
//! total is the owner's stored count when nothing filters, else a count over the index
//! range: keys only, no task is decoded for it.

use std::ops::Bound;

use harbor_a2a::Task;
use harbor_distributed::{Error, Owner, TaskPage, TaskQuery};
use redb::{Database, ReadTransaction, ReadableDatabase};

use harbor_distributed::store::{PageCursor, check_page_size, fits_page};

use super::cursor::nanos_of;
use super::tables::{COUNTS, Facet, INDEX, IndexValue, TASKS, read_sized};
use crate::errors::backend;

/// The rows of one facet of one owner between two positions.
struct Span<'a> {
    tenant: &'a str,
    user: &'a str,
    facet: String,
    /// Inclusive lower bound on the status nanos (`status_after`), if any.
    lower: Option<i128>,
    /// Exclusive upper position (the page cursor), if any.
    upper: Option<&'a PageCursor>,
}

impl Span<'_> {
    /// Calls `visit(nanos, id, value)` on each row, newest first, until it returns false.
    fn scan(
        &self,
        txn: &ReadTransaction,
        mut visit: impl FnMut(i128, &str, IndexValue) -> bool,
    ) -> Result<(), Error> {
        let (t, u, f) = (self.tenant, self.user, self.facet.as_str());
        let lower = self.lower.unwrap_or(i128::MIN);
        // `facet + "\0"` is the smallest facet after ours: its first key ends our range.
        let next_facet = format!("{f}\0");
        let end = match self.upper {
            // A cursor id is never empty, so the range is empty exactly when it sorts below.
            Some(cursor) if cursor.nanos < lower => return Ok(()),
            Some(cursor) => (t, u, f, cursor.nanos, cursor.id.as_str()),
            None => (t, u, next_facet.as_str(), i128::MIN, ""),
        };
        let index = txn.open_table(INDEX).map_err(backend)?;
        let range = index
            .range::<(&str, &str, &str, i128, &str)>((
                Bound::Included((t, u, f, lower, "")),
                Bound::Excluded(end),
            ))
            .map_err(backend)?;
        for entry in range.rev() {
            let (key, value) = entry.map_err(backend)?;
            let (_, _, _, nanos, id) = key.value();
            if !visit(nanos, id, value.value()) {
                break;
            }
        }
        Ok(())
    }
}

pub(super) fn list(db: &Database, owner: &Owner, query: &TaskQuery) -> Result<TaskPage, Error> {
    let page_size = check_page_size(query.page_size)?;
    let cursor = PageCursor::parse(&query.page_token)?;
    let facet = match (&query.context_id, query.status) {
        (Some(context), _) => Facet::Context(context),
        (None, Some(state)) => Facet::State(state as i32),
        (None, None) => Facet::All,
    };
    let state_filter = match facet {
        Facet::Context(_) => query.status.map(|s| s as i32),
        _ => None,
    };
    let lower = query.status_after.map(nanos_of);
    // Only rows with a real timestamp pass `status_after` (the index keeps 0 for none).
    let passes = |(state, stamped): IndexValue| {
        state_filter.is_none_or(|s| s == state) && (lower.is_none() || stamped)
    };
    let txn = db.begin_read().map_err(backend)?;
    let mut span = Span {
        tenant: &owner.tenant,
        user: &owner.user,
        facet: facet.key(),
        lower,
        upper: cursor.as_ref(),
    };

    // One row past the page tells whether there is a next page.
    let mut ids: Vec<(i128, String)> = Vec::with_capacity(page_size + 1);
    span.scan(&txn, |nanos, id, value| {
        if passes(value) {
            ids.push((nanos, id.to_owned()));
        }
        ids.len() <= page_size
    })?;
    let more = ids.len() > page_size;
    ids.truncate(page_size);

    let total_size = if facet == Facet::All && lower.is_none() {
        let counts = txn.open_table(COUNTS).map_err(backend)?;
        let count = counts
            .get((&*owner.tenant, &*owner.user))
            .map_err(backend)?;
        count.map_or(0, |g| g.value())
    } else {
        span.upper = None;
        let mut total = 0u64;
        span.scan(&txn, |_, _, value| {
            total += u64::from(passes(value));
            true
        })?;
        total
    };

    let tasks_table = txn.open_table(TASKS).map_err(backend)?;
    let mut tasks: Vec<Task> = Vec::with_capacity(ids.len());
    let (mut taken, mut consumed) = (0usize, 0usize);
    for (_, id) in &ids {
        // The read transaction is a snapshot: an index row always has its task row.
        let Some((size, task)) = read_sized(&tasks_table, id)? else {
            consumed += 1;
            continue;
        };
        if !fits_page(query.max_bytes, tasks.len(), taken, size) {
            break;
        }
        consumed += 1;
        taken += size;
        match task {
            Ok(task) => tasks.push(task),
            // Logged by the decoder; one unreadable task never fails the page of others.
            Err(Error::Unreadable { .. }) => {}
            Err(other) => return Err(other),
        }
    }
    // Cut short (by the byte budget) or followed by more rows: the next page starts after
    // the last row this one consumed.
    let more = more || consumed < ids.len();
    ids.truncate(consumed);
    let next_page_token = match ids.pop() {
        Some((nanos, id)) if more => PageCursor { nanos, id }.encode(),
        _ => String::new(),
    };
    Ok(TaskPage {
        tasks,
        next_page_token,
        total_size,
    })
}
