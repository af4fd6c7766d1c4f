//! Conformance of Acrobot-v1 with Gymnasium 1.4.0: replays recorded trajectories bit for bit.
//!
//! The fixture (`tests/fixtures/acrobot_v1.json`, written by `scripts/gen_fixtures.py`) has the
//! layout of the CartPole one; see `tests/common/mod.rs` for what is compared. It covers angle
//! wrapping, clipping of both angular velocities, termination (also on the first step), and
//! truncation at 500 steps, once together with termination. The acrobot is chaotic, so besides
//! the full replay every step is also checked alone from its recorded starting state, which
//! pins a one-bit difference to the step that produces it. Set `RETORT_ACROBOT_FIXTURES` to a
//! file of the same format to check it as well.

mod common;

use common::{check_file, shipped, steps_past_the_end, Replayable};
use retort_envs::Acrobot;
use std::path::PathBuf;

impl Replayable for Acrobot {
    const STATE_DIM: usize = 4;

    fn from_state(state: &[f64]) -> Self {
        Acrobot::with_state([state[0], state[1], state[2], state[3]])
    }

    fn state_vec(&self) -> Vec<f64> {
        self.state().to_vec()
    }
}

const SHIPPED: &str = "acrobot_v1.json";

#[test]
fn shipped_fixture_replays_bit_for_bit_whole_and_step_by_step() {
    let checked = check_file::<Acrobot>(&shipped(SHIPPED), true);
    // 19 trajectories plus 1 extra; never pass on an empty file.
    assert_eq!(checked.trajectories, 20, "{checked:?}");
    assert!(checked.steps > 3000, "{checked:?}");
}

#[test]
fn fixture_named_by_env_var_replays_bit_for_bit() {
    let Some(path) = std::env::var_os("RETORT_ACROBOT_FIXTURES") else {
        return;
    };
    let path = PathBuf::from(path);
    let checked = check_file::<Acrobot>(&path, true);
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
