#!/usr/bin/env bash
# The parser fuzz targets for longer than CI runs them (fuzz/run.sh, issue 11):
#   bench/fuzz/run.sh [SECONDS]       default 300 s per target (30 minutes for all six)
# Not a speed comparison: it reports executions, corpus growth and crashes per target.
# Run it on an otherwise idle machine; executions per second fall with the load.
set -euo pipefail
cd "$(dirname "$0")/../.."
echo "bench/fuzz: load $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) cores" >&2
FUZZ_SEED=${FUZZ_SEED:-0} exec fuzz/run.sh "${1:-300}"
