//! CartPole-v1, a bit-exact port of Gymnasium 1.4.0's classic-control cart-pole.
//!
//! # Spec
//!
//! A pole is hinged to a cart on a frictionless track; the agent pushes the cart left or right
//! with a fixed force and must keep the pole upright.
//!
//! **Actions** (2): `0` push left (force −10 N), `1` push right (force +10 N).
//!
//! **Observation** (4 × `f32`, the `f64` state rounded to nearest `f32`):
//!
//! | index | meaning               | range reachable before termination | unit  |
//! |-------|-----------------------|------------------------------------|-------|
//! | 0     | cart position `x`     | [−2.4, 2.4] (−4.8..4.8 observable) | m     |
//! | 1     | cart velocity `ẋ`     | unbounded                          | m/s   |
//! | 2     | pole angle `θ`        | [−0.2094, 0.2094] (±12°)           | rad   |
//! | 3     | pole angular velocity | unbounded                          | rad/s |
//!
//! Angles are measured from upright, positive clockwise (the pole leaning right).
//!
//! **Reward**: `+1` on every step, including the one that terminates the episode.
//!
//! **Start state**: each of the four state variables uniform in `[-0.05, 0.05)`, drawn from the
//! environment's ChaCha8 stream (so the numbers differ from Gymnasium's NumPy stream; the
//! distribution is the same). [`CartPole::with_state`] starts from a chosen state instead.
//!
//! **Termination**: after a step, `x < -2.4 || x > 2.4 || θ < -θmax || θ > θmax` with
//! `θmax = 12·2π/360` (strict comparisons, as in Gymnasium).
//!
//! **Truncation**: on the 500th step of an episode (Gymnasium's `TimeLimit`); if the pole also
//! falls on that step, both flags are set.
//!
//! **Dynamics**: explicit Euler with `τ = 0.02 s`, in `f64`, with exactly Gymnasium's order of
//! operations (plain `*` and `+`, never fused multiply-add), so every state matches Gymnasium's
//! bits; `tests/cartpole_conformance.rs` replays recorded Gymnasium trajectories to prove it.
//!
//! Gymnasium's `reward_threshold` for CartPole-v1 is 475.

use crate::{check_reset_len, check_step, Env, EnvError, Step};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Gravitational acceleration (m/s²).
pub const GRAVITY: f64 = 9.8;
/// Mass of the cart (kg).
pub const MASSCART: f64 = 1.0;
/// Mass of the pole (kg).
pub const MASSPOLE: f64 = 0.1;
/// Cart plus pole; computed exactly as Gymnasium does (`masspole + masscart`).
pub const TOTAL_MASS: f64 = MASSPOLE + MASSCART;
/// Half the pole's length (m); Gymnasium calls it `length`.
pub const LENGTH: f64 = 0.5;
/// `masspole * length`, as Gymnasium computes it.
pub const POLEMASS_LENGTH: f64 = MASSPOLE * LENGTH;
/// Magnitude of the push (N).
pub const FORCE_MAG: f64 = 10.0;
/// Integration time step (s).
pub const TAU: f64 = 0.02;
/// The pole falls past ±12°; `12 * 2 * pi / 360` evaluated left to right like Gymnasium.
pub const THETA_THRESHOLD_RADIANS: f64 = 12.0 * 2.0 * std::f64::consts::PI / 360.0;
/// The cart leaves the track past ±2.4 m.
pub const X_THRESHOLD: f64 = 2.4;
/// Gymnasium's time limit for CartPole-v1.
pub const MAX_EPISODE_STEPS: u32 = 500;
/// Gymnasium's `reward_threshold` for CartPole-v1.
pub const REWARD_THRESHOLD: f64 = 475.0;
/// Bounds of the uniform start state (all four variables).
pub const RESET_BOUND: f64 = 0.05;

/// The CartPole-v1 environment; see the [module docs](self) for its spec.
#[derive(Clone, Debug)]
pub struct CartPole {
    state: [f64; 4],
    rng: ChaCha8Rng,
    elapsed: u32,
    active: bool,
    max_episode_steps: u32,
}

impl Default for CartPole {
    fn default() -> Self {
        Self::new()
    }
}

impl CartPole {
    /// A fresh environment (RNG as if seeded with 0); call [`Env::reset`] before stepping.
    pub fn new() -> Self {
        CartPole {
            state: [0.0; 4],
            rng: ChaCha8Rng::seed_from_u64(0),
            elapsed: 0,
            active: false,
            max_episode_steps: MAX_EPISODE_STEPS,
        }
    }

    /// An environment whose episode has already started from `state` (`[x, ẋ, θ, θ̇]`), with
    /// the step counter at 0. This is Gymnasium's `env.unwrapped.state = ...` after a reset.
    pub fn with_state(state: [f64; 4]) -> Self {
        CartPole {
            state,
            active: true,
            ..Self::new()
        }
    }

    /// Replaces Gymnasium's 500-step limit (`max_episode_steps` of an experiment); at least 1.
    pub fn with_max_episode_steps(mut self, limit: u32) -> Self {
        self.max_episode_steps = limit.max(1);
        self
    }

    /// The exact `f64` state `[x, ẋ, θ, θ̇]`.
    pub fn state(&self) -> [f64; 4] {
        self.state
    }

    /// The observation of the current state (the state rounded to `f32`).
    pub fn observation(&self) -> [f32; 4] {
        self.state.map(|v| v as f32)
    }

    /// Steps taken in the current episode.
    pub fn elapsed_steps(&self) -> u32 {
        self.elapsed
    }

    fn write_obs(&self, obs: &mut [f32]) {
        for (o, s) in obs.iter_mut().zip(self.state) {
            *o = s as f32;
        }
    }
}

/// One Euler step of the cart-pole dynamics: the new state after pushing with `force`.
///
/// Kept free of `self` and branches so that the hot loop is plain arithmetic. The
/// parenthesisation mirrors Gymnasium's Python source evaluated left to right; changing it (or
/// letting anything fuse a multiply and an add) changes the last bits of the trajectory.
#[inline]
pub fn euler_step(state: [f64; 4], force: f64) -> [f64; 4] {
    let [x, x_dot, theta, theta_dot] = state;
    let costheta = theta.cos();
    let sintheta = theta.sin();
    let temp = (force + POLEMASS_LENGTH * (theta_dot * theta_dot) * sintheta) / TOTAL_MASS;
    let thetaacc = (GRAVITY * sintheta - costheta * temp)
        / (LENGTH * (4.0 / 3.0 - MASSPOLE * (costheta * costheta) / TOTAL_MASS));
    let xacc = temp - POLEMASS_LENGTH * thetaacc * costheta / TOTAL_MASS;
    // All four updates read the old values (Gymnasium's "euler" integrator).
    [
        x + TAU * x_dot,
        x_dot + TAU * xacc,
        theta + TAU * theta_dot,
        theta_dot + TAU * thetaacc,
    ]
}

impl Env for CartPole {
    fn id(&self) -> &str {
        "CartPole-v1"
    }

    fn obs_dim(&self) -> usize {
        4
    }

    fn n_actions(&self) -> usize {
        2
    }

    fn reset(&mut self, seed: Option<u64>, obs: &mut [f32]) {
        check_reset_len("CartPole-v1", obs.len(), 4);
        if let Some(seed) = seed {
            self.rng = ChaCha8Rng::seed_from_u64(seed);
        }
        for v in &mut self.state {
            // rand's float ranges are half-open, matching NumPy's uniform(low, high).
            *v = self.rng.random_range(-RESET_BOUND..RESET_BOUND);
        }
        self.elapsed = 0;
        self.active = true;
        self.write_obs(obs);
    }

    fn step(&mut self, action: usize, obs: &mut [f32]) -> Result<Step, EnvError> {
        check_step(self.active, action, 2, obs.len(), 4)?;
        let force = if action == 1 { FORCE_MAG } else { -FORCE_MAG };
        self.state = euler_step(self.state, force);
        self.elapsed += 1;
        let [x, _, theta, _] = self.state;
        // Gymnasium's four strict comparisons, kept literally: a NaN state compares false
        // everywhere and so does not terminate, whereas `!range.contains(..)` would.
        #[allow(clippy::manual_range_contains)]
        let terminated = x < -X_THRESHOLD
            || x > X_THRESHOLD
            || theta < -THETA_THRESHOLD_RADIANS
            || theta > THETA_THRESHOLD_RADIANS;
        let truncated = self.elapsed >= self.max_episode_steps;
        self.active = !(terminated || truncated);
        self.write_obs(obs);
        Ok(Step {
            reward: 1.0,
            terminated,
            truncated,
        })
    }

    fn max_episode_steps(&self) -> Option<u32> {
        Some(self.max_episode_steps)
    }

    fn reward_threshold(&self) -> Option<f64> {
        Some(REWARD_THRESHOLD)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derived_constants_have_gymnasiums_bits() {
        assert_eq!(THETA_THRESHOLD_RADIANS.to_bits(), 0x3fca_cee9_f37b_ebd5);
        assert_eq!(TOTAL_MASS.to_bits(), 0x3ff1_9999_9999_999a);
        assert_eq!(POLEMASS_LENGTH.to_bits(), 0x3fa9_9999_9999_999a);
    }

    #[test]
    fn reset_draws_every_variable_in_the_half_open_start_box() {
        let mut env = CartPole::new();
        let mut obs = [0.0f32; 4];
        let mut lo = [f64::INFINITY; 4];
        let mut hi = [f64::NEG_INFINITY; 4];
        for seed in 0..5000 {
            env.reset(Some(seed), &mut obs);
            for (i, v) in env.state().into_iter().enumerate() {
                assert!((-0.05..0.05).contains(&v), "seed {seed}: state[{i}] = {v}");
                assert_eq!(obs[i], v as f32);
                lo[i] = lo[i].min(v);
                hi[i] = hi[i].max(v);
            }
        }
        // 5000 draws cover nearly the whole box, so the range is not accidentally narrow.
        for i in 0..4 {
            assert!(
                lo[i] < -0.049 && hi[i] > 0.049,
                "state[{i}] spans {}..{}",
                lo[i],
                hi[i]
            );
        }
    }

    #[test]
    fn same_seed_gives_same_start_and_none_continues_the_stream() {
        let mut a = CartPole::new();
        let mut b = CartPole::new();
        let mut obs = [0.0f32; 4];
        a.reset(Some(7), &mut obs);
        b.reset(Some(7), &mut obs);
        assert_eq!(a.state(), b.state());
        let first = a.state();
        a.reset(None, &mut obs);
        assert_ne!(a.state(), first);
        b.reset(None, &mut obs);
        assert_eq!(a.state(), b.state());
    }

    #[test]
    fn fresh_env_behaves_as_if_seeded_with_zero() {
        let mut fresh = CartPole::new();
        let mut seeded = CartPole::new();
        let mut obs = [0.0f32; 4];
        fresh.reset(None, &mut obs);
        seeded.reset(Some(0), &mut obs);
        assert_eq!(fresh.state(), seeded.state());
    }

    #[test]
    fn step_before_reset_is_episode_over() {
        let mut env = CartPole::new();
        let mut obs = [0.0f32; 4];
        assert!(matches!(env.step(0, &mut obs), Err(EnvError::EpisodeOver)));
    }

    #[test]
    fn action_two_is_invalid_and_changes_nothing() {
        let mut env = CartPole::with_state([0.01, 0.0, 0.0, 0.0]);
        let mut obs = [0.0f32; 4];
        let err = env.step(2, &mut obs);
        assert!(matches!(
            err,
            Err(EnvError::InvalidAction {
                action: 2,
                n_actions: 2
            })
        ));
        assert_eq!(env.state(), [0.01, 0.0, 0.0, 0.0]);
        assert_eq!(env.elapsed_steps(), 0);
        assert!(env.step(1, &mut obs).is_ok());
    }

    #[test]
    fn stepping_after_termination_is_episode_over() {
        // θ = 0.25 is beyond 12° already, so the first step terminates.
        let mut env = CartPole::with_state([0.0, 0.0, 0.25, 0.0]);
        let mut obs = [0.0f32; 4];
        let step = env.step(0, &mut obs).expect("first step");
        assert_eq!(
            step,
            Step {
                reward: 1.0,
                terminated: true,
                truncated: false
            }
        );
        assert!(matches!(env.step(0, &mut obs), Err(EnvError::EpisodeOver)));
    }

    #[test]
    fn first_push_right_from_rest_matches_hand_computed_euler_step() {
        // From rest with θ = 0: temp = 10/1.1, θ̈ = -temp/(0.5·(4/3 − 0.1/1.1)), and only the
        // velocities change in the first Euler step.
        let mut env = CartPole::with_state([0.0; 4]);
        let mut obs = [0.0f32; 4];
        env.step(1, &mut obs).expect("step");
        let temp = 10.0 / 1.1;
        let thetaacc = (0.0 - temp) / (0.5 * (4.0 / 3.0 - 0.1 / 1.1));
        let xacc = temp - 0.05 * thetaacc / 1.1;
        assert_eq!(env.state(), [0.0, 0.02 * xacc, 0.0, 0.02 * thetaacc]);
        assert_eq!(
            env.state(),
            [0.0, 0.1951219512195122, 0.0, -0.2926829268292683]
        );
    }

    #[test]
    fn nan_state_does_not_terminate_like_gymnasiums_comparisons() {
        let mut env = CartPole::with_state([f64::NAN, 0.0, 0.0, 0.0]);
        let mut obs = [0.0f32; 4];
        assert!(!env.step(0, &mut obs).expect("step").terminated);
    }

    #[test]
    fn truncates_on_the_configured_limit_with_both_flags_possible() {
        let mut env = CartPole::with_state([0.0; 4]).with_max_episode_steps(2);
        let mut obs = [0.0f32; 4];
        assert!(!env.step(0, &mut obs).expect("1").truncated);
        let last = env.step(1, &mut obs).expect("2");
        assert!(last.truncated && !last.terminated);
        assert_eq!(env.max_episode_steps(), Some(2));
    }
}
