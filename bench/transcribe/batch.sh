#!/usr/bin/env bash
# Many files in one process, as users evaluate: `glossa eval` (batch 1, 4 and 8 clips decoded
# together per worker, 2 workers with BLAS single-threaded) against faster-whisper looping
# over the same files in one process, and against its BatchedInferencePipeline (batch size 8).
# Same held-out espeak clips, language given, greedy (beam 1) with the default temperature
# fallback on both sides (the batched pipeline has none: its peer is glossa --no-fallback),
# float32, 2 threads, model load included on both sides.
# REPEATS runs of each (min and median wall seconds, peak RSS); ratios against the
# faster-whisper loop. Check the load first: below 0.5 on an otherwise quiet machine.
#   bench/transcribe/batch.sh [PER_LANG] [REPEATS]     default 12 clips per language (48), 3 repeats
# Needs: make build model (release glossa, whisper-base), the project venv (faster-whisper).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
PER_LANG=${1:-12}
REPEATS=${2:-3}
MODEL=$ROOT/models/whisper-base-ct2
. "$ROOT/scripts/venv.sh"
G=${GLOSSA:-$ROOT/.build/release/glossa}
W=$(mktemp -d /tmp/glossa-bench-batch.XXXX)
trap 'rm -rf "$W"' EXIT
echo "load: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores (quiet: below 0.5)" >&2
# Held-out clips: the test split of a multi-speaker corpus (voices never used in training).
"$G" corpus synth --langs de,fr,nl,pl --sentences "$ROOT/corpus/sentences" --out "$W/corpus" --limit $((PER_LANG * 4)) \
  --split 0.5,0.25,0.25 >/dev/null
M=$W/corpus/test.jsonl
echo "clips: $(wc -l < "$M") (test split, $PER_LANG-ish per language)" >&2

cat > "$W/fw.py" <<'PY'
import json, os, sys
from faster_whisper import WhisperModel, BatchedInferencePipeline
model_dir, manifest, mode = sys.argv[1], sys.argv[2], sys.argv[3]
root = os.path.dirname(manifest)
rows = [json.loads(l) for l in open(manifest)]
m = WhisperModel(model_dir, device="cpu", compute_type="float32", cpu_threads=2)
if mode == "batched":
    p = BatchedInferencePipeline(model=m)
    run = lambda path, lang: p.transcribe(path, language=lang, beam_size=1, batch_size=8, without_timestamps=True, vad_filter=False)[0]
else:
    run = lambda path, lang: m.transcribe(path, language=lang, beam_size=1, without_timestamps=True, vad_filter=False)[0]
for r in rows:
    print(r["id"], " ".join(s.text.strip() for s in run(os.path.join(root, r["audio"]), r["lang"])))
PY

timed() {  # timed LABEL CMD...: appends "LABEL seconds kilobytes" to $W/times
  local label=$1; shift
  /usr/bin/time -f "$label %e %M" -a -o "$W/times" "$@" > /dev/null 2>>"$W/stderr"
}
: > "$W/times"
for r in $(seq 1 "$REPEATS"); do
  for b in 1 4 8; do timed "glossa-eval-batch-$b" "$G" eval --model "$MODEL" --manifest "$M" --beam 1 --batch $b --threads 2 --json; done
  # faster-whisper's batched pipeline decodes at temperature 0 only (no fallback): its peer is
  # glossa with --no-fallback.
  for b in 1 8; do
    timed "glossa-eval-nofallback-batch-$b" "$G" eval --model "$MODEL" --manifest "$M" --beam 1 --batch $b --threads 2 --no-fallback --json
  done
  timed fw-loop "$PY" "$W/fw.py" "$MODEL" "$M" loop
  timed fw-batched "$PY" "$W/fw.py" "$MODEL" "$M" batched
done
"$PY" - "$W/times" <<'PY'
import statistics, sys
runs = {}
for line in open(sys.argv[1]):
    label, sec, kb = line.split()
    runs.setdefault(label, []).append((float(sec), int(kb)))
# Each glossa row against its peer: the faster-whisper loop (temperature fallback on both
# sides), or the batched pipeline for the --no-fallback rows (temperature 0 only on both).
def peer_of(label): return "fw-batched" if "nofallback" in label or label == "fw-batched" else "fw-loop"
best = {label: min(s for s, _ in v) for label, v in runs.items()}
med = {label: statistics.median(s for s, _ in v) for label, v in runs.items()}
print(f"{'what':30} {'min s':>8} {'median s':>9} {'peak MB':>8}  {'peer':10} {'ratio min':>9} {'ratio median':>12}")
for label, v in runs.items():
    p = peer_of(label)
    print(f"{label:30} {best[label]:8.2f} {med[label]:9.2f} {max(k for _, k in v) / 1024:8.0f}  {p:10} "
          f"{best[label] / best[p]:9.2f} {med[label] / med[p]:12.2f}")
PY
