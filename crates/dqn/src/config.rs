//! Hyperparameters of the teacher.

use crate::sum_tree::SumTree;
use crate::{DqnError, ReplayBuffer};
use retort_envs::{EnvSpec, ExactEvaluator};
use serde::{Deserialize, Serialize};

/// The largest `n_step` accepted. Longer windows are not wrong, but each step then sums up to
/// this many rewards, and returns that long are better served by Monte Carlo methods.
const MAX_N_STEP: usize = 1000;

/// Everything that decides how the teacher trains. Every field has a default; the defaults
/// solve CartPole-v1.
///
/// They start from the rl-zoo settings for DQN on CartPole (Adam at 2.3e-3, batch 64,
/// γ = 0.99, ε from 1 to 0.04) with a smaller network — MLP 128-128 rather than 256-256, which
/// halves the cost of a gradient step on one CPU core — and train in shorter, more frequent
/// rounds: 16 gradient steps every 64 env steps instead of 128 every 256, a quarter of the
/// updates per env step, with the target network copied every 64 gradient steps and a greedy
/// evaluation every 1 000 env steps. Over seeds 0–5 this solved CartPole (100 greedy episodes
/// ≥ 475) in 10 000–49 000 env steps, median 35 000, with 2 000–12 000 gradient steps.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DqnConfig {
    /// Hidden layer widths of the Q-network.
    pub hidden: Vec<usize>,
    /// Budget of environment steps (all copies counted).
    pub total_steps: u64,
    /// Environment copies stepped together; their observations go through the network as one
    /// batch.
    pub num_envs: usize,
    /// Adam learning rate.
    pub learning_rate: f64,
    /// Transitions per gradient step.
    pub batch_size: usize,
    /// Replay buffer capacity in transitions.
    pub buffer_size: usize,
    /// Environment steps of purely random play before the first gradient step.
    pub learning_starts: u64,
    /// Discount factor γ, in (0, 1].
    pub gamma: f64,
    /// Environment steps between two rounds of training.
    pub train_freq: u64,
    /// Gradient steps per round of training.
    pub gradient_steps: u64,
    /// Gradient steps between two target-network updates.
    pub target_update_interval: u64,
    /// Weight of the online network in a target update: 1 copies it (hard update), smaller
    /// values blend it in (Polyak averaging).
    pub target_tau: f64,
    /// Fraction of `total_steps` over which ε falls from its initial to its final value.
    pub exploration_fraction: f64,
    /// ε at the first step.
    pub exploration_initial_eps: f64,
    /// ε after the exploration fraction.
    pub exploration_final_eps: f64,
    /// Gradients are rescaled so that their global L2 norm is at most this.
    pub max_grad_norm: f64,
    /// Let the online network pick the next action and the target network score it.
    pub double_dqn: bool,
    /// Environment steps each stored transition covers (n-step returns): its reward is the
    /// discounted sum of n rewards and its target bootstraps from the observation n steps
    /// later with γ^n; 1 is plain one-step DQN. Rewards reach earlier states in fewer updates,
    /// at the price of targets that depend on the exploring policy's later actions. An
    /// episode's last transitions cover fewer steps; they stop at a termination and bootstrap
    /// through a truncation. In [1, 1000].
    pub n_step: usize,
    /// Replay each transition with probability proportional to a priority taken from its last
    /// TD error (proportional prioritized replay) rather than uniformly, so that surprising
    /// transitions are learnt from more often; importance-sampling weights on the loss correct
    /// the bias this brings.
    pub prioritized_replay: bool,
    /// Prioritized replay: exponent α of the priorities `(|δ| + ε)^α`; 0 replays uniformly,
    /// 1 in proportion to the TD error. The default is the PER paper's for its proportional
    /// variant. At least 0.
    pub priority_alpha: f64,
    /// Prioritized replay: exponent β of the importance-sampling weights at the first step,
    /// raised linearly to 1 (full correction) over `total_steps` env steps; a partial
    /// correction early on, while the targets still move, is enough. The default is the PER
    /// paper's. In [0, 1].
    pub priority_beta_start: f64,
    /// Prioritized replay: ε added to every |δ|, so that a transition whose TD error is 0 can
    /// still be replayed; small enough to leave other priorities unchanged. Positive.
    pub priority_epsilon: f64,
    /// Dueling Q-network: the last hidden layer feeds a value stream V(s) and an advantage
    /// stream A(s, a), combined as Q(s, a) = V(s) + A(s, a) − mean over actions of A(s, ·).
    /// It adds one parameter per unit of the last hidden layer, plus one; checkpoints store
    /// the streams as `value.*` and `advantage.*`. Students stay plain MLPs and learn the
    /// combined Q-values.
    pub dueling: bool,
    /// Environment steps between two greedy evaluations (0: never evaluate while training).
    pub eval_interval: u64,
    /// Episodes per greedy evaluation during training.
    pub eval_episodes: usize,
    /// On grid maps, each greedy evaluation during training computes the policy's exact
    /// expected return by dynamic programming, what infinitely many episodes would average,
    /// instead of playing `eval_episodes` episodes: the snapshot kept is then the best policy
    /// rather than the luckiest evaluation, which matters on slippery maps. Environments with
    /// a continuous state (CartPole, MountainCar, Acrobot) refuse it.
    pub exact_eval: bool,
    /// Stop once a greedy evaluation's mean return reaches this; when absent, the
    /// environment's own threshold (CartPole-v1: 475) is used, and environments without one
    /// train for the whole budget.
    pub target_return: Option<f64>,
    /// Environment steps between two resumable checkpoints (`teacher/resume.safetensors`:
    /// weights, optimiser, counters, random streams, environments and replay buffer), so that
    /// a crash loses at most this much training; 0 writes one only when training is stopped
    /// early (Ctrl-C). Each is written to a temporary file and renamed into place.
    pub checkpoint_interval: u64,
    /// Store the replay buffer in resumable checkpoints. Without it a resumed run starts with
    /// an empty buffer and no longer matches an uninterrupted one. When absent, the buffer is
    /// stored if it takes at most 1 GiB.
    pub checkpoint_replay: Option<bool>,
}

impl Default for DqnConfig {
    fn default() -> Self {
        DqnConfig {
            hidden: vec![128, 128],
            total_steps: 50_000,
            num_envs: 1,
            learning_rate: 2.3e-3,
            batch_size: 64,
            buffer_size: 100_000,
            learning_starts: 1_000,
            gamma: 0.99,
            train_freq: 64,
            gradient_steps: 16,
            target_update_interval: 64,
            target_tau: 1.0,
            exploration_fraction: 0.2,
            exploration_initial_eps: 1.0,
            exploration_final_eps: 0.04,
            max_grad_norm: 10.0,
            double_dqn: false,
            n_step: 1,
            prioritized_replay: false,
            priority_alpha: 0.6,
            priority_beta_start: 0.4,
            priority_epsilon: 1e-6,
            dueling: false,
            eval_interval: 1_000,
            eval_episodes: 100,
            exact_eval: false,
            target_return: None,
            checkpoint_interval: 10_000,
            checkpoint_replay: None,
        }
    }
}

impl DqnConfig {
    /// Checks every value's range, naming the first offending key.
    pub fn validate(&self) -> Result<(), DqnError> {
        let fail = |key, value: String, expected| {
            Err(DqnError::Config {
                key,
                value,
                expected,
            })
        };
        let positive_counts: [(&'static str, u64); 6] = [
            ("total_steps", self.total_steps),
            ("num_envs", self.num_envs as u64),
            ("batch_size", self.batch_size as u64),
            ("buffer_size", self.buffer_size as u64),
            ("train_freq", self.train_freq),
            ("target_update_interval", self.target_update_interval),
        ];
        for (key, value) in positive_counts {
            if value == 0 {
                return fail(key, value.to_string(), "must be at least 1");
            }
        }
        if self.hidden.contains(&0) {
            return fail(
                "hidden",
                format!("{:?}", self.hidden),
                "every width must be at least 1",
            );
        }
        if !(self.learning_rate > 0.0 && self.learning_rate.is_finite()) {
            return fail(
                "learning_rate",
                self.learning_rate.to_string(),
                "must be positive",
            );
        }
        if !(self.gamma > 0.0 && self.gamma <= 1.0) {
            return fail("gamma", self.gamma.to_string(), "must be in (0, 1]");
        }
        if !(self.target_tau > 0.0 && self.target_tau <= 1.0) {
            return fail(
                "target_tau",
                self.target_tau.to_string(),
                "must be in (0, 1]",
            );
        }
        let fractions = [
            ("exploration_fraction", self.exploration_fraction),
            ("exploration_initial_eps", self.exploration_initial_eps),
            ("exploration_final_eps", self.exploration_final_eps),
        ];
        for (key, value) in fractions {
            if !(0.0..=1.0).contains(&value) {
                return fail(key, value.to_string(), "must be in [0, 1]");
            }
        }
        if self.max_grad_norm.is_nan() || self.max_grad_norm <= 0.0 {
            return fail(
                "max_grad_norm",
                self.max_grad_norm.to_string(),
                "must be positive",
            );
        }
        if !(1..=MAX_N_STEP).contains(&self.n_step) {
            return fail("n_step", self.n_step.to_string(), "must be in [1, 1000]");
        }
        if !(self.priority_alpha >= 0.0 && self.priority_alpha.is_finite()) {
            return fail(
                "priority_alpha",
                self.priority_alpha.to_string(),
                "must be finite and at least 0",
            );
        }
        if !(0.0..=1.0).contains(&self.priority_beta_start) {
            return fail(
                "priority_beta_start",
                self.priority_beta_start.to_string(),
                "must be in [0, 1]",
            );
        }
        if !(self.priority_epsilon > 0.0 && self.priority_epsilon.is_finite()) {
            return fail(
                "priority_epsilon",
                self.priority_epsilon.to_string(),
                "must be positive",
            );
        }
        if self.eval_interval > 0 && self.eval_episodes == 0 {
            return fail(
                "eval_episodes",
                "0".into(),
                "must be at least 1 when eval_interval > 0",
            );
        }
        Ok(())
    }
}

impl DqnConfig {
    /// The exact evaluator `exact_eval` asks for: `None` when it is off, an error naming the
    /// key when the environment has none.
    pub fn exact_evaluator(&self, spec: &EnvSpec) -> Result<Option<ExactEvaluator>, DqnError> {
        if !self.exact_eval {
            return Ok(None);
        }
        match retort_envs::exact_evaluator(spec)? {
            Some(evaluator) => Ok(Some(evaluator)),
            None => Err(DqnError::Config {
                key: "exact_eval",
                value: "true".into(),
                expected: "only grid maps (FrozenLake-v1, CliffWalking-v1, GridWorld) have an \
                           exact evaluation; remove exact_eval for this environment",
            }),
        }
    }

    /// Refuses a replay buffer larger than the machine's memory for observations of length
    /// `obs_dim`. Such a buffer may still be granted by the kernel's overcommit and then kill
    /// the process once filled, so it is refused before training starts.
    pub fn check_buffer_memory(&self, obs_dim: usize) -> Result<(), DqnError> {
        let bytes = self.buffer_bytes(obs_dim);
        if physical_memory().is_some_and(|total| bytes > u128::from(total)) {
            return Err(DqnError::BufferTooLarge {
                capacity: self.buffer_size,
                bytes,
            });
        }
        Ok(())
    }
}

impl DqnConfig {
    /// Bytes of the replay buffer, with its priorities when replay is prioritized.
    pub(crate) fn buffer_bytes(&self, obs_dim: usize) -> u128 {
        let transitions = ReplayBuffer::bytes_needed(self.buffer_size, obs_dim);
        if self.prioritized_replay {
            transitions + SumTree::bytes_needed(self.buffer_size)
        } else {
            transitions
        }
    }
}

/// Total physical memory in bytes, where the system tells (Linux `/proc/meminfo`).
pub fn physical_memory() -> Option<u64> {
    let meminfo = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = meminfo.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid() {
        DqnConfig::default().validate().unwrap();
    }

    #[test]
    fn out_of_range_values_name_their_key() {
        let config = DqnConfig {
            gamma: 1.5,
            ..DqnConfig::default()
        };
        let message = config.validate().unwrap_err().to_string();
        assert_eq!(message, "teacher.gamma = 1.5: must be in (0, 1]");
        let config = DqnConfig {
            exploration_final_eps: -0.1,
            ..DqnConfig::default()
        };
        let message = config.validate().unwrap_err().to_string();
        assert_eq!(
            message,
            "teacher.exploration_final_eps = -0.1: must be in [0, 1]"
        );
    }

    #[test]
    fn replay_variants_out_of_range_name_their_key_and_range() {
        let cases = [
            (
                DqnConfig {
                    n_step: 0,
                    ..DqnConfig::default()
                },
                "teacher.n_step = 0: must be in [1, 1000]",
            ),
            (
                DqnConfig {
                    n_step: 1001,
                    ..DqnConfig::default()
                },
                "teacher.n_step = 1001: must be in [1, 1000]",
            ),
            (
                DqnConfig {
                    priority_alpha: -0.5,
                    ..DqnConfig::default()
                },
                "teacher.priority_alpha = -0.5: must be finite and at least 0",
            ),
            (
                DqnConfig {
                    priority_beta_start: 1.5,
                    ..DqnConfig::default()
                },
                "teacher.priority_beta_start = 1.5: must be in [0, 1]",
            ),
            (
                DqnConfig {
                    priority_epsilon: 0.0,
                    ..DqnConfig::default()
                },
                "teacher.priority_epsilon = 0: must be positive",
            ),
        ];
        for (config, expected) in cases {
            assert_eq!(config.validate().unwrap_err().to_string(), expected);
        }
        let edges = DqnConfig {
            n_step: 1000,
            priority_alpha: 0.0,
            priority_beta_start: 1.0,
            ..DqnConfig::default()
        };
        edges.validate().unwrap();
    }

    #[test]
    fn prioritized_replay_counts_its_sum_tree_in_the_buffer_memory() {
        // 1000 slots of 4 floats: 1000 · (8 · 4 + 18) bytes; the tree has 1024 leaves, 2048
        // nodes of 8 bytes.
        let mut config = DqnConfig {
            buffer_size: 1000,
            ..DqnConfig::default()
        };
        assert_eq!(config.buffer_bytes(4), 50_000);
        config.prioritized_replay = true;
        assert_eq!(config.buffer_bytes(4), 50_000 + 16_384);
    }
}
