//! The crate's one error type.

use std::path::PathBuf;

/// Why a check could not run (a loop found is a result, not an error).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A crate's entry file could not be read.
    #[error("cannot read {0}")]
    Read(PathBuf),
    /// A file is not valid Rust tokens (an unclosed string or delimiter).
    #[error("cannot lex {path}: {message}")]
    Lex {
        /// The file.
        path: PathBuf,
        /// What the lexer said.
        message: String,
    },
    /// `cargo metadata` failed or printed something unexpected.
    #[error("cargo metadata: {0}")]
    Metadata(String),
}
