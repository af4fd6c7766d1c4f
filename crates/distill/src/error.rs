//! The error type of `retort-distill`.

/// What can stop distillation.
#[derive(Debug, thiserror::Error)]
pub enum DistillError {
    /// A configuration value is out of its range.
    #[error("{key} = {value}: {expected}")]
    Config {
        /// The key as written in the experiment file (`distill.temperature`, …).
        key: String,
        /// The value given.
        value: String,
        /// What is allowed.
        expected: &'static str,
    },
    /// The loss stopped being finite.
    #[error(
        "distilling student `{student}` diverged at step {step}: loss is {loss}; \
         lower distill.learning_rate"
    )]
    Diverged {
        /// The student's name.
        student: String,
        /// Gradient step at which it was noticed.
        step: u64,
        /// The offending loss value.
        loss: f64,
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
