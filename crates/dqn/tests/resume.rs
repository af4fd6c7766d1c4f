//! Exact resume: training in pieces, each continuing from the checkpoint the previous one left,
//! gives bit for bit what one uninterrupted run gives.

use retort_core::{MlpPolicy, NoObserver};
use retort_dqn::{train_with, DqnConfig, DqnError, TrainOptions, TrainOutcome};
use retort_envs::EnvSpec;
use std::path::{Path, PathBuf};
use tch::Device;

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("retort-dqn-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn weights(policy: &MlpPolicy) -> Vec<(String, Vec<u32>)> {
    let mut all: Vec<_> = policy
        .var_store()
        .variables()
        .into_iter()
        .map(|(name, t)| {
            let values = Vec::<f32>::try_from(t.view([-1])).unwrap();
            (name, values.iter().map(|v| v.to_bits()).collect())
        })
        .collect();
    all.sort();
    all
}

fn train_piece(
    config: &DqnConfig,
    resume: Option<&Path>,
    checkpoint: &Path,
    stop_at: Option<u64>,
) -> Result<TrainOutcome, DqnError> {
    let options = TrainOptions {
        resume: resume.map(Path::to_path_buf),
        checkpoint: Some(checkpoint.to_path_buf()),
        stop_at,
    };
    let spec = EnvSpec::new("CartPole-v1");
    train_with(config, &spec, Device::Cpu, 7, &mut NoObserver, &options)
}

/// Trains `config` straight, then in pieces ending at each of `stops`, and compares.
fn assert_pieces_match_straight(config: &DqnConfig, stops: &[u64], name: &str) {
    let dir = scratch(name);
    let straight = train_piece(config, None, &dir.join("straight.safetensors"), None).unwrap();
    assert!(!straight.interrupted);

    let checkpoint = dir.join("resume.safetensors");
    let mut resume = None;
    for &stop in stops {
        let piece = train_piece(config, resume, &checkpoint, Some(stop)).unwrap();
        assert!(piece.interrupted, "piece ending at {stop}");
        assert_eq!(piece.env_steps, stop);
        resume = Some(checkpoint.as_path());
    }
    let last = train_piece(config, resume, &checkpoint, None).unwrap();

    assert_eq!(last.env_steps, straight.env_steps);
    assert_eq!(last.gradient_steps, straight.gradient_steps);
    assert_eq!(last.episodes, straight.episodes);
    assert_eq!(last.solved_at, straight.solved_at);
    assert_eq!(
        last.best_eval.map(f64::to_bits),
        straight.best_eval.map(f64::to_bits)
    );
    assert!(
        weights(&last.policy) == weights(&straight.policy),
        "weights differ"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

fn short_config() -> DqnConfig {
    DqnConfig {
        total_steps: 6_000,
        learning_starts: 500,
        eval_interval: 1_500,
        eval_episodes: 5,
        checkpoint_interval: 1_000,
        ..DqnConfig::default()
    }
}

#[test]
fn two_halves_equal_one_straight_run() {
    assert_pieces_match_straight(&short_config(), &[3_000], "halves");
}

#[test]
fn many_pieces_with_double_dqn_polyak_and_four_copies_equal_one_straight_run() {
    // Stops that fall inside a training round, inside an episode of every copy, and right
    // after a periodic checkpoint.
    let config = DqnConfig {
        num_envs: 4,
        double_dqn: true,
        target_tau: 0.05,
        target_update_interval: 4,
        ..short_config()
    };
    assert_pieces_match_straight(&config, &[1_000, 2_604, 2_608, 4_444], "pieces");
}

#[test]
fn pieces_with_prioritized_replay_n_step_returns_and_dueling_heads_equal_one_straight_run() {
    // The sum tree, the largest priority, the n-step windows of every copy (stops land
    // mid-window) and a buffer that has wrapped around all survive the checkpoints.
    let config = DqnConfig {
        num_envs: 3,
        n_step: 3,
        prioritized_replay: true,
        buffer_size: 2_000,
        dueling: true,
        ..short_config()
    };
    assert_pieces_match_straight(&config, &[999, 3_000, 4_002], "per-nstep");
}

#[test]
fn a_checkpoint_of_another_configuration_is_refused_naming_the_keys() {
    let dir = scratch("mismatch");
    let checkpoint = dir.join("resume.safetensors");
    let config = short_config();
    train_piece(&config, None, &checkpoint, Some(1_000)).unwrap();
    let other = DqnConfig {
        gamma: 0.9,
        hidden: vec![64],
        checkpoint_interval: 500, // bookkeeping only: may differ
        ..config.clone()
    };
    let err = train_piece(&other, Some(&checkpoint), &checkpoint, None)
        .err()
        .unwrap()
        .to_string();
    assert_eq!(
        err,
        format!(
            "checkpoint {} was written by another configuration: teacher.gamma, \
             teacher.hidden differ; resume with the experiment that started the run (its \
             config.toml)",
            checkpoint.display()
        )
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_missing_or_foreign_file_is_refused_with_its_path() {
    let dir = scratch("foreign");
    let missing = dir.join("nothing.safetensors");
    let err = train_piece(&short_config(), Some(&missing), &missing, None)
        .err()
        .unwrap()
        .to_string();
    assert!(
        err.starts_with(&format!("checkpoint {}: ", missing.display())),
        "{err}"
    );
    let junk = dir.join("junk.safetensors");
    std::fs::write(&junk, b"not a checkpoint").unwrap();
    let err = train_piece(&short_config(), Some(&junk), &missing, None)
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("not a readable safetensors file"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn evaluations_during_training_change_nothing_that_training_uses() {
    // Two runs stopped at the same step, one evaluating every 500 steps and one never: their
    // networks, optimiser moments, replay buffers, random streams and environments agree.
    let dir = scratch("eval-isolation");
    let mut saved = Vec::new();
    for (name, eval_interval) in [("with", 500), ("without", 0)] {
        let config = DqnConfig {
            eval_interval,
            target_return: Some(1e9), // never stop early
            ..short_config()
        };
        let checkpoint = dir.join(format!("{name}.safetensors"));
        train_piece(&config, None, &checkpoint, Some(3_000)).unwrap();
        saved.push(std::fs::read(&checkpoint).unwrap());
    }
    let (with, without) = (
        safetensors::SafeTensors::deserialize(&saved[0]).unwrap(),
        safetensors::SafeTensors::deserialize(&saved[1]).unwrap(),
    );
    let mut names = with.names();
    names.sort();
    let mut compared = 0;
    for name in names {
        // The best-so-far snapshot exists only where evaluations choose it.
        if name.starts_with("best.") {
            continue;
        }
        let a = with.tensor(name).unwrap();
        let b = without.tensor(name).unwrap();
        assert!(a.data() == b.data(), "{name} differs");
        compared += 1;
    }
    assert!(compared >= 10, "only {compared} tensors compared");

    let state = |bytes: &[u8]| -> serde_json::Value {
        let (_, meta) = safetensors::SafeTensors::read_metadata(bytes).unwrap();
        serde_json::from_str(&meta.metadata().as_ref().unwrap()["retort"]).unwrap()
    };
    let (a, b) = (state(&saved[0]), state(&saved[1]));
    for key in [
        "explore_rng",
        "replay_rng",
        "envs",
        "episode_returns",
        "gradient_steps",
    ] {
        assert_eq!(a[key], b[key], "{key} differs");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
