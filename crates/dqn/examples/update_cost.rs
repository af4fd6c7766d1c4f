//! Where the time of one DQN gradient step goes, with retort's fused Adam and with libtorch's.
//!
//! `cargo run --release -p retort-dqn --example update_cost -- 128 128` times 2 000 updates of
//! a Q-network with those hidden widths (4 inputs, 2 actions, batch 64) piece by piece, once
//! per optimiser, and prints microseconds per update and the ratio measured in this run.

use retort_core::{Adam, AdamConfig, MlpPolicy, MlpSpec};
use std::time::Instant;
use tch::nn::{self, OptimizerConfig};
use tch::{Device, Reduction, Tensor};

const UPDATES: usize = 2_000;
const BATCH: i64 = 64;
const PIECES: [&str; 5] = [
    "inputs",
    "target forward",
    "online forward + loss",
    "backward",
    "optimiser",
];

fn main() {
    tch::set_num_threads(1);
    let hidden: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let hidden = if hidden.is_empty() {
        vec![128, 128]
    } else {
        hidden
    };
    println!("Q-network 4 → {hidden:?} → 2, batch {BATCH}, {UPDATES} updates, one thread");
    let fused = time_updates(&hidden, true);
    let torch = time_updates(&hidden, false);
    println!(
        "{:>24} {:>12} {:>12}",
        "µs per update", "fused Adam", "libtorch"
    );
    for (i, name) in PIECES.iter().enumerate() {
        println!("{name:>24} {:>12.1} {:>12.1}", fused[i], torch[i]);
    }
    let (a, b) = (fused.iter().sum::<f64>(), torch.iter().sum::<f64>());
    println!("{:>24} {a:>12.1} {b:>12.1}", "total");
    println!("fused Adam makes an update {:.2}x faster", b / a);
}

/// Microseconds per update spent in each of [`PIECES`].
fn time_updates(hidden: &[usize], fused: bool) -> [f64; 5] {
    let spec = MlpSpec {
        obs_dim: 4,
        n_actions: 2,
        hidden: hidden.to_vec(),
        dueling: false,
    };
    let online = MlpPolicy::new(spec.clone(), Device::Cpu, 0);
    let target = MlpPolicy::new(spec, Device::Cpu, 1);
    let mut torch = nn::Adam::default()
        .build(online.var_store(), 1e-3)
        .expect("Adam builds");
    let config = AdamConfig {
        max_grad_norm: Some(10.0),
        ..AdamConfig::new(1e-3)
    };
    let mut ours = Adam::new(online.var_store(), config).expect("CPU f32 parameters");
    let obs: Vec<f32> = (0..BATCH * 4).map(|i| (i as f32 * 0.37).sin()).collect();
    let actions: Vec<i64> = (0..BATCH).map(|i| i % 2).collect();
    let rewards = vec![1f32; BATCH as usize];
    let mut seconds = [0f64; 5];
    for _ in 0..UPDATES {
        let t0 = Instant::now();
        let o = Tensor::from_slice(&obs).view([BATCH, 4]);
        let a = Tensor::from_slice(&actions).unsqueeze(1);
        let r = Tensor::from_slice(&rewards);
        let t1 = Instant::now();
        let targets = tch::no_grad(|| &r + target.forward(&o).amax([1].as_slice(), false) * 0.99);
        let t2 = Instant::now();
        let q = online.forward(&o).gather(1, &a, false).squeeze_dim(1);
        let loss = q.huber_loss(&targets, Reduction::Mean, 1.0);
        let t3 = Instant::now();
        if fused {
            ours.zero_grad();
        } else {
            torch.zero_grad();
        }
        loss.backward();
        let t4 = Instant::now();
        if fused {
            ours.step();
        } else {
            torch.clip_grad_norm(10.0);
            torch.step();
        }
        let t5 = Instant::now();
        for (k, (from, to)) in [(t0, t1), (t1, t2), (t2, t3), (t3, t4), (t4, t5)]
            .iter()
            .enumerate()
        {
            seconds[k] += (*to - *from).as_secs_f64();
        }
    }
    seconds.map(|s| s / UPDATES as f64 * 1e6)
}
