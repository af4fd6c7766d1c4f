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

/// The shape of an MLP: input size, hidden widths, output size, and whether the output is a
/// dueling head. ReLU after every hidden layer, none after the output.
///
/// # Tensors
///
/// The weights of a plain MLP are `layers.{i}.weight` (`[out, in]`) and `layers.{i}.bias`
/// (`[out]`) for `i` in `0..=hidden.len()`, the last one being the output layer — PyTorch's
/// `nn.Linear` layout. A dueling network ([`MlpSpec::dueling`]) shares the hidden layers
/// `layers.{i}` for `i` in `0..hidden.len()` (the trunk) and replaces the output layer by two
/// streams that read the last hidden layer (the observation when there is none):
/// `value.weight` `[1, last]` and `value.bias` `[1]` give V(s), `advantage.weight`
/// `[n_actions, last]` and `advantage.bias` `[n_actions]` give A(s, ·), and the scores are
/// Q(s, a) = V(s) + A(s, a) − mean over actions of A(s, ·). [`MlpSpec::tensors`] lists the
/// names and shapes in that order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MlpSpec {
    /// Length of an observation.
    pub obs_dim: usize,
    /// Number of discrete actions (outputs).
    pub n_actions: usize,
    /// Hidden layer widths, input side first; empty for a linear policy.
    pub hidden: Vec<usize>,
    /// A dueling head (value and mean-centred advantage streams) instead of one output layer.
    /// Absent from `model.json` when false, so cards written before the field existed read as
    /// plain MLPs, and plain cards are written as they always were.
    #[serde(default, skip_serializing_if = "is_false")]
    pub dueling: bool,
}

/// For serde's `skip_serializing_if`, which passes a reference.
fn is_false(value: &bool) -> bool {
    !*value
}

impl MlpSpec {
    /// Sizes of every layer, input first and `n_actions` last; for a dueling network the last
    /// entry is the advantage stream's width (see [`MlpSpec::layer_shapes`] for every layer).
    pub fn widths(&self) -> Vec<usize> {
        let mut widths = Vec::with_capacity(self.hidden.len() + 2);
        widths.push(self.obs_dim);
        widths.extend(&self.hidden);
        widths.push(self.n_actions);
        widths
    }

    /// `(inputs, outputs)` of every layer with weights, in the order of
    /// [`MlpSpec::tensors`]: the hidden layers, then either the output layer or, for a
    /// dueling network, the value stream (one output) and the advantage stream.
    pub fn layer_shapes(&self) -> Vec<(usize, usize)> {
        let widths = self.widths();
        let mut shapes: Vec<(usize, usize)> = widths.windows(2).map(|p| (p[0], p[1])).collect();
        if self.dueling {
            let (last, n_actions) = shapes.pop().expect("widths has at least two entries");
            shapes.extend([(last, 1), (last, n_actions)]);
        }
        shapes
    }

    /// Name and shape of every tensor, in the order of [`MlpSpec::layer_shapes`], weight
    /// before bias (see the type's documentation, "Tensors").
    pub fn tensors(&self) -> Vec<(String, Vec<usize>)> {
        let shapes = self.layer_shapes();
        let hidden = self.hidden.len();
        shapes
            .iter()
            .enumerate()
            .flat_map(|(i, &(inputs, outputs))| {
                let prefix = match (self.dueling, i.checked_sub(hidden)) {
                    (true, Some(0)) => "value".to_string(),
                    (true, Some(_)) => "advantage".to_string(),
                    _ => format!("layers.{i}"),
                };
                [
                    (format!("{prefix}.weight"), vec![outputs, inputs]),
                    (format!("{prefix}.bias"), vec![outputs]),
                ]
            })
            .collect()
    }

    /// Number of layers with weights: `hidden.len() + 1`, or `+ 2` for a dueling network.
    pub fn layers(&self) -> usize {
        self.hidden.len() + 1 + usize::from(self.dueling)
    }

    /// Number of trainable parameters (weights and biases); saturates at `usize::MAX` for
    /// widths too large to count, which [`MlpSpec::checked_params`] reports instead.
    pub fn params(&self) -> usize {
        self.checked_params().unwrap_or(usize::MAX)
    }

    /// Number of parameters, or `None` when it does not fit in a `usize` (only for absurd
    /// widths, e.g. from a corrupted card).
    pub fn checked_params(&self) -> Option<usize> {
        self.layer_shapes()
            .into_iter()
            .try_fold(0usize, |sum, (inputs, outputs)| {
                let layer = inputs.checked_mul(outputs)?.checked_add(outputs)?;
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
            dueling: false,
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
            dueling: false,
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

    #[test]
    fn a_dueling_head_adds_a_value_unit_and_names_its_streams() {
        let mut c = card(vec![8]);
        c.mlp.dueling = true;
        // Trunk 4·8 + 8, value 8 + 1, advantage 8·2 + 2: the plain count plus 8 + 1.
        assert_eq!(c.mlp.checked_params(), Some(40 + 9 + 18));
        assert_eq!(c.mlp.layers(), 3);
        assert_eq!(c.mlp.layer_shapes(), [(4, 8), (8, 1), (8, 2)]);
        let names: Vec<String> = c.mlp.tensors().into_iter().map(|(n, _)| n).collect();
        assert_eq!(
            names,
            [
                "layers.0.weight",
                "layers.0.bias",
                "value.weight",
                "value.bias",
                "advantage.weight",
                "advantage.bias"
            ]
        );
        // A card whose `params` was counted without the head is refused.
        c.params = 58;
        assert!(c.problem().is_some_and(|p| p.contains("67")));
        // Without hidden layers both streams read the observation.
        let mut linear = card(vec![]).mlp;
        linear.dueling = true;
        assert_eq!(linear.layer_shapes(), [(4, 1), (4, 2)]);
        assert_eq!(linear.checked_params(), Some(5 + 10));
    }

    #[test]
    fn cards_without_the_dueling_field_read_as_plain_and_plain_cards_omit_it() {
        let old = r#"{"format": "retort-mlp/1", "role": "teacher",
                      "env": {"id": "CartPole-v1"},
                      "mlp": {"obs_dim": 4, "n_actions": 2, "hidden": [8]},
                      "activation": "relu", "params": 58}"#;
        let parsed: ModelCard = serde_json::from_str(old).expect("an old card parses");
        assert!(!parsed.mlp.dueling);
        assert_eq!(parsed.problem(), None);
        let plain = serde_json::to_value(card(vec![8])).expect("a card serialises");
        assert_eq!(plain["mlp"].get("dueling"), None);
        let mut dueling = card(vec![8]);
        dueling.mlp.dueling = true;
        let json = serde_json::to_value(&dueling).expect("a card serialises");
        assert_eq!(json["mlp"]["dueling"], true);
    }
}
