//! The error type of `retort-runtime`.

use std::path::PathBuf;

/// What can go wrong while loading or assembling a network. Acting never fails.
#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    /// A file could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The file involved.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// A checkpoint is missing a file, is corrupt, or contradicts itself.
    #[error("checkpoint {path}: {message}")]
    Checkpoint {
        /// The checkpoint directory, or the file at fault within it.
        path: PathBuf,
        /// What is wrong (naming the tensor, where one is at fault) and what to do about it.
        message: String,
    },
    /// Weights handed to [`crate::Mlp::from_parts`] do not fit the architecture.
    #[error("network parts: {0}")]
    Parts(String),
}

impl RuntimeError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        RuntimeError::Io {
            path: path.into(),
            source,
        }
    }

    pub(crate) fn checkpoint(path: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        RuntimeError::Checkpoint {
            path: path.into(),
            message: message.into(),
        }
    }
}
