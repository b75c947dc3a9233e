//! The one error type of the report.

use std::path::PathBuf;

/// What stops a figure from being drawn.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("reading {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}, line {line}: {message}")]
    Manifest {
        path: PathBuf,
        line: usize,
        message: String,
    },
    #[error("drawing {path}: {message}")]
    Draw { path: PathBuf, message: String },
}
