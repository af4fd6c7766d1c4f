//! The error type of `retort-tensorboard`.

use std::io;
use std::path::PathBuf;

/// What can go wrong while writing or reading an event file.
#[derive(Debug, thiserror::Error)]
pub enum TbError {
    /// The operating system refused to create, write, flush or read a file or directory.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory involved.
        path: PathBuf,
        /// The operating system's error.
        source: io::Error,
    },
    /// A record of an event file is cut short or fails its checksum.
    #[error("{path}: corrupt record at byte offset {offset}: {reason}")]
    Corrupt {
        /// The event file.
        path: PathBuf,
        /// Byte offset of the start of the bad record within the file.
        offset: u64,
        /// What is wrong with it.
        reason: String,
    },
    /// An earlier write to this writer failed; later records are refused, because a record
    /// written after a half-written one would be unreadable anyway.
    #[error("{path}: an earlier write failed; this writer accepts no more events")]
    Poisoned {
        /// The event file.
        path: PathBuf,
    },
    /// [`SummaryWriter::add_hparams`](crate::SummaryWriter::add_hparams) got the same
    /// hyperparameter name twice.
    #[error("hyperparameter `{name}` is given more than once")]
    DuplicateHParam {
        /// The repeated name.
        name: String,
    },
}

impl TbError {
    /// Wraps an I/O error with the path it concerns.
    pub(crate) fn io(path: impl Into<PathBuf>, source: io::Error) -> Self {
        TbError::Io {
            path: path.into(),
            source,
        }
    }
}
