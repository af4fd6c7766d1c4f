//! A student's gradient step in plain Rust, for students whose parameters live on the CPU.
//!
//! libtorch spends microseconds of dispatch, allocation and autograd bookkeeping on each of
//! the thirty-odd operations of one distillation step (two index selections, the forward
//! pass, eight for the KL loss, their backward passes, zeroing the gradients), whatever the
//! tensors' size. For the students of this project — tens to a few thousand parameters,
//! minibatches of 64–256 states — that overhead is nearly the whole step: the arithmetic is
//! some tens of thousands of multiply-adds. [`CpuStep`] does the same step as plain loops
//! over buffers allocated once: it gathers the minibatch from the buffer's rows, runs the
//! forward pass, the loss and its gradient, and the backward pass, and leaves the gradients
//! for the fused Adam of `retort-core`.
//!
//! The formulas are the ones libtorch's operations and autograd compute, in `f32`, but the
//! matrix products add their terms in another order than MKL's, so results agree with the
//! libtorch path to within rounding, not bit for bit; the tests compare losses and gradients
//! with libtorch's autograd for every loss. As in the fused Adam, every loop is compiled a
//! second time for AVX2 and chosen at run time; both versions compute lane by lane with the
//! same operations in the same order (no fused multiply-add), so they give bit-identical
//! results, and a run repeats exactly on the same machine.

use crate::collect::argmax;
use crate::{DistillBuffer, DistillConfig, Loss};
use retort_core::MlpPolicy;
use tch::{Device, Kind, Tensor};

/// The largest student stepped here. The loops below run at a fraction of MKL's speed on
/// large matrix products, so libtorch's step wins once they dominate: on the development
/// machine (batch 256, one thread) this step was 2× faster than libtorch's for a 64-64
/// student (4 610 parameters), about as fast for 128-128 (17 410), and 2× slower for 256-256.
pub(crate) const MAX_PARAMS: usize = 10_000;

/// Forward and backward passes of one student over minibatches of a fixed size.
///
/// # Shapes
/// For layer `l` (`0..layers`) of `widths[l]` inputs and `widths[l + 1]` outputs: the weight is
/// `[widths[l + 1], widths[l]]` and the bias `[widths[l + 1]]` (PyTorch's `nn.Linear`);
/// `activations[l]` is the layer's input, `[batch, widths[l]]`, and `activations[layers]` the
/// student's scores `[batch, n_actions]`; `deltas[l]` is the loss's gradient with respect to
/// the layer's output before the ReLU, `[batch, widths[l + 1]]`.
pub(crate) struct CpuStep {
    widths: Vec<usize>,
    batch: usize,
    /// The policy's trainable tensors (shallow copies sharing their memory), in the order of
    /// `VarStore::trainable_variables`, which is the fused Adam's order.
    params: Vec<Tensor>,
    /// For each layer, the positions of its weight and its bias in `params`.
    layers: Vec<(usize, usize)>,
    /// One gradient per tensor of `params`, same order and memory layout.
    gradients: Vec<Vec<f32>>,
    /// Each layer's weight, `[outputs, inputs]`, copied from the parameters every step into a
    /// buffer with [`LANES`] values of slack (see [`matmul`]).
    weights: Vec<Vec<f32>>,
    /// Each layer's weight transposed, `[inputs, outputs]`, with slack.
    transposed: Vec<Vec<f32>>,
    /// Each layer's bias, with slack.
    biases: Vec<Vec<f32>>,
    /// Layer inputs and the scores, with slack.
    activations: Vec<Vec<f32>>,
    /// Gradients with respect to each layer's output before its ReLU.
    deltas: Vec<Vec<f32>>,
    /// The minibatch's teacher Q-vectors, `[batch, n_actions]`.
    teacher_q: Vec<f32>,
    /// Per-state scratch for the loss: `3 · n_actions` values.
    scratch: Vec<f32>,
}

impl CpuStep {
    /// Steps for `policy` over minibatches of `batch` states; `None` unless it is a plain MLP
    /// of at most [`MAX_PARAMS`] parameters, contiguous `f32` tensors on the CPU (otherwise
    /// libtorch does the step).
    pub(crate) fn new(policy: &MlpPolicy, batch: usize) -> Option<Self> {
        let spec = policy.spec();
        if policy.device() != Device::Cpu || spec.dueling || spec.params() > MAX_PARAMS {
            return None;
        }
        let vs = policy.var_store();
        let params = vs.trainable_variables();
        if params
            .iter()
            .any(|p| p.kind() != Kind::Float || !p.is_contiguous())
        {
            return None;
        }
        // Find each named tensor among the trainable ones by the memory they share.
        let named = vs.variables();
        let position = |name: &str| {
            let ptr = named.get(name)?.data_ptr();
            params.iter().position(|p| p.data_ptr() == ptr)
        };
        let tensors = spec.tensors();
        let layers = tensors
            .chunks_exact(2)
            .map(|pair| Some((position(&pair[0].0)?, position(&pair[1].0)?)))
            .collect::<Option<Vec<_>>>()?;
        if params.len() != tensors.len() {
            return None;
        }

        let widths = spec.widths();
        let slack = |n: usize| vec![0f32; n + LANES];
        let weights: Vec<Vec<f32>> = widths.windows(2).map(|w| slack(w[0] * w[1])).collect();
        Some(CpuStep {
            batch,
            layers,
            gradients: params.iter().map(|p| vec![0f32; p.numel()]).collect(),
            params,
            transposed: weights.clone(),
            weights,
            biases: widths[1..].iter().map(|&w| slack(w)).collect(),
            activations: widths.iter().map(|&w| slack(batch * w)).collect(),
            deltas: widths[1..].iter().map(|&w| vec![0f32; batch * w]).collect(),
            teacher_q: vec![0f32; batch * spec.n_actions],
            scratch: vec![0f32; 3 * spec.n_actions],
            widths,
        })
    }

    /// The gradients of the last [`CpuStep::step`], in the fused Adam's parameter order.
    pub(crate) fn gradients(&self) -> Vec<&[f32]> {
        self.gradients.iter().map(Vec::as_slice).collect()
    }

    /// Computes the loss `config.loss` of the states `picks` of `train` and its gradient with
    /// respect to every parameter (see [`CpuStep::gradients`]); returns the loss.
    ///
    /// # Panics
    /// When `picks` does not hold exactly `batch` indices of `train`.
    pub(crate) fn step(
        &mut self,
        train: &DistillBuffer,
        picks: &[usize],
        config: &DistillConfig,
    ) -> f64 {
        assert_eq!(picks.len(), self.batch, "one index per minibatch row");
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU supports AVX2, checked just above.
            return unsafe { self.step_avx2(train, picks, config) };
        }
        self.step_portable(train, picks, config)
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    unsafe fn step_avx2(
        &mut self,
        train: &DistillBuffer,
        picks: &[usize],
        config: &DistillConfig,
    ) -> f64 {
        self.step_portable(train, picks, config)
    }

    #[inline(always)]
    fn step_portable(
        &mut self,
        train: &DistillBuffer,
        picks: &[usize],
        config: &DistillConfig,
    ) -> f64 {
        // The minibatch: rows of the buffer, copied.
        let (d, a) = (train.obs_dim(), train.n_actions());
        for (row, &i) in picks.iter().enumerate() {
            self.activations[0][row * d..][..d].copy_from_slice(train.obs(i));
            self.teacher_q[row * a..][..a].copy_from_slice(train.teacher_q(i));
        }
        let batch = self.batch;

        // Forward: y = x · Wᵀ + b for each layer, ReLU after all but the last.
        let last = self.layers.len() - 1;
        for l in 0..=last {
            let (weight, bias) = self.layers[l];
            let (inputs, outputs) = (self.widths[l], self.widths[l + 1]);
            let w = f32_slice(&self.params[weight]);
            self.weights[l][..w.len()].copy_from_slice(w);
            transpose(w, outputs, inputs, &mut self.transposed[l]);
            self.biases[l][..outputs].copy_from_slice(f32_slice(&self.params[bias]));
            let (before, after) = self.activations.split_at_mut(l + 1);
            let x = Strided::rows(&before[l], inputs);
            let y = &mut after[0];
            let start = Some(&self.biases[l][..]);
            matmul(x, &self.transposed[l], start, batch, inputs, outputs, y);
            if l < last {
                // Not `max(0.0)`, which would turn a NaN into 0 and hide a divergence.
                for value in y.iter_mut() {
                    if *value < 0.0 {
                        *value = 0.0;
                    }
                }
            }
        }

        // The loss and its gradient with respect to the scores.
        let loss = loss_gradient(
            config,
            &self.activations[last + 1][..batch * a],
            &self.teacher_q,
            a,
            &mut self.deltas[last],
            &mut self.scratch,
        );

        // Backward, last layer first: the weight gradient δᵀ · x, the bias gradient Σ δ, and
        // the gradient of the layer's input, δ · W, through the ReLU that produced it (zero
        // where the input is zero, as libtorch's ReLU backward gives).
        for l in (0..=last).rev() {
            let (weight, bias) = self.layers[l];
            let (inputs, outputs) = (self.widths[l], self.widths[l + 1]);
            let (weight_grad, bias_grad) = pair_mut(&mut self.gradients, weight, bias);
            let delta = &self.deltas[l];
            let delta_t = Strided {
                values: delta,
                row: 1,
                col: outputs,
            };
            matmul(
                delta_t,
                &self.activations[l],
                None,
                outputs,
                batch,
                inputs,
                weight_grad,
            );
            bias_grad.fill(0.0);
            for delta_row in delta.chunks_exact(outputs) {
                for (g, &dj) in bias_grad.iter_mut().zip(delta_row) {
                    *g += dj;
                }
            }
            if l > 0 {
                let (before, after) = self.deltas.split_at_mut(l);
                let delta = Strided::rows(&after[0], outputs);
                let input_delta = &mut before[l - 1];
                matmul(
                    delta,
                    &self.weights[l],
                    None,
                    batch,
                    outputs,
                    inputs,
                    input_delta,
                );
                for (g, &x) in input_delta.iter_mut().zip(&self.activations[l]) {
                    if x <= 0.0 {
                        *g = 0.0;
                    }
                }
            }
        }
        loss
    }
}

/// `out[i][j] = matrix[j][i]` for a `[rows, cols]` matrix.
#[inline(always)]
fn transpose(matrix: &[f32], rows: usize, cols: usize, out: &mut [f32]) {
    for (j, row) in matrix.chunks_exact(cols).enumerate() {
        for (i, &value) in row.iter().enumerate() {
            out[i * rows + j] = value;
        }
    }
}

/// Columns of one block of [`matmul`]'s output: two AVX2 vectors.
const LANES: usize = 16;

/// Rows of one block of [`matmul`]'s output.
const ROWS: usize = 4;

/// A matrix read from a slice: element (r, k) at `r · row + k · col`, so that a row-major
/// matrix and its transpose are read alike.
#[derive(Clone, Copy)]
struct Strided<'a> {
    values: &'a [f32],
    row: usize,
    col: usize,
}

impl<'a> Strided<'a> {
    /// A row-major matrix of `cols` columns.
    fn rows(values: &'a [f32], cols: usize) -> Self {
        Strided {
            values,
            row: cols,
            col: 1,
        }
    }
}

/// `out[r][c] = start[c] + Σ_k a[r][k] · b[k][c]` for `r < rows`, `c < cols`, the terms added
/// in the order of k (from 0 when `start` is `None`); `out` and `b` are row-major with `cols`
/// columns.
///
/// The output is computed in blocks of [`ROWS`] × [`LANES`] values held in registers while k
/// runs, each value of `b` loaded once per block rather than once per row. A block's last
/// lanes may run past the last column: `b` and `start` need [`LANES`] values of slack past
/// their end; such lanes are computed and dropped. Each output is the same sequence of
/// correctly rounded operations as a plain triple loop.
#[inline(always)]
fn matmul(
    a: Strided<'_>,
    b: &[f32],
    start: Option<&[f32]>,
    rows: usize,
    depth: usize,
    cols: usize,
    out: &mut [f32],
) {
    let mut r0 = 0;
    while r0 + ROWS <= rows {
        matmul_block::<ROWS>(a, b, start, r0, depth, cols, out);
        r0 += ROWS;
    }
    while r0 < rows {
        matmul_block::<1>(a, b, start, r0, depth, cols, out);
        r0 += 1;
    }
}

/// Rows `r0..r0 + R` of [`matmul`]'s output.
#[inline(always)]
fn matmul_block<const R: usize>(
    a: Strided<'_>,
    b: &[f32],
    start: Option<&[f32]>,
    r0: usize,
    depth: usize,
    cols: usize,
    out: &mut [f32],
) {
    for c0 in (0..cols).step_by(LANES) {
        let first = match start {
            Some(start) => *lanes(start, c0),
            None => [0f32; LANES],
        };
        let mut acc = [first; R];
        for k in 0..depth {
            let b_k = *lanes(b, k * cols + c0);
            let a_k: [f32; R] = std::array::from_fn(|r| a.values[(r0 + r) * a.row + k * a.col]);
            for r in 0..R {
                for c in 0..LANES {
                    acc[r][c] += a_k[r] * b_k[c];
                }
            }
        }
        let width = LANES.min(cols - c0);
        for (r, acc_row) in acc.iter().enumerate() {
            out[(r0 + r) * cols + c0..][..width].copy_from_slice(&acc_row[..width]);
        }
    }
}

/// The [`LANES`] values of `values` from `at`.
#[inline(always)]
fn lanes(values: &[f32], at: usize) -> &[f32; LANES] {
    values[at..at + LANES]
        .try_into()
        .expect("a range of LANES values is an array of LANES values")
}

/// The batch-mean loss `config.loss` of `scores` against `teacher_q` (`[batch, n_actions]`),
/// with its gradient with respect to `scores` written to `grad`; the formulas of
/// [`crate::loss`], differentiated as libtorch's autograd does.
#[inline(always)]
fn loss_gradient(
    config: &DistillConfig,
    scores: &[f32],
    teacher_q: &[f32],
    n_actions: usize,
    grad: &mut [f32],
    scratch: &mut [f32],
) -> f64 {
    let batch = scores.len() / n_actions;
    // The backward pass of a mean over the batch starts every state at 1 / batch.
    let inv_batch = 1.0 / batch as f32;
    let (t, w) = (config.temperature as f32, config.hard_label_weight as f32);
    let mut total = 0f64;
    let rows = scores
        .chunks_exact(n_actions)
        .zip(teacher_q.chunks_exact(n_actions))
        .zip(grad.chunks_exact_mut(n_actions));
    for ((z, q), g) in rows {
        total += f64::from(match config.loss {
            Loss::Kl => kl_row(z, q, t, 1.0, inv_batch, g, scratch),
            Loss::Nll => nll_row(z, q, inv_batch, g, scratch, false),
            Loss::Mse => {
                let mut sum = 0f32;
                for ((g_a, &z_a), &q_a) in g.iter_mut().zip(z).zip(q) {
                    let error = z_a - q_a;
                    sum += error * error;
                    *g_a = inv_batch * (error + error);
                }
                sum
            }
            Loss::Hinton => {
                // T² · KL(softmax(q / T) ‖ softmax(z / T)): the scores enter divided by T,
                // so their gradient is T² / T times the KL's with respect to z / T.
                let soft = kl_row(z, q, t, t, inv_batch * t, g, scratch) * (t * t);
                if w > 0.0 {
                    soft + nll_row(z, q, inv_batch * w, g, scratch, true) * w
                } else {
                    soft
                }
            }
        });
    }
    total / batch as f64
}

/// `out = log_softmax(values / divisor)`, as libtorch computes it:
/// (x − max) − ln Σ e^(x − max).
#[inline(always)]
fn log_softmax(values: &[f32], divisor: f32, out: &mut [f32]) {
    for (o, &v) in out.iter_mut().zip(values) {
        *o = v / divisor;
    }
    let max = out.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let sum: f32 = out.iter().map(|&x| (x - max).exp()).sum();
    let log_sum = sum.ln();
    for o in out.iter_mut() {
        *o = (*o - max) - log_sum;
    }
}

/// One state's Σ p (log p − log s) with p = softmax(q / τ) and log s = log_softmax(z /
/// divisor); writes `scale` times its gradient with respect to z / divisor to `g`. Through
/// log_softmax's backward pass: with g' = −scale · p, the gradient is g' − s · Σ g'.
#[inline(always)]
fn kl_row(
    z: &[f32],
    q: &[f32],
    tau: f32,
    divisor: f32,
    scale: f32,
    g: &mut [f32],
    scratch: &mut [f32],
) -> f32 {
    let n = z.len();
    let (teacher, rest) = scratch.split_at_mut(n);
    let student = &mut rest[..n];
    log_softmax(q, tau, teacher);
    log_softmax(z, divisor, student);
    let mut loss = 0f32;
    let mut sum_g = 0f32;
    for ((g_a, &lt), &ls) in g.iter_mut().zip(teacher.iter()).zip(student.iter()) {
        let p = lt.exp();
        loss += p * (lt - ls);
        *g_a = -(scale * p);
        sum_g += *g_a;
    }
    for (g_a, &ls) in g.iter_mut().zip(student.iter()) {
        *g_a -= ls.exp() * sum_g;
    }
    loss
}

/// One state's −log softmax(z)[a*], a* the teacher's greedy action; writes (or, with `add`,
/// adds) `scale` times its gradient with respect to z: scale · (softmax(z) − onehot(a*)).
#[inline(always)]
fn nll_row(z: &[f32], q: &[f32], scale: f32, g: &mut [f32], scratch: &mut [f32], add: bool) -> f32 {
    let n = z.len();
    let student = &mut scratch[2 * n..3 * n];
    log_softmax(z, 1.0, student);
    let best = argmax(q);
    for (a, (g_a, &ls)) in g.iter_mut().zip(student.iter()).enumerate() {
        // log_softmax's backward pass of g' = −scale at a*: g' − softmax · Σ g'.
        let g_prime = if a == best { -scale } else { 0.0 };
        let value = g_prime - ls.exp() * -scale;
        *g_a = if add { *g_a + value } else { value };
    }
    -student[best]
}

/// Two distinct elements of `items`, mutably.
fn pair_mut<T>(items: &mut [T], i: usize, j: usize) -> (&mut T, &mut T) {
    assert_ne!(i, j, "a weight and a bias are distinct tensors");
    if i < j {
        let (left, right) = items.split_at_mut(j);
        (&mut left[i], &mut right[0])
    } else {
        let (left, right) = items.split_at_mut(i);
        (&mut right[0], &mut left[j])
    }
}

/// The memory of a contiguous CPU `f32` tensor.
fn f32_slice(t: &Tensor) -> &[f32] {
    debug_assert!(t.is_contiguous() && t.kind() == Kind::Float && t.device() == Device::Cpu);
    // SAFETY: `CpuStep::new` checked that every parameter is a contiguous CPU f32 tensor of
    // `numel` elements; the borrow of `t` keeps its storage alive, and the parameters are
    // written only by the optimiser, never while a step reads them.
    unsafe { std::slice::from_raw_parts(t.data_ptr() as *const f32, t.numel()) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::distill_loss;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;
    use retort_core::MlpSpec;

    /// Loss and parameter gradients of `policy` on rows `picks` of `buffer`, by libtorch's
    /// autograd, the gradients in the order of `trainable_variables`.
    fn by_autograd(
        policy: &MlpPolicy,
        buffer: &DistillBuffer,
        picks: &[usize],
        config: &DistillConfig,
    ) -> (f64, Vec<Vec<f32>>) {
        let rows = |f: &dyn Fn(usize) -> Vec<f32>, width: usize| {
            let values: Vec<f32> = picks.iter().flat_map(|&i| f(i)).collect();
            Tensor::from_slice(&values).view([-1, width as i64])
        };
        let obs = rows(&|i| buffer.obs(i).to_vec(), buffer.obs_dim());
        let q = rows(&|i| buffer.teacher_q(i).to_vec(), buffer.n_actions());
        let mut params = policy.var_store().trainable_variables();
        for p in &mut params {
            p.zero_grad();
        }
        let (t, w) = (config.temperature, config.hard_label_weight);
        let loss = distill_loss(config.loss, &policy.forward(&obs), &q, t, w);
        loss.backward();
        let grads = params
            .iter()
            .map(|p| Vec::<f32>::try_from(p.grad().view([-1])).unwrap())
            .collect();
        (loss.double_value(&[]), grads)
    }

    fn buffer(obs_dim: usize, n_actions: usize, states: usize, seed: u64) -> DistillBuffer {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut buffer = DistillBuffer::new(obs_dim, n_actions);
        for _ in 0..states {
            let obs: Vec<f32> = (0..obs_dim).map(|_| rng.random_range(-2.0..2.0)).collect();
            // Q-values near 100 with small gaps, like a CartPole teacher's.
            let q: Vec<f32> = (0..n_actions)
                .map(|_| 100.0 + rng.random_range(-0.5..0.5))
                .collect();
            buffer.push(&obs, &q);
        }
        buffer
    }

    #[test]
    fn loss_and_gradients_match_libtorch_autograd_for_every_loss_and_shape() {
        let configs = [
            (Loss::Kl, 0.01, 0.0),
            (Loss::Kl, 1.0, 0.0),
            (Loss::Nll, 1.0, 0.0),
            (Loss::Mse, 1.0, 0.0),
            (Loss::Hinton, 2.0, 0.0),
            (Loss::Hinton, 4.0, 0.5),
        ];
        let shapes = [
            (4, 2, vec![]),
            (4, 2, vec![32]),
            (6, 3, vec![16, 8]),
            (2, 5, vec![3]),
        ];
        for (k, (obs_dim, n_actions, hidden)) in shapes.into_iter().enumerate() {
            let spec = MlpSpec {
                obs_dim,
                n_actions,
                hidden,
                dueling: false,
            };
            let policy = MlpPolicy::new(spec.clone(), Device::Cpu, k as u64);
            let data = buffer(obs_dim, n_actions, 500, k as u64);
            let picks: Vec<usize> = (0..48).map(|i| (i * 37 + k) % data.len()).collect();
            for (loss, temperature, hard_label_weight) in configs {
                let config = DistillConfig {
                    loss,
                    temperature,
                    hard_label_weight,
                    batch_size: picks.len(),
                    ..DistillConfig::default()
                };
                let mut step = CpuStep::new(&policy, picks.len()).unwrap();
                let ours = step.step(&data, &picks, &config);
                let (theirs, expected) = by_autograd(&policy, &data, &picks, &config);
                let case = format!("{spec:?} {loss:?} T = {temperature} w = {hard_label_weight}");
                let tolerance = 1e-5 * (1.0 + theirs.abs());
                assert!(
                    (ours - theirs).abs() <= tolerance,
                    "{case}: {ours} vs {theirs}"
                );
                for (got, want) in step.gradients().iter().zip(&expected) {
                    assert_eq!(got.len(), want.len(), "{case}");
                    let scale = want.iter().fold(1e-3f32, |m, x| m.max(x.abs()));
                    for (a, b) in got.iter().zip(want) {
                        assert!((a - b).abs() <= 1e-4 * scale, "{case}: {a} vs {b}");
                    }
                }
            }
        }
    }

    #[test]
    fn large_or_dueling_networks_are_left_to_libtorch() {
        let policy = |hidden: Vec<usize>, dueling| {
            let spec = MlpSpec {
                obs_dim: 4,
                n_actions: 2,
                hidden,
                dueling,
            };
            MlpPolicy::new(spec, Device::Cpu, 0)
        };
        assert!(CpuStep::new(&policy(vec![64, 64], false), 8).is_some());
        assert!(CpuStep::new(&policy(vec![128, 128], false), 8).is_none());
        assert!(CpuStep::new(&policy(vec![16], true), 8).is_none());
    }

    #[test]
    fn a_repeated_step_gives_the_same_bits() {
        let spec = MlpSpec {
            obs_dim: 4,
            n_actions: 2,
            hidden: vec![16],
            dueling: false,
        };
        let policy = MlpPolicy::new(spec, Device::Cpu, 3);
        let data = buffer(4, 2, 100, 3);
        let picks: Vec<usize> = (0..32).collect();
        let config = DistillConfig::default();
        let mut step = CpuStep::new(&policy, 32).unwrap();
        let first = step.step(&data, &picks, &config);
        let grads: Vec<Vec<f32>> = step.gradients().iter().map(|g| g.to_vec()).collect();
        assert_eq!(step.step(&data, &picks, &config), first);
        let again: Vec<Vec<f32>> = step.gradients().iter().map(|g| g.to_vec()).collect();
        assert_eq!(grads, again);
    }

    #[test]
    fn the_avx2_and_portable_loops_give_identical_bits() {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") {
            let spec = MlpSpec {
                obs_dim: 4,
                n_actions: 2,
                hidden: vec![64, 16],
                dueling: false,
            };
            let policy = MlpPolicy::new(spec, Device::Cpu, 4);
            let data = buffer(4, 2, 300, 4);
            let picks: Vec<usize> = (0..256).map(|i| (i * 7) % 300).collect();
            let config = DistillConfig::default();
            let mut step = CpuStep::new(&policy, 256).unwrap();
            let portable = step.step_portable(&data, &picks, &config);
            let grads: Vec<Vec<f32>> = step.gradients().iter().map(|g| g.to_vec()).collect();
            // SAFETY: the CPU supports AVX2, checked just above.
            let vectorised = unsafe { step.step_avx2(&data, &picks, &config) };
            assert_eq!(portable.to_bits(), vectorised.to_bits());
            let again: Vec<Vec<f32>> = step.gradients().iter().map(|g| g.to_vec()).collect();
            let bits =
                |v: &[Vec<f32>]| -> Vec<u32> { v.iter().flatten().map(|x| x.to_bits()).collect() };
            assert_eq!(bits(&grads), bits(&again));
        }
    }
}
