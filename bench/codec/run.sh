#!/usr/bin/env bash
# Codec benchmark: Glossa's blob codec vs plain zstd-3 vs zipnn (PyPI), one run, same tensors.
#   bench/codec/run.sh [MODEL_DIR] [REPEATS]
# MODEL_DIR defaults to models/whisper-base-ct2 (scripts/fetch-whisper-base.sh fetches it).
# Data sets: whisper-base f16 as stored, the same values as bf16 and f32, and LoRA-like
# factors in f16/f32 (see dump_tensors.py). Each tensor is compressed as its own blob.
# Speeds are MB of raw data per CPU-second (process CPU time, all threads), because the
# build machine is shared and wall time would measure the neighbours.
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/venv.sh
. scripts/cpu.sh     # GLOSSA_CPU: the same build as make's
MODEL_DIR=${1:-${GLOSSA_TEST_MODEL_DIR:-models/whisper-base-ct2}}
REPEATS=${2:-3}
[ -f "$MODEL_DIR/model.bin" ] || { echo "no $MODEL_DIR/model.bin: run scripts/fetch-whisper-base.sh" >&2; exit 66; }
DATA=$(mktemp -d /tmp/glossa-codec-bench.XXXXXX)
trap 'rm -rf "$DATA"' EXIT
"$PY" bench/codec/dump_tensors.py "$MODEL_DIR/model.bin" "$DATA"
swift build -c release --product glossa-bench-codec >&2
.build/release/glossa-bench-codec "$DATA" 3 "$REPEATS" > "$DATA/ours.jsonl"
"$PY" bench/codec/zipnn_bench.py "$DATA" > "$DATA/zipnn.jsonl"
"$PY" - "$DATA/ours.jsonl" "$DATA/zipnn.jsonl" <<'PY'
import json, sys
rows = [json.loads(l) for f in sys.argv[1:] for l in open(f)]
for r in rows: r.setdefault("codec", "zipnn")
sets = ["f16", "bf16", "f32", "lora-f16", "lora-f32"]
get = {(r["set"], r["codec"]): r for r in rows}
print(f"{'set':9} {'codec':7} {'ratio':>7} {'comp MB/s':>10} {'decomp MB/s':>12}   {'ratio/zipnn':>11} {'decomp/zipnn':>12}")
for s in sets:
    z = get[(s, "zipnn")]
    zr, zd = z["raw"] / z["compressed"], z["raw"] / z["decompress_s"] / 1e6
    for c in ["glossa", "zstd-3", "zipnn"]:
        r = get[(s, c)]
        ratio = r["raw"] / r["compressed"]; cm = r["raw"] / r["compress_s"] / 1e6; dm = r["raw"] / r["decompress_s"] / 1e6
        print(f"{s:9} {c:7} {ratio:7.4f} {cm:10.0f} {dm:12.0f}   {ratio / zr:11.4f} {dm / zd:12.2f}")
PY
