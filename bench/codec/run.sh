#!/usr/bin/env bash
# Codec benchmark: Glossa's blob codec vs plain zstd-3 vs zipnn (PyPI), one run, same tensors.
#   bench/codec/run.sh [MODEL_DIR] [ROUNDS]
# MODEL_DIR defaults to models/whisper-base-ct2 (scripts/fetch-whisper-base.sh fetches it).
# Data sets: whisper-base f16 as stored, the same values as bf16 and f32, and LoRA-like
# factors in f16/f32 (see dump_tensors.py). Each tensor is compressed as its own blob.
# Speeds are MB of raw data per CPU-second (process CPU time, all threads), because the
# build machine is shared and wall time would measure the neighbours.
# ROUNDS (default 3) alternate one pass of Glossa (and zstd-3) with one pass of zipnn over
# every tensor; the table gives min and median over the rounds for each side. Check the
# load first (printed below): nothing else may run beside it (bench/README.md).
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/venv.sh
. scripts/cpu.sh     # GLOSSA_CPU: the same build as make's
MODEL_DIR=${1:-${GLOSSA_TEST_MODEL_DIR:-models/whisper-base-ct2}}
ROUNDS=${2:-3}
[ -f "$MODEL_DIR/model.bin" ] || { echo "no $MODEL_DIR/model.bin: run scripts/fetch-whisper-base.sh" >&2; exit 66; }
DATA=$(mktemp -d /tmp/glossa-codec-bench.XXXXXX)
trap 'rm -rf "$DATA"' EXIT
"$PY" bench/codec/dump_tensors.py "$MODEL_DIR/model.bin" "$DATA"
swift build -c release --product glossa-bench-codec >&2
echo "load at start: $(cut -d' ' -f1-3 /proc/loadavg); $ROUNDS alternating rounds" >&2
for r in $(seq 1 "$ROUNDS"); do
  .build/release/glossa-bench-codec "$DATA" 3 1 >> "$DATA/ours.jsonl"
  "$PY" bench/codec/zipnn_bench.py "$DATA" >> "$DATA/zipnn.jsonl"
done
"$PY" - "$DATA/ours.jsonl" "$DATA/zipnn.jsonl" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for f in sys.argv[1:] for l in open(f)]
for r in rows: r.setdefault("codec", "zipnn")
sets = ["f16", "bf16", "f32", "lora-f16", "lora-f32"]
runs = {}
for r in rows: runs.setdefault((r["set"], r["codec"]), []).append(r)
def speeds(key, field):
    return [r["raw"] / r[field] / 1e6 for r in runs[key]]
# Decode speed per side: best round (its minimum time) and median round.
print(f"{'set':9} {'codec':7} {'ratio':>7} {'comp MB/s':>10} {'decomp MB/s best/median':>24}   {'ratio/zipnn':>11} {'decomp/zipnn best / median':>27}")
for s in sets:
    z = runs[(s, "zipnn")][0]
    zr = z["raw"] / z["compressed"]
    zd = speeds((s, "zipnn"), "decompress_s")
    for c in ["glossa", "zstd-3", "zipnn"]:
        r = runs[(s, c)][0]
        ratio = r["raw"] / r["compressed"]
        cm = statistics.median(speeds((s, c), "compress_s"))
        d = speeds((s, c), "decompress_s")
        print(f"{s:9} {c:7} {ratio:7.4f} {cm:10.0f} {max(d):12.0f} /{statistics.median(d):7.0f}   {ratio / zr:11.4f} "
              f"{max(d) / max(zd):13.2f} / {statistics.median(d) / statistics.median(zd):5.2f}")
PY
