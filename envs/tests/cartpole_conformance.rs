//! Conformance of CartPole-v1 with Gymnasium 1.4.0: replays recorded trajectories bit for bit.
//!
//! The fixture format: `trajectories` and `extras` are lists of recordings; each has
//! `init_state_f64_hex` (the state set after reset), `actions`, `n_steps` (the step that ended
//! the episode) and `steps[i]` holding the state bits, observation bits, reward and flags after
//! `actions[i]`. Actions past `n_steps` (the extras keep stepping after termination) must be
//! refused with `EpisodeOver`. Set `RETORT_CARTPOLE_FIXTURES` to a file of the same format to
//! check it as well (e.g. a private hold-out set).

use retort_envs::{CartPole, Env, EnvError};
use serde_json::Value;
use std::path::{Path, PathBuf};

fn field<'a>(v: &'a Value, key: &str, ctx: &str) -> &'a Value {
    v.get(key)
        .unwrap_or_else(|| panic!("{ctx}: missing field `{key}`"))
}

fn hex_u64(v: &Value, ctx: &str) -> u64 {
    let s = v
        .as_str()
        .unwrap_or_else(|| panic!("{ctx}: expected a hex string, got {v}"));
    u64::from_str_radix(s, 16).unwrap_or_else(|e| panic!("{ctx}: bad hex {s:?}: {e}"))
}

fn hex_list(v: &Value, ctx: &str) -> Vec<u64> {
    let list = v
        .as_array()
        .unwrap_or_else(|| panic!("{ctx}: expected a list, got {v}"));
    list.iter().map(|x| hex_u64(x, ctx)).collect()
}

/// Replays one recording; returns the number of steps compared.
fn replay(traj: &Value, file: &Path) -> usize {
    let name = field(traj, "name", "trajectory")
        .as_str()
        .unwrap_or("?")
        .to_string();
    let ctx = format!("{}: {name}", file.display());
    let init = hex_list(field(traj, "init_state_f64_hex", &ctx), &ctx);
    let init: [f64; 4] = init
        .iter()
        .map(|&b| f64::from_bits(b))
        .collect::<Vec<_>>()
        .try_into()
        .unwrap_or_else(|_| panic!("{ctx}: init state must have 4 values"));
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

    let mut env = CartPole::with_state(init);
    let mut obs = [0.0f32; 4];
    for (t, (&action, rec)) in actions.iter().zip(steps).take(n_steps).enumerate() {
        let at = format!("{ctx} step {t}");
        let step = env
            .step(action, &mut obs)
            .unwrap_or_else(|e| panic!("{at}: {e}"));
        let want_state = hex_list(field(rec, "state_f64_hex", &at), &at);
        let got_state: Vec<u64> = env.state().iter().map(|v| v.to_bits()).collect();
        assert_eq!(
            got_state,
            want_state,
            "{at}: state bits differ: got {:?}, want {:?}",
            env.state(),
            want_state
                .iter()
                .map(|&b| f64::from_bits(b))
                .collect::<Vec<_>>()
        );
        let want_obs = hex_list(field(rec, "obs_f32_hex", &at), &at);
        let got_obs: Vec<u64> = obs.iter().map(|v| u64::from(v.to_bits())).collect();
        assert_eq!(got_obs, want_obs, "{at}: observation bits differ");
        assert_eq!(
            Some(step.reward),
            field(rec, "reward", &at).as_f64(),
            "{at}: reward"
        );
        assert_eq!(
            Some(step.terminated),
            field(rec, "terminated", &at).as_bool(),
            "{at}: terminated"
        );
        assert_eq!(
            Some(step.truncated),
            field(rec, "truncated", &at).as_bool(),
            "{at}: truncated"
        );
        assert_eq!(
            step.done(),
            t + 1 == n_steps,
            "{at}: the episode must end exactly at n_steps"
        );
    }
    for (t, &action) in actions.iter().enumerate().skip(n_steps) {
        assert!(
            matches!(env.step(action, &mut obs), Err(EnvError::EpisodeOver)),
            "{ctx} step {t}: stepping after the end must be refused"
        );
    }
    n_steps
}

/// Checks every recording of a fixture file; returns (trajectories, steps) checked.
fn check_file(path: &Path) -> (usize, usize) {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read CartPole fixture {}: {e}", path.display()));
    let doc: Value = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("{} is not valid JSON: {e}", path.display()));
    let mut trajectories = 0;
    let mut steps = 0;
    for key in ["trajectories", "extras"] {
        if let Some(list) = doc.get(key).and_then(Value::as_array) {
            for traj in list {
                steps += replay(traj, path);
                trajectories += 1;
            }
        }
    }
    (trajectories, steps)
}

#[test]
fn public_fixture_replays_bit_for_bit() {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/cartpole_v1_public.json");
    let (trajectories, steps) = check_file(&path);
    // 20 trajectories plus 1 extra in the shipped fixture; never pass on an empty file.
    assert_eq!(trajectories, 21);
    assert!(steps > 0);
}

#[test]
fn fixture_named_by_env_var_replays_bit_for_bit() {
    let Some(path) = std::env::var_os("RETORT_CARTPOLE_FIXTURES") else {
        return;
    };
    let path = PathBuf::from(path);
    let (trajectories, _) = check_file(&path);
    assert!(trajectories > 0, "{} holds no trajectories", path.display());
}

#[test]
fn extras_are_present_so_post_termination_steps_are_checked() {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/cartpole_v1_public.json");
    let doc: Value =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("fixture")).expect("json");
    let extras = doc["extras"].as_array().expect("extras list");
    let beyond: usize = extras
        .iter()
        .map(|t| {
            t["actions"].as_array().map_or(0, Vec::len)
                - t["n_steps"].as_u64().unwrap_or(0) as usize
        })
        .sum();
    assert!(
        beyond > 0,
        "the extras must continue past the end of their episode"
    );
}
