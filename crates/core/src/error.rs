//! The error type of `retort-core`.

use std::path::PathBuf;

/// What can go wrong while building, running, saving or loading a policy.
#[derive(Debug, thiserror::Error)]
pub enum CoreError {
    /// libtorch refused an operation (shape mismatch, device error, …).
    #[error("libtorch: {0}")]
    Torch(#[from] tch::TchError),
    /// The environment refused a call.
    #[error(transparent)]
    Env(#[from] retort_envs::EnvError),
    /// A file could not be read or written.
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
        /// The checkpoint directory or file.
        path: PathBuf,
        /// What is wrong and what to do about it.
        message: String,
    },
    /// The requested device does not exist on this machine.
    #[error("device `{device}`: {message}")]
    Device {
        /// The device as the user wrote it.
        device: String,
        /// Why it cannot be used.
        message: String,
    },
}

impl CoreError {
    /// Wraps an I/O error with the path it happened on.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        CoreError::Io {
            path: path.into(),
            source,
        }
    }
}
