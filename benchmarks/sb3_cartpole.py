"""Stable-Baselines3 DQN on CartPole-v1 with the rl-zoo hyperparameters, timed on one thread.

Usage: sb3_cartpole.py SEED

Prints one JSON line: seed, training seconds, evaluation seconds (100 greedy episodes) and the
evaluation's mean return. scripts/bench.sh runs it beside retort so that both are measured on
the same machine in the same session.
"""

import json
import sys
import time

import gymnasium as gym
import torch
from stable_baselines3 import DQN
from stable_baselines3.common.evaluation import evaluate_policy


def main(seed):
    torch.set_num_threads(1)
    env = gym.make("CartPole-v1")
    # rl-zoo's hyperparams/dqn.yml entry for CartPole-v1.
    model = DQN(
        "MlpPolicy",
        env,
        learning_rate=2.3e-3,
        batch_size=64,
        buffer_size=100_000,
        learning_starts=1_000,
        gamma=0.99,
        target_update_interval=10,
        train_freq=256,
        gradient_steps=128,
        exploration_fraction=0.16,
        exploration_final_eps=0.04,
        policy_kwargs=dict(net_arch=[256, 256]),
        seed=seed,
        verbose=0,
    )
    start = time.perf_counter()
    model.learn(total_timesteps=50_000)
    train_seconds = time.perf_counter() - start
    start = time.perf_counter()
    mean, std = evaluate_policy(model, gym.make("CartPole-v1"), n_eval_episodes=100)
    eval_seconds = time.perf_counter() - start
    print(json.dumps(dict(seed=seed, train_seconds=train_seconds, eval_seconds=eval_seconds,
                          return_mean=float(mean), return_std=float(std))))


if __name__ == "__main__":
    main(int(sys.argv[1]))
