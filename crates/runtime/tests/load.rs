//! Loading checkpoints written byte by byte here: a sound one round-trips, and every kind of
//! bad file is refused with a message naming the file and the tensor, never a panic.
//!
//! The files are written with the `safetensors` crate directly, so that these tests need no
//! libtorch; `tch-check` loads checkpoints written by the trainer itself.

use retort_runtime::{Mlp, RuntimeError};
use safetensors::tensor::TensorView;
use safetensors::Dtype;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

/// A tensor to write: name, dtype, shape, raw little-endian bytes.
struct Raw {
    name: String,
    dtype: Dtype,
    shape: Vec<usize>,
    bytes: Vec<u8>,
}

fn f32_tensor(name: &str, shape: &[usize], values: &[f32]) -> Raw {
    Raw {
        name: name.into(),
        dtype: Dtype::F32,
        shape: shape.to_vec(),
        bytes: values.iter().flat_map(|v| v.to_le_bytes()).collect(),
    }
}

/// The tensors of a 4 → `hidden` → 2 network with weights `0.01 · k` (k counting up through
/// each tensor) and biases `-0.1`, so that every value is distinct and known.
fn tensors(hidden: usize) -> Vec<Raw> {
    let mut out = Vec::new();
    for (i, (inputs, outputs)) in [(4, hidden), (hidden, 2)].into_iter().enumerate() {
        let weight: Vec<f32> = (0..inputs * outputs).map(|k| 0.01 * k as f32).collect();
        out.push(f32_tensor(
            &format!("layers.{i}.weight"),
            &[outputs, inputs],
            &weight,
        ));
        out.push(f32_tensor(
            &format!("layers.{i}.bias"),
            &[outputs],
            &vec![-0.1; outputs],
        ));
    }
    out
}

fn card(hidden: &[usize]) -> Value {
    let widths: Vec<usize> = [4].iter().chain(hidden).chain(&[2]).copied().collect();
    let params: usize = widths.windows(2).map(|p| p[0] * p[1] + p[1]).sum();
    json!({
        "format": "retort-mlp/1",
        "role": "student",
        "env": { "id": "CartPole-v1" },
        "mlp": { "obs_dim": 4, "n_actions": 2, "hidden": hidden },
        "activation": "relu",
        "params": params,
    })
}

/// A fresh directory for one test.
fn temp_dir(name: &str) -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("retort-runtime-load-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("the temporary folder is writable");
    dir
}

fn write(dir: &Path, card: &Value, tensors: &[Raw]) {
    let views: Vec<(&str, TensorView<'_>)> = tensors
        .iter()
        .map(|t| {
            let view = TensorView::new(t.dtype, t.shape.clone(), &t.bytes)
                .expect("test tensors have consistent byte lengths");
            (t.name.as_str(), view)
        })
        .collect();
    let bytes = safetensors::serialize(views, None).expect("serialising test tensors");
    std::fs::write(dir.join("model.safetensors"), bytes).expect("writing model.safetensors");
    let text = serde_json::to_string_pretty(card).expect("a JSON value serialises");
    std::fs::write(dir.join("model.json"), text).expect("writing model.json");
}

/// The error's message, for a load that must fail.
fn refusal(dir: &Path) -> String {
    match Mlp::load(dir) {
        Ok(mlp) => panic!("{} loaded as {mlp:?} but should be refused", dir.display()),
        Err(e) => e.to_string(),
    }
}

fn assert_mentions(message: &str, needles: &[&str]) {
    for needle in needles {
        assert!(
            message.contains(needle),
            "message lacks `{needle}`: {message}"
        );
    }
}

#[test]
fn a_sound_checkpoint_loads_with_its_card_and_computes_by_hand() {
    let dir = temp_dir("sound");
    write(&dir, &card(&[3]), &tensors(3));
    let (card, mlp) = Mlp::load_with_card(&dir).expect("a sound checkpoint loads");
    assert_eq!(card.env.id, "CartPole-v1");
    assert_eq!(card.mlp.hidden, [3]);
    // The card has no `dueling` field, as every card written before it existed: plain.
    assert!(!card.mlp.dueling);
    assert_eq!(mlp.params(), 4 * 3 + 3 + 3 * 2 + 2);
    assert_eq!((mlp.obs_dim(), mlp.n_actions()), (4, 2));

    // Hidden unit j: 0.01 · Σ_i (4j + i) · obs[i] − 0.1, then ReLU.
    let obs = [1.0f32, 2.0, -1.0, 0.5];
    let hidden: Vec<f64> = (0..3)
        .map(|j| {
            let dot: f64 = (0..4)
                .map(|i| 0.01 * (4 * j + i) as f64 * f64::from(obs[i]))
                .sum();
            (dot - 0.1).max(0.0)
        })
        .collect();
    let expected: Vec<f64> = (0..2)
        .map(|j| {
            (0..3)
                .map(|i| 0.01 * (3 * j + i) as f64 * hidden[i])
                .sum::<f64>()
                - 0.1
        })
        .collect();
    let mut scores = [0.0f32; 2];
    mlp.scores(&obs, &mut scores);
    for (got, want) in scores.iter().zip(&expected) {
        assert!(
            (f64::from(*got) - want).abs() < 1e-6,
            "{scores:?} vs {expected:?}"
        );
    }
    assert_eq!(mlp.act(&obs), usize::from(expected[1] > expected[0]));
    std::fs::remove_dir_all(&dir).expect("cleaning up");
}

#[test]
fn missing_directory_files_and_non_directories_are_refused() {
    let dir = temp_dir("missing");
    let message = refusal(&dir.join("nowhere"));
    assert_mentions(&message, &["nowhere", "no such directory", "model.json"]);

    let message = refusal(&dir);
    assert_mentions(&message, &["no model.json here"]);

    std::fs::write(dir.join("file"), b"x").expect("writing a plain file");
    assert_mentions(&refusal(&dir.join("file")), &["not a directory"]);

    write(&dir, &card(&[3]), &tensors(3));
    std::fs::remove_file(dir.join("model.safetensors")).expect("removing the weights");
    assert_mentions(&refusal(&dir), &["no model.safetensors"]);
    std::fs::remove_dir_all(&dir).expect("cleaning up");
}

#[test]
fn unreadable_or_foreign_cards_are_refused_by_file() {
    let dir = temp_dir("cards");
    let cases: Vec<(Value, &[&str])> = vec![
        (
            json!({"weights": 1}),
            &["model.json", "not a retort model card"],
        ),
        (
            {
                let mut c = card(&[3]);
                c["format"] = json!("retort-mlp/2");
                c
            },
            &["model.json", "retort-mlp/2"],
        ),
        (
            {
                let mut c = card(&[3]);
                c["activation"] = json!("tanh");
                c
            },
            &["model.json", "tanh"],
        ),
        (
            {
                let mut c = card(&[3]);
                c["params"] = json!(7);
                c
            },
            &["model.json", "`params` is 7", "has 23 parameters"],
        ),
        (card(&[3, 0]), &["model.json", "positive"]),
        (
            {
                let mut c = card(&[3]);
                c["mlp"]["hidden"] = json!([usize::MAX, usize::MAX]);
                c
            },
            &["model.json", "too many parameters"],
        ),
    ];
    for (bad, needles) in cases {
        write(&dir, &bad, &tensors(3));
        assert_mentions(&refusal(&dir), needles);
    }
    std::fs::write(dir.join("model.json"), "{ not json").expect("writing a broken card");
    assert_mentions(&refusal(&dir), &["model.json", "not a retort model card"]);
    std::fs::remove_dir_all(&dir).expect("cleaning up");
}

#[test]
fn truncated_empty_and_foreign_weight_files_are_refused() {
    let dir = temp_dir("truncated");
    write(&dir, &card(&[8]), &tensors(8));
    let path = dir.join("model.safetensors");
    let bytes = std::fs::read(&path).expect("reading the weights back");
    // Cut inside the data, inside the header, inside the length prefix, and to nothing.
    for keep in [bytes.len() - 10, 20, 5, 0] {
        std::fs::write(&path, &bytes[..keep]).expect("truncating the weights");
        let message = refusal(&dir);
        assert_mentions(
            &message,
            &["model.safetensors", "not a readable safetensors file"],
        );
    }
    // A length prefix claiming an enormous header must not make the loader reserve it.
    let mut huge = u64::MAX.to_le_bytes().to_vec();
    huge.extend_from_slice(b"{}");
    std::fs::write(&path, &huge).expect("writing a lying header");
    assert_mentions(&refusal(&dir), &["not a readable safetensors file"]);
    std::fs::write(&path, b"PK\x03\x04 this is a zip, not safetensors").expect("writing junk");
    assert_mentions(&refusal(&dir), &["not a readable safetensors file"]);
    std::fs::remove_dir_all(&dir).expect("cleaning up");
}

#[test]
fn wrong_shapes_are_refused_by_tensor_name() {
    let dir = temp_dir("shapes");
    // The first layer's weight stored transposed: right size, wrong shape.
    let mut t = tensors(8);
    t[0].shape = vec![4, 8];
    write(&dir, &card(&[8]), &t);
    assert_mentions(
        &refusal(&dir),
        &[
            "model.safetensors",
            "layers.0.weight",
            "[4, 8]",
            "F32 [8, 4]",
        ],
    );
    // A bias with one value too many.
    let mut t = tensors(8);
    t[3] = f32_tensor("layers.1.bias", &[3], &[0.0; 3]);
    write(&dir, &card(&[8]), &t);
    assert_mentions(&refusal(&dir), &["layers.1.bias", "[3]", "F32 [2]"]);
    std::fs::remove_dir_all(&dir).expect("cleaning up");
}

#[test]
fn a_card_that_contradicts_the_weights_is_refused_by_tensor_name() {
    let dir = temp_dir("contradiction");
    // Weights of a [8] network under a card claiming [16].
    write(&dir, &card(&[16]), &tensors(8));
    assert_mentions(
        &refusal(&dir),
        &["layers.0.weight", "[8, 4]", "F32 [16, 4]"],
    );
    // …claiming two hidden layers: the second layer's weight has the wrong shape.
    write(&dir, &card(&[8, 8]), &tensors(8));
    assert_mentions(&refusal(&dir), &["layers.1.weight", "[2, 8]", "F32 [8, 8]"]);
    // …claiming a linear policy: the file holds a tensor the card has no place for.
    write(&dir, &card(&[]), &tensors(8));
    assert_mentions(
        &refusal(&dir),
        &["unexpected tensor `layers.1.bias`", "hidden: []"],
    );
    // A card claiming a hidden layer of 2^40 units is refused by shape, before anything of
    // that size is reserved (this test would abort on allocation failure otherwise).
    write(&dir, &card(&[1 << 40]), &tensors(8));
    assert_mentions(&refusal(&dir), &["layers.0.weight", "1099511627776"]);
    std::fs::remove_dir_all(&dir).expect("cleaning up");
}

#[test]
fn missing_and_extra_tensors_are_refused_by_name() {
    let dir = temp_dir("names");
    let mut t = tensors(8);
    t.remove(3);
    write(&dir, &card(&[8]), &t);
    assert_mentions(
        &refusal(&dir),
        &["model.safetensors", "tensor `layers.1.bias` is missing"],
    );
    let mut t = tensors(8);
    t.push(f32_tensor("optimizer.step", &[1], &[3.0]));
    write(&dir, &card(&[8]), &t);
    assert_mentions(&refusal(&dir), &["unexpected tensor `optimizer.step`"]);
    // A PyTorch `Sequential` names its layers differently: every name is reported as foreign.
    let mut t = tensors(8);
    t[0].name = "0.weight".into();
    write(&dir, &card(&[8]), &t);
    assert_mentions(&refusal(&dir), &["unexpected tensor `0.weight`"]);
    std::fs::remove_dir_all(&dir).expect("cleaning up");
}

#[test]
fn tensors_that_are_not_f32_are_refused_by_name_and_dtype() {
    let dir = temp_dir("dtypes");
    let cases = [
        (Dtype::F64, 8, "F64"),
        (Dtype::F16, 2, "F16"),
        (Dtype::BF16, 2, "BF16"),
        (Dtype::I32, 4, "I32"),
    ];
    for (dtype, size, shown) in cases {
        let mut t = tensors(8);
        // layers.1.bias, two values, rewritten in `dtype` (the bytes' meaning is irrelevant).
        t[3] = Raw {
            name: "layers.1.bias".into(),
            dtype,
            shape: vec![2],
            bytes: vec![0; 2 * size],
        };
        write(&dir, &card(&[8]), &t);
        let message = refusal(&dir);
        assert_mentions(&message, &["layers.1.bias", shown, "F32 [2]"]);
    }
    std::fs::remove_dir_all(&dir).expect("cleaning up");
}

#[test]
fn errors_carry_the_path_of_the_file_at_fault() {
    let dir = temp_dir("paths");
    write(&dir, &card(&[16]), &tensors(8));
    match Mlp::load(&dir) {
        Err(RuntimeError::Checkpoint { path, .. }) => {
            assert_eq!(path, dir.join("model.safetensors"));
        }
        other => panic!("expected a checkpoint error, got {other:?}"),
    }
    std::fs::remove_dir_all(&dir).expect("cleaning up");
}

/// A 4 → [2] → dueling 2 network computable by hand: the trunk passes obs[0] and obs[1]
/// through a ReLU, V = 2·h0 + 5·h1, A = [h0 + 7·h1, 3·h0 − h1].
fn dueling_tensors() -> Vec<Raw> {
    vec![
        f32_tensor(
            "layers.0.weight",
            &[2, 4],
            &[1.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0],
        ),
        f32_tensor("layers.0.bias", &[2], &[0.0, 0.0]),
        f32_tensor("value.weight", &[1, 2], &[2.0, 5.0]),
        f32_tensor("value.bias", &[1], &[0.0]),
        f32_tensor("advantage.weight", &[2, 2], &[1.0, 7.0, 3.0, -1.0]),
        f32_tensor("advantage.bias", &[2], &[0.0, 0.0]),
    ]
}

/// The card of [`dueling_tensors`]: trunk 4·2 + 2, value 2 + 1, advantage 2·2 + 2.
fn dueling_card() -> Value {
    let mut c = card(&[2]);
    c["mlp"]["dueling"] = json!(true);
    c["params"] = json!(10 + 3 + 6);
    c
}

#[test]
fn a_dueling_checkpoint_loads_and_centres_its_advantages() {
    let dir = temp_dir("dueling");
    write(&dir, &dueling_card(), &dueling_tensors());
    let (card, mlp) = Mlp::load_with_card(&dir).expect("a sound dueling checkpoint loads");
    assert!(card.mlp.dueling);
    assert_eq!(mlp.params(), 19);
    // h = [1, 0]: V = 2, A = [1, 3], mean A = 2, Q = [2 + 1 − 2, 2 + 3 − 2] = [1, 3].
    let mut q = [0.0f32; 2];
    mlp.scores(&[1.0, -4.0, 0.5, 0.5], &mut q);
    assert_eq!(q, [1.0, 3.0]);
    // h = [0, 1]: V = 5, A = [7, −1], mean A = 3, Q = [9, 1].
    mlp.scores(&[-1.0, 1.0, 0.0, 0.0], &mut q);
    assert_eq!(q, [9.0, 1.0]);
    let mut actions = [9; 2];
    mlp.act_batch(&[1.0, -4.0, 0.5, 0.5, -1.0, 1.0, 0.0, 0.0], &mut actions);
    assert_eq!(actions, [1, 0]);
    std::fs::remove_dir_all(&dir).expect("cleaning up");
}

#[test]
fn a_card_and_weights_that_disagree_on_the_head_are_refused_naming_the_file() {
    let dir = temp_dir("head");
    let weights = dir.join("model.safetensors").display().to_string();
    // A dueling card beside a plain network's weights.
    let mut c = card(&[8]);
    c["mlp"]["dueling"] = json!(true);
    c["params"] = json!(4 * 8 + 8 + 9 + 18);
    write(&dir, &c, &tensors(8));
    assert_mentions(
        &refusal(&dir),
        &[
            &weights,
            "model.json says",
            "dueling head",
            "`layers.1.weight`",
        ],
    );
    // A plain card (no `dueling` field) beside a dueling network's weights.
    write(&dir, &card(&[2]), &dueling_tensors());
    assert_mentions(
        &refusal(&dir),
        &[&weights, "holds a dueling head", "plain MLP"],
    );
    // `"dueling": false` reads the same as no field.
    let mut c = card(&[2]);
    c["mlp"]["dueling"] = json!(false);
    write(&dir, &c, &dueling_tensors());
    assert_mentions(&refusal(&dir), &[&weights, "holds a dueling head"]);
    // A dueling head whose advantage stream has one action too many is refused by name.
    let mut t = dueling_tensors();
    t[4] = f32_tensor("advantage.weight", &[3, 2], &[0.0; 6]);
    write(&dir, &dueling_card(), &t);
    assert_mentions(
        &refusal(&dir),
        &["advantage.weight", "[3, 2]", "F32 [2, 2]"],
    );
    // …and one without its value stream.
    let mut t = dueling_tensors();
    t.remove(2);
    write(&dir, &dueling_card(), &t);
    assert_mentions(&refusal(&dir), &["tensor `value.weight` is missing"]);
    std::fs::remove_dir_all(&dir).expect("cleaning up");
}
