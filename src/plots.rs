//! The PNG plots of a run (`plots/` in its directory) and of a sweep.

use crate::report::RunSummary;
use crate::sweep::SweepSummary;
use anyhow::{Context, Result};
use retort_plot::{Chart, Series};
use std::path::Path;

fn save(chart: &Chart, dir: &Path, name: &str) -> Result<()> {
    let plots = dir.join("plots");
    std::fs::create_dir_all(&plots)
        .with_context(|| format!("cannot create {}", plots.display()))?;
    let path = plots.join(name);
    chart
        .save_png(&path)
        .with_context(|| format!("cannot write {}", path.display()))
}

/// The teacher's learning curve: the return of each training episode and of each periodic
/// greedy evaluation, against environment steps.
pub fn learning_curve(
    dir: &Path,
    env: &str,
    episodes: Vec<(f64, f64)>,
    evaluations: Vec<(f64, f64)>,
) -> Result<()> {
    let chart = Chart::new(
        format!("{env}: teacher learning curve"),
        "environment steps",
        "return",
    )
    .with_series(Series::new("training episodes (epsilon-greedy)", episodes))
    .with_series(Series::new("greedy evaluation (mean)", evaluations));
    save(&chart, dir, "teacher_learning_curve.png")
}

/// Return against parameters (log scale): the teacher and every student, with 95 % CIs.
pub fn run_return_vs_params(dir: &Path, summary: &RunSummary) -> Result<()> {
    let t = &summary.teacher;
    let mut students: Vec<_> = summary.students.iter().collect();
    students.sort_by_key(|s| s.params);
    let points = students
        .iter()
        .map(|s| (s.params as f64, s.return_mean))
        .collect();
    let errors = students.iter().map(|s| s.return_ci95).collect();
    let chart = Chart::new(
        format!("{}: return vs parameters", summary.env),
        "parameters",
        "mean return",
    )
    .with_log_x(true)
    .with_series(
        Series::new("teacher", vec![(t.params as f64, t.return_mean)])
            .with_error(vec![t.return_ci95]),
    )
    .with_series(
        Series::new(
            format!(
                "students ({} loss)",
                students.first().map_or("-", |s| s.loss.as_str())
            ),
            points,
        )
        .with_error(errors),
    );
    save(&chart, dir, "return_vs_params.png")
}

/// Return and agreement against parameters for every configuration of a sweep, with 95 % CIs
/// over seeds.
pub fn sweep_plots(dir: &Path, summary: &SweepSummary) -> Result<()> {
    let mut returns = Chart::new(
        format!(
            "{}: student return vs parameters ({})",
            summary.env,
            seeds(summary.seeds.len())
        ),
        "parameters",
        "mean return",
    )
    .with_log_x(true);
    let mut agreement = Chart::new(
        format!(
            "{}: agreement with the teacher ({})",
            summary.env,
            seeds(summary.seeds.len())
        ),
        "parameters",
        "agreement (%)",
    )
    .with_log_x(true)
    .with_y_bounds(0.0, 100.0);
    for c in &summary.configurations {
        let mut students: Vec<_> = c.students.iter().collect();
        students.sort_by_key(|s| s.params);
        let x = |s: &&crate::sweep::StudentAggregate| s.params as f64;
        returns = returns.with_series(
            Series::new(
                &c.name,
                students
                    .iter()
                    .map(|s| (x(s), s.return_mean.mean))
                    .collect(),
            )
            .with_error(students.iter().map(|s| s.return_mean.ci95).collect()),
        );
        agreement = agreement.with_series(
            Series::new(
                &c.name,
                students
                    .iter()
                    .map(|s| (x(s), 100.0 * s.agreement.mean))
                    .collect(),
            )
            .with_error(students.iter().map(|s| 100.0 * s.agreement.ci95).collect()),
        );
    }
    if let Some(first) = summary.configurations.first() {
        let t = &first.teacher_return_mean;
        returns = returns.with_series(
            Series::new("teacher", vec![(first.teacher_params as f64, t.mean)])
                .with_error(vec![t.ci95]),
        );
    }
    save(&returns, dir, "return_vs_params.png")?;
    save(&agreement, dir, "agreement_vs_params.png")
}

/// Each student's held-out agreement while it was fitted, one line per student.
pub fn run_agreement_curves(dir: &Path, summary: &RunSummary) -> Result<()> {
    let mut chart = Chart::new(
        format!("{}: agreement with the teacher while fitting", summary.env),
        "gradient steps",
        "held-out agreement (%)",
    )
    .with_y_bounds(0.0, 100.0);
    for s in &summary.students {
        let points = s
            .agreement_curve
            .iter()
            .map(|&(step, a)| (step as f64, 100.0 * a))
            .collect();
        chart = chart.with_series(Series::new(student_label(&s.name, s.params), points));
    }
    save(&chart, dir, "agreement_curves.png")
}

/// For each configuration of a sweep, its students' held-out agreement while fitting: the
/// mean over seeds at each measured step with its 95 % CI, one line per student, in
/// `plots/agreement_curves-<configuration>.png`.
pub fn sweep_agreement_curves(dir: &Path, summary: &SweepSummary) -> Result<()> {
    for c in &summary.configurations {
        let mut chart = Chart::new(
            format!(
                "{}, {}: agreement while fitting ({})",
                summary.env,
                c.name,
                seeds(summary.seeds.len())
            ),
            "gradient steps",
            "held-out agreement (%)",
        )
        .with_y_bounds(0.0, 100.0);
        for s in &c.students {
            let curve = &s.agreement_curve;
            let points = curve
                .iter()
                .map(|p| (p.step as f64, 100.0 * p.agreement.mean))
                .collect();
            let errors = curve.iter().map(|p| 100.0 * p.agreement.ci95).collect();
            chart = chart.with_series(
                Series::new(student_label(&s.name, s.params), points).with_error(errors),
            );
        }
        save(&chart, dir, &format!("agreement_curves-{}.png", c.name))?;
    }
    Ok(())
}

/// "1 seed", "5 seeds".
fn seeds(n: usize) -> String {
    match n {
        1 => "1 seed".into(),
        n => format!("{n} seeds"),
    }
}

fn student_label(name: &str, params: usize) -> String {
    format!("{name} ({params} parameters)")
}

/// Each seed's teacher learning curve in a sweep: the mean return of every periodic greedy
/// evaluation against environment steps, one line per seed, with the optimal return as a
/// flat line where the environment has an oracle. Seeds whose teacher was not evaluated
/// while training (`eval_interval = 0`) have no line.
pub fn sweep_learning_curves(
    dir: &Path,
    summary: &SweepSummary,
    curves: &[(u64, Vec<(u64, f64)>)],
) -> Result<()> {
    let mut chart = Chart::new(
        format!(
            "{}: teacher learning curves ({})",
            summary.env,
            seeds(summary.seeds.len())
        ),
        "environment steps",
        "greedy evaluation mean return",
    );
    for (seed, points) in curves {
        let points = points.iter().map(|&(x, y)| (x as f64, y)).collect();
        chart = chart.with_series(Series::new(format!("seed {seed}"), points));
    }
    let last_step = curves
        .iter()
        .flat_map(|(_, points)| points.last())
        .map(|&(step, _)| step as f64)
        .fold(0.0, f64::max);
    if let Some(best) = summary.optimal_return.filter(|_| last_step > 0.0) {
        chart = chart.with_series(Series::new(
            "optimal (dynamic programming)",
            vec![(0.0, best), (last_step, best)],
        ));
    }
    save(&chart, dir, "teacher_learning_curves.png")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sweep_draws_one_learning_curve_per_seed_into_its_plots_folder() {
        let dir = std::env::temp_dir().join(format!("retort-curves-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let summary = SweepSummary {
            experiment: "curves".into(),
            env: "CliffWalking-v1".into(),
            seeds: vec![0, 1],
            optimal_return: Some(-13.0),
            configurations: Vec::new(),
        };
        let curves = vec![
            (0, vec![(1000, -100.0), (2000, -17.0), (3000, -13.0)]),
            (1, vec![(1000, -40.0), (2000, -13.0)]),
        ];
        sweep_learning_curves(&dir, &summary, &curves).unwrap();
        let png = std::fs::read(dir.join("plots/teacher_learning_curves.png")).unwrap();
        assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
