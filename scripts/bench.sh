#!/usr/bin/env bash
# Benchmarks, printed as numbers measured in this run on this machine.
#
#   scripts/bench.sh [envs|update|teacher|variants|pipeline|sb3|all] [SEEDS]
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
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/env.sh
cargo build --release --locked --quiet
cargo build --release --locked --quiet -p retort-dqn --example update_cost
retort="${CARGO_TARGET_DIR:-target}/release/retort"
what=${1:-all}
seeds=${2:-5}
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
