#!/usr/bin/env bash
# Benchmarks, printed as numbers measured in this run on this machine.
#
#   scripts/bench.sh [envs|update|teacher|variants|pipeline|sb3|distill|all] [SEEDS]
#
# envs      environment steps/s in Rust and in Gymnasium 1.4.0 (installed into the libtorch
#           venv on first use), side by side, with their ratio.
# update    µs per DQN gradient step, piece by piece, with retort's fused Adam and with
#           libtorch's, for the default 128-128 Q-network and SB3's 256-256.
# teacher   `retort train experiments/cartpole.toml` for seeds 0..SEEDS-1 (default 5), one at
#           a time: solved or not, env steps, gradient steps, seconds, time split.
# variants  the teacher with each DQN variant (Double DQN, dueling, n-step, prioritized
#           replay) for seeds 0..SEEDS-1: env steps to solve CartPole and seconds.
# pipeline  the whole `retort run experiments/cartpole.toml`: wall clock and peak memory.
# sb3       Stable-Baselines3 DQN (rl-zoo CartPole settings) for the same seeds, installed into
#           the libtorch venv on first use, then the ratio of median training times.
# distill   fitting students to one saved set of teacher states, by retort (`fit_student`)
#           and by PyTorch (benchmarks/torch_distill.py: same student, KL at τ = 0.01, Adam,
#           same steps, batch and learning rate), one thread each, alternating, for seeds
#           0..SEEDS-1 (default 3): seconds, held-out agreement and the 100-episode return of
#           each (both played by `retort eval` on the same episodes), and the ratio of times.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/env.sh
cargo build --release --locked --quiet
cargo build --release --locked --quiet -p retort-dqn --example update_cost
cargo build --release --locked --quiet -p retort-distill --example distill_speed
retort="${CARGO_TARGET_DIR:-target}/release/retort"
what=${1:-all}
seeds=${2:-}
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

median() { sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }

if [[ $what == envs || $what == all ]]; then
    "$RETORT_PYTHON" -c 'import gymnasium' 2>/dev/null ||
        "$RETORT_PYTHON" -m pip install --quiet gymnasium==1.4.0
    "$RETORT_PYTHON" scripts/bench_envs.py
fi

if [[ $what == update || $what == all ]]; then
    for widths in "128 128" "256 256"; do
        # shellcheck disable=SC2086
        "${CARGO_TARGET_DIR:-target}/release/examples/update_cost" $widths
    done
fi

if [[ $what == teacher || $what == all ]]; then
    seeds=${seeds:-5}
    echo "== retort teacher, experiments/cartpole.toml, $seeds seeds"
    for ((seed = 0; seed < seeds; seed++)); do
        "$retort" train experiments/cartpole.toml --seed "$seed" \
            --out "$scratch/teacher-$seed" >/dev/null 2>&1
        "$RETORT_PYTHON" - "$scratch/teacher-$seed/summary.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
t = s["teacher"]
print(f"seed {s['seed']}: return {t['return_mean']:.1f}, solved at "
      f"{t['solved_at_env_step']} env steps, {t['gradient_steps']} gradient steps, "
      f"{t['train_seconds']:.2f} s ({t['gradient_steps'] / t['train_seconds']:.0f} updates/s)")
split = t.get("time_split") or {}
print("    " + ", ".join(f"{k} {v:.2f} s" for k, v in split.items()))
PY
    done | tee "$scratch/teacher.txt"
    retort_median=$(grep -o '[0-9.]* s (' "$scratch/teacher.txt" | cut -d' ' -f1 | median)
    echo "median teacher seconds: $retort_median"
fi

if [[ $what == variants ]]; then
    # Each DQN variant on experiments/cartpole.toml: the env step at which the periodic greedy
    # evaluation first reached 475 (deterministic for a seed), and the seconds it took.
    echo "== teacher variants on experiments/cartpole.toml, $seeds seeds (solved at env step, seconds)"
    for variant in "plain|" "double|double_dqn = true" "dueling|dueling = true" \
        "n-step 3|n_step = 3" "prioritized|prioritized_replay = true" \
        "prioritized + n-step 3|prioritized_replay = true
n_step = 3"; do
        name=${variant%%|*}
        keys=${variant#*|}
        sed "s/^\[teacher\]\$/[teacher]\n${keys//$'\n'/\\n}/" experiments/cartpole.toml \
            >"$scratch/variant.toml"
        line="$name:"
        for ((seed = 0; seed < seeds; seed++)); do
            "$retort" train "$scratch/variant.toml" --seed "$seed" \
                --out "$scratch/variant-$seed" >/dev/null 2>&1
            line+=$("$RETORT_PYTHON" - "$scratch/variant-$seed/summary.json" <<'PY'
import json, sys
t = json.load(open(sys.argv[1]))["teacher"]
print(f" {t['solved_at_env_step'] or 'unsolved'} ({t['train_seconds']:.1f} s)", end="")
PY
)
            rm -rf "$scratch/variant-$seed"
        done
        echo "$line"
    done
fi

if [[ $what == pipeline || $what == all ]]; then
    echo "== retort run experiments/cartpole.toml"
    /usr/bin/time -f "wall %e s, peak RSS %M KiB" "$retort" run \
        experiments/cartpole.toml --out "$scratch/run" 2>&1 >"$scratch/run.txt" | grep wall
    grep '^|' "$scratch/run.txt"
fi

if [[ $what == sb3 || $what == all ]]; then
    seeds=${seeds:-5}
    "$RETORT_PYTHON" -c 'import stable_baselines3' 2>/dev/null ||
        "$RETORT_PYTHON" -m pip install --quiet stable-baselines3 gymnasium==1.4.0
    echo "== Stable-Baselines3 DQN, rl-zoo CartPole-v1 settings, $seeds seeds"
    for ((seed = 0; seed < seeds; seed++)); do
        "$RETORT_PYTHON" benchmarks/sb3_cartpole.py "$seed"
    done | tee "$scratch/sb3.txt"
    sb3_median=$("$RETORT_PYTHON" -c '
import json, sys, statistics
print(statistics.median(json.loads(l)["train_seconds"] for l in open(sys.argv[1])))
' "$scratch/sb3.txt")
    echo "median SB3 training seconds: $sb3_median"
    if [[ -n ${retort_median:-} ]]; then
        awk -v a="$sb3_median" -v b="$retort_median" \
            'BEGIN {printf "retort teacher is %.1fx faster than SB3 (median seconds)\n", a / b}'
    fi
fi

if [[ $what == distill || $what == all ]]; then
    distill_seeds=${2:-3}
    speed="${CARGO_TARGET_DIR:-target}/release/examples/distill_speed"
    echo "== distillation: retort against PyTorch on the same 20 000 teacher states"
    "$retort" train experiments/cartpole.toml --seed 0 --out "$scratch/teacher" >/dev/null 2>&1
    "$speed" collect "$scratch/teacher/teacher" "$scratch/states.safetensors" --seed 0
    "$retort" eval "$scratch/teacher/teacher" --episodes 100 | tee "$scratch/teacher-eval.txt"
    # hidden, batch, learning rate, steps: the 226-parameter student at PyTorch's default
    # learning rate for 2 000 and 20 000 steps, then retort's [distill] defaults (batch 256,
    # lr 0.01, 4 000 steps) with the demo's 114-parameter student.
    configs=("32 64 0.001 2000" "32 64 0.001 20000" "16 256 0.01 4000")
    for config in "${configs[@]}"; do
        read -r hidden batch lr steps <<<"$config"
        for ((seed = 0; seed < distill_seeds; seed++)); do
            args=(--hidden "$hidden" --batch "$batch" --lr "$lr" --steps "$steps" --seed "$seed")
            for side in retort pytorch; do
                out="$scratch/student-$side-$hidden-$batch-$lr-$steps-$seed"
                if [[ $side == retort ]]; then
                    line=$("$speed" fit "$scratch/states.safetensors" "${args[@]}" --out "$out")
                else
                    line=$("$RETORT_PYTHON" benchmarks/torch_distill.py \
                        "$scratch/states.safetensors" "${args[@]}" --out "$out")
                fi
                played=$("$retort" eval "$out" --episodes 100 | grep -o 'return [0-9.]*')
                echo "${line%\}}, \"return\": ${played#return }}"
            done
        done
    done | tee "$scratch/distill.txt"
    "$RETORT_PYTHON" - "$scratch/distill.txt" "$scratch/teacher-eval.txt" <<'PY'
import json, re, statistics, sys
rows = [json.loads(line) for line in open(sys.argv[1])]
teacher = float(re.search(r"return ([0-9.]+)", open(sys.argv[2]).read()).group(1))
print(f"teacher return {teacher:.1f}; medians over seeds (min-max), one thread each")
print(f"{'student':>14} {'batch':>5} {'lr':>6} {'steps':>6} {'side':>8} {'seconds':>22} "
      f"{'agreement':>9} {'return (min)':>15} {'retention':>9}")
groups = {}
for r in rows:
    groups.setdefault((tuple(r["hidden"]), r["batch"], r["lr"], r["steps"]), {}) \
        .setdefault(r["side"], []).append(r)
for (hidden, batch, lr, steps), sides in groups.items():
    median = {}
    for side in ("retort", "pytorch"):
        runs = sides[side]
        seconds = [r["seconds"] for r in runs]
        median[side] = statistics.median(seconds)
        returns = [r["return"] for r in runs]
        ret = statistics.median(returns)
        spread = f"{median[side]:.3f} ({min(seconds):.3f}-{max(seconds):.3f})"
        played = f"{ret:.1f} ({min(returns):.1f})"
        student = f"{list(hidden)} {runs[0]['params']}p"
        print(f"{student:>14} {batch:>5} {lr:>6} {steps:>6} {side:>8} {spread:>22} "
              f"{statistics.median(r['agreement'] for r in runs):>9.4f} {played:>15} "
              f"{ret / teacher:>9.1%}")
    print(f"{'':>14} retort is {median['pytorch'] / median['retort']:.1f}x faster "
          f"(median seconds, same settings)")
PY
fi
