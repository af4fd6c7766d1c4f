//! Grid worlds read from text maps: FrozenLake-v1, CliffWalking-v1, FourRooms and user maps.
//!
//! # Map format
//!
//! One line per row, one character per cell; every row has the same width. Trailing blank
//! lines are ignored, `\r\n` line ends are accepted, anything else outside the alphabet
//! (spaces included) is refused.
//!
//! | char       | tile  | effect of entering it                                            |
//! |------------|-------|------------------------------------------------------------------|
//! | `#`        | wall  | cannot be entered: the agent stays where it is (step reward)     |
//! | `.` or `F` | floor | step reward (`F` is FrozenLake's spelling of frozen ice)         |
//! | `S`        | start | exactly one; every episode starts here; otherwise floor          |
//! | `G`        | goal  | at least one; goal reward, **terminates**                        |
//! | `H`        | hole  | hole reward, **terminates**                                      |
//! | `C`        | cliff | cliff reward and the agent is sent back to `S`; not terminal     |
//!
//! The parser ([`GridMap::parse`]) refuses, with the 1-based line and column of the problem:
//! an empty map, ragged rows, unknown characters, no start, several starts, no goal, and any goal
//! that breadth-first search from the start (ignoring slip, not passing through holes or cliffs)
//! cannot reach.
//!
//! # Spec
//!
//! **Actions** (4, Gymnasium's FrozenLake order): `0` left, `1` down, `2` right, `3` up. Moving
//! into a wall or off the grid leaves the agent in place.
//!
//! **Slip** (`is_slippery`, FrozenLake semantics): the agent moves in the intended direction
//! with probability 1/3 and in each of the two perpendicular directions with probability 1/3
//! (never backwards).
//!
//! **Observation**, one of ([`ObsKind`]):
//!
//! | kind             | index        | meaning                        | range      | unit |
//! |------------------|--------------|--------------------------------|------------|------|
//! | `onehot` (default) | `row*cols+col` | 1.0 at the agent's cell, else 0.0 | {0, 1} | — |
//! | `coords`         | 0            | `row / (rows − 1)`             | [0, 1]     | —    |
//! | `coords`         | 1            | `col / (cols − 1)`             | [0, 1]     | —    |
//!
//! One-hot has `rows*cols` entries (wall cells included, so that the index is the cell index);
//! a map one row (column) high has coordinate 0 on that axis rather than 0/0.
//!
//! **Reward** ([`Rewards`]): `step` for entering floor/start or bumping into a wall, `goal`,
//! `hole`, `cliff` for entering those tiles (each replaces the step reward, it is not added).
//! FrozenLake and FourRooms: step 0, goal +1, hole 0 (the discount factor of the learner is what
//! favours short paths). CliffWalking: step −1, goal −1 (the last step costs like any other),
//! cliff −100. User maps default to FrozenLake's rewards plus cliff −100;
//! [`GridWorld::with_rewards`] changes them.
//!
//! **Start state**: the `S` cell, always (reset draws nothing from the RNG).
//!
//! **Termination**: entering a goal or a hole.
//!
//! **Truncation**: when the episode has taken `max_episode_steps` steps: 100 for FrozenLake-v1
//! (both maps, as Gymnasium's `FrozenLake-v1`) and FourRooms; none for CliffWalking-v1, which
//! Gymnasium registers without a limit (the registry adds none unless the spec's
//! `max_episode_steps` asks), and none for user maps unless configured. Both flags are set when
//! the last allowed step also terminates.
//!
//! **Reward threshold** (Gymnasium's "solved" level): 0.70 for FrozenLake-v1 with the `4x4`
//! map, as Gymnasium registers it (its exact optimum within 100 slippery steps is 0.7442).
//! Gymnasium attaches the same 0.70 to FrozenLake-v1 with `map_name="8x8"`, but there the
//! optimum within 100 slippery steps is only 0.6407, so no threshold is claimed. None for
//! CliffWalking-v1 (Gymnasium has none) and for `GridWorld`.
//!
//! # Oracle
//!
//! [`GridWorld::optimal_return`] is the exact optimal expected undiscounted return from the
//! start within the time limit, by dynamic programming over (cell, steps left). Without a limit
//! it uses a horizon of [`UNLIMITED_HORIZON`] steps; the recursion stops early, still exactly,
//! once a layer equals the one before (every later layer would be the same), which for
//! deterministic maps happens as soon as the horizon exceeds the longest shortest path. For
//! slippery maps without a limit the result is the optimum within 10 000 steps, a lower bound
//! that the infinite-horizon optimum exceeds only by the probability mass still undecided after
//! that many steps. [`GridWorld::value_iteration`] solves the discounted infinite-horizon
//! problem.

mod builtin;
mod dp;
mod map;

pub use builtin::BuiltinMap;
pub use dp::{ExactEvaluator, FiniteHorizon, ValueIteration, MAX_SWEEPS, UNLIMITED_HORIZON};
pub use map::{GridMap, Tile, MAX_MAP_FILE_BYTES};

use crate::{check_reset_len, check_step, Env, EnvError, EnvSnapshot, ObsKind, RngState, Step};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Rewards of a grid world for entering each kind of tile.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Rewards {
    /// Entering floor or start, or bumping into a wall or the edge.
    pub step: f64,
    /// Entering a goal (terminal).
    pub goal: f64,
    /// Entering a hole (terminal).
    pub hole: f64,
    /// Entering a cliff (and being sent back to the start).
    pub cliff: f64,
}

impl Rewards {
    /// FrozenLake's rewards, also used by FourRooms and user maps: only the goal pays (+1).
    pub const GOAL_ONLY: Rewards = Rewards {
        step: 0.0,
        goal: 1.0,
        hole: 0.0,
        cliff: -100.0,
    };
    /// CliffWalking's rewards: −1 per step including the goal step, −100 for the cliff.
    pub const CLIFF_WALKING: Rewards = Rewards {
        step: -1.0,
        goal: -1.0,
        hole: 0.0,
        cliff: -100.0,
    };
}

/// The effect of moving from a cell in one direction, precomputed so that `step` is a lookup.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Move {
    pub(crate) next: usize,
    pub(crate) reward: f64,
    pub(crate) terminated: bool,
}

/// A grid-world environment; see the [module docs](self) for its spec.
#[derive(Clone, Debug)]
pub struct GridWorld {
    id: &'static str,
    map: GridMap,
    rewards: Rewards,
    slippery: bool,
    observation: ObsKind,
    max_episode_steps: Option<u32>,
    reward_threshold: Option<f64>,
    /// `moves[cell * 4 + dir]`.
    moves: Vec<Move>,
    rng: ChaCha8Rng,
    pos: usize,
    elapsed: u32,
    active: bool,
}

impl GridWorld {
    /// A grid world on `map` with id `"GridWorld"`, [`Rewards::GOAL_ONLY`], no slip, one-hot
    /// observations and no time limit.
    pub fn new(map: GridMap) -> Self {
        let pos = map.start();
        let mut env = GridWorld {
            id: "GridWorld",
            map,
            rewards: Rewards::GOAL_ONLY,
            slippery: false,
            observation: ObsKind::OneHot,
            max_episode_steps: None,
            reward_threshold: None,
            moves: Vec::new(),
            rng: ChaCha8Rng::seed_from_u64(0),
            pos,
            elapsed: 0,
            active: false,
        };
        env.rebuild_moves();
        env
    }

    /// A built-in map with its rewards and time limit, not slippery.
    pub fn builtin(map: BuiltinMap) -> Result<Self, crate::MapError> {
        Ok(GridWorld::new(map.map()?)
            .with_rewards(map.rewards())
            .with_max_episode_steps(map.max_episode_steps()))
    }

    /// Replaces the rewards.
    pub fn with_rewards(mut self, rewards: Rewards) -> Self {
        self.rewards = rewards;
        self.rebuild_moves();
        self
    }

    /// Replaces only the step reward (e.g. −1 to make FourRooms pay for path length).
    pub fn with_step_reward(self, step: f64) -> Self {
        let rewards = Rewards {
            step,
            ..self.rewards
        };
        self.with_rewards(rewards)
    }

    /// Turns FrozenLake's slip on or off.
    pub fn with_slippery(mut self, slippery: bool) -> Self {
        self.slippery = slippery;
        self
    }

    /// Chooses the observation encoding.
    pub fn with_observation(mut self, observation: ObsKind) -> Self {
        self.observation = observation;
        self
    }

    /// Sets or removes the time limit; a limit of 0 is treated as 1 (the registry refuses 0).
    pub fn with_max_episode_steps(mut self, limit: Option<u32>) -> Self {
        self.max_episode_steps = limit.map(|l| l.max(1));
        self
    }

    pub(crate) fn with_id(mut self, id: &'static str) -> Self {
        self.id = id;
        self
    }

    pub(crate) fn with_reward_threshold(mut self, threshold: Option<f64>) -> Self {
        self.reward_threshold = threshold;
        self
    }

    /// The map.
    pub fn map(&self) -> &GridMap {
        &self.map
    }

    /// The rewards.
    pub fn rewards(&self) -> Rewards {
        self.rewards
    }

    /// Whether moves slip.
    pub fn is_slippery(&self) -> bool {
        self.slippery
    }

    /// The observation encoding.
    pub fn observation(&self) -> ObsKind {
        self.observation
    }

    /// The agent's cell index (`row * cols + col`).
    pub fn position(&self) -> usize {
        self.pos
    }

    /// Steps taken in the current episode.
    pub fn elapsed_steps(&self) -> u32 {
        self.elapsed
    }

    /// The directions an action can lead to, each taken with equal probability: the intended
    /// one alone, or with slip the intended one and its two perpendiculars (Gymnasium's
    /// `(a-1) % 4, a, (a+1) % 4`).
    pub(crate) fn directions(&self, action: usize) -> &'static [usize] {
        const SLIP: [[usize; 3]; 4] = [[3, 0, 1], [0, 1, 2], [1, 2, 3], [2, 3, 0]];
        const STRAIGHT: [[usize; 1]; 4] = [[0], [1], [2], [3]];
        if self.slippery {
            &SLIP[action]
        } else {
            &STRAIGHT[action]
        }
    }

    pub(crate) fn movement(&self, cell: usize, dir: usize) -> Move {
        self.moves[cell * 4 + dir]
    }

    fn rebuild_moves(&mut self) {
        let map = &self.map;
        let r = self.rewards;
        self.moves = (0..map.tiles().len() * 4)
            .map(|i| {
                let (cell, dir) = (i / 4, i % 4);
                let next = map
                    .neighbour(cell, dir)
                    .filter(|&n| map.tiles()[n] != Tile::Wall);
                let next = next.unwrap_or(cell);
                match map.tiles()[next] {
                    Tile::Goal => Move {
                        next,
                        reward: r.goal,
                        terminated: true,
                    },
                    Tile::Hole => Move {
                        next,
                        reward: r.hole,
                        terminated: true,
                    },
                    Tile::Cliff => Move {
                        next: map.start(),
                        reward: r.cliff,
                        terminated: false,
                    },
                    Tile::Floor | Tile::Start | Tile::Wall => Move {
                        next,
                        reward: r.step,
                        terminated: false,
                    },
                }
            })
            .collect();
    }

    fn write_obs(&self, obs: &mut [f32]) {
        self.observation_of(self.pos, obs);
    }

    /// Writes the observation the agent receives standing on `cell` (`row * cols + col`) into
    /// `obs`, which holds [`Env::obs_dim`] values.
    pub fn observation_of(&self, cell: usize, obs: &mut [f32]) {
        match self.observation {
            ObsKind::OneHot => {
                obs.fill(0.0);
                obs[cell] = 1.0;
            }
            ObsKind::Coords => {
                let (rows, cols) = (self.map.rows(), self.map.cols());
                let scale = |i: usize, n: usize| {
                    if n > 1 {
                        i as f32 / (n - 1) as f32
                    } else {
                        0.0
                    }
                };
                obs[0] = scale(cell / cols, rows);
                obs[1] = scale(cell % cols, cols);
            }
        }
    }
}

impl Env for GridWorld {
    fn id(&self) -> &str {
        self.id
    }

    fn obs_dim(&self) -> usize {
        match self.observation {
            ObsKind::OneHot => self.map.rows() * self.map.cols(),
            ObsKind::Coords => 2,
        }
    }

    fn n_actions(&self) -> usize {
        4
    }

    fn reset(&mut self, seed: Option<u64>, obs: &mut [f32]) {
        check_reset_len(self.id, obs.len(), self.obs_dim());
        if let Some(seed) = seed {
            self.rng = ChaCha8Rng::seed_from_u64(seed);
        }
        self.pos = self.map.start();
        self.elapsed = 0;
        self.active = true;
        self.write_obs(obs);
    }

    fn step(&mut self, action: usize, obs: &mut [f32]) -> Result<Step, EnvError> {
        check_step(self.active, action, 4, obs.len(), self.obs_dim())?;
        let dirs = self.directions(action);
        let dir = if dirs.len() == 1 {
            dirs[0]
        } else {
            dirs[self.rng.random_range(0..dirs.len())]
        };
        let mv = self.movement(self.pos, dir);
        self.pos = mv.next;
        // Saturating: without a time limit nothing stops an episode from counting this far.
        self.elapsed = self.elapsed.saturating_add(1);
        let truncated = self.max_episode_steps.is_some_and(|l| self.elapsed >= l);
        self.active = !(mv.terminated || truncated);
        self.write_obs(obs);
        Ok(Step {
            reward: mv.reward,
            terminated: mv.terminated,
            truncated,
        })
    }

    fn max_episode_steps(&self) -> Option<u32> {
        self.max_episode_steps
    }

    fn reward_threshold(&self) -> Option<f64> {
        self.reward_threshold
    }

    fn snapshot(&self) -> EnvSnapshot {
        EnvSnapshot {
            id: self.id.to_string(),
            state: vec![self.pos as u64],
            elapsed: self.elapsed,
            active: self.active,
            rng: RngState::capture(&self.rng),
        }
    }

    fn restore(&mut self, snapshot: &EnvSnapshot) -> Result<(), EnvError> {
        snapshot.check_id(self.id)?;
        let tiles = self.map.tiles();
        let pos = match snapshot.state[..] {
            [cell] if (cell as usize) < tiles.len() && tiles[cell as usize] != Tile::Wall => {
                cell as usize
            }
            _ => {
                let problem = format!(
                    "state {:?} is not one open cell of this {}x{} map",
                    snapshot.state,
                    self.map.rows(),
                    self.map.cols()
                );
                return Err(snapshot.bad(problem));
            }
        };
        snapshot.check_elapsed(self.max_episode_steps)?;
        // A cliff sends the agent back to the start at once, so no one stands on it; goals
        // and holes end the episode.
        let tile = tiles[pos];
        if tile == Tile::Cliff {
            return Err(snapshot.bad(format!("cell {pos} is a cliff, where no one stands")));
        }
        snapshot.check_running(matches!(tile, Tile::Goal | Tile::Hole))?;
        self.rng = snapshot.generator()?;
        self.pos = pos;
        self.elapsed = snapshot.elapsed;
        self.active = snapshot.active;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn world(text: &str) -> GridWorld {
        GridWorld::new(GridMap::parse(text).expect("valid map"))
    }

    fn run(env: &mut GridWorld, actions: &[usize]) -> Vec<(usize, Step)> {
        let mut obs = vec![0.0; env.obs_dim()];
        env.reset(Some(0), &mut obs);
        actions
            .iter()
            .map(|&a| {
                let s = env.step(a, &mut obs).expect("step");
                (env.position(), s)
            })
            .collect()
    }

    fn step(reward: f64, terminated: bool, truncated: bool) -> Step {
        Step {
            reward,
            terminated,
            truncated,
        }
    }

    #[test]
    fn walls_and_edges_leave_the_agent_in_place_for_the_step_reward() {
        let mut env = world("S#\n.G").with_step_reward(-0.5);
        let got = run(&mut env, &[2, 3, 0, 1, 2]);
        assert_eq!(
            got,
            vec![
                (0, step(-0.5, false, false)),
                (0, step(-0.5, false, false)),
                (0, step(-0.5, false, false)),
                (2, step(-0.5, false, false)),
                (3, step(1.0, true, false)),
            ]
        );
    }

    #[test]
    fn hole_terminates_with_the_hole_reward() {
        let mut env = world("SH\n.G");
        assert_eq!(run(&mut env, &[2]), vec![(1, step(0.0, true, false))]);
    }

    #[test]
    fn cliff_pays_minus_100_and_returns_to_start_without_ending() {
        let mut env = GridWorld::builtin(BuiltinMap::CliffWalking).expect("builtin");
        assert_eq!(run(&mut env, &[2]), vec![(36, step(-100.0, false, false))]);
        let mut obs = vec![0.0; env.obs_dim()];
        assert!(env.step(3, &mut obs).is_ok());
    }

    #[test]
    fn cliff_walking_safe_path_costs_13() {
        let mut env = GridWorld::builtin(BuiltinMap::CliffWalking).expect("builtin");
        let mut actions = vec![3];
        actions.extend([2; 11]);
        actions.push(1);
        let got = run(&mut env, &actions);
        assert_eq!(got.iter().map(|(_, s)| s.reward).sum::<f64>(), -13.0);
        assert_eq!(got.last(), Some(&(47, step(-1.0, true, false))));
    }

    #[test]
    fn truncation_and_termination_can_coincide() {
        let mut env = world("S.G").with_max_episode_steps(Some(2));
        assert_eq!(
            run(&mut env, &[2, 2]),
            vec![(1, step(0.0, false, false)), (2, step(1.0, true, true))]
        );
    }

    #[test]
    fn truncated_episode_refuses_further_steps() {
        let mut env = world("S.G").with_max_episode_steps(Some(1));
        let mut obs = vec![0.0; 3];
        env.reset(None, &mut obs);
        assert_eq!(env.step(0, &mut obs).expect("step"), step(0.0, false, true));
        assert!(matches!(env.step(0, &mut obs), Err(EnvError::EpisodeOver)));
    }

    #[test]
    fn step_before_reset_and_after_goal_is_episode_over() {
        let mut env = world("SG");
        let mut obs = vec![0.0; 2];
        assert!(matches!(env.step(2, &mut obs), Err(EnvError::EpisodeOver)));
        env.reset(None, &mut obs);
        assert!(env.step(2, &mut obs).expect("step").terminated);
        assert!(matches!(env.step(2, &mut obs), Err(EnvError::EpisodeOver)));
    }

    #[test]
    fn action_four_is_invalid_and_does_not_move() {
        let mut env = world("S.G");
        let mut obs = vec![0.0; 3];
        env.reset(None, &mut obs);
        assert!(matches!(
            env.step(4, &mut obs),
            Err(EnvError::InvalidAction {
                action: 4,
                n_actions: 4
            })
        ));
        assert_eq!((env.position(), env.elapsed_steps()), (0, 0));
    }

    #[test]
    fn one_hot_marks_the_agent_cell() {
        let mut env = world("#S\n.G");
        let mut obs = vec![9.0; 4];
        env.reset(None, &mut obs);
        assert_eq!(obs, [0.0, 1.0, 0.0, 0.0]);
        env.step(1, &mut obs).expect("step");
        assert_eq!(obs, [0.0, 0.0, 0.0, 1.0]);
    }

    #[test]
    fn coords_are_row_and_column_scaled_to_unit_range() {
        let mut env = world("...\n..S\n...\nG..").with_observation(ObsKind::Coords);
        assert_eq!(env.obs_dim(), 2);
        let mut obs = [0.0f32; 2];
        env.reset(None, &mut obs);
        assert_eq!(obs, [1.0 / 3.0, 1.0]);
        let mut row = world("S.G").with_observation(ObsKind::Coords);
        row.reset(None, &mut obs);
        assert_eq!(obs, [0.0, 0.0]);
    }

    #[test]
    fn slip_goes_intended_or_perpendicular_never_backwards() {
        let env = world("S.G").with_slippery(true);
        assert_eq!(env.directions(0), &[3, 0, 1]);
        assert_eq!(env.directions(1), &[0, 1, 2]);
        assert_eq!(env.directions(2), &[1, 2, 3]);
        assert_eq!(env.directions(3), &[2, 3, 0]);
        assert_eq!(world("S.G").directions(2), &[2]);
    }

    #[test]
    fn same_seed_replays_the_same_slippery_episode() {
        let play = |seed| {
            let mut env = GridWorld::builtin(BuiltinMap::FrozenLake8x8)
                .expect("builtin")
                .with_slippery(true);
            let mut obs = vec![0.0; 64];
            env.reset(Some(seed), &mut obs);
            let mut cells = vec![];
            for t in 0..100 {
                match env.step(t % 4, &mut obs) {
                    Ok(s) => {
                        cells.push(env.position());
                        if s.done() {
                            break;
                        }
                    }
                    Err(e) => panic!("{e}"),
                }
            }
            cells
        };
        assert_eq!(play(3), play(3));
        assert_ne!(
            (0..8)
                .map(play)
                .collect::<std::collections::HashSet<_>>()
                .len(),
            1
        );
    }
}
