#!/usr/bin/env bash
# The main job, end to end, on the embedded default registry (./registry unless
# $GLOSSA_REGISTRY is set). Run through `make demo`, which builds and fetches first.
#
#   1. import the real multilingual whisper-base (pinned digest) into the registry
#   2. synthesise a small multilingual espeak-ng corpus (train/dev/test manifests)
#   3. evaluate the base: language-aware and language-agnostic WER per language
#   4. train a French LoRA expert on the corpus and publish it (when the trainer is built)
#   5. list / show / tag the expert, export it as a PEFT folder and re-import it
#   6. evaluate base + expert, routed by language; verify the registry
#   7. export base + expert as a signed bundle (.tar), verify it, evaluate it with no registry
set -euo pipefail
cd "$(dirname "$0")/.."
G=.build/release/glossa
OUT=${DEMO_OUT:-demo-out}
LANGS=${DEMO_LANGS:-fr,de,nl,pl}
PER_LANG=${DEMO_SENTENCES:-150}
mkdir -p "$OUT"
step() { printf '\n== %s\n' "$*" >&2; }

step "1. base model"
if ! $G list --kind base | grep -q whisper-base; then
  $G base import models/whisper-base-ct2 --name whisper-base --version 1.0.0 \
     --description "OpenAI whisper-base (multilingual), CTranslate2 conversion by Systran, MIT"
fi
$G list --kind base

step "2. corpus: $LANGS, $PER_LANG sentences each (espeak-ng)"
$G corpus synth --langs "$LANGS" --sentences corpus/sentences --out "$OUT/corpus" --limit "$PER_LANG"

step "3. base on the test split"
$G eval --model whisper-base --manifest "$OUT/corpus/test.jsonl" --beam 1 --name base --report "$OUT/base-aware"
$G eval --model whisper-base --manifest "$OUT/corpus/test.jsonl" --beam 1 --language-agnostic --name base --report "$OUT/base-agnostic"

if $G help train >/dev/null 2>&1; then
  step "4. train a French expert"
  # Per-language manifests sit beside the corpus ones so their relative audio paths hold.
  grep '"lang":"fr"' "$OUT/corpus/train.jsonl" > "$OUT/corpus/fr-train.jsonl"
  grep '"lang":"fr"' "$OUT/corpus/dev.jsonl" > "$OUT/corpus/fr-dev.jsonl"
  # The recipe that closes the gap on espeak French (test WER 80% -> 19% here, ~10 min on 2 cores):
  # LoRA r16 on q/k/v/out/fc1/fc2 of encoder and decoder, 2 epochs, lr 1e-3.
  EXPERT=fr-espeak:1.0.0
  if ! $G show $EXPERT >/dev/null 2>&1; then
    $G train --base whisper-base --lang fr --manifest "$OUT/corpus/fr-train.jsonl" --dev "$OUT/corpus/fr-dev.jsonl" \
       --name fr-espeak --version 1.0.0 ${DEMO_TRAIN_FLAGS:---scope both --epochs 2 --lr 1e-3}
  fi

  step "5. list / show / tag / export / re-import"
  $G list --lang fr
  $G show $EXPERT
  $G tag $EXPERT demo
  rm -rf "$OUT/fr-peft" && $G expert export-peft fr-espeak:demo "$OUT/fr-peft"
  ls -l "$OUT/fr-peft"
  # Round trip: the exported PEFT folder imports back and exports bit-identically.
  V2="1.0.$(date +%s)-reimport"
  $G expert import-peft "$OUT/fr-peft" --lang fr --name fr-espeak-peft --version "$V2" --base whisper-base
  rm -rf "$OUT/fr-peft-2" && $G expert export-peft "fr-espeak-peft:$V2" "$OUT/fr-peft-2"
  a=$(sha256sum < "$OUT/fr-peft/adapter_model.safetensors"); b=$(sha256sum < "$OUT/fr-peft-2/adapter_model.safetensors")
  [[ "$a" == "$b" ]] && echo "PEFT round trip: adapter_model.safetensors identical ($a)" >&2 \
    || { echo "PEFT round trip changed the weights" >&2; exit 1; }

  step "6. base + expert, routed by language"
  $G eval --model whisper-base --expert fr-espeak:demo --route language --manifest "$OUT/corpus/test.jsonl" --beam 1 \
     --name base+fr-expert --report "$OUT/expert-aware"

  step "7. signed bundle: export, verify, evaluate with no registry"
  [[ -f "$OUT/release.key" ]] || $G key generate --out "$OUT/release"
  $G export fr-espeak:demo --out "$OUT/fr-bundle.tar" --sign "$OUT/release.key" --force
  $G bundle verify "$OUT/fr-bundle.tar" --key "$OUT/release.pub"
  $G bundle inspect "$OUT/fr-bundle.tar"
  GLOSSA_REGISTRY="$OUT/no-registry" $G eval --model "$OUT/fr-bundle.tar" --verify-key "$OUT/release.pub" \
     --manifest "$OUT/corpus/test.jsonl" --beam 1 --name fr-bundle --report "$OUT/bundle-aware"
fi

step "verify"
$G verify
echo "demo: reports in $OUT/ (report.md, report.json, wer.svg per run)" >&2
