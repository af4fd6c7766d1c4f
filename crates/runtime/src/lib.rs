//! Runs a trained retort policy with plain Rust: loads a checkpoint, scores observations and
//! picks actions, without libtorch.
//!
//! # Overview
//!
//! Training (`retort-dqn`, `retort-distill`) saves every teacher and student as a directory
//! holding `model.safetensors` (F32 tensors `layers.{i}.weight`, `[out, in]`, and
//! `layers.{i}.bias`, `[out]`) and `model.json` (a [`ModelCard`]: format, role, environment,
//! architecture). A teacher trained with a dueling head has `layers.{i}.*` only for its hidden
//! layers, then `value.*` and `advantage.*` (see [`MlpSpec`]); its scores are the combined
//! Q-values. [`Mlp::load`] reads such a directory, checks every tensor's name, dtype and
//! shape against the card, and returns a network that acts with [`Mlp::act`] (greedy action,
//! the first of equal scores) or [`Mlp::scores`] (every action's score).
//!
//! * **No allocation per action.** Scratch space is reserved when the network is built; acting
//!   only reads the weights and writes that scratch space. An [`Mlp`] is therefore [`Send`]
//!   but not [`Sync`]: clone it for each thread that acts.
//! * **Speed.** Each unit is a plain `f32` dot product, in input order; rows are grouped
//!   eight at a time so that their sums advance side by side in SIMD registers (see [`Mlp`]).
//!   A CartPole student (4 inputs, one hidden layer of 4 to 64 units, 2 actions) acts in a
//!   tenth of a microsecond or less, a hundred times faster than a single-row libtorch call
//!   (`cargo run --release -p retort-runtime-tch-check --example runtime_vs_tch`).
//! * **Agreement with the trainer.** libtorch sums in a different order, so scores can differ
//!   from `retort_core::MlpPolicy`'s in their last bits. The chosen action is what matters and
//!   what `crates/runtime/tch-check` tests: on 100 000 states per architecture the actions are
//!   identical, save (in principle) states whose top two scores are within rounding of each
//!   other, which the test counts.
//! * **Refusals, not panics.** A missing file, a truncated or foreign safetensors file, a
//!   wrong dtype or shape, or a card that contradicts the weights gives a [`RuntimeError`]
//!   naming the file and the tensor.
//!
//! # Example
//!
//! A hand-made linear policy for CartPole (push the cart towards the side the pole leans to),
//! built with [`Mlp::from_parts`], balancing the pole; [`Mlp::load`] gives the same kind of
//! network from a trained checkpoint.
//!
//! ```
//! use retort_envs::{make, EnvSpec};
//! use retort_runtime::{Mlp, MlpSpec};
//!
//! let spec = MlpSpec { obs_dim: 4, n_actions: 2, hidden: vec![], dueling: false };
//! // Score of "push left" = −(pole angle + angular velocity), of "push right" = +(the same).
//! let weight = [0.0, 0.0, -1.0, -1.0, 0.0, 0.0, 1.0, 1.0];
//! let policy = Mlp::from_parts(spec, &[(&weight, &[0.0, 0.0])])?;
//! assert_eq!(policy.params(), 10);
//!
//! let mut env = make(&EnvSpec::new("CartPole-v1")).expect("CartPole-v1 is registered");
//! let mut obs = vec![0.0f32; policy.obs_dim()];
//! env.reset(Some(7), &mut obs);
//! let mut episode_return = 0.0;
//! loop {
//!     let step = env.step(policy.act(&obs), &mut obs).expect("the action is valid");
//!     episode_return += step.reward;
//!     if step.done() {
//!         break;
//!     }
//! }
//! assert!(episode_return >= 100.0, "returned {episode_return}");
//!
//! // Scores, for when the margin between actions matters.
//! let mut scores = [0.0f32; 2];
//! policy.scores(&[0.0, 0.0, 0.1, 0.2], &mut scores);
//! assert!(scores[1] > scores[0]);
//! # Ok::<(), retort_runtime::RuntimeError>(())
//! ```
//!
//! # Dependencies
//!
//! The whole point of this crate is to run where libtorch is not installed, so its dependency
//! tree holds no `tch` and no `torch-sys` — not as normal, build or even dev-dependencies, and
//! it has no build script. The comparison with the tch policies lives in the test-only
//! workspace package `retort-runtime-tch-check` (`crates/runtime/tch-check`). The test
//! `tests/dependency_tree.rs` runs
//!
//! ```text
//! cargo tree -p retort-runtime -e normal,build --offline
//! ```
//!
//! and fails if either name appears.

#![warn(missing_docs)]

mod card;
mod error;
mod mlp;

pub use card::{MlpSpec, ModelCard, ACTIVATION, MODEL_FORMAT};
pub use error::RuntimeError;
pub use mlp::{argmax, Mlp};
