//! `model.json`: what a checkpoint's weights are, read without the trainer's crates.
//!
//! The trainer (`retort-core`) re-exports these very types, so a card means the same on both
//! sides; they live here because this crate must not depend on libtorch and `retort-core` does.

use retort_envs::EnvSpec;
use serde::{Deserialize, Serialize};

/// Value of [`ModelCard::format`] this runtime understands; anything else is refused.
pub const MODEL_FORMAT: &str = "retort-mlp/1";

/// Value of [`ModelCard::activation`] this runtime understands (ReLU between layers).
pub const ACTIVATION: &str = "relu";

/// The shape of an MLP: input size, hidden widths, output size. ReLU between layers, none after
/// the last.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MlpSpec {
    /// Length of an observation.
    pub obs_dim: usize,
    /// Number of discrete actions (outputs).
    pub n_actions: usize,
    /// Hidden layer widths, input side first; empty for a linear policy.
    pub hidden: Vec<usize>,
}

impl MlpSpec {
    /// Sizes of every layer, input first and output last.
    pub fn widths(&self) -> Vec<usize> {
        let mut widths = Vec::with_capacity(self.hidden.len() + 2);
        widths.push(self.obs_dim);
        widths.extend(&self.hidden);
        widths.push(self.n_actions);
        widths
    }

    /// Number of layers with weights (`hidden.len() + 1`).
    pub fn layers(&self) -> usize {
        self.hidden.len() + 1
    }

    /// Number of trainable parameters (weights and biases); saturates at `usize::MAX` for
    /// widths too large to count, which [`MlpSpec::checked_params`] reports instead.
    pub fn params(&self) -> usize {
        self.checked_params().unwrap_or(usize::MAX)
    }

    /// Number of parameters, or `None` when it does not fit in a `usize` (only for absurd
    /// widths, e.g. from a corrupted card).
    pub fn checked_params(&self) -> Option<usize> {
        self.widths().windows(2).try_fold(0usize, |sum, pair| {
            let layer = pair[0].checked_mul(pair[1])?.checked_add(pair[1])?;
            sum.checked_add(layer)
        })
    }
}

/// The contents of `model.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModelCard {
    /// Always [`MODEL_FORMAT`].
    pub format: String,
    /// `teacher` or `student`.
    pub role: String,
    /// The environment the policy acts in; [`retort_envs::make`] builds it.
    pub env: EnvSpec,
    /// The network's shape.
    pub mlp: MlpSpec,
    /// Activation between layers (always [`ACTIVATION`]).
    pub activation: String,
    /// Number of parameters, as written by the trainer.
    pub params: usize,
}

impl ModelCard {
    /// A card for a policy of shape `mlp` acting in `env`, in the current format.
    pub fn new(role: &str, env: EnvSpec, mlp: MlpSpec) -> Self {
        ModelCard {
            format: MODEL_FORMAT.into(),
            role: role.into(),
            env,
            params: mlp.params(),
            mlp,
            activation: ACTIVATION.into(),
        }
    }

    /// Why this card cannot describe a network the runtime can run, if it cannot.
    ///
    /// Checks the format, the activation, that every width is positive and that `params`
    /// agrees with the architecture (the trainer always writes it so; a mismatch means the
    /// card was edited by hand and cannot be trusted).
    pub fn problem(&self) -> Option<String> {
        if self.format != MODEL_FORMAT {
            return Some(format!(
                "format `{}`, expected `{MODEL_FORMAT}`",
                self.format
            ));
        }
        if self.activation != ACTIVATION {
            return Some(format!(
                "activation `{}`, but this runtime only runs `{ACTIVATION}`",
                self.activation
            ));
        }
        if let Some(problem) = width_problem(&self.mlp) {
            return Some(problem);
        }
        match retort_envs::make(&self.env) {
            Err(e) => return Some(format!("its environment cannot be made: {e}")),
            Ok(env)
                if (env.obs_dim(), env.n_actions()) != (self.mlp.obs_dim, self.mlp.n_actions) =>
            {
                return Some(format!(
                    "the network maps {} inputs to {} actions, but {} has {} observations and \
                     {} actions",
                    self.mlp.obs_dim,
                    self.mlp.n_actions,
                    self.env.id,
                    env.obs_dim(),
                    env.n_actions()
                ))
            }
            Ok(_) => {}
        }
        match self.mlp.checked_params() {
            Some(n) if n == self.params => None,
            Some(n) => Some(format!(
                "`params` is {}, but the architecture {:?} has {n} parameters",
                self.params, self.mlp
            )),
            None => Some(format!(
                "the architecture {:?} has too many parameters to count",
                self.mlp
            )),
        }
    }
}

/// Why `spec` has no runnable layers, if it has none.
pub(crate) fn width_problem(spec: &MlpSpec) -> Option<String> {
    if spec.obs_dim == 0 || spec.n_actions == 0 || spec.hidden.contains(&0) {
        Some(format!("layer widths must all be positive, got {spec:?}"))
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn card(hidden: Vec<usize>) -> ModelCard {
        let mlp = MlpSpec {
            obs_dim: 4,
            n_actions: 2,
            hidden,
        };
        ModelCard {
            format: MODEL_FORMAT.into(),
            role: "student".into(),
            env: EnvSpec::new("CartPole-v1"),
            params: mlp.checked_params().unwrap_or(0),
            mlp,
            activation: ACTIVATION.into(),
        }
    }

    #[test]
    fn parameter_counts_match_the_trainer() {
        // The same three counts retort-core's own tests pin.
        assert_eq!(card(vec![256, 256]).mlp.checked_params(), Some(67_586));
        assert_eq!(card(vec![16]).mlp.checked_params(), Some(114));
        assert_eq!(card(vec![]).mlp.checked_params(), Some(10));
        let huge = MlpSpec {
            obs_dim: usize::MAX,
            n_actions: 2,
            hidden: vec![usize::MAX],
        };
        assert_eq!(huge.checked_params(), None);
    }

    #[test]
    fn a_sound_card_has_no_problem_and_each_defect_is_named() {
        assert_eq!(card(vec![8]).problem(), None);
        let mut c = card(vec![8]);
        c.format = "retort-mlp/2".into();
        assert!(c.problem().is_some_and(|p| p.contains("retort-mlp/2")));
        let mut c = card(vec![8]);
        c.activation = "tanh".into();
        assert!(c.problem().is_some_and(|p| p.contains("tanh")));
        let mut c = card(vec![8, 0]);
        c.params = 0;
        assert!(c.problem().is_some_and(|p| p.contains("positive")));
        let mut c = card(vec![8]);
        c.params += 1;
        assert!(c.problem().is_some_and(|p| p.contains("59")));
    }
}
