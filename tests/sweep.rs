//! `retort sweep` through the binary: seeds × configurations, one teacher per seed, and the
//! aggregate with confidence intervals.

mod common;

use common::{retort, scratch};
use serde_json::Value;

const SWEEP: &str = r#"
name = "sweeptest"
[env]
id = "CartPole-v1"
[teacher]
hidden = [32, 32]
total_steps = 4000
learning_starts = 500
train_freq = 64
gradient_steps = 16
eval_interval = 2000
eval_episodes = 10
[eval]
episodes = 10
[distill]
states = 1000
steps = 100
agreement_points = 4
[[students]]
name = "h4"
hidden = [4]
[sweep]
loss = ["kl", "mse"]
"#;

#[test]
fn a_sweep_runs_every_configuration_for_every_seed_from_one_teacher_per_seed() {
    let dir = scratch("sweep");
    let file = dir.join("sweep.toml");
    std::fs::write(&file, SWEEP).unwrap();
    let out_dir = dir.join("out");
    let out = retort(&[
        "sweep",
        file.to_str().unwrap(),
        "--seeds",
        "2",
        "--jobs",
        "2",
        "--out",
        out_dir.to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");

    let summary: Value =
        serde_json::from_str(&std::fs::read_to_string(out_dir.join("summary.json")).unwrap())
            .unwrap();
    assert_eq!(summary["seeds"], serde_json::json!([0, 1]));
    let configurations = summary["configurations"].as_array().unwrap();
    let names: Vec<_> = configurations
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["loss-kl", "loss-mse"]);
    for c in configurations {
        let student = &c["students"][0];
        assert_eq!(student["name"], "h4");
        assert_eq!(
            student["return_mean"]["values"].as_array().unwrap().len(),
            2
        );
        assert!(student["return_mean"]["ci95"].is_number());
    }
    // Both configurations distil the same teacher of each seed.
    assert_eq!(
        configurations[0]["teacher_return_mean"]["values"],
        configurations[1]["teacher_return_mean"]["values"]
    );
    for seed in [0, 1] {
        let kl = out_dir.join(format!("loss-kl/seed-{seed}/teacher/model.safetensors"));
        let mse = out_dir.join(format!("loss-mse/seed-{seed}/teacher/model.safetensors"));
        assert_eq!(std::fs::read(kl).unwrap(), std::fs::read(mse).unwrap());
        // The second configuration's run says where its teacher came from.
        let run = out_dir.join(format!("loss-mse/seed-{seed}"));
        let text = std::fs::read_to_string(run.join("summary.json")).unwrap();
        let summary: Value = serde_json::from_str(&text).unwrap();
        let from = out_dir.join(format!("loss-kl/seed-{seed}/teacher"));
        assert_eq!(summary["teacher"]["loaded_from"], from.to_str().unwrap());
        let table = std::fs::read_to_string(run.join("summary.md")).unwrap();
        assert!(table.contains(&format!("Teacher: loaded from {}.", from.display())));
        // It was not trained in this run, so it has no seconds of its own.
        let row = table
            .lines()
            .find(|l| l.starts_with("| teacher |"))
            .unwrap();
        assert!(row.ends_with("| — | — |"), "{row}");
    }
    assert!(out_dir.join("summary.md").is_file());
    assert!(out_dir.join("plots/return_vs_params.png").is_file());
    assert!(out_dir.join("plots/agreement_vs_params.png").is_file());
    let curves = std::fs::read(out_dir.join("plots/teacher_learning_curves.png")).unwrap();
    assert!(curves.starts_with(b"\x89PNG\r\n\x1a\n"));
    // The curves come from each teacher's periodic evaluations, kept in its run summary.
    for seed in [0, 1] {
        let run = out_dir.join(format!("loss-kl/seed-{seed}/summary.json"));
        let run: Value = serde_json::from_str(&std::fs::read_to_string(run).unwrap()).unwrap();
        let curve = run["teacher"]["eval_curve"].as_array().unwrap();
        assert_eq!(curve[0][0], 2000, "seed {seed}: {curve:?}");
    }
    // Each student's agreement while fitting: 4 points, every 25 of its 100 steps, the last
    // one its final agreement, per seed and as a mean over seeds.
    for c in configurations {
        let student = &c["students"][0];
        let curve = student["agreement_curve"].as_array().unwrap();
        let steps: Vec<_> = curve.iter().map(|p| p["step"].as_u64().unwrap()).collect();
        assert_eq!(steps, [25, 50, 75, 100]);
        assert_eq!(
            curve[3]["agreement"]["values"],
            student["agreement"]["values"]
        );
        let name = c["name"].as_str().unwrap();
        let png = std::fs::read(out_dir.join(format!("plots/agreement_curves-{name}.png")));
        assert!(png.unwrap().starts_with(b"\x89PNG\r\n\x1a\n"));
    }
}
