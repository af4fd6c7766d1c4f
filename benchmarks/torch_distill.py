"""PyTorch's side of the distillation-speed benchmark: one student fitted the way retort fits it.

Usage: torch_distill.py DATA.safetensors --hidden 32 --steps 20000 --batch 64 --lr 0.01
                        [--temperature 0.01] [--seed 0] [--adam default|fused] [--out DIR]

DATA.safetensors is a dataset that retort collected from a teacher and wrote
(`cargo run --release -p retort-distill --example distill_speed -- collect ...`): `train_obs`
`[n, obs_dim]`, `train_q` `[n, n_actions]` (the teacher's full Q-vectors), `holdout_obs` and
`holdout_q`, and in its metadata the environment as retort names it. The student is the MLP
retort builds (nn.Linear layers with ReLU between them, PyTorch's default initialisation, which
is the distribution retort draws from), fitted by Adam on minibatches drawn uniformly with
replacement, to KL(softmax(q_teacher / tau) || softmax(student)) summed over actions and
averaged over states, the teacher's side in log-space: the loss retort-distill computes.

Timed, on one thread: building the student and the optimiser, every gradient step, and the
agreement on the held-out states (the span retort's `fit_student` reports). Prints one JSON
line; with --out also writes the student as a retort checkpoint (model.safetensors +
model.json), so that `retort eval DIR` plays it on exactly the episodes it plays retort's
students on. scripts/bench.sh distill runs this beside retort's own fit.
"""

import argparse
import json
import os
import time

import torch
from safetensors import safe_open
from safetensors.torch import load_file, save_file


class Student(torch.nn.Module):
    """retort's MLP: `layers.{i}` are nn.Linear, ReLU after all but the last."""

    def __init__(self, widths):
        super().__init__()
        self.layers = torch.nn.ModuleList(
            torch.nn.Linear(a, b) for a, b in zip(widths[:-1], widths[1:])
        )

    def forward(self, x):
        for layer in self.layers[:-1]:
            x = torch.relu(layer(x))
        return self.layers[-1](x)


def kl_loss(logits, teacher_q, temperature):
    teacher_log_p = torch.log_softmax(teacher_q / temperature, dim=1)
    student_log_p = torch.log_softmax(logits, dim=1)
    per_state = (teacher_log_p.exp() * (teacher_log_p - student_log_p)).sum(dim=1)
    return per_state.mean()


def fit(data, args):
    torch.manual_seed(args.seed)
    generator = torch.Generator().manual_seed(args.seed)
    obs, q = data["train_obs"], data["train_q"]
    n = obs.shape[0]
    start = time.perf_counter()
    student = Student([obs.shape[1], *args.hidden, q.shape[1]])
    fused = {"fused": True} if args.adam == "fused" else {}
    optimizer = torch.optim.Adam(student.parameters(), lr=args.lr, **fused)
    last_loss = float("nan")
    for step in range(1, args.steps + 1):
        picks = torch.randint(n, (args.batch,), generator=generator)
        loss = kl_loss(student(obs[picks]), q[picks], args.temperature)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        # retort reads every loss to catch divergence; reading one per 100 steps here only
        # spares PyTorch work.
        if step % 100 == 0:
            last_loss = loss.item()
    with torch.no_grad():
        greedy = student(data["holdout_obs"]).argmax(dim=1)
    agreement = (greedy == data["holdout_q"].argmax(dim=1)).double().mean().item()
    seconds = time.perf_counter() - start
    return student, seconds, agreement, last_loss


def save_checkpoint(student, env, hidden, obs_dim, n_actions, out):
    """model.safetensors + model.json in retort's format (crates/runtime/src/card.rs)."""
    os.makedirs(out, exist_ok=True)
    tensors = {name: t.detach().contiguous() for name, t in student.state_dict().items()}
    save_file(tensors, os.path.join(out, "model.safetensors"))
    card = dict(
        format="retort-mlp/1",
        role="student",
        env=env,
        mlp=dict(obs_dim=obs_dim, n_actions=n_actions, hidden=hidden),
        activation="relu",
        params=sum(t.numel() for t in tensors.values()),
    )
    with open(os.path.join(out, "model.json"), "w") as fh:
        json.dump(card, fh, indent=2)
        fh.write("\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("data")
    parser.add_argument("--hidden", type=int, nargs="*", default=[32])
    parser.add_argument("--steps", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--lr", type=float, default=1e-2)
    parser.add_argument("--temperature", type=float, default=0.01)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--adam", choices=["default", "fused"], default="default")
    parser.add_argument("--out")
    args = parser.parse_args()

    torch.set_num_threads(1)
    data = load_file(args.data)
    with safe_open(args.data, framework="pt") as fh:
        env = json.loads(fh.metadata()["env"])
    student, seconds, agreement, loss = fit(data, args)
    obs_dim, n_actions = data["train_obs"].shape[1], data["train_q"].shape[1]
    if args.out:
        save_checkpoint(student, env, args.hidden, obs_dim, n_actions, args.out)
    print(json.dumps(dict(
        side="pytorch", hidden=args.hidden, steps=args.steps, batch=args.batch, lr=args.lr,
        seed=args.seed, adam=args.adam, seconds=seconds, agreement=agreement, loss=loss,
        params=sum(p.numel() for p in student.parameters()),
    )))


if __name__ == "__main__":
    main()
