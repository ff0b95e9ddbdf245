#!/usr/bin/env bash
# Checks that transformers reads the Hugging Face folder Glossa writes for the real
# whisper-base as CTranslate2 reads the original (scripts/golden/hf_whisper_base_check.py).
# Not an XCTest because it needs torch: `make test` never installs it. Needs
# `scripts/setup.sh --bench`, the fetched model (make model) and espeak-ng.
#   scripts/golden/hf_whisper_base_check.sh [CT2_DIR]     default models/whisper-base-ct2
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/venv.sh
. scripts/cpu.sh     # GLOSSA_CPU: the same build as make's
MODEL=$(cd "${1:-models/whisper-base-ct2}" && pwd)
work=$(mktemp -d /tmp/glossa-hf-check.XXXXXX); trap 'rm -rf "$work"' EXIT
# The XCTest writes the folder (and checks the Swift round trip); GLOSSA_HF_EXPORT_DIR keeps it.
GLOSSA_HF_EXPORT_DIR="$work/hf" GLOSSA_TEST_MODEL_DIR="$MODEL" \
  swift test -c release -Xswiftc -enable-testing \
  --filter 'TensorIOTests.HuggingFaceWhisperTests/testRealWhisperBaseThroughHuggingFaceFolder' >&2
espeak-ng -v en -w "$work/speech.wav" "The quick brown fox jumps over the lazy dog."
"$PY" scripts/golden/hf_whisper_base_check.py "$work/hf" "$MODEL" "$work/speech.wav"
