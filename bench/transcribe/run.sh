#!/usr/bin/env bash
# Runtime bench: glossa's Whisper runtime (whisper-bench) vs CTranslate2 float32 with 2 threads
# (the engine faster-whisper uses) on the same golden log-mel windows, greedy and beam 5.
# Each side runs in its own process (peak RSS is per process). Prints ratios.
#   bench/transcribe/run.sh [model-dir]
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
MODEL=${1:-$ROOT/models/whisper-base-ct2}
GOLDEN=$ROOT/Tests/WhisperTests/Golden/model
OUT=$ROOT/bench/out; mkdir -p "$OUT"
. "$ROOT/scripts/venv.sh"
. "$ROOT/scripts/cpu.sh"   # GLOSSA_CPU: the same build as make's
swift build -c release --product WhisperBench >&2
BIN=$(swift build -c release --show-bin-path)/WhisperBench
"$BIN" "$MODEL" "$GOLDEN" --repeat 3 --threads 2 | tee "$OUT/glossa.jsonl"
"$PY" "$ROOT/bench/transcribe/ct2_bench.py" "$MODEL" "$GOLDEN" --repeat 3 --threads 2 | tee "$OUT/ct2.jsonl"
"$PY" - "$OUT/glossa.jsonl" "$OUT/ct2.jsonl" <<'PY'
import json, sys
g = [json.loads(l) for l in open(sys.argv[1])]; c = [json.loads(l) for l in open(sys.argv[2])]
def pick(rows, what, **kw): return next(r for r in rows if r["what"] == what and all(r.get(k) == v for k, v in kw.items()))
blas = pick(g, "blas"); ge, ce = pick(g, "encoder"), pick(c, "encoder")
print(f"\nBLAS core {blas['core']} ({blas['source']}), {blas['threads']} threads, sgemm peak {blas['sgemm_gflops']:.1f} GFLOPS")
print(f"encoder: glossa {ge['best_s']:.3f} s ({ge['gflops']:.1f} GFLOPS, {100*ge['fraction_of_sgemm_peak']:.0f}% of sgemm peak) "
      f"vs CTranslate2 {ce['best_s']:.3f} s  -> ratio {ge['best_s']/ce['best_s']:.2f}x")
for beam in (1, 5):
    gt, ct = pick(g, "transcribe", beam=beam), pick(c, "transcribe", beam=beam)
    same = sum(gt["tokens_by_clip"][k] == v for k, v in ct["tokens_by_clip"].items())
    print(f"beam {beam}: {gt['windows']} windows glossa {gt['total_s']:.2f} s vs CTranslate2 {ct['total_s']:.2f} s "
          f"-> ratio {gt['total_s']/ct['total_s']:.2f}x; identical tokens {same}/{len(ct['tokens_by_clip'])}; "
          f"peak RSS {gt['peak_rss_mib']:.0f} vs {ct['peak_rss_mib']:.0f} MiB")
PY
