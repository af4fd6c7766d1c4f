//! Replay of Gymnasium fixture files (the format of `fixtures/cartpole_v1_public.json`, written
//! by `scripts/gen_fixtures.py`), shared by the MountainCar, Acrobot and CartPole-options
//! conformance tests.
//!
//! Two checks per recording: a full replay from the initial state, comparing every step's state
//! bits, observation bits, reward and flags, and refusing actions past the end; and a one-step
//! check that restarts from each recorded state, so that in a chaotic system a one-bit
//! difference is reported at every step where it arises, not only at the first.

use retort_envs::{Env, EnvError};
use serde_json::Value;
use std::path::{Path, PathBuf};

/// An environment that can start from a recorded `f64` state and report its own.
pub trait Replayable: Env + Sized {
    /// Length of the state vector.
    const STATE_DIM: usize;
    /// The environment started from `state` (`len == STATE_DIM`), step counter at 0.
    fn from_state(state: &[f64]) -> Self;
    /// The environment for one recording (its JSON object, e.g. to read recorded options),
    /// started from `state`; by default [`Replayable::from_state`].
    fn from_recording(_recording: &Value, state: &[f64]) -> Self {
        Self::from_state(state)
    }
    /// The exact state.
    fn state_vec(&self) -> Vec<f64>;
}

/// A fixture shipped in `tests/fixtures`.
pub fn shipped(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// Reads and parses a fixture file, naming the file in any error.
pub fn load(path: &Path) -> Value {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read fixture {}: {e}", path.display()));
    serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("{} is not valid JSON: {e}", path.display()))
}

fn field<'a>(v: &'a Value, key: &str, ctx: &str) -> &'a Value {
    v.get(key)
        .unwrap_or_else(|| panic!("{ctx}: missing field `{key}`"))
}

fn hex_list(v: &Value, ctx: &str) -> Vec<u64> {
    let list = v
        .as_array()
        .unwrap_or_else(|| panic!("{ctx}: expected a list, got {v}"));
    list.iter()
        .map(|x| {
            let s = x
                .as_str()
                .unwrap_or_else(|| panic!("{ctx}: expected a hex string, got {x}"));
            u64::from_str_radix(s, 16).unwrap_or_else(|e| panic!("{ctx}: bad hex {s:?}: {e}"))
        })
        .collect()
}

fn floats(bits: &[u64]) -> Vec<f64> {
    bits.iter().map(|&b| f64::from_bits(b)).collect()
}

/// One recording, decoded.
struct Recording<'a> {
    json: &'a Value,
    ctx: String,
    init: Vec<u64>,
    n_steps: usize,
    actions: Vec<usize>,
    steps: &'a [Value],
}

fn decode<'a, E: Replayable>(traj: &'a Value, file: &Path) -> Recording<'a> {
    let name = field(traj, "name", "trajectory").as_str().unwrap_or("?");
    let ctx = format!("{}: {name}", file.display());
    let init = hex_list(field(traj, "init_state_f64_hex", &ctx), &ctx);
    assert_eq!(init.len(), E::STATE_DIM, "{ctx}: init state length");
    let n_steps = field(traj, "n_steps", &ctx).as_u64().expect("n_steps") as usize;
    let actions: Vec<usize> = field(traj, "actions", &ctx)
        .as_array()
        .expect("actions")
        .iter()
        .map(|a| a.as_u64().expect("action") as usize)
        .collect();
    let steps = field(traj, "steps", &ctx).as_array().expect("steps");
    assert!(
        n_steps >= 1 && n_steps <= actions.len() && n_steps <= steps.len(),
        "{ctx}: sizes"
    );
    Recording {
        json: traj,
        ctx,
        init,
        n_steps,
        actions,
        steps,
    }
}

/// Compares one step's outcome with its record; `None` if equal, else what differs.
fn compare<E: Replayable>(
    env: &E,
    obs: &[f32],
    step: retort_envs::Step,
    rec: &Value,
    at: &str,
    check_truncated: bool,
) -> Option<String> {
    let want_state = hex_list(field(rec, "state_f64_hex", at), at);
    let got_state: Vec<u64> = env.state_vec().iter().map(|v| v.to_bits()).collect();
    if got_state != want_state {
        return Some(format!(
            "{at}: state bits differ: got {:?}, want {:?}",
            env.state_vec(),
            floats(&want_state)
        ));
    }
    let want_obs = hex_list(field(rec, "obs_f32_hex", at), at);
    let got_obs: Vec<u64> = obs.iter().map(|v| u64::from(v.to_bits())).collect();
    if got_obs != want_obs {
        return Some(format!(
            "{at}: observation bits differ: got {got_obs:x?}, want {want_obs:x?}"
        ));
    }
    if Some(step.reward) != field(rec, "reward", at).as_f64() {
        return Some(format!("{at}: reward {}", step.reward));
    }
    if Some(step.terminated) != field(rec, "terminated", at).as_bool() {
        return Some(format!("{at}: terminated {}", step.terminated));
    }
    if check_truncated && Some(step.truncated) != field(rec, "truncated", at).as_bool() {
        return Some(format!("{at}: truncated {}", step.truncated));
    }
    None
}

/// Full replay of one recording from its initial state; returns the steps compared.
fn replay<E: Replayable>(rec: &Recording) -> usize {
    let ctx = &rec.ctx;
    let mut env = E::from_recording(rec.json, &floats(&rec.init));
    let mut obs = vec![0.0f32; env.obs_dim()];
    for (t, (&action, record)) in rec
        .actions
        .iter()
        .zip(rec.steps)
        .take(rec.n_steps)
        .enumerate()
    {
        let at = format!("{ctx} step {t}");
        let step = env
            .step(action, &mut obs)
            .unwrap_or_else(|e| panic!("{at}: {e}"));
        if let Some(diff) = compare(&env, &obs, step, record, &at, true) {
            panic!("{diff}");
        }
        assert_eq!(
            step.done(),
            t + 1 == rec.n_steps,
            "{at}: the episode must end exactly at n_steps"
        );
    }
    for (t, &action) in rec.actions.iter().enumerate().skip(rec.n_steps) {
        assert!(
            matches!(env.step(action, &mut obs), Err(EnvError::EpisodeOver)),
            "{ctx} step {t}: stepping after the end must be refused"
        );
    }
    rec.n_steps
}

/// Restarts from every recorded state and steps once; returns every step that differs.
fn one_step_each<E: Replayable>(rec: &Recording) -> Vec<String> {
    let mut differences = Vec::new();
    let mut before = floats(&rec.init);
    for (t, (&action, record)) in rec
        .actions
        .iter()
        .zip(rec.steps)
        .take(rec.n_steps)
        .enumerate()
    {
        let at = format!("{} step {t} (from the recorded state)", rec.ctx);
        let mut env = E::from_recording(rec.json, &before);
        let mut obs = vec![0.0f32; env.obs_dim()];
        let step = env
            .step(action, &mut obs)
            .unwrap_or_else(|e| panic!("{at}: {e}"));
        // A fresh environment has taken one step, so its truncation flag says nothing here.
        if let Some(diff) = compare(&env, &obs, step, record, &at, false) {
            differences.push(diff);
        }
        before = floats(&hex_list(field(record, "state_f64_hex", &at), &at));
    }
    differences
}

/// What a fixture file held.
#[derive(Debug, Default)]
pub struct Checked {
    /// Recordings replayed (trajectories and extras).
    pub trajectories: usize,
    /// Steps compared in the full replays.
    pub steps: usize,
}

/// Checks every recording of a fixture file: full replay, and with `one_step` also the
/// restart from every recorded state. Panics on the first difference of a full replay; the
/// one-step check lists up to ten differences of the whole file first.
pub fn check_file<E: Replayable>(path: &Path, one_step: bool) -> Checked {
    let doc = load(path);
    let recordings: Vec<Recording> = ["trajectories", "extras"]
        .iter()
        .filter_map(|key| doc.get(*key).and_then(Value::as_array))
        .flatten()
        .map(|traj| decode::<E>(traj, path))
        .collect();
    // The one-step pass runs first so that its full list of differences is reported even
    // when a full replay would stop at the first one.
    if one_step {
        let differences: Vec<String> = recordings.iter().flat_map(one_step_each::<E>).collect();
        assert!(
            differences.is_empty(),
            "{} one-step differences, first ones:\n{}",
            differences.len(),
            differences[..differences.len().min(10)].join("\n")
        );
    }
    Checked {
        trajectories: recordings.len(),
        steps: recordings.iter().map(replay::<E>).sum(),
    }
}

/// Steps the extras take past the end of their episode (must be > 0 in a shipped fixture).
pub fn steps_past_the_end(path: &Path) -> usize {
    let doc = load(path);
    doc["extras"].as_array().map_or(0, |extras| {
        extras
            .iter()
            .map(|t| {
                t["actions"].as_array().map_or(0, Vec::len)
                    - t["n_steps"].as_u64().unwrap_or(0) as usize
            })
            .sum()
    })
}
