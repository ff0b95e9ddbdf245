#!/usr/bin/env bash
# Training step time, Glossa vs PyTorch + peft, side by side in one run (2 threads each).
# whisper-base dimensions, LoRA r=16 on q/k/v/out/fc1/fc2, batch 4, 30 s features, 32 label tokens.
#   bench/train/run.sh [steps] [rounds]   (default 2 timed steps after one warm-up step, 3 rounds)
# The last line is the floor: the step's matrix-product FLOPs over the sgemm peak (bench/train/README.md).
# Rounds alternate a PyTorch pass and a Glossa pass over the modes; the table gives min and
# median over rounds of each side's seconds per step (Glossa: its faster layout per round).
# Check the load first (printed below): nothing else may run beside it (bench/README.md).
# Needs: swift (release build), the venv (.venv) with torch, transformers, peft (scripts/setup.sh --bench).
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/venv.sh
. scripts/cpu.sh     # GLOSSA_CPU: the same build as make's
STEPS=${1:-2}
ROUNDS=${2:-3}
OUT=$(mktemp -d /tmp/glossa-bench-train.XXXXXX)
trap 'rm -rf "$OUT"' EXIT
swift build -c release --product TrainBench >&2
echo "load at start: $(cut -d' ' -f1-3 /proc/loadavg); $ROUNDS alternating rounds of $STEPS timed steps" >&2
for r in $(seq 1 "$ROUNDS"); do
  echo "== round $r: PyTorch + peft" >&2
  "$PY" bench/train/torch_step.py "$STEPS" >> "$OUT/torch.jsonl"
  echo "== round $r: Glossa" >&2
  .build/release/TrainBench "$STEPS" enc_dec,dec_only,dec_only_cached 2x1,1x2 >> "$OUT/glossa.jsonl"
done
"$PY" - "$OUT/torch.jsonl" "$OUT/glossa.jsonl" <<'PY'
import json, statistics, sys
torch = [json.loads(l) for l in open(sys.argv[1])]
ours = [json.loads(l) for l in open(sys.argv[2])]
print(f"training step, whisper-base dims, r16 all linear, batch 4, 32 label tokens, 2 threads (OpenBLAS core {ours[0]['core']}), {len(ours)} rounds")
print(f"{'mode':<16}{'torch s/step min/median':>25}{'glossa min/median':>20}{'layout':>8}{'ratio min/median':>18}")
for mode in ["enc_dec", "dec_only", "dec_only_cached"]:
    t = [r[mode] for r in torch]
    best = []   # per round: the faster layout
    layouts = {}
    for r in ours:
        runs = {k.split('@')[1]: v for k, v in r.items() if k.startswith(mode + "@") and not k.endswith("_first_step")}
        lay, v = min(runs.items(), key=lambda kv: kv[1])
        best.append(v); layouts[lay] = layouts.get(lay, 0) + 1
    lay = max(layouts, key=layouts.get)
    tm, tmed, gm, gmed = min(t), statistics.median(t), min(best), statistics.median(best)
    print(f"{mode:<16}{tm:>14.2f} /{tmed:>7.2f}{gm:>11.2f} /{gmed:>6.2f}{lay:>8}{gm / tm:>10.2f}x /{gmed / tmed:>5.2f}x")
# The floor (TrainBench/StepFLOPs.swift): the step's matrix products at the best sgemm peak
# measured in this run. No runtime can go below it without products faster than BLAS's best.
peak = max(r["sgemm_gflops"] for r in ours)
gflop = ours[0]["enc_dec_gflop"]
tmin = min(r["enc_dec"] for r in torch)
print(f"enc_dec floor: {gflop:.0f} GFLOP of matrix products per step / {peak:.0f} GFLOPS (best sgemm probe of the run) "
      f"= {gflop / peak:.2f} s/step = {gflop / peak / tmin:.2f}x PyTorch's min")
PY
