//! What the user sees while work runs: a progress bar on the terminal, metrics in TensorBoard.

use indicatif::{ProgressBar, ProgressStyle};
use retort_core::Observer;
use retort_tensorboard::{SummaryWriter, TbError};
use std::io::Write;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};

/// Set by the Ctrl-C handler; long loops poll it and stop at the next step.
pub static INTERRUPTED: AtomicBool = AtomicBool::new(false);

/// Installs the Ctrl-C handler. A second Ctrl-C while the first is being handled exits at once.
pub fn install_interrupt_handler() {
    let result = ctrlc::set_handler(|| {
        if INTERRUPTED.swap(true, Ordering::SeqCst) {
            // `std::process::exit` would run libtorch's static destructors while the main
            // thread may still be inside libtorch, which crashes; leave without them.
            // SAFETY: `_exit` only ends the process; it touches no Rust or C++ state.
            unsafe { libc::_exit(130) };
        }
        // Not `eprintln!`, which would panic in this thread if stderr were closed.
        let _ = writeln!(
            std::io::stderr(),
            "\ninterrupted: finishing the current step, then saving (Ctrl-C again to quit now)"
        );
    });
    if let Err(e) = result {
        tracing::warn!("Ctrl-C will stop retort without saving: {e}");
    }
}

/// True once Ctrl-C was pressed.
pub fn interrupted() -> bool {
    INTERRUPTED.load(Ordering::SeqCst)
}

/// Forwards metrics to one TensorBoard run and progress to a bar.
///
/// Observers cannot return errors from inside a training loop, so the first TensorBoard error
/// is kept and reported by [`RunObserver::finish`] once the loop returns.
pub struct RunObserver {
    writer: SummaryWriter,
    bar: ProgressBar,
    error: Option<TbError>,
    /// Points of the tags kept for plots: (tag, step, value).
    kept: Vec<(&'static str, f64, f64)>,
    /// Where the kept points are saved at each checkpoint, so that a resumed run plots its
    /// whole history.
    curves: Option<PathBuf>,
    /// Whether this session's start (fresh or resumed) is marked in the event file yet.
    session_marked: bool,
}

/// Tags whose points are also kept in memory, for the learning-curve plot.
const KEPT_TAGS: [&str; 2] = ["charts/episodic_return", "eval/return_mean"];

impl RunObserver {
    /// An observer writing to `writer`, with a bar of `total` steps labelled `label` when
    /// `progress` is set. The bar draws only when stderr is a terminal.
    pub fn new(writer: SummaryWriter, total: u64, label: &str, progress: bool) -> Self {
        let bar = if progress {
            ProgressBar::new(total)
        } else {
            ProgressBar::hidden()
        };
        let style = ProgressStyle::with_template(
            "{prefix:>12} [{bar:30}] {pos}/{len} steps  {per_sec}  eta {eta}",
        )
        .expect("the progress template is valid")
        .progress_chars("=> ");
        bar.set_style(style);
        bar.set_prefix(label.to_string());
        RunObserver {
            writer,
            bar,
            error: None,
            kept: Vec::new(),
            curves: None,
            session_marked: false,
        }
    }

    /// Also saves the kept points to `path` at every checkpoint, and reads them back from it
    /// on a resume.
    pub fn with_curves(mut self, path: PathBuf) -> Self {
        self.curves = Some(path);
        self
    }

    /// The `(step, value)` points logged under `tag`, if it is one of the kept tags.
    pub fn points(&self, tag: &str) -> Vec<(f64, f64)> {
        self.kept
            .iter()
            .filter(|(t, _, _)| *t == tag)
            .map(|&(_, x, y)| (x, y))
            .collect()
    }

    /// The TensorBoard writer, for what is logged outside the loop.
    pub fn writer(&mut self) -> &mut SummaryWriter {
        &mut self.writer
    }

    /// Runs `write` on the TensorBoard writer unless an earlier write failed, keeping the
    /// first error for [`RunObserver::finish`].
    fn log(&mut self, write: impl FnOnce(&mut SummaryWriter) -> Result<(), TbError>) {
        if self.error.is_none() {
            self.error = write(&mut self.writer).err();
        }
    }

    /// Clears the bar, flushes the file, and returns the first error met while logging.
    pub fn finish(mut self) -> Result<SummaryWriter, TbError> {
        self.bar.finish_and_clear();
        if let Some(error) = self.error.take() {
            return Err(error);
        }
        self.writer.flush()?;
        Ok(self.writer)
    }
}

impl Observer for RunObserver {
    fn scalar(&mut self, tag: &str, value: f64, step: u64) {
        if let Some(kept) = KEPT_TAGS.iter().find(|t| **t == tag) {
            self.kept.push((kept, step as f64, value));
        }
        // A fresh run marks its start before its first point, so that TensorBoard takes the
        // start marker of a later resume for a restart and purges what it redoes.
        if !self.session_marked {
            self.session_marked = true;
            self.log(SummaryWriter::mark_start);
        }
        self.log(|w| w.add_scalar(tag, value, step as i64));
    }

    fn progress(&mut self, steps: u64) {
        self.bar.set_position(steps);
        // Events logged just before a stretch of training steps that log nothing would
        // otherwise wait for the next event to be flushed (evaluations flush in `quiet_ahead`).
        self.log(SummaryWriter::flush_if_due);
    }

    fn interrupted(&self) -> bool {
        interrupted()
    }

    fn quiet_ahead(&mut self) {
        self.log(SummaryWriter::flush);
    }

    fn checkpointing(&mut self, _step: u64) {
        self.log(SummaryWriter::flush);
        if let Some(path) = &self.curves {
            let points: Vec<_> = self.kept.iter().map(|&(t, x, y)| (t, x, y)).collect();
            let json = serde_json::to_string(&points).expect("points always serialise");
            if let Err(e) = crate::pipeline::write_atomic(path, &json) {
                tracing::warn!("{e:#}");
            }
        }
    }

    fn resumed(&mut self, step: u64) {
        self.session_marked = true;
        // TensorBoard drops what earlier files hold from the marked step on; the checkpoint's
        // own step was logged in full before it was written, and is not redone.
        let first_redone = if step == 0 { 0 } else { step + 1 };
        self.log(|w| w.mark_restart(first_redone as i64));
        self.bar.set_position(step);
        let Some(path) = &self.curves else { return };
        let saved: Vec<(String, f64, f64)> = match std::fs::read_to_string(path) {
            Ok(text) => serde_json::from_str(&text).unwrap_or_default(),
            Err(_) => Vec::new(),
        };
        // Points logged after the checkpoint belong to the session that died; they are redone.
        self.kept = saved
            .into_iter()
            .filter(|(_, x, _)| *x <= step as f64)
            .filter_map(|(tag, x, y)| {
                let kept = KEPT_TAGS.iter().find(|t| **t == tag)?;
                Some((*kept, x, y))
            })
            .collect();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;
    use std::time::Duration;

    #[test]
    fn progress_ticks_flush_events_left_pending_by_a_quiet_loop() {
        let dir = std::env::temp_dir().join(format!("retort-observe-{}", std::process::id()));
        let writer = SummaryWriter::create(&dir).expect("create");
        let path = writer.path().to_path_buf();
        let size = || std::fs::metadata(&path).expect("stat").len();
        let mut observer = RunObserver::new(writer, 10, "test", false);
        // Within the interval an event waits in memory...
        observer
            .writer()
            .set_flush_interval(Duration::from_secs(3600));
        observer.scalar("train/loss", 1.0, 1);
        let before = size();
        observer.progress(1);
        assert_eq!(size(), before);
        // ...and the first progress tick after the interval writes it, with no further event.
        observer
            .writer()
            .set_flush_interval(Duration::from_millis(20));
        std::thread::sleep(Duration::from_millis(40));
        observer.progress(2);
        assert!(size() > before, "the pending event was not flushed");
        // Before an evaluation everything pending goes out, however recent.
        observer
            .writer()
            .set_flush_interval(Duration::from_secs(3600));
        observer.scalar("train/loss", 2.0, 3);
        let before = size();
        observer.quiet_ahead();
        assert!(size() > before, "quiet_ahead did not flush");
        drop(observer);
        std::fs::remove_dir_all(&dir).expect("clean up");
    }

    /// A resumed run reads the curves of its earlier sessions back from `curves.json` and
    /// `outcome.json`; every value must come back with its exact bits, or the resumed summary
    /// differs from the straight run's in the last digit. serde_json's default float parser
    /// is off by one unit in the last place on values like these; its `float_roundtrip`
    /// feature is exact.
    #[test]
    fn curve_values_survive_a_json_round_trip_bit_for_bit() {
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        let mut values = vec![
            0.15915534121725403,
            0.38853823075969235,
            0.38438805793889125,
        ];
        values.extend((0..10_000).map(|_| rng.random::<f64>()));
        values.extend((0..10_000).map(|_| rng.random_range(-1e6..1e6)));
        let points: Vec<(String, f64, f64)> = values
            .iter()
            .map(|&v| ("eval/return_mean".to_string(), 1000.0, v))
            .collect();
        let text = serde_json::to_string(&points).unwrap();
        let back: Vec<(String, f64, f64)> = serde_json::from_str(&text).unwrap();
        for ((_, _, a), (_, _, b)) in points.iter().zip(&back) {
            assert_eq!(a.to_bits(), b.to_bits(), "{a} came back as {b}");
        }
    }
}
