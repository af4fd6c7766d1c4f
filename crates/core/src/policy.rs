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
/// A dueling network ([`MlpSpec::dueling`]) has only its hidden layers under `layers.{i}` and
/// ends in `value.*` (`[1, last]`) and `advantage.*` (`[n_actions, last]`); its scores are
/// Q(s, a) = V(s) + A(s, a) − mean over actions of A(s, ·).
pub struct MlpPolicy {
    spec: MlpSpec,
    vs: nn::VarStore,
    /// Every layer in the order of [`MlpSpec::layer_shapes`]: the hidden layers, then the
    /// output layer, or the value and the advantage streams of a dueling head.
    layers: Vec<nn::Linear>,
}

impl MlpPolicy {
    /// Builds a freshly initialised network.
    ///
    /// Weights and biases are drawn from U(−1/√fan_in, 1/√fan_in), the distribution of
    /// PyTorch's default `nn.Linear` initialisation, but from a generator of our own seeded with
    /// `init_seed`: libtorch's generator is global to the process, so two networks built at
    /// once on different threads would otherwise draw from one shared stream. Layers draw in
    /// the order of [`MlpSpec::layer_shapes`], each its weights then its bias, so a dueling
    /// network's trunk starts as the plain network's hidden layers do, and its value then
    /// advantage streams continue the same stream.
    pub fn new(spec: MlpSpec, device: Device, init_seed: u64) -> Self {
        let vs = nn::VarStore::new(device);
        let mut rng = ChaCha8Rng::seed_from_u64(init_seed);
        let tensors = spec.tensors();
        let layers = spec
            .layer_shapes()
            .into_iter()
            .enumerate()
            .map(|(i, (inputs, outputs))| {
                // "layers.0.weight" → the path layers / 0; "value.weight" → value.
                let prefix = tensors[2 * i].0.trim_end_matches(".weight");
                let path = prefix.split('.').fold(vs.root(), |path, part| path / part);
                init_linear(path, inputs, outputs, &mut rng)
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

    /// Scores of every action: the Q-values, combined from both streams for a dueling head.
    ///
    /// # Shapes
    /// `observations: [batch, obs_dim]` → `[batch, n_actions]`.
    pub fn forward(&self, observations: &Tensor) -> Tensor {
        let hidden = self.spec.hidden.len();
        let mut x = observations.shallow_clone();
        for layer in &self.layers[..hidden] {
            x = layer.forward(&x).relu();
        }
        match &self.layers[hidden..] {
            [output] => output.forward(&x),
            [value, advantage] => {
                // [batch, 1] + [batch, n_actions] − [batch, 1], broadcast over actions.
                let value = value.forward(&x);
                let advantage = advantage.forward(&x);
                let mean = advantage.mean_dim(1, true, Kind::Float);
                (value + advantage) - mean
            }
            _ => unreachable!("a spec has one output layer or a dueling head's two"),
        }
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
        let flat = |name: &str| -> Vec<f32> {
            let t = vars[name]
                .to_device(Device::Cpu)
                .to_kind(Kind::Float)
                .contiguous();
            Vec::<f32>::try_from(t.view([-1])).expect("a float CPU tensor converts to Vec<f32>")
        };
        let values: Vec<Vec<f32>> = self
            .spec
            .tensors()
            .iter()
            .map(|(name, _)| flat(name))
            .collect();
        let layers: Vec<(&[f32], &[f32])> = values
            .chunks_exact(2)
            .map(|pair| (pair[0].as_slice(), pair[1].as_slice()))
            .collect();
        retort_runtime::Mlp::from_parts(self.spec.clone(), &layers)
            .expect("a policy's own weights always fit its own shape")
    }

    /// Copies every parameter of `other`, which must have the same shape.
    pub fn copy_from(&mut self, other: &MlpPolicy) -> Result<(), tch::TchError> {
        self.vs.copy(&other.vs)
    }
}

/// A linear layer at `path` with weights, then bias, drawn from U(−1/√inputs, 1/√inputs) by
/// `rng`.
fn init_linear(path: nn::Path, inputs: usize, outputs: usize, rng: &mut ChaCha8Rng) -> nn::Linear {
    let layer = nn::linear(path, inputs as i64, outputs as i64, Default::default());
    let bound = 1.0 / (inputs as f32).sqrt();
    let weights = layer.ws.numel();
    let values: Vec<f32> = (0..weights + outputs)
        .map(|_| rng.random_range(-bound..bound))
        .collect();
    let ws = Tensor::from_slice(&values[..weights]).view([outputs as i64, inputs as i64]);
    let bs = Tensor::from_slice(&values[weights..]);
    tch::no_grad(|| {
        layer.ws.shallow_clone().copy_(&ws);
        if let Some(bias) = &layer.bs {
            bias.shallow_clone().copy_(&bs);
        }
    });
    layer
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
            dueling: false,
        };
        assert_eq!(teacher.params(), 67_586);
        let student = MlpSpec {
            obs_dim: 4,
            n_actions: 2,
            hidden: vec![16],
            dueling: false,
        };
        assert_eq!(student.params(), 114);
        let linear = MlpSpec {
            obs_dim: 4,
            n_actions: 2,
            hidden: vec![],
            dueling: false,
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
                dueling: false,
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
        for dueling in [false, true] {
            let spec = MlpSpec {
                obs_dim: 4,
                n_actions: 2,
                hidden: vec![16, 8],
                dueling,
            };
            let policy = MlpPolicy::new(spec, Device::Cpu, 21);
            let runtime = policy.to_runtime();
            assert_eq!(runtime.spec(), policy.spec());
            let mut rng = ChaCha8Rng::seed_from_u64(0);
            let obs: Vec<f32> = (0..4 * 1000).map(|_| rng.random_range(-2.0..2.0)).collect();
            let mut actions = vec![0; 1000];
            policy.act(&obs, &mut actions);
            for (row, action) in obs.chunks(4).zip(actions) {
                assert_eq!(runtime.act(row), action, "dueling {dueling}");
            }
        }
    }

    /// Overwrites the parameter `name` of `policy` with `values`.
    fn set(policy: &MlpPolicy, name: &str, values: &[f32]) {
        let vars = policy.var_store().variables();
        let var = &vars[name];
        let source = Tensor::from_slice(values).view(var.size().as_slice());
        tch::no_grad(|| var.shallow_clone().copy_(&source));
    }

    #[test]
    fn a_hand_built_dueling_net_gives_value_plus_centred_advantage() {
        let spec = MlpSpec {
            obs_dim: 2,
            n_actions: 2,
            hidden: vec![2],
            dueling: true,
        };
        let policy = MlpPolicy::new(spec, Device::Cpu, 0);
        // The trunk copies the observation through a ReLU: obs [1, −4] → h = [1, 0].
        set(&policy, "layers.0.weight", &[1.0, 0.0, 0.0, 1.0]);
        set(&policy, "layers.0.bias", &[0.0, 0.0]);
        // V = 2·1 + 5·0 = 2; A = [1·1 + 7·0, 3·1 − 1·0] = [1, 3]; mean A = 2.
        set(&policy, "value.weight", &[2.0, 5.0]);
        set(&policy, "value.bias", &[0.0]);
        set(&policy, "advantage.weight", &[1.0, 7.0, 3.0, -1.0]);
        set(&policy, "advantage.bias", &[0.0, 0.0]);
        let q = Vec::<f32>::try_from(policy.scores(&[1.0, -4.0]).view([-1])).unwrap();
        // Q = [2 + 1 − 2, 2 + 3 − 2].
        assert_eq!(q, [1.0, 3.0]);
        let mut action = [0];
        policy.act(&[1.0, -4.0], &mut action);
        assert_eq!(action, [1]);
        let mut q_runtime = [0.0; 2];
        policy.to_runtime().scores(&[1.0, -4.0], &mut q_runtime);
        assert_eq!(q_runtime, [1.0, 3.0]);
    }

    #[test]
    fn a_dueling_var_store_names_its_streams_and_keeps_the_plain_trunk() {
        let spec = MlpSpec {
            obs_dim: 3,
            n_actions: 4,
            hidden: vec![5, 6],
            dueling: true,
        };
        let policy = MlpPolicy::new(spec.clone(), Device::Cpu, 8);
        let vars = policy.var_store().variables();
        let mut names: Vec<_> = vars.keys().cloned().collect();
        names.sort();
        assert_eq!(
            names,
            [
                "advantage.bias",
                "advantage.weight",
                "layers.0.bias",
                "layers.0.weight",
                "layers.1.bias",
                "layers.1.weight",
                "value.bias",
                "value.weight"
            ]
        );
        assert_eq!(vars["value.weight"].size(), [1, 6]);
        assert_eq!(vars["advantage.weight"].size(), [4, 6]);
        let total: i64 = vars.values().map(|t| t.numel() as i64).sum();
        assert_eq!(total as usize, spec.params());
        assert_eq!(
            spec.params(),
            (3 * 5 + 5) + (5 * 6 + 6) + (6 + 1) + (6 * 4 + 4)
        );
        // The same seed draws the same trunk as the plain network's hidden layers.
        let plain = MlpPolicy::new(
            MlpSpec {
                dueling: false,
                ..spec
            },
            Device::Cpu,
            8,
        );
        let plain_vars = plain.var_store().variables();
        for name in ["layers.0.weight", "layers.1.bias"] {
            assert!(vars[name].equal(&plain_vars[name]), "{name}");
        }
        // Every action's score is V + A − mean A, row by row.
        let obs = [0.3f32, -0.7, 1.1, 2.0, 0.0, -1.0];
        let q = policy.scores(&obs);
        let input = Tensor::from_slice(&obs).view([2, 3]);
        let h = tch::no_grad(|| {
            let h = input.linear(&vars["layers.0.weight"], Some(&vars["layers.0.bias"]));
            h.relu()
                .linear(&vars["layers.1.weight"], Some(&vars["layers.1.bias"]))
                .relu()
        });
        let v = h.linear(&vars["value.weight"], Some(&vars["value.bias"]));
        let a = h.linear(&vars["advantage.weight"], Some(&vars["advantage.bias"]));
        let expected = &v + &a - a.mean_dim(1, true, Kind::Float);
        assert!(q.allclose(&expected.detach(), 1e-6, 1e-6, false));
        let centred = (&q - &v.detach()).sum_dim_intlist(1, false, Kind::Float);
        assert!(centred.abs().max().double_value(&[]) < 1e-5);
    }

    #[test]
    fn same_init_seed_gives_the_same_network() {
        let spec = MlpSpec {
            obs_dim: 4,
            n_actions: 2,
            hidden: vec![8],
            dueling: false,
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
