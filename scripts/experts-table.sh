#!/usr/bin/env bash
# Regenerates the issue-5 evidence: for each language, test WER of the base and of the
# language's own expert (language-aware, greedy), plus routed experts language-agnostic.
#   scripts/experts-table.sh [LANGS] [OUT]        default: fr,nl  out/experts
# Each expert: LoRA r16/alpha32 on q/k/v/out/fc1/fc2 of encoder and decoder, 2 epochs over
# the language's train split (~122 espeak-ng sentences), batch 4, lr 1e-3, seed 0.
# Needs a release build (make build) and the fetched whisper-base (make model).
set -euo pipefail
cd "$(dirname "$0")/.."
LANGS=${1:-fr,nl}
OUT=${2:-out/experts}
G=.build/release/glossa
export GLOSSA_REGISTRY="$OUT/registry"
mkdir -p "$OUT"
$G list --kind base | grep -q whisper-base || $G base import models/whisper-base-ct2 --name whisper-base --version 1.0.0 >/dev/null
[[ -f "$OUT/corpus/test.jsonl" ]] || $G corpus synth --langs "$LANGS" --sentences corpus/sentences --out "$OUT/corpus" >/dev/null
experts=()
rows=()
for l in ${LANGS//,/ }; do
  for s in train dev test; do grep "\"lang\":\"$l\"" "$OUT/corpus/$s.jsonl" > "$OUT/corpus/$l-$s.jsonl"; done
  if ! $G list --lang "$l" --kind expert | grep -q "$l-espeak"; then
    start=$(date +%s)
    $G train --base whisper-base --lang "$l" --manifest "$OUT/corpus/$l-train.jsonl" --dev "$OUT/corpus/$l-dev.jsonl" \
       --scope both --epochs 2 --lr 1e-3 --seed 0 --name "$l-espeak" --version 1.0.0 >&2
    echo "$l: trained in $(( $(date +%s) - start )) s" >&2
  fi
  experts+=(--expert "$l-espeak")
  base=$($G eval --model whisper-base --manifest "$OUT/corpus/$l-test.jsonl" --beam 1 --json --name base | python3 -c 'import json,sys; print("%.1f" % (100*json.load(sys.stdin)["overall"]["macro_error_rate"]))')
  exp=$($G eval --model whisper-base --expert "$l-espeak" --manifest "$OUT/corpus/$l-test.jsonl" --beam 1 --json --name "$l-espeak" | python3 -c 'import json,sys; print("%.1f" % (100*json.load(sys.stdin)["overall"]["macro_error_rate"]))')
  rows+=("| $l | $base | $exp |")
done
echo "| language | base WER % | own expert WER % (language-aware) |"
echo "|---|---:|---:|"
printf '%s\n' "${rows[@]}"
for l in ${LANGS//,/ }; do cat "$OUT/corpus/$l-test.jsonl"; done > "$OUT/corpus/all-test.jsonl"
echo
echo "Language-agnostic, experts routed by the base's detected language:"
$G eval --model whisper-base "${experts[@]}" --route language --language-agnostic --manifest "$OUT/corpus/all-test.jsonl" --beam 1 --name routed
