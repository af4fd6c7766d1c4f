//! Multi-layer perceptrons that map an observation to one score per action.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tch::{nn, nn::Module, Device, Kind, Tensor};

/// The shape of an MLP, shared with the libtorch-free runtime so that both read the same
/// `model.json`.
pub use retort_runtime::MlpSpec;

/// Anything that picks actions for a batch of observations.
pub trait GreedyPolicy {
    /// Length of one observation.
    fn obs_dim(&self) -> usize;
    /// Writes the greedy action of each of the `actions.len()` observations stored row after
    /// row in `observations`.
    fn act(&self, observations: &[f32], actions: &mut [usize]);
}

/// An MLP with its own parameter store, so that it can be trained, copied and saved alone.
///
/// Parameters are named `layers.{i}.weight` (shape `[out, in]`) and `layers.{i}.bias`, the
/// layout of PyTorch's `nn.Linear`, so the saved weights load into an equivalent PyTorch model.
pub struct MlpPolicy {
    spec: MlpSpec,
    vs: nn::VarStore,
    layers: Vec<nn::Linear>,
}

impl MlpPolicy {
    /// Builds a freshly initialised network.
    ///
    /// Weights and biases are drawn from U(−1/√fan_in, 1/√fan_in), the distribution of
    /// PyTorch's default `nn.Linear` initialisation, but from a generator of our own seeded with
    /// `init_seed`: libtorch's generator is global to the process, so two networks built at
    /// once on different threads would otherwise draw from one shared stream.
    pub fn new(spec: MlpSpec, device: Device, init_seed: u64) -> Self {
        let vs = nn::VarStore::new(device);
        let root = vs.root() / "layers";
        let widths = spec.widths();
        let mut rng = ChaCha8Rng::seed_from_u64(init_seed);
        let layers = widths
            .windows(2)
            .enumerate()
            .map(|(i, pair)| {
                let layer = nn::linear(
                    &root / i,
                    pair[0] as i64,
                    pair[1] as i64,
                    Default::default(),
                );
                let bound = 1.0 / (pair[0] as f32).sqrt();
                let weights = layer.ws.numel();
                let values: Vec<f32> = (0..weights + pair[1])
                    .map(|_| rng.random_range(-bound..bound))
                    .collect();
                let ws =
                    Tensor::from_slice(&values[..weights]).view([pair[1] as i64, pair[0] as i64]);
                let bs = Tensor::from_slice(&values[weights..]);
                tch::no_grad(|| {
                    layer.ws.shallow_clone().copy_(&ws);
                    if let Some(bias) = &layer.bs {
                        bias.shallow_clone().copy_(&bs);
                    }
                });
                layer
            })
            .collect();
        MlpPolicy { spec, vs, layers }
    }

    /// The network's shape.
    pub fn spec(&self) -> &MlpSpec {
        &self.spec
    }

    /// The parameter store (for optimisers, saving and loading).
    pub fn var_store(&self) -> &nn::VarStore {
        &self.vs
    }

    /// Mutable access to the parameter store (for loading weights).
    pub fn var_store_mut(&mut self) -> &mut nn::VarStore {
        &mut self.vs
    }

    /// The device the parameters live on.
    pub fn device(&self) -> Device {
        self.vs.device()
    }

    /// Scores of every action.
    ///
    /// # Shapes
    /// `observations: [batch, obs_dim]` → `[batch, n_actions]`.
    pub fn forward(&self, observations: &Tensor) -> Tensor {
        let last = self.layers.len() - 1;
        let mut x = observations.shallow_clone();
        for (i, layer) in self.layers.iter().enumerate() {
            x = layer.forward(&x);
            if i < last {
                x = x.relu();
            }
        }
        x
    }

    /// Scores of every action for observations stored row after row in a slice, without
    /// recording gradients.
    ///
    /// # Shapes
    /// `observations.len() = batch · obs_dim` → `[batch, n_actions]`.
    pub fn scores(&self, observations: &[f32]) -> Tensor {
        let batch = (observations.len() / self.spec.obs_dim) as i64;
        let input = Tensor::from_slice(observations)
            .view([batch, self.spec.obs_dim as i64])
            .to_device(self.device());
        tch::no_grad(|| self.forward(&input))
    }

    /// A copy of this network for [`retort_runtime`], which acts in plain Rust: for single
    /// observations it is one to two orders of magnitude faster than a libtorch call, and it
    /// picks the same action.
    pub fn to_runtime(&self) -> retort_runtime::Mlp {
        let vars = self.vs.variables();
        let flat = |name: String| -> Vec<f32> {
            let t = vars[&name]
                .to_device(Device::Cpu)
                .to_kind(Kind::Float)
                .contiguous();
            Vec::<f32>::try_from(t.view([-1])).expect("a float CPU tensor converts to Vec<f32>")
        };
        let values: Vec<(Vec<f32>, Vec<f32>)> = (0..self.layers.len())
            .map(|i| {
                (
                    flat(format!("layers.{i}.weight")),
                    flat(format!("layers.{i}.bias")),
                )
            })
            .collect();
        let layers: Vec<(&[f32], &[f32])> = values
            .iter()
            .map(|(w, b)| (w.as_slice(), b.as_slice()))
            .collect();
        let spec = retort_runtime::MlpSpec {
            obs_dim: self.spec.obs_dim,
            n_actions: self.spec.n_actions,
            hidden: self.spec.hidden.clone(),
        };
        retort_runtime::Mlp::from_parts(spec, &layers)
            .expect("a policy's own weights always fit its own shape")
    }

    /// Copies every parameter of `other`, which must have the same shape.
    pub fn copy_from(&mut self, other: &MlpPolicy) -> Result<(), tch::TchError> {
        self.vs.copy(&other.vs)
    }
}

impl GreedyPolicy for MlpPolicy {
    fn obs_dim(&self) -> usize {
        self.spec.obs_dim
    }

    fn act(&self, observations: &[f32], actions: &mut [usize]) {
        let best = self
            .scores(observations)
            .argmax(1, false)
            .to_kind(Kind::Int64);
        let best = Vec::<i64>::try_from(best.to_device(Device::Cpu))
            .expect("an int64 CPU tensor converts to Vec<i64>");
        for (slot, action) in actions.iter_mut().zip(best) {
            *slot = action as usize;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameter_count_of_the_default_teacher_and_a_tiny_student() {
        let teacher = MlpSpec {
            obs_dim: 4,
            n_actions: 2,
            hidden: vec![256, 256],
        };
        assert_eq!(teacher.params(), 67_586);
        let student = MlpSpec {
            obs_dim: 4,
            n_actions: 2,
            hidden: vec![16],
        };
        assert_eq!(student.params(), 114);
        let linear = MlpSpec {
            obs_dim: 4,
            n_actions: 2,
            hidden: vec![],
        };
        assert_eq!(linear.params(), 10);
    }

    #[test]
    fn var_store_matches_the_spec_and_pytorch_names() {
        let policy = MlpPolicy::new(
            MlpSpec {
                obs_dim: 3,
                n_actions: 2,
                hidden: vec![5],
            },
            Device::Cpu,
            0,
        );
        let vars = policy.var_store().variables();
        let mut names: Vec<_> = vars.keys().cloned().collect();
        names.sort();
        assert_eq!(
            names,
            [
                "layers.0.bias",
                "layers.0.weight",
                "layers.1.bias",
                "layers.1.weight"
            ]
        );
        assert_eq!(vars["layers.0.weight"].size(), [5, 3]);
        let total: i64 = vars.values().map(|t| t.numel() as i64).sum();
        assert_eq!(total as usize, policy.spec().params());
    }

    #[test]
    fn the_runtime_copy_acts_like_the_policy() {
        let spec = MlpSpec {
            obs_dim: 4,
            n_actions: 2,
            hidden: vec![16, 8],
        };
        let policy = MlpPolicy::new(spec, Device::Cpu, 21);
        let runtime = policy.to_runtime();
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        let obs: Vec<f32> = (0..4 * 1000).map(|_| rng.random_range(-2.0..2.0)).collect();
        let mut actions = vec![0; 1000];
        policy.act(&obs, &mut actions);
        for (row, action) in obs.chunks(4).zip(actions) {
            assert_eq!(runtime.act(row), action);
        }
    }

    #[test]
    fn same_init_seed_gives_the_same_network() {
        let spec = MlpSpec {
            obs_dim: 4,
            n_actions: 2,
            hidden: vec![8],
        };
        let a = MlpPolicy::new(spec.clone(), Device::Cpu, 3);
        let b = MlpPolicy::new(spec.clone(), Device::Cpu, 3);
        let c = MlpPolicy::new(spec, Device::Cpu, 4);
        let obs = [0.1f32, -0.2, 0.3, 0.05];
        let (sa, sb, sc) = (a.scores(&obs), b.scores(&obs), c.scores(&obs));
        assert!(sa.equal(&sb));
        assert!(!sa.equal(&sc));
    }
}
