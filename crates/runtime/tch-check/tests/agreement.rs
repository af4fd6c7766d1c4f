//! The runtime acts exactly like the trainer's tch policy on checkpoints the trainer wrote.
//!
//! For each architecture: a random `MlpPolicy` (the trainer's initialisation, output biases
//! centred so that the decision boundaries cross the states) is saved with `save_checkpoint`,
//! loaded with `retort_runtime::Mlp::load`, and both choose actions on 100 000 states — half
//! from CartPole play, half uniform over a box. Every action must agree, except where tch's
//! top two scores are within `NEAR_TIE` of each other: there the last bits of the sums decide,
//! and a difference is counted and reported but allowed.

use retort_core::{load_checkpoint, GreedyPolicy, MlpSpec, ModelCard};
use retort_runtime::Mlp;
use retort_runtime_tch_check::{
    cartpole_states, random_policy, save, temp_dir, uniform_states, CARTPOLE_BOX,
};

const STATES: usize = 100_000;
const NEAR_TIE: f32 = 1e-5;
/// States also checked one at a time against tch, whose single-row path (matrix-vector
/// product) sums in yet another order than its batched one.
const SINGLE_ROW_STATES: usize = 5_000;

/// Top-two gap of one row of scores.
fn gap(scores: &[f32]) -> f32 {
    let mut sorted = scores.to_vec();
    sorted.sort_by(|a, b| b.total_cmp(a));
    if sorted.len() < 2 {
        f32::INFINITY
    } else {
        sorted[0] - sorted[1]
    }
}

/// Compares runtime and tch on `states` (row after row) for one architecture; returns the
/// number of near-ties where they differ.
fn compare(name: &str, spec: MlpSpec, states: &[f32], seed: u64) -> usize {
    let dir = temp_dir(&format!("agree-{name}"));
    let policy = random_policy(&spec, seed, states);
    save(&dir, &policy);
    let mlp = match Mlp::load(&dir) {
        Ok(mlp) => mlp,
        Err(e) => panic!("{name}: the runtime refused the trainer's checkpoint: {e}"),
    };
    assert_eq!(mlp.params(), spec.params(), "{name}");

    let n = states.len() / spec.obs_dim;
    let k = spec.n_actions;
    let mut tch_actions = vec![0usize; n];
    policy.act(states, &mut tch_actions);
    let tch_scores = match Vec::<f32>::try_from(policy.scores(states).flatten(0, -1)) {
        Ok(scores) => scores,
        Err(e) => panic!("{name}: reading tch's scores failed: {e}"),
    };

    let mut scores = vec![0.0f32; k];
    let (mut near_ties, mut differ_at_near_tie, mut max_abs) = (0, 0, 0.0f32);
    for (i, obs) in states.chunks_exact(spec.obs_dim).enumerate() {
        let ours = mlp.act(obs);
        mlp.scores(obs, &mut scores);
        let theirs = &tch_scores[i * k..][..k];
        for (a, b) in scores.iter().zip(theirs) {
            max_abs = max_abs.max((a - b).abs());
        }
        let close = gap(theirs) < NEAR_TIE;
        near_ties += usize::from(close);
        if ours != tch_actions[i] {
            assert!(
                close,
                "{name}, state {i} {obs:?}: runtime {ours} ({scores:?}), tch {} ({theirs:?})",
                tch_actions[i]
            );
            differ_at_near_tie += 1;
        }
    }
    let mut single = [0usize];
    for (i, obs) in states
        .chunks_exact(spec.obs_dim)
        .take(SINGLE_ROW_STATES)
        .enumerate()
    {
        policy.act(obs, &mut single);
        if single[0] != mlp.act(obs) {
            let theirs = &tch_scores[i * k..][..k];
            assert!(
                gap(theirs) < NEAR_TIE,
                "{name}, state {i}: single-row tch differs"
            );
            differ_at_near_tie += 1;
        }
    }
    let split: Vec<usize> = (0..k)
        .map(|a| tch_actions.iter().filter(|&&b| b == a).count())
        .collect();
    println!(
        "{name:>26}: {n} states, actions per index {split:?}, near-ties {near_ties}, \
         differing {differ_at_near_tie}, max |Δscore| {max_abs:.2e}"
    );
    // Every action occurs, so agreement is not agreement on a constant.
    assert!(split.iter().all(|&c| c > 0), "{name}: {split:?}");
    let _ = std::fs::remove_dir_all(&dir);
    differ_at_near_tie
}

fn cartpole(hidden: &[usize]) -> MlpSpec {
    MlpSpec {
        obs_dim: 4,
        n_actions: 2,
        hidden: hidden.to_vec(),
        dueling: false,
    }
}

#[test]
fn runtime_and_tch_choose_the_same_action_on_every_state() {
    tch::set_num_threads(1);
    let mut states = cartpole_states(STATES / 2, 1);
    states.extend(uniform_states(STATES / 2, 4, &CARTPOLE_BOX, 2));

    let mut differing = 0;
    for (seed, hidden) in [&[][..], &[4], &[16], &[64], &[64, 64], &[256, 256]]
        .into_iter()
        .enumerate()
    {
        let name = format!("CartPole {hidden:?}");
        differing += compare(&name, cartpole(hidden), &states, 100 + seed as u64);
    }
    // Dueling teachers: value and advantage streams on the same trunks.
    for (seed, hidden) in [&[][..], &[64], &[128, 128]].into_iter().enumerate() {
        let name = format!("CartPole {hidden:?} dueling");
        let spec = MlpSpec {
            dueling: true,
            ..cartpole(hidden)
        };
        differing += compare(&name, spec, &states, 200 + seed as u64);
    }
    // Wider inputs and more actions (a grid world's one-hot observation has 16–100 values).
    for dueling in [false, true] {
        let spec = MlpSpec {
            obs_dim: 16,
            n_actions: 4,
            hidden: vec![32, 32],
            dueling,
        };
        let grid = uniform_states(STATES, 16, &[1.0], 3);
        let name = format!("16 → [32, 32] → 4{}", if dueling { " dueling" } else { "" });
        differing += compare(&name, spec, &grid, 7);
    }
    println!("actions differing at near-ties, all architectures: {differing}");
}

#[test]
fn cards_read_alike_and_the_trainer_loads_what_the_runtime_accepts() {
    let dir = temp_dir("cards");
    let spec = cartpole(&[8, 3]);
    save(&dir, &random_policy(&spec, 5, &[]));
    let (core_card, _) = match load_checkpoint(&dir, tch::Device::Cpu) {
        Ok(loaded) => loaded,
        Err(e) => panic!("retort-core refused its own checkpoint: {e}"),
    };
    let (card, mlp) = match Mlp::load_with_card(&dir) {
        Ok(loaded) => loaded,
        Err(e) => panic!("the runtime refused the checkpoint: {e}"),
    };
    // The runtime's card serialises to exactly the JSON of retort-core's.
    let ours = serde_json::to_value(&card).expect("a card serialises");
    let theirs = serde_json::to_value(&core_card).expect("a card serialises");
    assert_eq!(ours, theirs);
    assert_eq!(mlp.spec().hidden, [8, 3]);
    // Plain cards are written without a `dueling` field, as before it existed.
    assert_eq!(ours["mlp"].get("dueling"), None);

    // A dueling teacher's card reads alike too, and both sides compute the same Q-values.
    let spec = MlpSpec {
        dueling: true,
        ..spec
    };
    let policy = random_policy(&spec, 5, &[]);
    save(&dir, &policy);
    let (core_card, core_policy) = match load_checkpoint(&dir, tch::Device::Cpu) {
        Ok(loaded) => loaded,
        Err(e) => panic!("retort-core refused its own dueling checkpoint: {e}"),
    };
    let (card, mlp) = match Mlp::load_with_card(&dir) {
        Ok(loaded) => loaded,
        Err(e) => panic!("the runtime refused the dueling checkpoint: {e}"),
    };
    assert_eq!(card, core_card);
    assert!(card.mlp.dueling);
    assert_eq!(mlp.params(), spec.params());
    let states = cartpole_states(200, 9);
    let tch_q = match Vec::<f32>::try_from(core_policy.scores(&states).flatten(0, -1)) {
        Ok(q) => q,
        Err(e) => panic!("reading tch's Q-values failed: {e}"),
    };
    let mut q = [0.0f32; 2];
    for (obs, theirs) in states.chunks_exact(4).zip(tch_q.chunks_exact(2)) {
        mlp.scores(obs, &mut q);
        for (a, b) in q.iter().zip(theirs) {
            assert!((a - b).abs() < 1e-5, "runtime {q:?}, tch {theirs:?}");
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn trainer_checkpoints_edited_into_contradictions_are_refused_by_both() {
    let dir = temp_dir("edited");
    let spec = cartpole(&[8]);
    save(&dir, &random_policy(&spec, 6, &[]));
    // Change the card's architecture (keeping it self-consistent) under the same weights.
    let card = ModelCard::new(
        "student",
        retort_envs::EnvSpec::new("CartPole-v1"),
        cartpole(&[16]),
    );
    let json = serde_json::to_string(&card).expect("a card serialises");
    std::fs::write(dir.join("model.json"), json).expect("rewriting the card");
    let message = match Mlp::load(&dir) {
        Ok(_) => panic!("a card contradicting the weights was accepted"),
        Err(e) => e.to_string(),
    };
    assert!(message.contains("layers.0.weight"), "{message}");
    assert!(message.contains("[16, 4]"), "{message}");
    assert!(load_checkpoint(&dir, tch::Device::Cpu).is_err());

    // A dueling card over the plain network's weights.
    save(&dir, &random_policy(&spec, 6, &[]));
    let dueling = MlpSpec {
        dueling: true,
        ..cartpole(&[8])
    };
    let card = ModelCard::new("teacher", retort_envs::EnvSpec::new("CartPole-v1"), dueling);
    let json = serde_json::to_string(&card).expect("a card serialises");
    std::fs::write(dir.join("model.json"), json).expect("rewriting the card");
    for message in [
        Mlp::load(&dir).err().map(|e| e.to_string()),
        load_checkpoint(&dir, tch::Device::Cpu)
            .err()
            .map(|e| e.to_string()),
    ] {
        let Some(message) = message else {
            panic!("a dueling card over plain weights was accepted");
        };
        assert!(message.contains("model.safetensors"), "{message}");
        assert!(message.contains("dueling head"), "{message}");
    }

    // Truncate the trainer's weights file.
    save(&dir, &random_policy(&spec, 6, &[]));
    let path = dir.join("model.safetensors");
    let bytes = std::fs::read(&path).expect("reading the weights");
    std::fs::write(&path, &bytes[..bytes.len() / 2]).expect("truncating the weights");
    let message = match Mlp::load(&dir) {
        Ok(_) => panic!("a truncated file was accepted"),
        Err(e) => e.to_string(),
    };
    assert!(
        message.contains("not a readable safetensors file"),
        "{message}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
