//! Conformance of MountainCar-v0 with Gymnasium 1.4.0: replays recorded trajectories bit for bit.
//!
//! The fixture (`tests/fixtures/mountaincar_v0.json`, written by `scripts/gen_fixtures.py`)
//! has the layout of the CartPole one; see `tests/common/mod.rs` for what is compared. It
//! covers the left-wall stop, velocity clipping at ±0.07, the right end of the track, the goal
//! (also with negative velocity past the flag, which does not end the episode), truncation at
//! 200 steps, and the goal reached on the 200th step (both flags). Set
//! `RETORT_MOUNTAINCAR_FIXTURES` to a file of the same format to check it as well.

mod common;

use common::{check_file, shipped, steps_past_the_end, Replayable};
use retort_envs::MountainCar;
use std::path::PathBuf;

impl Replayable for MountainCar {
    const STATE_DIM: usize = 2;

    fn from_state(state: &[f64]) -> Self {
        MountainCar::with_state([state[0], state[1]])
    }

    fn state_vec(&self) -> Vec<f64> {
        self.state().to_vec()
    }
}

const SHIPPED: &str = "mountaincar_v0.json";

#[test]
fn shipped_fixture_replays_bit_for_bit() {
    let checked = check_file::<MountainCar>(&shipped(SHIPPED), true);
    // 29 trajectories plus 2 extras; never pass on an empty file.
    assert_eq!(checked.trajectories, 31, "{checked:?}");
    assert!(checked.steps > 3000, "{checked:?}");
}

#[test]
fn fixture_named_by_env_var_replays_bit_for_bit() {
    let Some(path) = std::env::var_os("RETORT_MOUNTAINCAR_FIXTURES") else {
        return;
    };
    let path = PathBuf::from(path);
    let checked = check_file::<MountainCar>(&path, true);
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
