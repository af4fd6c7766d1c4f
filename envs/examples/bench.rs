//! Measures environment steps per second, single-threaded, with random actions and the resets
//! that episodes need included: `cargo run --release -p retort-envs --example bench`.
//!
//! Prints one line per case, `case<TAB>steps/s<TAB>steps<TAB>seconds`, for a single
//! CartPole-v1, MountainCar-v0 and Acrobot-v1 and for [`VecEnv`]s of 64 and 1024 CartPoles
//! (a batch step of `n` copies counts as `n` steps). `scripts/bench_envs.py` runs this next to
//! the same loops in Python Gymnasium and prints the ratios.
//!
//! Options: `--seconds S` (time per case, default 1.0), `--only CASE` (run one case).

use retort_envs::{make, EnvError, EnvSpec, Step, VecEnv};
use std::hint::black_box;
use std::time::{Duration, Instant};

/// Actions are drawn in advance, so that the timed loop measures the environment and not a
/// random-number generator; 2^16 of them are replayed cyclically.
const ACTIONS: usize = 1 << 16;

/// SplitMix64, enough for uniformly spread actions and free of any dependency.
fn random_actions(n_actions: usize, seed: u64) -> Vec<usize> {
    let mut z = seed;
    (0..ACTIONS)
        .map(|_| {
            z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut x = z;
            x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            ((x ^ (x >> 31)) % n_actions as u64) as usize
        })
        .collect()
}

/// Steps one environment for about `budget`, resetting when an episode ends.
fn bench_single(id: &str, budget: Duration) -> Result<(u64, f64), EnvError> {
    let mut env = make(&EnvSpec::new(id))?;
    let actions = random_actions(env.n_actions(), 1);
    let mut obs = vec![0.0f32; env.obs_dim()];
    env.reset(Some(0), &mut obs);
    let mut steps = 0u64;
    let start = Instant::now();
    // Checking the clock every 4096 steps keeps its cost out of the measurement.
    while start.elapsed() < budget {
        for _ in 0..4096 {
            let action = actions[steps as usize & (ACTIONS - 1)];
            let step = env.step(action, &mut obs)?;
            if step.done() {
                env.reset(None, &mut obs);
            }
            steps += 1;
        }
        black_box(&obs);
    }
    Ok((steps, start.elapsed().as_secs_f64()))
}

/// Steps a batch of `n` CartPoles (automatic resets) for about `budget`.
fn bench_vec(n: usize, budget: Duration) -> Result<(u64, f64), EnvError> {
    let mut batch = VecEnv::new(&EnvSpec::new("CartPole-v1"), n)?;
    let d = batch.obs_dim();
    let pool = random_actions(batch.n_actions(), 2);
    let mut obs = vec![0.0f32; n * d];
    let mut fin = vec![0.0f32; n * d];
    let mut results = vec![
        Step {
            reward: 0.0,
            terminated: false,
            truncated: false,
        };
        n
    ];
    batch.reset(0, &mut obs)?;
    let mut offset = 0usize;
    let mut steps = 0u64;
    let start = Instant::now();
    while start.elapsed() < budget {
        for _ in 0..16 {
            // A window of the pool; n divides ACTIONS for the powers of two benchmarked here,
            // and other n just wrap early.
            if offset + n > ACTIONS {
                offset = 0;
            }
            batch.step(&pool[offset..offset + n], &mut obs, &mut fin, &mut results)?;
            offset += n;
            steps += n as u64;
        }
        black_box(&obs);
    }
    Ok((steps, start.elapsed().as_secs_f64()))
}

/// What one benchmark case steps.
enum Case {
    /// One environment of this id.
    Single(&'static str),
    /// A `VecEnv` of this many CartPoles.
    Batch(usize),
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut seconds = 1.0f64;
    let mut only: Option<String> = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--seconds" => {
                let value = args.next().ok_or("--seconds needs a value")?;
                seconds = value
                    .parse()
                    .map_err(|e| format!("--seconds {value:?}: {e}"))?;
                if !(seconds.is_finite() && seconds > 0.0) {
                    return Err(format!("--seconds must be positive, got {seconds}").into());
                }
            }
            "--only" => only = Some(args.next().ok_or("--only needs a case name")?),
            other => return Err(format!("unknown argument {other:?}; see the file's doc").into()),
        }
    }
    let budget = Duration::from_secs_f64(seconds);
    let cases = [
        ("CartPole-v1", Case::Single("CartPole-v1")),
        ("MountainCar-v0", Case::Single("MountainCar-v0")),
        ("Acrobot-v1", Case::Single("Acrobot-v1")),
        ("VecEnv64-CartPole-v1", Case::Batch(64)),
        ("VecEnv1024-CartPole-v1", Case::Batch(1024)),
    ];
    if let Some(name) = &only {
        if !cases.iter().any(|(case, _)| case == name) {
            let names: Vec<&str> = cases.iter().map(|(case, _)| *case).collect();
            return Err(format!("no case {name:?}; cases are {}", names.join(", ")).into());
        }
    }
    for (name, case) in cases {
        if only.as_ref().is_some_and(|o| o != name) {
            continue;
        }
        let (steps, secs) = match case {
            Case::Single(id) => bench_single(id, budget)?,
            Case::Batch(n) => bench_vec(n, budget)?,
        };
        println!("{name}\t{:.0}\t{steps}\t{secs:.3}", steps as f64 / secs);
    }
    Ok(())
}
