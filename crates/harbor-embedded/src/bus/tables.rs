//! The bus tables of the data file, and the stored form of a consumer group.

use harbor_distributed::{Error, IdentityScope};
use redb::{Table, TableDefinition, WriteTransaction};

use crate::errors::backend;

/// Sequence → envelope record (see [`record`](super::record)).
pub(super) const LOG: TableDefinition<u64, &[u8]> = TableDefinition::new("harbor_bus_log");
/// Dedup key `(task_id, edge, event_id)` → sequence of the stored envelope.
pub(super) const DEDUP: TableDefinition<&[u8], u64> = TableDefinition::new("harbor_bus_dedup");
/// Group key → group row ([`GroupRow`]).
pub(super) const GROUPS: TableDefinition<&str, &[u8]> = TableDefinition::new("harbor_bus_groups");
/// (group key, sequence) of envelopes settled above the group's floor.
pub(super) const SETTLED: TableDefinition<(&str, u64), ()> =
    TableDefinition::new("harbor_bus_settled");
/// (group key, sequence) → deliveries made, for unsettled envelopes delivered twice or more.
pub(super) const ATTEMPTS: TableDefinition<(&str, u64), u32> =
    TableDefinition::new("harbor_bus_attempts");

/// The bus tables of one write transaction, each opened on first use (a commit that
/// only settles deliveries never opens the log).
pub(super) struct Tables<'txn> {
    txn: &'txn WriteTransaction,
    log: Option<Table<'txn, u64, &'static [u8]>>,
    dedup: Option<Table<'txn, &'static [u8], u64>>,
    groups: Option<Table<'txn, &'static str, &'static [u8]>>,
    settled: Option<Table<'txn, (&'static str, u64), ()>>,
    attempts: Option<Table<'txn, (&'static str, u64), u32>>,
}

/// Opens `slot`'s table on first use.
fn lazy<'a, 'txn, K: redb::Key + 'static, V: redb::Value + 'static>(
    txn: &'txn WriteTransaction,
    slot: &'a mut Option<Table<'txn, K, V>>,
    definition: TableDefinition<K, V>,
) -> Result<&'a mut Table<'txn, K, V>, Error> {
    if slot.is_none() {
        *slot = Some(txn.open_table(definition).map_err(backend)?);
    }
    match slot {
        Some(table) => Ok(table),
        None => unreachable!("opened above"),
    }
}

impl<'txn> Tables<'txn> {
    pub(super) fn new(txn: &'txn WriteTransaction) -> Self {
        Self {
            txn,
            log: None,
            dedup: None,
            groups: None,
            settled: None,
            attempts: None,
        }
    }

    /// Creates every table that is missing.
    pub(super) fn create_all(txn: &'txn WriteTransaction) -> Result<(), Error> {
        let mut tables = Self::new(txn);
        tables.log()?;
        tables.dedup()?;
        tables.groups()?;
        tables.settled()?;
        tables.attempts()?;
        Ok(())
    }

    pub(super) fn log(&mut self) -> Result<&mut Table<'txn, u64, &'static [u8]>, Error> {
        lazy(self.txn, &mut self.log, LOG)
    }

    pub(super) fn dedup(&mut self) -> Result<&mut Table<'txn, &'static [u8], u64>, Error> {
        lazy(self.txn, &mut self.dedup, DEDUP)
    }

    pub(super) fn groups(
        &mut self,
    ) -> Result<&mut Table<'txn, &'static str, &'static [u8]>, Error> {
        lazy(self.txn, &mut self.groups, GROUPS)
    }

    pub(super) fn settled(&mut self) -> Result<&mut Table<'txn, (&'static str, u64), ()>, Error> {
        lazy(self.txn, &mut self.settled, SETTLED)
    }

    pub(super) fn attempts(&mut self) -> Result<&mut Table<'txn, (&'static str, u64), u32>, Error> {
        lazy(self.txn, &mut self.attempts, ATTEMPTS)
    }
}

/// The key of group `name` in `scope`: groups are named per scope.
pub(super) fn group_key(name: &str, scope: &IdentityScope) -> String {
    match scope {
        IdentityScope::Tenant(t) => format!("t{}:{t}/{name}", t.len()),
        IdentityScope::Admin => format!("a:/{name}"),
    }
}

/// What is stored of a consumer group.
///
/// Every envelope of the group below `floor` is settled. Between `floor` and `cursor`,
/// envelopes are settled when [`SETTLED`] says so, and otherwise were delivered
/// [`ATTEMPTS`] times (once when absent). From `cursor` on, nothing was delivered yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct GroupRow {
    pub(super) name: String,
    pub(super) scope: IdentityScope,
    pub(super) edges: Vec<String>,
    pub(super) cursor: u64,
    pub(super) floor: u64,
}

const GROUP_VERSION: u8 = 1;

fn put(out: &mut Vec<u8>, s: &str) {
    out.extend_from_slice(&(s.len() as u32).to_le_bytes());
    out.extend_from_slice(s.as_bytes());
}

impl GroupRow {
    pub(super) fn encode(&self) -> Vec<u8> {
        let mut out = vec![GROUP_VERSION];
        out.extend_from_slice(&self.cursor.to_le_bytes());
        out.extend_from_slice(&self.floor.to_le_bytes());
        put(&mut out, &self.name);
        match &self.scope {
            IdentityScope::Admin => out.push(0),
            IdentityScope::Tenant(t) => {
                out.push(1);
                put(&mut out, t);
            }
        }
        out.extend_from_slice(&(self.edges.len() as u32).to_le_bytes());
        for e in &self.edges {
            put(&mut out, e);
        }
        out
    }

    pub(super) fn decode(bytes: &[u8]) -> Result<Self, String> {
        let mut r = RowReader { bytes };
        if r.take(1)?[0] != GROUP_VERSION {
            return Err("group row has an unknown version".to_owned());
        }
        let cursor = r.u64()?;
        let floor = r.u64()?;
        let name = r.string()?;
        let scope = match r.take(1)?[0] {
            0 => IdentityScope::Admin,
            1 => IdentityScope::Tenant(r.string()?),
            _ => return Err("group row has an unknown scope".to_owned()),
        };
        let n = r.u32()?;
        let edges = (0..n).map(|_| r.string()).collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            name,
            scope,
            edges,
            cursor,
            floor,
        })
    }
}

struct RowReader<'a> {
    bytes: &'a [u8],
}

impl<'a> RowReader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        if self.bytes.len() < n {
            return Err("group row is truncated".to_owned());
        }
        let (head, rest) = self.bytes.split_at(n);
        self.bytes = rest;
        Ok(head)
    }

    fn u32(&mut self) -> Result<u32, String> {
        let mut b = [0u8; 4];
        b.copy_from_slice(self.take(4)?);
        Ok(u32::from_le_bytes(b))
    }

    fn u64(&mut self) -> Result<u64, String> {
        let mut b = [0u8; 8];
        b.copy_from_slice(self.take(8)?);
        Ok(u64::from_le_bytes(b))
    }

    fn string(&mut self) -> Result<String, String> {
        let n = self.u32()? as usize;
        let bytes = self.take(n)?;
        String::from_utf8(bytes.to_vec()).map_err(|e| format!("group row: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn group_rows_round_trip_and_keys_differ_per_scope() {
        let row = GroupRow {
            name: "g".into(),
            scope: IdentityScope::Tenant("acme".into()),
            edges: vec!["a.*".into(), "b".into()],
            cursor: 7,
            floor: 3,
        };
        assert_eq!(GroupRow::decode(&row.encode()), Ok(row.clone()));
        let admin = GroupRow {
            scope: IdentityScope::Admin,
            ..row.clone()
        };
        assert_eq!(GroupRow::decode(&admin.encode()), Ok(admin));
        assert!(GroupRow::decode(&row.encode()[..10]).is_err());
        assert_ne!(
            group_key("g", &IdentityScope::Admin),
            group_key("g", &IdentityScope::Tenant("a".into()))
        );
    }
}
