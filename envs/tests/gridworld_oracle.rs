//! Statistical checks of the grid family: slip probabilities and the DP oracle against
//! Monte-Carlo rollouts of its own policy.

use retort_envs::{BuiltinMap, Env, GridWorld};

fn frozen_lake_4x4_slippery() -> GridWorld {
    GridWorld::builtin(BuiltinMap::FrozenLake4x4)
        .expect("builtin")
        .with_slippery(true)
}

#[test]
fn slippery_moves_split_one_third_each_over_seeded_steps() {
    // From the start (top-left) pushing down: intended down reaches cell 4, the perpendicular
    // left bumps the edge (stays at 0), the perpendicular right reaches cell 1.
    let mut env = frozen_lake_4x4_slippery();
    let mut obs = vec![0.0; 16];
    let n = 30_000;
    let mut counts = [0usize; 3];
    env.reset(Some(2024), &mut obs);
    for _ in 0..n {
        env.reset(None, &mut obs);
        env.step(1, &mut obs).expect("step");
        match env.position() {
            4 => counts[0] += 1,
            0 => counts[1] += 1,
            1 => counts[2] += 1,
            other => panic!("slipped to impossible cell {other}"),
        }
    }
    // Standard error of a 1/3 frequency over n draws; 5 of them is far beyond chance.
    let se = (1.0 / 3.0 * 2.0 / 3.0 / n as f64).sqrt();
    for c in counts {
        let p = c as f64 / n as f64;
        assert!((p - 1.0 / 3.0).abs() < 5.0 * se, "{counts:?}");
    }
}

#[test]
fn frozen_lake_slippery_oracle_matches_monte_carlo_of_its_policy() {
    let mut env = frozen_lake_4x4_slippery().with_max_episode_steps(Some(100));
    let exact = env.optimal_return();
    let plan = env.finite_horizon(100);
    assert_eq!(plan.value(100, env.map().start()), exact);

    let episodes = 20_000;
    let mut obs = vec![0.0; 16];
    let mut total = 0.0;
    let mut total_sq = 0.0;
    for seed in 0..episodes {
        env.reset(Some(seed), &mut obs);
        let mut ret = 0.0;
        loop {
            let action = plan.action(100 - env.elapsed_steps(), env.position());
            let step = env.step(action, &mut obs).expect("step");
            ret += step.reward;
            if step.done() {
                break;
            }
        }
        total += ret;
        total_sq += ret * ret;
    }
    let n = episodes as f64;
    let mean = total / n;
    let se = ((total_sq / n - mean * mean) / n).sqrt();
    // Regression value of the DP (not hand-derivable); the Monte-Carlo check below is what
    // ties it to the dynamics.
    assert!((exact - 0.744_190_287_829_267_2).abs() < 1e-12, "{exact}");
    assert!(
        (mean - exact).abs() < 4.0 * se,
        "Monte Carlo {mean} ± {se} vs exact {exact}"
    );
}

#[test]
fn oracle_is_an_upper_bound_for_another_policy() {
    // Always pushing right then down is worse than optimal on the slippery lake.
    let mut env = frozen_lake_4x4_slippery().with_max_episode_steps(Some(100));
    let exact = env.optimal_return();
    let mut obs = vec![0.0; 16];
    let mut total = 0.0;
    let episodes = 5_000;
    for seed in 0..episodes {
        env.reset(Some(seed), &mut obs);
        loop {
            let step = env
                .step(2 - (env.elapsed_steps() as usize % 2), &mut obs)
                .expect("step");
            total += step.reward;
            if step.done() {
                break;
            }
        }
    }
    assert!(total / (episodes as f64) < exact);
}

#[test]
fn value_iteration_policy_is_greedy_for_its_values_on_four_rooms() {
    // Discounting makes the shortest path optimal: following the VI policy from the start
    // reaches the goal in exactly 20 steps.
    let mut env = GridWorld::builtin(BuiltinMap::FourRooms).expect("builtin");
    let vi = env.value_iteration(0.99, 1e-12);
    assert!(vi.converged);
    let mut obs = vec![0.0; 169];
    env.reset(Some(0), &mut obs);
    let mut steps = 0;
    loop {
        let step = env.step(vi.policy[env.position()], &mut obs).expect("step");
        steps += 1;
        if step.done() {
            assert!(step.terminated && step.reward == 1.0);
            break;
        }
    }
    assert_eq!(steps, 20);
    assert!((vi.values[env.map().start()] - 0.99f64.powi(19)).abs() < 1e-9);
}
