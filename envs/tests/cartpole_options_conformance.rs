//! Conformance of CartPole-v1's options with Gymnasium 1.4.0: replays recorded trajectories
//! made with `sutton_barto_reward=True`, with the `"semi-implicit euler"` integrator, and with
//! both, bit for bit.
//!
//! The fixture (`tests/fixtures/cartpole_v1_options.json`, written by
//! `scripts/gen_fixtures.py --env CartPole-v1-options`) has the layout of the CartPole one plus
//! an `options` object per recording (`sutton_barto_reward`, `kinematics_integrator`); see
//! `tests/common/mod.rs` for what is compared (state and observation bits, reward, flags, and
//! every step restarted alone from its recorded state). It covers termination by angle and by
//! cart position under each option set, truncation at 500 steps with the Sutton–Barto reward
//! (the last step pays 0) and with the semi-implicit integrator, and a fall on the 500th step
//! with both options (both flags, reward −1). Set `RETORT_CARTPOLE_OPTIONS_FIXTURES` to a file
//! of the same format to check it as well.

mod common;

use common::{check_file, load, shipped, steps_past_the_end, Replayable};
use retort_envs::cartpole::Integrator;
use retort_envs::CartPole;
use serde_json::Value;
use std::path::PathBuf;

impl Replayable for CartPole {
    const STATE_DIM: usize = 4;

    fn from_state(state: &[f64]) -> Self {
        CartPole::with_state([state[0], state[1], state[2], state[3]])
    }

    fn from_recording(recording: &Value, state: &[f64]) -> Self {
        let (sutton_barto, integrator) = options(recording);
        Self::from_state(state)
            .with_sutton_barto_reward(sutton_barto)
            .with_integrator(integrator)
    }

    fn state_vec(&self) -> Vec<f64> {
        self.state().to_vec()
    }
}

/// The options a recording was made with; every recording in these files must name both.
fn options(recording: &Value) -> (bool, Integrator) {
    let name = recording["name"].as_str().unwrap_or("?");
    let options = recording
        .get("options")
        .unwrap_or_else(|| panic!("{name}: no `options`"));
    let sutton_barto = options["sutton_barto_reward"]
        .as_bool()
        .unwrap_or_else(|| panic!("{name}: options.sutton_barto_reward must be a bool"));
    let integrator = options["kinematics_integrator"]
        .as_str()
        .and_then(Integrator::from_name)
        .unwrap_or_else(|| panic!("{name}: options.kinematics_integrator {options}"));
    (sutton_barto, integrator)
}

const SHIPPED: &str = "cartpole_v1_options.json";

#[test]
fn shipped_fixture_replays_bit_for_bit() {
    let checked = check_file::<CartPole>(&shipped(SHIPPED), true);
    // 13 trajectories plus 2 extras; never pass on an empty file.
    assert_eq!(checked.trajectories, 15, "{checked:?}");
    assert!(checked.steps > 1500, "{checked:?}");
}

#[test]
fn shipped_fixture_covers_each_option_set() {
    let doc = load(&shipped(SHIPPED));
    let mut counts = [[0usize; 2]; 2];
    for recording in ["trajectories", "extras"]
        .iter()
        .filter_map(|key| doc[*key].as_array())
        .flatten()
    {
        let (sutton_barto, integrator) = options(recording);
        counts[usize::from(sutton_barto)]
            [usize::from(integrator == Integrator::SemiImplicitEuler)] += 1;
    }
    // Sutton–Barto with Euler, the default reward with semi-implicit Euler, and both options.
    assert!(counts[1][0] > 0, "{counts:?}");
    assert!(counts[0][1] > 0, "{counts:?}");
    assert!(counts[1][1] > 0, "{counts:?}");
}

#[test]
fn fixture_named_by_env_var_replays_bit_for_bit() {
    let Some(path) = std::env::var_os("RETORT_CARTPOLE_OPTIONS_FIXTURES") else {
        return;
    };
    let path = PathBuf::from(path);
    let checked = check_file::<CartPole>(&path, true);
    assert!(
        checked.trajectories > 0,
        "{} holds no trajectories",
        path.display()
    );
}

#[test]
fn extras_continue_past_the_end_so_refusal_is_checked() {
    assert!(steps_past_the_end(&shipped(SHIPPED)) > 0);
}
