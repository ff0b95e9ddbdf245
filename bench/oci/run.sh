#!/usr/bin/env bash
# Runs bench/oci once: starts a loopback docker-registry, builds the bench in release,
# pushes/pulls with Glossa and with oras-py, prints the table, stops the registry.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
. "$root/scripts/cpu.sh"   # GLOSSA_CPU: the same build as make's
work=${1:-$(mktemp -d /tmp/glossa-bench-oci.XXXXXX)}
reg_dir="$work/registry"
mkdir -p "$reg_dir"
trap '"$root/scripts/oci-test-registry.sh" stop "$reg_dir"' EXIT
addr=$("$root/scripts/oci-test-registry.sh" start "$reg_dir")
(cd "$root" && swift build -c release --product glossa-bench-oci >&2)
"$root/.build/release/glossa-bench-oci" "$addr" "$work/files" "$reg_dir/registry.log"
rm -rf "$work/files"
