//! MountainCar-v0, a bit-exact port of Gymnasium 1.4.0's classic-control mountain car.
//!
//! # Spec
//!
//! An under-powered car sits in a valley between two hills shaped like `sin(3x)`; it cannot
//! drive straight up the right hill and must first swing back and forth to build momentum.
//!
//! **Actions** (3): `0` accelerate left, `1` coast, `2` accelerate right (force
//! `(action − 1) · 0.001`).
//!
//! **Observation** (2 × `f32`, the `f64` state rounded to nearest `f32`):
//!
//! | index | meaning        | range          | unit                 |
//! |-------|----------------|----------------|----------------------|
//! | 0     | position `x`   | [−1.2, 0.6]    | position units       |
//! | 1     | velocity `v`   | [−0.07, 0.07]  | position units/step  |
//!
//! **Reward**: `−1` on every step, including the one that reaches the goal.
//!
//! **Start state**: position uniform in `[-0.6, -0.4)`, velocity exactly 0, drawn from the
//! environment's ChaCha8 stream (so the numbers differ from Gymnasium's NumPy stream; the
//! distribution is the same). [`MountainCar::with_state`] starts from a chosen state instead.
//!
//! **Dynamics** (one step, in `f64`, in exactly this order):
//!
//! 1. `v ← v + ((action − 1) · 0.001 + cos(3x) · (−0.0025))` — the force and
//!    gravity terms are summed first and the sum is added to the velocity, as Gymnasium
//!    evaluates it;
//! 2. `v ← clip(v, −0.07, 0.07)`;
//! 3. `x ← clip(x + v, −1.2, 0.6)`;
//! 4. if `x == −1.2` and `v < 0`, then `v ← 0` (the car stops against the left wall, an
//!    inelastic collision).
//!
//! **Termination**: after a step, `x >= 0.5 && v >= 0` (the car reached the flag).
//!
//! **Truncation**: on the 200th step of an episode (Gymnasium's `TimeLimit`); if the car also
//! reaches the flag on that step, both flags are set.
//!
//! `tests/mountaincar_conformance.rs` replays recorded Gymnasium trajectories to prove the
//! port bit-exact. Gymnasium's `reward_threshold` for MountainCar-v0 is −110.

use crate::{check_reset_len, check_step, Env, EnvError, EnvSnapshot, Step};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Left end of the track; the car stops here.
pub const MIN_POSITION: f64 = -1.2;
/// Right end of the track.
pub const MAX_POSITION: f64 = 0.6;
/// Speed limit in either direction (position units per step).
pub const MAX_SPEED: f64 = 0.07;
/// Position of the flag: reaching it (with non-negative velocity) ends the episode.
pub const GOAL_POSITION: f64 = 0.5;
/// Minimum velocity at the flag for the episode to end (Gymnasium's default `goal_velocity`).
pub const GOAL_VELOCITY: f64 = 0.0;
/// Engine force per unit of `(action − 1)`.
pub const FORCE: f64 = 0.001;
/// Gravity coefficient of the `cos(3x)` slope term.
pub const GRAVITY: f64 = 0.0025;
/// Gymnasium's time limit for MountainCar-v0.
pub const MAX_EPISODE_STEPS: u32 = 200;
/// Gymnasium's `reward_threshold` for MountainCar-v0.
pub const REWARD_THRESHOLD: f64 = -110.0;
/// Start positions are uniform in `[RESET_LOW, RESET_HIGH)`.
pub const RESET_LOW: f64 = -0.6;
/// See [`RESET_LOW`].
pub const RESET_HIGH: f64 = -0.4;

/// The MountainCar-v0 environment; see the [module docs](self) for its spec.
#[derive(Clone, Debug)]
pub struct MountainCar {
    state: [f64; 2],
    rng: ChaCha8Rng,
    elapsed: u32,
    active: bool,
    max_episode_steps: u32,
}

impl Default for MountainCar {
    fn default() -> Self {
        Self::new()
    }
}

impl MountainCar {
    /// A fresh environment (RNG as if seeded with 0); call [`Env::reset`] before stepping.
    pub fn new() -> Self {
        MountainCar {
            state: [0.0; 2],
            rng: ChaCha8Rng::seed_from_u64(0),
            elapsed: 0,
            active: false,
            max_episode_steps: MAX_EPISODE_STEPS,
        }
    }

    /// An environment whose episode has already started from `state` (`[x, v]`), with the step
    /// counter at 0. This is Gymnasium's `env.unwrapped.state = ...` after a reset.
    pub fn with_state(state: [f64; 2]) -> Self {
        MountainCar {
            state,
            active: true,
            ..Self::new()
        }
    }

    /// Replaces Gymnasium's 200-step limit (`max_episode_steps` of an experiment); at least 1.
    pub fn with_max_episode_steps(mut self, limit: u32) -> Self {
        self.max_episode_steps = limit.max(1);
        self
    }

    /// The exact `f64` state `[x, v]`.
    pub fn state(&self) -> [f64; 2] {
        self.state
    }

    /// The observation of the current state (the state rounded to `f32`).
    pub fn observation(&self) -> [f32; 2] {
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

/// NumPy's `clip` for one value: NaN passes through (a `f64::clamp` would too, but it panics
/// on a NaN bound, and spelling the comparisons out keeps the order of tests visible).
#[inline]
fn clip(v: f64, lo: f64, hi: f64) -> f64 {
    if v < lo {
        lo
    } else if v > hi {
        hi
    } else {
        v
    }
}

/// One step of the mountain-car dynamics: the new `[x, v]` after `action` (0, 1 or 2).
///
/// The grouping follows Gymnasium's source: the push and the slope term are summed before the
/// sum meets the velocity. `v + (a + b)` and `(v + a) + b` differ in the last bit on many
/// states, so the brackets are load-bearing.
#[inline]
pub fn dynamics_step(state: [f64; 2], action: usize) -> [f64; 2] {
    let [position, velocity] = state;
    // (action − 1) is an exact small integer, so converting it first changes no bits.
    let push = (action as f64 - 1.0) * FORCE;
    let mut velocity = velocity + (push + (3.0 * position).cos() * (-GRAVITY));
    velocity = clip(velocity, -MAX_SPEED, MAX_SPEED);
    let position = clip(position + velocity, MIN_POSITION, MAX_POSITION);
    if position == MIN_POSITION && velocity < 0.0 {
        velocity = 0.0;
    }
    [position, velocity]
}

/// Whether `[position, velocity]` ends an episode: at the flag, moving right (Gymnasium's
/// `position >= goal_position and velocity >= goal_velocity`).
pub fn is_terminal(state: [f64; 2]) -> bool {
    let [position, velocity] = state;
    position >= GOAL_POSITION && velocity >= GOAL_VELOCITY
}

impl Env for MountainCar {
    fn id(&self) -> &str {
        "MountainCar-v0"
    }

    fn obs_dim(&self) -> usize {
        2
    }

    fn n_actions(&self) -> usize {
        3
    }

    fn reset(&mut self, seed: Option<u64>, obs: &mut [f32]) {
        check_reset_len("MountainCar-v0", obs.len(), 2);
        if let Some(seed) = seed {
            self.rng = ChaCha8Rng::seed_from_u64(seed);
        }
        // rand's float ranges are half-open, matching NumPy's uniform(low, high).
        self.state = [self.rng.random_range(RESET_LOW..RESET_HIGH), 0.0];
        self.elapsed = 0;
        self.active = true;
        self.write_obs(obs);
    }

    fn step(&mut self, action: usize, obs: &mut [f32]) -> Result<Step, EnvError> {
        check_step(self.active, action, 3, obs.len(), 2)?;
        self.state = dynamics_step(self.state, action);
        self.elapsed += 1;
        let terminated = is_terminal(self.state);
        let truncated = self.elapsed >= self.max_episode_steps;
        self.active = !(terminated || truncated);
        self.write_obs(obs);
        Ok(Step {
            reward: -1.0,
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

    fn snapshot(&self) -> EnvSnapshot {
        EnvSnapshot::of_floats(
            "MountainCar-v0",
            &self.state,
            self.elapsed,
            self.active,
            &self.rng,
        )
    }

    fn restore(&mut self, snapshot: &EnvSnapshot) -> Result<(), EnvError> {
        let (state, rng) = snapshot.floats::<2>("MountainCar-v0")?;
        snapshot.check_elapsed(Some(self.max_episode_steps))?;
        snapshot.check_running(is_terminal(state))?;
        self.state = state;
        self.rng = rng;
        self.elapsed = snapshot.elapsed;
        self.active = snapshot.active;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reset_draws_position_in_the_half_open_start_interval_and_zero_velocity() {
        let mut env = MountainCar::new();
        let mut obs = [0.0f32; 2];
        let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
        for seed in 0..5000 {
            env.reset(Some(seed), &mut obs);
            let [x, v] = env.state();
            assert!((RESET_LOW..RESET_HIGH).contains(&x), "seed {seed}: x = {x}");
            assert_eq!(v.to_bits(), 0.0f64.to_bits());
            assert_eq!(obs, env.observation());
            lo = lo.min(x);
            hi = hi.max(x);
        }
        assert!(
            lo < -0.599 && hi > -0.401,
            "start positions span {lo}..{hi}"
        );
    }

    #[test]
    fn sum_is_added_to_velocity_not_each_term_in_turn() {
        // A state where the two groupings round differently: the port must take Gymnasium's.
        let state = [-0.5, 0.01];
        let grav = (3.0f64 * -0.5).cos() * (-GRAVITY);
        let ours = dynamics_step(state, 2)[1];
        assert_eq!(ours, 0.01 + (FORCE + grav));
        assert_ne!(ours, (0.01 + FORCE) + grav);
        // Gymnasium 1.4.0's value for this step.
        assert_eq!(ours, 0.010823156995830743);
    }

    #[test]
    fn left_wall_stops_the_car() {
        let mut env = MountainCar::with_state([-1.19, -0.05]);
        let mut obs = [0.0f32; 2];
        let step = env.step(0, &mut obs).expect("step");
        assert_eq!(env.state(), [MIN_POSITION, 0.0]);
        assert!(!step.done());
        assert_eq!(step.reward, -1.0);
    }

    #[test]
    fn velocity_is_clipped_to_the_speed_limit() {
        // At x = −1 the slope pushes right (cos(−3) < 0), adding to the engine.
        let mut env = MountainCar::with_state([-1.0, 0.0699]);
        let mut obs = [0.0f32; 2];
        env.step(2, &mut obs).expect("step");
        assert_eq!(env.state(), [-1.0 + MAX_SPEED, MAX_SPEED]);
    }

    #[test]
    fn reaching_the_flag_with_non_negative_velocity_terminates() {
        let mut env = MountainCar::with_state([0.49, 0.02]);
        let mut obs = [0.0f32; 2];
        let step = env.step(2, &mut obs).expect("step");
        assert!(step.terminated && !step.truncated);
        assert!(matches!(env.step(1, &mut obs), Err(EnvError::EpisodeOver)));
    }

    #[test]
    fn truncates_after_the_limit_and_action_three_is_invalid() {
        let mut env = MountainCar::with_state([-0.5, 0.0]).with_max_episode_steps(2);
        let mut obs = [0.0f32; 2];
        assert!(matches!(
            env.step(3, &mut obs),
            Err(EnvError::InvalidAction {
                action: 3,
                n_actions: 3
            })
        ));
        assert_eq!(env.elapsed_steps(), 0);
        assert!(!env.step(1, &mut obs).expect("1").done());
        let last = env.step(1, &mut obs).expect("2");
        assert!(last.truncated && !last.terminated);
    }

    #[test]
    fn nan_state_passes_through_like_numpy_clip() {
        let mut env = MountainCar::with_state([f64::NAN, 0.0]);
        let mut obs = [0.0f32; 2];
        let step = env.step(1, &mut obs).expect("step");
        assert!(env.state()[0].is_nan() && !step.terminated);
    }
}
