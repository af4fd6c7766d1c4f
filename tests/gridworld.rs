//! GridWorld teachers through the binary: on deterministic maps the DQN teacher reaches the
//! optimum that dynamic programming computes, and on slippery FrozenLake it comes within 5 % of
//! the optimal expected return.

mod common;

use common::{retort, scratch};
use serde_json::Value;

/// Trains the teacher of `experiment` with `seed` and returns its run's `summary.json`.
fn train(name: &str, experiment: &str, seed: &str) -> Value {
    let dir = scratch(name);
    let out = retort(&[
        "train",
        experiment,
        "--seed",
        seed,
        "--out",
        dir.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(dir.join("summary.json")).unwrap();
    let summary = serde_json::from_str(&text).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    summary
}

#[test]
fn a_cliff_walking_teacher_walks_the_edge_for_the_optimal_return_of_minus_13() {
    let summary = train("cliff", "experiments/cliffwalking.toml", "0");
    assert_eq!(summary["optimal_return"], -13.0);
    let teacher = &summary["teacher"];
    assert_eq!(teacher["episodes"], 100);
    assert_eq!(teacher["return_mean"], -13.0, "{teacher}");
    assert_eq!(teacher["return_std"], 0.0);
    assert!(teacher["solved_at_env_step"].is_u64(), "{teacher}");
}

#[test]
fn a_frozen_lake_4x4_teacher_without_slip_reaches_the_goal_every_time() {
    let summary = train("lake4", "experiments/frozenlake-4x4.toml", "1");
    assert_eq!(summary["optimal_return"], 1.0);
    let teacher = &summary["teacher"];
    assert_eq!(teacher["return_mean"], 1.0, "{teacher}");
}

#[test]
fn a_slippery_frozen_lake_4x4_teacher_comes_within_5_percent_of_the_optimum() {
    let summary = train(
        "lake4-slip",
        "experiments/frozenlake-4x4-slippery.toml",
        "0",
    );
    // The exact optimum within 100 slippery steps.
    let optimum = summary["optimal_return"].as_f64().unwrap();
    assert!((optimum - 0.7442).abs() < 1e-4, "{optimum}");
    let teacher = &summary["teacher"];
    assert_eq!(teacher["episodes"], 1000);
    let mean = teacher["return_mean"].as_f64().unwrap();
    assert!(
        mean >= 0.95 * optimum,
        "{mean} < 0.95 × {optimum}: {teacher}"
    );
}

#[test]
fn with_exact_evaluations_the_teacher_kept_is_the_best_one_evaluated() {
    let dir = scratch("lake4-exact");
    let file = dir.join("exact.toml");
    let text = std::fs::read_to_string("experiments/frozenlake-4x4-slippery.toml").unwrap();
    std::fs::write(
        &file,
        text.replace("[teacher]\n", "[teacher]\nexact_eval = true\n"),
    )
    .unwrap();
    let out_dir = dir.join("out");
    let out = retort(&[
        "train",
        file.to_str().unwrap(),
        "--out",
        out_dir.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(out_dir.join("summary.json")).unwrap();
    let summary: Value = serde_json::from_str(&text).unwrap();
    let teacher = &summary["teacher"];
    // Every periodic evaluation is an exact expected return: at most the optimum.
    let optimum = summary["optimal_return"].as_f64().unwrap();
    let curve: Vec<f64> = teacher["eval_curve"]
        .as_array()
        .unwrap()
        .iter()
        .map(|point| point[1].as_f64().unwrap())
        .collect();
    assert!(curve.len() > 1, "{teacher}");
    assert!(
        curve.iter().all(|&v| (0.0..=optimum).contains(&v)),
        "{curve:?}"
    );
    // The snapshot kept is the best of them, so its exact return, computed again after
    // training, is exactly the best evaluation; the 1 000 played episodes estimate it.
    let best = curve.iter().copied().fold(f64::MIN, f64::max);
    let expected = teacher["expected_return"].as_f64().unwrap();
    assert_eq!(expected, best, "{teacher}");
    let mean = teacher["return_mean"].as_f64().unwrap();
    let ci95 = teacher["return_ci95"].as_f64().unwrap();
    assert!(
        (mean - expected).abs() <= 2.0 * ci95,
        "{mean} ± {ci95} against {expected}"
    );
    // `retort eval` reports the same exact return beside its played episodes.
    let teacher_dir = out_dir.join("teacher");
    let out = retort(&["eval", teacher_dir.to_str().unwrap(), "--episodes", "10"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let line = format!("exact expected return (dynamic programming): {expected:.4}");
    assert!(stdout.contains(&line), "{stdout}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn classic_control_summaries_have_no_expected_return() {
    let summary = train("cartpole-no-exact", "experiments/ci.toml", "0");
    assert!(summary["teacher"].get("expected_return").is_none());
    assert!(summary["optimal_return"].is_null());
}
