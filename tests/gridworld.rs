//! GridWorld teachers through the binary: on deterministic maps the DQN teacher reaches the
//! optimum that dynamic programming computes, and on slippery FrozenLake its greedy policy's
//! exact expected return comes within 5 % of the optimal one.

mod common;

use common::{retort, scratch, train_into};
use serde_json::Value;

/// Trains the teacher of `experiment` with `seed` and returns its run's `summary.json`.
fn train(name: &str, experiment: &str, seed: &str) -> Value {
    let dir = scratch(name);
    let summary = train_into(&dir, experiment, seed);
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

/// Trains the teacher of a slippery experiment (exact evaluations while training) and checks
/// what exact evaluation promises: every periodic evaluation is an expected return no higher
/// than the optimum, the snapshot kept is the best of them, the final played episodes estimate
/// it, and `retort eval` prints it. Returns the optimum and the teacher's expected return.
fn slippery_teacher(name: &str, experiment: &str, seed: &str) -> (f64, f64) {
    let dir = scratch(name);
    let summary = train_into(&dir, experiment, seed);
    let teacher = &summary["teacher"];
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
    // Computed again after training, the kept snapshot's exact return is the best evaluation.
    let best = curve.iter().copied().fold(f64::MIN, f64::max);
    let expected = teacher["expected_return"].as_f64().unwrap();
    assert_eq!(expected, best, "{teacher}");
    assert_eq!(teacher["episodes"], 10_000);
    let mean = teacher["return_mean"].as_f64().unwrap();
    let ci95 = teacher["return_ci95"].as_f64().unwrap();
    assert!(
        (mean - expected).abs() <= 2.0 * ci95,
        "{mean} ± {ci95} against {expected}"
    );

    let teacher_dir = dir.join("teacher");
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
    (optimum, expected)
}

#[test]
fn a_slippery_frozen_lake_4x4_teacher_comes_within_5_percent_of_the_optimum() {
    let experiment = "experiments/frozenlake-4x4-slippery.toml";
    let (optimum, expected) = slippery_teacher("lake4-slip", experiment, "0");
    // The exact optimum within 100 slippery steps.
    assert!((optimum - 0.7442).abs() < 1e-4, "{optimum}");
    assert!(expected >= 0.95 * optimum, "{expected} < 0.95 × {optimum}");
}

#[test]
fn a_slippery_frozen_lake_8x8_teacher_comes_within_5_percent_of_the_optimum() {
    let experiment = "experiments/frozenlake-8x8-slippery.toml";
    let (optimum, expected) = slippery_teacher("lake8-slip", experiment, "0");
    assert!((optimum - 0.6407).abs() < 1e-4, "{optimum}");
    assert!(expected >= 0.95 * optimum, "{expected} < 0.95 × {optimum}");
}

#[test]
fn classic_control_summaries_have_no_expected_return() {
    let summary = train("cartpole-no-exact", "experiments/ci.toml", "0");
    assert!(summary["teacher"].get("expected_return").is_none());
    assert!(summary["optimal_return"].is_null());
}
