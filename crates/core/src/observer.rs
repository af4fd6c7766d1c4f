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
}

/// An observer that ignores everything.
pub struct NoObserver;

impl Observer for NoObserver {}
