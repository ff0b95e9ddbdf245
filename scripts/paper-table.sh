#!/usr/bin/env bash
# The paper's comparison (arXiv 2506.21555), regenerated from an empty registry:
#   scripts/paper-table.sh [LANGS] [OUT]          default: de,fr,nl,pl  out/paper
# Rows: the base; the standard multilingual LoRA (one adapter, same rank and targets, as many
# steps as the experts together); the experts (language given; routed by the base's LID, hard
# and soft); each fusion method (cat, linear, ties, dare, learned); shared; distill.
# Columns, language given and language detected: WER per language, macro WER, relative gain
# against the multilingual LoRA with a bootstrap 95% interval over utterances, LID accuracy,
# compute seconds (train + compose) and adapter bytes. Writes OUT/table.md, table.json, table.svg,
# and OUT/efficiency.md: composing a language subset from the experts vs training on it.
#
# Resumable: experts, the baseline and composites with the same recipe already in
# OUT/registry are reused, and finished eval reports are kept, so the script can be re-run
# (or run in the background across sessions) and only does what is missing.
#
# Scale (environment; printed at the start): PAPER_SENTENCES sentences per language (default
# 80), PAPER_SPLIT train,dev,test fractions (default 0.6,0.1,0.3: 48/8/24 per language, so the
# 4-language test set has 96 utterances by test-only speakers), PAPER_EPOCHS expert epochs
# (default 1), PAPER_DISTILL_STEPS (default: half an epoch over all languages),
# PAPER_LEARNED_STEPS (20), PAPER_SYNTH_FLAGS extra `glossa corpus synth` flags (noise,
# variants), PAPER_EVAL_FLAGS (default --no-fallback: pure greedy, as the paper decodes; the
# temperature fallback re-decodes every looping window up to five times and made the base's
# evals alone take a quarter of an hour). These defaults fit the 4-language run in 90 minutes
# on a 2-core machine; the full recipe of earlier runs was PAPER_EPOCHS=2
# PAPER_LEARNED_STEPS=30 PAPER_DISTILL_STEPS=48 PAPER_EVAL_FLAGS= (about two hours).
# The scale is kept in OUT/scale.txt; resuming OUT with another scale is refused.
# The wall time of the whole run is printed at the end and kept in OUT/seconds.txt ("total").
# Needs `make build model`.
set -euo pipefail
cd "$(dirname "$0")/.."
LANGS=${1:-de,fr,nl,pl}
OUT=${2:-out/paper}
G=${GLOSSA_BIN:-$PWD/.build/release/glossa}
PER_LANG=${PAPER_SENTENCES:-80}
SPLIT=${PAPER_SPLIT:-0.6,0.1,0.3}
EPOCHS=${PAPER_EPOCHS:-1}
LEARNED_STEPS=${PAPER_LEARNED_STEPS:-20}
EVAL_FLAGS=${PAPER_EVAL_FLAGS---no-fallback}
RECIPE=(--scope both --rank 16 --alpha 32 --lr 1e-3 --batch 4 --seed 0)
. scripts/venv.sh
export GLOSSA_REGISTRY="$OUT/registry"
mkdir -p "$OUT/reports" "$OUT/logs"
C="$OUT/corpus"
log() { printf '%s paper-table: %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
T0=$(date +%s)
SCALE="$LANGS; $PER_LANG sentences per language split $SPLIT; synth flags '${PAPER_SYNTH_FLAGS:-}'; experts $EPOCHS epochs, rank 16, batch 4; learned $LEARNED_STEPS steps; distill ${PAPER_DISTILL_STEPS:-half an epoch}; eval flags '$EVAL_FLAGS'"
log "scale: $SCALE; load $(cut -d' ' -f1 /proc/loadavg) on $(nproc) cores"
if [[ ! -f "$OUT/scale.txt" && -d "$OUT/registry" ]]; then
  echo "paper-table: $OUT holds a registry from a run that did not record its scale; use a new OUT folder" >&2
  exit 2
fi
if [[ -f "$OUT/scale.txt" && "$(cat "$OUT/scale.txt")" != "$SCALE" ]]; then
  echo "paper-table: $OUT was started at another scale ($(cat "$OUT/scale.txt")); use a new OUT folder or the same PAPER_* settings" >&2
  exit 2
fi
echo "$SCALE" > "$OUT/scale.txt"
# Seconds of compute per artifact, appended once: "NAME SECONDS".
record() { grep -q "^$1 " "$OUT/seconds.txt" 2>/dev/null || echo "$1 $2" >> "$OUT/seconds.txt"; }

$G list --kind base 2>/dev/null | grep -q whisper-base || $G base import models/whisper-base-ct2 --name whisper-base --version 1.0.0 >/dev/null
if [[ ! -f "$C/test.jsonl" ]]; then
  log "corpus: $LANGS, $PER_LANG sentences each"
  $G corpus synth --langs "$LANGS" --sentences corpus/sentences --out "$C" --limit "$PER_LANG" --split "$SPLIT" ${PAPER_SYNTH_FLAGS:-} >/dev/null
fi
for s in train dev test; do
  for l in ${LANGS//,/ }; do grep "\"lang\":\"$l\"" "$C/$s.jsonl" > "$C/$l-$s.jsonl"; done
  for l in ${LANGS//,/ }; do cat "$C/$l-$s.jsonl"; done > "$C/all-$s.jsonl"
done

has() { $G show "$1:1.0.0" >/dev/null 2>&1; }
train() {  # train NAME LANG(S) TRAIN DEV EXTRA...
  local name=$1 langs=$2 tr=$3 dv=$4; shift 4
  has "$name" && return 0
  log "train $name"
  local start; start=$(date +%s)
  $G train --base whisper-base --lang "$langs" --manifest "$tr" --dev "$dv" "${RECIPE[@]}" "$@" \
     --name "$name" --version 1.0.0 > "$OUT/logs/$name.out" 2> "$OUT/logs/$name.log"
  record "$name" $(( $(date +%s) - start ))
}
compose() {  # compose NAME METHOD EXTRA...
  local name=$1 method=$2; shift 2
  has "$name" && return 0
  log "compose $name ($method)"
  local start; start=$(date +%s)
  $G compose --experts "$EXPERT_REFS" --method "$method" "$@" --name "$name" --version 1.0.0 --json \
     > "$OUT/logs/$name.json" 2> "$OUT/logs/$name.log"
  record "$name" $(( $(date +%s) - start ))
}

experts=(); refs=(); total_steps=0
for l in ${LANGS//,/ }; do
  n=$(wc -l < "$C/$l-train.jsonl")
  total_steps=$(( total_steps + EPOCHS * ((n + 3) / 4) ))
  train "$l-expert" "$l" "$C/$l-train.jsonl" "$C/$l-dev.jsonl" --epochs "$EPOCHS"
  experts+=(--expert "$l-expert:1.0.0"); refs+=("$l-expert:1.0.0")
done
EXPERT_REFS=$(IFS=,; echo "${refs[*]}")
train multi "$LANGS" "$C/all-train.jsonl" "$C/all-dev.jsonl" --steps "$total_steps"

n_all=$(wc -l < "$C/all-train.jsonl")
DISTILL_STEPS=${PAPER_DISTILL_STEPS:-$(( (n_all + 7) / 8 ))}
for m in cat linear ties dare; do compose "$m" "$m" --rank 16 --density 0.5 --seed 0; done
compose shared shared --rank 16
compose learned learned --manifest "$C/all-dev.jsonl" --steps "$LEARNED_STEPS" --granularity layer --seed 0
compose distill distill --rank 16 --manifest "$C/all-train.jsonl" --dev "$C/all-dev.jsonl" --steps "$DISTILL_STEPS" --seed 0

# One eval per (row, scenario); a finished report is kept.
evaluate() {  # evaluate ROW SCENARIO ARGS...
  local row=$1 scenario=$2; shift 2
  local dir="$OUT/reports/$row-$scenario"
  [[ -f "$dir/report.json" ]] && return 0
  log "eval $row ($scenario)"
  local mode=--language-aware; [[ $scenario == detected ]] && mode=--language-agnostic
  $G eval --model whisper-base "$@" $mode --beam 1 $EVAL_FLAGS --manifest "${EVAL_MANIFEST:-$C/all-test.jsonl}" --name "$row" --report "$dir.tmp" \
     > /dev/null 2> "$OUT/logs/eval-$row-$scenario.log"
  mv "$dir.tmp" "$dir"
}
for sc in given detected; do
  evaluate base "$sc"
  evaluate multi "$sc" --expert multi:1.0.0
  for m in cat linear ties dare learned distill; do evaluate "$m" "$sc" --expert "$m:1.0.0"; done
  evaluate shared "$sc" --expert shared:1.0.0
done
evaluate experts given "${experts[@]}" --route language
evaluate experts-hard detected "${experts[@]}" --route language
evaluate experts-soft detected "${experts[@]}" --route soft

# Adapter bytes from the manifests (raw tensor bytes, all languages' adapters of a row).
: > "$OUT/bytes.txt"
for a in multi cat linear ties dare learned distill shared "${refs[@]%%:*}"; do
  $G show "$a:1.0.0" --json | $PY -c '
import json, sys
m = json.load(sys.stdin)["manifest"]
size = {"F32": 4, "F16": 2, "BF16": 2}
pairs = list(m.get("tensors", {}).values()) + [p for r in m.get("routes", {}).values() for p in r["tensors"].values()]
n = sum(size[t["dtype"]] * eval("*".join(map(str, t["shape"])) or "1") for p in pairs for t in (p["a"], p["b"]))
print(sys.argv[1], n)' "$a" >> "$OUT/bytes.txt"
done
$PY scripts/paper_table.py "$OUT" "$LANGS" "${refs[@]%%:*}"

# Efficiency, the paper's headline: a customer who needs a subset of languages composes it
# from the prepared experts (seconds) instead of training a multilingual LoRA on it. Both are
# evaluated on the subset's test set, language given. PAPER_SUBSET (default: the first two
# languages); the experts' own training is the one-time preparation, reported beside.
SUB=${PAPER_SUBSET:-$(cut -d, -f1-2 <<< "$LANGS")}
sub_refs=(); sub_steps=0
for s in train dev test; do for l in ${SUB//,/ }; do cat "$C/$l-$s.jsonl"; done > "$C/sub-$s.jsonl"; done
for l in ${SUB//,/ }; do
  sub_refs+=("$l-expert:1.0.0")
  sub_steps=$(( sub_steps + EPOCHS * (($(wc -l < "$C/$l-train.jsonl") + 3) / 4) ))
done
train multi-sub "$SUB" "$C/sub-train.jsonl" "$C/sub-dev.jsonl" --steps "$sub_steps"
EXPERT_REFS=$(IFS=,; echo "${sub_refs[*]}")
compose sub-linear linear --rank 16
compose sub-ties ties --rank 16 --density 0.5 --seed 0
for row in multi-sub sub-linear sub-ties; do EVAL_MANIFEST="$C/sub-test.jsonl" evaluate "$row" given --expert "$row:1.0.0"; done
$PY - "$OUT" "$SUB" > "$OUT/efficiency.md" <<'PY'
import json, os, sys
out, sub = sys.argv[1], sys.argv[2].split(",")
secs = dict(l.split() for l in open(os.path.join(out, "seconds.txt")))
def wer(row):
    r = json.load(open(os.path.join(out, "reports", f"{row}-given", "report.json")))
    return 100 * r["overall"]["macro_error_rate"]
prep = sum(int(secs[f"{l}-expert"]) for l in sub)
print(f"Efficiency on {'+'.join(sub)} (test set of those languages, language given, greedy):\n")
print("| model | compute seconds for this customer | macro WER % |")
print("|---|---:|---:|")
print(f"| multilingual LoRA trained on {'+'.join(sub)} | {secs['multi-sub']} | {wer('multi-sub'):.1f} |")
for row, label in [("sub-linear", "composed from the experts: linear"), ("sub-ties", "composed from the experts: ties")]:
    print(f"| {label} | {secs[row]} | {wer(row):.1f} |")
print(f"\nThe experts themselves took {prep} s to train, once, for every customer.")
PY
cat "$OUT/efficiency.md"
record total $(( $(date +%s) - T0 ))
log "wrote $OUT/table.md, $OUT/table.json, $OUT/table.svg in $(( ($(date +%s) - T0) / 60 )) minutes (this run; earlier runs' work was reused)"
