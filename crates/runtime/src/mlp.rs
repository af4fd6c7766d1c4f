//! The network itself: checked loading, a flat weight layout and an allocation-free forward
//! pass.

use crate::card::{width_problem, MlpSpec, ModelCard};
use crate::RuntimeError;
use safetensors::{Dtype, SafeTensors};
use std::cell::RefCell;
use std::fmt;
use std::path::Path;

/// Rows (output units) computed together: one accumulator each, side by side in memory, so
/// that the compiler keeps them in SIMD registers (two SSE or one AVX register of `f32`).
const LANES: usize = 8;

/// Where one layer's parameters sit in the network's flat, blocked buffer (see [`Mlp`]).
#[derive(Clone, Copy, Debug)]
struct Layer {
    inputs: usize,
    outputs: usize,
    /// Start of the weights: `blocks() · inputs · LANES` values; the bias, padded to
    /// `blocks() · LANES`, follows them.
    offset: usize,
}

impl Layer {
    /// Groups of `LANES` rows, the last one padded with zero rows.
    fn blocks(&self) -> usize {
        self.outputs.div_ceil(LANES)
    }

    /// Length of the weights and of the padded bias in the flat buffer.
    fn lengths(&self) -> (usize, usize) {
        let padded = self.blocks() * LANES;
        (padded * self.inputs, padded)
    }
}

/// A multi-layer perceptron ready to act: ReLU after every hidden layer, none after the
/// output, greedy action = the first of the highest scores. The output is one layer, or a
/// dueling head (see [`MlpSpec`]): Q(s, a) = V(s) + A(s, a) − mean over actions of A(s, ·).
///
/// # Layout and numerics
///
/// A unit's pre-activation is the dot product of its weight row with the input, accumulated in
/// `f32` from the first input to the last, plus the bias — the textbook order. To make that
/// fast, the rows of a layer (`layers.{i}.weight` is `[out][in]`, row-major) are taken eight
/// at a time and stored input-major within each group: for each input, the eight rows' weights
/// sit side by side, so eight independent accumulators advance together in SIMD registers
/// instead of one long chain of dependent additions. The grouping changes no row's order of
/// summation, only how many rows run at once; the last group is padded with zero rows, whose
/// results are never read. All layers, weights then (padded) bias, share one buffer.
///
/// A dueling head is stored as one layer of `n_actions + 1` rows — the value row first, then
/// the advantage rows — so that both streams run in the same blocked loop. Its outputs are
/// then combined in libtorch's order of operations, each score being `(v + a) − mean` with
/// `mean` the advantages' sum divided by `n_actions`; the sum runs in action order, which is
/// libtorch's for up to three actions (beyond, it may pair terms otherwise and differ in the
/// last bits, like the layers themselves).
///
/// libtorch sums in other orders (blocked matrix products, a different kernel for one row
/// than for a batch), so scores can differ from `retort_core::MlpPolicy`'s in their last bits;
/// the chosen action is what the tests compare, and it agrees except where the top two scores
/// are within rounding of each other.
///
/// # Scratch space and threads
///
/// Hidden activations go into a buffer allocated once, when the network is built, and kept
/// inside the `Mlp` behind a [`RefCell`]: [`Mlp::scores`] and [`Mlp::act`] take `&self` and
/// allocate nothing. The price is that an `Mlp` is [`Send`] but not [`Sync`]: to act from
/// several threads, give each its own [`Clone`].
#[derive(Clone)]
pub struct Mlp {
    spec: MlpSpec,
    layers: Vec<Layer>,
    /// Every layer's blocked weights and padded bias, input layer first.
    blocked: Vec<f32>,
    /// Number of real parameters (the padding excluded).
    params: usize,
    /// Two ping-pong buffers of the widest hidden layer, then the dueling head's
    /// `n_actions + 1` outputs (none for a plain network), then `n_actions` scores (for `act`).
    scratch: RefCell<Vec<f32>>,
    widest_hidden: usize,
    /// Outputs of the last layer when they are not yet the scores: `n_actions + 1` for a
    /// dueling head, 0 otherwise.
    head_len: usize,
}

impl fmt::Debug for Mlp {
    // The weights would drown everything else; the shape says what the network is.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Mlp")
            .field("spec", &self.spec)
            .field("params", &self.params)
            .finish_non_exhaustive()
    }
}

/// How to fix a path that is not a checkpoint, shared by the messages that need it.
const EXPECTED: &str = "pass a folder holding model.json and model.safetensors \
                        (a run's teacher/ or students/<name>/)";

impl Mlp {
    /// Reads a checkpoint directory (`model.json` + `model.safetensors`).
    ///
    /// See [`Mlp::load_with_card`] for what is checked.
    pub fn load(dir: &Path) -> Result<Mlp, RuntimeError> {
        Self::load_with_card(dir).map(|(_, mlp)| mlp)
    }

    /// Reads a checkpoint directory and returns its card too (e.g. to build the environment
    /// with [`retort_envs::make`]).
    ///
    /// The card must have format [`crate::MODEL_FORMAT`], activation `relu`, positive widths
    /// and the right parameter count. The weights file must hold exactly the F32 tensors that
    /// the card's architecture needs ([`MlpSpec::tensors`]: `layers.{i}.weight` `[out, in]`
    /// and `layers.{i}.bias` `[out]`, plus `value.*` and `advantage.*` for a dueling head).
    /// Anything else is refused with a [`RuntimeError`] naming the file and, where one is at
    /// fault, the tensor — a dueling card beside a plain network's weights, or the reverse,
    /// with a message saying so; nothing is half-loaded and nothing panics.
    pub fn load_with_card(dir: &Path) -> Result<(ModelCard, Mlp), RuntimeError> {
        if !dir.is_dir() {
            let what = if dir.exists() {
                "not a directory"
            } else {
                "no such directory"
            };
            return Err(RuntimeError::checkpoint(dir, format!("{what}; {EXPECTED}")));
        }
        let card_path = dir.join("model.json");
        if !card_path.is_file() {
            let message = format!("no model.json here; {EXPECTED}");
            return Err(RuntimeError::checkpoint(dir, message));
        }
        let text =
            std::fs::read_to_string(&card_path).map_err(|e| RuntimeError::io(&card_path, e))?;
        let card: ModelCard = serde_json::from_str(&text).map_err(|e| {
            RuntimeError::checkpoint(&card_path, format!("not a retort model card: {e}"))
        })?;
        if let Some(problem) = card.problem() {
            return Err(RuntimeError::checkpoint(&card_path, problem));
        }

        let weights_path = dir.join("model.safetensors");
        if !weights_path.is_file() {
            let message = format!("no model.safetensors beside model.json; {EXPECTED}");
            return Err(RuntimeError::checkpoint(dir, message));
        }
        let bytes = std::fs::read(&weights_path).map_err(|e| RuntimeError::io(&weights_path, e))?;
        let fail = |message: String| RuntimeError::checkpoint(&weights_path, message);
        let tensors = SafeTensors::deserialize(&bytes)
            .map_err(|e| fail(format!("not a readable safetensors file: {e}")))?;

        let shapes = card.mlp.tensors();
        // Sorted, so that the message names the same tensor every time.
        let mut names = tensors.names();
        names.sort_unstable();
        if let Some(problem) = head_mismatch(&card.mlp, &names) {
            return Err(fail(problem));
        }
        if let Some(name) = names.iter().find(|n| !shapes.iter().any(|(s, _)| s == *n)) {
            return Err(fail(format!(
                "unexpected tensor `{name}`: model.json describes {:?}",
                card.mlp
            )));
        }
        // Every shape below was found in the file, whose size bounds the allocation: a card
        // claiming huge widths is refused before anything of its size is reserved.
        let mut params = Vec::new();
        for (name, shape) in &shapes {
            let view = tensors.tensor(name).map_err(|_| {
                fail(format!(
                    "tensor `{name}` is missing: model.json describes {:?}",
                    card.mlp
                ))
            })?;
            if view.dtype() != Dtype::F32 || view.shape() != shape.as_slice() {
                return Err(fail(format!(
                    "tensor `{name}` is {} {:?}, but model.json's architecture needs F32 {:?}",
                    view.dtype(),
                    view.shape(),
                    shape
                )));
            }
            let data = view.data();
            let count: usize = shape.iter().product();
            // safetensors checks each tensor's byte range against its shape; this guards the
            // decoding below against a future relaxation of that check.
            if data.len() != count * 4 {
                return Err(fail(format!(
                    "tensor `{name}` holds {} bytes, but F32 {shape:?} needs {}",
                    data.len(),
                    count * 4
                )));
            }
            params.extend(
                data.chunks_exact(4)
                    .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])),
            );
        }
        let mlp = Mlp::assemble(card.mlp.clone(), &params);
        Ok((card, mlp))
    }

    /// Builds a network from its weights: `layers[i] = (weight, bias)` in the order of
    /// [`MlpSpec::layer_shapes`] (input layer first; for a dueling head, the value stream then
    /// the advantage stream last), each weight row-major `[out][in]` (PyTorch's `nn.Linear`
    /// layout) and each bias `[out]`.
    ///
    /// Refuses widths of zero, a wrong number of layers and slices of the wrong length.
    pub fn from_parts(spec: MlpSpec, layers: &[(&[f32], &[f32])]) -> Result<Mlp, RuntimeError> {
        if let Some(problem) = width_problem(&spec) {
            return Err(RuntimeError::Parts(problem));
        }
        if layers.len() != spec.layers() {
            return Err(RuntimeError::Parts(format!(
                "{} layers given, but {spec:?} has {}",
                layers.len(),
                spec.layers()
            )));
        }
        let names = spec.tensors();
        let mut params = Vec::new();
        for (i, ((weight, bias), (inputs, outputs))) in
            layers.iter().zip(spec.layer_shapes()).enumerate()
        {
            let (weight_name, bias_name) = (&names[2 * i].0, &names[2 * i + 1].0);
            // The slice exists, so its length is known to fit; a product that overflows cannot
            // equal it.
            if inputs.checked_mul(outputs) != Some(weight.len()) {
                return Err(RuntimeError::Parts(format!(
                    "layer {i}'s weight (`{weight_name}`) has {} values, but [{outputs}, \
                     {inputs}] needs {}",
                    weight.len(),
                    inputs as u128 * outputs as u128
                )));
            }
            if bias.len() != outputs {
                return Err(RuntimeError::Parts(format!(
                    "layer {i}'s bias (`{bias_name}`) has {} values, but [{outputs}] needs \
                     {outputs}",
                    bias.len()
                )));
            }
            params.extend_from_slice(weight);
            params.extend_from_slice(bias);
        }
        Ok(Mlp::assemble(spec, &params))
    }

    /// Lays `params` (every tensor of [`MlpSpec::tensors`], in its order, already checked to
    /// fit `spec`) out in blocks and reserves the scratch space.
    fn assemble(spec: MlpSpec, params: &[f32]) -> Mlp {
        let shapes = spec.layer_shapes();
        // The layers the forward pass runs, as (inputs, outputs, weight, bias); a dueling
        // head's two streams become one layer, value row first.
        let mut dense_layers: Vec<(usize, usize, Vec<f32>, Vec<f32>)> = Vec::new();
        let mut read = 0;
        for &(inputs, outputs) in &shapes {
            let weight = &params[read..read + inputs * outputs];
            let bias = &params[read + weight.len()..][..outputs];
            read += weight.len() + bias.len();
            dense_layers.push((inputs, outputs, weight.to_vec(), bias.to_vec()));
        }
        debug_assert_eq!(read, params.len());
        if spec.dueling {
            let (_, n_actions, advantage, advantage_bias) = dense_layers
                .pop()
                .expect("a dueling spec has an advantage layer");
            let head = dense_layers.last_mut().expect("and a value layer");
            head.1 += n_actions;
            head.2.extend(advantage);
            head.3.extend(advantage_bias);
        }

        let mut layers = Vec::with_capacity(dense_layers.len());
        let mut blocked = Vec::new();
        for (inputs, outputs, weight, bias) in &dense_layers {
            let layer = Layer {
                inputs: *inputs,
                outputs: *outputs,
                offset: blocked.len(),
            };
            let (weight_len, bias_len) = layer.lengths();
            blocked.resize(layer.offset + weight_len + bias_len, 0.0);
            let (dst_weight, dst_bias) = blocked[layer.offset..].split_at_mut(weight_len);
            // Row j, input i goes to block j / LANES, position i · LANES + j % LANES.
            for (j, row) in weight.chunks_exact(layer.inputs).enumerate() {
                let block = (j / LANES) * layer.inputs * LANES;
                for (i, &w) in row.iter().enumerate() {
                    dst_weight[block + i * LANES + j % LANES] = w;
                }
            }
            dst_bias[..layer.outputs].copy_from_slice(bias);
            layers.push(layer);
        }
        let widest_hidden = spec.hidden.iter().copied().max().unwrap_or(0);
        let head_len = if spec.dueling { spec.n_actions + 1 } else { 0 };
        let scratch = RefCell::new(vec![0.0; 2 * widest_hidden + head_len + spec.n_actions]);
        Mlp {
            spec,
            layers,
            blocked,
            params: params.len(),
            scratch,
            widest_hidden,
            head_len,
        }
    }

    /// The network's shape.
    pub fn spec(&self) -> &MlpSpec {
        &self.spec
    }

    /// Length of an observation.
    pub fn obs_dim(&self) -> usize {
        self.spec.obs_dim
    }

    /// Number of actions (scores).
    pub fn n_actions(&self) -> usize {
        self.spec.n_actions
    }

    /// Number of parameters (weights and biases).
    pub fn params(&self) -> usize {
        self.params
    }

    /// Writes the score of every action for one observation into `out`. Allocates nothing.
    ///
    /// # Panics
    ///
    /// If `obs.len() != obs_dim()` or `out.len() != n_actions()`: acting has no error channel,
    /// and scoring a truncated observation would give a wrong action without a trace.
    pub fn scores(&self, obs: &[f32], out: &mut [f32]) {
        self.check_obs(obs);
        assert_eq!(
            out.len(),
            self.spec.n_actions,
            "scores buffer has {} slots, the network has {} actions",
            out.len(),
            self.spec.n_actions
        );
        let mut scratch = self.scratch.borrow_mut();
        let (hidden, head) = scratch.split_at_mut(2 * self.widest_hidden);
        self.forward(obs, hidden, &mut head[..self.head_len], out);
    }

    /// The greedy action for one observation: the index of the highest score, the first one on
    /// ties (see [`argmax`]). Allocates nothing.
    ///
    /// # Panics
    ///
    /// If `obs.len() != obs_dim()`.
    pub fn act(&self, obs: &[f32]) -> usize {
        self.check_obs(obs);
        let mut scratch = self.scratch.borrow_mut();
        let (hidden, rest) = scratch.split_at_mut(2 * self.widest_hidden);
        let (head, scores) = rest.split_at_mut(self.head_len);
        self.forward(obs, hidden, head, scores);
        argmax(scores)
    }

    /// Greedy actions for `actions.len()` observations stored row after row in `observations`
    /// (the convention of `retort_core::GreedyPolicy::act`). Allocates nothing.
    ///
    /// # Panics
    ///
    /// If `observations.len() != actions.len() * obs_dim()`.
    pub fn act_batch(&self, observations: &[f32], actions: &mut [usize]) {
        let d = self.spec.obs_dim;
        assert_eq!(
            Some(observations.len()),
            actions.len().checked_mul(d),
            "{} observation values for {} actions of obs_dim {d}",
            observations.len(),
            actions.len()
        );
        for (obs, action) in observations.chunks_exact(d).zip(actions) {
            *action = self.act(obs);
        }
    }

    fn check_obs(&self, obs: &[f32]) {
        assert_eq!(
            obs.len(),
            self.spec.obs_dim,
            "observation has {} values, the network expects {}",
            obs.len(),
            self.spec.obs_dim
        );
    }

    /// Runs the layers: layer `k` writes into the first half of `hidden` when `k` is even and
    /// the second when odd, so each reads the buffer its predecessor wrote; the last writes
    /// into `out`, or, for a dueling network, into `head` (value, then advantages), which is
    /// then combined into `out`.
    fn forward(&self, obs: &[f32], hidden: &mut [f32], head: &mut [f32], out: &mut [f32]) {
        let (even, odd) = hidden.split_at_mut(self.widest_hidden);
        let last = self.layers.len() - 1;
        for (k, layer) in self.layers.iter().enumerate() {
            let (weight_len, bias_len) = layer.lengths();
            let weights = &self.blocked[layer.offset..][..weight_len];
            let bias = &self.blocked[layer.offset + weight_len..][..bias_len];
            if k == last {
                let input: &[f32] = match k {
                    0 => obs,
                    _ if k % 2 == 1 => &even[..layer.inputs],
                    _ => &odd[..layer.inputs],
                };
                let output = if self.spec.dueling {
                    &mut *head
                } else {
                    &mut *out
                };
                dense::<false>(weights, bias, input, output);
            } else if k % 2 == 0 {
                let input = if k == 0 { obs } else { &odd[..layer.inputs] };
                dense::<true>(weights, bias, input, &mut even[..layer.outputs]);
            } else {
                dense::<true>(
                    weights,
                    bias,
                    &even[..layer.inputs],
                    &mut odd[..layer.outputs],
                );
            }
        }
        if self.spec.dueling {
            combine_dueling(head, out);
        }
    }
}

/// Q(s, a) = V(s) + A(s, a) − mean over actions of A(s, ·), from `head` = `[V, A(s, 0), …]`,
/// as `(v + a) − mean`, the mean being the advantages summed in action order, then divided by
/// their number (see [`Mlp`], "Layout and numerics").
fn combine_dueling(head: &[f32], out: &mut [f32]) {
    let (value, advantages) = (head[0], &head[1..]);
    let mean = advantages.iter().sum::<f32>() / advantages.len() as f32;
    for (q, &a) in out.iter_mut().zip(advantages) {
        *q = (value + a) - mean;
    }
}

/// One fully connected layer: `output[j] = relu?(Σ_i W[j][i] · input[i] + bias[j])`, with `W`
/// in the blocked layout described at [`Mlp`] and `bias` padded to whole blocks.
///
/// Each row's sum runs in input order in its own `f32` accumulator — a plain dot product;
/// the eight accumulators of a block are independent, which is what lets them share a SIMD
/// register. Padding rows compute zeros that the `zip` with `output` never writes.
#[inline(always)]
fn dense<const RELU: bool>(weights: &[f32], bias: &[f32], input: &[f32], output: &mut [f32]) {
    let blocks = weights.chunks_exact(input.len() * LANES);
    for ((block, block_bias), out) in blocks
        .zip(bias.chunks_exact(LANES))
        .zip(output.chunks_mut(LANES))
    {
        let mut acc = [0.0f32; LANES];
        for (column, &x) in block.chunks_exact(LANES).zip(input) {
            for (a, &w) in acc.iter_mut().zip(column) {
                *a += w * x;
            }
        }
        for ((o, &dot), &b) in out.iter_mut().zip(&acc).zip(block_bias) {
            let z = dot + b;
            // `z < 0` rather than `max(0)`, so that a NaN stays NaN as in libtorch's relu.
            *o = if RELU && z < 0.0 { 0.0 } else { z };
        }
    }
}

/// Index of the largest value, the first one on ties — the rule used everywhere in retort.
///
/// Every comparison with a NaN is false, so a NaN is never chosen over an earlier value and
/// never replaced once chosen (which only happens in first place); an empty slice gives 0.
/// This is the rule of retort's other argmax (`retort-distill`), kept bit for bit.
pub fn argmax(values: &[f32]) -> usize {
    let mut best = 0;
    for (i, &v) in values.iter().enumerate().skip(1) {
        if v > values[best] {
            best = i;
        }
    }
    best
}

/// Why the tensors `names` of a weights file cannot be the head `spec` describes, when the
/// card says dueling and the file holds a plain output layer or the reverse: a clearer
/// message than the first unexpected tensor's name.
fn head_mismatch(spec: &MlpSpec, names: &[&str]) -> Option<String> {
    let file_dueling = names
        .iter()
        .any(|n| n.starts_with("value.") || n.starts_with("advantage."));
    let output_layer = format!("layers.{}.weight", spec.hidden.len());
    let file_plain = names.contains(&output_layer.as_str());
    if spec.dueling && !file_dueling && file_plain {
        Some(format!(
            "model.json says the network has a dueling head (`value.*` and `advantage.*` \
             tensors), but this file holds a plain output layer (`{output_layer}`) and no \
             dueling head; the card and the weights belong to different networks"
        ))
    } else if !spec.dueling && file_dueling {
        Some(
            "this file holds a dueling head (`value.*` and `advantage.*` tensors), but \
             model.json describes a plain MLP (no `\"dueling\": true` in its `mlp`); the card \
             and the weights belong to different networks"
                .into(),
        )
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn argmax_takes_the_first_of_equal_values() {
        assert_eq!(argmax(&[1.0, 3.0, 3.0]), 1);
        assert_eq!(argmax(&[-1.0]), 0);
        assert_eq!(argmax(&[]), 0);
        assert_eq!(argmax(&[0.0, f32::NAN, 1.0, f32::NAN]), 2);
        assert_eq!(argmax(&[f32::NAN, 1.0, 2.0]), 0);
    }

    #[test]
    fn tensor_names_follow_the_pytorch_layout() {
        let mut spec = MlpSpec {
            obs_dim: 3,
            n_actions: 2,
            hidden: vec![5],
            dueling: false,
        };
        let expected = [
            ("layers.0.weight", vec![5, 3]),
            ("layers.0.bias", vec![5]),
            ("layers.1.weight", vec![2, 5]),
            ("layers.1.bias", vec![2]),
        ];
        let named = |spec: &MlpSpec| -> Vec<(String, Vec<usize>)> { spec.tensors() };
        let want = |list: &[(&str, Vec<usize>)]| -> Vec<(String, Vec<usize>)> {
            list.iter()
                .map(|(n, s)| (n.to_string(), s.clone()))
                .collect()
        };
        assert_eq!(named(&spec), want(&expected));
        spec.dueling = true;
        let expected = [
            ("layers.0.weight", vec![5, 3]),
            ("layers.0.bias", vec![5]),
            ("value.weight", vec![1, 5]),
            ("value.bias", vec![1]),
            ("advantage.weight", vec![2, 5]),
            ("advantage.bias", vec![2]),
        ];
        assert_eq!(named(&spec), want(&expected));
    }

    #[test]
    fn a_hand_built_dueling_head_centres_the_advantages() {
        // The trunk copies the observation through a ReLU: obs [1, −4] → h = [1, 0].
        // V = 2·1 + 5·0 = 2, A = [1·1 + 7·0, 3·1 − 1·0] = [1, 3], mean A = 2,
        // Q = [2 + 1 − 2, 2 + 3 − 2] = [1, 3].
        let spec = MlpSpec {
            obs_dim: 2,
            n_actions: 2,
            hidden: vec![2],
            dueling: true,
        };
        let layers: [(&[f32], &[f32]); 3] = [
            (&[1.0, 0.0, 0.0, 1.0], &[0.0, 0.0]),
            (&[2.0, 5.0], &[0.0]),
            (&[1.0, 7.0, 3.0, -1.0], &[0.0, 0.0]),
        ];
        let mlp = Mlp::from_parts(spec, &layers).expect("the parts fit the spec");
        assert_eq!(mlp.params(), 6 + 3 + 6);
        let mut q = [0.0; 2];
        mlp.scores(&[1.0, -4.0], &mut q);
        assert_eq!(q, [1.0, 3.0]);
        assert_eq!(mlp.act(&[1.0, -4.0]), 1);

        // Three actions, biases only, no hidden layer: V = 0.5, A = [1, 2, 6], mean 3.
        let spec = MlpSpec {
            obs_dim: 1,
            n_actions: 3,
            hidden: vec![],
            dueling: true,
        };
        let layers: [(&[f32], &[f32]); 2] =
            [(&[0.0], &[0.5]), (&[0.0, 0.0, 0.0], &[1.0, 2.0, 6.0])];
        let mlp = Mlp::from_parts(spec, &layers).expect("the parts fit the spec");
        let mut q = [0.0; 3];
        mlp.scores(&[9.0], &mut q);
        assert_eq!(q, [-1.5, -0.5, 3.5]);
        let mut actions = [0; 2];
        mlp.act_batch(&[9.0, -9.0], &mut actions);
        assert_eq!(actions, [2, 2]);
    }

    #[test]
    fn a_dueling_spec_refuses_a_plain_network_s_parts() {
        let spec = MlpSpec {
            obs_dim: 2,
            n_actions: 2,
            hidden: vec![2],
            dueling: true,
        };
        let plain: [(&[f32], &[f32]); 2] = [(&[0.0; 4], &[0.0; 2]), (&[0.0; 4], &[0.0; 2])];
        let message = Mlp::from_parts(spec.clone(), &plain)
            .unwrap_err()
            .to_string();
        assert!(message.contains("2 layers given"), "{message}");
        let wrong_value: [(&[f32], &[f32]); 3] = [
            (&[0.0; 4], &[0.0; 2]),
            (&[0.0; 4], &[0.0; 2]),
            (&[0.0; 4], &[0.0; 2]),
        ];
        let message = Mlp::from_parts(spec, &wrong_value).unwrap_err().to_string();
        assert!(message.contains("`value.weight`"), "{message}");
    }

    #[test]
    fn three_layers_use_both_scratch_halves() {
        // Identity-like layers make the expected scores easy to state: each hidden layer
        // copies (then ReLUs) its input, the last sums it.
        let spec = MlpSpec {
            obs_dim: 2,
            n_actions: 1,
            hidden: vec![2, 2, 2],
            dueling: false,
        };
        let eye = [1.0, 0.0, 0.0, 1.0];
        let zero = [0.0, 0.0];
        let layers: [(&[f32], &[f32]); 4] = [
            (&eye, &zero),
            (&eye, &[1.0, 0.0]),
            (&eye, &zero),
            (&[1.0, 1.0], &[0.5]),
        ];
        let mlp = Mlp::from_parts(spec, &layers).expect("the parts fit the spec");
        let mut out = [0.0];
        mlp.scores(&[2.0, -3.0], &mut out);
        // relu(2)=2, relu(-3)=0 → +1 bias → 3, 0 → copied → 3 + 0 + 0.5.
        assert_eq!(out, [3.5]);
    }
}
