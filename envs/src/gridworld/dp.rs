//! Dynamic programming on grid worlds: discounted value iteration, the exact finite-horizon
//! optimum that serves as the oracle for trained agents, and the exact expected return of any
//! stationary policy, which measures a trained agent without sampling error.

use super::{GridWorld, Tile};
use crate::Env;

/// Horizon of [`GridWorld::optimal_return`] for maps without a time limit.
pub const UNLIMITED_HORIZON: u32 = 10_000;

/// Sweeps after which [`GridWorld::value_iteration`] gives up (reported by `converged`), so that
/// a discount of 1 or a tolerance of 0 cannot loop forever.
pub const MAX_SWEEPS: usize = 100_000;

/// Result of discounted value iteration, indexed by cell (`row * cols + col`).
#[derive(Clone, Debug, PartialEq)]
pub struct ValueIteration {
    /// Optimal discounted value of standing on each cell; 0 for walls, goals, holes and cliffs
    /// (the agent never stands on those at decision time).
    pub values: Vec<f64>,
    /// A greedy action per cell (the lowest-numbered among ties; 0 where there is no decision).
    pub policy: Vec<usize>,
    /// Synchronous sweeps performed.
    pub sweeps: usize,
    /// Whether the last sweep changed no value by `tol` or more.
    pub converged: bool,
}

/// Optimal values and actions for every (steps left, cell) up to a horizon.
#[derive(Clone, Debug)]
pub struct FiniteHorizon {
    horizon: u32,
    cells: usize,
    /// `values[k * cells + cell]`: best expected return with `k` steps left, for `k` up to the
    /// last computed layer (later layers repeat it).
    values: Vec<f64>,
    /// `policy[(k - 1) * cells + cell]`: best action with `k >= 1` steps left.
    policy: Vec<usize>,
}

impl FiniteHorizon {
    /// The horizon it was computed for.
    pub fn horizon(&self) -> u32 {
        self.horizon
    }

    fn layer(&self, steps_left: u32) -> usize {
        let stored = self.values.len() / self.cells - 1;
        (steps_left as usize).min(stored)
    }

    /// Best expected undiscounted return from `cell` with `steps_left` steps to go.
    pub fn value(&self, steps_left: u32, cell: usize) -> f64 {
        self.values[self.layer(steps_left) * self.cells + cell]
    }

    /// An optimal action in `cell` with `steps_left` steps to go (0 when no step is left).
    pub fn action(&self, steps_left: u32, cell: usize) -> usize {
        match self.layer(steps_left) {
            0 => 0,
            k => self.policy[(k - 1) * self.cells + cell],
        }
    }
}

/// The exact evaluation of a stationary policy on a grid map: the observation of every cell
/// where the agent chooses an action, and, given the action chosen in each, the policy's
/// expected undiscounted return from the start within the time limit.
///
/// A policy that acts on observations alone, as a trained network does, is a fixed action
/// per cell, so this is its true mean return, without the sampling error of played episodes.
#[derive(Clone, Debug)]
pub struct ExactEvaluator {
    env: GridWorld,
    /// The cells where the agent decides, in index order.
    cells: Vec<usize>,
    /// Their observations, one row of `obs_dim` values per cell.
    observations: Vec<f32>,
}

impl ExactEvaluator {
    /// An evaluator for `env` (its map, slip, rewards, observation kind and time limit).
    pub fn new(env: GridWorld) -> Self {
        let cells: Vec<usize> = (0..env.map.tiles().len())
            .filter(|&c| env.decides(c))
            .collect();
        let dim = env.obs_dim();
        let mut observations = vec![0.0; cells.len() * dim];
        for (row, &cell) in observations.chunks_exact_mut(dim).zip(&cells) {
            env.observation_of(cell, row);
        }
        ExactEvaluator {
            env,
            cells,
            observations,
        }
    }

    /// The observations of the cells where the agent decides, `[cells, obs_dim]` row-major.
    pub fn observations(&self) -> &[f32] {
        &self.observations
    }

    /// Number of cells where the agent decides (rows of [`Self::observations`]).
    pub fn cells(&self) -> usize {
        self.cells.len()
    }

    /// Expected return of taking `actions[i]` in the cell of observation row `i`.
    ///
    /// # Panics
    /// If `actions` does not hold one action in `0..4` per cell.
    pub fn expected_return(&self, actions: &[usize]) -> f64 {
        assert_eq!(
            actions.len(),
            self.cells.len(),
            "one action per deciding cell"
        );
        let mut policy = vec![0; self.env.map.tiles().len()];
        for (&cell, &action) in self.cells.iter().zip(actions) {
            assert!(action < 4, "action {action} is not one of the 4 moves");
            policy[cell] = action;
        }
        self.env.policy_return(&policy)
    }
}

impl GridWorld {
    /// Whether the agent can stand on `cell` when choosing an action.
    fn decides(&self, cell: usize) -> bool {
        matches!(self.map.tiles()[cell], Tile::Floor | Tile::Start)
    }

    /// Expected `reward + gamma * value(next)` of `action` in `cell`; terminal moves add no
    /// future value.
    fn q_value(&self, v: &[f64], gamma: f64, cell: usize, action: usize) -> f64 {
        let dirs = self.directions(action);
        let total: f64 = dirs
            .iter()
            .map(|&d| {
                let mv = self.movement(cell, d);
                let future = if mv.terminated {
                    0.0
                } else {
                    gamma * v[mv.next]
                };
                mv.reward + future
            })
            .sum();
        total / dirs.len() as f64
    }

    /// The best action value in `cell` and the lowest action reaching it.
    fn backup(&self, v: &[f64], gamma: f64, cell: usize) -> (f64, usize) {
        let mut best = (self.q_value(v, gamma, cell, 0), 0);
        for a in 1..4 {
            let q = self.q_value(v, gamma, cell, a);
            if q > best.0 {
                best = (q, a);
            }
        }
        best
    }

    /// One synchronous Bellman sweep from `v` into `out`; returns the largest change.
    fn sweep(&self, v: &[f64], gamma: f64, out: &mut [f64], policy: &mut [usize]) -> f64 {
        let mut delta: f64 = 0.0;
        for cell in 0..v.len() {
            if self.decides(cell) {
                let (q, a) = self.backup(v, gamma, cell);
                delta = delta.max((q - v[cell]).abs());
                out[cell] = q;
                policy[cell] = a;
            } else {
                out[cell] = 0.0;
                policy[cell] = 0;
            }
        }
        delta
    }

    /// Discounted infinite-horizon value iteration (synchronous sweeps from zero) until no value
    /// changes by `tol` or more, or [`MAX_SWEEPS`] sweeps. Time limits are ignored: this is the
    /// discounted problem a learner with discount `gamma` optimises. Use `gamma < 1`.
    pub fn value_iteration(&self, gamma: f64, tol: f64) -> ValueIteration {
        let n = self.map.tiles().len();
        let mut v = vec![0.0; n];
        let mut next = vec![0.0; n];
        let mut policy = vec![0; n];
        let mut sweeps = 0;
        let mut converged = false;
        while sweeps < MAX_SWEEPS {
            let delta = self.sweep(&v, gamma, &mut next, &mut policy);
            std::mem::swap(&mut v, &mut next);
            sweeps += 1;
            if delta < tol {
                converged = true;
                break;
            }
        }
        // `policy` was chosen against the values before the last sweep; make it greedy with
        // respect to the returned values.
        for (cell, a) in policy.iter_mut().enumerate() {
            *a = if self.decides(cell) {
                self.backup(&v, gamma, cell).1
            } else {
                0
            };
        }
        ValueIteration {
            values: v,
            policy,
            sweeps,
            converged,
        }
    }

    /// Optimal values and actions for every (steps left, cell) up to `horizon`, undiscounted.
    ///
    /// Stops storing layers once one equals its predecessor, since all later ones are then
    /// identical; memory is at most `(horizon + 1) × cells` values.
    pub fn finite_horizon(&self, horizon: u32) -> FiniteHorizon {
        let n = self.map.tiles().len();
        let mut values = vec![0.0; n];
        let mut policy = Vec::new();
        let mut next = vec![0.0; n];
        let mut acts = vec![0; n];
        for k in 1..=horizon as usize {
            self.sweep(&values[(k - 1) * n..], 1.0, &mut next, &mut acts);
            let same = next[..] == values[(k - 1) * n..];
            values.extend_from_slice(&next);
            policy.extend_from_slice(&acts);
            if same {
                break;
            }
        }
        FiniteHorizon {
            horizon,
            cells: n,
            values,
            policy,
        }
    }

    /// Exact expected undiscounted return from the start, within the time limit
    /// ([`UNLIMITED_HORIZON`] steps when there is none), of always taking `policy[cell]` in
    /// `cell` (entries for cells where no decision is made are ignored).
    ///
    /// # Panics
    /// If `policy` does not hold one action in `0..4` per cell of the map.
    pub fn policy_return(&self, policy: &[usize]) -> f64 {
        let n = self.map.tiles().len();
        assert_eq!(policy.len(), n, "one action per cell");
        let horizon = self.max_episode_steps.unwrap_or(UNLIMITED_HORIZON);
        let mut v = vec![0.0; n];
        let mut next = vec![0.0; n];
        for _ in 0..horizon {
            for cell in 0..n {
                next[cell] = if self.decides(cell) {
                    self.q_value(&v, 1.0, cell, policy[cell])
                } else {
                    0.0
                };
            }
            if next == v {
                break;
            }
            std::mem::swap(&mut v, &mut next);
        }
        v[self.map.start()]
    }

    /// Exact optimal expected undiscounted return from the start within the time limit
    /// ([`UNLIMITED_HORIZON`] steps when there is none); see the [module docs](super).
    pub fn optimal_return(&self) -> f64 {
        let horizon = self.max_episode_steps.unwrap_or(UNLIMITED_HORIZON);
        let n = self.map.tiles().len();
        let mut v = vec![0.0; n];
        let mut next = vec![0.0; n];
        let mut acts = vec![0; n];
        for _ in 0..horizon {
            self.sweep(&v, 1.0, &mut next, &mut acts);
            if next == v {
                break;
            }
            std::mem::swap(&mut v, &mut next);
        }
        v[self.map.start()]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{BuiltinMap, GridMap, Rewards};

    fn world(text: &str) -> GridWorld {
        GridWorld::new(GridMap::parse(text).expect("valid map"))
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-12
    }

    #[test]
    fn straight_corridor_is_worth_the_goal_reward() {
        let env = world("S.G").with_max_episode_steps(Some(10));
        assert_eq!(env.optimal_return(), 1.0);
    }

    #[test]
    fn corridor_with_step_cost_sums_steps_and_goal() {
        // Two steps at −1, then +1 on the goal.
        let env = world("S..G")
            .with_rewards(Rewards {
                step: -1.0,
                goal: 1.0,
                hole: 0.0,
                cliff: -100.0,
            })
            .with_max_episode_steps(Some(10));
        assert_eq!(env.optimal_return(), -1.0);
    }

    #[test]
    fn too_short_a_limit_makes_the_goal_worth_nothing() {
        let env = world("S..G").with_max_episode_steps(Some(2));
        assert_eq!(env.optimal_return(), 0.0);
        let env = world("S..G").with_max_episode_steps(Some(3));
        assert_eq!(env.optimal_return(), 1.0);
    }

    #[test]
    fn slippery_corner_needs_the_safe_action_and_is_worth_7_over_27() {
        // "S." over "HG" with 3 steps: from S only `up` cannot slip into the hole; it reaches
        // the top-right cell with probability 1/3. There, `right` reaches G with 1/3 and never
        // slips back. V1(top-right) = 1/3, V2(top-right) = 1/3 + 2/3·1/3 = 5/9, V2(S) = 1/9,
        // V3(S) = 1/3·5/9 + 2/3·1/9 = 7/27 (pushing `right` from S gives only 6/27).
        let env = world("S.\nHG")
            .with_slippery(true)
            .with_max_episode_steps(Some(3));
        assert!(
            close(env.optimal_return(), 7.0 / 27.0),
            "{}",
            env.optimal_return()
        );
        let fh = env.finite_horizon(3);
        assert_eq!(fh.action(3, 0), 3);
        assert_eq!(fh.action(2, 1), 2);
        assert!(close(fh.value(2, 1), 5.0 / 9.0));
        assert!(close(fh.value(3, 0), 7.0 / 27.0));
    }

    #[test]
    fn a_stationary_policy_is_worth_what_its_episodes_average() {
        // The corner of the test above: `up` then `right` is the optimum, 7/27; `right` from
        // the start reaches the top-right cell with 1/3 but slips into the hole with 1/3:
        // V3(S) = 1/3·V2(top-right) + 1/3·V2(S) = 1/3·5/9 + 1/3·1/9 = 6/27.
        let env = world("S.\nHG")
            .with_slippery(true)
            .with_max_episode_steps(Some(3));
        assert!(close(env.policy_return(&[3, 2, 0, 0]), 7.0 / 27.0));
        assert!(close(env.policy_return(&[2, 2, 0, 0]), 6.0 / 27.0));
        let exact = ExactEvaluator::new(env.clone());
        assert_eq!(exact.cells(), 2);
        // One-hot observations of cells 0 and 1.
        assert_eq!(exact.observations(), [1., 0., 0., 0., 0., 1., 0., 0.]);
        assert!(close(exact.expected_return(&[2, 2]), 6.0 / 27.0));

        // Against played episodes: the greedy policy of value iteration on slippery FrozenLake
        // 4×4, 20 000 episodes, whose mean has a standard error near 0.003.
        let lake = GridWorld::builtin(BuiltinMap::FrozenLake4x4)
            .expect("builtin")
            .with_slippery(true)
            .with_max_episode_steps(Some(100));
        let policy = lake.value_iteration(0.99, 1e-12).policy;
        let exact = lake.policy_return(&policy);
        assert!((exact - 0.7402).abs() < 5e-5, "{exact}");
        let mut env = lake.clone();
        let mut obs = vec![0.0; 16];
        let mut total = 0.0;
        let episodes = 20_000;
        for seed in 0..episodes {
            env.reset(Some(seed), &mut obs);
            loop {
                let step = env
                    .step(policy[env.position()], &mut obs)
                    .expect("valid step");
                total += step.reward;
                if step.done() {
                    break;
                }
            }
        }
        let played = total / episodes as f64;
        assert!(
            (played - exact).abs() < 0.01,
            "played {played}, exact {exact}"
        );
    }

    #[test]
    fn a_policy_that_never_arrives_is_cut_at_the_horizon() {
        // Pushing left forever on a corridor with −1 per step and no time limit: the return is
        // the horizon's worth of steps.
        let env = world("S..G").with_rewards(Rewards {
            step: -1.0,
            goal: 1.0,
            hole: 0.0,
            cliff: -100.0,
        });
        assert_eq!(env.policy_return(&[0; 4]), -f64::from(UNLIMITED_HORIZON));
    }

    #[test]
    fn discounted_corridor_values_are_powers_of_gamma() {
        let vi = world("S..G").value_iteration(0.9, 1e-12);
        assert!(vi.converged);
        assert_eq!(vi.values, vec![0.81, 0.9, 1.0, 0.0]);
        assert_eq!(&vi.policy[..3], &[2, 2, 2]);
    }

    #[test]
    fn discounted_slippery_corner_solves_v_equals_gamma_fixed_point() {
        // With slip and discount g, `up` from S: V(S) = g/3·V(T) + 2g/3·V(S), and `right` from
        // T: V(T) = 1/3 + 2g/3·V(T). So V(T) = 1/(3 − 2g), V(S) = g·V(T)/(3 − 2g).
        let g = 0.9;
        let vi = world("S.\nHG")
            .with_slippery(true)
            .value_iteration(g, 1e-14);
        let vt = 1.0 / (3.0 - 2.0 * g);
        let vs = g * vt / (3.0 - 2.0 * g);
        assert!((vi.values[1] - vt).abs() < 1e-12, "{:?}", vi.values);
        assert!((vi.values[0] - vs).abs() < 1e-12, "{:?}", vi.values);
        assert_eq!(vi.policy[0], 3);
    }

    #[test]
    fn value_iteration_that_cannot_meet_its_tolerance_stops_at_the_sweep_cap() {
        // No change is ever below a negative tolerance, so only the cap ends the loop.
        let env = world("S.\nHG").with_slippery(true);
        let vi = env.value_iteration(0.5, -1.0);
        assert!(!vi.converged);
        assert_eq!(vi.sweeps, MAX_SWEEPS);
    }

    #[test]
    fn frozen_lake_deterministic_optimum_is_one_and_cliff_walking_is_minus_13() {
        for m in [
            BuiltinMap::FrozenLake4x4,
            BuiltinMap::FrozenLake8x8,
            BuiltinMap::FourRooms,
        ] {
            assert_eq!(
                GridWorld::builtin(m).expect("builtin").optimal_return(),
                1.0
            );
        }
        let cliff = GridWorld::builtin(BuiltinMap::CliffWalking).expect("builtin");
        assert_eq!(cliff.optimal_return(), -13.0);
    }

    #[test]
    fn four_rooms_shortest_path_is_20_steps() {
        // 19 steps at −1, then +1 for entering the goal.
        let env = GridWorld::builtin(BuiltinMap::FourRooms)
            .expect("builtin")
            .with_step_reward(-1.0);
        assert_eq!(env.optimal_return(), -18.0);
    }

    #[test]
    fn finite_horizon_matches_optimal_return_at_the_limit() {
        let env = GridWorld::builtin(BuiltinMap::FrozenLake4x4)
            .expect("builtin")
            .with_slippery(true);
        let fh = env.finite_horizon(100);
        assert_eq!(fh.value(100, env.map().start()), env.optimal_return());
    }
}
