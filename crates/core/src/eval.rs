//! Greedy evaluation of a policy over many episodes at once.
//!
//! Every episode runs in its own environment copy, and each copy plays exactly one episode.
//! Running a fixed number of copies until a fixed number of episodes *finish* would instead
//! over-sample short episodes (the copies that fail fast finish more of them), a bias that
//! flatters nothing and hides failures; one episode per copy has no such bias.

use crate::{mean_std_ci95, CoreError, GreedyPolicy, Summary};
use retort_envs::{make, EnvSpec, ExactEvaluator};

/// Episodes are cut after this many steps when the environment has no time limit of its own,
/// so that a policy that never reaches a terminal state cannot hang the evaluation.
pub const FALLBACK_STEP_LIMIT: u32 = 10_000;

/// How to evaluate.
#[derive(Clone, Debug)]
pub struct EvalConfig {
    /// Number of episodes (and environment copies).
    pub episodes: usize,
    /// Episode `i` resets its environment with seed `seed + i`.
    pub seed: u64,
}

/// Returns and lengths of every evaluation episode.
#[derive(Clone, Debug)]
pub struct EvalStats {
    /// Undiscounted return of each episode, in episode order.
    pub returns: Vec<f64>,
    /// Steps of each episode.
    pub lengths: Vec<u32>,
    /// Mean, std and 95 % CI of `returns`.
    pub summary: Summary,
}

/// Plays `config.episodes` greedy episodes of `policy` on `spec`, stepping all unfinished
/// episodes together so that the policy sees one batch per time step.
pub fn evaluate(
    policy: &dyn GreedyPolicy,
    spec: &EnvSpec,
    config: &EvalConfig,
) -> Result<EvalStats, CoreError> {
    let n = config.episodes;
    let mut envs = (0..n).map(|_| make(spec)).collect::<Result<Vec<_>, _>>()?;
    let obs_dim = policy.obs_dim();
    let step_limit = envs
        .first()
        .and_then(|env| env.max_episode_steps())
        .unwrap_or(FALLBACK_STEP_LIMIT);

    let mut obs = vec![0f32; n * obs_dim];
    for (i, env) in envs.iter_mut().enumerate() {
        env.reset(
            Some(config.seed.wrapping_add(i as u64)),
            &mut obs[i * obs_dim..][..obs_dim],
        );
    }
    let mut returns = vec![0f64; n];
    let mut lengths = vec![0u32; n];
    let mut active: Vec<usize> = (0..n).collect();
    let mut batch = Vec::with_capacity(n * obs_dim);
    let mut actions = vec![0usize; n];

    while !active.is_empty() {
        // Gather the observations of unfinished episodes into one batch.
        batch.clear();
        for &i in &active {
            batch.extend_from_slice(&obs[i * obs_dim..][..obs_dim]);
        }
        policy.act(&batch, &mut actions[..active.len()]);

        // Step each of them; keep only those still running.
        let mut still_active = Vec::with_capacity(active.len());
        for (&i, &action) in active.iter().zip(&actions) {
            let step = envs[i].step(action, &mut obs[i * obs_dim..][..obs_dim])?;
            returns[i] += step.reward;
            lengths[i] += 1;
            if !step.done() && lengths[i] < step_limit {
                still_active.push(i);
            }
        }
        active = still_active;
    }
    let summary = mean_std_ci95(&returns);
    Ok(EvalStats {
        returns,
        lengths,
        summary,
    })
}

/// The exact expected return of `policy`'s greedy actions on a grid map (see
/// [`ExactEvaluator`]): one batch of every cell's observation through the policy, then dynamic
/// programming. What infinitely many [`evaluate`] episodes would average.
pub fn exact_return(policy: &dyn GreedyPolicy, evaluator: &ExactEvaluator) -> f64 {
    let mut actions = vec![0; evaluator.cells()];
    policy.act(evaluator.observations(), &mut actions);
    evaluator.expected_return(&actions)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Always pushes the cart the same way.
    struct Constant(usize);

    impl GreedyPolicy for Constant {
        fn obs_dim(&self) -> usize {
            4
        }
        fn act(&self, _observations: &[f32], actions: &mut [usize]) {
            actions.fill(self.0);
        }
    }

    #[test]
    fn every_episode_is_played_once_and_independently() {
        let config = EvalConfig {
            episodes: 50,
            seed: 11,
        };
        let stats = evaluate(&Constant(1), &EnvSpec::new("CartPole-v1"), &config).unwrap();
        assert_eq!(stats.returns.len(), 50);
        // Pushing one way topples the pole in 8–11 steps from any start in ±0.05, and CartPole
        // pays 1 per step, so each return equals its length.
        for (r, l) in stats.returns.iter().zip(&stats.lengths) {
            assert_eq!(*r, *l as f64);
            assert!((7..=12).contains(l), "length {l}");
        }
        // Different start states give different lengths.
        assert!(stats.returns.iter().any(|r| *r != stats.returns[0]));
    }

    #[test]
    fn same_seed_same_returns() {
        let config = EvalConfig {
            episodes: 20,
            seed: 5,
        };
        let spec = EnvSpec::new("CartPole-v1");
        let a = evaluate(&Constant(0), &spec, &config).unwrap();
        let b = evaluate(&Constant(0), &spec, &config).unwrap();
        assert_eq!(a.returns, b.returns);
    }
}
