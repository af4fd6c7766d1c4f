//! Reinforcement-learning environments for retort: exact ports of Gymnasium's CartPole-v1,
//! MountainCar-v0 and Acrobot-v1, and a family of text-map grid worlds (FrozenLake,
//! CliffWalking, FourRooms, your own maps).
//!
//! # Overview
//!
//! Every environment implements [`Env`], a small allocation-free interface: [`Env::reset`] writes
//! the first observation into a caller-owned buffer, [`Env::step`] writes the next one and
//! returns a [`Step`] (reward and the two end-of-episode flags, with Gymnasium's meaning of
//! *terminated* and *truncated*). Experiments name environments with an [`EnvSpec`] (a TOML
//! table in an experiment file) and build them with [`make`]; [`known_ids`] lists the ids.
//!
//! | id | what it is | module |
//! |---|---|---|
//! | `CartPole-v1` | Gymnasium 1.4.0 CartPole-v1, bit for bit | [`cartpole`] |
//! | `MountainCar-v0` | Gymnasium 1.4.0 MountainCar-v0, bit for bit | [`mountain_car`] |
//! | `Acrobot-v1` | Gymnasium 1.4.0 Acrobot-v1, bit for bit after each step | [`acrobot`] |
//! | `FrozenLake-v1` | Gymnasium FrozenLake-v1 (`4x4` or `8x8`, slippery) | [`gridworld`] |
//! | `CliffWalking-v1` | Gymnasium CliffWalking-v1 (4×12, −1 per step) | [`gridworld`] |
//! | `GridWorld` | a built-in map by name (`FourRooms`, …) or a map file | [`gridworld`] |
//!
//! The grid family has an exact oracle: [`optimal_return`] solves the finite-horizon problem by
//! dynamic programming, so a trained agent's score can be compared with the best possible one.
//!
//! Randomness comes from one ChaCha8 stream per environment, seeded by `reset(Some(seed), ..)`;
//! the same seed and the same actions always replay the same episode.
//!
//! # Example
//!
//! ```
//! use retort_envs::{make, EnvSpec};
//!
//! let mut env = make(&EnvSpec::new("CartPole-v1"))?;
//! let mut obs = vec![0.0f32; env.obs_dim()];
//! env.reset(Some(42), &mut obs);
//! let mut episode_return = 0.0;
//! loop {
//!     // Push the cart towards the side the pole leans to.
//!     let action = if obs[2] > 0.0 { 1 } else { 0 };
//!     let step = env.step(action, &mut obs)?;
//!     episode_return += step.reward;
//!     if step.done() {
//!         break;
//!     }
//! }
//! assert!(episode_return >= 1.0);
//!
//! // The grid family knows its optimum: deterministic FrozenLake is always solvable.
//! let mut lake = EnvSpec::new("FrozenLake-v1");
//! lake.is_slippery = Some(false);
//! assert_eq!(retort_envs::optimal_return(&lake)?, Some(1.0));
//! # Ok::<(), retort_envs::EnvError>(())
//! ```

#![warn(missing_docs)]

pub mod acrobot;
pub mod cartpole;
mod error;
pub mod gridworld;
pub mod mountain_car;
mod registry;
pub mod snapshot;
pub mod trig;
pub mod vec_env;

pub use acrobot::Acrobot;
pub use cartpole::CartPole;
pub use error::{EnvError, MapError, MapErrorKind};
pub use gridworld::{
    BuiltinMap, ExactEvaluator, FiniteHorizon, GridMap, GridWorld, Rewards, Tile, ValueIteration,
};
pub use mountain_car::MountainCar;
pub use registry::{exact_evaluator, known_ids, make, optimal_return, EnvSpec, ObsKind};
pub use snapshot::{EnvSnapshot, RngState};
pub use vec_env::VecEnv;

/// A reinforcement-learning environment with a discrete action space and a flat `f32`
/// observation, following Gymnasium's reset/step protocol.
pub trait Env: Send {
    /// The environment's id, e.g. `"CartPole-v1"`, `"Acrobot-v1"`, `"FrozenLake-v1"` or
    /// `"GridWorld"`.
    fn id(&self) -> &str;

    /// Length of every observation this environment writes.
    fn obs_dim(&self) -> usize;

    /// Number of discrete actions; valid actions are `0..n_actions()`.
    fn n_actions(&self) -> usize;

    /// Starts an episode, writing the first observation into `obs` (`len == obs_dim()`).
    ///
    /// `Some(seed)` reseeds the environment's RNG (ChaCha8 seeded by the `u64`); `None` continues
    /// its stream. A fresh environment behaves as if seeded with 0 until reseeded.
    ///
    /// # Panics
    ///
    /// If `obs.len() != obs_dim()`: the signature has no error channel, and silently writing a
    /// truncated observation would corrupt training data without a trace.
    fn reset(&mut self, seed: Option<u64>, obs: &mut [f32]);

    /// Advances one step, writing the next observation into `obs`.
    ///
    /// Errors: [`EnvError::EpisodeOver`] if the episode already ended (terminated or truncated)
    /// or `reset` was never called; [`EnvError::InvalidAction`] if `action >= n_actions()`;
    /// [`EnvError::ObsLength`] if `obs.len() != obs_dim()`. An error leaves the environment
    /// unchanged. Never allocates.
    fn step(&mut self, action: usize, obs: &mut [f32]) -> Result<Step, EnvError>;

    /// The time limit after which an episode is truncated, if any.
    fn max_episode_steps(&self) -> Option<u32>;

    /// Gymnasium's `reward_threshold` where it has one (CartPole-v1: 475.0, or 0.0 with the
    /// Sutton–Barto reward; MountainCar-v0: −110.0; Acrobot-v1: −100.0), else `None`.
    fn reward_threshold(&self) -> Option<f64>;

    /// Everything that decides what this environment does next and that its spec does not
    /// fix: state, step count, whether an episode runs, and the random stream's position.
    fn snapshot(&self) -> EnvSnapshot;

    /// Puts back a [`snapshot`](Env::snapshot) taken from an environment built from the same
    /// spec; afterwards both step identically. Errors ([`EnvError::Snapshot`]) if the snapshot
    /// belongs to another environment or does not fit this one; the environment is then
    /// unchanged.
    fn restore(&mut self, snapshot: &EnvSnapshot) -> Result<(), EnvError>;
}

/// The outcome of one [`Env::step`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Step {
    /// Reward for this transition.
    pub reward: f64,
    /// The episode reached a terminal state of the task (the value of what follows is 0).
    pub terminated: bool,
    /// The episode was cut by the time limit (what follows still has value; bootstrap from it).
    pub truncated: bool,
}

impl Step {
    /// True when the episode has ended for either reason.
    pub fn done(&self) -> bool {
        self.terminated || self.truncated
    }
}

/// Checks the preconditions shared by every `step`, in a fixed order so that all
/// environments report the same error for the same misuse.
pub(crate) fn check_step(
    active: bool,
    action: usize,
    n_actions: usize,
    obs_len: usize,
    obs_dim: usize,
) -> Result<(), EnvError> {
    if obs_len != obs_dim {
        return Err(EnvError::ObsLength {
            expected: obs_dim,
            got: obs_len,
        });
    }
    if !active {
        return Err(EnvError::EpisodeOver);
    }
    if action >= n_actions {
        return Err(EnvError::InvalidAction { action, n_actions });
    }
    Ok(())
}

/// Asserts the `reset` buffer length with a message that says how to size it.
pub(crate) fn check_reset_len(id: &str, obs_len: usize, obs_dim: usize) {
    assert!(
        obs_len == obs_dim,
        "{id}: reset got an observation buffer of length {obs_len}, but obs_dim() is {obs_dim}"
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn done_is_true_when_either_flag_is_set() {
        let s = |terminated, truncated| Step {
            reward: 0.0,
            terminated,
            truncated,
        };
        assert!(!s(false, false).done());
        assert!(s(true, false).done());
        assert!(s(false, true).done());
        assert!(s(true, true).done());
    }

    #[test]
    fn obs_length_is_checked_before_episode_state() {
        assert!(matches!(
            check_step(false, 9, 2, 3, 4),
            Err(EnvError::ObsLength {
                expected: 4,
                got: 3
            })
        ));
        assert!(matches!(
            check_step(false, 9, 2, 4, 4),
            Err(EnvError::EpisodeOver)
        ));
        assert!(matches!(
            check_step(true, 9, 2, 4, 4),
            Err(EnvError::InvalidAction {
                action: 9,
                n_actions: 2
            })
        ));
        assert!(check_step(true, 1, 2, 4, 4).is_ok());
    }
}
