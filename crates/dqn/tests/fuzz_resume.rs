//! Fuzzing of resumable checkpoints: a damaged `resume.safetensors` (bytes, header, the
//! training state inside it) given to [`train_with`] as the run to resume never panics, and is
//! either resumed or refused with a message that names the file.
//!
//! `RETORT_FUZZ_ITERS=20000 cargo test --release -p retort-dqn --test fuzz_resume --
//! --nocapture` fuzzes for minutes; see `retort-fuzz` for the other variables.

use retort_core::NoObserver;
use retort_dqn::{train_with, DqnConfig, TrainOptions};
use retort_envs::EnvSpec;
use retort_fuzz::{behaviour_of, mutate_safetensors_header, Fuzzer, Input, Rng};
use std::path::{Path, PathBuf};
use tch::Device;

const PARTS: &[&str] = &["resume.safetensors"];
const SEED: u64 = 7;

/// Tokens of the training state in the header's metadata, and of its tensors.
const DICTIONARY: &[&str] = &[
    "\"env_steps\"",
    "\"gradient_steps\"",
    "\"episodes\"",
    "\"replay\"",
    "\"config\"",
    "\"env\"",
    "\"seed\"",
    "\"format\"",
    "\"replay.obs\"",
    "\"replay.actions\"",
    "\"envs.obs\"",
    "\"adam.first.0\"",
    "\"online.layers.0.weight\"",
    "\"priorities\"",
    "\"__metadata__\"",
    "\"F32\"",
    "\"I64\"",
    "\"U8\"",
    "\"F64\"",
    "null",
    "[]",
    "{}",
    "[0, 0]",
    "true",
];

/// Two small teachers: a plain one, and one with every replay variant and a dueling head.
fn configs() -> [DqnConfig; 2] {
    let plain = DqnConfig {
        hidden: vec![4],
        total_steps: 400,
        learning_starts: 40,
        buffer_size: 120,
        batch_size: 8,
        eval_interval: 0,
        checkpoint_interval: 60,
        ..DqnConfig::default()
    };
    let variants = DqnConfig {
        n_step: 3,
        prioritized_replay: true,
        dueling: true,
        num_envs: 2,
        ..plain.clone()
    };
    [plain, variants]
}

fn train(config: &DqnConfig, options: &TrainOptions) -> Result<u64, String> {
    let spec = EnvSpec::new("CartPole-v1");
    train_with(config, &spec, Device::Cpu, SEED, &mut NoObserver, options)
        .map(|outcome| outcome.env_steps)
        .map_err(|e| e.to_string())
}

/// A checkpoint of each config, written 150 env steps in.
fn seeds(dir: &Path) -> Vec<Input> {
    configs()
        .iter()
        .enumerate()
        .map(|(i, config)| {
            let path = dir.join(format!("seed-{i}.safetensors"));
            let options = TrainOptions {
                checkpoint: Some(path.clone()),
                stop_at: Some(150),
                ..TrainOptions::default()
            };
            train(config, &options).expect("a seed checkpoint trains");
            vec![std::fs::read(&path).expect("the checkpoint reads back")]
        })
        .collect()
}

/// The property, with the input written to `path`: resumed (then stopped at once) under
/// either config, or refused naming the file.
fn check(path: &Path, input: &Input) -> Result<String, String> {
    std::fs::write(path, &input[0]).map_err(|e| format!("cannot write: {e}"))?;
    let options = TrainOptions {
        resume: Some(path.to_path_buf()),
        checkpoint: None,
        stop_at: Some(1),
    };
    let mut refusals = Vec::new();
    for (i, config) in configs().iter().enumerate() {
        match train(config, &options) {
            Ok(steps) => return Ok(format!("resumed config {i} at {}", steps.min(1))),
            Err(message) => {
                if !message.contains(&path.display().to_string()) {
                    return Err(format!("the refusal does not name the file: {message}"));
                }
                refusals.push(behaviour_of(&message, &[&path.display().to_string()]));
            }
        }
    }
    Ok(refusals.join(" / "))
}

fn mutate_header(rng: &mut Rng, input: &mut Input) {
    mutate_safetensors_header(rng, &mut input[0], DICTIONARY);
}

fn scratch() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("retort-fuzz-resume-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("the temp dir is writable");
    dir
}

#[test]
fn fuzzed_resume_checkpoints_never_panic_and_refusals_name_the_file() {
    let dir = scratch();
    let path = dir.join(PARTS[0]);
    let report = Fuzzer::new("resume", PARTS)
        .dictionary(DICTIONARY)
        .custom_mutation(mutate_header)
        .custom_mutation(mutate_header)
        .custom_mutation(mutate_header)
        .max_len(1 << 20)
        .default_iterations(300)
        .run(seeds(&dir), |input| check(&path, input));
    std::fs::remove_dir_all(&dir).ok();
    report.assert_clean();
}
