//! `summary.json` and `summary.md`: what a run produced, for programs and for people.
//!
//! The JSON fields of DESIGN's contract (`env`, `seed`, `teacher.{params, return_mean,
//! return_std, episodes, env_steps, train_seconds}`, `students[].{name, hidden, params,
//! compression, return_mean, return_std, episodes, agreement, loss, collection,
//! train_seconds}`) are never renamed or removed; other fields may be added.

use serde::{Deserialize, Serialize};

/// The whole of `summary.json`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RunSummary {
    /// The experiment's name.
    pub experiment: String,
    /// Environment id.
    pub env: String,
    /// The whole `[env]` table (map, slip, observation, …).
    pub env_spec: retort_envs::EnvSpec,
    /// The run's seed.
    pub seed: u64,
    /// Device the networks ran on.
    pub device: String,
    /// Best achievable mean return (GridWorld maps, by dynamic programming); absent where no
    /// oracle exists.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub optimal_return: Option<f64>,
    /// The teacher.
    pub teacher: TeacherSummary,
    /// Labelled states each student was fitted to (held-out states included).
    pub distill_states: usize,
    /// Seconds spent collecting them.
    pub collect_seconds: f64,
    /// The students, in the experiment's order.
    pub students: Vec<StudentSummary>,
    /// Wall-clock seconds of the whole run; for a resumed run, the last process's plus the
    /// teacher's training seconds in the processes before it.
    pub total_seconds: f64,
    /// Directory to pass to `tensorboard --logdir`.
    pub tensorboard_logdir: String,
}

/// The teacher's line of the summary.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TeacherSummary {
    /// Hidden widths of the Q-network.
    pub hidden: Vec<usize>,
    /// Whether the Q-network ends in a dueling head (value and advantage streams) rather than
    /// one output layer; absent, in summaries written before the option existed, means false.
    #[serde(default)]
    pub dueling: bool,
    /// Trainable parameters (a dueling head's included).
    pub params: usize,
    /// Mean greedy return over the final evaluation episodes.
    pub return_mean: f64,
    /// Population standard deviation of those returns.
    pub return_std: f64,
    /// Half-width of the 95 % confidence interval of the mean.
    pub return_ci95: f64,
    /// Episodes of the final evaluation.
    pub episodes: usize,
    /// Exact expected return of the greedy policy by dynamic programming, on grid maps: what
    /// the final evaluation's mean estimates, without its sampling error. Absent elsewhere.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_return: Option<f64>,
    /// Environment steps of training.
    pub env_steps: u64,
    /// Gradient steps of training.
    pub gradient_steps: u64,
    /// The environment step at which a periodic evaluation reached the target return.
    pub solved_at_env_step: Option<u64>,
    /// Seconds of training (periodic evaluations included).
    pub train_seconds: f64,
    /// Where those seconds went: choosing actions, stepping environments, storing and
    /// sampling transitions, forward and backward passes, network synchronisation and
    /// evaluations. Absent for a teacher loaded from a checkpoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_split: Option<retort_dqn::Timings>,
    /// The checkpoint the teacher was loaded from (`retort distill`, and every configuration
    /// of a sweep after the first), which trained it in another run; absent for a teacher
    /// trained in this run. Its training counters are then 0.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub loaded_from: Option<String>,
    /// Mean return of every periodic greedy evaluation during training, as (env step, mean);
    /// empty for a teacher loaded from a checkpoint and in summaries written before it existed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub eval_curve: Vec<(u64, f64)>,
}

impl TeacherSummary {
    /// The hidden widths, followed by `dueling` for a dueling head: `[128, 128] dueling`.
    pub fn architecture(&self) -> String {
        let head = if self.dueling { " dueling" } else { "" };
        format!("{:?}{head}", self.hidden)
    }
}

/// One student's line of the summary.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct StudentSummary {
    /// The student's name.
    pub name: String,
    /// Hidden widths.
    pub hidden: Vec<usize>,
    /// Trainable parameters.
    pub params: usize,
    /// Teacher parameters ÷ student parameters.
    pub compression: f64,
    /// Mean greedy return over the final evaluation episodes.
    pub return_mean: f64,
    /// Population standard deviation of those returns.
    pub return_std: f64,
    /// Half-width of the 95 % confidence interval of the mean.
    pub return_ci95: f64,
    /// Episodes of the final evaluation.
    pub episodes: usize,
    /// Exact expected return of the greedy policy by dynamic programming, on grid maps: what
    /// the final evaluation's mean estimates, without its sampling error. Absent elsewhere.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_return: Option<f64>,
    /// Student mean return ÷ teacher mean return; absent (`null`) when the teacher's mean
    /// return is not positive, where the ratio means nothing.
    pub retention: Option<f64>,
    /// Fraction of held-out states where the student's greedy action is the teacher's.
    pub agreement: f64,
    /// The agreement while fitting, as (gradient steps, agreement) pairs; the last is
    /// `agreement`. Absent from summaries written before it was recorded.
    #[serde(default)]
    pub agreement_curve: Vec<(u64, f64)>,
    /// Distillation loss (`kl`, `nll`, `mse`).
    pub loss: String,
    /// τ of the `kl` loss.
    pub temperature: f64,
    /// Who chose the actions while collecting (`teacher`, or `student` for DAgger).
    pub collection: String,
    /// Seconds of fitting.
    pub train_seconds: f64,
    /// Microseconds per action, one observation per call, in the libtorch-free runtime
    /// (`retort export`).
    pub action_micros: f64,
}

impl RunSummary {
    /// The summary as a Markdown table a person reads.
    pub fn to_markdown(&self) -> String {
        let mut out = format!(
            "# {} — {} (seed {})\n\n",
            self.experiment, self.env, self.seed
        );
        if let Some(optimal) = self.optimal_return {
            out += &format!("Optimal return (dynamic programming): {optimal:.4}\n\n");
        }
        out += "| policy | hidden | params | compression | return (mean ± 95 % CI) | std \
                | retention | agreement | seconds | µs/action |\n";
        out += "|---|---|---|---|---|---|---|---|---|---|\n";
        let t = &self.teacher;
        out += &format!(
            "| teacher | {} | {} | 1.0× | {:.2} ± {:.2} | {:.2} | {} | — | {} | — |\n",
            t.architecture(),
            t.params,
            t.return_mean,
            t.return_ci95,
            t.return_std,
            if t.return_mean > 0.0 {
                "100.0 %"
            } else {
                "—"
            },
            // A loaded teacher was not trained in this run.
            match t.loaded_from {
                Some(_) => "—".to_string(),
                None => format!("{:.2}", t.train_seconds),
            }
        );
        for s in &self.students {
            out += &format!(
                concat!(
                    "| {} | {:?} | {} | {:.1}× | {:.2} ± {:.2} | {:.2} ",
                    "| {} | {:.1} % | {:.2} | {:.3} |\n"
                ),
                s.name,
                s.hidden,
                s.params,
                s.compression,
                s.return_mean,
                s.return_ci95,
                s.return_std,
                s.retention
                    .map_or("—".into(), |r| format!("{:.1} %", 100.0 * r)),
                100.0 * s.agreement,
                s.train_seconds,
                s.action_micros
            );
        }
        let students = match self.students.first() {
            None => String::new(),
            Some(first) => format!(
                " Students: {} loss, τ = {}, {} states {}.",
                first.loss,
                first.temperature,
                self.distill_states,
                if first.collection == "student" {
                    "collected by each student (DAgger) while it was fitted".into()
                } else {
                    format!("collected by the teacher in {:.2} s", self.collect_seconds)
                }
            ),
        };
        let teacher = match &t.loaded_from {
            Some(path) => format!("loaded from {path}"),
            None => format!(
                "{} env steps, {} gradient steps{}",
                t.env_steps,
                t.gradient_steps,
                match t.solved_at_env_step {
                    Some(step) => format!(", target return reached at env step {step}"),
                    None => ", target return not reached".into(),
                }
            ),
        };
        out += &format!(
            "\nTeacher: {teacher}.{students} Evaluation: {} greedy episodes each, the same seeds \
             for every policy. Retention is a student's mean return over the teacher's, shown \
             only when the teacher's is positive. Whole run: {:.1} s.\n",
            t.episodes, self.total_seconds,
        );
        if let Some(teacher) = t.expected_return {
            let students: Vec<String> = self
                .students
                .iter()
                .filter_map(|s| Some(format!(", {} {:.4}", s.name, s.expected_return?)))
                .collect();
            out += &format!(
                "\nExact expected return of each greedy policy (dynamic programming), which the \
                 means above estimate: teacher {teacher:.4}{}.\n",
                students.concat()
            );
        }
        out
    }
}
