//! The error type of `retort-dqn`.

use std::path::PathBuf;

/// What can stop teacher training.
#[derive(Debug, thiserror::Error)]
pub enum DqnError {
    /// A configuration value is out of its range.
    #[error("teacher.{key} = {value}: {expected}")]
    Config {
        /// The key, relative to the `[teacher]` table.
        key: &'static str,
        /// The value given.
        value: String,
        /// What is allowed.
        expected: &'static str,
    },
    /// The replay buffer does not fit in memory.
    #[error(
        "teacher.buffer_size = {capacity}: the replay buffer needs {bytes} bytes, which cannot \
         be allocated; lower teacher.buffer_size"
    )]
    BufferTooLarge {
        /// The capacity asked for.
        capacity: usize,
        /// Bytes it would take.
        bytes: u128,
    },
    /// The loss or the Q-values stopped being finite.
    #[error(
        "training diverged at env step {env_step} (gradient step {gradient_step}): {what}; \
         lower teacher.learning_rate or teacher.max_grad_norm{}",
        kept_checkpoint(last_checkpoint)
    )]
    Diverged {
        /// Environment steps taken when it was noticed.
        env_step: u64,
        /// Gradient steps taken when it was noticed.
        gradient_step: u64,
        /// What stopped being finite.
        what: String,
        /// The last resumable checkpoint written before, left untouched: its file and env step.
        last_checkpoint: Option<(PathBuf, u64)>,
    },
    /// A resumable checkpoint could not be written or read.
    #[error("checkpoint {}: {message}", path.display())]
    Checkpoint {
        /// The file.
        path: PathBuf,
        /// What went wrong, and what to do.
        message: String,
    },
    /// A checkpoint was made by another configuration than the one asked to resume it.
    #[error(
        "checkpoint {} was written by another configuration: {} differ; resume with the \
         experiment that started the run (its config.toml)",
        path.display(),
        keys.join(", ")
    )]
    ResumeMismatch {
        /// The checkpoint file.
        path: PathBuf,
        /// The keys that differ, as `teacher.gamma`, `env.id`, `seed`.
        keys: Vec<String>,
    },
    /// Building, evaluating or running a network failed.
    #[error(transparent)]
    Core(#[from] retort_core::CoreError),
    /// The environment refused a call.
    #[error(transparent)]
    Env(#[from] retort_envs::EnvError),
    /// libtorch refused an operation.
    #[error("libtorch: {0}")]
    Torch(#[from] tch::TchError),
}

/// The tail of a divergence message that says where the last good checkpoint is.
fn kept_checkpoint(last: &Option<(PathBuf, u64)>) -> String {
    match last {
        Some((path, step)) => format!(
            "; the last good checkpoint (env step {step}) is kept in {}",
            path.display()
        ),
        None => String::new(),
    }
}
