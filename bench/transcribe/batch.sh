#!/usr/bin/env bash
# Many files in one process, as users evaluate: `glossa eval` (batch 1, 4 and 8 clips decoded
# together per worker, 2 workers with BLAS single-threaded) against faster-whisper looping
# over the same files in one process, and against its BatchedInferencePipeline (batch size 8).
# Same held-out espeak clips, language given, greedy (beam 1) with the default temperature
# fallback on both sides, float32, 2 threads, model load included on both sides.
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
  timed fw-loop "$PY" "$W/fw.py" "$MODEL" "$M" loop
  timed fw-batched "$PY" "$W/fw.py" "$MODEL" "$M" batched
done
"$PY" - "$W/times" <<'PY'
import statistics, sys
runs = {}
for line in open(sys.argv[1]):
    label, sec, kb = line.split()
    runs.setdefault(label, []).append((float(sec), int(kb)))
peer = min(s for s, _ in runs["fw-loop"])
print(f"{'what':24} {'min s':>8} {'median s':>9} {'peak MB':>8} {'ratio (min) vs faster-whisper loop':>36}")
for label, v in runs.items():
    secs = [s for s, _ in v]
    print(f"{label:24} {min(secs):8.2f} {statistics.median(secs):9.2f} {max(k for _, k in v) / 1024:8.0f} {min(secs) / peer:36.2f}")
PY
