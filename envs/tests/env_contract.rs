//! The `Env` contract, checked on every registered environment through `make`.

use retort_envs::{known_ids, make, Env, EnvError, EnvSpec, Step};

/// One spec per id (GridWorld with each built-in), slippery where that applies.
fn all_specs() -> Vec<EnvSpec> {
    let mut specs: Vec<EnvSpec> = known_ids()
        .iter()
        .filter(|id| **id != "GridWorld")
        .map(|id| EnvSpec::new(*id))
        .collect();
    for map in [
        "FourRooms",
        "FrozenLake4x4",
        "FrozenLake8x8",
        "CliffWalking",
    ] {
        specs.push(EnvSpec {
            map: Some(map.into()),
            is_slippery: Some(true),
            ..EnvSpec::new("GridWorld")
        });
    }
    specs
}

/// Plays one episode with a fixed action pattern, capped at 300 steps.
fn play(env: &mut dyn Env, seed: u64) -> (Vec<f32>, Vec<Step>) {
    let mut obs = vec![0.0; env.obs_dim()];
    env.reset(Some(seed), &mut obs);
    let mut trace = obs.clone();
    let mut steps = vec![];
    for t in 0..300 {
        let step = env.step(t * 7 % env.n_actions(), &mut obs).expect("step");
        trace.extend_from_slice(&obs);
        steps.push(step);
        if step.done() {
            break;
        }
    }
    (trace, steps)
}

#[test]
fn step_before_any_reset_is_episode_over() {
    for spec in all_specs() {
        let mut env = make(&spec).expect("make");
        let mut obs = vec![0.0; env.obs_dim()];
        assert!(
            matches!(env.step(0, &mut obs), Err(EnvError::EpisodeOver)),
            "{spec:?}"
        );
    }
}

#[test]
fn out_of_range_action_is_refused_with_the_action_count() {
    for spec in all_specs() {
        let mut env = make(&spec).expect("make");
        let n = env.n_actions();
        let mut obs = vec![0.0; env.obs_dim()];
        env.reset(Some(1), &mut obs);
        let err = env.step(n, &mut obs);
        let refused = matches!(err, Err(EnvError::InvalidAction { action, n_actions: m })
            if action == n && m == n);
        assert!(refused, "{spec:?}: {err:?}");
        assert!(
            env.step(n - 1, &mut obs).is_ok(),
            "{spec:?}: a refused action must not end the episode"
        );
    }
}

#[test]
fn wrong_observation_buffer_is_refused() {
    for spec in all_specs() {
        let mut env = make(&spec).expect("make");
        let mut obs = vec![0.0; env.obs_dim()];
        env.reset(Some(1), &mut obs);
        let mut short = vec![0.0; env.obs_dim() - 1];
        assert!(
            matches!(env.step(0, &mut short), Err(EnvError::ObsLength { .. })),
            "{spec:?}"
        );
    }
}

#[test]
fn stepping_after_the_episode_ends_is_episode_over_until_reset() {
    for spec in all_specs() {
        let limited = EnvSpec {
            max_episode_steps: Some(5),
            ..spec.clone()
        };
        let mut env = make(&limited).expect("make");
        let (_, steps) = play(env.as_mut(), 3);
        assert!(steps.last().is_some_and(Step::done), "{spec:?}");
        let mut obs = vec![0.0; env.obs_dim()];
        assert!(
            matches!(env.step(0, &mut obs), Err(EnvError::EpisodeOver)),
            "{spec:?}"
        );
        env.reset(None, &mut obs);
        assert!(env.step(0, &mut obs).is_ok(), "{spec:?}");
    }
}

#[test]
fn same_seed_gives_the_same_episode_and_fresh_env_is_seed_zero() {
    for spec in all_specs() {
        let a = play(make(&spec).expect("make").as_mut(), 11);
        let b = play(make(&spec).expect("make").as_mut(), 11);
        assert_eq!(a, b, "{spec:?}");
        let mut fresh = make(&spec).expect("make");
        let mut seeded = make(&spec).expect("make");
        let mut o1 = vec![0.0; fresh.obs_dim()];
        let mut o2 = vec![0.0; fresh.obs_dim()];
        fresh.reset(None, &mut o1);
        seeded.reset(Some(0), &mut o2);
        for t in 0..20 {
            let s1 = fresh.step(t % 2, &mut o1);
            let s2 = seeded.step(t % 2, &mut o2);
            assert_eq!(format!("{s1:?}{o1:?}"), format!("{s2:?}{o2:?}"), "{spec:?}");
            if s1.map_or(true, |s| s.done()) {
                break;
            }
        }
    }
}

#[test]
fn envs_can_move_between_threads() {
    let handles: Vec<_> = all_specs()
        .into_iter()
        .map(|spec| {
            let mut env = make(&spec).expect("make");
            std::thread::spawn(move || play(env.as_mut(), 5).1.len())
        })
        .collect();
    for h in handles {
        assert!(h.join().expect("thread") >= 1);
    }
}

/// Steps `env` for `n` steps with a fixed action pattern, resetting (without a seed) whenever
/// an episode ends, and records every observation and step.
fn continue_for(env: &mut dyn Env, n: usize) -> (Vec<f32>, Vec<Step>) {
    let mut obs = vec![0.0; env.obs_dim()];
    let mut trace = vec![];
    let mut steps = vec![];
    for t in 0..n {
        let step = env.step(t * 5 % env.n_actions(), &mut obs).expect("step");
        trace.extend_from_slice(&obs);
        steps.push(step);
        if step.done() {
            env.reset(None, &mut obs);
            trace.extend_from_slice(&obs);
        }
    }
    (trace, steps)
}

#[test]
fn a_restored_snapshot_continues_exactly_like_the_original() {
    for spec in all_specs() {
        let mut original = make(&spec).expect("make");
        let mut obs = vec![0.0; original.obs_dim()];
        original.reset(Some(11), &mut obs);
        // Some steps in, mid-episode, with the random stream advanced by earlier resets.
        continue_for(original.as_mut(), 37);
        let snapshot = original.snapshot();
        let json = serde_json::to_string(&snapshot).expect("serialise");

        let mut copy = make(&spec).expect("make");
        copy.restore(&serde_json::from_str(&json).expect("parse"))
            .expect("restore");
        assert_eq!(copy.snapshot(), snapshot, "{spec:?}");
        let a = continue_for(original.as_mut(), 2_000);
        let b = continue_for(copy.as_mut(), 2_000);
        assert!(a == b, "{spec:?}: trajectories differ after restore");
    }
}

#[test]
fn a_snapshot_of_another_environment_is_refused_and_changes_nothing() {
    let mut cartpole = make(&EnvSpec::new("CartPole-v1")).expect("make");
    let mut obs = [0.0f32; 4];
    cartpole.reset(Some(3), &mut obs);
    let before = cartpole.snapshot();
    let acrobot = make(&EnvSpec::new("Acrobot-v1")).expect("make");
    let err = cartpole.restore(&acrobot.snapshot()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "cannot restore this snapshot of Acrobot-v1: it was taken from Acrobot-v1, not CartPole-v1"
    );
    assert_eq!(cartpole.snapshot(), before);

    let mut short = before.clone();
    short.state.pop();
    let err = cartpole.restore(&short).unwrap_err();
    assert!(
        err.to_string().contains("3 state variables, expected 4"),
        "{err}"
    );

    let mut grid = make(&EnvSpec {
        map: Some("FourRooms".into()),
        ..EnvSpec::new("GridWorld")
    })
    .expect("make");
    let mut wall = grid.snapshot();
    wall.state = vec![0]; // the top-left corner of FourRooms is a wall
    let err = grid.restore(&wall).unwrap_err();
    assert!(err.to_string().contains("not one open cell"), "{err}");
}

#[test]
fn a_running_episode_at_its_time_limit_is_refused_and_changes_nothing() {
    // No environment produces such a snapshot, and the episode would run past its limit.
    for spec in all_specs() {
        let mut env = make(&spec).expect("make");
        let mut obs = vec![0.0; env.obs_dim()];
        env.reset(Some(5), &mut obs);
        let before = env.snapshot();
        let Some(limit) = env.max_episode_steps() else {
            continue;
        };
        let mut at_limit = before.clone();
        at_limit.elapsed = limit;
        let err = env.restore(&at_limit).unwrap_err();
        assert!(err.to_string().contains("time limit"), "{spec:?}: {err}");
        assert_eq!(env.snapshot(), before, "{spec:?}");

        let mut last_step = before.clone();
        last_step.elapsed = limit - 1;
        env.restore(&last_step)
            .expect("one step before the limit is fine");
        let step = env.step(0, &mut obs).expect("the last step");
        assert!(step.truncated, "{spec:?}: the limit's step must truncate");
    }
}

#[test]
fn an_episode_without_a_time_limit_restores_its_own_snapshot_at_any_count() {
    // CliffWalking has no limit: its step count saturates, and every snapshot it can take
    // must restore.
    let mut env = make(&EnvSpec::new("CliffWalking-v1")).expect("make");
    let mut obs = vec![0.0; env.obs_dim()];
    env.reset(Some(5), &mut obs);
    let mut far = env.snapshot();
    far.elapsed = u32::MAX - 1;
    env.restore(&far).expect("restore");
    for _ in 0..3 {
        env.step(0, &mut obs).expect("step"); // up: stays on the path, never the cliff
    }
    let snapshot = env.snapshot();
    assert_eq!((snapshot.elapsed, snapshot.active), (u32::MAX, true));
    let mut copy = make(&EnvSpec::new("CliffWalking-v1")).expect("make");
    copy.restore(&snapshot).expect("its own snapshot restores");
    assert_eq!(copy.snapshot(), snapshot);
}

#[test]
fn states_that_reset_and_step_cannot_reach_are_refused_and_change_nothing() {
    let mut lake = EnvSpec::new("FrozenLake-v1");
    lake.is_slippery = Some(false);
    // (spec, a state no episode can be running in, what the refusal says)
    let cases: Vec<(EnvSpec, Vec<u64>, &str)> = vec![
        (
            EnvSpec::new("CartPole-v1"),
            floats(&[f64::NAN, 0.0, 0.0, 0.0]),
            "not a finite",
        ),
        (
            EnvSpec::new("CartPole-v1"),
            floats(&[0.0, f64::INFINITY, 0.0, 0.0]),
            "not a finite",
        ),
        (
            EnvSpec::new("CartPole-v1"),
            floats(&[3.0, 0.0, 0.0, 0.0]),
            "ends episodes",
        ),
        (
            EnvSpec::new("CartPole-v1"),
            floats(&[0.0, 0.0, 0.3, 0.0]),
            "ends episodes",
        ),
        (
            EnvSpec::new("MountainCar-v0"),
            floats(&[0.55, 0.01]),
            "ends episodes",
        ),
        (
            EnvSpec::new("MountainCar-v0"),
            floats(&[f64::NAN, 0.0]),
            "not a finite",
        ),
        (
            EnvSpec::new("Acrobot-v1"),
            floats(&[3.0, 0.0, 0.0, 0.0]),
            "ends episodes",
        ),
        (lake.clone(), vec![15], "ends episodes"), // the goal
        (lake, vec![5], "ends episodes"),          // a hole
        (EnvSpec::new("CliffWalking-v1"), vec![40], "a cliff"),
    ];
    for (spec, state, says) in cases {
        let mut env = make(&spec).expect("make");
        let mut obs = vec![0.0; env.obs_dim()];
        env.reset(Some(1), &mut obs);
        let before = env.snapshot();
        let mut bad = before.clone();
        bad.state = state.clone();
        let err = env.restore(&bad).unwrap_err();
        assert!(err.to_string().contains(says), "{spec:?} {state:?}: {err}");
        assert_eq!(env.snapshot(), before, "{spec:?}");
    }
    // After the episode ended, a terminal state is exactly what a snapshot holds.
    let mut env = make(&EnvSpec::new("CartPole-v1")).expect("make");
    let mut ended = env.snapshot();
    ended.state = floats(&[3.0, 0.0, 0.0, 0.0]);
    ended.active = false;
    env.restore(&ended)
        .expect("an ended episode may sit in a terminal state");
}

fn floats(values: &[f64]) -> Vec<u64> {
    values.iter().map(|v| v.to_bits()).collect()
}
