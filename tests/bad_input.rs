//! Bad input through the binary: a clear message naming the file and key, a non-zero exit,
//! no panic, and nothing written.

mod common;

use common::{retort, scratch};
use std::path::Path;

/// Runs `retort run FILE --out DIR` on an experiment with `text`, asserts that it fails
/// cleanly, that the output directory was not created, and returns stderr.
fn run_bad(name: &str, text: &str) -> String {
    let dir = scratch(name);
    let file = dir.join("experiment.toml");
    std::fs::write(&file, text).unwrap();
    let out_dir = dir.join("out");
    let out = retort(&[
        "run",
        file.to_str().unwrap(),
        "--out",
        out_dir.to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{name}: expected exit 1, stderr:\n{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{name}: panicked:\n{stderr}");
    assert!(
        stderr.contains(file.to_str().unwrap()),
        "{name}: file not named:\n{stderr}"
    );
    assert!(!out_dir.exists(), "{name}: output directory was created");
    stderr
}

const CARTPOLE: &str = "[env]\nid = \"CartPole-v1\"\n";

#[test]
fn misspelt_key_is_named() {
    let stderr = run_bad(
        "misspelt",
        &format!("{CARTPOLE}[teacher]\nlearning_rat = 0.1\n"),
    );
    assert!(stderr.contains("learning_rat"), "{stderr}");
}

#[test]
fn wrong_type_is_named() {
    let stderr = run_bad(
        "wrongtype",
        &format!("{CARTPOLE}[teacher]\ntotal_steps = \"many\"\n"),
    );
    assert!(stderr.contains("total_steps"), "{stderr}");
}

#[test]
fn out_of_range_values_are_named_with_their_range() {
    let cases = [
        (
            "gamma",
            "[teacher]\ngamma = 1.5\n",
            "teacher.gamma = 1.5: must be in (0, 1]",
        ),
        (
            "eps",
            "[teacher]\nexploration_final_eps = 2.0\n",
            "teacher.exploration_final_eps = 2",
        ),
        (
            "tau",
            "[distill]\ntemperature = -1.0\n",
            "distill.temperature = -1: must be positive",
        ),
        (
            "budget",
            "[teacher]\ntotal_steps = 0\n",
            "teacher.total_steps = 0: must be at least 1",
        ),
        ("episodes", "[eval]\nepisodes = 0\n", "eval.episodes = 0"),
    ];
    for (name, table, expected) in cases {
        let stderr = run_bad(name, &format!("{CARTPOLE}{table}"));
        assert!(stderr.contains(expected), "{name}: {stderr}");
    }
}

#[test]
fn unknown_env_and_unknown_loss_are_named() {
    let stderr = run_bad("env", "[env]\nid = \"CartPole-v9\"\n");
    assert!(
        stderr.contains("CartPole-v9") && stderr.contains("CartPole-v1"),
        "{stderr}"
    );
    let stderr = run_bad("loss", &format!("{CARTPOLE}[distill]\nloss = \"l2\"\n"));
    assert!(stderr.contains("l2") && stderr.contains("kl"), "{stderr}");
}

#[test]
fn missing_and_non_toml_files_are_refused() {
    let dir = scratch("missing");
    let missing = dir.join("nope.toml");
    let out = retort(&[
        "run",
        missing.to_str().unwrap(),
        "--out",
        dir.join("o").to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr.contains("nope.toml") && !stderr.contains("panicked"),
        "{stderr}"
    );
    run_bad("nottoml", "this is not toml ][");
    run_bad("empty", "");
}

#[test]
fn a_non_empty_output_directory_is_refused_and_left_alone() {
    let dir = scratch("nonempty");
    std::fs::write(dir.join("precious.txt"), "keep me").unwrap();
    let out = retort(&["run", "experiments/ci.toml", "--out", dir.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("not empty"), "{stderr}");
    let entries: Vec<_> = std::fs::read_dir(&dir).unwrap().collect();
    assert_eq!(entries.len(), 1);
    assert_eq!(
        std::fs::read_to_string(dir.join("precious.txt")).unwrap(),
        "keep me"
    );
}

#[test]
fn eval_of_a_missing_checkpoint_says_what_to_pass() {
    let out = retort(&["eval", "/nonexistent/teacher"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr.contains("model.json") && !stderr.contains("panicked"),
        "{stderr}"
    );
    assert!(!Path::new("/nonexistent").exists());
}

#[test]
fn cli_misuse_is_a_usage_error() {
    for args in [
        &["fly"][..],
        &["run", "experiments/ci.toml", "--bogus"],
        &["run", "experiments/ci.toml", "--device", "tpu"],
        &["run", "experiments/ci.toml", "--threads", "0"],
        &["eval", "x", "--episodes", "0"],
    ] {
        let out = retort(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
    }
}

#[test]
fn a_replay_buffer_larger_than_memory_is_refused_and_leaves_nothing() {
    let stderr = run_bad(
        "hugebuffer",
        &format!("{CARTPOLE}[teacher]\nbuffer_size = 100000000000\n"),
    );
    assert!(
        stderr.contains("teacher.buffer_size = 100000000000"),
        "{stderr}"
    );
}

#[test]
fn distilling_from_a_teacher_of_another_env_leaves_nothing() {
    // A real, briefly trained FrozenLake teacher…
    let dir = scratch("wrongteacher");
    let experiment = dir.join("lake.toml");
    let lake = "[env]\nid = \"FrozenLake-v1\"\n[teacher]\nhidden = [8]\ntotal_steps = 300\n\
                learning_starts = 100\neval_interval = 0\n[eval]\nepisodes = 2\n";
    std::fs::write(&experiment, lake).unwrap();
    let teacher_run = dir.join("lake");
    let out = retort(&[
        "train",
        experiment.to_str().unwrap(),
        "--out",
        teacher_run.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // …offered to a CartPole experiment.
    let out_dir = dir.join("out");
    let teacher = teacher_run.join("teacher");
    let out = retort(&[
        "distill",
        "experiments/ci.toml",
        "--teacher",
        teacher.to_str().unwrap(),
        "--out",
        out_dir.to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains(r#"{"id":"FrozenLake-v1"}"#), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(!out_dir.exists(), "the run directory was left behind");
}
