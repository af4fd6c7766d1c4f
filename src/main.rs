//! `retort`: train a DQN teacher, distill it into small students, and compare them.
//!
//! The binary holds no algorithm: it parses the command line, reads the experiment file,
//! calls the library crates stage by stage and writes the run directory.

mod experiment;
mod observe;
mod pipeline;
mod plots;
mod report;
mod sweep;

use anyhow::{bail, Context, Result};
use clap::{Parser, Subcommand};
use experiment::Experiment;
use pipeline::{Interrupted, RunEnd, Stages, TeacherSource};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Exit status of a run that failed for any reason other than those below.
const EXIT_FAILURE: u8 = 1;
/// Exit status when training or distillation stopped being finite.
const EXIT_DIVERGED: u8 = 3;
/// Exit status after Ctrl-C (128 + SIGINT, as shells report it).
const EXIT_INTERRUPTED: u8 = 130;

/// The exit statuses, at the end of `retort --help`; the README lists the same.
const EXIT_STATUS: &str = "Exit status: 0 success (also when stdout is closed early, as by \
    `| head`); 1 bad input or a failed run; 2 command-line misuse; 3 training or distillation \
    diverged; 130 interrupted by Ctrl-C (what was finished is saved).";

/// Policy distillation for reinforcement learning: train a DQN teacher, distill it into much
/// smaller students, and compare their returns in a table and in TensorBoard.
#[derive(Parser)]
#[command(name = "retort", version, about, long_about = None, after_help = EXIT_STATUS)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// Settings that override the experiment file.
#[derive(clap::Args, Clone)]
struct RunArgs {
    /// The experiment file (TOML).
    experiment: PathBuf,
    /// Run directory; must not exist yet or be empty [default: runs/<name>-<seed>-<time>].
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Seed of every random stream (overrides the experiment's `seed`).
    #[arg(long, value_name = "N")]
    seed: Option<u64>,
    /// `cpu`, `cuda` or `cuda:N` (overrides the experiment's `device`).
    #[arg(long, value_parser = device_name)]
    device: Option<String>,
    /// libtorch threads (overrides the experiment's `threads`).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    threads: Option<u16>,
}

/// [`RunArgs`] for the commands that train a teacher, which can also stop and resume.
#[derive(clap::Args, Clone)]
struct TrainArgs {
    /// The experiment file (TOML). With --resume it may be left out: the run's own
    /// config.toml is used.
    #[arg(required_unless_present = "resume")]
    experiment: Option<PathBuf>,
    /// Run directory; must not exist yet or be empty [default: runs/<name>-<seed>-<time>].
    #[arg(long, value_name = "DIR", conflicts_with = "resume")]
    out: Option<PathBuf>,
    /// Seed of every random stream (overrides the experiment's `seed`).
    #[arg(long, value_name = "N", conflicts_with = "resume")]
    seed: Option<u64>,
    /// `cpu`, `cuda` or `cuda:N` (overrides the experiment's `device`).
    #[arg(long, value_parser = device_name)]
    device: Option<String>,
    /// libtorch threads (overrides the experiment's `threads`).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    threads: Option<u16>,
    /// Continue the stopped or interrupted run in DIR where its last checkpoint left it; the
    /// result equals that of an uninterrupted run (on the same device and thread count).
    #[arg(long, value_name = "DIR")]
    resume: Option<PathBuf>,
    /// Stop the teacher once it has taken STEP env steps (with num_envs copies, at the first
    /// multiple of num_envs from STEP on), saving a resumable checkpoint; continue later with
    /// --resume.
    #[arg(long, value_name = "STEP", value_parser = clap::value_parser!(u64).range(1..))]
    stop_at: Option<u64>,
}

#[derive(Subcommand)]
enum Command {
    /// The whole pipeline: teacher, students, evaluation, report.
    Run(TrainArgs),
    /// The teacher alone: train, evaluate, save.
    Train(TrainArgs),
    /// Students from an existing teacher checkpoint.
    Distill {
        #[command(flatten)]
        args: RunArgs,
        /// The teacher's checkpoint directory (a run's `teacher/`).
        #[arg(long, value_name = "DIR")]
        teacher: PathBuf,
    },
    /// Several seeds of an experiment, each with every combination of its `[sweep]` values.
    ///
    /// One teacher is trained per seed; every combination of the `[sweep]` table's `[distill]`
    /// values is distilled from it. Means with 95 % confidence intervals over the seeds go to
    /// summary.json, summary.md and plots/; each single run keeps its own run directory.
    Sweep {
        #[command(flatten)]
        args: RunArgs,
        /// Number of seeds, counting up from the experiment's seed.
        #[arg(
            long,
            value_name = "N",
            default_value_t = 5,
            value_parser = clap::value_parser!(u64).range(1..)
        )]
        seeds: u64,
        /// Seeds run at once [default: the number of CPU cores].
        #[arg(long, value_name = "J", value_parser = clap::value_parser!(u16).range(1..))]
        jobs: Option<u16>,
    },
    /// A saved policy for the libtorch-free runtime (`retort-runtime`).
    ///
    /// Loads the checkpoint's model.json and model.safetensors without libtorch, copies them
    /// to DIR, and times one action.
    Export {
        /// A checkpoint directory (a run's `teacher/` or `students/<name>/`).
        checkpoint: PathBuf,
        /// Where to write; must not exist yet or be empty.
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
    },
    /// Greedy evaluation of any saved policy.
    ///
    /// Plays the episodes and prints their mean return with its 95 % CI; on grid maps also the
    /// policy's exact expected return by dynamic programming.
    Eval {
        /// A checkpoint directory (holding model.json and model.safetensors).
        checkpoint: PathBuf,
        /// Number of episodes, each in its own environment copy.
        #[arg(
            long,
            value_name = "N",
            default_value_t = 100,
            value_parser = clap::value_parser!(u32).range(1..)
        )]
        episodes: u32,
        /// Episode i is reset with seed `N + i`.
        #[arg(long, value_name = "N", default_value_t = 0)]
        seed: u64,
        /// `cpu`, `cuda` or `cuda:N`.
        #[arg(long, default_value = "cpu", value_parser = device_name)]
        device: String,
    },
}

/// Accepts the device names retort knows, so that a typo is a usage error; whether the device
/// exists is checked later.
fn device_name(name: &str) -> Result<String, String> {
    match retort_core::device_from_name(name) {
        Ok(_) => Ok(name.to_string()),
        Err(_) => Err(format!("expected {}", retort_core::DEVICE_NAMES)),
    }
}

/// The reader of standard output went away (`retort … | head -1`). Not a failure: every
/// command prints only once its work is done and saved, so it ends quietly with status 0.
#[derive(Debug, thiserror::Error)]
#[error("standard output was closed")]
struct StdoutClosed;

/// `println!` that returns an error instead of panicking when stdout cannot be written:
/// [`StdoutClosed`] for a closed pipe, the I/O error otherwise.
macro_rules! say {
    ($($arg:tt)*) => {
        print_line(format_args!($($arg)*))?
    };
}

fn print_line(line: std::fmt::Arguments) -> Result<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match writeln!(out, "{line}").and_then(|()| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Err(StdoutClosed.into()),
        Err(e) => Err(anyhow::Error::new(e).context("cannot write to standard output")),
    }
}

fn main() -> ExitCode {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    // Colour only for a person at a terminal, not in files and pipes.
    use std::io::IsTerminal;
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        // A closed stderr (`retort … 2>&1 | head`) must not stop a run: its logs are lost,
        // and the report of that loss would be written to the same closed stderr.
        .log_internal_errors(false)
        .init();
    let cli = Cli::parse();
    observe::install_interrupt_handler();
    match dispatch(cli.command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) if error.chain().any(|e| e.is::<StdoutClosed>()) => ExitCode::SUCCESS,
        Err(error) => {
            report_error(&error);
            ExitCode::from(exit_code(&error))
        }
    }
}

/// Prints an error and its causes to stderr, each text once (libraries often repeat their
/// source's text in their own). Nothing is left to do if stderr itself is closed.
fn report_error(error: &anyhow::Error) {
    use std::io::Write;
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "error: {error}");
    let mut shown = error.to_string();
    for cause in error.chain().skip(1) {
        let text = cause.to_string();
        if !shown.contains(&text) {
            let _ = writeln!(err, "  caused by: {text}");
            shown += &text;
        }
    }
}

fn exit_code(error: &anyhow::Error) -> u8 {
    for cause in error.chain() {
        if cause.downcast_ref::<Interrupted>().is_some() {
            return EXIT_INTERRUPTED;
        }
        let diverged = matches!(
            cause.downcast_ref::<retort_dqn::DqnError>(),
            Some(retort_dqn::DqnError::Diverged { .. })
        ) || matches!(
            cause.downcast_ref::<retort_distill::DistillError>(),
            Some(retort_distill::DistillError::Diverged { .. })
        );
        if diverged {
            return EXIT_DIVERGED;
        }
    }
    EXIT_FAILURE
}

fn dispatch(command: Command) -> Result<()> {
    match command {
        Command::Run(args) => train(&args, true),
        Command::Train(args) => train(&args, false),
        Command::Distill { args, teacher } => run(
            &args,
            Stages {
                teacher: TeacherSource::Load(teacher),
                students: true,
                progress: true,
                resume: false,
                stop_at: None,
            },
        ),
        Command::Sweep { args, seeds, jobs } => sweep(&args, seeds, jobs),
        Command::Export { checkpoint, out } => export(&checkpoint, &out),
        Command::Eval {
            checkpoint,
            episodes,
            seed,
            device,
        } => eval(&checkpoint, episodes, seed, &device),
    }
}

/// The experiment file with the command line's overrides applied and checked.
fn load_experiment(args: &RunArgs) -> Result<Experiment> {
    let mut experiment = Experiment::load(&args.experiment)?;
    if let Some(seed) = args.seed {
        experiment.seed = seed;
    }
    if let Some(device) = &args.device {
        experiment.device = device.clone();
    }
    if let Some(threads) = args.threads {
        experiment.threads = threads.into();
    }
    experiment.validate()?;
    // Refuse a missing device before creating anything on disk, naming the file when the
    // device came from it.
    retort_core::parse_device(&experiment.device).with_context(|| match &args.device {
        Some(_) => format!("--device {}", experiment.device),
        None => format!(
            "{}: device = {:?}",
            args.experiment.display(),
            experiment.device
        ),
    })?;
    Ok(experiment)
}

/// `--out`, or `runs/<name>-<seed>-<time>`.
fn run_dir(args: &RunArgs, experiment: &Experiment) -> PathBuf {
    match &args.out {
        Some(dir) => dir.clone(),
        None => PathBuf::from("runs").join(format!(
            "{}-{}-{}",
            experiment.name,
            experiment.seed,
            utc_timestamp()
        )),
    }
}

/// `run` (with students) or `train` (without), fresh or resumed.
fn train(args: &TrainArgs, students: bool) -> Result<()> {
    let stages = Stages {
        teacher: TeacherSource::Train,
        students,
        progress: true,
        resume: args.resume.is_some(),
        stop_at: args.stop_at,
    };
    let Some(dir) = &args.resume else {
        let run_args = RunArgs {
            experiment: args
                .experiment
                .clone()
                .context("an experiment file is needed unless --resume names a run")?,
            out: args.out.clone(),
            seed: args.seed,
            device: args.device.clone(),
            threads: args.threads,
        };
        return run(&run_args, stages);
    };
    let experiment = resumed_experiment(args, dir)?;
    let end = pipeline::run(&experiment, dir, stages)?;
    report_end(end, dir, students)
}

/// Whether `dir` holds a sweep: folders `<configuration>/seed-<n>` of single runs.
fn is_sweep_dir(dir: &Path) -> bool {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return false;
    };
    entries.flatten().any(|entry| {
        std::fs::read_dir(entry.path()).is_ok_and(|mut inner| {
            inner.any(|e| {
                e.is_ok_and(|e| {
                    e.file_name().to_string_lossy().starts_with("seed-")
                        && e.path().join("config.toml").is_file()
                })
            })
        })
    })
}

/// The experiment of the run in `dir` (its config.toml), after checking that the experiment
/// file given with it, if any, is the same one.
fn resumed_experiment(args: &TrainArgs, dir: &Path) -> Result<Experiment> {
    let saved_path = dir.join("config.toml");
    if !dir.is_dir() {
        bail!(
            "--resume {}: no such directory; pass the directory of a run that `retort run` or \
             `retort train` started",
            dir.display()
        );
    }
    if !saved_path.is_file() {
        bail!(
            "--resume {}: no config.toml there; pass the directory of a run that `retort run` \
             or `retort train` started",
            dir.display()
        );
    }
    if is_sweep_dir(dir) {
        bail!(
            "--resume {}: this is the directory of a `retort sweep`, whose runs are its \
             <configuration>/seed-<n> folders; --resume continues one run of `retort run` or \
             `retort train`, and a sweep is rerun into a new --out directory",
            dir.display()
        );
    }
    let saved = Experiment::load(&saved_path)?;
    if let Some(path) = &args.experiment {
        let given = Experiment::load(path)?;
        let json = |e: &Experiment| serde_json::to_value(e).expect("an experiment serialises");
        let keys = retort_core::differing_keys("", &json(&saved), &json(&given));
        if !keys.is_empty() {
            bail!(
                "{} differs from the run's {} in {}; resume with the run's own configuration \
                 (leave the experiment out)",
                path.display(),
                saved_path.display(),
                keys.join(", ")
            );
        }
    }
    let run_args = RunArgs {
        experiment: saved_path,
        out: None,
        seed: None,
        device: args.device.clone(),
        threads: args.threads,
    };
    load_experiment(&run_args)
}

fn run(args: &RunArgs, stages: Stages) -> Result<()> {
    let experiment = load_experiment(args)?;
    let dir = run_dir(args, &experiment);
    let created = prepare_run_dir(&dir)?;
    let students = stages.students;
    let end = match pipeline::run(&experiment, &dir, stages) {
        Ok(end) => end,
        Err(error) => {
            discard_unfinished_run(&dir, created, &error);
            return Err(error);
        }
    };
    report_end(end, &dir, students)
}

/// Prints the summary of a finished run, or how to continue a stopped one.
fn report_end(end: RunEnd, dir: &Path, students: bool) -> Result<()> {
    let summary = match end {
        RunEnd::Finished(summary) => summary,
        RunEnd::Stopped(step) => {
            let command = if students { "run" } else { "train" };
            say!(
                "teacher stopped at env step {step}, as --stop-at asked; continue with \
                 `retort {command} --resume {}`",
                dir.display()
            );
            return Ok(());
        }
    };
    say!("{}", summary.to_markdown());
    say!("run directory: {}", dir.display());
    say!(
        "compare in TensorBoard: tensorboard --logdir {}",
        dir.display()
    );
    Ok(())
}

fn sweep(args: &RunArgs, seeds: u64, jobs: Option<u16>) -> Result<()> {
    let experiment = load_experiment(args)?;
    // Every configuration is checked before anything runs.
    sweep::configurations(&experiment)
        .with_context(|| format!("{}: invalid [sweep] table", args.experiment.display()))?;
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let jobs = jobs.map_or(cores, usize::from).min(seeds as usize);
    let dir = run_dir(args, &experiment);
    let created = prepare_run_dir(&dir)?;
    let summary = match sweep::sweep(&experiment, &dir, seeds, jobs) {
        Ok(summary) => summary,
        Err(error) => {
            discard_unfinished_run(&dir, created, &error);
            return Err(error);
        }
    };
    say!("{}", sweep::to_markdown(&summary));
    say!("sweep directory: {}", dir.display());
    say!(
        "compare in TensorBoard: tensorboard --logdir {}",
        dir.display()
    );
    Ok(())
}

/// Removes the run directory of a run that failed before it saved any checkpoint, so that bad
/// input leaves nothing behind. Runs that diverged or were interrupted keep their directory:
/// its TensorBoard curves show what happened, and its checkpoints what was finished.
fn discard_unfinished_run(dir: &Path, created: Option<PathBuf>, error: &anyhow::Error) {
    let code = exit_code(error);
    let has_checkpoint = contains_checkpoint(dir);
    if let (Some(created), EXIT_FAILURE, false) = (created, code, has_checkpoint) {
        if let Err(e) = std::fs::remove_dir_all(&created) {
            tracing::warn!(
                "could not remove the unfinished run directory {}: {e}",
                dir.display()
            );
        }
    }
}

/// Whether any checkpoint (`model.json`) was saved anywhere under `dir`.
fn contains_checkpoint(dir: &Path) -> bool {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return false;
    };
    entries.flatten().any(|entry| {
        let path = entry.path();
        path.file_name().is_some_and(|n| n == "model.json")
            || (path.is_dir() && contains_checkpoint(&path))
    })
}

/// Creates the run directory, refusing one that already holds files: a run never mixes its
/// files with another's. Returns the outermost folder this call created, if any.
fn prepare_run_dir(dir: &Path) -> Result<Option<PathBuf>> {
    if dir.exists() {
        let mut entries = std::fs::read_dir(dir).with_context(|| {
            format!(
                "output directory {} is not a readable directory",
                dir.display()
            )
        })?;
        if entries.next().is_some() {
            bail!(
                "output directory {} already exists and is not empty; pass another --out or \
                 remove it",
                dir.display()
            );
        }
    }
    // The outermost folder this call creates: removing it undoes everything created here.
    let created = dir
        .ancestors()
        .take_while(|a| !a.as_os_str().is_empty() && !a.exists())
        .last();
    let created = created.map(Path::to_path_buf);
    std::fs::create_dir_all(dir)
        .with_context(|| format!("cannot create output directory {}", dir.display()))?;
    Ok(created)
}

fn eval(checkpoint: &Path, episodes: u32, seed: u64, device: &str) -> Result<()> {
    let episodes = episodes as usize;
    let device = retort_core::parse_device(device)?;
    retort_core::set_threads(1);
    let (card, policy) = retort_core::load_checkpoint(checkpoint, device)?;
    // One environment copy per episode.
    if let Some(total) = retort_dqn::physical_memory() {
        let bytes = episodes as u128 * experiment::env_copy_bytes(card.mlp.obs_dim);
        experiment::check_fits(&format!("--episodes {episodes}"), bytes, total.into())?;
    }
    let config = retort_core::EvalConfig { episodes, seed };
    let stats = retort_core::evaluate(&policy, &card.env, &config)?;
    let s = stats.summary;
    say!(
        "{} {} {} ({} params) on {}: return {:.2} ± {:.2} (95 % CI), std {:.2}, {} episodes",
        card.role,
        checkpoint.display(),
        architecture(&card.mlp),
        card.params,
        card.env.id,
        s.mean,
        s.ci95,
        s.std,
        episodes
    );
    if let Some(evaluator) = retort_envs::exact_evaluator(&card.env)? {
        let expected = retort_core::exact_return(&policy, &evaluator);
        say!("exact expected return (dynamic programming): {expected:.4}");
    }
    Ok(())
}

fn export(checkpoint: &Path, out: &Path) -> Result<()> {
    let (card, mlp) = retort_runtime::Mlp::load_with_card(checkpoint)?;
    let created = prepare_run_dir(out)?;
    let copied = ["model.json", "model.safetensors"]
        .iter()
        .try_for_each(|name| {
            let tmp = out.join(format!(".partial.{name}"));
            std::fs::copy(checkpoint.join(name), &tmp)
                .with_context(|| format!("cannot write {}", tmp.display()))?;
            std::fs::rename(&tmp, out.join(name))
                .with_context(|| format!("cannot write {}", out.join(name).display()))
        });
    if let Err(error) = copied {
        if let Some(created) = created {
            let _ = std::fs::remove_dir_all(created);
        }
        return Err(error);
    }

    // Time the exported policy on observations spread around zero.
    let n = 20_000;
    let obs: Vec<f32> = (0..n * mlp.obs_dim())
        .map(|i| ((i as f32) * 0.618).sin())
        .collect();
    let start = std::time::Instant::now();
    let mut checksum = 0;
    for row in obs.chunks_exact(mlp.obs_dim()) {
        checksum += mlp.act(row);
    }
    let micros = start.elapsed().as_secs_f64() * 1e6 / n as f64;
    std::hint::black_box(checksum);
    say!(
        "exported {} {} ({} params, {}) to {}: {micros:.3} µs per action without libtorch",
        card.role,
        architecture(&card.mlp),
        card.params,
        card.env.id,
        out.display()
    );
    say!(
        "load it with retort_runtime::Mlp::load(\"{}\")",
        out.display()
    );
    Ok(())
}

/// The hidden widths, followed by `dueling` for a dueling head: `[128, 128] dueling`.
fn architecture(mlp: &retort_runtime::MlpSpec) -> String {
    let head = if mlp.dueling { " dueling" } else { "" };
    format!("{:?}{head}", mlp.hidden)
}

/// The current UTC time as `YYYYMMDD-HHMMSS`, for run directory names.
fn utc_timestamp() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let (days, rest) = (secs / 86_400, secs % 86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}{month:02}{day:02}-{:02}{:02}{:02}",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}
