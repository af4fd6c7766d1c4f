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

/// A multi-layer perceptron ready to act: ReLU between layers, none after the last, greedy
/// action = the first of the highest scores.
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
    /// Two ping-pong buffers of the widest hidden layer, then `n_actions` scores (for `act`).
    scratch: RefCell<Vec<f32>>,
    widest_hidden: usize,
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
    /// and the right parameter count. The weights file must hold exactly the tensors
    /// `layers.{i}.weight` (F32, `[out, in]`) and `layers.{i}.bias` (F32, `[out]`) that the
    /// card's architecture needs. Anything else is refused with a [`RuntimeError`] naming the
    /// file and, where one is at fault, the tensor; nothing is half-loaded and nothing panics.
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

        let shapes = tensor_shapes(&card.mlp);
        // Sorted, so that the message names the same tensor every time.
        let mut names = tensors.names();
        names.sort_unstable();
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

    /// Builds a network from its weights: `layers[i] = (weight, bias)`, the weight row-major
    /// `[out][in]` (PyTorch's `nn.Linear` layout) and the bias `[out]`, input layer first.
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
        let widths = spec.widths();
        let mut params = Vec::new();
        for (i, ((weight, bias), pair)) in layers.iter().zip(widths.windows(2)).enumerate() {
            let (inputs, outputs) = (pair[0], pair[1]);
            // The slice exists, so its length is known to fit; a product that overflows cannot
            // equal it.
            if inputs.checked_mul(outputs) != Some(weight.len()) {
                return Err(RuntimeError::Parts(format!(
                    "layer {i}'s weight has {} values, but [{outputs}, {inputs}] needs {}",
                    weight.len(),
                    inputs as u128 * outputs as u128
                )));
            }
            if bias.len() != outputs {
                return Err(RuntimeError::Parts(format!(
                    "layer {i}'s bias has {} values, but [{outputs}] needs {outputs}",
                    bias.len()
                )));
            }
            params.extend_from_slice(weight);
            params.extend_from_slice(bias);
        }
        Ok(Mlp::assemble(spec, &params))
    }

    /// Lays `params` (every layer's row-major weight then bias, input layer first, already
    /// checked to fit `spec`) out in blocks and reserves the scratch space.
    fn assemble(spec: MlpSpec, params: &[f32]) -> Mlp {
        let widths = spec.widths();
        let mut layers = Vec::with_capacity(widths.len() - 1);
        let mut blocked = Vec::new();
        let mut read = 0;
        for pair in widths.windows(2) {
            let layer = Layer {
                inputs: pair[0],
                outputs: pair[1],
                offset: blocked.len(),
            };
            let (weight_len, bias_len) = layer.lengths();
            let weight = &params[read..read + layer.inputs * layer.outputs];
            let bias = &params[read + weight.len()..][..layer.outputs];
            read += weight.len() + bias.len();
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
        debug_assert_eq!(read, params.len());
        let widest_hidden = spec.hidden.iter().copied().max().unwrap_or(0);
        let scratch = RefCell::new(vec![0.0; 2 * widest_hidden + spec.n_actions]);
        Mlp {
            spec,
            layers,
            blocked,
            params: params.len(),
            scratch,
            widest_hidden,
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
        let hidden = &mut scratch[..2 * self.widest_hidden];
        self.forward(obs, hidden, out);
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
        let (hidden, scores) = scratch.split_at_mut(2 * self.widest_hidden);
        self.forward(obs, hidden, scores);
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
    /// into `out`.
    fn forward(&self, obs: &[f32], hidden: &mut [f32], out: &mut [f32]) {
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
                dense::<false>(weights, bias, input, out);
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

/// Name and shape of every tensor `spec` needs, input layer first, weight before bias.
fn tensor_shapes(spec: &MlpSpec) -> Vec<(String, Vec<usize>)> {
    let widths = spec.widths();
    widths
        .windows(2)
        .enumerate()
        .flat_map(|(i, pair)| {
            [
                (format!("layers.{i}.weight"), vec![pair[1], pair[0]]),
                (format!("layers.{i}.bias"), vec![pair[1]]),
            ]
        })
        .collect()
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
        let spec = MlpSpec {
            obs_dim: 3,
            n_actions: 2,
            hidden: vec![5],
        };
        let shapes = tensor_shapes(&spec);
        let expected = [
            ("layers.0.weight", vec![5, 3]),
            ("layers.0.bias", vec![5]),
            ("layers.1.weight", vec![2, 5]),
            ("layers.1.bias", vec![2]),
        ];
        assert_eq!(shapes.len(), expected.len());
        for ((name, shape), (want_name, want_shape)) in shapes.iter().zip(&expected) {
            assert_eq!(name, want_name);
            assert_eq!(shape, want_shape);
        }
    }

    #[test]
    fn three_layers_use_both_scratch_halves() {
        // Identity-like layers make the expected scores easy to state: each hidden layer
        // copies (then ReLUs) its input, the last sums it.
        let spec = MlpSpec {
            obs_dim: 2,
            n_actions: 1,
            hidden: vec![2, 2, 2],
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
