#!/usr/bin/env python3
"""Greedy actions of a retort checkpoint, computed by PyTorch from its safetensors weights.

Usage: torch_actions.py CHECKPOINT_DIR OBSERVATIONS.json OUT.json [CHECKPOINT_DIR OBS OUT]...

Rebuilds the MLP that model.json describes from torch.nn.Linear layers with ReLU between them,
loads model.safetensors into it by name (retort saves `layers.{i}.weight` / `layers.{i}.bias`,
PyTorch's nn.Linear layout), and writes the argmax action of every observation (a list of
lists of floats) as a JSON list. retort's tests compare these with retort's own actions.

A card with `"dueling": true` describes a dueling Q-network: `layers.{i}` are only the hidden
layers, followed by the linear streams `value` (one output) and `advantage` (one per action),
and Q = value + advantage - advantage.mean(dim=1, keepdim=True).
"""

import json
import sys

import torch
from safetensors.torch import load_file


def build(card):
    mlp = card["mlp"]
    widths = [mlp["obs_dim"], *mlp["hidden"], mlp["n_actions"]]
    model = torch.nn.Module()
    model.dueling = mlp.get("dueling", False)
    if model.dueling:
        # The hidden layers are the trunk; both streams read the last of them.
        trunk, last = widths[:-1], widths[-2]
        model.value = torch.nn.Linear(last, 1)
        model.advantage = torch.nn.Linear(last, mlp["n_actions"])
    else:
        trunk = widths
    model.layers = torch.nn.ModuleList(
        torch.nn.Linear(a, b) for a, b in zip(trunk[:-1], trunk[1:])
    )
    return model


def forward(model, x):
    for i, layer in enumerate(model.layers):
        x = layer(x)
        if model.dueling or i < len(model.layers) - 1:
            x = torch.relu(x)
    if model.dueling:
        advantage = model.advantage(x)
        return model.value(x) + advantage - advantage.mean(dim=1, keepdim=True)
    return x


def main(checkpoint, observations, out):
    torch.set_num_threads(1)
    with open(f"{checkpoint}/model.json") as fh:
        card = json.load(fh)
    model = build(card)
    state = load_file(f"{checkpoint}/model.safetensors")
    # strict: every tensor of the file is used and every parameter is filled.
    model.load_state_dict(state, strict=True)
    with open(observations) as fh:
        obs = torch.tensor(json.load(fh), dtype=torch.float32)
    with torch.no_grad():
        actions = forward(model, obs).argmax(dim=1).tolist()
    with open(out, "w") as fh:
        json.dump(actions, fh)


if __name__ == "__main__":
    args = sys.argv[1:]
    if not args or len(args) % 3:
        sys.exit(__doc__)
    for i in range(0, len(args), 3):
        main(*args[i:i + 3])
