//! Acrobot-v1, a bit-exact port of Gymnasium 1.4.0's classic-control two-link acrobot.
//!
//! # Spec
//!
//! Two links hang in a chain from a fixed pivot; only the joint between them is driven. The
//! agent must swing the free end above a line one link length over the pivot.
//!
//! **Actions** (3): torque on the middle joint, `0` → −1, `1` → 0, `2` → +1 (N·m).
//!
//! **Observation** (6 × `f32`, each computed in `f64` from the state and rounded to nearest):
//!
//! | index | meaning                          | range        | unit  |
//! |-------|----------------------------------|--------------|-------|
//! | 0     | `cos θ1`                         | [−1, 1]      | —     |
//! | 1     | `sin θ1`                         | [−1, 1]      | —     |
//! | 2     | `cos θ2`                         | [−1, 1]      | —     |
//! | 3     | `sin θ2`                         | [−1, 1]      | —     |
//! | 4     | angular velocity `θ̇1` of link 1  | [−4π, 4π]    | rad/s |
//! | 5     | angular velocity `θ̇2` of link 2  | [−9π, 9π]    | rad/s |
//!
//! `θ1` is the angle of the first link from straight down, `θ2` the angle of the second link
//! relative to the first; both are kept in `[−π, π]`. The state is `[θ1, θ2, θ̇1, θ̇2]`.
//!
//! **Reward**: `−1` on every step that does not terminate, `0` on the step that does.
//!
//! **Start state**: each of the four state variables uniform in `[-0.1, 0.1)`, then rounded to
//! `f32` (Gymnasium stores its start state as `float32`; the rounding can land a hair past
//! ±0.1), drawn from the environment's ChaCha8 stream (so the numbers differ from Gymnasium's
//! NumPy stream; the distribution is the same). [`Acrobot::with_state`] starts from a chosen
//! state instead.
//!
//! **Dynamics**: one step integrates the equations of motion (Sutton & Barto's "book" form,
//! masses 1 kg, lengths 1 m, centres of mass at 0.5 m, moments of inertia 1, g = 9.8) with one
//! classical fourth-order Runge–Kutta step over `[0, 0.2 s]`, the torque held constant; then
//! wraps both angles into `[−π, π]` by repeatedly adding or subtracting `2π` (as Gymnasium's
//! `wrap`), and clips `θ̇1` to `[−4π, 4π]` and `θ̇2` to `[−9π, 9π]`.
//! All arithmetic is `f64` in Gymnasium's order of operations; squares of state-dependent
//! values go through the C library's `pow` exactly as NumPy's `**2` does (see [`derivatives`]).
//!
//! **Termination**: after a step, `−cos θ1 − cos(θ2 + θ1) > 1` (the free end is above the
//! line).
//!
//! **Truncation**: on the 500th step of an episode (Gymnasium's `TimeLimit`); if the end also
//! rises above the line on that step, both flags are set.
//!
//! **Known difference**: the observation written by `reset` is computed in `f64` and rounded,
//! while Gymnasium evaluates `cos`/`sin` of its `float32` start state in `float32`; the two
//! disagree in the last bit on about 0.07 % (cos) and 0.025 % (sin) of start values, as
//! measured with NumPy 2.4 on x86-64. Every observation after a step, and every state, matches
//! Gymnasium bit for bit (`tests/acrobot_conformance.rs`).
//!
//! Gymnasium's `reward_threshold` for Acrobot-v1 is −100.

use crate::{check_reset_len, check_step, Env, EnvError, EnvSnapshot, Step};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::f64::consts::PI;

/// Mass of link 1 (kg).
pub const LINK_MASS_1: f64 = 1.0;
/// Mass of link 2 (kg).
pub const LINK_MASS_2: f64 = 1.0;
/// Length of link 1 (m).
pub const LINK_LENGTH_1: f64 = 1.0;
/// Position of link 1's centre of mass along it (m).
pub const LINK_COM_POS_1: f64 = 0.5;
/// Position of link 2's centre of mass along it (m).
pub const LINK_COM_POS_2: f64 = 0.5;
/// Moment of inertia of either link.
pub const LINK_MOI: f64 = 1.0;
/// Gravitational acceleration (m/s²).
pub const GRAVITY: f64 = 9.8;
/// Integration interval of one step (s): Gymnasium's `t[1] - t[0]` with `t = [0, 0.2]`.
pub const DT: f64 = 0.2;
/// Bound of `θ̇1`: `4 * pi`.
pub const MAX_VEL_1: f64 = 4.0 * PI;
/// Bound of `θ̇2`: `9 * pi`.
pub const MAX_VEL_2: f64 = 9.0 * PI;
/// Torque of each action.
pub const AVAIL_TORQUE: [f64; 3] = [-1.0, 0.0, 1.0];
/// Gymnasium's time limit for Acrobot-v1.
pub const MAX_EPISODE_STEPS: u32 = 500;
/// Gymnasium's `reward_threshold` for Acrobot-v1.
pub const REWARD_THRESHOLD: f64 = -100.0;
/// Bounds of the uniform start state (all four variables, before rounding to `f32`).
pub const RESET_BOUND: f64 = 0.1;

// Gymnasium squares these constants with `**`; powers of 0.5 and 1.0 are exact, so a plain
// product has the same bits and spares four `pow` calls per derivative.
const LC1_SQ: f64 = LINK_COM_POS_1 * LINK_COM_POS_1;
const LC2_SQ: f64 = LINK_COM_POS_2 * LINK_COM_POS_2;
const L1_SQ: f64 = LINK_LENGTH_1 * LINK_LENGTH_1;
const HALF_DT: f64 = DT / 2.0;
const SIXTH_DT: f64 = DT / 6.0;
const TWO_PI: f64 = PI - (-PI);

/// `x²` computed as the C library's `pow(x, 2.0)`, like NumPy's `float64 ** 2`.
///
/// glibc's `pow` is not always correctly rounded, so `pow(x, 2)` differs from the exact
/// `x * x` in the last bit on about 0.08 % of inputs. LLVM rewrites `pow(x, 2.0)` with a
/// literal exponent into `x * x` (also for a hand-declared `extern "C" fn pow`), so the
/// exponent goes through [`std::hint::black_box`], which the optimiser cannot see through; a
/// unit test pins an input where the two differ, in debug and release builds alike.
#[inline]
fn pow2(x: f64) -> f64 {
    x.powf(std::hint::black_box(2.0))
}

/// Time derivative of the state `[θ1, θ2, θ̇1, θ̇2]` under `torque` ("book" dynamics).
///
/// Each line evaluates Gymnasium's Python expression left to right with the same grouping.
/// The squares of `θ̇1`, `θ̇2` and `d2` are the C library's `pow(x, 2.0)`, as NumPy's `** 2`
/// computes them; that differs from `x * x` in the last bit on about 0.08 % of inputs, which a
/// chaotic system soon amplifies. Public for tests and for anyone comparing integrators.
#[inline]
pub fn derivatives(s: [f64; 4], torque: f64) -> [f64; 4] {
    let (m1, m2, l1, lc1, lc2) = (
        LINK_MASS_1,
        LINK_MASS_2,
        LINK_LENGTH_1,
        LINK_COM_POS_1,
        LINK_COM_POS_2,
    );
    let (i1, i2, g) = (LINK_MOI, LINK_MOI, GRAVITY);
    let [theta1, theta2, dtheta1, dtheta2] = s;
    let cos_t2 = theta2.cos();
    let sin_t2 = theta2.sin();
    let d1 = m1 * LC1_SQ + m2 * (L1_SQ + LC2_SQ + 2.0 * l1 * lc2 * cos_t2) + i1 + i2;
    let d2 = m2 * (LC2_SQ + l1 * lc2 * cos_t2) + i2;
    let phi2 = m2 * lc2 * g * (theta1 + theta2 - PI / 2.0).cos();
    let phi1 = -m2 * l1 * lc2 * pow2(dtheta2) * sin_t2
        - 2.0 * m2 * l1 * lc2 * dtheta2 * dtheta1 * sin_t2
        + (m1 * lc1 + m2 * l1) * g * (theta1 - PI / 2.0).cos()
        + phi2;
    let ddtheta2 = (torque + d2 / d1 * phi1 - m2 * l1 * lc2 * pow2(dtheta1) * sin_t2 - phi2)
        / (m2 * LC2_SQ + i2 - pow2(d2) / d1);
    let ddtheta1 = -(d2 * ddtheta2 + phi1) / d1;
    [dtheta1, dtheta2, ddtheta1, ddtheta2]
}

/// `s + h·k`, element by element (one multiply and one add each, never fused).
#[inline]
fn add_scaled(s: [f64; 4], h: f64, k: [f64; 4]) -> [f64; 4] {
    [
        s[0] + h * k[0],
        s[1] + h * k[1],
        s[2] + h * k[2],
        s[3] + h * k[3],
    ]
}

/// One classical Runge–Kutta step of length [`DT`], before wrapping and clipping.
///
/// Gymnasium integrates a fifth component (the torque, derivative 0); `torque + 0.1·0` is the
/// torque again for every available torque, so carrying it as a constant changes no bits.
#[inline]
pub fn rk4_step(s: [f64; 4], torque: f64) -> [f64; 4] {
    let k1 = derivatives(s, torque);
    let k2 = derivatives(add_scaled(s, HALF_DT, k1), torque);
    let k3 = derivatives(add_scaled(s, HALF_DT, k2), torque);
    let k4 = derivatives(add_scaled(s, DT, k3), torque);
    std::array::from_fn(|i| s[i] + SIXTH_DT * (k1[i] + 2.0 * k2[i] + 2.0 * k3[i] + k4[i]))
}

/// Beyond this many radians an angle is first reduced with `rem_euclid`; see [`wrap`].
const WRAP_LOOP_LIMIT: f64 = 1.0e4;

/// Gymnasium's `wrap(x, -pi, pi)`: subtract `2π` while above `π`, add it while below `−π`.
///
/// The repeated subtraction is kept (rather than a remainder) because it rounds differently.
/// Two departures, both for states no step can produce, only ones set by hand: a non-finite
/// angle is returned unchanged (Gymnasium passes NaN through but loops forever on ±∞), and an
/// angle beyond ±10⁴ rad is reduced with `rem_euclid` first so that the loop stays short
/// (Gymnasium would take minutes to hours; its bits are not claimed there).
#[inline]
pub fn wrap(x: f64) -> f64 {
    if !x.is_finite() {
        return x;
    }
    let mut x = if x.abs() > WRAP_LOOP_LIMIT {
        x.rem_euclid(TWO_PI)
    } else {
        x
    };
    while x > PI {
        x -= TWO_PI;
    }
    while x < -PI {
        x += TWO_PI;
    }
    x
}

/// Gymnasium's `bound(x, lo, hi)` = Python's `min(max(x, lo), hi)`: NaN passes through, since
/// Python's `max`/`min` keep their first argument unless the other compares strictly greater
/// (or less).
#[inline]
fn bound(x: f64, lo: f64, hi: f64) -> f64 {
    let y = if lo > x { lo } else { x };
    if hi < y {
        hi
    } else {
        y
    }
}

/// The next state after applying `torque` for one step: RK4, then wrap and clip.
#[inline]
pub fn dynamics_step(s: [f64; 4], torque: f64) -> [f64; 4] {
    let [t1, t2, dt1, dt2] = rk4_step(s, torque);
    [
        wrap(t1),
        wrap(t2),
        bound(dt1, -MAX_VEL_1, MAX_VEL_1),
        bound(dt2, -MAX_VEL_2, MAX_VEL_2),
    ]
}

/// The Acrobot-v1 environment; see the [module docs](self) for its spec.
#[derive(Clone, Debug)]
pub struct Acrobot {
    state: [f64; 4],
    rng: ChaCha8Rng,
    elapsed: u32,
    active: bool,
    max_episode_steps: u32,
}

impl Default for Acrobot {
    fn default() -> Self {
        Self::new()
    }
}

impl Acrobot {
    /// A fresh environment (RNG as if seeded with 0); call [`Env::reset`] before stepping.
    pub fn new() -> Self {
        Acrobot {
            state: [0.0; 4],
            rng: ChaCha8Rng::seed_from_u64(0),
            elapsed: 0,
            active: false,
            max_episode_steps: MAX_EPISODE_STEPS,
        }
    }

    /// An environment whose episode has already started from `state` (`[θ1, θ2, θ̇1, θ̇2]`),
    /// with the step counter at 0. This is Gymnasium's `env.unwrapped.state = ...` after a
    /// reset (with a `float64` array).
    pub fn with_state(state: [f64; 4]) -> Self {
        Acrobot {
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

    /// The exact `f64` state `[θ1, θ2, θ̇1, θ̇2]`.
    pub fn state(&self) -> [f64; 4] {
        self.state
    }

    /// The observation of the current state (see the table in the [module docs](self)).
    pub fn observation(&self) -> [f32; 6] {
        let [t1, t2, dt1, dt2] = self.state;
        [
            t1.cos() as f32,
            t1.sin() as f32,
            t2.cos() as f32,
            t2.sin() as f32,
            dt1 as f32,
            dt2 as f32,
        ]
    }

    /// Steps taken in the current episode.
    pub fn elapsed_steps(&self) -> u32 {
        self.elapsed
    }
}

/// Whether `state` ends an episode: the free end above the bar by more than one link length,
/// `−cos θ₁ − cos(θ₂ + θ₁) > 1` as Gymnasium computes it.
pub fn is_terminal(state: [f64; 4]) -> bool {
    let [t1, t2, _, _] = state;
    -t1.cos() - (t2 + t1).cos() > 1.0
}

impl Env for Acrobot {
    fn id(&self) -> &str {
        "Acrobot-v1"
    }

    fn obs_dim(&self) -> usize {
        6
    }

    fn n_actions(&self) -> usize {
        3
    }

    fn reset(&mut self, seed: Option<u64>, obs: &mut [f32]) {
        check_reset_len("Acrobot-v1", obs.len(), 6);
        if let Some(seed) = seed {
            self.rng = ChaCha8Rng::seed_from_u64(seed);
        }
        for v in &mut self.state {
            // Half-open like NumPy's uniform; rounded through f32 like Gymnasium's
            // `.astype(np.float32)`, so the dynamics start from the same kind of numbers.
            let draw: f64 = self.rng.random_range(-RESET_BOUND..RESET_BOUND);
            *v = f64::from(draw as f32);
        }
        self.elapsed = 0;
        self.active = true;
        obs.copy_from_slice(&self.observation());
    }

    fn step(&mut self, action: usize, obs: &mut [f32]) -> Result<Step, EnvError> {
        check_step(self.active, action, 3, obs.len(), 6)?;
        self.state = dynamics_step(self.state, AVAIL_TORQUE[action]);
        self.elapsed += 1;
        let terminated = is_terminal(self.state);
        let truncated = self.elapsed >= self.max_episode_steps;
        self.active = !(terminated || truncated);
        obs.copy_from_slice(&self.observation());
        Ok(Step {
            reward: if terminated { 0.0 } else { -1.0 },
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
            "Acrobot-v1",
            &self.state,
            self.elapsed,
            self.active,
            &self.rng,
        )
    }

    fn restore(&mut self, snapshot: &EnvSnapshot) -> Result<(), EnvError> {
        let (state, rng) = snapshot.floats::<4>("Acrobot-v1")?;
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
    fn squares_like_c_pow_not_like_multiplication() {
        // Inputs where glibc's pow(x, 2) and x * x differ in the last bit (found with NumPy
        // 2.4's float64 ** 2). If the optimiser folded pow2 into x * x these would fail.
        let x = f64::from_bits(0x3ff6_5c38_dc2c_d948);
        assert_eq!(pow2(x), 1.9530486321515552);
        assert_eq!(x * x, 1.953048632151555);
        let y = -3.380335303082794;
        assert_eq!(pow2(y), 11.426666761267844);
        assert_ne!(pow2(y), y * y);
    }

    #[test]
    fn derived_constants_have_gymnasiums_bits() {
        assert_eq!(TWO_PI, 2.0 * PI);
        assert_eq!(MAX_VEL_2.to_bits(), 0x403c_463a_becc_b2bb);
        assert_eq!(SIXTH_DT, 0.2 / 6.0);
        assert_eq!(HALF_DT, 0.1);
    }

    #[test]
    fn wrap_subtracts_whole_turns_and_passes_non_finite_values() {
        assert_eq!(wrap(PI), PI);
        assert_eq!(wrap(-PI), -PI);
        assert_eq!(wrap(3.5), 3.5 - TWO_PI);
        assert_eq!(wrap(-7.0), -7.0 + TWO_PI);
        assert!(wrap(f64::NAN).is_nan());
        assert_eq!(wrap(f64::INFINITY), f64::INFINITY);
        let big = wrap(1.0e12);
        assert!((-PI..=PI).contains(&big), "{big}");
    }

    #[test]
    fn bound_clips_and_keeps_nan_like_pythons_min_max() {
        assert_eq!(bound(20.0, -MAX_VEL_1, MAX_VEL_1), MAX_VEL_1);
        assert_eq!(bound(-30.0, -MAX_VEL_2, MAX_VEL_2), -MAX_VEL_2);
        assert_eq!(bound(1.5, -1.0, 1.0), 1.0);
        assert!(bound(f64::NAN, -1.0, 1.0).is_nan());
    }

    #[test]
    fn reset_draws_f32_values_in_the_start_box() {
        let mut env = Acrobot::new();
        let mut obs = [0.0f32; 6];
        let mut lo = [f64::INFINITY; 4];
        let mut hi = [f64::NEG_INFINITY; 4];
        for seed in 0..3000 {
            env.reset(Some(seed), &mut obs);
            for (i, v) in env.state().into_iter().enumerate() {
                assert_eq!(
                    f64::from(v as f32),
                    v,
                    "seed {seed}: state[{i}] is not an f32"
                );
                assert!(
                    v.abs() <= f64::from(0.1f32),
                    "seed {seed}: state[{i}] = {v}"
                );
                lo[i] = lo[i].min(v);
                hi[i] = hi[i].max(v);
            }
            assert_eq!(obs, env.observation());
        }
        for i in 0..4 {
            assert!(
                lo[i] < -0.099 && hi[i] > 0.099,
                "state[{i}] spans {}..{}",
                lo[i],
                hi[i]
            );
        }
    }

    #[test]
    fn hanging_still_with_no_torque_stays_nearly_put() {
        // Not exactly put: cos(−π/2) in f64 is 6e−17, not 0, so gravity leaves a tiny residue.
        let mut env = Acrobot::with_state([0.0; 4]);
        let mut obs = [0.0f32; 6];
        let step = env.step(1, &mut obs).expect("step");
        assert!(
            env.state().iter().all(|v| v.abs() < 1e-14),
            "{:?}",
            env.state()
        );
        assert_eq!((obs[0], obs[2]), (1.0, 1.0));
        assert!(obs.iter().all(|v| v.abs() < 1e-15 || *v == 1.0), "{obs:?}");
        assert_eq!(step.reward, -1.0);
        assert!(!step.done());
    }

    #[test]
    fn upright_chain_terminates_with_reward_zero() {
        // θ1 = π points link 1 straight up; the end is 2 m above the pivot.
        let mut env = Acrobot::with_state([PI, 0.0, 0.0, 0.0]);
        let mut obs = [0.0f32; 6];
        let step = env.step(1, &mut obs).expect("step");
        assert!(step.terminated && !step.truncated);
        assert_eq!(step.reward, 0.0);
        assert!(matches!(env.step(1, &mut obs), Err(EnvError::EpisodeOver)));
    }

    #[test]
    fn truncates_on_the_limit_and_refuses_action_three() {
        let mut env = Acrobot::with_state([0.0; 4]).with_max_episode_steps(2);
        let mut obs = [0.0f32; 6];
        assert!(matches!(
            env.step(3, &mut obs),
            Err(EnvError::InvalidAction {
                action: 3,
                n_actions: 3
            })
        ));
        assert!(!env.step(0, &mut obs).expect("1").done());
        let last = env.step(2, &mut obs).expect("2");
        assert!(last.truncated && !last.terminated);
        assert_eq!(env.max_episode_steps(), Some(2));
    }
}
