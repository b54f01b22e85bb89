//! Opening a data directory: one redb file holding the bus log and the task store.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use harbor_distributed::Error;
use redb::{Database, DatabaseError, ReadableDatabase, StorageError, TableDefinition, TableError};

use crate::bus::{EmbeddedBus, EmbeddedBusConfig};
use crate::errors::backend;
use crate::store::{EmbeddedTaskStore, StoreConfig};

/// The database file inside the data directory.
pub const FILE_NAME: &str = "harbor.redb";

/// What this crate writes into the `meta` table of every file it creates, so a redb file
/// made by anything else is refused instead of being mixed with ours.
const FORMAT: &str = "harbor-embedded/1";

const META: TableDefinition<&str, &str> = TableDefinition::new("harbor_meta");

/// Settings of an embedded engine.
#[derive(Debug, Clone, PartialEq)]
pub struct EmbeddedConfig {
    /// The data directory; created when missing. Default is `./harbor-data`.
    pub data_dir: PathBuf,
    /// Memory redb may use as its page cache, in bytes. Default is 64 MiB.
    pub cache_size: usize,
    /// Settings of the bus.
    pub bus: EmbeddedBusConfig,
    /// Settings of the task store.
    pub store: StoreConfig,
}

impl Default for EmbeddedConfig {
    fn default() -> Self {
        Self {
            data_dir: PathBuf::from("harbor-data"),
            cache_size: 64 * 1024 * 1024,
            bus: EmbeddedBusConfig::default(),
            store: StoreConfig::default(),
        }
    }
}

impl EmbeddedConfig {
    /// The default settings with `data_dir` as the directory.
    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        Self {
            data_dir: data_dir.into(),
            ..Self::default()
        }
    }
}

/// An open data directory: its [`EmbeddedBus`] and [`EmbeddedTaskStore`] share one file.
///
/// Only one process may open a directory at a time; a second open fails with
/// [`Error::InvalidConfig`] naming the directory.
#[derive(Clone)]
pub struct Embedded {
    dir: PathBuf,
    bus: Arc<EmbeddedBus>,
    tasks: Arc<EmbeddedTaskStore>,
}

impl fmt::Debug for Embedded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Embedded")
            .field("dir", &self.dir)
            .finish_non_exhaustive()
    }
}

impl Embedded {
    /// Opens (or creates) the data directory `config.data_dir`.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidConfig`] when the directory cannot be created, is in use by another
    /// process, or holds a file that is not a Harbor database (corrupt or foreign);
    /// [`Error::Backend`] for other I/O failures.
    pub fn open(config: EmbeddedConfig) -> Result<Self, Error> {
        let db = Arc::new(open_database(&config.data_dir, config.cache_size)?);
        let bus = Arc::new(EmbeddedBus::new(Arc::clone(&db), config.bus)?);
        let tasks = Arc::new(EmbeddedTaskStore::new(db, config.store)?);
        Ok(Self {
            dir: config.data_dir,
            bus,
            tasks,
        })
    }

    /// The data directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The bus of this directory.
    pub fn bus(&self) -> Arc<EmbeddedBus> {
        Arc::clone(&self.bus)
    }

    /// The task store of this directory.
    pub fn task_store(&self) -> Arc<EmbeddedTaskStore> {
        Arc::clone(&self.tasks)
    }
}

fn open_database(dir: &Path, cache_size: usize) -> Result<Database, Error> {
    std::fs::create_dir_all(dir).map_err(|e| {
        Error::InvalidConfig(format!(
            "cannot create the data directory {}: {e}",
            dir.display()
        ))
    })?;
    let path = dir.join(FILE_NAME);
    let fresh = std::fs::metadata(&path)
        .map(|m| m.len() == 0)
        .unwrap_or(true);
    let db = redb::Builder::new()
        .set_cache_size(cache_size)
        .create(&path)
        .map_err(|e| open_error(&path, e))?;
    if fresh {
        let txn = db.begin_write().map_err(backend)?;
        txn.open_table(META)
            .map_err(backend)?
            .insert("format", FORMAT)
            .map_err(backend)?;
        txn.commit().map_err(backend)?;
    } else {
        check_format(&db, &path)?;
    }
    Ok(db)
}

fn open_error(path: &Path, error: DatabaseError) -> Error {
    let path = path.display();
    match error {
        DatabaseError::DatabaseAlreadyOpen => Error::InvalidConfig(format!(
            "{path} is in use by another process (one process per data directory)"
        )),
        // redb reports a foreign header (magic number mismatch) as InvalidData.
        DatabaseError::Storage(StorageError::Io(io))
            if io.kind() != std::io::ErrorKind::InvalidData =>
        {
            Error::InvalidConfig(format!("cannot open {path}: {io}"))
        }
        other => Error::InvalidConfig(format!(
            "{path} is not a readable Harbor database (corrupt, or written by something else): {other}"
        )),
    }
}

fn check_format(db: &Database, path: &Path) -> Result<(), Error> {
    let foreign = |what: &str| {
        Error::InvalidConfig(format!(
            "{} is a redb file but not a Harbor database ({what}); move it away or choose another data directory",
            path.display()
        ))
    };
    let txn = db.begin_read().map_err(backend)?;
    let table = match txn.open_table(META) {
        Ok(table) => table,
        Err(TableError::TableDoesNotExist(_)) => return Err(foreign("no harbor_meta table")),
        Err(e) => return Err(backend(e)),
    };
    match table.get("format").map_err(backend)? {
        Some(format) if format.value() == FORMAT => Ok(()),
        Some(format) => Err(foreign(&format!("format {:?}", format.value()))),
        None => Err(foreign("no format entry")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_at_the_data_path_is_a_clear_error() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(
            dir.path().join(FILE_NAME),
            b"not a database at all, just text",
        )
        .expect("write");
        let error = Embedded::open(EmbeddedConfig::new(dir.path())).expect_err("garbage opens");
        assert!(
            matches!(&error, Error::InvalidConfig(m) if m.contains("not a readable Harbor database")),
            "{error}"
        );
    }

    #[test]
    fn a_foreign_redb_file_is_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join(FILE_NAME);
        {
            let db = Database::create(&path).expect("create");
            let txn = db.begin_write().expect("write");
            let other: TableDefinition<u64, u64> = TableDefinition::new("other");
            txn.open_table(other)
                .expect("table")
                .insert(1, 2)
                .expect("insert");
            txn.commit().expect("commit");
        }
        let error = Embedded::open(EmbeddedConfig::new(dir.path())).expect_err("foreign opens");
        assert!(
            matches!(&error, Error::InvalidConfig(m) if m.contains("not a Harbor database")),
            "{error}"
        );
    }

    #[test]
    fn a_directory_opens_once_at_a_time_and_again_after_close() {
        let dir = tempfile::tempdir().expect("tempdir");
        let first = Embedded::open(EmbeddedConfig::new(dir.path())).expect("first open");
        let second = Embedded::open(EmbeddedConfig::new(dir.path()));
        assert!(
            matches!(&second, Err(Error::InvalidConfig(m)) if m.contains("in use")),
            "{second:?}"
        );
        drop(first);
        Embedded::open(EmbeddedConfig::new(dir.path())).expect("reopen after drop");
    }
}
