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
    /// Called just before a resumable checkpoint holding everything up to `step` is written:
    /// the moment to put the logs on disk. Done afterwards, a crash between the two would
    /// leave a checkpoint that resumes past events never written; done before, whatever is
    /// logged beyond the checkpoint that finally counts is void on resume anyway.
    fn checkpointing(&mut self, _step: u64) {}
    /// Called before work that logs nothing for a while (an evaluation), so that what was
    /// logged before it can be shown now rather than after it.
    fn quiet_ahead(&mut self) {}
    /// Called once when training continues from a checkpoint of `step` instead of starting
    /// afresh: what was logged up to and including `step` stands (a checkpoint is written
    /// after its step's events), whatever was logged after it is void. `0` means that nothing
    /// stands: the run starts over.
    fn resumed(&mut self, _step: u64) {}
}

/// An observer that ignores everything.
pub struct NoObserver;

impl Observer for NoObserver {}
