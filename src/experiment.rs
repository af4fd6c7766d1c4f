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
        let text = std::fs::read_to_string(path)
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
        Ok(())
    }

    /// The experiment as TOML, every default written out.
    pub fn to_toml(&self) -> String {
        toml::to_string_pretty(self).expect("an experiment always serialises to TOML")
    }
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
    candidates
        .split('`')
        .skip(1)
        .step_by(2)
        .map(|key| (edit_distance(unknown, key), key))
        .filter(|(distance, _)| *distance <= unknown.len().max(3) / 3)
        .min()
        .map(|(_, key)| key.to_string())
}

/// Levenshtein distance between two short strings.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != *cb);
            current.push(substitution.min(previous[j + 1] + 1).min(current[j] + 1));
        }
        previous = current;
    }
    previous[b.len()]
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
        assert_eq!(edit_distance("staets", "states"), 2);
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
    fn out_of_range_value_is_refused_with_its_key() {
        let message = format!(
            "{:#}",
            parse("[env]\nid = \"CartPole-v1\"\n[teacher]\ngamma = 0\n").unwrap_err()
        );
        assert!(message.contains("teacher.gamma = 0"), "{message}");
    }
}
