//! Writes `/tmp/retort-plot-demo.png`: two series on a log-x axis with error bars, the kind of
//! chart a distillation report draws (student return against student size, teacher for scale).
//!
//! Run with `cargo run -p retort-plot --example demo`.

use std::path::Path;

use retort_plot::{Chart, Series};

fn main() -> Result<(), retort_plot::PlotError> {
    let sizes = [1e3, 3e3, 1e4, 3e4, 1e5, 3e5, 1e6];
    let student = [42.0, 95.0, 188.0, 301.0, 402.0, 455.0, 471.0];
    let student_err = [18.0, 30.0, 41.0, 35.0, 22.0, 15.0, 12.0];
    let teacher = [500.0; 7];
    let teacher_err = [8.0; 7];

    let chart = Chart::new(
        "CartPole-v1: distilled student vs. DQN teacher",
        "parameters",
        "mean return",
    )
    .with_log_x(true)
    .with_series(
        Series::new("DQN teacher", sizes.iter().copied().zip(teacher).collect())
            .with_error(teacher_err.to_vec()),
    )
    .with_series(
        Series::new(
            "student (KL distillation)",
            sizes.iter().copied().zip(student).collect(),
        )
        .with_error(student_err.to_vec()),
    );

    let path = Path::new("/tmp/retort-plot-demo.png");
    chart.save_png(path)?;
    println!("wrote {}", path.display());
    Ok(())
}
