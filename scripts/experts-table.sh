#!/usr/bin/env bash
# Regenerates the issue-5 evidence table: test WER per language (greedy, language given) of
#   - the base (whisper-base),
#   - the standard multilingual LoRA: ONE adapter, same rank/recipe, trained on all LANGS mixed
#     for the same total number of steps as all the experts together,
#   - the language's own expert,
# then the language-agnostic run (language not given): the multilingual LoRA vs the experts
# routed by the base's detected language.
#   scripts/experts-table.sh [LANGS] [OUT]        default: de,fr,nl,pl  out/experts
# Recipe (each expert and the baseline): LoRA r16/alpha32 on q/k/v/out/fc1/fc2 of encoder and
# decoder, 2 epochs over the train split, batch 4, lr 1e-3, warmup 10 + cosine, seed 0.
# Re-runs reuse what the registry under OUT already holds. Needs a release build (make build)
# and the fetched whisper-base (make model). Training logs and times go to OUT/*.log.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/venv.sh
LANGS=${1:-de,fr,nl,pl}
OUT=${2:-out/experts}
G=.build/release/glossa
EPOCHS=2
RECIPE=(--scope both --rank 16 --alpha 32 --lr 1e-3 --batch 4 --seed 0)
export GLOSSA_REGISTRY="$OUT/registry"
mkdir -p "$OUT"
$G list --kind base | grep -q whisper-base || $G base import models/whisper-base-ct2 --name whisper-base --version 1.0.0 >/dev/null
[[ -f "$OUT/corpus/test.jsonl" ]] || $G corpus synth --langs "$LANGS" --sentences corpus/sentences --out "$OUT/corpus" >/dev/null

wer() {  # wer NAME ARGS... -> macro error rate in percent of `glossa eval ARGS --json`
  local name=$1; shift
  $G eval --model whisper-base "$@" --beam 1 --json --name "$name" --report "$OUT/reports/$name" \
    | "$PY" -c 'import json,sys; print("%.1f" % (100*json.load(sys.stdin)["overall"]["macro_error_rate"]))'
}
trained() { $G list --kind expert | awk '{print $2}' | grep -qx "$1"; }
train() {  # train NAME LANG(S) TRAIN DEV EXTRA... ; logs the wall time
  local name=$1 langs=$2 tr=$3 dv=$4; shift 4
  trained "$name" && return 0
  local start; start=$(date +%s)
  $G train --base whisper-base --lang "$langs" --manifest "$tr" --dev "$dv" "${RECIPE[@]}" "$@" \
     --name "$name" --version 1.0.0 > "$OUT/$name.out" 2> "$OUT/$name.log"
  echo "$name: trained in $(( $(date +%s) - start )) s (load average $(cut -d' ' -f1-3 /proc/loadavg))" | tee -a "$OUT/times.txt" >&2
}

mkdir -p "$OUT/reports"
experts=(); total_steps=0
for l in ${LANGS//,/ }; do
  for s in train dev test; do grep "\"lang\":\"$l\"" "$OUT/corpus/$s.jsonl" > "$OUT/corpus/$l-$s.jsonl"; done
  n=$(wc -l < "$OUT/corpus/$l-train.jsonl")
  total_steps=$(( total_steps + EPOCHS * ((n + 3) / 4) ))
  train "$l-espeak" "$l" "$OUT/corpus/$l-train.jsonl" "$OUT/corpus/$l-dev.jsonl" --epochs $EPOCHS
  experts+=(--expert "$l-espeak")
done
# The baseline sees every language's training data, for as many steps as the experts together.
for s in train dev test; do
  for l in ${LANGS//,/ }; do cat "$OUT/corpus/$l-$s.jsonl"; done > "$OUT/corpus/all-$s.jsonl"
done
train multi-espeak "$LANGS" "$OUT/corpus/all-train.jsonl" "$OUT/corpus/all-dev.jsonl" --steps "$total_steps"

echo "Test WER % (espeak-ng test split, greedy, language given). Experts: ${EPOCHS} epochs each;"
echo "multilingual LoRA: one adapter, ${total_steps} steps over all of ${LANGS} (= the experts' steps together)."
echo
echo "| language | base | standard multilingual LoRA | own expert |"
echo "|---|---:|---:|---:|"
for l in ${LANGS//,/ }; do
  t="$OUT/corpus/$l-test.jsonl"
  echo "| $l | $(wer "base-$l" --manifest "$t") | $(wer "multi-$l" --expert multi-espeak --manifest "$t") | $(wer "expert-$l" --expert "$l-espeak" --manifest "$t") |"
done
all="$OUT/corpus/all-test.jsonl"
echo "| macro (language given) | $(wer base-all --manifest "$all") | $(wer multi-all --expert multi-espeak --manifest "$all") | $(wer experts-all "${experts[@]}" --route language --manifest "$all") |"
echo "| macro (language detected) | $(wer base-agnostic --language-agnostic --manifest "$all") | $(wer multi-agnostic --expert multi-espeak --language-agnostic --manifest "$all") | $(wer experts-agnostic "${experts[@]}" --route language --language-agnostic --manifest "$all") |"
echo
echo "Training wall times:"; cat "$OUT/times.txt"
