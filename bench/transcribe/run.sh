#!/usr/bin/env bash
# Runtime bench: glossa's Whisper runtime (whisper-bench) vs CTranslate2 float32 with 2 threads
# (the engine faster-whisper uses) on the same golden log-mel windows, greedy and beam 5.
# Rounds alternate glossa, CTranslate2, glossa, ... (ROUNDS of each, default 3), each side in
# its own process (peak RSS is per process); prints min and median per side and the ratios.
# Then one glossa run of the LoRA cost (merged vs unmerged adapters).
#   bench/transcribe/run.sh [model-dir] [rounds]
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
MODEL=${1:-$ROOT/models/whisper-base-ct2}
ROUNDS=${2:-3}
GOLDEN=$ROOT/Tests/WhisperTests/Golden/model
OUT=$ROOT/bench/out; mkdir -p "$OUT"
. "$ROOT/scripts/venv.sh"
. "$ROOT/scripts/cpu.sh"   # GLOSSA_CPU: the same build as make's
swift build -c release --product WhisperBench >&2
BIN=$(swift build -c release --show-bin-path)/WhisperBench
echo "load at start: $(cut -d' ' -f1-3 /proc/loadavg) (1, 5, 15 min; quiet means below 0.5 with nothing else running)"
: > "$OUT/glossa.jsonl"; : > "$OUT/ct2.jsonl"
for r in $(seq "$ROUNDS"); do
  echo "round $r/$ROUNDS" >&2
  "$BIN" "$MODEL" "$GOLDEN" --repeat 3 --threads 2 --skip-lora | sed "s/^{/{\"round\":$r,/" >> "$OUT/glossa.jsonl"
  "$PY" "$ROOT/bench/transcribe/ct2_bench.py" "$MODEL" "$GOLDEN" --repeat 3 --threads 2 | sed "s/^{/{\"round\": $r, /" >> "$OUT/ct2.jsonl"
done
"$PY" - "$OUT/glossa.jsonl" "$OUT/ct2.jsonl" "$ROUNDS" <<'PY'
import json, statistics, sys
g = [json.loads(l) for l in open(sys.argv[1])]; c = [json.loads(l) for l in open(sys.argv[2])]
def rows(rs, what, **kw): return [r for r in rs if r["what"] == what and all(r.get(k) == v for k, v in kw.items())]
def mm(xs): return min(xs), statistics.median(xs)
blas = rows(g, "blas")[0]
print(f"\nBLAS core {blas['core']} ({blas['source']}), {blas['threads']} threads, sgemm peak {blas['sgemm_gflops']:.1f} GFLOPS; "
      f"{sys.argv[3]} rounds, alternating; min / median")
ge, ce = mm([r["best_s"] for r in rows(g, "encoder")]), mm([r["best_s"] for r in rows(c, "encoder")])
frac = max(r["fraction_of_sgemm_peak"] for r in rows(g, "encoder"))
print(f"encoder window: glossa {ge[0]:.3f} / {ge[1]:.3f} s ({100*frac:.0f}% of sgemm peak at best) vs CTranslate2 "
      f"{ce[0]:.3f} / {ce[1]:.3f} s -> ratio {ge[0]/ce[0]:.2f}x (min), {ge[1]/ce[1]:.2f}x (median)")
for beam in (1, 5):
    gt, ct = rows(g, "transcribe", beam=beam), rows(c, "transcribe", beam=beam)
    gm, cm = mm([r["total_s"] for r in gt]), mm([r["total_s"] for r in ct])
    same = min(sum(a["tokens_by_clip"][k] == v for k, v in b["tokens_by_clip"].items()) for a in gt for b in ct)
    print(f"beam {beam}: {gt[0]['windows']} windows glossa {gm[0]:.2f} / {gm[1]:.2f} s vs CTranslate2 {cm[0]:.2f} / {cm[1]:.2f} s "
          f"-> ratio {gm[0]/cm[0]:.2f}x (min), {gm[1]/cm[1]:.2f}x (median); identical tokens {same}/{len(ct[0]['tokens_by_clip'])} "
          f"(worst pair); peak RSS {max(r['peak_rss_mib'] for r in gt):.0f} vs {max(r['peak_rss_mib'] for r in ct):.0f} MiB")
PY
echo "LoRA cost (one glossa run):"
"$BIN" "$MODEL" "$GOLDEN" --repeat 1 --threads 2 --beam 1 | grep '"lora"'
