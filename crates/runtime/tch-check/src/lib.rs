//! Test-only helpers that compare `retort-runtime` with the tch policies of `retort-core`.
//!
//! This package exists so that `tch` never enters `retort-runtime`'s dependency tree: the
//! runtime's own tests need no libtorch, and everything that does lives here (the agreement
//! test in `tests/agreement.rs`, the speed comparison in `examples/runtime_vs_tch.rs`).

#![warn(missing_docs)]

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use retort_core::{save_checkpoint, MlpPolicy, MlpSpec, ModelCard};
use retort_envs::{CartPole, Env, EnvSpec};
use std::path::{Path, PathBuf};

/// A fresh, empty directory under the system's temporary folder, unique to this process.
pub fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("retort-runtime-{name}-{}", std::process::id()));
    // A leftover from an earlier run with the same process id would hold stale files.
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// A randomly initialised [`MlpPolicy`], built the way the trainer builds one, whose output
/// biases are then shifted so that every action's mean score over `states` (row after row) is
/// the same.
///
/// Without the shift, a deep random network often scores one action highest everywhere, and
/// agreeing on a constant proves little; with it, the decision boundaries run through the
/// states, where agreement is hardest. Pass no states to keep the initialisation as it is.
///
/// A dueling network has its advantage biases shifted: Q(s, a) moves by the shift of action
/// `a` minus the mean shift, so every action's mean score becomes the mean over actions.
pub fn random_policy(spec: &MlpSpec, init_seed: u64, states: &[f32]) -> MlpPolicy {
    let policy = MlpPolicy::new(spec.clone(), tch::Device::Cpu, init_seed);
    if !states.is_empty() {
        let mean = policy.scores(states).mean_dim(0, false, tch::Kind::Float);
        let name = match spec.dueling {
            true => "advantage.bias".to_string(),
            false => format!("layers.{}.bias", spec.hidden.len()),
        };
        let Some(bias) = policy.var_store().variables().remove(&name) else {
            panic!("the policy has no `{name}`");
        };
        // The variables share storage with the policy, so this edits the policy itself.
        tch::no_grad(|| {
            let shifted = &bias - &mean;
            bias.shallow_clone().copy_(&shifted);
        });
    }
    policy
}

/// Saves `policy` as a checkpoint in `dir` with a card naming an environment of its shape:
/// CartPole (4 observations, 2 actions) or the 4×4 FrozenLake (16 one-hot cells, 4 actions).
/// Loading refuses a network that does not fit its card's environment. A dueling network is
/// saved as a teacher (only teachers have dueling heads), any other as a student.
pub fn save(dir: &Path, policy: &MlpPolicy) {
    let spec = policy.spec().clone();
    let env = match (spec.obs_dim, spec.n_actions) {
        (16, 4) => EnvSpec::new("FrozenLake-v1"),
        _ => EnvSpec::new("CartPole-v1"),
    };
    let role = if spec.dueling { "teacher" } else { "student" };
    let card = ModelCard::new(role, env, spec);
    if let Err(e) = save_checkpoint(dir, &card, policy) {
        panic!("saving a checkpoint into {} failed: {e}", dir.display());
    }
}

/// `n` CartPole observations as they occur in play, row after row.
///
/// The states come from episodes driven by a balancing rule (push towards the side the pole
/// falls to) that is overridden by a random action a fifth of the time: the rule makes
/// episodes long enough to wander over the whole track, the noise makes them fail in every
/// way, so the states cover what a student meets from the first to the last step.
pub fn cartpole_states(n: usize, seed: u64) -> Vec<f32> {
    let mut env = CartPole::new();
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut obs = [0.0f32; 4];
    let mut states = Vec::with_capacity(n * 4);
    let mut episode = 0u64;
    env.reset(Some(seed ^ episode), &mut obs);
    while states.len() < n * 4 {
        states.extend_from_slice(&obs);
        let balancing = usize::from(obs[2] + obs[3] > 0.0);
        let action = if rng.random_bool(0.2) {
            rng.random_range(0..2)
        } else {
            balancing
        };
        let done = match env.step(action, &mut obs) {
            Ok(step) => step.done(),
            Err(e) => panic!("CartPole refused a step: {e}"),
        };
        if done {
            episode += 1;
            env.reset(Some(seed ^ episode), &mut obs);
        }
    }
    states
}

/// `n` observations of length `obs_dim` with every value uniform in `[-scale[i], scale[i]]`
/// (`scale` repeats if shorter than `obs_dim`), row after row.
pub fn uniform_states(n: usize, obs_dim: usize, scale: &[f32], seed: u64) -> Vec<f32> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..n * obs_dim)
        .map(|k| {
            let s = scale[k % obs_dim % scale.len()];
            rng.random_range(-s..=s)
        })
        .collect()
}

/// The bounds of CartPole's non-terminal states, with velocities a little beyond what play
/// reaches, for [`uniform_states`].
pub const CARTPOLE_BOX: [f32; 4] = [2.4, 3.0, 0.21, 3.5];
