//! Microseconds per action, retort-runtime against tch, for CartPole students and a dueling
//! teacher, in one run.
//!
//! ```text
//! cargo run --release -p retort-runtime-tch-check --example runtime_vs_tch [-- SECONDS]
//! ```
//!
//! Each network is a randomly initialised policy saved with the trainer's `save_checkpoint`
//! and loaded back by the runtime, so the runtime is timed on what it loads in practice. Both
//! act on the same CartPole states, one observation per call (how an agent acts while it
//! plays): `Mlp::act` for the runtime, `GreedyPolicy::act` on a one-row slice for tch, with
//! libtorch limited to one thread (more only add hand-over costs for a single row).

use retort_core::{GreedyPolicy, MlpSpec};
use retort_runtime::Mlp;
use retort_runtime_tch_check::{cartpole_states, random_policy, save, temp_dir};
use std::hint::black_box;
use std::time::{Duration, Instant};

/// Calls `act` on the states in turn, over and over, for about `budget`; returns µs per call.
fn time_per_action(states: &[f32], budget: Duration, mut act: impl FnMut(&[f32]) -> usize) -> f64 {
    // Warm-up: caches, branch predictors, libtorch's lazy initialisation.
    let mut sink = 0usize;
    for obs in states.chunks_exact(4).take(1_000) {
        sink = sink.wrapping_add(act(black_box(obs)));
    }
    let start = Instant::now();
    let mut calls = 0u64;
    while start.elapsed() < budget {
        for obs in states.chunks_exact(4) {
            sink = sink.wrapping_add(act(black_box(obs)));
        }
        calls += (states.len() / 4) as u64;
    }
    black_box(sink);
    start.elapsed().as_secs_f64() * 1e6 / calls as f64
}

fn main() {
    let seconds: f64 = match std::env::args().nth(1) {
        None => 1.0,
        Some(arg) => match arg.parse() {
            Ok(s) if s > 0.0 => s,
            _ => {
                eprintln!("usage: runtime_vs_tch [seconds per measurement, > 0], got `{arg}`");
                std::process::exit(2);
            }
        },
    };
    let budget = Duration::from_secs_f64(seconds);
    tch::set_num_threads(1);
    tch::set_num_interop_threads(1);
    let states = cartpole_states(4_096, 9);

    println!("µs per action, one observation per call, {seconds} s per measurement");
    println!(
        "{:>12} {:>7} {:>11} {:>9} {:>9}",
        "hidden", "params", "runtime", "tch", "ratio"
    );
    let shapes = [
        (vec![4], false),
        (vec![16], false),
        (vec![64], false),
        (vec![256, 256], false),
        (vec![128, 128], true),
    ];
    for (k, (hidden, dueling)) in shapes.into_iter().enumerate() {
        let spec = MlpSpec {
            obs_dim: 4,
            n_actions: 2,
            hidden: hidden.clone(),
            dueling,
        };
        let policy = random_policy(&spec, 1, &states);
        let dir = temp_dir(&format!("bench-{k}"));
        save(&dir, &policy);
        let mlp = match Mlp::load(&dir) {
            Ok(mlp) => mlp,
            Err(e) => panic!("the runtime refused the checkpoint: {e}"),
        };
        let _ = std::fs::remove_dir_all(&dir);

        let runtime = time_per_action(&states, budget, |obs| mlp.act(obs));
        let mut action = [0usize];
        let tch = time_per_action(&states, budget, |obs| {
            policy.act(obs, &mut action);
            action[0]
        });
        println!(
            "{:>12} {:>7} {:>11.3} {:>9.2} {:>8.0}×",
            format!("{hidden:?}{}", if dueling { " duel" } else { "" }),
            mlp.params(),
            runtime,
            tch,
            tch / runtime
        );
    }
}
