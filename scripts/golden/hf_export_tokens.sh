#!/usr/bin/env bash
# Regenerates Tests/GlossaTests/Golden/hf_export_tokens.json: transformers' greedy tokens on the
# merged Hugging Face folder that HFExportGoldenTests writes (whisper-base + a seeded synthetic
# expert). Needs torch + transformers (scripts/setup.sh --bench, or PYTHON=a venv that has them)
# and the fetched model (make model).
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/venv.sh
. scripts/cpu.sh     # GLOSSA_CPU: the same build as make's
work=$(mktemp -d /tmp/glossa-hf-export.XXXXXX); trap 'rm -rf "$work"' EXIT
# With GLOSSA_HF_EXPORT_DIR the XCTest only writes the folder there (nothing to compare yet).
GLOSSA_HF_EXPORT_DIR="$work/hf" swift test ${SWIFT_TEST_FLAGS:--c release -Xswiftc -enable-testing} \
  --filter 'GlossaTests.HFExportGoldenTests/testHuggingFaceExportDecodesLikeTransformers' >&2
"$PY" scripts/golden/hf_export_tokens.py "$work/hf" Tests/GlossaTests/Golden/hf_export_tokens.json
echo "wrote Tests/GlossaTests/Golden/hf_export_tokens.json" >&2
