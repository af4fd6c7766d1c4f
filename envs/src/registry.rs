//! The registry: how an experiment names an environment ([`EnvSpec`]) and builds it ([`make`]).

use crate::acrobot::{self, Acrobot};
use crate::cartpole::{self, CartPole, Integrator};
use crate::gridworld::{BuiltinMap, ExactEvaluator, GridMap, GridWorld};
use crate::mountain_car::{self, MountainCar};
use crate::{Env, EnvError};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// How a grid world encodes the agent's position.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ObsKind {
    /// One entry per cell, 1.0 at the agent (`"onehot"`).
    #[default]
    OneHot,
    /// Row and column scaled to [0, 1] (`"coords"`).
    Coords,
}

/// How an experiment file names an environment (a TOML table such as
/// `[env] id = "FrozenLake-v1", map = "8x8"`). Unknown keys are refused.
///
/// Which options each id accepts (any other option set is an error naming it):
///
/// - `CartPole-v1`: `max_episode_steps` (default 500), `sutton_barto_reward` (default false),
///   `kinematics_integrator` (default `"euler"`).
/// - `MountainCar-v0`: only `max_episode_steps` (default 200).
/// - `Acrobot-v1`: only `max_episode_steps` (default 500).
/// - `FrozenLake-v1`: `map` = `"4x4"` (default) or `"8x8"`; `is_slippery` (default true);
///   `observation` (default onehot); `max_episode_steps` (default 100).
/// - `CliffWalking-v1`: `is_slippery` (default false), `observation`, `max_episode_steps`
///   (default none, as Gymnasium).
/// - `GridWorld`: exactly one of `map` (a built-in name) and `map_file` (a path);
///   `is_slippery` (default false), `observation`, `max_episode_steps` (default: the
///   built-in's own — FourRooms and the FrozenLake maps 100, CliffWalking none — and none for
///   map files).
///
/// Built-in names: `FourRooms`, `FrozenLake4x4`, `FrozenLake8x8`, `CliffWalking`. A relative
/// `map_file` is resolved against the current directory.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnvSpec {
    /// A registry id; see [`known_ids`].
    pub id: String,
    /// FrozenLake-v1: `"4x4"` | `"8x8"`; GridWorld: a built-in map name (`"FourRooms"`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub map: Option<String>,
    /// GridWorld: path to a text map file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub map_file: Option<PathBuf>,
    /// Grid family: FrozenLake's slip.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_slippery: Option<bool>,
    /// Grid family: observation encoding (`"onehot"` default, or `"coords"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observation: Option<ObsKind>,
    /// Replaces the id's time limit (at least 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_episode_steps: Option<u32>,
    /// GridWorld only: reward of every step that does not reach a goal (default: the map's
    /// own, 0 for FourRooms and map files). A negative value makes the undiscounted return
    /// measure path length. The Gymnasium ids keep Gymnasium's rewards and refuse it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step_reward: Option<f64>,
    /// CartPole-v1 only: Gymnasium's `sutton_barto_reward`. When true, every step that does
    /// not terminate (also one that only truncates) pays 0 and the terminating step pays −1,
    /// instead of +1 on every step; the reward threshold becomes 0 (default false).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sutton_barto_reward: Option<bool>,
    /// CartPole-v1 only: Gymnasium's `kinematics_integrator`, `"euler"` (the default: every
    /// update reads the old state) or `"semi-implicit euler"` (each velocity is updated first
    /// and its position moves with the new velocity). Other names are refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kinematics_integrator: Option<String>,
}

impl EnvSpec {
    /// A spec with the id's defaults for every option.
    pub fn new(id: impl Into<String>) -> Self {
        EnvSpec {
            id: id.into(),
            map: None,
            map_file: None,
            is_slippery: None,
            observation: None,
            max_episode_steps: None,
            step_reward: None,
            sutton_barto_reward: None,
            kinematics_integrator: None,
        }
    }
}

const KNOWN_IDS: [&str; 6] = [
    "CartPole-v1",
    "MountainCar-v0",
    "Acrobot-v1",
    "FrozenLake-v1",
    "CliffWalking-v1",
    "GridWorld",
];

/// Every id [`make`] accepts.
pub fn known_ids() -> &'static [&'static str] {
    &KNOWN_IDS
}

/// Builds the environment a spec names, refusing options that do not apply to its id.
pub fn make(spec: &EnvSpec) -> Result<Box<dyn Env>, EnvError> {
    Ok(match build(spec)? {
        Built::CartPole(env) => Box::new(env),
        Built::MountainCar(env) => Box::new(env),
        Built::Acrobot(env) => Box::new(env),
        Built::Grid(env) => Box::new(env),
    })
}

/// Exact optimal expected undiscounted return from the start state within the environment's
/// time limit, for the grid family ([`GridWorld::optimal_return`]); `None` for the
/// classic-control ids (CartPole, MountainCar, Acrobot), which have no oracle. Validates the
/// spec exactly as [`make`] does.
pub fn optimal_return(spec: &EnvSpec) -> Result<Option<f64>, EnvError> {
    Ok(match build(spec)? {
        Built::CartPole(_) | Built::MountainCar(_) | Built::Acrobot(_) => None,
        Built::Grid(env) => Some(env.optimal_return()),
    })
}

/// An exact evaluator of stationary policies for the grid family ([`ExactEvaluator`]);
/// `None` for the classic-control ids, whose state space is continuous. Validates the spec
/// exactly as [`make`] does.
pub fn exact_evaluator(spec: &EnvSpec) -> Result<Option<ExactEvaluator>, EnvError> {
    Ok(match build(spec)? {
        Built::CartPole(_) | Built::MountainCar(_) | Built::Acrobot(_) => None,
        Built::Grid(env) => Some(ExactEvaluator::new(env)),
    })
}

enum Built {
    CartPole(CartPole),
    MountainCar(MountainCar),
    Acrobot(Acrobot),
    Grid(GridWorld),
}

fn build(spec: &EnvSpec) -> Result<Built, EnvError> {
    let bad = |option: &'static str, value: String, fix: String| EnvError::BadOption {
        env: spec.id.clone(),
        option,
        value,
        fix,
    };
    // Refuses an option the id has no use for, so that a typo'd experiment does not silently
    // run with defaults.
    let refuse = |option: &'static str, value: Option<String>| match value {
        Some(value) => Err(bad(
            option,
            value,
            format!(
                "{} does not use `{option}`; remove it from the env table",
                spec.id
            ),
        )),
        None => Ok(()),
    };
    let map = || refuse("map", spec.map.as_ref().map(|v| format!("{v:?}")));
    let map_file = || refuse("map_file", spec.map_file.as_ref().map(|v| format!("{v:?}")));
    if spec.max_episode_steps == Some(0) {
        return Err(bad(
            "max_episode_steps",
            "0".into(),
            "use a positive step limit, or leave it out for the id's default".into(),
        ));
    }
    if !spec.step_reward.is_none_or(f64::is_finite) {
        return Err(bad(
            "step_reward",
            format!("{:?}", spec.step_reward),
            "use a finite number".into(),
        ));
    }
    let step_reward = || refuse("step_reward", spec.step_reward.map(|v| v.to_string()));
    let grid = |env: GridWorld, slippery_default: bool, default_limit: Option<u32>| {
        let env = match spec.step_reward {
            Some(reward) if spec.id == "GridWorld" => env.with_step_reward(reward),
            _ => env,
        };
        Built::Grid(
            env.with_slippery(spec.is_slippery.unwrap_or(slippery_default))
                .with_observation(spec.observation.unwrap_or_default())
                .with_max_episode_steps(spec.max_episode_steps.or(default_limit)),
        )
    };

    // CartPole's own options, refused by every other known id (an unknown id is reported as
    // such below).
    if spec.id != "CartPole-v1" && KNOWN_IDS.contains(&spec.id.as_str()) {
        refuse(
            "sutton_barto_reward",
            spec.sutton_barto_reward.map(|v| v.to_string()),
        )?;
        refuse(
            "kinematics_integrator",
            spec.kinematics_integrator
                .as_ref()
                .map(|v| format!("{v:?}")),
        )?;
    }
    // The classic-control ids take a time limit (CartPole also its own options); every grid
    // option is refused.
    let classic_control = || -> Result<(), EnvError> {
        map()?;
        map_file()?;
        refuse("is_slippery", spec.is_slippery.map(|v| v.to_string()))?;
        refuse("observation", spec.observation.map(|v| format!("{v:?}")))?;
        step_reward()
    };

    match spec.id.as_str() {
        "CartPole-v1" => {
            classic_control()?;
            let integrator = match spec.kinematics_integrator.as_deref() {
                None => Integrator::default(),
                Some(name) => Integrator::from_name(name).ok_or_else(|| {
                    bad(
                        "kinematics_integrator",
                        format!("{name:?}"),
                        format!(
                            "CartPole-v1 accepts {} (the first is the default)",
                            Integrator::NAMES.map(|n| format!("\"{n}\"")).join(" and ")
                        ),
                    )
                })?,
            };
            let limit = spec
                .max_episode_steps
                .unwrap_or(cartpole::MAX_EPISODE_STEPS);
            Ok(Built::CartPole(
                CartPole::new()
                    .with_max_episode_steps(limit)
                    .with_sutton_barto_reward(spec.sutton_barto_reward.unwrap_or(false))
                    .with_integrator(integrator),
            ))
        }
        "MountainCar-v0" => {
            classic_control()?;
            let limit = spec
                .max_episode_steps
                .unwrap_or(mountain_car::MAX_EPISODE_STEPS);
            Ok(Built::MountainCar(
                MountainCar::new().with_max_episode_steps(limit),
            ))
        }
        "Acrobot-v1" => {
            classic_control()?;
            let limit = spec.max_episode_steps.unwrap_or(acrobot::MAX_EPISODE_STEPS);
            Ok(Built::Acrobot(Acrobot::new().with_max_episode_steps(limit)))
        }
        "FrozenLake-v1" => {
            map_file()?;
            step_reward()?;
            let which = match spec.map.as_deref() {
                None | Some("4x4") => BuiltinMap::FrozenLake4x4,
                Some("8x8") => BuiltinMap::FrozenLake8x8,
                Some(other) => {
                    return Err(bad(
                        "map",
                        format!("{other:?}"),
                        "FrozenLake-v1 maps are \"4x4\" and \"8x8\"; for other layouts use \
                         id = \"GridWorld\" with map_file"
                            .into(),
                    ))
                }
            };
            // Gymnasium's threshold for FrozenLake-v1; unreachable on 8x8 (see the module doc).
            let threshold = (which == BuiltinMap::FrozenLake4x4).then_some(0.70);
            let env = GridWorld::builtin(which)?
                .with_id("FrozenLake-v1")
                .with_reward_threshold(threshold);
            Ok(grid(env, true, which.max_episode_steps()))
        }
        "CliffWalking-v1" => {
            map()?;
            map_file()?;
            step_reward()?;
            let env = GridWorld::builtin(BuiltinMap::CliffWalking)?.with_id("CliffWalking-v1");
            Ok(grid(env, false, None))
        }
        "GridWorld" => match (&spec.map, &spec.map_file) {
            (Some(name), None) => {
                let Some(which) = BuiltinMap::from_name(name) else {
                    return Err(bad(
                        "map",
                        format!("{name:?}"),
                        format!(
                            "built-in maps are {}; for your own layout use map_file",
                            BuiltinMap::names()
                        ),
                    ));
                };
                Ok(grid(
                    GridWorld::builtin(which)?,
                    false,
                    which.max_episode_steps(),
                ))
            }
            (None, Some(path)) => Ok(grid(GridWorld::new(GridMap::from_file(path)?), false, None)),
            (Some(_), Some(path)) => Err(bad(
                "map_file",
                format!("{path:?}"),
                "give either `map` (a built-in) or `map_file`, not both".into(),
            )),
            (None, None) => Err(bad(
                "map",
                "(missing)".into(),
                format!(
                    "GridWorld needs `map` = one of {} or `map_file` = a path",
                    BuiltinMap::names()
                ),
            )),
        },
        _ => Err(EnvError::UnknownEnv {
            id: spec.id.clone(),
        }),
    }
}
