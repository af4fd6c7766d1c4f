//! The stages of a run — teacher, collection, students, evaluation, report — wired together.
//!
//! Every algorithm lives in the library crates; this module only decides what runs in which
//! order, where its files go and what is logged.

use crate::experiment::Experiment;
use crate::observe::{interrupted, RunObserver};
use crate::report::{RunSummary, StudentSummary, TeacherSummary};
use anyhow::{bail, Context, Result};
use retort_core::seed::{derive, Stream};
use retort_core::{
    evaluate, load_checkpoint, save_checkpoint, EvalConfig, EvalStats, MlpPolicy, ModelCard,
    Observer,
};
use retort_distill::{collect_from_teacher, fit_student, fit_student_dagger, Collection};
use retort_tensorboard::{HParam, SummaryWriter};
use std::path::{Path, PathBuf};
use std::time::Instant;
use tch::Device;

/// Tags compared across runs in TensorBoard's hparams tab.
const HPARAM_METRICS: [&str; 2] = ["eval/final_return_mean", "distill/agreement"];

/// The run stopped because the user pressed Ctrl-C; what was finished is saved.
#[derive(Debug, thiserror::Error)]
#[error("interrupted by Ctrl-C; {saved}")]
pub struct Interrupted {
    /// What was saved, and where.
    pub saved: String,
}

/// Where the teacher comes from.
pub enum TeacherSource {
    /// Train it with the experiment's `[teacher]` settings.
    Train,
    /// Load it from a checkpoint directory.
    Load(PathBuf),
}

/// Which stages to run.
pub struct Stages {
    /// Teacher from training or from a checkpoint.
    pub teacher: TeacherSource,
    /// Collect, fit and evaluate the students.
    pub students: bool,
    /// Draw progress bars (on a terminal); sweeps running many runs at once turn them off.
    pub progress: bool,
    /// Continue the run already in the directory: a finished teacher is reused, an unfinished
    /// one continues from its resumable checkpoint, and the students are fitted afresh.
    pub resume: bool,
    /// Stop the teacher once it has taken this many env steps, leaving a resumable checkpoint.
    pub stop_at: Option<u64>,
}

/// How a run ended.
pub enum RunEnd {
    /// Every stage ran.
    Finished(Box<RunSummary>),
    /// The teacher stopped at this env step, as `Stages::stop_at` asked.
    Stopped(u64),
}

/// The teacher's resumable checkpoint, in `teacher/`. Removed once the teacher is finished.
pub const RESUME_FILE: &str = "resume.safetensors";
/// The teacher's learning-curve points up to its last resumable checkpoint, in `teacher/`.
const CURVES_FILE: &str = "curves.json";
/// The finished teacher's summary, in `teacher/`: a resumed run reuses the teacher it names.
const TEACHER_OUTCOME: &str = "outcome.json";

/// A teacher ready to be distilled.
struct Teacher {
    policy: MlpPolicy,
    summary: TeacherSummary,
    /// Seconds of its training spent by earlier processes of a resumed run, which belong to
    /// the run's total.
    earlier_seconds: f64,
}

/// How training the teacher ended.
enum Trained {
    /// Finished (or finished earlier and reused).
    Ready(Box<Teacher>),
    /// Stopped by `--stop-at` at this env step, resumable.
    Stopped(u64),
}

/// Runs the chosen stages of `experiment` into `dir` and writes the summaries.
pub fn run(experiment: &Experiment, dir: &Path, stages: Stages) -> Result<RunEnd> {
    let start = Instant::now();
    let device = retort_core::parse_device(&experiment.device)?;
    retort_core::set_threads(experiment.threads);
    if !stages.resume {
        write_atomic(&dir.join("config.toml"), &experiment.to_toml())?;
    }

    let teacher = match &stages.teacher {
        TeacherSource::Train => match train_teacher(experiment, dir, device, &stages)? {
            Trained::Ready(teacher) => *teacher,
            Trained::Stopped(step) => return Ok(RunEnd::Stopped(step)),
        },
        TeacherSource::Load(path) => load_teacher(experiment, path, dir, device)?,
    };
    if stages.resume && stages.students {
        // Students are fitted afresh from the finished teacher (seconds of work); the files of
        // an interrupted attempt would otherwise mix with the new ones.
        let students = dir.join("students");
        if students.exists() {
            std::fs::remove_dir_all(&students)
                .with_context(|| format!("cannot clear {}", students.display()))?;
        }
    }
    let earlier_seconds = teacher.earlier_seconds;
    let mut summary = RunSummary {
        experiment: experiment.name.clone(),
        env: experiment.env.id.clone(),
        env_spec: experiment.env.clone(),
        seed: experiment.seed,
        device: experiment.device.clone(),
        optimal_return: retort_envs::optimal_return(&experiment.env)?,
        teacher: teacher.summary,
        distill_states: 0,
        collect_seconds: 0.0,
        students: Vec::new(),
        total_seconds: 0.0,
        tensorboard_logdir: dir.display().to_string(),
    };
    if stages.students && !experiment.students.is_empty() {
        distill_students(
            experiment,
            dir,
            device,
            &teacher.policy,
            stages.progress,
            &mut summary,
        )?;
    }
    summary.total_seconds = start.elapsed().as_secs_f64() + earlier_seconds;

    let json = serde_json::to_string_pretty(&summary).expect("a summary always serialises");
    write_atomic(&dir.join("summary.json"), &(json + "\n"))?;
    write_atomic(&dir.join("summary.md"), &summary.to_markdown())?;
    if !summary.students.is_empty() {
        crate::plots::run_return_vs_params(dir, &summary)?;
        crate::plots::run_agreement_curves(dir, &summary)?;
    }
    Ok(RunEnd::Finished(Box::new(summary)))
}

/// The final evaluation: the same episodes (same seeds) for the teacher and every student, so
/// their returns differ by policy only. The seeds are not those of the evaluations during
/// training, which chose the teacher's snapshot and would flatter it.
/// The greedy policy's exact expected return on a grid map; `None` for other environments.
fn expected_return(policy: &MlpPolicy, experiment: &Experiment) -> Result<Option<f64>> {
    let evaluator = retort_envs::exact_evaluator(&experiment.env)?;
    Ok(evaluator.map(|e| retort_core::exact_return(policy, &e)))
}

fn final_eval_config(experiment: &Experiment) -> EvalConfig {
    EvalConfig {
        episodes: experiment.eval.episodes,
        seed: derive(experiment.seed, Stream::FinalEval, 0),
    }
}

fn train_teacher(
    experiment: &Experiment,
    dir: &Path,
    device: Device,
    stages: &Stages,
) -> Result<Trained> {
    let teacher_dir = dir.join("teacher");
    if stages.resume && teacher_dir.join(TEACHER_OUTCOME).is_file() {
        let teacher = finished_teacher(experiment, &teacher_dir, device)?;
        if let Some(stop) = stages.stop_at {
            bail!(
                "--stop-at {stop}: the teacher of {} already finished, at env step {}; leave \
                 --stop-at out (resuming a finished run fits its students again)",
                dir.display(),
                teacher.summary.env_steps
            );
        }
        tracing::info!(dir = %teacher_dir.display(), "reusing the finished teacher");
        return Ok(Trained::Ready(Box::new(teacher)));
    }
    let checkpoint = teacher_dir.join(RESUME_FILE);
    let resume = (stages.resume && checkpoint.is_file()).then(|| checkpoint.clone());
    if stages.resume && resume.is_none() {
        tracing::warn!(
            "{} holds no resumable checkpoint; training the teacher from the start",
            teacher_dir.display()
        );
    }
    let config = teacher_config(experiment)?;
    if let Some(path) = &resume {
        // Refused before any file is touched.
        let at = retort_dqn::check_resumable(path, &config, &experiment.env, experiment.seed)?;
        refuse_past_stop(stages.stop_at, at, dir)?;
    }
    if stages.resume {
        repair_event_files(&teacher_dir)?;
    }
    let writer = SummaryWriter::create(&teacher_dir)?;
    let mut observer = RunObserver::new(
        writer,
        experiment.teacher.total_steps,
        "teacher",
        stages.progress,
    )
    .with_curves(teacher_dir.join(CURVES_FILE));
    if stages.resume && resume.is_none() {
        // Whatever an earlier attempt logged is redone from step 0.
        observer.resumed(0);
    }
    tracing::info!(env = %experiment.env.id, seed = experiment.seed, "training the teacher");
    let options = retort_dqn::TrainOptions {
        resume,
        checkpoint: Some(checkpoint.clone()),
        stop_at: stages.stop_at,
    };
    let outcome = match retort_dqn::train_with(
        &config,
        &experiment.env,
        device,
        experiment.seed,
        &mut observer,
        &options,
    ) {
        Ok(outcome) => outcome,
        Err(error) => {
            // Keep what was logged up to the failure readable.
            let _ = observer.finish();
            return Err(error.into());
        }
    };
    let card = ModelCard::new(
        "teacher",
        experiment.env.clone(),
        outcome.policy.spec().clone(),
    );
    save_checkpoint(&teacher_dir, &card, &outcome.policy)?;
    if outcome.interrupted {
        observer.finish()?;
        if !interrupted() {
            return Ok(Trained::Stopped(outcome.env_steps));
        }
        let command = if stages.students { "run" } else { "train" };
        bail!(Interrupted {
            saved: format!(
                "the teacher so far is in {}; continue with `retort {command} --resume {}`",
                teacher_dir.display(),
                dir.display()
            )
        });
    }
    match outcome.solved_at {
        Some(step) => tracing::info!(
            step,
            seconds = outcome.seconds,
            acting = outcome.timings.acting(),
            learning = outcome.timings.learning(),
            evaluating = outcome.timings.evaluating,
            "teacher reached the target return"
        ),
        None => tracing::warn!(
            best = outcome.best_eval,
            "teacher did not reach the target return within its budget; keeping its best snapshot"
        ),
    }

    let stats = evaluate(
        &outcome.policy,
        &experiment.env,
        &final_eval_config(experiment),
    )?;
    let expected = expected_return(&outcome.policy, experiment)?;
    let step = outcome.env_steps as i64;
    let evaluations = observer.points("eval/return_mean");
    let writer = observer.writer();
    writer.add_scalar("eval/final_return_mean", stats.summary.mean, step)?;
    writer.add_scalar("eval/final_return_std", stats.summary.std, step)?;
    if let Some(expected) = expected {
        writer.add_scalar("eval/expected_return", expected, step)?;
    }
    let params = card.params;
    let mut hparams = common_hparams(experiment, "teacher", &card);
    hparams.push(("loss".into(), HParam::Text("td-huber".into())));
    hparams.push(("temperature".into(), HParam::Number(0.0)));
    hparams.push((
        "learning_rate".into(),
        HParam::Number(experiment.teacher.learning_rate),
    ));
    hparams.push(("dueling".into(), HParam::Bool(card.mlp.dueling)));
    writer.add_hparams(&hparams, &HPARAM_METRICS)?;
    let summary = TeacherSummary {
        hidden: card.mlp.hidden.clone(),
        dueling: card.mlp.dueling,
        params,
        return_mean: stats.summary.mean,
        return_std: stats.summary.std,
        return_ci95: stats.summary.ci95,
        episodes: stats.returns.len(),
        expected_return: expected,
        env_steps: outcome.env_steps,
        gradient_steps: outcome.gradient_steps,
        solved_at_env_step: outcome.solved_at,
        train_seconds: outcome.seconds,
        time_split: Some(outcome.timings),
        loaded_from: None,
        eval_curve: evaluations
            .iter()
            .map(|&(step, mean)| (step as u64, mean))
            .collect(),
    };
    writer.add_text("summary", &teacher_text(&summary), step)?;
    let episodes = observer.points("charts/episodic_return");
    observer.finish()?;
    crate::plots::learning_curve(dir, &experiment.env.id, episodes, evaluations)?;
    let json = serde_json::to_string_pretty(&summary).expect("a summary always serialises");
    write_atomic(&teacher_dir.join(TEACHER_OUTCOME), &(json + "\n"))?;
    // The teacher is final: what only served to continue its training goes, with the
    // temporary files of a write that a crash cut short.
    for name in [RESUME_FILE, CURVES_FILE] {
        for name in [name.to_string(), format!(".partial.{name}")] {
            let path = teacher_dir.join(name);
            if path.exists() {
                std::fs::remove_file(&path)
                    .with_context(|| format!("cannot remove {}", path.display()))?;
            }
        }
    }
    Ok(Trained::Ready(Box::new(Teacher {
        policy: outcome.policy,
        summary,
        earlier_seconds: outcome.resumed_seconds,
    })))
}

/// Cuts the incomplete last record that a process killed while writing leaves in an event
/// file, so that every reader sees whole files.
fn repair_event_files(dir: &Path) -> Result<()> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(());
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let is_events = path
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with("events.out.tfevents."));
        if !is_events {
            continue;
        }
        match retort_tensorboard::cut_incomplete_tail(&path)? {
            retort_tensorboard::Repair::Intact => {}
            repair => tracing::info!(file = %path.display(), ?repair, "repaired an event file"),
        }
    }
    Ok(())
}

/// The teacher a resumed run had already finished: its checkpoint and its summary.
/// Refuses `--stop-at STEP` on a resumed teacher that is already at env step `at`: there is
/// nothing left to stop at, and going on would report a stop that did not happen.
fn refuse_past_stop(stop_at: Option<u64>, at: u64, dir: &Path) -> Result<()> {
    match stop_at {
        Some(stop) if stop <= at => bail!(
            "--stop-at {stop}: the teacher of {} is already at env step {at}; give a later \
             step, or leave --stop-at out to finish the run",
            dir.display()
        ),
        _ => Ok(()),
    }
}

fn finished_teacher(
    experiment: &Experiment,
    teacher_dir: &Path,
    device: Device,
) -> Result<Teacher> {
    let (card, policy) = load_checkpoint(teacher_dir, device)?;
    let path = teacher_dir.join(TEACHER_OUTCOME);
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read {}", path.display()))?;
    let summary: TeacherSummary = serde_json::from_str(&text).with_context(|| {
        format!(
            "{} is not a teacher summary; remove it to train the teacher again",
            path.display()
        )
    })?;
    if card.env != experiment.env {
        bail!(
            "{} was trained on {}, not on the experiment's environment",
            teacher_dir.display(),
            card.env.id
        );
    }
    let earlier_seconds = summary.train_seconds;
    Ok(Teacher {
        policy,
        summary,
        earlier_seconds,
    })
}

/// The `[teacher]` settings, with the stopping target filled in: the experiment's own, else
/// the environment's threshold, else — on grid maps — the optimal return computed by dynamic
/// programming, so that a teacher on a deterministic map stops once it is optimal.
fn teacher_config(experiment: &Experiment) -> Result<retort_dqn::DqnConfig> {
    let mut config = experiment.teacher.clone();
    let has_threshold = retort_envs::make(&experiment.env)?
        .reward_threshold()
        .is_some();
    if config.target_return.is_none() && !has_threshold {
        // Returns are sums of rewards in f64; the margin only absorbs their rounding.
        config.target_return =
            retort_envs::optimal_return(&experiment.env)?.map(|best| best - 1e-6);
    }
    Ok(config)
}

fn load_teacher(
    experiment: &Experiment,
    from: &Path,
    dir: &Path,
    device: Device,
) -> Result<Teacher> {
    let (card, policy) = load_checkpoint(from, device)?;
    if card.env != experiment.env {
        let show = |spec| serde_json::to_string(spec).expect("an env spec serialises");
        bail!(
            "checkpoint {} was trained on {}, but the experiment's [env] is {}; \
             pass a teacher of the same environment",
            from.display(),
            show(&card.env),
            show(&experiment.env)
        );
    }
    let stats = evaluate(&policy, &experiment.env, &final_eval_config(experiment))?;
    // The loaded teacher is copied into the run, so that the run directory is complete.
    save_checkpoint(&dir.join("teacher"), &card, &policy)?;
    let summary = TeacherSummary {
        hidden: card.mlp.hidden.clone(),
        dueling: card.mlp.dueling,
        params: card.params,
        return_mean: stats.summary.mean,
        return_std: stats.summary.std,
        return_ci95: stats.summary.ci95,
        episodes: stats.returns.len(),
        expected_return: expected_return(&policy, experiment)?,
        env_steps: 0,
        gradient_steps: 0,
        solved_at_env_step: None,
        train_seconds: 0.0,
        time_split: None,
        loaded_from: Some(from.display().to_string()),
        eval_curve: Vec::new(),
    };
    Ok(Teacher {
        policy,
        summary,
        earlier_seconds: 0.0,
    })
}

fn distill_students(
    experiment: &Experiment,
    dir: &Path,
    device: Device,
    teacher: &MlpPolicy,
    progress: bool,
    summary: &mut RunSummary,
) -> Result<()> {
    let config = &experiment.distill;
    // Teacher-driven collection happens once, for every student; student-driven (DAgger)
    // collection happens per student, inside its fitting.
    let shared = match config.collection {
        Collection::Teacher => {
            let start = Instant::now();
            let buffer = collect_from_teacher(teacher, &experiment.env, config, experiment.seed)?;
            summary.distill_states = buffer.len();
            summary.collect_seconds = start.elapsed().as_secs_f64();
            tracing::info!(
                states = buffer.len(),
                seconds = summary.collect_seconds,
                "collected teacher states"
            );
            Some(buffer.split_holdout(config.holdout_fraction))
        }
        Collection::Student => None,
    };

    for (index, student) in experiment.students.iter().enumerate() {
        if interrupted() {
            bail!(Interrupted {
                saved: "the teacher and the finished students are saved".into()
            });
        }
        let student_dir = dir.join("students").join(&student.name);
        let writer = SummaryWriter::create(&student_dir)?;
        let mut observer = RunObserver::new(writer, config.steps, &student.name, progress);
        let fitted = match &shared {
            Some((train, holdout)) => fit_student(
                &student.name,
                &student.hidden,
                train,
                holdout,
                config,
                device,
                experiment.seed,
                index as u64,
                &mut observer,
            ),
            None => fit_student_dagger(
                &student.name,
                &student.hidden,
                teacher,
                &experiment.env,
                config,
                experiment.seed,
                index as u64,
                &mut observer,
            )
            .map(|(fitted, states)| {
                summary.distill_states = states;
                fitted
            }),
        };
        let fitted = match fitted {
            Ok(fitted) => fitted,
            Err(error) => {
                let _ = observer.finish();
                return Err(error.into());
            }
        };
        let card = ModelCard::new(
            "student",
            experiment.env.clone(),
            fitted.policy.spec().clone(),
        );
        save_checkpoint(&student_dir, &card, &fitted.policy)?;
        let stats: EvalStats = evaluate(
            &fitted.policy,
            &experiment.env,
            &final_eval_config(experiment),
        )?;

        let expected = expected_return(&fitted.policy, experiment)?;

        let step = config.steps as i64;
        let writer = observer.writer();
        writer.add_scalar("eval/return_mean", stats.summary.mean, step)?;
        writer.add_scalar("eval/final_return_mean", stats.summary.mean, step)?;
        writer.add_scalar("eval/final_return_std", stats.summary.std, step)?;
        if let Some(expected) = expected {
            writer.add_scalar("eval/expected_return", expected, step)?;
        }
        let mut hparams = common_hparams(experiment, "student", &card);
        hparams.push(("loss".into(), HParam::Text(config.loss.name().into())));
        hparams.push(("temperature".into(), HParam::Number(config.temperature)));
        hparams.push(("learning_rate".into(), HParam::Number(config.learning_rate)));
        writer.add_hparams(&hparams, &HPARAM_METRICS)?;

        let teacher_return = summary.teacher.return_mean;
        let line = StudentSummary {
            name: student.name.clone(),
            hidden: student.hidden.clone(),
            params: card.params,
            compression: summary.teacher.params as f64 / card.params as f64,
            return_mean: stats.summary.mean,
            return_std: stats.summary.std,
            return_ci95: stats.summary.ci95,
            episodes: stats.returns.len(),
            expected_return: expected,
            retention: (teacher_return > 0.0).then(|| stats.summary.mean / teacher_return),
            agreement: fitted.agreement,
            agreement_curve: fitted.agreement_curve.clone(),
            loss: config.loss.name().into(),
            temperature: config.temperature,
            collection: config.collection.name().into(),
            train_seconds: fitted.seconds,
            action_micros: action_micros(&fitted.policy),
        };
        writer.add_text("summary", &student_text(&line), step)?;
        observer.finish()?;
        if interrupted() {
            bail!(Interrupted {
                saved: format!("students up to {} are saved", student.name)
            });
        }
        tracing::info!(
            student = %line.name,
            params = line.params,
            return_mean = line.return_mean,
            agreement = line.agreement,
            "student distilled"
        );
        summary.students.push(line);
    }
    Ok(())
}

/// Mean time of one greedy action of `policy` in the libtorch-free runtime, over 10 000
/// observations taken from a fixed pseudo-random sequence.
fn action_micros(policy: &MlpPolicy) -> f64 {
    let runtime = policy.to_runtime();
    let n = 10_000;
    let obs: Vec<f32> = (0..n * runtime.obs_dim())
        .map(|i| ((i as f32) * 0.618).sin())
        .collect();
    let start = Instant::now();
    let mut checksum = 0;
    for row in obs.chunks_exact(runtime.obs_dim()) {
        checksum += runtime.act(row);
    }
    std::hint::black_box(checksum);
    start.elapsed().as_secs_f64() * 1e6 / n as f64
}

/// Hyperparameters every run of an experiment shares, so the hparams tab lines them up.
fn common_hparams(experiment: &Experiment, role: &str, card: &ModelCard) -> Vec<(String, HParam)> {
    vec![
        ("role".into(), HParam::Text(role.into())),
        ("env".into(), HParam::Text(experiment.env.id.clone())),
        (
            "hidden".into(),
            HParam::Text(format!("{:?}", card.mlp.hidden)),
        ),
        ("params".into(), HParam::Number(card.params as f64)),
        ("seed".into(), HParam::Number(experiment.seed as f64)),
        (
            "distill_states".into(),
            HParam::Number(experiment.distill.states as f64),
        ),
        (
            "collection".into(),
            HParam::Text(experiment.distill.collection.name().into()),
        ),
        (
            "hard_label_weight".into(),
            HParam::Number(experiment.distill.hard_label_weight),
        ),
    ]
}

fn teacher_text(t: &TeacherSummary) -> String {
    format!(
        "teacher {}: {} params, return {:.2} ± {:.2} (95 % CI) over {} episodes, \
         {} env steps, {:.1} s",
        t.architecture(),
        t.params,
        t.return_mean,
        t.return_ci95,
        t.episodes,
        t.env_steps,
        t.train_seconds
    )
}

fn student_text(s: &StudentSummary) -> String {
    format!(
        "student {} {:?}: {} params ({:.1}× smaller), return {:.2} ± {:.2}, \
         agreement {:.1} %",
        s.name,
        s.hidden,
        s.params,
        s.compression,
        s.return_mean,
        s.return_ci95,
        100.0 * s.agreement
    )
}

/// Writes `text` to a temporary file beside `path`, then renames it into place, so a reader
/// never sees half a file.
pub fn write_atomic(path: &Path, text: &str) -> Result<()> {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("file");
    let tmp = path.with_file_name(format!(".partial.{name}"));
    std::fs::write(&tmp, text).with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("cannot write {}", path.display()))
}
