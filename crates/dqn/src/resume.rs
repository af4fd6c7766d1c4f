//! Resumable checkpoints: one `safetensors` file holding everything a training run needs to
//! continue exactly where it stopped.
//!
//! Arrays (online, target and best-snapshot weights, Adam's moments, the current observation
//! of every environment copy, the replay buffer) are tensors; everything else (counters, the
//! positions of the random streams, environment snapshots, the configuration that started the
//! run) is one JSON document in the file's metadata under the key `retort`. Floating-point
//! scalars in the JSON are stored as their bit patterns, so that the round trip through text
//! cannot move a last bit.
//!
//! The file is written under a temporary name, flushed to disk and renamed over the previous
//! one, so a crash or a `kill -9` at any moment leaves either the old file or the new one,
//! never a mixture.

use crate::trainer::{Learner, RunState, Timings};
use crate::{DqnConfig, DqnError};
use retort_core::{differing_keys, AdamState, MlpPolicy};
use retort_envs::{EnvSnapshot, EnvSpec, RngState};
use safetensors::tensor::{Dtype, SafeTensors, View};
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};

/// The metadata key under which the JSON state is stored.
const META_KEY: &str = "retort";
/// Identifies the layout of the file; bumped whenever it changes incompatibly.
pub const RESUME_FORMAT: &str = "retort-dqn-resume/1";

/// Replay buffers up to this size are stored in checkpoints unless the configuration says
/// otherwise.
const AUTO_REPLAY_LIMIT: u128 = 1 << 30;

/// The JSON half of a resumable checkpoint. `f64` values are bit patterns (`u64`).
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct SavedState {
    format: String,
    seed: u64,
    env: EnvSpec,
    config: serde_json::Value,
    env_steps: u64,
    gradient_steps: u64,
    episodes: u64,
    next_train: u64,
    loss_sum: u64,
    loss_count: u64,
    weight_sum: u64,
    explore_rng: RngState,
    replay_rng: RngState,
    envs: Vec<EnvSnapshot>,
    episode_returns: Vec<u64>,
    episode_lengths: Vec<u64>,
    adam_steps: u64,
    best_eval: Option<u64>,
    solved_at: Option<u64>,
    next_eval: u64,
    last_eval_step: Option<u64>,
    next_checkpoint: u64,
    timings: Timings,
    seconds: u64,
    /// `None` when the buffer was left out; else its length and next slot.
    replay: Option<(usize, usize)>,
    /// The largest priority so far (bits), when replay is prioritized and stored.
    max_priority: Option<u64>,
    /// Steps pending in each copy's n-step window.
    n_step_pending: Vec<usize>,
}

/// The configuration as compared on resume: keys that only decide how often and how much is
/// checkpointed do not change what training computes, so they may differ.
fn comparable_config(config: &DqnConfig) -> serde_json::Value {
    let mut value = serde_json::to_value(config).expect("a configuration always serialises");
    if let Some(map) = value.as_object_mut() {
        map.remove("checkpoint_interval");
        map.remove("checkpoint_replay");
    }
    value
}

fn save_weights(writer: &mut StateWriter, prefix: &str, policy: &MlpPolicy) {
    let mut variables: Vec<_> = policy.var_store().variables().into_iter().collect();
    variables.sort_by(|a, b| a.0.cmp(&b.0));
    for (name, tensor) in variables {
        let shape: Vec<usize> = tensor.size().iter().map(|&n| n as usize).collect();
        let values = Vec::<f32>::try_from(tensor.to_device(tch::Device::Cpu).view([-1]))
            .expect("network weights are f32");
        writer.f32(&format!("{prefix}.{name}"), &shape, &values);
    }
}

fn load_weights(
    reader: &StateReader,
    prefix: &str,
    policy: &mut MlpPolicy,
) -> Result<(), DqnError> {
    let device = policy.device();
    for (name, mut tensor) in policy.var_store().variables() {
        let values = reader.f32(&format!("{prefix}.{name}"), tensor.numel())?;
        let loaded = tch::Tensor::from_slice(&values)
            .view(tensor.size().as_slice())
            .to_device(device);
        tch::no_grad(|| tensor.copy_(&loaded));
    }
    Ok(())
}

/// Writes everything `learner` and `run` need to continue into `path`, atomically. Returns
/// false (and writes nothing) when the optimiser's state cannot be saved (libtorch's Adam,
/// used off the CPU).
pub(crate) fn save(
    path: &Path,
    spec: &EnvSpec,
    seed: u64,
    learner: &Learner,
    run: &RunState,
    seconds: f64,
) -> Result<bool, DqnError> {
    let Some(adam) = learner.optimizer.state() else {
        return Ok(false);
    };
    let config = learner.config;
    let mut writer = StateWriter::default();
    save_weights(&mut writer, "online", &learner.online);
    save_weights(&mut writer, "target", &learner.target);
    save_weights(&mut writer, "best", &run.best);
    for (i, (first, second)) in adam.first.iter().zip(&adam.second).enumerate() {
        writer.f32(&format!("adam.first.{i}"), &[first.len()], first);
        writer.f32(&format!("adam.second.{i}"), &[second.len()], second);
    }
    let (n, d) = (learner.envs.len(), learner.obs_dim);
    writer.f32("envs.obs", &[n, d], &learner.obs);

    let buffer = &learner.buffer;
    let store_replay = config.checkpoint_replay.unwrap_or_else(|| {
        crate::ReplayBuffer::bytes_needed(config.buffer_size, d) <= AUTO_REPLAY_LIMIT
    });
    if store_replay {
        let rows = buffer.len;
        writer.f32("replay.obs", &[rows, d], &buffer.obs[..rows * d]);
        writer.f32("replay.next_obs", &[rows, d], &buffer.next_obs[..rows * d]);
        writer.i64("replay.actions", &buffer.actions[..rows]);
        writer.f32("replay.rewards", &[rows], &buffer.rewards[..rows]);
        writer.bools("replay.terminated", &buffer.terminated[..rows]);
        writer.bools("replay.truncated", &buffer.truncated[..rows]);
        writer.f32("replay.discounts", &[rows], &buffer.discounts[..rows]);
        if let Some(priorities) = &learner.priorities {
            writer.f64("replay.priority_tree", &priorities.tree.nodes);
        }
    }
    for (i, window) in learner.n_step.windows.iter().enumerate() {
        let pending = window.actions.len();
        writer.f32(&format!("nstep.{i}.obs"), &[pending, d], &window.obs);
        let actions: Vec<i64> = window.actions.iter().map(|&a| a as i64).collect();
        writer.i64(&format!("nstep.{i}.actions"), &actions);
        writer.f64(&format!("nstep.{i}.rewards"), &window.rewards);
    }

    let state = SavedState {
        format: RESUME_FORMAT.into(),
        seed,
        env: spec.clone(),
        config: serde_json::to_value(config).expect("a configuration always serialises"),
        env_steps: learner.env_steps,
        gradient_steps: learner.gradient_steps,
        episodes: learner.episodes,
        next_train: learner.next_train,
        loss_sum: bits(learner.loss_sum),
        loss_count: learner.loss_count,
        weight_sum: bits(learner.weight_sum),
        explore_rng: RngState::capture(&learner.explore_rng),
        replay_rng: RngState::capture(&learner.replay_rng),
        envs: learner.envs.iter().map(|env| env.snapshot()).collect(),
        episode_returns: learner.episode_returns.iter().map(|&r| bits(r)).collect(),
        episode_lengths: learner.episode_lengths.clone(),
        adam_steps: adam.steps,
        best_eval: run.best_eval.map(bits),
        solved_at: run.solved_at,
        next_eval: run.next_eval,
        last_eval_step: run.last_eval_step,
        next_checkpoint: run.next_checkpoint,
        timings: learner.timings,
        seconds: bits(seconds),
        replay: store_replay.then_some((buffer.len, buffer.next)),
        max_priority: learner
            .priorities
            .as_ref()
            .filter(|_| store_replay)
            .map(|p| bits(p.max_priority)),
        n_step_pending: learner
            .n_step
            .windows
            .iter()
            .map(|w| w.actions.len())
            .collect(),
    };
    let json = serde_json::to_value(&state).expect("the training state always serialises");
    writer.write(path, &json)?;
    Ok(true)
}

/// Checks, without building anything, that `path` is a readable resumable checkpoint of a run
/// with exactly this configuration, environment and seed; returns the env step it resumes
/// from. Lets a caller refuse a bad checkpoint before it creates any file.
pub fn check_resumable(
    path: &Path,
    config: &DqnConfig,
    spec: &EnvSpec,
    seed: u64,
) -> Result<u64, DqnError> {
    open_matching(path, config, spec, seed).map(|(_, saved)| saved.env_steps)
}

/// Opens `path` and parses its state, refusing one of another configuration (naming the keys
/// that differ).
fn open_matching(
    path: &Path,
    config: &DqnConfig,
    spec: &EnvSpec,
    seed: u64,
) -> Result<(StateReader, SavedState), DqnError> {
    let (reader, json) = StateReader::open(path)?;
    let saved: SavedState = serde_json::from_value(json)
        .map_err(|e| reader.fail(format!("training state does not parse: {e}")))?;

    let saved_config: DqnConfig = serde_json::from_value(saved.config.clone())
        .map_err(|e| reader.fail(format!("saved configuration does not parse: {e}")))?;
    let mut keys: Vec<String> = differing_keys(
        "",
        &comparable_config(&saved_config),
        &comparable_config(config),
    )
    .into_iter()
    .map(|k| format!("teacher.{k}"))
    .collect();
    let spec_json = |s: &EnvSpec| serde_json::to_value(s).expect("an env spec serialises");
    keys.extend(differing_keys(
        "env",
        &spec_json(&saved.env),
        &spec_json(spec),
    ));
    if saved.seed != seed {
        keys.push("seed".into());
    }
    if !keys.is_empty() {
        return Err(DqnError::ResumeMismatch {
            path: path.to_path_buf(),
            keys,
        });
    }
    Ok((reader, saved))
}

/// Restores `learner` and `run`, freshly built from the same configuration, environment and
/// seed, to the state saved in `path`. Refuses a checkpoint of another configuration, naming
/// the keys that differ.
pub(crate) fn load(
    path: &Path,
    spec: &EnvSpec,
    seed: u64,
    learner: &mut Learner,
    run: &mut RunState,
) -> Result<(), DqnError> {
    let (reader, saved) = open_matching(path, learner.config, spec, seed)?;
    let n = learner.envs.len();
    if saved.envs.len() != n || saved.episode_returns.len() != n || saved.episode_lengths.len() != n
    {
        return Err(reader.fail(format!(
            "holds {} environment copies, the configuration has {n}",
            saved.envs.len()
        )));
    }

    load_weights(&reader, "online", &mut learner.online)?;
    load_weights(&reader, "target", &mut learner.target)?;
    load_weights(&reader, "best", &mut run.best)?;
    let sizes: Vec<usize> = learner
        .optimizer
        .state()
        .ok_or_else(|| {
            reader.fail("resuming needs the CPU optimiser; resume with device = \"cpu\"".into())
        })?
        .first
        .iter()
        .map(Vec::len)
        .collect();
    let mut adam = AdamState {
        steps: saved.adam_steps,
        first: Vec::with_capacity(sizes.len()),
        second: Vec::with_capacity(sizes.len()),
    };
    for (i, &len) in sizes.iter().enumerate() {
        adam.first
            .push(reader.f32(&format!("adam.first.{i}"), len)?);
        adam.second
            .push(reader.f32(&format!("adam.second.{i}"), len)?);
    }
    learner
        .optimizer
        .set_state(adam)
        .map_err(|e| reader.fail(e))?;
    learner.acting = learner.online.to_runtime();

    let d = learner.obs_dim;
    learner.obs = reader.f32("envs.obs", n * d)?;
    for (env, snapshot) in learner.envs.iter_mut().zip(&saved.envs) {
        env.restore(snapshot)
            .map_err(|e| reader.fail(e.to_string()))?;
    }
    let rng = |state: &RngState, what: &str| {
        state
            .restore()
            .ok_or_else(|| reader.fail(format!("malformed {what} random-stream state")))
    };
    learner.explore_rng = rng(&saved.explore_rng, "exploration")?;
    learner.replay_rng = rng(&saved.replay_rng, "replay")?;

    match saved.replay {
        Some((len, next)) => {
            let buffer = &mut learner.buffer;
            if len > buffer.capacity || next >= buffer.capacity.max(1) {
                return Err(reader.fail(format!(
                    "replay buffer of {len} transitions (next slot {next}) does not fit a \
                     capacity of {}",
                    buffer.capacity
                )));
            }
            buffer.obs[..len * d].copy_from_slice(&reader.f32("replay.obs", len * d)?);
            buffer.next_obs[..len * d].copy_from_slice(&reader.f32("replay.next_obs", len * d)?);
            buffer.actions[..len].copy_from_slice(&reader.i64("replay.actions", len)?);
            buffer.rewards[..len].copy_from_slice(&reader.f32("replay.rewards", len)?);
            buffer.terminated[..len].copy_from_slice(&reader.bools("replay.terminated", len)?);
            buffer.truncated[..len].copy_from_slice(&reader.bools("replay.truncated", len)?);
            buffer.discounts[..len].copy_from_slice(&reader.f32("replay.discounts", len)?);
            buffer.len = len;
            buffer.next = next;
            if let Some(priorities) = &mut learner.priorities {
                let nodes = priorities.tree.nodes.len();
                priorities.tree.nodes = reader.f64("replay.priority_tree", nodes)?;
                let max = saved.max_priority.ok_or_else(|| {
                    reader.fail("prioritized replay without its largest priority".into())
                })?;
                priorities.max_priority = f64::from_bits(max);
            }
        }
        None => tracing::warn!(
            path = %path.display(),
            "the checkpoint holds no replay buffer (teacher.checkpoint_replay); training \
             continues with an empty one and will not match an uninterrupted run"
        ),
    }

    if saved.n_step_pending.len() != n {
        return Err(reader.fail(format!(
            "holds n-step windows for {} copies, the configuration has {n}",
            saved.n_step_pending.len()
        )));
    }
    for (i, (window, &pending)) in learner
        .n_step
        .windows
        .iter_mut()
        .zip(&saved.n_step_pending)
        .enumerate()
    {
        if pending >= learner.n_step.n {
            return Err(reader.fail(format!(
                "n-step window {i} holds {pending} steps; at most {} fit",
                learner.n_step.n - 1
            )));
        }
        window.obs = reader.f32(&format!("nstep.{i}.obs"), pending * d)?;
        let actions = reader.i64(&format!("nstep.{i}.actions"), pending)?;
        let n_actions = learner.n_actions;
        window.actions = actions
            .iter()
            .map(|&a| usize::try_from(a).ok().filter(|&a| a < n_actions))
            .collect::<Option<_>>()
            .ok_or_else(|| reader.fail(format!("n-step window {i} holds an invalid action")))?;
        window.rewards = reader.f64(&format!("nstep.{i}.rewards"), pending)?;
    }

    learner.env_steps = saved.env_steps;
    learner.gradient_steps = saved.gradient_steps;
    learner.episodes = saved.episodes;
    learner.next_train = saved.next_train;
    learner.loss_sum = f64::from_bits(saved.loss_sum);
    learner.loss_count = saved.loss_count;
    learner.weight_sum = f64::from_bits(saved.weight_sum);
    learner.episode_returns = saved
        .episode_returns
        .iter()
        .map(|&b| f64::from_bits(b))
        .collect();
    learner.episode_lengths = saved.episode_lengths;

    run.best_eval = saved.best_eval.map(f64::from_bits);
    run.solved_at = saved.solved_at;
    run.next_eval = saved.next_eval;
    run.last_eval_step = saved.last_eval_step;
    run.next_checkpoint = saved.next_checkpoint;
    learner.timings = saved.timings;
    run.seconds_before = f64::from_bits(saved.seconds);
    Ok(())
}

/// One tensor waiting to be written.
struct Blob {
    dtype: Dtype,
    shape: Vec<usize>,
    bytes: Vec<u8>,
}

impl View for &Blob {
    fn dtype(&self) -> Dtype {
        self.dtype
    }
    fn shape(&self) -> &[usize] {
        &self.shape
    }
    fn data(&self) -> Cow<'_, [u8]> {
        Cow::Borrowed(&self.bytes)
    }
    fn data_len(&self) -> usize {
        self.bytes.len()
    }
}

/// Collects named arrays and writes them, with the JSON state, atomically.
#[derive(Default)]
pub(crate) struct StateWriter {
    blobs: Vec<(String, Blob)>,
}

impl StateWriter {
    /// Adds `values` as a tensor of `shape` (whose product must be `values.len()`).
    pub fn f32(&mut self, name: &str, shape: &[usize], values: &[f32]) {
        self.add(name, Dtype::F32, shape, values.len(), |out| {
            values.iter().for_each(|v| out.extend(v.to_le_bytes()))
        });
    }

    pub fn f64(&mut self, name: &str, values: &[f64]) {
        self.add(name, Dtype::F64, &[values.len()], values.len(), |out| {
            values.iter().for_each(|v| out.extend(v.to_le_bytes()))
        });
    }

    pub fn i64(&mut self, name: &str, values: &[i64]) {
        self.add(name, Dtype::I64, &[values.len()], values.len(), |out| {
            values.iter().for_each(|v| out.extend(v.to_le_bytes()))
        });
    }

    pub fn bools(&mut self, name: &str, values: &[bool]) {
        self.add(name, Dtype::U8, &[values.len()], values.len(), |out| {
            out.extend(values.iter().map(|&v| u8::from(v)))
        });
    }

    fn add(
        &mut self,
        name: &str,
        dtype: Dtype,
        shape: &[usize],
        len: usize,
        fill: impl FnOnce(&mut Vec<u8>),
    ) {
        debug_assert_eq!(shape.iter().product::<usize>(), len, "{name}");
        let mut bytes = Vec::with_capacity(len * dtype.bitsize() / 8);
        fill(&mut bytes);
        let blob = Blob {
            dtype,
            shape: shape.to_vec(),
            bytes,
        };
        self.blobs.push((name.to_string(), blob));
    }

    /// Writes the tensors and `state` to `path`: temporary file, fsync, rename, fsync of the
    /// folder.
    pub fn write(self, path: &Path, state: &serde_json::Value) -> Result<(), DqnError> {
        let io = |e: std::io::Error| DqnError::Checkpoint {
            path: path.to_path_buf(),
            message: e.to_string(),
        };
        let metadata = HashMap::from([(META_KEY.to_string(), state.to_string())]);
        let views = self.blobs.iter().map(|(name, blob)| (name.as_str(), blob));
        let bytes =
            safetensors::serialize(views, Some(metadata)).map_err(|e| DqnError::Checkpoint {
                path: path.to_path_buf(),
                message: format!("cannot serialise the training state: {e}"),
            })?;
        let dir = match path.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir,
            _ => Path::new("."),
        };
        std::fs::create_dir_all(dir).map_err(io)?;
        let name = path
            .file_name()
            .map_or("state".into(), |n| n.to_string_lossy());
        let tmp = dir.join(format!(".partial.{name}"));
        let mut file = std::fs::File::create(&tmp).map_err(io)?;
        if crash_requested() {
            // Die as `kill -9` would, halfway through the temporary file.
            file.write_all(&bytes[..bytes.len() / 2]).map_err(io)?;
            file.sync_all().map_err(io)?;
            std::process::abort();
        }
        file.write_all(&bytes).map_err(io)?;
        file.sync_all().map_err(io)?;
        drop(file);
        std::fs::rename(&tmp, path).map_err(io)?;
        // The rename itself reaches the disk only with the folder's entry.
        if let Ok(folder) = std::fs::File::open(dir) {
            let _ = folder.sync_all();
        }
        Ok(())
    }
}

/// Fault injection for the tests that prove a crash mid-write loses nothing: with
/// `RETORT_CRASH_IN_CHECKPOINT=K` in the environment, the process aborts halfway through
/// writing its K-th checkpoint (counting from 1).
fn crash_requested() -> bool {
    use std::sync::atomic::{AtomicU64, Ordering};
    static WRITES: AtomicU64 = AtomicU64::new(0);
    let write = WRITES.fetch_add(1, Ordering::SeqCst) + 1;
    std::env::var("RETORT_CRASH_IN_CHECKPOINT")
        .ok()
        .and_then(|k| k.parse::<u64>().ok())
        .is_some_and(|k| k == write)
}

/// Reads back what a [`StateWriter`] wrote, checking every tensor's dtype and length.
pub(crate) struct StateReader {
    path: PathBuf,
    bytes: Vec<u8>,
}

impl StateReader {
    /// Reads `path` whole; the tensors are parsed on access.
    pub fn open(path: &Path) -> Result<(Self, serde_json::Value), DqnError> {
        let fail = |message: String| DqnError::Checkpoint {
            path: path.to_path_buf(),
            message,
        };
        let bytes = std::fs::read(path).map_err(|e| {
            let hint = if e.kind() == std::io::ErrorKind::NotFound {
                "; resume from a run directory whose teacher/ holds a resume.safetensors \
                 (written every teacher.checkpoint_interval env steps and on Ctrl-C)"
            } else {
                ""
            };
            fail(format!("{e}{hint}"))
        })?;
        // A damaged file cannot be mended; the run's other files are fine without it.
        const DAMAGED: &str = "delete it to train the teacher from the start on --resume, or \
                               start a new run";
        let (_, metadata) = SafeTensors::read_metadata(&bytes)
            .map_err(|e| fail(format!("not a readable safetensors file: {e}; {DAMAGED}")))?;
        let text = metadata
            .metadata()
            .as_ref()
            .and_then(|m| m.get(META_KEY))
            .ok_or_else(|| {
                fail("holds no training state (is it a model.safetensors?)".to_string())
            })?;
        let state: serde_json::Value = serde_json::from_str(text)
            .map_err(|e| fail(format!("training state is not valid JSON: {e}")))?;
        let format = state.get("format").and_then(|f| f.as_str());
        if format != Some(RESUME_FORMAT) {
            return Err(fail(format!(
                "format {format:?} is not {RESUME_FORMAT:?}; it was written by another \
                 version of retort"
            )));
        }
        // Parse once now, so that a truncated file is refused before anything is restored.
        SafeTensors::deserialize(&bytes)
            .map_err(|e| fail(format!("not a readable safetensors file: {e}; {DAMAGED}")))?;
        Ok((
            StateReader {
                path: path.to_path_buf(),
                bytes,
            },
            state,
        ))
    }

    pub fn fail(&self, message: String) -> DqnError {
        DqnError::Checkpoint {
            path: self.path.clone(),
            message,
        }
    }

    fn raw(&self, name: &str, dtype: Dtype, len: usize) -> Result<Vec<u8>, DqnError> {
        let tensors = SafeTensors::deserialize(&self.bytes)
            .map_err(|e| self.fail(format!("not a readable safetensors file: {e}")))?;
        let view = tensors
            .tensor(name)
            .map_err(|_| self.fail(format!("tensor `{name}` is missing")))?;
        let count: usize = view.shape().iter().product();
        if view.dtype() != dtype || count != len {
            return Err(self.fail(format!(
                "tensor `{name}` is {:?} {:?}, expected {dtype:?} with {len} values",
                view.dtype(),
                view.shape()
            )));
        }
        Ok(view.data().to_vec())
    }

    pub fn f32(&self, name: &str, len: usize) -> Result<Vec<f32>, DqnError> {
        let bytes = self.raw(name, Dtype::F32, len)?;
        Ok(bytes
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect())
    }

    pub fn f64(&self, name: &str, len: usize) -> Result<Vec<f64>, DqnError> {
        let bytes = self.raw(name, Dtype::F64, len)?;
        Ok(bytes
            .chunks_exact(8)
            .map(|c| f64::from_le_bytes(c.try_into().expect("8 bytes")))
            .collect())
    }

    pub fn i64(&self, name: &str, len: usize) -> Result<Vec<i64>, DqnError> {
        let bytes = self.raw(name, Dtype::I64, len)?;
        Ok(bytes
            .chunks_exact(8)
            .map(|c| i64::from_le_bytes(c.try_into().expect("8 bytes")))
            .collect())
    }

    pub fn bools(&self, name: &str, len: usize) -> Result<Vec<bool>, DqnError> {
        let bytes = self.raw(name, Dtype::U8, len)?;
        Ok(bytes.iter().map(|&b| b != 0).collect())
    }
}

/// An `f64` as its bit pattern, for JSON that must round-trip exactly.
pub(crate) fn bits(value: f64) -> u64 {
    value.to_bits()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn arrays_and_state_round_trip_bit_for_bit() {
        let dir = std::env::temp_dir().join(format!("retort-resume-{}", std::process::id()));
        let path = dir.join("resume.safetensors");
        let mut writer = StateWriter::default();
        let floats = [1.5f32, -0.0, f32::MIN_POSITIVE, 3.0e38, 0.1, 7.0];
        writer.f32("w", &[2, 3], &floats);
        writer.i64("a", &[-1, 0, i64::MAX]);
        writer.bools("t", &[true, false, true]);
        let state = json!({"format": RESUME_FORMAT, "x": bits(0.1), "n": 3});
        writer.write(&path, &state).unwrap();

        let (reader, back) = StateReader::open(&path).unwrap();
        assert_eq!(back, state);
        let got = reader.f32("w", 6).unwrap();
        let as_bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(as_bits(&got), as_bits(&floats));
        assert_eq!(reader.i64("a", 3).unwrap(), [-1, 0, i64::MAX]);
        assert_eq!(reader.bools("t", 3).unwrap(), [true, false, true]);
        assert_eq!(f64::from_bits(back["x"].as_u64().unwrap()), 0.1);
        // No temporary file is left behind.
        let names: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["resume.safetensors"]);

        let err = reader.f32("w", 5).unwrap_err().to_string();
        assert!(
            err.contains("tensor `w` is F32 [2, 3], expected F32 with 5 values"),
            "{err}"
        );
        let err = reader.f32("nope", 1).unwrap_err().to_string();
        assert!(err.contains("tensor `nope` is missing"), "{err}");

        // A truncated file is refused as a whole.
        let bytes = std::fs::read(&path).unwrap();
        std::fs::write(&path, &bytes[..bytes.len() - 3]).unwrap();
        let err = StateReader::open(&path).err().unwrap().to_string();
        assert!(err.contains("not a readable safetensors file"), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
