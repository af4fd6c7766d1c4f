//! The teacher: deep Q-learning on a `retort-envs` environment.
//!
//! The trainer follows DQN as Stable-Baselines3 and CleanRL implement it — an experience
//! replay buffer, a target network, the Huber loss, gradient-norm clipping and a linear ε
//! schedule on the environment-step clock — with Double DQN, dueling heads
//! (`DqnConfig::dueling`: value and mean-centred advantage streams), n-step returns and
//! prioritized replay as options, and with the two details that public implementations most
//! often get wrong pinned by tests: the TD target bootstraps through a time-limit truncation
//! but not through a termination, and the replay buffer stores the true final observation of
//! an episode, never the first observation of the next.
//!
//! # Replay variants
//!
//! Two options of the `[teacher]` table change what is replayed; both are off by default, and
//! the defaults train exactly as plain DQN does.
//!
//! - **n-step returns** (`n_step = n`): each stored transition carries the discounted sum of
//!   the next n rewards and bootstraps from the observation n steps later with γ^n, which it
//!   stores as its own `discount`. A window per environment copy collects the steps; at the
//!   end of an episode the shorter windows are written out too, stopping at a termination and
//!   bootstrapping through a truncation with γ^m for their m steps.
//! - **Prioritized replay** (`prioritized_replay = true`): the proportional variant of Schaul
//!   et al. (2016). A sum tree holds the priority `(|δ| + ε)^α` of every slot; a batch is drawn
//!   by stratified sampling; new and overwritten slots get the largest priority so far; and
//!   each sample's Huber term is scaled by its importance-sampling weight `(N · P(i))^(−β)`,
//!   normalised by the batch's largest, with β raised linearly to 1 over the budget. The
//!   priorities come from the TD errors of the forward pass of the gradient step, before the
//!   step changes the network.
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
mod nstep;
mod prioritized;
mod replay;
mod resume;
mod schedule;
mod sum_tree;
mod target;
mod trainer;

pub use config::{physical_memory, DqnConfig};
pub use error::DqnError;
pub use replay::{Batch, ReplayBuffer, Transition};
pub use resume::{check_resumable, RESUME_FORMAT};
pub use schedule::LinearSchedule;
pub use target::{td_loss, td_targets, weighted_td_loss};
pub use trainer::{train, train_with, update_target, Timings, TrainOptions, TrainOutcome};
