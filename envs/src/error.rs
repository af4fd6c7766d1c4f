//! Error types of the crate: misuse of an environment, bad experiment options, bad map files.

use std::fmt;
use std::path::PathBuf;

/// Everything that can go wrong when building or stepping an environment.
#[derive(Debug, thiserror::Error)]
pub enum EnvError {
    /// `step` was called after the episode ended, or before the first `reset`.
    #[error(
        "the episode is over (terminated, truncated, or never started); call reset before step"
    )]
    EpisodeOver,

    /// The action is not in `0..n_actions`.
    #[error("action {action} is out of range: this environment takes actions 0..{n_actions}")]
    InvalidAction {
        /// The action that was passed.
        action: usize,
        /// The number of actions the environment has.
        n_actions: usize,
    },

    /// The observation buffer passed to `step` has the wrong length.
    #[error(
        "observation buffer has length {got}, but the environment writes {expected} values; \
         size it with obs_dim()"
    )]
    ObsLength {
        /// `obs_dim()` of the environment.
        expected: usize,
        /// Length of the buffer that was passed.
        got: usize,
    },

    /// A [`VecEnv`](crate::VecEnv) buffer or batch has the wrong size.
    #[error("{what}: expected {expected}, got {got}")]
    BatchShape {
        /// Which buffer or count.
        what: &'static str,
        /// The size it must have.
        expected: usize,
        /// The size it has.
        got: usize,
    },

    /// A map given as text (or a built-in) could not be parsed.
    #[error("invalid map: {0}")]
    Map(#[from] MapError),

    /// A map file could not be parsed.
    #[error("{}: {source}", path.display())]
    MapFile {
        /// The file that was read.
        path: PathBuf,
        /// What is wrong with it, with line and column.
        #[source]
        source: MapError,
    },

    /// A snapshot could not be restored into this environment.
    #[error("cannot restore this snapshot of {id}: {problem}")]
    Snapshot {
        /// The id recorded in the snapshot.
        id: String,
        /// What does not fit.
        problem: String,
    },

    /// The id names no environment of the registry.
    #[error("unknown environment id {id:?}; known ids are: {}", crate::known_ids().join(", "))]
    UnknownEnv {
        /// The id that was asked for.
        id: String,
    },

    /// An option of an [`EnvSpec`](crate::EnvSpec) is not accepted for this id, or its value is
    /// out of range.
    #[error("{env}: option `{option}` = {value} is not accepted: {fix}")]
    BadOption {
        /// The environment id the spec names.
        env: String,
        /// The option's field name in the spec.
        option: &'static str,
        /// The value that was given, as written in Rust debug syntax.
        value: String,
        /// What to write instead.
        fix: String,
    },

    /// A file could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
}

/// What kind of mistake a [`MapError`] reports, for callers that react to it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MapErrorKind {
    /// The text holds no rows.
    Empty,
    /// A row is longer or shorter than the first.
    RaggedRow,
    /// A character outside the map alphabet.
    UnknownChar,
    /// No `S` cell.
    NoStart,
    /// More than one `S` cell.
    SeveralStarts,
    /// No `G` cell.
    NoGoal,
    /// A `G` cell cannot be reached from the start.
    UnreachableGoal,
}

/// A map parse error, located by 1-based line and column (columns count characters).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MapError {
    /// 1-based line of the offending cell (1 for problems of the whole map).
    pub line: usize,
    /// 1-based column, in characters (1 for problems of the whole map).
    pub column: usize,
    /// What is wrong and what to do about it.
    pub message: String,
    /// The class of mistake.
    pub kind: MapErrorKind,
}

impl MapError {
    pub(crate) fn new(
        kind: MapErrorKind,
        line: usize,
        column: usize,
        message: impl Into<String>,
    ) -> Self {
        MapError {
            line,
            column,
            message: message.into(),
            kind,
        }
    }
}

impl fmt::Display for MapError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "line {}, column {}: {}",
            self.line, self.column, self.message
        )
    }
}

impl std::error::Error for MapError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn map_error_displays_line_then_column_then_message() {
        let e = MapError::new(MapErrorKind::NoGoal, 3, 7, "add a G");
        assert_eq!(e.to_string(), "line 3, column 7: add a G");
    }

    #[test]
    fn unknown_env_lists_every_known_id() {
        let msg = EnvError::UnknownEnv { id: "Pong".into() }.to_string();
        for id in crate::known_ids() {
            assert!(msg.contains(id), "{msg} lacks {id}");
        }
    }

    #[test]
    fn map_file_error_names_the_file_and_position() {
        let e = EnvError::MapFile {
            path: PathBuf::from("maps/a.txt"),
            source: MapError::new(MapErrorKind::NoStart, 1, 1, "add an S"),
        };
        assert_eq!(e.to_string(), "maps/a.txt: line 1, column 1: add an S");
    }
}
