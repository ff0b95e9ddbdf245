#!/usr/bin/env bash
# Training step time, Glossa vs PyTorch + peft, side by side in one run (2 threads each).
# whisper-base dimensions, LoRA r=16 on q/k/v/out/fc1/fc2, batch 4, 30 s features, 32 label tokens.
#   bench/train/run.sh [steps]        (default 2 timed steps after one warm-up step)
# Needs: swift (release build), the venv (.venv) with torch, transformers, peft (scripts/setup.sh --bench).
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/venv.sh
. scripts/cpu.sh     # GLOSSA_CPU: the same build as make's
STEPS=${1:-2}
swift build -c release --product TrainBench >&2
echo "== PyTorch + peft" >&2
"$PY" bench/train/torch_step.py "$STEPS" > /tmp/glossa-bench-torch.json
echo "== Glossa" >&2
.build/release/TrainBench "$STEPS" enc_dec,dec_only,dec_only_cached 2x1,1x2 > /tmp/glossa-bench-swift.json
"$PY" - /tmp/glossa-bench-torch.json /tmp/glossa-bench-swift.json <<'PY'
import json, sys
t = json.load(open(sys.argv[1])); s = json.load(open(sys.argv[2]))
print(f"training step, whisper-base dims, r16 all linear, batch 4, 32 label tokens, 2 threads (OpenBLAS core {s['core']})")
print(f"{'mode':<18}{'torch s/step':>14}{'glossa best':>13}{'layout':>8}{'ratio':>8}")
for mode in ["enc_dec", "dec_only", "dec_only_cached"]:
    runs = {k.split('@')[1]: v for k, v in s.items() if k.startswith(mode + "@") and not k.endswith("_first_step")}
    if not runs: continue
    lay, best = min(runs.items(), key=lambda kv: kv[1])
    others = ", ".join(f"{k} {v:.2f}s" for k, v in runs.items() if k != lay)
    print(f"{mode:<18}{t[mode]:>14.2f}{best:>13.2f}{lay:>8}{best / t[mode]:>7.2f}x   (other layouts: {others})")
if "dec_only@2x1" in s and "dec_only_cached@2x1" in s:
    a, b = s["dec_only@2x1"], s["dec_only_cached@2x1"]
    print(f"encoder-output caching (decoder-only, 2x1): {a:.2f} -> {b:.2f} s/step, saves {100 * (1 - b / a):.0f}%")
PY
