#!/usr/bin/env python3
"""Greedy actions of a retort checkpoint, computed by PyTorch from its safetensors weights.

Usage: torch_actions.py CHECKPOINT_DIR OBSERVATIONS.json OUT.json [CHECKPOINT_DIR OBS OUT]...

Rebuilds the MLP that model.json describes as a torch.nn.Sequential of Linear and ReLU layers,
loads model.safetensors into it by name (retort saves `layers.{i}.weight` / `layers.{i}.bias`,
PyTorch's nn.Linear layout), and writes the argmax action of every observation (a list of
lists of floats) as a JSON list. retort's tests compare these with retort's own actions.
"""

import json
import sys

import torch
from safetensors.torch import load_file


def build(card):
    widths = [card["mlp"]["obs_dim"], *card["mlp"]["hidden"], card["mlp"]["n_actions"]]
    layers = torch.nn.ModuleList(
        torch.nn.Linear(a, b) for a, b in zip(widths[:-1], widths[1:])
    )
    model = torch.nn.Module()
    model.layers = layers
    return model


def forward(model, x):
    for i, layer in enumerate(model.layers):
        x = layer(x)
        if i < len(model.layers) - 1:
            x = torch.relu(x)
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
