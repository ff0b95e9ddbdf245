#!/usr/bin/env bash
# A Czech expert on real recorded speech (issue #9): base vs expert WER on held-out game
# levels of the Fish Fillets NG Czech dialogue (scripts/czech-corpus.sh builds the corpus).
#
#   scripts/czech-expert.sh [OUT]            default out/czech; needs `make build model`
#
# Writes OUT/registry (its own registry: whisper-base and cs-fillets:1.0.0), OUT/reports/
# {base,expert}-{given,detected}/ and OUT/czech.md, the table. Resumable: the corpus, the
# expert and finished reports are reused. Scale (environment): CZECH_EPOCHS (default 1, so
# ~330 steps of 4 lines over 1,327 training lines), CZECH_TRAIN_LINES (default: all).
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-out/czech}
G=${GLOSSA_BIN:-$PWD/.build/release/glossa}
EPOCHS=${CZECH_EPOCHS:-1}
export GLOSSA_REGISTRY="$OUT/registry"
log() { printf '%s czech-expert: %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

[[ -f "$OUT/test.jsonl" ]] || scripts/czech-corpus.sh "$OUT"
TRAIN="$OUT/train.jsonl"
if [[ -n "${CZECH_TRAIN_LINES:-}" ]]; then head -n "$CZECH_TRAIN_LINES" "$OUT/train.jsonl" > "$OUT/train-subset.jsonl"; TRAIN="$OUT/train-subset.jsonl"; fi
log "scale: $(wc -l < "$TRAIN") training lines, $EPOCHS epoch(s), default recipe (r16 on encoder and decoder, batch 4); load $(cut -d' ' -f1 /proc/loadavg)"
$G list --kind base 2>/dev/null | grep -q whisper-base || $G base import models/whisper-base-ct2 --name whisper-base --version 1.0.0 >/dev/null
if ! $G show cs-fillets:1.0.0 >/dev/null 2>&1; then
  log "train cs-fillets"
  start=$(date +%s)
  $G train --base whisper-base --lang cs --manifest "$TRAIN" --dev "$OUT/dev.jsonl" --epochs "$EPOCHS" \
     --state "$OUT/trainer.state" --name cs-fillets --version 1.0.0
  echo "train_seconds $(( $(date +%s) - start ))" > "$OUT/train-seconds.txt"
fi
mkdir -p "$OUT/reports"
evaluate() {  # evaluate ROW SCENARIO ARGS...
  local dir="$OUT/reports/$1-$2" mode=--language-aware; shift 2
  [[ -f "$dir/report.json" ]] && return 0
  [[ $dir == *-detected ]] && mode=--language-agnostic
  log "eval ${dir##*/}"
  $G eval --model whisper-base "$@" $mode --beam 1 --manifest "$OUT/test.jsonl" --report "$dir.tmp" > /dev/null
  mv "$dir.tmp" "$dir"
}
for sc in given detected; do
  evaluate base "$sc"
  evaluate expert "$sc" --expert cs-fillets:1.0.0
done
. scripts/venv.sh
$PY - "$OUT" > "$OUT/czech.md" <<'PY'
import json, os, sys
out = sys.argv[1]
def rep(row, sc): return json.load(open(os.path.join(out, "reports", f"{row}-{sc}", "report.json")))
n = sum(1 for _ in open(os.path.join(out, "test.jsonl")))
print(f"Czech, real recorded speech (Fish Fillets NG voice actors), {n} test lines from game levels never seen in training; greedy.\n")
print("| model | WER % language given | WER % language detected | LID accuracy |")
print("|---|---:|---:|---:|")
for row, label in [("base", "whisper-base"), ("expert", "whisper-base + cs-fillets expert")]:
    g, d = rep(row, "given"), rep(row, "detected")
    lid = d["overall"]["lid_accuracy"]
    print(f"| {label} | {100*g['overall']['wer']:.1f} | {100*d['overall']['wer']:.1f} | {100*lid:.0f}% |")
PY
cat "$OUT/czech.md"
