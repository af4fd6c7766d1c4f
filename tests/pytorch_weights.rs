//! A saved policy loads into PyTorch (`safetensors` + `torch.nn.Linear`) by name and picks the
//! same actions there as in retort: plain students and dueling teachers alike.

mod common;

use common::{python, root, scratch};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use retort_core::{save_checkpoint, GreedyPolicy, MlpPolicy, MlpSpec, ModelCard};
use retort_envs::EnvSpec;
use std::process::Command;

#[test]
fn pytorch_rebuilds_the_mlp_from_the_safetensors_and_agrees_on_every_action() {
    let dir = scratch("pytorch");
    // One Python process for every policy: importing torch is the slow part.
    let mut cases = Vec::new();
    let mut args = Vec::new();
    let shapes = [
        (vec![], false),
        (vec![16], false),
        (vec![64, 32], false),
        (vec![], true),
        (vec![64, 32], true),
    ];
    for (k, (hidden, dueling)) in shapes.into_iter().enumerate() {
        let spec = MlpSpec {
            obs_dim: 4,
            n_actions: 2,
            hidden,
            dueling,
        };
        let policy = MlpPolicy::new(spec.clone(), tch::Device::Cpu, 40 + k as u64);
        let checkpoint = dir.join(format!("policy-{k}"));
        let role = if dueling { "teacher" } else { "student" };
        let card = ModelCard::new(role, EnvSpec::new("CartPole-v1"), spec);
        save_checkpoint(&checkpoint, &card, &policy).unwrap();

        let mut rng = ChaCha8Rng::seed_from_u64(k as u64);
        let n = 5_000;
        let obs: Vec<f32> = (0..n * 4).map(|_| rng.random_range(-3.0..3.0)).collect();
        let rows: Vec<&[f32]> = obs.chunks(4).collect();
        let obs_file = dir.join(format!("obs-{k}.json"));
        std::fs::write(&obs_file, serde_json::to_string(&rows).unwrap()).unwrap();
        let out_file = dir.join(format!("actions-{k}.json"));
        args.extend([checkpoint, obs_file, out_file.clone()]);
        cases.push((k, policy, obs, out_file));
    }
    let output = Command::new(python())
        .arg(root().join("scripts/torch_actions.py"))
        .args(&args)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );

    for (k, policy, obs, out_file) in cases {
        let n = obs.len() / 4;
        let torch_actions: Vec<usize> =
            serde_json::from_str(&std::fs::read_to_string(&out_file).unwrap()).unwrap();

        let mut ours = vec![0; n];
        policy.act(&obs, &mut ours);
        assert_eq!(torch_actions.len(), n);
        let differing = ours
            .iter()
            .zip(&torch_actions)
            .filter(|(a, b)| a != b)
            .count();
        assert_eq!(
            differing, 0,
            "{differing} of {n} actions differ for policy {k}"
        );
        // Both actions occur, so the comparison is not trivially constant.
        assert!(
            ours.contains(&0) && ours.contains(&1),
            "policy {k} always picks one action"
        );
    }
}
