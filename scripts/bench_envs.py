#!/usr/bin/env python3
"""Environment steps per second: retort-envs (Rust) against Gymnasium (Python), same run.

Run it with the Python that has gymnasium==1.4.0 (see scripts/gen_fixtures.py):

    $VENV/bin/python scripts/bench_envs.py [--seconds S] [--rounds R]

It builds and runs `cargo run --release -p retort-envs --example bench` (honouring
CARGO_TARGET_DIR), then times the same loops in Gymnasium on one core: random actions drawn in
advance, the resets an episode needs included, environments built with `gymnasium.make` (so
with Gymnasium's default TimeLimit / order-enforcing / checker wrappers, as a user gets them).
The batch cases run 64 and 1024 CartPoles: in Gymnasium once with `SyncVectorEnv` (a Python
loop over copies, resetting in the same step like retort's VecEnv) and once with its
NumPy-vectorised CartPole (`vector_entry_point`, which can only reset on the next step). A
batch step of n copies counts as n steps. Both sides run in alternating rounds (`--rounds`,
default 5); prints the median steps/s of each side, the median of the rounds' ratios and their
range.
"""

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

# One core for NumPy too; set before NumPy is imported.
for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(var, "1")

import gymnasium as gym  # noqa: E402
import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
POOL = 1 << 16  # actions drawn in advance and replayed cyclically, as in the Rust bench


def run_rust(seconds):
    cmd = [
        "cargo", "run", "--release", "--quiet", "-p", "retort-envs", "--example", "bench",
        "--", "--seconds", str(seconds),
    ]
    out = subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True, text=True).stdout
    rates = {}
    for line in out.splitlines():
        name, rate, *_ = line.split("\t")
        rates[name] = float(rate)
    return rates


def py_single(env_id, seconds):
    env = gym.make(env_id)
    actions = np.random.default_rng(1).integers(0, env.action_space.n, size=POOL).tolist()
    env.reset(seed=0)
    steps = 0
    start = time.perf_counter()
    deadline = start + seconds
    while time.perf_counter() < deadline:
        for _ in range(1024):
            _, _, terminated, truncated, _ = env.step(actions[steps & (POOL - 1)])
            if terminated or truncated:
                env.reset()
            steps += 1
    return steps / (time.perf_counter() - start)


def py_vec(n, mode, seconds):
    if mode == "sync":
        envs = gym.make_vec(
            "CartPole-v1",
            num_envs=n,
            vectorization_mode="sync",
            vector_kwargs={"autoreset_mode": gym.vector.AutoresetMode.SAME_STEP},
        )
    else:
        envs = gym.make_vec("CartPole-v1", num_envs=n, vectorization_mode="vector_entry_point")
    pool = np.random.default_rng(2).integers(0, 2, size=POOL)
    windows = [pool[i : i + n] for i in range(0, POOL - n + 1, n)]
    envs.reset(seed=0)
    steps = 0
    k = 0
    start = time.perf_counter()
    deadline = start + seconds
    while time.perf_counter() < deadline:
        for _ in range(4):
            envs.step(windows[k % len(windows)])
            k += 1
            steps += n
    envs.close()
    return steps / (time.perf_counter() - start)


def one_round(seconds):
    """Every case once, the Rust side first: {(case, Python side): (Rust rate, Python rate)}."""
    rust = run_rust(seconds)
    rates = {}
    for env_id in ("CartPole-v1", "MountainCar-v0", "Acrobot-v1"):
        rates[(env_id, "gym.make")] = (rust.get(env_id), py_single(env_id, seconds))
    for n in (64, 1024):
        case = f"VecEnv{n}-CartPole-v1"
        rates[(case, "SyncVectorEnv")] = (rust.get(case), py_vec(n, "sync", seconds))
        rates[(case, "NumPy vector env")] = (rust.get(case), py_vec(n, "numpy", seconds))
    return rates


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seconds", type=float, default=2.0, help="time per case (default 2)")
    ap.add_argument("--rounds", type=int, default=5,
                    help="rounds of every case on both sides, alternating (default 5)")
    args = ap.parse_args()
    if gym.__version__ != "1.4.0":
        print(f"note: gymnasium {gym.__version__}, not the pinned 1.4.0", file=sys.stderr)

    # A shared or virtual machine's speed drifts by tens of percent from one second to the
    # next, and a single pair of measurements can land on either side of a drift. Each round
    # measures both sides back to back; the ratio of each round is computed, and the medians
    # over rounds are printed with the range of the ratios.
    rounds = [one_round(args.seconds) for _ in range(max(1, args.rounds))]

    print(f"gymnasium {gym.__version__}, numpy {np.__version__}, python "
          f"{sys.version.split()[0]}; {os.cpu_count()} logical CPUs; load average "
          f"{os.getloadavg()[0]:.2f}; {args.seconds} s per case; medians over "
          f"{len(rounds)} rounds")
    print(f"{'case':<24} {'Rust steps/s':>14} {'Python steps/s':>15}  {'Python side':<17} "
          f"{'Rust/Python':>11}  {'range':>13}")
    for key in rounds[0]:
        case, how = key
        py_rate = statistics.median(r[key][1] for r in rounds)
        if rounds[0][key][0] is None:
            print(f"{case:<24} {'-':>14} {py_rate:15.0f}  {how:<17} {'-':>11}")
            continue
        rs = statistics.median(r[key][0] for r in rounds)
        ratios = [r[key][0] / r[key][1] for r in rounds]
        spread = f"{min(ratios):.0f}-{max(ratios):.0f}"
        print(f"{case:<24} {rs:14.0f} {py_rate:15.0f}  {how:<17} "
              f"{statistics.median(ratios):11.1f}  {spread:>13}")


if __name__ == "__main__":
    main()
