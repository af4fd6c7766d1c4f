//! Times the pieces of one DQN gradient step (temporary profiling aid).
use retort_core::{Adam, AdamConfig, MlpPolicy, MlpSpec};
use std::time::Instant;
use tch::nn::OptimizerConfig;
use tch::{nn, Device, Reduction, Tensor};

fn main() {
    tch::set_num_threads(1);
    let hidden: Vec<usize> = std::env::args()
        .skip(1)
        .map(|a| a.parse().unwrap())
        .collect();
    let spec = MlpSpec {
        obs_dim: 4,
        n_actions: 2,
        hidden,
    };
    let online = MlpPolicy::new(spec.clone(), Device::Cpu, 0);
    let target = MlpPolicy::new(spec, Device::Cpu, 1);
    let mut opt = nn::Adam::default().build(online.var_store(), 1e-3).unwrap();
    let fused = std::env::var_os("FUSED").is_some();
    let mut ours = Adam::new(
        online.var_store(),
        AdamConfig {
            max_grad_norm: Some(10.0),
            ..AdamConfig::new(1e-3)
        },
    )
    .unwrap();
    let obs: Vec<f32> = (0..256).map(|i| (i as f32).sin()).collect();
    let acts: Vec<i64> = (0..64).map(|i| i % 2).collect();
    let rew = vec![1f32; 64];
    let n = 2000;
    let mut t = [0f64; 6];
    for _ in 0..n {
        let a = Instant::now();
        let o = Tensor::from_slice(&obs).view([64, 4]);
        let no = Tensor::from_slice(&obs).view([64, 4]);
        let ac = Tensor::from_slice(&acts);
        let r = Tensor::from_slice(&rew);
        let b = Instant::now();
        let tgt = tch::no_grad(|| &r + target.forward(&no).amax([1].as_slice(), false) * 0.99);
        let c = Instant::now();
        let q = online
            .forward(&o)
            .gather(1, &ac.unsqueeze(1), false)
            .squeeze_dim(1);
        let loss = q.huber_loss(&tgt, Reduction::Mean, 1.0);
        let d = Instant::now();
        if fused {
            ours.zero_grad()
        } else {
            opt.zero_grad()
        };
        loss.backward();
        let e = Instant::now();
        if !fused {
            opt.clip_grad_norm(10.0)
        };
        let f = Instant::now();
        if fused {
            ours.step();
        } else {
            opt.step()
        };
        let g = Instant::now();
        let _ = loss.double_value(&[]);
        for (k, (x, y)) in [(a, b), (b, c), (c, d), (d, e), (e, f), (f, g)]
            .iter()
            .enumerate()
        {
            t[k] += (*y - *x).as_secs_f64();
        }
    }
    let names = [
        "inputs",
        "target fwd",
        "online fwd+loss",
        "zero+backward",
        "clip",
        "adam",
    ];
    for (name, v) in names.iter().zip(t) {
        println!("{name:>16}: {:8.1} us", v / n as f64 * 1e6);
    }
    println!(
        "{:>16}: {:8.1} us",
        "total",
        t.iter().sum::<f64>() / n as f64 * 1e6
    );
}
