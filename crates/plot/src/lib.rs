//! Draws simple line charts to PNG files — log-x axes, error bars, legends — using a built-in
//! bitmap font, so it needs no system libraries (no fontconfig or freetype) and no libtorch.
//!
//! A [`Chart`] holds a title, axis labels and any number of [`Series`]; [`Chart::render`] turns
//! it into RGB pixels and [`Chart::save_png`] writes those as a PNG, atomically (a temporary
//! file beside the target, then a rename). Charts are meant for run reports — learning curves,
//! teacher-versus-student comparisons — so the feature set is small and fixed:
//!
//! * axes with "nice" ticks (steps of 1, 2 or 5 × 10^k), or on a logarithmic x axis ticks at
//!   powers of ten with minor ticks between, and grid lines at every tick;
//! * one colour and marker shape per series from a fixed palette ([`PALETTE`]), points joined
//!   by lines, optional vertical error bars;
//! * a legend placed in the corner of the plot that hides the fewest points;
//! * robustness over fidelity: non-finite points are skipped (breaking the line), and empty
//!   charts, single points and constant series get padded ranges instead of panics.
//!
//! Text uses the crate's own 5×9 pixel font ([`font`]), scaled by whole numbers — titles are
//! drawn at twice the size of labels. There is no anti-aliasing.
//!
//! ```
//! use retort_plot::{Chart, Series};
//!
//! let chart = Chart::new("Return vs. student size", "parameters", "mean return")
//!     .with_log_x(true)
//!     .with_series(
//!         Series::new("student", vec![(1e3, 120.0), (1e4, 310.0), (1e5, 480.0)])
//!             .with_error(vec![15.0, 22.0, 9.0]),
//!     )
//!     .with_series(Series::new("teacher", vec![(1e3, 500.0), (1e5, 500.0)]));
//!
//! let path = std::env::temp_dir().join(format!("retort-plot-doctest-{}.png", std::process::id()));
//! chart.save_png(&path)?;
//! assert!(std::fs::metadata(&path)?.len() > 0);
//! std::fs::remove_file(&path)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![warn(missing_docs)]

mod axis;
mod canvas;
mod chart;
pub mod font;

pub use axis::{Axis, Tick};
pub use canvas::{Marker, Rect, Rgb};
pub use chart::{Chart, Layout, Series, PALETTE};

use std::path::PathBuf;

/// Why a chart could not be saved.
#[derive(Debug, thiserror::Error)]
pub enum PlotError {
    /// Reading or writing a file failed.
    #[error("cannot write {}: {source}", path.display())]
    Io {
        /// The file being written when the error happened.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The PNG encoder rejected the image.
    #[error("cannot encode PNG: {0}")]
    Encode(#[from] png::EncodingError),
    /// The output path has no file name (for example, it ends in `..` or is a root).
    #[error("not a file path: {}", .0.display())]
    InvalidPath(PathBuf),
    /// A PNG cannot have a zero width or height.
    #[error("cannot save a {width}×{height} image: both sides must be at least one pixel")]
    EmptyImage {
        /// The chart's width.
        width: u32,
        /// The chart's height.
        height: u32,
    },
}
