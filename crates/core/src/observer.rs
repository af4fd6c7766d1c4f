//! How long-running work (training, distillation) reports progress and metrics.

/// Receives what a training loop reports. Every method has a do-nothing default, so an
/// observer implements only what it shows.
pub trait Observer {
    /// A metric at a step, under a namespaced tag such as `losses/td_loss`.
    fn scalar(&mut self, _tag: &str, _value: f64, _step: u64) {}
    /// Called regularly with the number of steps done so far.
    fn progress(&mut self, _steps: u64) {}
    /// Polled between steps; returning true ends the loop early with what it has (Ctrl-C).
    fn interrupted(&self) -> bool {
        false
    }
    /// Called after a resumable checkpoint holding everything up to `step` was written: the
    /// moment to make the logs durable too, so that a crash loses neither more nor less than
    /// the checkpoint does.
    fn checkpointed(&mut self, _step: u64) {}
    /// Called once when training continues from a checkpoint of `step` instead of starting
    /// afresh; whatever was logged after that step by the session that wrote it is void.
    fn resumed(&mut self, _step: u64) {}
}

/// An observer that ignores everything.
pub struct NoObserver;

impl Observer for NoObserver {}
