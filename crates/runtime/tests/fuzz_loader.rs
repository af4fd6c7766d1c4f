//! Fuzzing of the checkpoint loader: [`Mlp::load_with_card`] on mutants of sound checkpoints
//! (plain, dueling and linear networks for several environments) and of the corpus in
//! `tests/fuzz-corpus/checkpoint/` never panics. It refuses with a message naming the
//! checkpoint or a file in it, or returns a network that agrees with its card and acts.
//!
//! Mutations reach both files: `model.json` as text, and `model.safetensors` as bytes and
//! through its JSON header, whose length field is kept in step so that the header's names,
//! dtypes, shapes and offsets are what gets tested. A further mutation recounts the card's
//! `params`, so that a changed architecture gets past the card's own check to the weights.
//!
//! `RETORT_FUZZ_ITERS=300000 cargo test --release -p retort-runtime --test fuzz_loader --
//! --nocapture` fuzzes for minutes; see `retort-fuzz` for the other variables.

use retort_envs::EnvSpec;
use retort_fuzz::{
    behaviour_of, corpus, mutate_safetensors_header, replay, Fuzzer, Input, Rng, MODEL_CARD_TOKENS,
    SAFETENSORS_TOKENS,
};
use retort_runtime::{Mlp, MlpSpec, ModelCard};
use safetensors::tensor::TensorView;
use safetensors::Dtype;
use std::path::{Path, PathBuf};

const PARTS: &[&str] = &["model.json", "model.safetensors"];

fn corpus_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fuzz-corpus/checkpoint")
}

/// A sound checkpoint of `spec` in `env`: the card, and F32 weights with distinct values.
fn checkpoint(env: EnvSpec, spec: MlpSpec) -> Input {
    let card = ModelCard::new("teacher", env, spec.clone());
    let data: Vec<(String, Vec<usize>, Vec<u8>)> = spec
        .tensors()
        .into_iter()
        .enumerate()
        .map(|(t, (name, shape))| {
            let count: usize = shape.iter().product();
            let bytes = (0..count)
                .flat_map(|k| ((k as f32 - t as f32) * 0.03).sin().to_le_bytes())
                .collect();
            (name, shape, bytes)
        })
        .collect();
    let views = data.iter().map(|(name, shape, bytes)| {
        let view = TensorView::new(Dtype::F32, shape.clone(), bytes).expect("consistent sizes");
        (name.clone(), view)
    });
    let weights = safetensors::serialize(views, None).expect("the tensors serialise");
    let json = serde_json::to_string_pretty(&card).expect("a card serialises");
    vec![json.into_bytes(), weights]
}

fn spec(obs_dim: usize, n_actions: usize, hidden: &[usize], dueling: bool) -> MlpSpec {
    MlpSpec {
        obs_dim,
        n_actions,
        hidden: hidden.to_vec(),
        dueling,
    }
}

fn seeds() -> Vec<Input> {
    let grid = |map: &str| EnvSpec {
        map: Some(map.into()),
        ..EnvSpec::new("GridWorld")
    };
    let mut seeds = vec![
        checkpoint(EnvSpec::new("CartPole-v1"), spec(4, 2, &[8], false)),
        checkpoint(EnvSpec::new("CartPole-v1"), spec(4, 2, &[7, 3], true)),
        checkpoint(EnvSpec::new("Acrobot-v1"), spec(6, 3, &[], false)),
        checkpoint(EnvSpec::new("FrozenLake-v1"), spec(16, 4, &[5], false)),
        checkpoint(grid("FourRooms"), spec(169, 4, &[], true)),
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

/// Writes the input's files into `dir`.
fn write(dir: &Path, input: &Input) -> Result<(), String> {
    for (name, bytes) in PARTS.iter().zip(input) {
        std::fs::write(dir.join(name), bytes).map_err(|e| format!("cannot write {name}: {e}"))?;
    }
    Ok(())
}

/// The property, with the input written into `dir`.
fn check(dir: &Path, input: &Input) -> Result<String, String> {
    write(dir, input)?;
    let shown = dir.display().to_string();
    let (card, mlp) = match Mlp::load_with_card(dir) {
        Ok(loaded) => loaded,
        Err(e) => {
            let message = e.to_string();
            if !message.contains(&shown) {
                return Err(format!(
                    "the refusal does not name the checkpoint: {message}"
                ));
            }
            if message.replace(&shown, "").trim().len() < 10 {
                return Err(format!("a refusal that says almost nothing: {message}"));
            }
            return Ok(behaviour_of(&message, &[&shown]));
        }
    };
    if let Some(problem) = card.problem() {
        return Err(format!("a card with a problem was accepted: {problem}"));
    }
    if (mlp.spec(), mlp.params()) != (&card.mlp, card.params) {
        return Err(format!("{mlp:?} loaded for the card {:?}", card.mlp));
    }
    let mut scores = vec![0.0; mlp.n_actions()];
    for value in [0.0, 1.0, -1e30, f32::NAN] {
        let obs = vec![value; mlp.obs_dim()];
        mlp.scores(&obs, &mut scores);
        if mlp.act(&obs) >= mlp.n_actions() {
            return Err("an action out of range".into());
        }
    }
    Ok(format!(
        "ok {} dueling {} depth {}",
        card.env.id,
        card.mlp.dueling,
        card.mlp.hidden.len().min(3)
    ))
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("retort-fuzz-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("the temp dir is writable");
    dir
}

#[test]
fn fuzzed_checkpoints_never_panic_the_runtime_loader_and_refusals_name_them() {
    let dir = scratch("runtime-loader");
    let dictionary: Vec<&str> = MODEL_CARD_TOKENS
        .iter()
        .chain(SAFETENSORS_TOKENS)
        .copied()
        .collect();
    let report = Fuzzer::new("runtime-loader", PARTS)
        .dictionary(&dictionary)
        .custom_mutation(mutate_header)
        .custom_mutation(mutate_header)
        .custom_mutation(recount_params)
        .default_iterations(5_000)
        .run(seeds(), |input| check(&dir, input));
    std::fs::remove_dir_all(&dir).ok();
    report.assert_clean();
}

#[test]
fn the_checkpoint_fuzz_corpus_replays_through_the_runtime_loader() {
    let dir = scratch("runtime-loader-replay");
    let cases = replay(&corpus_dir(), PARTS, |input| check(&dir, input));
    std::fs::remove_dir_all(&dir).ok();
    assert!(cases >= 3, "{cases} cases");
}
