//! Where the scan reads files from: the disk, or a map of strings in unit tests.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// A source of Rust files by path.
pub trait Sources {
    /// The text of `path`, or `None` when there is no such file.
    fn read(&self, path: &Path) -> Option<String>;
}

/// Files on disk.
#[derive(Debug, Clone, Copy, Default)]
pub struct DiskSources;

impl Sources for DiskSources {
    fn read(&self, path: &Path) -> Option<String> {
        std::fs::read_to_string(path).ok()
    }
}

/// Files held in memory, by path: for tests of the scan itself.
#[derive(Debug, Clone, Default)]
pub struct MemorySources(BTreeMap<PathBuf, String>);

impl MemorySources {
    /// An empty set of files.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds (or replaces) the file at `path`.
    pub fn with(mut self, path: impl Into<PathBuf>, text: impl Into<String>) -> Self {
        self.0.insert(path.into(), text.into());
        self
    }
}

impl Sources for MemorySources {
    fn read(&self, path: &Path) -> Option<String> {
        self.0.get(path).cloned()
    }
}
