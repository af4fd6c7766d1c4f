#!/usr/bin/env python3
"""Writes golden Gymnasium trajectories for the conformance tests of retort-envs.

Run it with a Python that has gymnasium==1.4.0 (the venv printed by scripts/setup-libtorch.sh,
after `$VENV/bin/python -m pip install gymnasium==1.4.0`):

    $VENV/bin/python scripts/gen_fixtures.py      # MountainCar-v0, Acrobot-v1, CartPole options
    $VENV/bin/python scripts/gen_fixtures.py --env CartPole-v1 --out /tmp/cartpole.json
    $VENV/bin/python scripts/gen_fixtures.py --env CartPole-v1-options   # CartPole's options

Each trajectory starts from a state written into `env.unwrapped.state` right after a seeded
reset, replays actions chosen by a small named policy, and records after every step the f64
state and the f32 observation (values and IEEE bit patterns in hex), the reward and both flags.
The output has the layout of envs/tests/fixtures/cartpole_v1_public.json. The recording stops
at the first step that terminates or truncates; entries under `extras` go on stepping a few
times past that point, so that the Rust side can check that it refuses to.

Every choice below is deterministic, so a rerun writes the same bytes on the same machine. The
script checks that the edge cases it was written for (wall clamp, velocity clipping, angle
wrapping, goal, truncation, both flags on the last step) really occur, and fails if not.
"""

import argparse
import json
import math
import platform
import struct
import sys
import warnings
from pathlib import Path

import gymnasium as gym
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "envs" / "tests" / "fixtures"
SIZE_LIMIT = 2_000_000  # bytes per fixture file, so that the files stay reviewable in git
OPTIONS_SIZE_LIMIT = 1_000_000  # the CartPole options fixture is held to less


def f64_hex(x):
    return struct.pack(">d", float(x)).hex()


def f32_hex(x):
    return np.asarray(x, dtype=">f4").tobytes().hex()


def state_of(env):
    # MountainCar keeps a tuple (and an int 0 after the wall stop), the others an array.
    return [float(v) for v in env.unwrapped.state]


def record(env_id, name, reset_seed, init_state, policy, policy_name, extra_steps=0, options=None):
    """Plays one episode from `init_state` (None: keep the seeded reset's own state).

    `options` (CartPole only) is a dict with `sutton_barto_reward` (a constructor keyword of
    CartPoleEnv) and `kinematics_integrator` (an attribute of the unwrapped env, set before the
    first step); it is recorded in the trajectory.
    """
    if options is None:
        env = gym.make(env_id)
    else:
        env = gym.make(env_id, sutton_barto_reward=options["sutton_barto_reward"])
        env.unwrapped.kinematics_integrator = options["kinematics_integrator"]
    obs, _ = env.reset(seed=reset_seed)
    sampled = state_of(env)
    if init_state is None:
        init_state = sampled
        overridden = None
    else:
        env.unwrapped.state = np.array(init_state, dtype=np.float64)
        overridden = sampled
        obs = None
    init_state = state_of(env)
    actions, steps = [], []
    n_steps = None
    end_reason = "none"
    state = init_state
    t = 0
    while True:
        action = int(policy(t, state))
        obs, reward, terminated, truncated, _ = env.step(action)
        state = state_of(env)
        actions.append(action)
        steps.append(
            {
                "t": t,
                "action": action,
                "obs": [float(v) for v in obs],
                "obs_f32_hex": [f32_hex(v) for v in obs],
                "state": state,
                "state_f64_hex": [f64_hex(v) for v in state],
                "reward": float(reward),
                "terminated": bool(terminated),
                "truncated": bool(truncated),
            }
        )
        t += 1
        if n_steps is None and (terminated or truncated):
            n_steps = t
            end_reason = (
                "both" if terminated and truncated else "terminated" if terminated else "truncation"
            )
        if n_steps is not None and t >= n_steps + extra_steps:
            break
    env.close()
    traj = {"name": name}
    if options is not None:
        traj["options"] = dict(options)
    traj |= {
        "reset_seed": reset_seed,
        "sampled_state_overridden": overridden,
        "init_state": init_state,
        "init_state_f64_hex": [f64_hex(v) for v in init_state],
        "policy": policy_name,
        "n_steps": n_steps,
        "end_reason": end_reason,
        "total_reward": float(sum(s["reward"] for s in steps[:n_steps])),
        "actions": actions,
        "steps": steps,
    }
    return traj


# ---------------------------------------------------------------- policies (state -> action)


def const(a):
    return (lambda t, s: a), f"const({a})"


def random_seq(seed, n=3):
    rng = np.random.default_rng(seed)
    seq = rng.integers(0, n, size=4000)
    return (lambda t, s: seq[t]), f"random_seq({seed})"


def mc_energy(delay=0, delay_action=1):
    """MountainCar: push along the velocity (after `delay` steps of `delay_action`)."""

    def pol(t, s):
        if t < delay:
            return delay_action
        return 2 if s[1] >= 0 else 0

    return pol, f"energy(delay={delay},delay_action={delay_action})"


def acro_pump(delay=0):
    """Acrobot: torque along the second joint's angular velocity (pumps energy into the
    swing), after `delay` steps without torque."""

    def pol(t, s):
        if t < delay:
            return 1
        return 2 if s[3] >= 0 else 0

    return pol, f"pump(delay={delay})"


def acro_wild(seed):
    """Acrobot: random bursts of full torque, which spin the links fast enough to clip."""
    rng = np.random.default_rng(seed)
    seq = np.repeat(rng.choice([0, 2], size=400), rng.integers(3, 12, size=400))

    def pol(t, s):
        if t % 40 < 30:
            return 2 if s[3] >= 0 else 0
        return seq[t]

    return pol, f"wild({seed})"


# ---------------------------------------------------------------- MountainCar-v0


def mountaincar():
    env_id = "MountainCar-v0"
    trajs, extras = [], []

    def add(name, seed, init, pol, extra=0):
        (extras if extra else trajs).append(
            record(env_id, name, seed, init, pol[0], pol[1], extra_steps=extra)
        )

    add("mc00_reset_state_energy", 0, None, mc_energy())
    add("mc01_reset_state_random", 1, None, random_seq(11))
    add("mc02_reset_state_coast_trunc", 2, None, const(1))
    add("mc03_bottom_push_right_trunc", 3, [-0.5, 0.0], const(2))
    add("mc04_bottom_push_left_wall", 4, [-0.5, 0.0], const(0))
    add("mc05_near_wall_fast_left", 5, [-1.15, -0.06], const(0))
    add("mc06_at_wall_then_energy", 6, [-1.2, 0.0], mc_energy())
    add("mc07_wall_bounce_energy", 7, [-1.1, -0.07], mc_energy())
    add("mc08_speed_clip_right", 8, [-1.0, 0.0699], const(2))
    add("mc09_speed_clip_left", 9, [0.2, -0.0699], const(0))
    add("mc10_goal_from_below", 10, [0.45, 0.02], const(2))
    add("mc11_goal_clamped_at_right_end", 11, [0.59, 0.07], const(2))
    add("mc12_past_goal_moving_left", 12, [0.55, -0.01], random_seq(12))
    add("mc13_goal_exactly_zero_velocity", 13, [0.5, 0.0], const(1))
    for i, x in enumerate([-0.6, -0.4, -0.55, -0.45]):
        add(f"mc{14 + i:02d}_edge_start_{x}_energy", 14 + i, [x, 0.0], mc_energy())
    for i in range(6):
        rng = np.random.default_rng(100 + i)
        init = [float(rng.uniform(-1.2, 0.5)), float(rng.uniform(-0.07, 0.07))]
        add(f"mc{18 + i:02d}_random_state_random_actions", 18 + i, init, random_seq(200 + i))
    for i in range(4):
        add(f"mc{24 + i:02d}_reset_state_energy_seed{30 + i}", 30 + i, None, mc_energy(delay=5 * i))
    # Goal on the 200th step: both flags. Search the idle delay that makes it land there.
    both = None
    for x0 in np.linspace(-0.6, -0.4, 21):
        for delay in range(60, 200):
            pol = mc_energy(delay=delay, delay_action=1)
            tr = record(env_id, "probe", 40, [float(x0), 0.0], pol[0], pol[1])
            if tr["end_reason"] == "both":
                both = (float(x0), delay, pol)
                break
        if both is not None:
            break
    if both is not None:
        add(f"mc28_goal_on_step_200_delay{both[1]}", 40, [both[0], 0.0], both[2])
    add("extra_mc_after_goal", 41, [0.45, 0.02], const(2), extra=4)
    add("extra_mc_after_truncation", 42, [-0.5, 0.0], const(1), extra=3)

    constants = {
        "min_position": -1.2,
        "max_position": 0.6,
        "max_speed": 0.07,
        "goal_position": 0.5,
        "goal_velocity": 0,
        "force": 0.001,
        "gravity": 0.0025,
        "max_episode_steps": 200,
        "reward_threshold": -110.0,
        "reset_low_high": [-0.6, -0.4],
        "obs_dtype": "float32",
    }
    semantics = (
        "float64: v = v + ((action - 1) * force + cos(3 * x) * (-gravity)) (the two terms are "
        "summed before the sum is added); v = clip(v, -max_speed, max_speed); x = clip(x + v, "
        "min_position, max_position); if x == min_position and v < 0: v = 0; terminated = "
        "x >= goal_position and v >= goal_velocity; reward = -1.0 every step; obs = "
        "float32([x, v]); truncated on the 200th step (TimeLimit)."
    )
    return env_id, constants, semantics, trajs, extras


# ---------------------------------------------------------------- Acrobot-v1


def acrobot():
    env_id = "Acrobot-v1"
    trajs, extras = [], []
    pi = math.pi

    def add(name, seed, init, pol, extra=0):
        (extras if extra else trajs).append(
            record(env_id, name, seed, init, pol[0], pol[1], extra_steps=extra)
        )

    add("ac00_reset_state_random_actions", 0, None, random_seq(21))
    add("ac01_reset_state_pump", 1, None, acro_pump())
    add("ac02_reset_state_random_actions_trunc", 2, None, random_seq(22))
    add("ac03_small_state_const_right", 3, [0.05, -0.05, 0.05, -0.05], const(2))
    add("ac04_fast_spin_clip", 4, [0.0, 0.0, 12.0, -27.0], acro_wild(4))
    add("ac05_over_limit_velocities_clip", 5, [0.3, -0.2, 20.0, 40.0], const(0))
    add("ac06_near_pi_wrap", 6, [pi - 0.01, -pi + 0.01, 3.0, -5.0], random_seq(26))
    add("ac07_upright_terminates_first_step", 7, [pi, 0.0, 0.0, 0.0], const(1))
    add("ac08_just_below_line", 8, [2.0, 0.1, 0.5, 0.0], const(1))
    for i in range(4):
        add(f"ac{9 + i:02d}_pump_seed{9 + i}", 9 + i, None, acro_pump(delay=7 * i))
    for i in range(3):
        rng = np.random.default_rng(300 + i)
        high = np.array([pi, pi, 4 * pi, 9 * pi])
        init = [float(v) for v in rng.uniform(-high, high)]
        add(f"ac{13 + i:02d}_random_state_wild", 13 + i, init, acro_wild(310 + i))
    for i in range(2):
        rng = np.random.default_rng(320 + i)
        init = [float(v) for v in rng.uniform(-1.0, 1.0, size=4)]
        add(f"ac{16 + i}_random_state_random_actions", 16 + i, init, random_seq(330 + i))
    # Termination on the 500th step: both flags. Search the idle delay before pumping.
    both = None
    for delay in range(480, 300, -1):
        pol = acro_pump(delay=delay)
        tr = record(env_id, "probe", 50, [0.05, 0.02, 0.0, 0.0], pol[0], pol[1])
        if tr["end_reason"] == "both":
            both = (delay, pol)
            break
    if both is not None:
        add(f"ac18_terminate_on_step_500_delay{both[0]}", 50, [0.05, 0.02, 0.0, 0.0], both[1])
    add("extra_ac_after_termination", 51, [pi, 0.0, 0.0, 0.0], const(1), extra=4)

    constants = {
        "dt": 0.2,
        "link_length": [1.0, 1.0],
        "link_mass": [1.0, 1.0],
        "link_com_pos": [0.5, 0.5],
        "link_moi": 1.0,
        "g": 9.8,
        "max_vel_1": 4 * pi,
        "max_vel_2": 9 * pi,
        "max_vel_1_f64_hex": f64_hex(4 * pi),
        "max_vel_2_f64_hex": f64_hex(9 * pi),
        "avail_torque": [-1.0, 0.0, 1.0],
        "book_or_nips": "book",
        "torque_noise_max": 0.0,
        "max_episode_steps": 500,
        "reward_threshold": -100.0,
        "reset_low_high": [-0.1, 0.1],
        "reset_state_dtype": "float32",
        "obs_dtype": "float32",
    }
    semantics = (
        "float64: ns = rk4(dsdt, [t1, t2, dt1, dt2, torque], [0, dt]) (one classical RK4 step; "
        "'book' dynamics; squares of state-dependent values use C pow); ns[0], ns[1] wrapped "
        "into [-pi, pi] by repeated +-2pi; ns[2] = min(max(ns[2], -4pi), 4pi); ns[3] = "
        "min(max(ns[3], -9pi), 9pi); terminated = -cos(t1) - cos(t2 + t1) > 1.0; reward = 0.0 "
        "if terminated else -1.0; obs = float32([cos t1, sin t1, cos t2, sin t2, dt1, dt2]) "
        "computed in float64; truncated on the 500th step (TimeLimit)."
    )
    return env_id, constants, semantics, trajs, extras


# ---------------------------------------------------------------- CartPole-v1


def cartpole():
    env_id = "CartPole-v1"
    trajs, extras = [], []

    def balance(t, s):
        return 1 if s[2] + 0.5 * s[3] > 0 else 0

    def add(name, seed, init, pol, extra=0):
        (extras if extra else trajs).append(
            record(env_id, name, seed, init, pol[0], pol[1], extra_steps=extra)
        )

    add("cp00_zero_balance_trunc", 0, [0.0, 0.0, 0.0, 0.0], (balance, "balance(k=0.5)"))
    add("cp01_edge_pos_const1", 1, [0.05, 0.05, 0.05, 0.05], const(1))
    add("cp02_edge_neg_const0", 2, [-0.05, -0.05, -0.05, -0.05], const(0))
    add("cp03_reset_state_random", 3, None, random_seq(103, n=2))
    add("cp04_cart_leaves_track", 4, [2.3, 1.0, 0.0, 0.0], (balance, "balance(k=0.5)"))
    add("extra_cp_after_termination", 5, [0.05, 0.05, 0.05, 0.05], const(1), extra=3)
    constants = {"tau": 0.02, "max_episode_steps": 500, "reward_threshold": 475.0}
    semantics = "See envs/src/cartpole.rs: Euler step in float64, obs = float32(state)."
    return env_id, constants, semantics, trajs, extras


# ---------------------------------------------------------------- CartPole-v1 options


SUTTON_BARTO = {"sutton_barto_reward": True, "kinematics_integrator": "euler"}
SEMI_IMPLICIT = {"sutton_barto_reward": False, "kinematics_integrator": "semi-implicit euler"}
BOTH_OPTIONS = {"sutton_barto_reward": True, "kinematics_integrator": "semi-implicit euler"}


def cartpole_options():
    """CartPole-v1 with `sutton_barto_reward=True`, with the semi-implicit Euler integrator,
    and with both; three of the episodes run the full 500 steps, so the file stays < 1 MB."""
    env_id = "CartPole-v1"
    trajs, extras = [], []

    def balance(t, s):
        return 1 if s[2] + 0.5 * s[3] > 0 else 0

    def add(name, options, seed, init, pol, extra=0):
        (extras if extra else trajs).append(
            record(env_id, name, seed, init, pol[0], pol[1], extra_steps=extra, options=options)
        )

    bal = (balance, "balance(k=0.5)")
    add("sb00_zero_balance_trunc", SUTTON_BARTO, 0, [0.0, 0.0, 0.0, 0.0], bal)
    add("sb01_edge_pos_const1", SUTTON_BARTO, 1, [0.05, 0.05, 0.05, 0.05], const(1))
    add("sb02_reset_state_random", SUTTON_BARTO, 2, None, random_seq(402, n=2))
    add("sb03_cart_leaves_track", SUTTON_BARTO, 3, [2.3, 1.0, 0.0, 0.0], bal)
    add("si00_small_state_balance_trunc", SEMI_IMPLICIT, 10, [0.01, -0.02, 0.03, -0.04], bal)
    add("si01_edge_pos_const1", SEMI_IMPLICIT, 11, [0.05, 0.05, 0.05, 0.05], const(1))
    add("si02_edge_neg_const0", SEMI_IMPLICIT, 12, [-0.05, -0.05, -0.05, -0.05], const(0))
    add("si03_reset_state_random", SEMI_IMPLICIT, 13, None, random_seq(413, n=2))
    add("si04_cart_leaves_track", SEMI_IMPLICIT, 14, [2.3, 1.0, 0.0, 0.0], bal)
    add("si05_fast_spin_from_rest", SEMI_IMPLICIT, 15, [0.0, 0.0, 0.0, 3.0], const(0))
    add("sbsi00_reset_state_random", BOTH_OPTIONS, 20, None, random_seq(420, n=2))
    add("sbsi01_cart_leaves_track_left", BOTH_OPTIONS, 21, [-2.3, -1.0, 0.0, 0.0], bal)
    # The pole falls on the 500th step (both flags, reward -1): balance, then push right for
    # good. Search the step at which the pushing starts.
    both = None
    for delay in range(499, 400, -1):

        def late_push(t, s, delay=delay):
            return balance(t, s) if t < delay else 1

        pol = (late_push, f"balance(k=0.5) then const(1) from step {delay}")
        tr = record(env_id, "probe", 22, [0.0, 0.0, 0.0, 0.0], pol[0], pol[1], options=BOTH_OPTIONS)
        if tr["end_reason"] == "both":
            both = (delay, pol)
            break
    if both is not None:
        add(f"sbsi02_terminate_on_step_500_delay{both[0]}", BOTH_OPTIONS, 22, [0.0] * 4, both[1])
    # Gymnasium pays -1 for every step after termination under the Sutton-Barto reward (0 under
    # the default one); retort refuses those steps, but the record keeps what Gymnasium gave.
    add("extra_sb_after_termination", SUTTON_BARTO, 30, [0.05, 0.05, 0.05, 0.05], const(1), 3)
    add("extra_si_after_termination", SEMI_IMPLICIT, 31, [-0.05, -0.05, -0.05, -0.05], const(0), 3)

    constants = {
        "tau": 0.02,
        "max_episode_steps": 500,
        "reward_threshold": 475.0,
        "sutton_barto_reward_threshold_documented": 0.0,
        "options_per_trajectory": ["sutton_barto_reward", "kinematics_integrator"],
        "kinematics_integrators": ["euler", "semi-implicit euler"],
        "option_sets": {
            "sutton_barto": SUTTON_BARTO,
            "semi_implicit": SEMI_IMPLICIT,
            "both": BOTH_OPTIONS,
        },
    }
    semantics = (
        "float64; the accelerations as in cartpole_v1_public.json. kinematics_integrator "
        "'euler': x += tau*x_dot, x_dot += tau*xacc, theta += tau*theta_dot, theta_dot += "
        "tau*thetaacc, all from the old values; any other string (here 'semi-implicit euler'): "
        "x_dot = x_dot + tau*xacc, then x = x + tau*x_dot (the new x_dot), theta_dot = "
        "theta_dot + tau*thetaacc, then theta = theta + tau*theta_dot (the new theta_dot). "
        "sutton_barto_reward=True: reward 0.0 on a step that does not terminate, -1.0 on the "
        "terminating step and on every step after it; False: 1.0 up to and including the "
        "terminating step, 0.0 after it. obs = float32(state)."
    )
    return env_id, constants, semantics, trajs, extras


# ---------------------------------------------------------------- coverage checks


def coverage(env_id, trajs):
    """Edge cases each fixture must contain, as (label, count of steps or trajectories)."""
    steps = [s for tr in trajs for s in tr["steps"][: tr["n_steps"]]]
    ends = [tr["end_reason"] for tr in trajs]
    common = [
        ("terminated episodes", ends.count("terminated") + ends.count("both")),
        ("truncated episodes", ends.count("truncation") + ends.count("both")),
    ]
    with_options = [tr for tr in trajs if "options" in tr]
    if env_id != "CartPole-v1" or with_options:
        # The regenerated CartPole set is a smoke test of this script; it skips this case.
        common.append(("both flags on the last step", ends.count("both")))
    if with_options:
        sb = [tr for tr in with_options if tr["options"]["sutton_barto_reward"]]
        si = [tr for tr in with_options if tr["options"]["kinematics_integrator"] != "euler"]
        last = [tr["steps"][tr["n_steps"] - 1] for tr in sb]
        return common + [
            ("Sutton-Barto episodes ending in a -1 termination",
             sum(s["terminated"] and s["reward"] == -1.0 for s in last)),
            ("Sutton-Barto episodes truncated with reward 0",
             sum(s["truncated"] and not s["terminated"] and s["reward"] == 0.0 for s in last)),
            ("semi-implicit terminated episodes",
             sum(tr["end_reason"] in ("terminated", "both") for tr in si)),
            ("semi-implicit truncated episodes",
             sum(tr["end_reason"] in ("truncation", "both") for tr in si)),
            ("episodes with both options", sum(tr in sb for tr in si)),
            ("Sutton-Barto episodes with the Euler integrator", sum(tr not in si for tr in sb)),
            ("semi-implicit episodes with the default reward", sum(tr not in sb for tr in si)),
        ]
    if env_id == "MountainCar-v0":
        return common + [
            ("steps at the left wall", sum(s["state"][0] == -1.2 for s in steps)),
            ("steps at the right end", sum(s["state"][0] == 0.6 for s in steps)),
            ("steps with clipped velocity", sum(abs(s["state"][1]) == 0.07 for s in steps)),
        ]
    if env_id == "Acrobot-v1":
        wraps = 0
        for tr in trajs:
            prev = tr["init_state"]
            for s in tr["steps"][: tr["n_steps"]]:
                wraps += any(abs(s["state"][i] - prev[i]) > math.pi for i in (0, 1))
                prev = s["state"]
        return common + [
            ("steps with wrapped angle", wraps),
            ("steps with dtheta1 at +-4pi", sum(abs(s["state"][2]) == 4 * math.pi for s in steps)),
            ("steps with dtheta2 at +-9pi", sum(abs(s["state"][3]) == 9 * math.pi for s in steps)),
        ]
    return common


def write(env_id, constants, semantics, trajs, extras, out, size_limit=SIZE_LIMIT):
    options_note = (
        " A trajectory with `options` was made with gymnasium.make('CartPole-v1', "
        "sutton_barto_reward=options['sutton_barto_reward']) and then "
        "env.unwrapped.kinematics_integrator = options['kinematics_integrator'], both before "
        "the reset."
        if any("options" in tr for tr in trajs + extras)
        else ""
    )
    doc = {
        "env_id": env_id,
        "gymnasium_version": gym.__version__,
        "numpy_version": np.__version__,
        "python_version": platform.python_version(),
        "constants": constants,
        "step_semantics": semantics,
        "protocol": (
            f"env = gymnasium.make('{env_id}'); env.reset(seed=reset_seed); unless "
            "sampled_state_overridden is null, env.unwrapped.state = np.array(init_state, "
            "float64); then env.step(action) for each action. steps[i] holds the values after "
            "actions[i]. The episode ends at step n_steps (first terminated or truncated); "
            "extras keep stepping past it. Generated by scripts/gen_fixtures.py."
            + options_note
        ),
        "summary": [
            {
                k: tr[k]
                for k in ("name", "options", "n_steps", "end_reason", "init_state", "policy")
                if k in tr
            }
            for tr in trajs + extras
        ],
        "trajectories": trajs,
        "extras": extras,
    }
    text = json.dumps(doc, separators=(",", ":"))
    if len(text) > size_limit:
        sys.exit(f"{out}: {len(text)} bytes is over the {size_limit}-byte limit; drop a trajectory")
    out.write_text(text)
    n = sum(tr["n_steps"] for tr in trajs + extras)
    print(f"{out}: {len(trajs)} trajectories + {len(extras)} extras, {n} steps, {len(text)} bytes")
    missing = []
    for label, count in coverage(env_id, trajs):
        print(f"  {label}: {count}")
        if count == 0:
            missing.append(label)
    if missing:
        sys.exit(f"{out}: no {', '.join(missing)}; adjust the trajectories")


GENERATORS = {
    "MountainCar-v0": (mountaincar, "mountaincar_v0.json", SIZE_LIMIT),
    "Acrobot-v1": (acrobot, "acrobot_v1.json", SIZE_LIMIT),
    "CartPole-v1": (cartpole, None, SIZE_LIMIT),
    # Not an id: CartPole-v1 with its sutton_barto_reward and kinematics_integrator options.
    "CartPole-v1-options": (cartpole_options, "cartpole_v1_options.json", OPTIONS_SIZE_LIMIT),
}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--env", choices=sorted(GENERATORS), action="append")
    ap.add_argument("--out", type=Path, help="output file (only with a single --env)")
    args = ap.parse_args()
    if gym.__version__ != "1.4.0":
        sys.exit(f"gymnasium {gym.__version__} found; the fixtures pin 1.4.0")
    envs = args.env or ["MountainCar-v0", "Acrobot-v1", "CartPole-v1-options"]
    if args.out and len(envs) != 1:
        sys.exit("--out needs exactly one --env")
    # The passive checker warns about out-of-bounds observations of hand-set states.
    warnings.filterwarnings("ignore")
    for env_id in envs:
        gen, default_name, size_limit = GENERATORS[env_id]
        out = args.out or (FIXTURES / default_name if default_name else None)
        if out is None:
            sys.exit(f"{env_id}: give --out; the public CartPole fixture is not overwritten")
        write(*gen(), out, size_limit)


if __name__ == "__main__":
    main()
