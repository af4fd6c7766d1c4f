//! Experiment files: one TOML file that describes a whole run.
//!
//! ```toml
//! name = "cartpole"      # optional; defaults to the file's stem
//! seed = 0
//! [env]
//! id = "CartPole-v1"
//! [teacher]              # retort_dqn::DqnConfig, every key optional
//! total_steps = 50000
//! [distill]              # retort_distill::DistillConfig, every key optional
//! loss = "kl"
//! [[students]]
//! name = "h16"
//! hidden = [16]
//! ```
//!
//! Unknown keys are refused (a misspelt key would otherwise be silently ignored), and every
//! value is range-checked before any work starts.

use anyhow::{bail, Context, Result};
use retort_distill::{DistillConfig, StudentSpec};
use retort_dqn::DqnConfig;
use retort_envs::EnvSpec;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

/// A whole experiment, as read from its file with every default filled in.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Experiment {
    /// Name of the experiment; run directories are named after it.
    #[serde(default)]
    pub name: String,
    /// Seed from which every random stream of the run is derived.
    #[serde(default)]
    pub seed: u64,
    /// `cpu`, `cuda` or `cuda:N`.
    #[serde(default = "default_device")]
    pub device: String,
    /// libtorch threads; 1 keeps runs reproducible and lets seeds run side by side.
    #[serde(default = "default_threads")]
    pub threads: usize,
    /// The environment.
    pub env: EnvSpec,
    /// The teacher's hyperparameters.
    #[serde(default)]
    pub teacher: DqnConfig,
    /// How teacher and students are evaluated.
    #[serde(default)]
    pub eval: EvalSection,
    /// Collection and fitting of the students.
    #[serde(default)]
    pub distill: DistillConfig,
    /// The students, each trained from the same collected states.
    #[serde(default)]
    pub students: Vec<StudentSpec>,
    /// For `retort sweep`: `[distill]` keys, each with a list of values; every combination
    /// is one configuration, distilled from the same teacher per seed. `retort run` ignores it.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub sweep: BTreeMap<String, Vec<toml::Value>>,
}

/// The `[eval]` table.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EvalSection {
    /// Greedy episodes of the final evaluation of the teacher and of every student.
    pub episodes: usize,
}

impl Default for EvalSection {
    fn default() -> Self {
        EvalSection { episodes: 100 }
    }
}

fn default_device() -> String {
    "cpu".into()
}

fn default_threads() -> usize {
    1
}

impl Experiment {
    /// Reads, parses and validates an experiment file.
    pub fn load(path: &Path) -> Result<Experiment> {
        let text = read_capped(path)
            .with_context(|| format!("cannot read experiment file {}", path.display()))?;
        let mut experiment: Experiment = toml::from_str(&text).map_err(|e| {
            let message = e.to_string();
            let hint =
                suggest_key(&message).map_or(String::new(), |k| format!("\ndid you mean `{k}`?"));
            anyhow::anyhow!("{}: {}{hint}", path.display(), message.trim_end())
        })?;
        // A map file is found beside the experiment file that names it, wherever retort runs.
        if let Some(map) = experiment.env.map_file.as_mut().filter(|m| m.is_relative()) {
            if let Some(folder) = path.parent() {
                *map = folder.join(&*map);
            }
        }
        if experiment.name.is_empty() {
            let stem = path
                .file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or("experiment");
            experiment.name = stem.to_string();
        }
        experiment
            .validate()
            .with_context(|| format!("{}: invalid experiment", path.display()))?;
        Ok(experiment)
    }

    /// Checks values that the type system cannot.
    pub fn validate(&self) -> Result<()> {
        if retort_core::device_from_name(&self.device).is_err() {
            bail!(
                "device = {:?}: expected {}; write for example device = \"cpu\"",
                self.device,
                retort_core::DEVICE_NAMES
            );
        }
        if self.threads == 0 {
            bail!("threads = 0: must be at least 1");
        }
        if self.eval.episodes == 0 {
            bail!("eval.episodes = 0: must be at least 1");
        }
        self.teacher.validate()?;
        self.distill.validate()?;
        for (i, student) in self.students.iter().enumerate() {
            student.validate(i)?;
            if self.students[..i].iter().any(|s| s.name == student.name) {
                bail!(
                    "students[{i}].name = {:?}: used twice; student names must differ",
                    student.name
                );
            }
        }
        let env = retort_envs::make(&self.env).map_err(|e| anyhow::anyhow!("[env]: {e}"))?;
        self.teacher.check_buffer_memory(env.obs_dim())?;
        self.teacher.exact_evaluator(&self.env)?;
        match retort_dqn::physical_memory() {
            Some(total) => self.check_memory(env.obs_dim(), env.n_actions(), total.into()),
            None => Ok(()),
        }
    }

    /// Refuses a size whose memory alone exceeds `total` bytes — a network, environment
    /// copies, labelled states or a batch — before anything runs, instead of libtorch or the
    /// allocator aborting mid-run. The estimates are rough lower bounds: passing says nothing
    /// about fitting beside everything else.
    fn check_memory(&self, obs_dim: usize, n_actions: usize, total: u128) -> Result<()> {
        let check = |key: &str, value: String, bytes: u128| {
            check_fits(&format!("{key} = {value}"), bytes, total)
        };
        // f32 weights, their gradients, Adam's two moments, and the target and best copies.
        let network = |hidden: &[usize], dueling| {
            let spec = retort_runtime::MlpSpec {
                obs_dim,
                n_actions,
                hidden: hidden.to_vec(),
                dueling,
            };
            spec.checked_params()
                .map_or(u128::MAX, |p| p as u128 * 4 * 6)
        };
        let teacher = &self.teacher;
        let hidden = format!("{:?}", teacher.hidden);
        check(
            "teacher.hidden",
            hidden,
            network(&teacher.hidden, teacher.dueling),
        )?;
        for (i, student) in self.students.iter().enumerate() {
            let (key, value) = (
                format!("students[{i}].hidden"),
                format!("{:?}", student.hidden),
            );
            check(&key, value, network(&student.hidden, false))?;
        }
        let copy = env_copy_bytes(obs_dim);
        let distill = &self.distill;
        let copies = [
            ("teacher.num_envs", teacher.num_envs),
            ("teacher.eval_episodes", teacher.eval_episodes),
            ("eval.episodes", self.eval.episodes),
            ("distill.collect_envs", distill.collect_envs),
        ];
        for (key, n) in copies {
            check(key, n.to_string(), n as u128 * copy)?;
        }
        // A labelled state is an observation and the teacher's Q-vector, kept with a copy.
        let labelled = 2 * 4 * (obs_dim + n_actions) as u128;
        let states = distill.states;
        check(
            "distill.states",
            states.to_string(),
            states as u128 * labelled,
        )?;
        // A batch's tensors, with their gradients and libtorch's intermediate results.
        let batch = 4 * 4 * (2 * obs_dim + n_actions + 8) as u128;
        for (key, n) in [
            ("teacher.batch_size", teacher.batch_size),
            ("distill.batch_size", distill.batch_size),
        ] {
            check(key, n.to_string(), n as u128 * batch)?;
        }
        Ok(())
    }

    /// The experiment as TOML, every default written out.
    pub fn to_toml(&self) -> String {
        toml::to_string_pretty(self).expect("an experiment always serialises to TOML")
    }
}

/// Bytes of one environment copy, its state and the observation it writes: a lower bound.
pub fn env_copy_bytes(obs_dim: usize) -> u128 {
    256 + 8 * obs_dim as u128
}

/// Refuses `what` (a setting as written, e.g. `eval.episodes = 10`) when it needs more than
/// `total` bytes.
pub fn check_fits(what: &str, bytes: u128, total: u128) -> Result<()> {
    if bytes > total {
        let gb = |b: u128| b as f64 / 1e9;
        bail!(
            "{what}: needs about {:.3e} GB of memory, more than this machine's {:.1} GB; lower it",
            gb(bytes),
            gb(total)
        );
    }
    Ok(())
}

/// The largest experiment file read: a thousand times any real one.
const MAX_EXPERIMENT_BYTES: u64 = 1 << 20;

/// The file's text, refusing one over [`MAX_EXPERIMENT_BYTES`] after reading that much, so
/// that a path to something endless (`/dev/zero`) fails at once instead of filling memory.
fn read_capped(path: &Path) -> std::io::Result<String> {
    use std::io::Read;
    let mut text = String::new();
    std::fs::File::open(path)?
        .take(MAX_EXPERIMENT_BYTES + 1)
        .read_to_string(&mut text)?;
    if text.len() as u64 > MAX_EXPERIMENT_BYTES {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!(
                "larger than {} MiB, which is no experiment file",
                MAX_EXPERIMENT_BYTES >> 20
            ),
        ));
    }
    Ok(text)
}

/// For serde's "unknown field `x`, expected one of `a`, `b`, …" message, the accepted key
/// nearest to `x` (by edit distance, at most a third of its length away).
fn suggest_key(message: &str) -> Option<String> {
    let rest = message.split("unknown field `").nth(1)?;
    let (unknown, rest) = rest.split_once('`')?;
    let candidates = rest
        .split("expected one of ")
        .nth(1)
        .or_else(|| rest.split("expected ").nth(1))?;
    let candidates = candidates.lines().next()?;
    nearest_key(unknown, candidates.split('`').skip(1).step_by(2)).map(str::to_string)
}

/// The key of `candidates` nearest to `unknown` by edit distance, if one is at most a third
/// of its length away.
pub fn nearest_key<'a>(
    unknown: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|key| (edit_distance(unknown, key), key))
        .filter(|(distance, _)| *distance <= unknown.len().max(3) / 3)
        .min()
        .map(|(_, key)| key)
}

/// Edit distance between two short strings, counting an insertion, a deletion, a substitution
/// or a swap of two neighbouring characters (the commonest typo, `sede` for `seed`) as one.
fn edit_distance(a: &str, b: &str) -> usize {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    // d[i][j]: distance between the first i characters of a and the first j of b.
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let substitution = d[i - 1][j - 1] + usize::from(a[i - 1] != b[j - 1]);
            let mut best = substitution.min(d[i - 1][j] + 1).min(d[i][j - 1] + 1);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = best;
        }
    }
    d[a.len()][b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Experiment> {
        let dir = std::env::temp_dir().join(format!("retort-exp-{}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        static COUNTER: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let path = dir.join(format!("t{n}.toml"));
        std::fs::write(&path, text)?;
        Experiment::load(&path)
    }

    #[test]
    fn minimal_file_gets_every_default_and_round_trips() {
        let experiment = parse("[env]\nid = \"CartPole-v1\"\n").unwrap();
        assert_eq!(experiment.teacher, DqnConfig::default());
        assert_eq!(experiment.eval.episodes, 100);
        let again: Experiment = toml::from_str(&experiment.to_toml()).unwrap();
        assert_eq!(again, experiment);
    }

    #[test]
    fn unknown_key_is_refused_with_its_name() {
        let message = format!(
            "{:#}",
            parse("[env]\nid = \"CartPole-v1\"\n[teacher]\nlearning_rat = 0.1\n").unwrap_err()
        );
        assert!(message.contains("learning_rat"), "{message}");
    }

    #[test]
    fn a_misspelt_key_gets_the_nearest_valid_one() {
        let message = format!(
            "{:#}",
            parse("[env]\nid = \"CartPole-v1\"\n[teacher]\nlearning_rat = 0.1\n").unwrap_err()
        );
        assert!(
            message.contains("did you mean `learning_rate`?"),
            "{message}"
        );
        let message = format!(
            "{:#}",
            parse("[env]\nid = \"CartPole-v1\"\n[distill]\nstaets = 5\n").unwrap_err()
        );
        assert!(message.contains("did you mean `states`?"), "{message}");
        // Nothing close: no guess.
        let message = format!(
            "{:#}",
            parse("[env]\nid = \"CartPole-v1\"\n[teacher]\nzzzzzz = 1\n").unwrap_err()
        );
        assert!(!message.contains("did you mean"), "{message}");
    }

    #[test]
    fn edit_distances() {
        assert_eq!(edit_distance("gamma", "gamma"), 0);
        assert_eq!(edit_distance("gama", "gamma"), 1);
        assert_eq!(edit_distance("staets", "states"), 1);
        assert_eq!(edit_distance("sede", "seed"), 1);
        assert_eq!(edit_distance("abc", "ca"), 3);
        assert_eq!(edit_distance("", "abc"), 3);
    }

    #[test]
    fn replay_variant_keys_reach_the_teacher() {
        let experiment = parse(concat!(
            "[env]\nid = \"CartPole-v1\"\n[teacher]\n",
            "n_step = 3\nprioritized_replay = true\npriority_alpha = 0.5\n",
            "priority_beta_start = 0.25\npriority_epsilon = 0.001\n"
        ))
        .unwrap();
        let teacher = &experiment.teacher;
        assert_eq!((teacher.n_step, teacher.prioritized_replay), (3, true));
        assert_eq!(teacher.priority_alpha, 0.5);
        assert_eq!(teacher.priority_beta_start, 0.25);
        assert_eq!(teacher.priority_epsilon, 0.001);
    }

    #[test]
    fn sizes_beyond_the_machine_s_memory_are_refused_by_key() {
        let cartpole = "[env]\nid = \"CartPole-v1\"\n";
        let experiment = parse(cartpole).unwrap();
        // On a machine of 400 kB the default 128×128 teacher (17 410 parameters, 418 kB with
        // its gradients, moments and copies) does not fit.
        let message = format!("{:#}", experiment.check_memory(4, 2, 400_000).unwrap_err());
        assert!(
            message.starts_with("teacher.hidden = [128, 128]: needs"),
            "{message}"
        );
        assert!(experiment.check_memory(4, 2, 1 << 40).is_ok());
        for (table, key) in [
            (
                "[teacher]\nhidden = [100000000000]\n",
                "teacher.hidden = [100000000000]",
            ),
            (
                "[[students]]\nname = \"s\"\nhidden = [100000000000]\n",
                "students[0].hidden",
            ),
            (
                "[teacher]\nnum_envs = 1000000000000\n",
                "teacher.num_envs = 1000000000000",
            ),
            (
                "[eval]\nepisodes = 1000000000000\n",
                "eval.episodes = 1000000000000",
            ),
            (
                "[distill]\nstates = 10000000000000\n",
                "distill.states = 10000000000000",
            ),
            (
                "[distill]\ncollect_envs = 1000000000000\n",
                "distill.collect_envs",
            ),
            (
                "[teacher]\nbatch_size = 1000000000000\n",
                "teacher.batch_size",
            ),
            (
                "[distill]\nbatch_size = 1000000000000\n",
                "distill.batch_size",
            ),
        ] {
            let message = format!("{:#}", parse(&format!("{cartpole}{table}")).unwrap_err());
            assert!(message.contains(key), "{message}");
            assert!(message.contains("more than this machine's"), "{message}");
        }
    }

    #[test]
    fn out_of_range_value_is_refused_with_its_key() {
        let message = format!(
            "{:#}",
            parse("[env]\nid = \"CartPole-v1\"\n[teacher]\ngamma = 0\n").unwrap_err()
        );
        assert!(message.contains("teacher.gamma = 0"), "{message}");
    }
}

#[cfg(test)]
mod fuzz;
