#!/usr/bin/env bash
# Catalog benchmark: publish/list/show latency with N experts (default 10000) in a fresh
# embedded registry under /tmp. Goal: list and show under 50 ms.
#   bench/catalog/run.sh [N]
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/cpu.sh     # GLOSSA_CPU: the same build as make's
N=${1:-10000}
DIR=$(mktemp -d /tmp/glossa-catalog-bench.XXXXXX)
trap 'rm -rf "$DIR"' EXIT
swift build -c release --product glossa-bench-catalog >&2
.build/release/glossa-bench-catalog "$DIR/registry" "$N"
