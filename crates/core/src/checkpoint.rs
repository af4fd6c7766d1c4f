//! Checkpoints: `model.safetensors` (the weights) beside `model.json` (what they are).
//!
//! `model.json` names the environment and the architecture, so a checkpoint can be evaluated
//! or distilled without the experiment file that made it. Loading checks every tensor's name,
//! dtype and shape against the card before copying anything, so a checkpoint of another
//! architecture or a truncated file is refused with a message, never half-loaded. Both files
//! are written to temporary names and renamed into place, so a crash leaves the previous
//! checkpoint whole.

use crate::{CoreError, MlpPolicy};
use safetensors::{Dtype, SafeTensors};
use std::path::{Path, PathBuf};
use tch::{Device, Tensor};

/// `model.json`'s contents, shared with the libtorch-free runtime.
pub use retort_runtime::{ModelCard, MODEL_FORMAT};

/// Writes `policy` and its card into `dir` (created if needed), atomically per file.
pub fn save_checkpoint(dir: &Path, card: &ModelCard, policy: &MlpPolicy) -> Result<(), CoreError> {
    std::fs::create_dir_all(dir).map_err(|e| CoreError::io(dir, e))?;
    // tch picks the file format from the extension, so the temporary name keeps it.
    let weights_tmp = dir.join(".partial.model.safetensors");
    policy.var_store().save(&weights_tmp)?;
    rename(&weights_tmp, &dir.join("model.safetensors"))?;

    let json = serde_json::to_string_pretty(card).expect("a model card always serialises");
    let card_tmp = dir.join(".partial.model.json");
    std::fs::write(&card_tmp, json + "\n").map_err(|e| CoreError::io(&card_tmp, e))?;
    rename(&card_tmp, &dir.join("model.json"))
}

fn rename(from: &Path, to: &Path) -> Result<(), CoreError> {
    std::fs::rename(from, to).map_err(|e| CoreError::io(to, e))
}

/// Reads a checkpoint directory written by [`save_checkpoint`].
pub fn load_checkpoint(dir: &Path, device: Device) -> Result<(ModelCard, MlpPolicy), CoreError> {
    let fail = |path: PathBuf, message: String| CoreError::Checkpoint { path, message };
    const EXPECTED: &str = "pass a folder holding model.json and model.safetensors \
                            (a run's teacher/ or students/<name>/)";
    if !dir.is_dir() {
        let what = if dir.exists() {
            "not a directory"
        } else {
            "no such directory"
        };
        return Err(fail(dir.into(), format!("{what}; {EXPECTED}")));
    }
    let card_path = dir.join("model.json");
    if !card_path.is_file() {
        return Err(fail(dir.into(), format!("no model.json here; {EXPECTED}")));
    }
    // The runtime's loader checks the card (format, widths, parameter count, fit with its
    // environment) and every tensor's name, dtype and shape without building the network, so
    // a corrupt or contradictory checkpoint is refused before libtorch allocates anything.
    let (card, _) = retort_runtime::Mlp::load_with_card(dir).map_err(|e| match e {
        retort_runtime::RuntimeError::Checkpoint { path, message } => fail(path, message),
        other => fail(dir.into(), other.to_string()),
    })?;

    let weights_path = dir.join("model.safetensors");
    let bytes = std::fs::read(&weights_path).map_err(|e| CoreError::io(&weights_path, e))?;
    let tensors = SafeTensors::deserialize(&bytes).map_err(|e| {
        fail(
            weights_path.clone(),
            format!("not a readable safetensors file: {e}"),
        )
    })?;

    let policy = MlpPolicy::new(card.mlp.clone(), device, 0);
    let mut expected = policy.var_store().variables();
    for name in tensors.names() {
        if !expected.contains_key(name) {
            let message = format!(
                "unexpected tensor `{name}`: model.json describes {:?}",
                card.mlp
            );
            return Err(fail(weights_path, message));
        }
    }
    // Checked in name order, so that the message names the same tensor every time.
    let mut names: Vec<String> = expected.keys().cloned().collect();
    names.sort();
    for name in names {
        let var = expected.get_mut(&name).expect("the name was just listed");
        let view = tensors
            .tensor(&name)
            .map_err(|_| fail(weights_path.clone(), format!("tensor `{name}` is missing")))?;
        let shape: Vec<i64> = view.shape().iter().map(|&d| d as i64).collect();
        if view.dtype() != Dtype::F32 || shape != var.size() {
            let message = format!(
                "tensor `{name}` is {:?} {:?}, but model.json's architecture needs F32 {:?}",
                view.dtype(),
                shape,
                var.size()
            );
            return Err(fail(weights_path, message));
        }
        let values: Vec<f32> = view
            .data()
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect();
        let source = Tensor::from_slice(&values)
            .view(shape.as_slice())
            .to_device(device);
        tch::no_grad(|| var.copy_(&source));
    }
    Ok((card, policy))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{GreedyPolicy, MlpSpec};
    use retort_envs::EnvSpec;

    fn temp_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("retort-core-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn round_trip_keeps_every_weight_and_the_card() {
        let dir = temp_dir("roundtrip");
        let spec = MlpSpec {
            obs_dim: 4,
            n_actions: 2,
            hidden: vec![7, 3],
            dueling: false,
        };
        let policy = MlpPolicy::new(spec.clone(), Device::Cpu, 9);
        let card = ModelCard::new("student", EnvSpec::new("CartPole-v1"), spec);
        save_checkpoint(&dir, &card, &policy).unwrap();

        let (loaded_card, loaded) = load_checkpoint(&dir, Device::Cpu).unwrap();
        assert_eq!(loaded_card, card);
        let obs = [0.3f32, -1.0, 0.02, 0.5, -0.1, 0.2, 0.0, 1.5];
        assert!(policy.scores(&obs).equal(&loaded.scores(&obs)));
        let (mut a, mut b) = ([0; 2], [0; 2]);
        policy.act(&obs, &mut a);
        loaded.act(&obs, &mut b);
        assert_eq!(a, b);
        // No temporary file is left behind.
        let mut names: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        assert_eq!(names, ["model.json", "model.safetensors"]);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_card_that_contradicts_the_weights_is_refused_by_name() {
        let dir = temp_dir("contradiction");
        let spec = MlpSpec {
            obs_dim: 4,
            n_actions: 2,
            hidden: vec![8],
            dueling: false,
        };
        let policy = MlpPolicy::new(spec.clone(), Device::Cpu, 0);
        let mut card = ModelCard::new("student", EnvSpec::new("CartPole-v1"), spec);
        save_checkpoint(&dir, &card, &policy).unwrap();
        card.mlp.hidden = vec![16];
        card.params = card.mlp.params();
        let json = serde_json::to_string(&card).unwrap();
        std::fs::write(dir.join("model.json"), json).unwrap();
        let message = load_checkpoint(&dir, Device::Cpu)
            .err()
            .unwrap()
            .to_string();
        assert!(message.contains("layers.0.weight"), "{message}");
        assert!(message.contains("[16, 4]"), "{message}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn truncated_weights_are_refused() {
        let dir = temp_dir("truncated");
        let spec = MlpSpec {
            obs_dim: 4,
            n_actions: 2,
            hidden: vec![8],
            dueling: false,
        };
        let policy = MlpPolicy::new(spec.clone(), Device::Cpu, 0);
        let card = ModelCard::new("student", EnvSpec::new("CartPole-v1"), spec);
        save_checkpoint(&dir, &card, &policy).unwrap();
        let path = dir.join("model.safetensors");
        let bytes = std::fs::read(&path).unwrap();
        std::fs::write(&path, &bytes[..bytes.len() - 10]).unwrap();
        let message = load_checkpoint(&dir, Device::Cpu)
            .err()
            .unwrap()
            .to_string();
        assert!(
            message.contains("not a readable safetensors file"),
            "{message}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_dueling_checkpoint_round_trips_bit_for_bit() {
        let dir = temp_dir("dueling");
        let spec = MlpSpec {
            obs_dim: 4,
            n_actions: 2,
            hidden: vec![7, 3],
            dueling: true,
        };
        let policy = MlpPolicy::new(spec.clone(), Device::Cpu, 12);
        let card = ModelCard::new("teacher", EnvSpec::new("CartPole-v1"), spec);
        assert_eq!(
            card.params,
            (4 * 7 + 7) + (7 * 3 + 3) + (3 + 1) + (3 * 2 + 2)
        );
        save_checkpoint(&dir, &card, &policy).unwrap();
        let json = std::fs::read_to_string(dir.join("model.json")).unwrap();
        assert!(json.contains("\"dueling\": true"), "{json}");

        let (loaded_card, loaded) = load_checkpoint(&dir, Device::Cpu).unwrap();
        assert_eq!(loaded_card, card);
        assert!(loaded.spec().dueling);
        let obs = [
            0.3f32, -1.0, 0.02, 0.5, -0.1, 0.2, 0.0, 1.5, 2.0, -2.0, 0.7, 0.1,
        ];
        let (before, after) = (policy.scores(&obs), loaded.scores(&obs));
        let bits = |t: &Tensor| -> Vec<u32> {
            Vec::<f32>::try_from(t.view([-1]))
                .unwrap()
                .iter()
                .map(|v| v.to_bits())
                .collect()
        };
        assert_eq!(bits(&before), bits(&after));
        // The runtime reads the same checkpoint into the same network.
        let runtime = retort_runtime::Mlp::load(&dir).unwrap();
        assert_eq!(runtime.params(), card.params);
        assert!(runtime.spec().dueling);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// Saves a 4 → [8] → 2 network (`dueling` or not) and rewrites its card to say the other.
    fn flipped_card(name: &str, dueling: bool) -> (PathBuf, String) {
        let dir = temp_dir(name);
        let spec = MlpSpec {
            obs_dim: 4,
            n_actions: 2,
            hidden: vec![8],
            dueling,
        };
        let policy = MlpPolicy::new(spec.clone(), Device::Cpu, 0);
        let mut card = ModelCard::new("teacher", EnvSpec::new("CartPole-v1"), spec);
        save_checkpoint(&dir, &card, &policy).unwrap();
        card.mlp.dueling = !dueling;
        card.params = card.mlp.params();
        std::fs::write(
            dir.join("model.json"),
            serde_json::to_string(&card).unwrap(),
        )
        .unwrap();
        let message = load_checkpoint(&dir, Device::Cpu)
            .err()
            .unwrap()
            .to_string();
        std::fs::remove_dir_all(&dir).unwrap();
        (dir, message)
    }

    #[test]
    fn a_card_that_contradicts_the_head_is_refused_naming_the_file() {
        let (dir, message) = flipped_card("plain-weights-dueling-card", false);
        let file = dir.join("model.safetensors").display().to_string();
        assert!(message.contains(&file), "{message}");
        assert!(message.contains("dueling head"), "{message}");
        assert!(message.contains("`layers.1.weight`"), "{message}");

        let (dir, message) = flipped_card("dueling-weights-plain-card", true);
        let file = dir.join("model.safetensors").display().to_string();
        assert!(message.contains(&file), "{message}");
        assert!(message.contains("holds a dueling head"), "{message}");
        assert!(message.contains("plain MLP"), "{message}");
    }
}
