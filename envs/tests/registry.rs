//! Conformance of the registry: what each id builds, which options it refuses, and the spec's
//! serialised form.

use retort_envs::{known_ids, make, optimal_return, EnvError, EnvSpec, ObsKind};
use std::path::PathBuf;

fn spec(id: &str) -> EnvSpec {
    EnvSpec::new(id)
}

fn grid(map: &str) -> EnvSpec {
    EnvSpec {
        map: Some(map.into()),
        ..spec("GridWorld")
    }
}

fn bad_option(result: Result<impl Sized, EnvError>) -> (&'static str, String) {
    match result {
        Err(EnvError::BadOption { option, fix, .. }) => (option, fix),
        Err(e) => panic!("expected BadOption, got {e}"),
        Ok(_) => panic!("expected BadOption, got an environment"),
    }
}

/// A map file in the system temp dir, unique per test so that tests can run in parallel.
fn temp_map(name: &str, text: &str) -> PathBuf {
    let path = std::env::temp_dir().join(format!("retort-envs-{}-{name}.txt", std::process::id()));
    std::fs::write(&path, text).expect("write temp map");
    path
}

#[test]
fn every_known_id_builds_with_defaults_except_gridworld_which_needs_a_map() {
    for id in known_ids() {
        let made = make(&spec(id));
        if *id == "GridWorld" {
            assert_eq!(bad_option(made).0, "map");
        } else {
            assert_eq!(made.expect(id).id(), *id);
        }
    }
}

#[test]
fn defaults_match_gymnasium() {
    let cart = make(&spec("CartPole-v1")).expect("cartpole");
    assert_eq!((cart.obs_dim(), cart.n_actions()), (4, 2));
    assert_eq!(cart.max_episode_steps(), Some(500));
    assert_eq!(cart.reward_threshold(), Some(475.0));

    let car = make(&spec("MountainCar-v0")).expect("mountain car");
    assert_eq!((car.obs_dim(), car.n_actions()), (2, 3));
    assert_eq!(car.max_episode_steps(), Some(200));
    assert_eq!(car.reward_threshold(), Some(-110.0));

    let acrobot = make(&spec("Acrobot-v1")).expect("acrobot");
    assert_eq!((acrobot.obs_dim(), acrobot.n_actions()), (6, 3));
    assert_eq!(acrobot.max_episode_steps(), Some(500));
    assert_eq!(acrobot.reward_threshold(), Some(-100.0));

    let lake = make(&spec("FrozenLake-v1")).expect("lake");
    assert_eq!((lake.obs_dim(), lake.n_actions()), (16, 4));
    assert_eq!(lake.max_episode_steps(), Some(100));
    assert_eq!(lake.reward_threshold(), Some(0.70));

    let big = make(&EnvSpec {
        map: Some("8x8".into()),
        ..spec("FrozenLake-v1")
    })
    .expect("8x8");
    assert_eq!((big.obs_dim(), big.max_episode_steps()), (64, Some(100)));
    // Gymnasium's 0.70 is above the 8x8 optimum within 100 steps (0.6407), so none is claimed.
    assert_eq!(big.reward_threshold(), None);

    let cliff = make(&spec("CliffWalking-v1")).expect("cliff");
    assert_eq!((cliff.obs_dim(), cliff.max_episode_steps()), (48, None));
    assert_eq!(cliff.reward_threshold(), None);

    let rooms = make(&grid("FourRooms")).expect("rooms");
    assert_eq!(
        (rooms.id(), rooms.obs_dim(), rooms.max_episode_steps()),
        ("GridWorld", 169, Some(100))
    );
}

#[test]
fn frozen_lake_is_slippery_by_default_so_its_optimum_is_below_one() {
    let slippery = optimal_return(&spec("FrozenLake-v1"))
        .expect("ok")
        .expect("oracle");
    assert!(slippery > 0.5 && slippery < 1.0, "{slippery}");
    let firm = EnvSpec {
        is_slippery: Some(false),
        ..spec("FrozenLake-v1")
    };
    assert_eq!(optimal_return(&firm).expect("ok"), Some(1.0));
}

#[test]
fn oracle_values_of_the_deterministic_builtins() {
    assert_eq!(optimal_return(&spec("CartPole-v1")).expect("ok"), None);
    assert_eq!(
        optimal_return(&spec("CliffWalking-v1")).expect("ok"),
        Some(-13.0)
    );
    assert_eq!(optimal_return(&grid("FourRooms")).expect("ok"), Some(1.0));
    assert_eq!(
        optimal_return(&grid("CliffWalking")).expect("ok"),
        Some(-13.0)
    );
    let short = EnvSpec {
        max_episode_steps: Some(19),
        ..grid("FourRooms")
    };
    assert_eq!(optimal_return(&short).expect("ok"), Some(0.0));
    let short = EnvSpec {
        max_episode_steps: Some(12),
        ..spec("CliffWalking-v1")
    };
    assert_eq!(optimal_return(&short).expect("ok"), Some(-12.0));
}

#[test]
fn options_that_do_not_apply_are_refused_by_name() {
    let cases = [
        (
            EnvSpec {
                is_slippery: Some(true),
                ..spec("CartPole-v1")
            },
            "is_slippery",
        ),
        (
            EnvSpec {
                map: Some("4x4".into()),
                ..spec("CartPole-v1")
            },
            "map",
        ),
        (
            EnvSpec {
                map_file: Some("m.txt".into()),
                ..spec("CartPole-v1")
            },
            "map_file",
        ),
        (
            EnvSpec {
                observation: Some(ObsKind::Coords),
                ..spec("CartPole-v1")
            },
            "observation",
        ),
        (
            EnvSpec {
                map_file: Some("m.txt".into()),
                ..spec("FrozenLake-v1")
            },
            "map_file",
        ),
        (
            EnvSpec {
                map: Some("4x12".into()),
                ..spec("CliffWalking-v1")
            },
            "map",
        ),
        (
            EnvSpec {
                max_episode_steps: Some(0),
                ..spec("FrozenLake-v1")
            },
            "max_episode_steps",
        ),
    ];
    for (s, option) in cases {
        let err = make(&s)
            .err()
            .unwrap_or_else(|| panic!("{s:?} was accepted"));
        assert!(
            matches!(err, EnvError::BadOption { option: o, .. } if o == option),
            "{err}"
        );
        assert!(err.to_string().contains(option), "{err}");
    }
}

#[test]
fn classic_control_ids_take_only_a_time_limit() {
    for id in ["MountainCar-v0", "Acrobot-v1"] {
        let refused = [
            (
                EnvSpec {
                    map: Some("4x4".into()),
                    ..spec(id)
                },
                "map",
            ),
            (
                EnvSpec {
                    map_file: Some("m.txt".into()),
                    ..spec(id)
                },
                "map_file",
            ),
            (
                EnvSpec {
                    is_slippery: Some(false),
                    ..spec(id)
                },
                "is_slippery",
            ),
            (
                EnvSpec {
                    observation: Some(ObsKind::OneHot),
                    ..spec(id)
                },
                "observation",
            ),
            (
                EnvSpec {
                    step_reward: Some(-1.0),
                    ..spec(id)
                },
                "step_reward",
            ),
            (
                EnvSpec {
                    max_episode_steps: Some(0),
                    ..spec(id)
                },
                "max_episode_steps",
            ),
        ];
        for (s, option) in refused {
            assert_eq!(bad_option(make(&s)).0, option, "{s:?}");
        }
        let limited = make(&EnvSpec {
            max_episode_steps: Some(37),
            ..spec(id)
        })
        .expect(id);
        assert_eq!(limited.max_episode_steps(), Some(37));
        assert_eq!(optimal_return(&spec(id)).expect("ok"), None);
    }
}

#[test]
fn bad_map_names_list_the_valid_ones() {
    let (option, fix) = bad_option(make(&EnvSpec {
        map: Some("16x16".into()),
        ..spec("FrozenLake-v1")
    }));
    assert_eq!(option, "map");
    assert!(fix.contains("\"4x4\"") && fix.contains("\"8x8\""), "{fix}");
    let (option, fix) = bad_option(make(&grid("Maze")));
    assert_eq!(option, "map");
    assert!(
        fix.contains("FourRooms") && fix.contains("FrozenLake8x8"),
        "{fix}"
    );
}

#[test]
fn gridworld_refuses_map_and_map_file_together() {
    let s = EnvSpec {
        map_file: Some("x.txt".into()),
        ..grid("FourRooms")
    };
    assert_eq!(bad_option(make(&s)).0, "map_file");
}

#[test]
fn unknown_id_is_refused_listing_the_known_ones() {
    let err = make(&spec("cartpole")).err().expect("refused");
    assert!(matches!(&err, EnvError::UnknownEnv { id } if id == "cartpole"));
    assert!(err.to_string().contains("CartPole-v1"), "{err}");
}

#[test]
fn gridworld_loads_a_map_file_with_options() {
    let path = temp_map("ok", "S.H\n..G\n");
    let s = EnvSpec {
        map_file: Some(path.clone()),
        observation: Some(ObsKind::Coords),
        max_episode_steps: Some(7),
        ..spec("GridWorld")
    };
    let env = make(&s).expect("map file");
    assert_eq!((env.obs_dim(), env.max_episode_steps()), (2, Some(7)));
    assert_eq!(optimal_return(&s).expect("ok"), Some(1.0));
    std::fs::remove_file(path).ok();
}

#[test]
fn map_file_errors_name_the_file_line_and_column() {
    let path = temp_map("bad", "S.\n.Q\n");
    let err = make(&EnvSpec {
        map_file: Some(path.clone()),
        ..spec("GridWorld")
    })
    .err()
    .expect("bad");
    let msg = err.to_string();
    assert!(
        matches!(&err, EnvError::MapFile { source, .. } if (source.line, source.column) == (2, 2))
    );
    assert!(
        msg.contains(&path.display().to_string()) && msg.contains("line 2, column 2"),
        "{msg}"
    );
    std::fs::remove_file(path).ok();

    let missing = PathBuf::from("/definitely/not/here.txt");
    let err = make(&EnvSpec {
        map_file: Some(missing.clone()),
        ..spec("GridWorld")
    })
    .err();
    assert!(matches!(err, Some(EnvError::Io { path, .. }) if path == missing));
}

#[test]
fn spec_serialises_only_the_options_that_are_set() {
    let s = EnvSpec {
        map: Some("8x8".into()),
        observation: Some(ObsKind::Coords),
        ..spec("FrozenLake-v1")
    };
    let json = serde_json::to_string(&s).expect("serialise");
    assert_eq!(
        json,
        r#"{"id":"FrozenLake-v1","map":"8x8","observation":"coords"}"#
    );
    assert_eq!(serde_json::from_str::<EnvSpec>(&json).expect("parse"), s);
    let onehot: EnvSpec =
        serde_json::from_str(r#"{"id":"GridWorld","observation":"onehot"}"#).expect("parse");
    assert_eq!(onehot.observation, Some(ObsKind::OneHot));
}

#[test]
fn spec_refuses_unknown_fields() {
    let err = serde_json::from_str::<EnvSpec>(r#"{"id":"CartPole-v1","slippery":true}"#);
    let msg = err.expect_err("refused").to_string();
    assert!(msg.contains("slippery"), "{msg}");
}

#[test]
fn cartpole_takes_gymnasiums_reward_and_integrator_options() {
    let plain = EnvSpec::new("CartPole-v1");
    assert_eq!(
        (
            plain.sutton_barto_reward,
            plain.kinematics_integrator.clone()
        ),
        (None, None)
    );
    let mut obs = [0.0f32; 4];
    let mut first_step = |s: &EnvSpec| {
        let mut env = make(s).expect("cartpole with options");
        env.reset(Some(3), &mut obs);
        let step = env.step(1, &mut obs).expect("step");
        (step.reward, obs, env.reward_threshold())
    };
    let (reward, euler_obs, threshold) = first_step(&plain);
    assert_eq!((reward, threshold), (1.0, Some(475.0)));
    let explicit = EnvSpec {
        kinematics_integrator: Some("euler".into()),
        sutton_barto_reward: Some(false),
        ..spec("CartPole-v1")
    };
    assert_eq!(first_step(&explicit), (1.0, euler_obs, Some(475.0)));

    let sutton_barto = EnvSpec {
        sutton_barto_reward: Some(true),
        ..spec("CartPole-v1")
    };
    let (reward, obs_sb, threshold) = first_step(&sutton_barto);
    assert_eq!((reward, obs_sb, threshold), (0.0, euler_obs, Some(0.0)));

    let semi = EnvSpec {
        kinematics_integrator: Some("semi-implicit euler".into()),
        ..spec("CartPole-v1")
    };
    let (reward, semi_obs, _) = first_step(&semi);
    assert_eq!(reward, 1.0);
    // Same velocities, but the positions already moved with the new velocities.
    assert_eq!((semi_obs[1], semi_obs[3]), (euler_obs[1], euler_obs[3]));
    assert_ne!((semi_obs[0], semi_obs[2]), (euler_obs[0], euler_obs[2]));
}

#[test]
fn cartpole_refuses_an_unknown_integrator_listing_the_two_names() {
    for name in ["rk4", "Euler", "semi-implicit", "semi_implicit_euler", ""] {
        let err = make(&EnvSpec {
            kinematics_integrator: Some(name.into()),
            ..spec("CartPole-v1")
        })
        .err()
        .unwrap_or_else(|| panic!("{name:?} was accepted"));
        let msg = err.to_string();
        let (option, fix) = bad_option(Err::<(), _>(err));
        assert_eq!(option, "kinematics_integrator");
        assert!(
            fix.contains("\"euler\"") && fix.contains("\"semi-implicit euler\""),
            "{fix}"
        );
        assert!(msg.contains(&format!("{name:?}")), "{msg}");
    }
}

#[test]
fn other_ids_refuse_the_cartpole_options_by_name() {
    for id in known_ids().iter().filter(|id| **id != "CartPole-v1") {
        // GridWorld needs a map to get as far as its options.
        let base = if *id == "GridWorld" {
            grid("FourRooms")
        } else {
            spec(id)
        };
        let cases = [
            (
                EnvSpec {
                    sutton_barto_reward: Some(false),
                    ..base.clone()
                },
                "sutton_barto_reward",
            ),
            (
                EnvSpec {
                    kinematics_integrator: Some("euler".into()),
                    ..base.clone()
                },
                "kinematics_integrator",
            ),
        ];
        for (s, option) in cases {
            let (refused, fix) = bad_option(make(&s));
            assert_eq!(refused, option, "{id}");
            assert!(fix.contains(id) && fix.contains(option), "{fix}");
            assert_eq!(bad_option(optimal_return(&s)).0, option, "{id}");
        }
    }
    // An unknown id is reported as unknown, whatever options it carries.
    let err = make(&EnvSpec {
        sutton_barto_reward: Some(true),
        ..spec("cartpole")
    })
    .err();
    assert!(matches!(err, Some(EnvError::UnknownEnv { .. })), "{err:?}");
}

#[test]
fn cartpole_options_serialise_only_when_set() {
    let s = EnvSpec {
        sutton_barto_reward: Some(true),
        kinematics_integrator: Some("semi-implicit euler".into()),
        ..spec("CartPole-v1")
    };
    let json = serde_json::to_string(&s).expect("serialise");
    assert_eq!(
        json,
        concat!(
            r#"{"id":"CartPole-v1","sutton_barto_reward":true,"#,
            r#""kinematics_integrator":"semi-implicit euler"}"#
        )
    );
    assert_eq!(serde_json::from_str::<EnvSpec>(&json).expect("parse"), s);
    assert_eq!(
        serde_json::to_string(&spec("CartPole-v1")).expect("serialise"),
        r#"{"id":"CartPole-v1"}"#
    );
}
