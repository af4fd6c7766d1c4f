//! Fuzzing of the trainer's checkpoint loader: [`load_checkpoint`] on mutants of checkpoints
//! written by [`save_checkpoint`] (plain, dueling and linear networks) and of the corpus in
//! `tests/fuzz-corpus/checkpoint/` never panics, refuses with a message naming the checkpoint
//! or a file in it, and accepts exactly what the libtorch-free runtime accepts.
//!
//! `RETORT_FUZZ_ITERS=100000 cargo test --release -p retort-core --test fuzz_checkpoint --
//! --nocapture` fuzzes for minutes; see `retort-fuzz` for the other variables.

use retort_core::{load_checkpoint, save_checkpoint, GreedyPolicy, MlpPolicy, MlpSpec, ModelCard};
use retort_envs::EnvSpec;
use retort_fuzz::{
    behaviour_of, corpus, mutate_safetensors_header, replay, Fuzzer, Input, Rng, MODEL_CARD_TOKENS,
    SAFETENSORS_TOKENS,
};
use std::path::{Path, PathBuf};
use tch::Device;

const PARTS: &[&str] = &["model.json", "model.safetensors"];

fn corpus_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fuzz-corpus/checkpoint")
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("retort-fuzz-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("the temp dir is writable");
    dir
}

/// A checkpoint as the trainer writes it, read back as an input.
fn saved(dir: &Path, env: &str, hidden: &[usize], dueling: bool) -> Input {
    let spec = MlpSpec {
        obs_dim: 4,
        n_actions: 2,
        hidden: hidden.to_vec(),
        dueling,
    };
    let policy = MlpPolicy::new(spec.clone(), Device::Cpu, 1);
    let card = ModelCard::new("student", EnvSpec::new(env), spec);
    save_checkpoint(dir, &card, &policy).expect("a checkpoint saves");
    PARTS
        .iter()
        .map(|p| std::fs::read(dir.join(p)).expect("the checkpoint reads back"))
        .collect()
}

fn seeds(dir: &Path) -> Vec<Input> {
    let mut seeds = vec![
        saved(dir, "CartPole-v1", &[8], false),
        saved(dir, "CartPole-v1", &[5, 3], true),
        saved(dir, "CartPole-v1", &[], false),
    ];
    seeds.extend(
        corpus(&corpus_dir(), PARTS)
            .into_iter()
            .map(|(_, input)| input),
    );
    seeds
}

/// Sets the card's `params` to what its architecture has, when the card reads as JSON.
fn recount_params(_: &mut Rng, input: &mut Input) {
    let Ok(mut card) = serde_json::from_slice::<serde_json::Value>(&input[0]) else {
        return;
    };
    let Ok(spec) = serde_json::from_value::<MlpSpec>(card["mlp"].clone()) else {
        return;
    };
    if let (Some(params), Some(object)) = (spec.checked_params(), card.as_object_mut()) {
        object.insert("params".into(), params.into());
        input[0] = serde_json::to_vec(&card).expect("a JSON value serialises");
    }
}

fn mutate_header(rng: &mut Rng, input: &mut Input) {
    mutate_safetensors_header(rng, &mut input[1], SAFETENSORS_TOKENS);
}

/// The property, with the input written into `dir`.
fn check(dir: &Path, input: &Input) -> Result<String, String> {
    for (name, bytes) in PARTS.iter().zip(input) {
        std::fs::write(dir.join(name), bytes).map_err(|e| format!("cannot write {name}: {e}"))?;
    }
    let shown = dir.display().to_string();
    let runtime = retort_runtime::Mlp::load_with_card(dir);
    match (load_checkpoint(dir, Device::Cpu), runtime) {
        (Ok((card, policy)), Ok((runtime_card, _))) => {
            if card != runtime_card {
                return Err(format!("the loaders read different cards: {card:?}"));
            }
            let mut actions = vec![0; 2];
            policy.act(&vec![0.5; 2 * card.mlp.obs_dim], &mut actions);
            if actions.iter().any(|&a| a >= card.mlp.n_actions) {
                return Err(format!("actions out of range: {actions:?}"));
            }
            Ok(format!("ok dueling {}", card.mlp.dueling))
        }
        (Err(e), Err(_)) => {
            let message = e.to_string();
            if !message.contains(&shown) {
                return Err(format!(
                    "the refusal does not name the checkpoint: {message}"
                ));
            }
            Ok(behaviour_of(&message, &[&shown]))
        }
        (Ok(_), Err(e)) => Err(format!("libtorch loaded what the runtime refused: {e}")),
        (Err(e), Ok(_)) => Err(format!("the runtime loaded what libtorch refused: {e}")),
    }
}

#[test]
fn fuzzed_checkpoints_never_panic_the_trainer_s_loader_which_agrees_with_the_runtime() {
    let dir = scratch("core-loader");
    let dictionary: Vec<&str> = MODEL_CARD_TOKENS
        .iter()
        .chain(SAFETENSORS_TOKENS)
        .copied()
        .collect();
    let report = Fuzzer::new("core-loader", PARTS)
        .dictionary(&dictionary)
        .custom_mutation(mutate_header)
        .custom_mutation(mutate_header)
        .custom_mutation(recount_params)
        .default_iterations(5_000)
        .run(seeds(&dir), |input| check(&dir, input));
    std::fs::remove_dir_all(&dir).ok();
    report.assert_clean();
}

#[test]
fn the_checkpoint_fuzz_corpus_replays_through_the_trainer_s_loader() {
    let dir = scratch("core-loader-replay");
    let cases = replay(&corpus_dir(), PARTS, |input| check(&dir, input));
    std::fs::remove_dir_all(&dir).ok();
    assert!(cases >= 3, "{cases} cases");
}
