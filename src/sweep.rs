//! `retort sweep`: one experiment over several seeds and distillation settings, aggregated
//! into means with 95 % confidence intervals.
//!
//! Each seed trains its teacher once; every configuration of the `[sweep]` table is then
//! distilled from that same teacher, so configurations differ only in what they vary. Seeds
//! run in parallel (`--jobs`), each on one libtorch thread. Every single run is an ordinary
//! run directory, `DIR/<configuration>/seed-<n>/`; the aggregate goes to `DIR/summary.json`
//! and `DIR/summary.md`, its plots (return and agreement against parameters, each seed's
//! teacher learning curve, and each configuration's students' agreement while fitting) to
//! `DIR/plots/`.

use crate::experiment::{nearest_key, Experiment};
use crate::pipeline::{self, write_atomic, RunEnd, Stages, TeacherSource};
use crate::report::RunSummary;
use anyhow::{anyhow, bail, Context, Result};
use rayon::prelude::*;
use retort_core::{mean_std_ci95, Summary};
use retort_distill::DistillConfig;
use serde::Serialize;
use std::path::{Path, PathBuf};

/// One combination of the `[sweep]` values.
pub struct Configuration {
    /// Folder-safe name, e.g. `loss-kl_temperature-0.01`; `base` when nothing is swept.
    pub name: String,
    /// The swept keys and their values in this configuration.
    pub overrides: Vec<(String, toml::Value)>,
    /// The experiment with these values applied.
    pub experiment: Experiment,
}

/// Expands the `[sweep]` table into every combination, validating each one.
///
/// Errors name the `[sweep]` key at fault (and, for a misspelt one, the nearest `[distill]`
/// key) but not the file, which the caller adds.
pub fn configurations(experiment: &Experiment) -> Result<Vec<Configuration>> {
    let distill_keys = toml::Table::try_from(DistillConfig::default())
        .expect("a distill config serialises to a TOML table");
    let mut combos: Vec<Vec<(String, toml::Value)>> = vec![Vec::new()];
    for (key, values) in &experiment.sweep {
        if !distill_keys.contains_key(key) {
            let keys: Vec<&str> = distill_keys.keys().map(String::as_str).collect();
            let hint = nearest_key(key, keys.iter().copied())
                .map_or(String::new(), |k| format!("did you mean `{k}`? "));
            let all: Vec<String> = keys.iter().map(|k| format!("`{k}`")).collect();
            bail!(
                "[sweep]: unknown key `{key}`; {hint}sweep keys are [distill] keys: {}",
                all.join(", ")
            );
        }
        if values.is_empty() {
            bail!("sweep.{key} is an empty list; give at least one value");
        }
        combos = combos
            .into_iter()
            .flat_map(|combo| {
                values.iter().map(move |value| {
                    let mut next = combo.clone();
                    next.push((key.clone(), value.clone()));
                    next
                })
            })
            .collect();
    }
    combos
        .into_iter()
        .map(|overrides| {
            let mut table = toml::Value::try_from(&experiment.distill)
                .expect("a distill config serialises to TOML");
            for (key, value) in &overrides {
                table
                    .as_table_mut()
                    .expect("a distill config is a table")
                    .insert(key.clone(), value.clone());
            }
            let distill: DistillConfig = table.try_into().map_err(|e| {
                let message = e.to_string();
                anyhow!("[sweep]: {}", message.trim_end())
            })?;
            distill.validate().context("[sweep]")?;
            let mut configured = experiment.clone();
            configured.distill = distill;
            configured.sweep.clear();
            Ok(Configuration {
                name: name_of(&overrides),
                overrides,
                experiment: configured,
            })
        })
        .collect()
}

/// A folder-safe name for a set of overrides.
fn name_of(overrides: &[(String, toml::Value)]) -> String {
    if overrides.is_empty() {
        return "base".into();
    }
    let parts: Vec<String> = overrides
        .iter()
        .map(|(key, value)| {
            let value = value.to_string().trim_matches('"').to_string();
            let safe: String = value
                .chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                        c
                    } else {
                        '_'
                    }
                })
                .collect();
            format!("{key}-{safe}")
        })
        .collect();
    parts.join("_")
}

/// A metric over seeds.
#[derive(Clone, Debug, Serialize)]
pub struct Aggregate {
    /// Mean over seeds.
    pub mean: f64,
    /// Half-width of the 95 % confidence interval of that mean.
    pub ci95: f64,
    /// One value per seed, in seed order.
    pub values: Vec<f64>,
}

impl Aggregate {
    fn of(values: Vec<f64>) -> Self {
        let Summary { mean, ci95, .. } = mean_std_ci95(&values);
        Aggregate { mean, ci95, values }
    }
}

/// One student of one configuration, over seeds.
#[derive(Clone, Debug, Serialize)]
pub struct StudentAggregate {
    /// The student's name.
    pub name: String,
    /// Hidden widths.
    pub hidden: Vec<usize>,
    /// Parameters.
    pub params: usize,
    /// Teacher parameters ÷ student parameters.
    pub compression: f64,
    /// Mean greedy return of each seed's final evaluation.
    pub return_mean: Aggregate,
    /// Agreement with the teacher on held-out states.
    pub agreement: Aggregate,
    /// The agreement while fitting, at the gradient steps every seed measured it.
    pub agreement_curve: Vec<CurvePoint>,
    /// Each seed's exact expected return, on grid maps.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expected_return: Option<Aggregate>,
}

/// One point of a learning curve over seeds.
#[derive(Clone, Debug, Serialize)]
pub struct CurvePoint {
    /// Gradient steps done.
    pub step: u64,
    /// The agreement there.
    pub agreement: Aggregate,
}

/// One configuration over seeds.
#[derive(Clone, Debug, Serialize)]
pub struct ConfigurationAggregate {
    /// The configuration's name (its folder).
    pub name: String,
    /// The swept keys and their values.
    pub overrides: toml::Table,
    /// The teacher's mean return, over seeds.
    pub teacher_return_mean: Aggregate,
    /// The teacher's exact expected return over seeds, on grid maps.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub teacher_expected_return: Option<Aggregate>,
    /// Teacher parameters.
    pub teacher_params: usize,
    /// Every student.
    pub students: Vec<StudentAggregate>,
}

/// The whole of a sweep's `summary.json`.
#[derive(Clone, Debug, Serialize)]
pub struct SweepSummary {
    /// The experiment's name.
    pub experiment: String,
    /// Environment id.
    pub env: String,
    /// The seeds run.
    pub seeds: Vec<u64>,
    /// Best achievable mean return (grid maps, by dynamic programming); absent where no
    /// oracle exists.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub optimal_return: Option<f64>,
    /// Every configuration.
    pub configurations: Vec<ConfigurationAggregate>,
}

/// Runs `seeds` seeds (from the experiment's seed on) of every configuration into `dir`, with
/// at most `jobs` seeds at once.
pub fn sweep(experiment: &Experiment, dir: &Path, seeds: u64, jobs: usize) -> Result<SweepSummary> {
    let configurations = configurations(experiment)?;
    write_atomic(&dir.join("config.toml"), &experiment.to_toml())?;
    let seed_list: Vec<u64> = (0..seeds).map(|i| experiment.seed + i).collect();
    tracing::info!(
        configurations = configurations.len(),
        seeds,
        jobs,
        "sweeping {}",
        experiment.name
    );
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(jobs)
        .build()
        .context("cannot start the worker threads")?;
    let per_seed: Vec<Result<Vec<RunSummary>>> = pool.install(|| {
        seed_list
            .par_iter()
            .map(|&seed| run_seed(&configurations, dir, seed))
            .collect()
    });
    let per_seed = per_seed.into_iter().collect::<Result<Vec<_>>>()?;

    let aggregates = configurations
        .iter()
        .enumerate()
        .map(|(c, configuration)| {
            let runs: Vec<&RunSummary> = per_seed.iter().map(|runs| &runs[c]).collect();
            aggregate(configuration, &runs)
        })
        .collect();
    // The first configuration of each seed trained its teacher; the others loaded it.
    let curves: Vec<(u64, Vec<(u64, f64)>)> = seed_list
        .iter()
        .zip(&per_seed)
        .map(|(&seed, runs)| (seed, runs[0].teacher.eval_curve.clone()))
        .collect();
    let summary = SweepSummary {
        experiment: experiment.name.clone(),
        env: experiment.env.id.clone(),
        seeds: seed_list,
        optimal_return: retort_envs::optimal_return(&experiment.env)?,
        configurations: aggregates,
    };
    let json = serde_json::to_string_pretty(&summary).expect("a sweep summary serialises");
    write_atomic(&dir.join("summary.json"), &(json + "\n"))?;
    write_atomic(&dir.join("summary.md"), &to_markdown(&summary))?;
    crate::plots::sweep_plots(dir, &summary)?;
    crate::plots::sweep_learning_curves(dir, &summary, &curves)?;
    crate::plots::sweep_agreement_curves(dir, &summary)?;
    Ok(summary)
}

/// Every configuration for one seed: the first trains the teacher, the others reuse it.
fn run_seed(configurations: &[Configuration], dir: &Path, seed: u64) -> Result<Vec<RunSummary>> {
    let mut teacher: Option<PathBuf> = None;
    let mut summaries = Vec::with_capacity(configurations.len());
    for configuration in configurations {
        let mut experiment = configuration.experiment.clone();
        experiment.seed = seed;
        let run_dir = dir.join(&configuration.name).join(format!("seed-{seed}"));
        std::fs::create_dir_all(&run_dir)
            .with_context(|| format!("cannot create {}", run_dir.display()))?;
        let source = match &teacher {
            None => TeacherSource::Train,
            Some(path) => TeacherSource::Load(path.clone()),
        };
        let stages = Stages {
            teacher: source,
            students: true,
            progress: false,
            resume: false,
            stop_at: None,
        };
        let end = pipeline::run(&experiment, &run_dir, stages)
            .with_context(|| format!("run {}", run_dir.display()))?;
        let summary = match end {
            RunEnd::Finished(summary) => *summary,
            RunEnd::Stopped(step) => bail!("run {} stopped at env step {step}", run_dir.display()),
        };
        tracing::info!(
            configuration = %configuration.name,
            seed,
            teacher = summary.teacher.return_mean,
            "run finished"
        );
        teacher.get_or_insert_with(|| run_dir.join("teacher"));
        summaries.push(summary);
    }
    Ok(summaries)
}

fn aggregate(configuration: &Configuration, runs: &[&RunSummary]) -> ConfigurationAggregate {
    let first = runs[0];
    let students = first
        .students
        .iter()
        .enumerate()
        .map(|(i, student)| StudentAggregate {
            name: student.name.clone(),
            hidden: student.hidden.clone(),
            params: student.params,
            compression: student.compression,
            return_mean: Aggregate::of(runs.iter().map(|r| r.students[i].return_mean).collect()),
            agreement: Aggregate::of(runs.iter().map(|r| r.students[i].agreement).collect()),
            agreement_curve: curve_over_seeds(runs.iter().map(|r| &r.students[i].agreement_curve)),
            expected_return: over_seeds(runs.iter().map(|r| r.students[i].expected_return)),
        })
        .collect();
    ConfigurationAggregate {
        name: configuration.name.clone(),
        overrides: configuration.overrides.iter().cloned().collect(),
        teacher_return_mean: Aggregate::of(runs.iter().map(|r| r.teacher.return_mean).collect()),
        teacher_expected_return: over_seeds(runs.iter().map(|r| r.teacher.expected_return)),
        teacher_params: first.teacher.params,
        students,
    }
}

/// A value every seed has, over seeds; `None` if any seed lacks it.
fn over_seeds(values: impl Iterator<Item = Option<f64>>) -> Option<Aggregate> {
    values.collect::<Option<Vec<f64>>>().map(Aggregate::of)
}

/// The curves of several seeds, point by point, at the steps all of them have (every seed of
/// a configuration measures at the same steps unless a run ended early).
fn curve_over_seeds<'a>(curves: impl Iterator<Item = &'a Vec<(u64, f64)>>) -> Vec<CurvePoint> {
    let curves: Vec<&Vec<(u64, f64)>> = curves.collect();
    let Some(first) = curves.first() else {
        return Vec::new();
    };
    first
        .iter()
        .filter_map(|&(step, _)| {
            let values: Option<Vec<f64>> = curves
                .iter()
                .map(|c| c.iter().find(|p| p.0 == step).map(|p| p.1))
                .collect();
            Some(CurvePoint {
                step,
                agreement: Aggregate::of(values?),
            })
        })
        .collect()
}

/// The sweep as a Markdown table.
pub fn to_markdown(summary: &SweepSummary) -> String {
    let mut out = format!(
        "# {} — {} — seeds {:?}\n\nMeans over seeds ± 95 % confidence interval.\n\n",
        summary.experiment, summary.env, summary.seeds
    );
    // Grid maps have an oracle: their optimum, and each policy's exact expected return beside
    // the played episodes' mean. Returns within [-1, 1] get four decimals.
    let exact = summary.optimal_return.is_some();
    let digits = match summary.optimal_return {
        Some(best) if best.abs() <= 1.0 => 4,
        _ => 2,
    };
    let show = |a: &Aggregate| format!("{:.*} ± {:.*}", digits, a.mean, digits, a.ci95);
    let show_exact = |a: &Option<Aggregate>| match (exact, a) {
        (false, _) => String::new(),
        (true, Some(a)) => format!(" {} |", show(a)),
        (true, None) => " — |".into(),
    };
    if let Some(best) = summary.optimal_return {
        out += &format!(
            "Optimal mean return (dynamic programming): {best:.4}. The expected return is each \
             greedy policy's, exact by dynamic programming; the return is the mean of the \
             played evaluation episodes, which estimates it.\n\n"
        );
    }
    out += "| configuration | policy | params | compression | return | agreement |";
    out += if exact { " expected return |\n" } else { "\n" };
    out += if exact {
        "|---|---|---|---|---|---|---|\n"
    } else {
        "|---|---|---|---|---|---|\n"
    };
    for c in &summary.configurations {
        out += &format!(
            "| {} | teacher | {} | 1.0× | {} | — |{}\n",
            c.name,
            c.teacher_params,
            show(&c.teacher_return_mean),
            show_exact(&c.teacher_expected_return)
        );
        for s in &c.students {
            out += &format!(
                "| {} | {} | {} | {:.1}× | {} | {:.1} ± {:.1} % |{}\n",
                c.name,
                s.name,
                s.params,
                s.compression,
                show(&s.return_mean),
                100.0 * s.agreement.mean,
                100.0 * s.agreement.ci95,
                show_exact(&s.expected_return)
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn experiment(sweep: &str) -> Experiment {
        let text = format!("[env]\nid = \"CartPole-v1\"\n[sweep]\n{sweep}");
        toml::from_str(&text).unwrap()
    }

    #[test]
    fn on_grid_maps_the_table_adds_the_exact_expected_return_with_four_decimals() {
        let aggregate = |values: &[f64]| Aggregate::of(values.to_vec());
        let student = StudentAggregate {
            name: "h8".into(),
            hidden: vec![8],
            params: 172,
            compression: 7.8,
            return_mean: aggregate(&[0.74, 0.75]),
            agreement: aggregate(&[1.0, 1.0]),
            agreement_curve: Vec::new(),
            expected_return: Some(aggregate(&[0.7402, 0.7402])),
        };
        let mut summary = SweepSummary {
            experiment: "lake".into(),
            env: "FrozenLake-v1".into(),
            seeds: vec![0, 1],
            optimal_return: Some(0.7442),
            configurations: vec![ConfigurationAggregate {
                name: "base".into(),
                overrides: toml::Table::new(),
                teacher_return_mean: aggregate(&[0.7421, 0.7431]),
                teacher_expected_return: Some(aggregate(&[0.7402, 0.7402])),
                teacher_params: 1348,
                students: vec![student],
            }],
        };
        let table = to_markdown(&summary);
        // Two seeds: t = 12.706 and the standard error of 0.7421 and 0.7431 is 0.0005.
        assert!(
            table.contains(
                "| base | teacher | 1348 | 1.0× | 0.7426 ± 0.0064 | — | 0.7402 ± 0.0000 |"
            ),
            "{table}"
        );
        assert!(
            table.contains(
                "| base | h8 | 172 | 7.8× | 0.7450 ± 0.0635 | 100.0 ± 0.0 % | 0.7402 ± 0.0000 |"
            ),
            "{table}"
        );
        // Without an oracle there is no such column, and returns get two decimals.
        summary.optimal_return = None;
        let table = to_markdown(&summary);
        assert!(
            table.contains("| base | teacher | 1348 | 1.0× | 0.74 ± 0.01 | — |\n"),
            "{table}"
        );
    }

    #[test]
    fn every_combination_of_the_swept_values_is_one_configuration() {
        let e = experiment("loss = [\"kl\", \"nll\"]\ntemperature = [0.01, 1.0]\n");
        let names: Vec<String> = configurations(&e)
            .unwrap()
            .into_iter()
            .map(|c| c.name)
            .collect();
        assert_eq!(
            names,
            [
                "loss-kl_temperature-0.01",
                "loss-kl_temperature-1.0",
                "loss-nll_temperature-0.01",
                "loss-nll_temperature-1.0"
            ]
        );
    }

    #[test]
    fn swept_values_are_validated_by_key() {
        let message = format!(
            "{:#}",
            configurations(&experiment("loss = [\"l2\"]\n"))
                .err()
                .unwrap()
        );
        assert!(message.contains("l2"), "{message}");
        let message = format!(
            "{:#}",
            configurations(&experiment("temperature = [-1.0]\n"))
                .err()
                .unwrap()
        );
        assert!(message.contains("distill.temperature = -1"), "{message}");
        let message = format!(
            "{:#}",
            configurations(&experiment("lr = [1.0]\n")).err().unwrap()
        );
        assert!(message.contains("lr"), "{message}");
    }

    #[test]
    fn a_misspelt_sweep_key_gets_the_nearest_distill_key() {
        let message = format!(
            "{:#}",
            configurations(&experiment("temprature = [1.0]\n"))
                .err()
                .unwrap()
        );
        assert!(
            message.contains("unknown key `temprature`; did you mean `temperature`?"),
            "{message}"
        );
        // A key of another table is not a [distill] key, and nothing close is offered.
        let message = format!(
            "{:#}",
            configurations(&experiment("gamma = [0.9]\n"))
                .err()
                .unwrap()
        );
        assert!(message.contains("`gamma`"), "{message}");
        assert!(!message.contains("did you mean"), "{message}");
        assert!(message.contains("`holdout_fraction`"), "{message}");
    }

    #[test]
    fn nothing_swept_is_one_base_configuration() {
        let e: Experiment = toml::from_str("[env]\nid = \"CartPole-v1\"\n").unwrap();
        let all = configurations(&e).unwrap();
        assert_eq!(all.len(), 1);
        assert_eq!(all[0].name, "base");
    }
}
