//! The teacher: deep Q-learning on a `retort-envs` environment.
//!
//! The trainer follows DQN as Stable-Baselines3 and CleanRL implement it — an experience
//! replay buffer, a target network, the Huber loss, gradient-norm clipping and a linear ε
//! schedule on the environment-step clock — with Double DQN and a dueling Q-network
//! (`DqnConfig::dueling`: value and mean-centred advantage streams) as options, and with the two
//! details that public implementations most often get wrong pinned by tests: the TD target
//! bootstraps through a time-limit truncation but not through a termination, and the replay
//! buffer stores the true final observation of an episode, never the first observation of the
//! next.
//!
//! ```no_run
//! use retort_core::NoObserver;
//! use retort_dqn::{train, DqnConfig};
//! use retort_envs::EnvSpec;
//!
//! let config = DqnConfig { total_steps: 20_000, ..DqnConfig::default() };
//! let outcome = train(&config, &EnvSpec::new("CartPole-v1"), tch::Device::Cpu, 0, &mut NoObserver)
//!     .unwrap();
//! println!("trained for {} env steps", outcome.env_steps);
//! ```
#![warn(missing_docs)]

mod config;
mod error;
mod replay;
mod schedule;
mod target;
mod trainer;

pub use config::DqnConfig;
pub use error::DqnError;
pub use replay::{Batch, ReplayBuffer, Transition};
pub use schedule::LinearSchedule;
pub use target::{td_loss, td_targets};
pub use trainer::{train, update_target, Timings, TrainOutcome};
