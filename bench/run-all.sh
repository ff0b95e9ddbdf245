#!/usr/bin/env bash
# Runs every benchmark once; each prints ratios against its peer measured in the same run.
# `make bench` calls this after installing the peers (scripts/setup.sh --bench).
set -uo pipefail
cd "$(dirname "$0")/.."
status=0
for b in codec/run.sh catalog/run.sh transcribe/run.sh transcribe/e2e.sh transcribe/batch.sh oci/run.sh train/run.sh compose/run.sh bundle/run.sh fuzz/run.sh; do
  echo "== bench/$b" >&2
  bash "bench/$b" || { echo "bench/$b failed" >&2; status=1; }
done
exit $status
