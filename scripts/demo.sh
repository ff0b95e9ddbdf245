#!/usr/bin/env bash
# The main job, end to end, on the embedded default registry (./registry unless
# $GLOSSA_REGISTRY is set). Run through `make demo`, which builds and fetches first.
#
#   1. import the real multilingual whisper-base (pinned digest)
#   2. synthesise a multi-speaker espeak-ng corpus for 4 languages (test voices never heard
#      in training)
#   3. train one LoRA expert per language
#   4. compose them: a linear fusion, and a distilled student that also detects languages
#   5. export the student with its base as a signed bundle (.tar) and verify it
#   6. evaluate the base, the fusion and the bundle (with no registry), language given and
#      language detected
#   7. print the table and the bundle's path
#
# Scale (to fit ~30 minutes on 2 cores): DEMO_LANGS (fr,de,nl,pl), DEMO_SENTENCES per
# language (50: 40 train, 5 dev, 5 test), DEMO_EPOCHS (2), DEMO_DISTILL_STEPS (20).
# Idempotent: a re-run reuses the corpus, experts, composites, key and bundle, publishes
# nothing new and only re-evaluates what has no report yet.
set -euo pipefail
cd "$(dirname "$0")/.."
G=$PWD/.build/release/glossa
OUT=${DEMO_OUT:-demo-out}
LANGS=${DEMO_LANGS:-fr,de,nl,pl}
PER_LANG=${DEMO_SENTENCES:-50}
EPOCHS=${DEMO_EPOCHS:-2}
DISTILL_STEPS=${DEMO_DISTILL_STEPS:-20}
. scripts/venv.sh   # PY: the project venv's Python
C="$OUT/corpus"
mkdir -p "$OUT/reports"
step() { printf '\n== %s (%s)\n' "$*" "$(date +%H:%M:%S)" >&2; }
has() { $G show "$1" >/dev/null 2>&1; }
start=$(date +%s)

step "1. base model"
has whisper-base:1.0.0 || $G base import models/whisper-base-ct2 --name whisper-base --version 1.0.0 \
  --description "OpenAI whisper-base (multilingual), CTranslate2 conversion by Systran, MIT"
$G list --kind base

step "2. corpus: $LANGS, $PER_LANG sentences each, speakers split between train, dev and test"
if [[ ! -f "$C/test.jsonl" ]]; then
  $G corpus synth --langs "$LANGS" --sentences corpus/sentences --out "$C" --limit "$PER_LANG"
fi
for s in train dev test; do for l in ${LANGS//,/ }; do grep "\"lang\":\"$l\"" "$C/$s.jsonl" > "$C/$l-$s.jsonl"; done; done

step "3. one expert per language (LoRA r16 on encoder and decoder, $EPOCHS epochs)"
for l in ${LANGS//,/ }; do
  has "$l-demo:1.0.0" && { echo "$l-demo:1.0.0 already trained" >&2; continue; }
  $G train --base whisper-base --lang "$l" --manifest "$C/$l-train.jsonl" --dev "$C/$l-dev.jsonl" --epochs "$EPOCHS" \
     --name "$l-demo" --version 1.0.0
done

step "4. compose the experts: linear fusion and a distilled student"
# A re-run skips what is published (composing again would give the same digest, but the
# distillation would spend its minutes first).
has demo-linear:1.0.0 || $G compose --languages "$LANGS" --method linear --rank 16 --name demo-linear --version 1.0.0
has demo-student:1.0.0 || $G compose --languages "$LANGS" --method distill --rank 16 --manifest "$C/train.jsonl" \
   --dev "$C/dev.jsonl" --steps "$DISTILL_STEPS" --name demo-student --version 1.0.0
$G show demo-student:1.0.0

step "5. signed bundle of the student"
BUNDLE="$OUT/demo-student.tar"
[[ -f "$OUT/release.key" ]] || $G key generate --out "$OUT/release"
if ! $G bundle verify "$BUNDLE" --key "$OUT/release.pub" >/dev/null 2>&1; then
  # One student for every language: it applies to every utterance and detects the language itself.
  $G export demo-student:1.0.0 --route all --out "$BUNDLE" --sign "$OUT/release.key" --force
fi
$G bundle verify "$BUNDLE" --key "$OUT/release.pub"
$G bundle inspect "$BUNDLE"

step "6. evaluate: base, linear fusion, the bundle (no registry); language given and detected"
evaluate() {  # evaluate ROW SCENARIO ARGS...
  local row=$1 sc=$2; shift 2
  [[ -f "$OUT/reports/$row-$sc/report.json" ]] && return 0
  local mode=--language-aware; [[ $sc == detected ]] && mode=--language-agnostic
  $G eval "$@" $mode --beam 1 --manifest "$C/test.jsonl" --name "$row" --report "$OUT/reports/$row-$sc" > /dev/null
}
for sc in given detected; do
  evaluate base "$sc" --model whisper-base
  evaluate linear "$sc" --model whisper-base --expert demo-linear:1.0.0
  evaluate bundle "$sc" --model "$BUNDLE" --verify-key "$OUT/release.pub" --registry "$OUT/no-registry"
done

step "7. results"
$PY - "$OUT/reports" "$LANGS" <<'PY'
import json, os, sys
root, langs = sys.argv[1], sys.argv[2].split(",")
print("Test WER % (held-out speakers, greedy):")
print("| model | " + " | ".join(langs) + " | macro, language given | macro, language detected | LID accuracy |")
print("|---|" + "---:|" * (len(langs) + 3))
for row, label in [("base", "whisper-base"), ("linear", "experts fused (linear)"), ("bundle", "distilled student (signed bundle)")]:
    g = json.load(open(os.path.join(root, f"{row}-given", "report.json")))
    d = json.load(open(os.path.join(root, f"{row}-detected", "report.json")))
    per = {l["language"]: l["score"]["error_rate"] for l in g["languages"]}
    lid = d["overall"].get("lid_accuracy")
    print(f"| {label} | " + " | ".join(f"{100 * per[l]:.1f}" if l in per else "-" for l in langs)
          + f" | {100 * g['overall']['macro_error_rate']:.1f} | {100 * d['overall']['macro_error_rate']:.1f} | "
          + ("-" if lid is None else f"{100 * lid:.0f}%") + " |")
PY
$G verify
echo "demo: bundle $BUNDLE (verify: glossa bundle verify $BUNDLE --key $OUT/release.pub); reports in $OUT/reports;" \
     "$(( $(date +%s) - start )) s" >&2
