//! The forward pass against a slow, obviously correct reference in `f64`, plus the contract of
//! `from_parts`, `act_batch` and the length checks.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use retort_runtime::{argmax, Mlp, MlpSpec, RuntimeError};

/// Random weights for `spec`, drawn like PyTorch's default initialisation
/// (U(−1/√fan_in, 1/√fan_in)), as `(weight, bias)` per layer of `spec.layer_shapes()`.
fn random_layers(spec: &MlpSpec, rng: &mut ChaCha8Rng) -> Vec<(Vec<f32>, Vec<f32>)> {
    spec.layer_shapes()
        .into_iter()
        .map(|(inputs, outputs)| {
            let bound = 1.0 / (inputs as f32).sqrt();
            let mut draw = |n: usize| -> Vec<f32> {
                (0..n).map(|_| rng.random_range(-bound..bound)).collect()
            };
            (draw(inputs * outputs), draw(outputs))
        })
        .collect()
}

fn build(spec: &MlpSpec, layers: &[(Vec<f32>, Vec<f32>)]) -> Mlp {
    let parts: Vec<(&[f32], &[f32])> = layers
        .iter()
        .map(|(w, b)| (w.as_slice(), b.as_slice()))
        .collect();
    match Mlp::from_parts(spec.clone(), &parts) {
        Ok(mlp) => mlp,
        Err(e) => panic!("parts drawn for {spec:?} were refused: {e}"),
    }
}

/// One layer in `f64`: `relu?(W · x + b)`.
fn dense_f64((weight, bias): &(Vec<f32>, Vec<f32>), x: &[f64], relu: bool) -> Vec<f64> {
    weight
        .chunks_exact(x.len())
        .zip(bias)
        .map(|(row, &b)| {
            let z = row
                .iter()
                .zip(x)
                .map(|(&w, &v)| f64::from(w) * v)
                .sum::<f64>()
                + f64::from(b);
            if relu {
                z.max(0.0)
            } else {
                z
            }
        })
        .collect()
}

/// The textbook forward pass in `f64`; a dueling head gives V + A − mean A.
fn reference(spec: &MlpSpec, layers: &[(Vec<f32>, Vec<f32>)], obs: &[f32]) -> Vec<f64> {
    let hidden = spec.hidden.len();
    let mut x: Vec<f64> = obs.iter().map(|&v| f64::from(v)).collect();
    for layer in &layers[..hidden] {
        x = dense_f64(layer, &x, true);
    }
    if !spec.dueling {
        return dense_f64(&layers[hidden], &x, false);
    }
    let value = dense_f64(&layers[hidden], &x, false)[0];
    let advantages = dense_f64(&layers[hidden + 1], &x, false);
    let mean = advantages.iter().sum::<f64>() / advantages.len() as f64;
    advantages.iter().map(|a| value + a - mean).collect()
}

#[test]
fn scores_and_actions_match_an_f64_reference_on_many_shapes() {
    let shapes: [(usize, &[usize], usize, bool); 11] = [
        (4, &[], 2, false),
        (4, &[4], 2, false),
        (4, &[16], 2, false),
        (4, &[64], 2, false),
        (4, &[64, 64], 2, false),
        (16, &[32, 8, 24], 4, false),
        (6, &[5, 7, 3, 9], 3, false),
        (4, &[], 2, true),
        (4, &[64, 64], 2, true),
        (16, &[32, 8, 24], 4, true),
        (6, &[5, 7, 3, 9], 3, true),
    ];
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    for (obs_dim, hidden, n_actions, dueling) in shapes {
        let spec = MlpSpec {
            obs_dim,
            n_actions,
            hidden: hidden.to_vec(),
            dueling,
        };
        let layers = random_layers(&spec, &mut rng);
        let mlp = build(&spec, &layers);
        let mut scores = vec![0.0f32; n_actions];
        let mut near_ties = 0;
        for _ in 0..2_000 {
            let obs: Vec<f32> = (0..obs_dim).map(|_| rng.random_range(-3.0..3.0)).collect();
            let want = reference(&spec, &layers, &obs);
            mlp.scores(&obs, &mut scores);
            for (got, want) in scores.iter().zip(&want) {
                // f32 rounding of a few dozen terms of order one.
                assert!(
                    (f64::from(*got) - want).abs() < 1e-4,
                    "{spec:?}: {scores:?} vs {want:?}"
                );
            }
            let mut sorted = want.clone();
            sorted.sort_by(|a, b| b.total_cmp(a));
            if sorted.len() > 1 && sorted[0] - sorted[1] < 1e-4 {
                near_ties += 1;
                continue;
            }
            let best = want
                .iter()
                .enumerate()
                .fold(0, |best, (i, &v)| if v > want[best] { i } else { best });
            assert_eq!(mlp.act(&obs), best, "{spec:?} on {obs:?}");
        }
        assert!(near_ties < 20, "{spec:?}: {near_ties} near-ties of 2000");
    }
}

/// The textbook forward pass in `f32`, each row summed from the first input to the last and
/// the bias added after — the order the runtime promises; a dueling head is combined as
/// `(v + a) − (Σ a) / n_actions`, the advantages summed in action order.
fn textbook_f32(spec: &MlpSpec, layers: &[(Vec<f32>, Vec<f32>)], obs: &[f32]) -> Vec<f32> {
    let dense = |(weight, bias): &(Vec<f32>, Vec<f32>), x: &[f32], relu: bool| -> Vec<f32> {
        let mut y = Vec::with_capacity(bias.len());
        for (row, &b) in weight.chunks_exact(x.len()).zip(bias) {
            let mut dot = 0.0f32;
            for (&w, &v) in row.iter().zip(x) {
                dot += w * v;
            }
            let z = dot + b;
            y.push(if relu && z < 0.0 { 0.0 } else { z });
        }
        y
    };
    let hidden = spec.hidden.len();
    let mut x = obs.to_vec();
    for layer in &layers[..hidden] {
        x = dense(layer, &x, true);
    }
    if !spec.dueling {
        return dense(&layers[hidden], &x, false);
    }
    let value = dense(&layers[hidden], &x, false)[0];
    let advantages = dense(&layers[hidden + 1], &x, false);
    let mut sum = 0.0f32;
    for &a in &advantages {
        sum += a;
    }
    let mean = sum / advantages.len() as f32;
    advantages.iter().map(|&a| (value + a) - mean).collect()
}

#[test]
fn the_blocked_layout_sums_each_row_in_textbook_order_bit_for_bit() {
    // Widths below, at and around the block of eight rows, so that padding is exercised.
    // Dueling heads of 3, 8 and 12 rows (value + advantages) cover the same cases.
    let shapes: [(usize, &[usize], usize, bool); 9] = [
        (4, &[1], 2, false),
        (3, &[7, 8, 9], 5, false),
        (13, &[16, 17], 8, false),
        (5, &[33], 11, false),
        (4, &[256, 256], 2, false),
        (4, &[1], 2, true),
        (3, &[7, 8, 9], 7, true),
        (13, &[16, 17], 11, true),
        (4, &[128, 128], 2, true),
    ];
    let mut rng = ChaCha8Rng::seed_from_u64(17);
    for (obs_dim, hidden, n_actions, dueling) in shapes {
        let spec = MlpSpec {
            obs_dim,
            n_actions,
            hidden: hidden.to_vec(),
            dueling,
        };
        let layers = random_layers(&spec, &mut rng);
        let mlp = build(&spec, &layers);
        let mut scores = vec![0.0f32; n_actions];
        for _ in 0..200 {
            let obs: Vec<f32> = (0..obs_dim).map(|_| rng.random_range(-3.0..3.0)).collect();
            mlp.scores(&obs, &mut scores);
            let want = textbook_f32(&spec, &layers, &obs);
            let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            assert_eq!(
                bits(&scores),
                bits(&want),
                "{spec:?}: {scores:?} vs {want:?}"
            );
        }
    }
}

#[test]
fn act_is_the_first_argmax_of_scores_and_batches_agree() {
    let spec = MlpSpec {
        obs_dim: 3,
        n_actions: 5,
        hidden: vec![6],
        dueling: false,
    };
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let mlp = build(&spec, &random_layers(&spec, &mut rng));
    let observations: Vec<f32> = (0..3 * 500).map(|_| rng.random_range(-2.0..2.0)).collect();
    let mut batch = vec![usize::MAX; 500];
    mlp.act_batch(&observations, &mut batch);
    let mut scores = [0.0f32; 5];
    for (obs, &from_batch) in observations.chunks_exact(3).zip(&batch) {
        mlp.scores(obs, &mut scores);
        assert_eq!(mlp.act(obs), argmax(&scores));
        assert_eq!(from_batch, argmax(&scores));
    }
    // Several actions get chosen, so the comparison above is not vacuous.
    let distinct = (0..5).filter(|a| batch.contains(a)).count();
    assert!(distinct >= 3, "only {distinct} distinct actions chosen");
}

#[test]
fn exact_ties_go_to_the_first_action() {
    // Both output rows identical: every observation is a tie, which must give action 0.
    let spec = MlpSpec {
        obs_dim: 2,
        n_actions: 3,
        hidden: vec![2],
        dueling: false,
    };
    let first = [0.5, -1.0, 2.0, 0.25];
    let out = [1.0, 1.0, 1.0, 1.0, 0.0, -1.0];
    let mlp = Mlp::from_parts(spec, &[(&first, &[0.0, 0.1]), (&out, &[0.2, 0.2, 0.0])])
        .expect("the parts fit");
    for obs in [[0.0, 0.0], [1.0, -1.0], [-3.0, 2.0], [0.3, 0.7]] {
        let mut scores = [0.0f32; 3];
        mlp.scores(&obs, &mut scores);
        assert_eq!(scores[0], scores[1]);
        assert_eq!(mlp.act(&obs), if scores[2] > scores[0] { 2 } else { 0 });
    }
}

#[test]
fn clones_act_alike_and_independently() {
    let spec = MlpSpec {
        obs_dim: 4,
        n_actions: 2,
        hidden: vec![16, 16],
        dueling: false,
    };
    let mut rng = ChaCha8Rng::seed_from_u64(2);
    let mlp = build(&spec, &random_layers(&spec, &mut rng));
    let copy = mlp.clone();
    // A clone per thread is the documented way to act in parallel.
    let observations: Vec<f32> = (0..4 * 1000).map(|_| rng.random_range(-1.0..1.0)).collect();
    let shared = &observations;
    let from_thread = std::thread::scope(|s| {
        // `move`: the clone goes to the thread (an `Mlp` is `Send`, not `Sync`).
        s.spawn(move || {
            let mut actions = vec![0; 1000];
            copy.act_batch(shared, &mut actions);
            actions
        })
        .join()
        .expect("the acting thread does not panic")
    });
    let mut here = vec![0; 1000];
    mlp.act_batch(&observations, &mut here);
    assert_eq!(here, from_thread);
    assert_eq!(
        format!("{mlp:?}"),
        "Mlp { spec: MlpSpec { obs_dim: 4, n_actions: 2, hidden: [16, 16], dueling: false }, \
         params: 386, .. }"
    );
}

#[test]
fn from_parts_refuses_parts_that_do_not_fit() {
    let spec = MlpSpec {
        obs_dim: 2,
        n_actions: 2,
        hidden: vec![3],
        dueling: false,
    };
    let w0 = [0.0f32; 6];
    let w1 = [0.0f32; 6];
    let fail = |spec: MlpSpec, parts: &[(&[f32], &[f32])]| match Mlp::from_parts(spec, parts) {
        Err(RuntimeError::Parts(message)) => message,
        other => panic!("expected a refusal, got {other:?}"),
    };
    let message = fail(spec.clone(), &[(&w0, &[0.0; 3])]);
    assert!(message.contains("1 layers given"), "{message}");
    let message = fail(spec.clone(), &[(&w0[..5], &[0.0; 3]), (&w1, &[0.0; 2])]);
    assert!(
        message.contains("layer 0's weight (`layers.0.weight`) has 5 values"),
        "{message}"
    );
    let message = fail(spec.clone(), &[(&w0, &[0.0; 3]), (&w1, &[0.0; 3])]);
    assert!(
        message.contains("layer 1's bias (`layers.1.bias`) has 3 values"),
        "{message}"
    );
    let zero = MlpSpec { obs_dim: 0, ..spec };
    let message = fail(zero, &[(&[], &[0.0; 3]), (&w1, &[0.0; 2])]);
    assert!(message.contains("positive"), "{message}");
}

#[test]
#[should_panic(expected = "observation has 3 values, the network expects 4")]
fn a_short_observation_panics_with_a_message() {
    let spec = MlpSpec {
        obs_dim: 4,
        n_actions: 2,
        hidden: vec![],
        dueling: false,
    };
    let mlp = Mlp::from_parts(spec, &[(&[0.0; 8], &[0.0; 2])]).expect("the parts fit");
    mlp.act(&[0.0; 3]);
}

#[test]
#[should_panic(expected = "scores buffer has 3 slots, the network has 2 actions")]
fn a_wrong_scores_buffer_panics_with_a_message() {
    let spec = MlpSpec {
        obs_dim: 4,
        n_actions: 2,
        hidden: vec![5],
        dueling: false,
    };
    let mlp = Mlp::from_parts(spec, &[(&[0.0; 20], &[0.0; 5]), (&[0.0; 10], &[0.0; 2])])
        .expect("the parts fit");
    mlp.scores(&[0.0; 4], &mut [0.0; 3]);
}
