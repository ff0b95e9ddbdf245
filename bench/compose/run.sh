#!/usr/bin/env bash
# Compose time, Glossa vs PEFT's add_weighted_adapter, on the same 8 random experts with
# whisper-base shapes (r16 on q/k/v/out/fc1/fc2 of encoder and decoder), weights 1/8, rank 16,
# density 0.5, 2 threads; REPEATS runs of each method (min and median), in one run.
#   bench/compose/run.sh [N] [REPEATS]        default 8 experts, 3 repeats
# Glossa's time is the whole `glossa compose` process (load 8 experts from the registry, fuse,
# publish); PEFT's is the add_weighted_adapter call alone on adapters already in memory, so
# the ratio is conservative for Glossa. `shared` has no PEFT counterpart and is reported alone.
# Needs: make build model; scripts/setup.sh --bench (torch, transformers, peft).
set -euo pipefail
cd "$(dirname "$0")/../.."
N=${1:-8}
REPEATS=${2:-3}
. scripts/venv.sh   # PY: the project venv's Python
G=$PWD/.build/release/glossa
W=$(mktemp -d /tmp/glossa-bench-compose.XXXX)
trap 'rm -rf "$W"' EXIT
CFG=models/whisper-base-ct2/config.json
echo "load: $(cut -d' ' -f1-3 /proc/loadavg) (quiet machine: below 0.5)" >&2
$PY bench/compose/make_adapters.py "$W/adapters" "$N" "$CFG"
export GLOSSA_REGISTRY="$W/registry"
$G base import models/whisper-base-ct2 --name whisper-base --version 1.0.0 >/dev/null
refs=()
for i in $(seq 0 $((N - 1))); do
  $G expert import-peft "$W/adapters/expert$i" --lang "$(sed -n "$((i + 1))p" <<< $'de\nfr\nnl\npl\nes\nit\npt\nru\nsv\nfi\nda\ncs')" \
     --name "e$i" --version 1.0.0 --license MIT >/dev/null
  refs+=("e$i:1.0.0")
done
EXPERTS=$(IFS=,; echo "${refs[*]}")
: > "$W/glossa.txt"
for m in cat linear ties dare shared; do
  for r in $(seq 1 "$REPEATS"); do
    s=$EPOCHREALTIME
    $G compose --experts "$EXPERTS" --method "$m" --rank 16 --density 0.5 --name "$m" --version "1.0.$r" >/dev/null
    echo "$m $s $EPOCHREALTIME" >> "$W/glossa.txt"
  done
done
$PY bench/compose/peft_merge.py "$W/adapters" "$N" "$REPEATS" "$CFG" > "$W/peft.json"
$PY - "$W/glossa.txt" "$W/peft.json" "$N" <<'PY'
import json, statistics, sys
g = {}
for line in open(sys.argv[1]):
    m, a, b = line.split(); g.setdefault(m, []).append(float(b) - float(a))
p = json.load(open(sys.argv[2]))
print(f"compose {sys.argv[3]} experts (whisper-base shapes, r16), seconds: min / median of {len(next(iter(g.values())))} runs")
print(f"{'method':<8}{'glossa':>16}{'peft':>16}{'ratio (min)':>13}")
for m in ["cat", "linear", "ties", "dare", "shared"]:
    gm, gd = min(g[m]), statistics.median(g[m])
    if m in p:
        pm, pd = min(p[m]), statistics.median(p[m])
        print(f"{m:<8}{gm:>8.2f} /{gd:>6.2f}{pm:>8.2f} /{pd:>6.2f}{gm / pm:>12.2f}x")
    else:
        print(f"{m:<8}{gm:>8.2f} /{gd:>6.2f}{'(no peer)':>16}")
PY
