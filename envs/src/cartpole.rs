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
//! **Reward**: by default `+1` on every step, including the one that terminates the episode.
//! With [`CartPole::with_sutton_barto_reward`] (Gymnasium's `sutton_barto_reward=True`, the
//! reward of Barto, Sutton and Anderson's original task) it is `0` on every step that does not
//! terminate — a step that only truncates included — and `−1` on the step that terminates, so
//! that every return is `0` or `−1`. Gymnasium goes on paying (`0` by default, `−1` with this
//! option) if stepped after termination; retort refuses such steps with
//! [`EnvError::EpisodeOver`] under either reward.
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
//! **Dynamics**: with `τ = 0.02 s`, in `f64`, with exactly Gymnasium's order of operations
//! (plain `*` and `+`, never fused multiply-add), so every state matches Gymnasium's bits. The
//! sine and cosine of the angle are the C library's, as Python's `math.sin` and `math.cos`
//! return them; [`crate::trig`] computes them without calling it on most steps. Both
//! integrators first compute the accelerations `ẍ`, `θ̈` from the old state and the force
//! ([`accelerations`]); they differ in the order of the updates (Gymnasium's
//! `kinematics_integrator`, chosen with [`CartPole::with_integrator`]):
//!
//! - [`Integrator::Euler`] (`"euler"`, the default): every update reads the old values —
//!   `x += τ·ẋ`, `ẋ += τ·ẍ`, `θ += τ·θ̇`, `θ̇ += τ·θ̈`.
//! - [`Integrator::SemiImplicitEuler`] (`"semi-implicit euler"`): each velocity is updated
//!   first and the position moves with the new velocity — `ẋ += τ·ẍ`, then `x += τ·ẋ`;
//!   `θ̇ += τ·θ̈`, then `θ += τ·θ̇`. (Gymnasium treats every string other than `"euler"`
//!   this way; retort names only these two.)
//!
//! `tests/cartpole_conformance.rs` and `tests/cartpole_options_conformance.rs` replay recorded
//! Gymnasium trajectories, the latter with both options, to prove it.
//!
//! Gymnasium's `reward_threshold` for CartPole-v1 is 475; with the Sutton–Barto reward its
//! documentation gives 0 (no termination within the time limit), which
//! [`Env::reward_threshold`] then returns.

use crate::{check_reset_len, check_step, trig, Env, EnvError, EnvSnapshot, Step};
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
/// Gymnasium's documented `reward_threshold` under the Sutton–Barto reward.
pub const SUTTON_BARTO_REWARD_THRESHOLD: f64 = 0.0;

/// How a step advances the state (Gymnasium's `kinematics_integrator`); see the
/// [module docs](self).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Integrator {
    /// Explicit Euler: all four updates read the old state (`"euler"`, Gymnasium's default).
    #[default]
    Euler,
    /// Semi-implicit (symplectic) Euler: velocities first, positions with the new velocities
    /// (`"semi-implicit euler"`).
    SemiImplicitEuler,
}

impl Integrator {
    /// Every integrator, in the order [`Integrator::NAMES`] lists their names.
    pub const ALL: [Integrator; 2] = [Integrator::Euler, Integrator::SemiImplicitEuler];
    /// The names Gymnasium gives them, as an experiment file spells them.
    pub const NAMES: [&'static str; 2] = ["euler", "semi-implicit euler"];

    /// The integrator Gymnasium calls `name` (exactly `"euler"` or `"semi-implicit euler"`).
    pub fn from_name(name: &str) -> Option<Self> {
        Self::NAMES
            .iter()
            .position(|&n| n == name)
            .map(|i| Self::ALL[i])
    }

    /// Gymnasium's name for it.
    pub fn name(self) -> &'static str {
        match self {
            Integrator::Euler => Self::NAMES[0],
            Integrator::SemiImplicitEuler => Self::NAMES[1],
        }
    }

    /// The new state after pushing with `force` from `state`.
    #[inline]
    pub fn step(self, state: [f64; 4], force: f64) -> [f64; 4] {
        self.step_with(state, force, trig::sin_cos(state[2]))
    }

    /// [`Integrator::step`] given `(sin θ, cos θ)` of `state`'s angle, already computed: the
    /// environment computes them a step ahead. Plain arithmetic and one branch on the
    /// integrator, so that the hot loop stays short.
    #[inline]
    pub fn step_with(self, state: [f64; 4], force: f64, sin_cos_theta: (f64, f64)) -> [f64; 4] {
        let [x, x_dot, theta, theta_dot] = state;
        let (xacc, thetaacc) = accelerations_with(state, force, sin_cos_theta);
        match self {
            // All four updates read the old values.
            Integrator::Euler => [
                x + TAU * x_dot,
                x_dot + TAU * xacc,
                theta + TAU * theta_dot,
                theta_dot + TAU * thetaacc,
            ],
            // Velocities first; each position moves with its new velocity.
            Integrator::SemiImplicitEuler => {
                let x_dot = x_dot + TAU * xacc;
                let theta_dot = theta_dot + TAU * thetaacc;
                [x + TAU * x_dot, x_dot, theta + TAU * theta_dot, theta_dot]
            }
        }
    }
}

/// The CartPole-v1 environment; see the [module docs](self) for its spec.
#[derive(Clone, Debug)]
pub struct CartPole {
    state: [f64; 4],
    /// `(sin θ, cos θ)` of `state`, computed as soon as `state` changes: the next step needs
    /// them first, and computing them within a step lets the processor overlap them with that
    /// step's divisions instead of waiting for them at the start of the next. `None` when the
    /// fast series could not decide them ([`trig::try_sin_cos`]); the next step then asks libm.
    sin_cos_theta: Option<(f64, f64)>,
    rng: ChaCha8Rng,
    elapsed: u32,
    active: bool,
    max_episode_steps: u32,
    sutton_barto_reward: bool,
    integrator: Integrator,
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
            sin_cos_theta: Some((0.0, 1.0)),
            rng: ChaCha8Rng::seed_from_u64(0),
            elapsed: 0,
            active: false,
            max_episode_steps: MAX_EPISODE_STEPS,
            sutton_barto_reward: false,
            integrator: Integrator::Euler,
        }
    }

    /// An environment whose episode has already started from `state` (`[x, ẋ, θ, θ̇]`), with
    /// the step counter at 0. This is Gymnasium's `env.unwrapped.state = ...` after a reset.
    pub fn with_state(state: [f64; 4]) -> Self {
        let mut env = CartPole {
            active: true,
            ..Self::new()
        };
        env.set_state(state);
        env
    }

    /// Replaces Gymnasium's 500-step limit (`max_episode_steps` of an experiment); at least 1.
    pub fn with_max_episode_steps(mut self, limit: u32) -> Self {
        self.max_episode_steps = limit.max(1);
        self
    }

    /// Gymnasium's `sutton_barto_reward`: `true` pays `0` per surviving step and `−1` on the
    /// terminating one instead of `+1` on every step (default `false`).
    pub fn with_sutton_barto_reward(mut self, on: bool) -> Self {
        self.sutton_barto_reward = on;
        self
    }

    /// Gymnasium's `kinematics_integrator` (default [`Integrator::Euler`]).
    pub fn with_integrator(mut self, integrator: Integrator) -> Self {
        self.integrator = integrator;
        self
    }

    /// Whether the Sutton–Barto reward is in force.
    pub fn sutton_barto_reward(&self) -> bool {
        self.sutton_barto_reward
    }

    /// The integrator in use.
    pub fn integrator(&self) -> Integrator {
        self.integrator
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

    /// Every change of `state` outside [`Env::step`] goes through here, so that
    /// `sin_cos_theta` always belongs to it.
    fn set_state(&mut self, state: [f64; 4]) {
        self.state = state;
        self.sin_cos_theta = trig::try_sin_cos(state[2]);
    }

    fn write_obs(&self, obs: &mut [f32]) {
        for (o, s) in obs.iter_mut().zip(self.state) {
            *o = s as f32;
        }
    }
}

/// The accelerations `(ẍ, θ̈)` in `state` under `force`, shared by both integrators.
#[inline]
pub fn accelerations(state: [f64; 4], force: f64) -> (f64, f64) {
    accelerations_with(state, force, trig::sin_cos(state[2]))
}

/// [`accelerations`] given `(sin θ, cos θ)` of the state's angle, already computed.
///
/// The parenthesisation mirrors Gymnasium's Python source evaluated left to right; changing it
/// (or letting anything fuse a multiply and an add) changes the last bits of the trajectory.
#[inline]
pub fn accelerations_with(state: [f64; 4], force: f64, sin_cos_theta: (f64, f64)) -> (f64, f64) {
    let [_, _, _, theta_dot] = state;
    let (sintheta, costheta) = sin_cos_theta;
    let temp = (force + POLEMASS_LENGTH * (theta_dot * theta_dot) * sintheta) / TOTAL_MASS;
    let thetaacc = (GRAVITY * sintheta - costheta * temp)
        / (LENGTH * (4.0 / 3.0 - MASSPOLE * (costheta * costheta) / TOTAL_MASS));
    let xacc = temp - POLEMASS_LENGTH * thetaacc * costheta / TOTAL_MASS;
    (xacc, thetaacc)
}

/// Whether `state` ends an episode: the cart past ±2.4 m or the pole past ±12°.
///
/// Gymnasium's four strict comparisons, kept literally: a NaN state compares false everywhere
/// and so does not terminate, whereas `!range.contains(..)` would.
#[allow(clippy::manual_range_contains)]
pub fn is_terminal(state: [f64; 4]) -> bool {
    let [x, _, theta, _] = state;
    x < -X_THRESHOLD
        || x > X_THRESHOLD
        || theta < -THETA_THRESHOLD_RADIANS
        || theta > THETA_THRESHOLD_RADIANS
}

/// One Euler step of the cart-pole dynamics: the new state after pushing with `force`.
#[inline]
pub fn euler_step(state: [f64; 4], force: f64) -> [f64; 4] {
    Integrator::Euler.step(state, force)
}

/// One semi-implicit Euler step: each velocity is updated first and its position advances with
/// the new velocity (Gymnasium's `"semi-implicit euler"`), with plain `*` and `+`.
#[inline]
pub fn semi_implicit_euler_step(state: [f64; 4], force: f64) -> [f64; 4] {
    Integrator::SemiImplicitEuler.step(state, force)
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
        let mut start = [0.0; 4];
        for v in &mut start {
            // rand's float ranges are half-open, matching NumPy's uniform(low, high).
            *v = self.rng.random_range(-RESET_BOUND..RESET_BOUND);
        }
        self.set_state(start);
        self.elapsed = 0;
        self.active = true;
        self.write_obs(obs);
    }

    fn step(&mut self, action: usize, obs: &mut [f32]) -> Result<Step, EnvError> {
        match self.sin_cos_theta {
            Some(sin_cos_theta) => self.step_given(action, obs, sin_cos_theta),
            None => self.step_after_libm(action, obs),
        }
    }

    fn max_episode_steps(&self) -> Option<u32> {
        Some(self.max_episode_steps)
    }

    fn reward_threshold(&self) -> Option<f64> {
        Some(if self.sutton_barto_reward {
            SUTTON_BARTO_REWARD_THRESHOLD
        } else {
            REWARD_THRESHOLD
        })
    }

    fn snapshot(&self) -> EnvSnapshot {
        EnvSnapshot::of_floats(
            "CartPole-v1",
            &self.state,
            self.elapsed,
            self.active,
            &self.rng,
        )
    }

    fn restore(&mut self, snapshot: &EnvSnapshot) -> Result<(), EnvError> {
        let (state, rng) = snapshot.floats::<4>("CartPole-v1")?;
        snapshot.check_elapsed(Some(self.max_episode_steps))?;
        snapshot.check_running(is_terminal(state))?;
        self.set_state(state);
        self.rng = rng;
        self.elapsed = snapshot.elapsed;
        self.active = snapshot.active;
        Ok(())
    }
}

impl CartPole {
    /// [`Env::step`] when the fast series left this state's sine or cosine undecided (about
    /// one step in ten): libm provides them. Out of line, so that the common path makes no
    /// calls and needs no registers saved.
    #[cold]
    #[inline(never)]
    fn step_after_libm(&mut self, action: usize, obs: &mut [f32]) -> Result<Step, EnvError> {
        let sin_cos_theta = trig::sin_cos(self.state[2]);
        self.step_given(action, obs, sin_cos_theta)
    }

    /// [`Env::step`] with `(sin θ, cos θ)` of the current state in hand.
    #[inline(always)]
    fn step_given(
        &mut self,
        action: usize,
        obs: &mut [f32],
        sin_cos_theta: (f64, f64),
    ) -> Result<Step, EnvError> {
        check_step(self.active, action, 2, obs.len(), 4)?;
        let force = if action == 1 { FORCE_MAG } else { -FORCE_MAG };
        // The Euler step moves the angle with the old velocity, so the next step's sine and
        // cosine can be computed before this step's arithmetic; issued first, they overlap with
        // its divisions.
        let [_, _, theta, theta_dot] = self.state;
        let euler = self.integrator == Integrator::Euler;
        let early = if euler {
            trig::try_sin_cos(theta + TAU * theta_dot)
        } else {
            None
        };
        let next = self.integrator.step_with(self.state, force, sin_cos_theta);
        self.state = next;
        self.sin_cos_theta = if euler {
            early
        } else {
            trig::try_sin_cos(next[2])
        };
        self.elapsed += 1;
        let terminated = is_terminal(self.state);
        let truncated = self.elapsed >= self.max_episode_steps;
        self.active = !(terminated || truncated);
        self.write_obs(obs);
        // Stepping past termination is refused above, so Gymnasium's post-termination rewards
        // never arise here.
        let reward = match (self.sutton_barto_reward, terminated) {
            (false, _) => 1.0,
            (true, false) => 0.0,
            (true, true) => -1.0,
        };
        Ok(Step {
            reward,
            terminated,
            truncated,
        })
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

    /// Gymnasium's step written plainly, with libm's `sin` and `cos` of the state's angle.
    fn libm_step(integrator: Integrator, state: [f64; 4], force: f64) -> [f64; 4] {
        let theta = state[2];
        integrator.step_with(state, force, (theta.sin(), theta.cos()))
    }

    #[test]
    fn a_million_random_steps_match_libms_sine_and_cosine_bit_for_bit() {
        // The environment computes sin and cos by its own series (one step early for Euler),
        // so every state along many episodes is checked against the plain libm computation.
        let mut z = 0x5eed_u64;
        for integrator in Integrator::ALL {
            let mut env = CartPole::new().with_integrator(integrator);
            let mut obs = [0.0f32; 4];
            env.reset(Some(3), &mut obs);
            let mut episodes = 0;
            for step in 0..500_000 {
                z = z
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1_442_695_040_888_963_407);
                let action = (z >> 63) as usize;
                let force = if action == 1 { FORCE_MAG } else { -FORCE_MAG };
                let expected = libm_step(integrator, env.state(), force);
                let result = env.step(action, &mut obs).expect("step");
                let bits = |s: [f64; 4]| s.map(f64::to_bits);
                assert_eq!(
                    bits(env.state()),
                    bits(expected),
                    "{integrator:?}, step {step}"
                );
                if result.done() {
                    env.reset(None, &mut obs);
                    episodes += 1;
                }
            }
            // Random pushes end an episode every 20-odd steps, so starts and falls (the widest
            // angles) are well covered.
            assert!(episodes > 10_000, "{integrator:?}: {episodes} episodes");
        }
    }

    #[test]
    fn nan_state_does_not_terminate_like_gymnasiums_comparisons() {
        let mut env = CartPole::with_state([f64::NAN, 0.0, 0.0, 0.0]);
        let mut obs = [0.0f32; 4];
        assert!(!env.step(0, &mut obs).expect("step").terminated);
    }

    #[test]
    fn sutton_barto_reward_is_zero_until_the_terminating_step_pays_minus_one() {
        // Pushing left while the pole leans right and falls: θ passes 12° on the 4th step
        // (Gymnasium pays 0, 0, 0, −1 from here and −1 for every step it is pushed on after).
        let mut env = CartPole::with_state([0.0, 0.0, 0.15, 0.5]).with_sutton_barto_reward(true);
        let mut obs = [0.0f32; 4];
        let mut rewards = Vec::new();
        let mut flags = Vec::new();
        while let Ok(step) = env.step(0, &mut obs) {
            rewards.push(step.reward);
            flags.push((step.terminated, step.truncated));
        }
        assert_eq!(rewards, [0.0, 0.0, 0.0, -1.0]);
        assert_eq!(flags.last(), Some(&(true, false)));
        assert!(flags[..3].iter().all(|&f| f == (false, false)));
        // The episode is over: retort refuses to step on, whatever the reward.
        assert!(matches!(env.step(0, &mut obs), Err(EnvError::EpisodeOver)));
        assert_eq!(env.reward_threshold(), Some(0.0));

        // The same episode under the default reward pays +1 on all four steps.
        let mut env = CartPole::with_state([0.0, 0.0, 0.15, 0.5]);
        let rewards: Vec<f64> = std::iter::from_fn(|| env.step(0, &mut obs).ok())
            .map(|s| s.reward)
            .collect();
        assert_eq!(rewards, [1.0; 4]);
        assert_eq!(env.reward_threshold(), Some(475.0));
    }

    #[test]
    fn sutton_barto_reward_pays_zero_on_a_step_that_only_truncates() {
        let mut env = CartPole::with_state([0.0; 4])
            .with_sutton_barto_reward(true)
            .with_max_episode_steps(1);
        let mut obs = [0.0f32; 4];
        let step = env.step(1, &mut obs).expect("step");
        assert_eq!(
            step,
            Step {
                reward: 0.0,
                terminated: false,
                truncated: true
            }
        );
    }

    #[test]
    fn one_semi_implicit_step_matches_the_hand_written_formula() {
        let (x, x_dot, theta, theta_dot) = (0.1, 0.2, 0.05, -0.3);
        let mut env = CartPole::with_state([x, x_dot, theta, theta_dot])
            .with_integrator(Integrator::SemiImplicitEuler);
        let mut obs = [0.0f32; 4];
        env.step(1, &mut obs).expect("step");

        // Gymnasium's formulas written out with its constants (force +10 for action 1).
        let costheta = f64::cos(theta);
        let sintheta = f64::sin(theta);
        let temp = (10.0 + 0.05 * (theta_dot * theta_dot) * sintheta) / 1.1;
        let thetaacc = (9.8 * sintheta - costheta * temp)
            / (0.5 * (4.0 / 3.0 - 0.1 * (costheta * costheta) / 1.1));
        let xacc = temp - 0.05 * thetaacc * costheta / 1.1;
        let new_x_dot = x_dot + 0.02 * xacc;
        let new_x = x + 0.02 * new_x_dot;
        let new_theta_dot = theta_dot + 0.02 * thetaacc;
        let new_theta = theta + 0.02 * new_theta_dot;
        assert_eq!(env.state(), [new_x, new_x_dot, new_theta, new_theta_dot]);
        // The values Gymnasium 1.4.0 prints for this step.
        assert_eq!(
            env.state(),
            [
                0.10788749868436441,
                0.39437493421822034,
                0.03846991703037053,
                -0.5765041484814735
            ]
        );
        assert_eq!(obs, env.state().map(|v| v as f32));

        // Euler from the same state moves the positions with the old velocities instead.
        let mut euler = CartPole::with_state([x, x_dot, theta, theta_dot]);
        euler.step(1, &mut obs).expect("step");
        assert_eq!(
            euler.state(),
            [
                0.10400000000000001,
                0.39437493421822034,
                0.044000000000000004,
                -0.5765041484814735
            ]
        );
    }

    #[test]
    fn semi_implicit_first_push_from_rest_already_moves_the_positions() {
        let mut env = CartPole::with_state([0.0; 4]).with_integrator(Integrator::SemiImplicitEuler);
        let mut obs = [0.0f32; 4];
        env.step(1, &mut obs).expect("step");
        assert_eq!(
            env.state(),
            [
                0.0039024390243902443,
                0.1951219512195122,
                -0.005853658536585366,
                -0.2926829268292683
            ]
        );
    }

    #[test]
    fn integrator_names_are_gymnasiums_and_round_trip() {
        assert_eq!(Integrator::default(), Integrator::Euler);
        for integrator in Integrator::ALL {
            assert_eq!(Integrator::from_name(integrator.name()), Some(integrator));
        }
        assert_eq!(
            Integrator::from_name("semi-implicit euler"),
            Some(Integrator::SemiImplicitEuler)
        );
        assert_eq!(Integrator::from_name("Euler"), None);
        assert_eq!(Integrator::from_name("semi_implicit_euler"), None);
        let env = CartPole::new();
        assert_eq!(
            (env.integrator(), env.sutton_barto_reward()),
            (Integrator::Euler, false)
        );
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
