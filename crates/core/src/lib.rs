//! Shared machinery of retort over `tch`: MLP policies, greedy evaluation, checkpoints,
//! devices and seeding.
//!
//! The teacher (`retort-dqn`) and the students (`retort-distill`) are both [`MlpPolicy`]s:
//! a multi-layer perceptron from observation to one score per action, acting greedily. This
//! crate owns what both need — building and counting such networks, evaluating them over many
//! environments at once, and saving them as `model.safetensors` + `model.json`.
//!
//! ```
//! use retort_core::{evaluate, EvalConfig, MlpPolicy, MlpSpec};
//! use retort_envs::EnvSpec;
//!
//! let spec = MlpSpec { obs_dim: 4, n_actions: 2, hidden: vec![8], dueling: false };
//! let policy = MlpPolicy::new(spec, tch::Device::Cpu, 0);
//! assert_eq!(policy.spec().params(), 4 * 8 + 8 + 8 * 2 + 2);
//! let config = EvalConfig { episodes: 3, seed: 7 };
//! let stats = evaluate(&policy, &EnvSpec::new("CartPole-v1"), &config).unwrap();
//! assert_eq!(stats.returns.len(), 3);
//! ```
#![warn(missing_docs)]

mod adam;
mod checkpoint;
mod device;
mod diff;
mod error;
mod eval;
mod observer;
mod policy;
pub mod seed;
mod stats;

pub use adam::{Adam, AdamConfig, AdamState, Optimizer};
pub use checkpoint::{load_checkpoint, save_checkpoint, ModelCard, MODEL_FORMAT};
pub use device::{device_from_name, parse_device, set_threads, DEVICE_NAMES};
pub use diff::differing_keys;
pub use error::CoreError;
pub use eval::{evaluate, exact_return, EvalConfig, EvalStats};
pub use observer::{NoObserver, Observer};
pub use policy::{GreedyPolicy, MlpPolicy, MlpSpec};
pub use stats::{mean_std_ci95, Summary};
