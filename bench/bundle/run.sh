#!/usr/bin/env bash
# Bundles (issue 10), measured in one run on the same inputs, REPEATS times each (min, median):
#   bench/bundle/run.sh [REPEATS]          default 3
# 1. export of whisper-base (f16) plus 4 experts routed by language: an OCI layout folder and
#    a .tar, seconds and MB/s of output;
# 2. the .tar export against `skopeo copy oci:FOLDER oci-archive:FILE` of the same layout
#    (Glossa's time includes reading the registry and decoding blobs; skopeo only copies);
# 3. load: `glossa transcribe` of one 1 s clip from the bundle .tar, the bundle folder and the
#    registry (base + the same 4 experts), whole process each, so model loading dominates and
#    the decoding work is identical. Goal: the bundle no slower than the registry.
# The experts are random PEFT adapters with whisper-base shapes (bench/compose/make_adapters.py).
# Needs: make build model (skopeo, espeak-ng and the venv come with scripts/setup.sh).
set -euo pipefail
cd "$(dirname "$0")/../.."
REPEATS=${1:-3}
. scripts/venv.sh
G=$PWD/.build/release/glossa
W=$(mktemp -d /tmp/glossa-bench-bundle.XXXX)
trap 'rm -rf "$W"' EXIT
echo "load: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores (quiet machine: below 0.5); $REPEATS repeats" >&2
export GLOSSA_REGISTRY="$W/registry"
$G base import models/whisper-base-ct2 --name whisper-base --version 1.0.0 > /dev/null
$PY bench/compose/make_adapters.py "$W/adapters" 4 models/whisper-base-ct2/config.json
langs=(de fr nl pl); experts=()
for i in 0 1 2 3; do
  $G expert import-peft "$W/adapters/expert$i" --lang "${langs[$i]}" --name "e$i" --version 1.0.0 --license MIT > /dev/null
  experts+=(--expert "e$i:1.0.0")
done
espeak-ng -v de -w "$W/clip22k.wav" "Guten Morgen"
sox "$W/clip22k.wav" -r 16000 "$W/clip.wav"

: > "$W/times.txt"
timed() {  # timed LABEL COMMAND...: appends "LABEL start end" (seconds)
  local label=$1; shift
  local s=$EPOCHREALTIME
  "$@" > /dev/null 2>&1 || { echo "bench/bundle: '$label' failed: $*" >&2; "$@" >&2; exit 1; }
  echo "$label $s $EPOCHREALTIME" >> "$W/times.txt"
}
for r in $(seq 1 "$REPEATS"); do
  rm -rf "$W/b" "$W/b.tar" "$W/s.tar"
  timed export-folder $G export "${experts[@]}" --route language --out "$W/b"
  timed export-tar $G export "${experts[@]}" --route language --out "$W/b.tar"
  timed skopeo-copy skopeo copy -q "oci:$W/b" "oci-archive:$W/s.tar"
  for src in tar folder registry; do
    case $src in
      tar) model=(--model "$W/b.tar") ;;
      folder) model=(--model "$W/b") ;;
      registry) model=(--model whisper-base:1.0.0 "${experts[@]}" --route language) ;;
    esac
    timed "load-$src" $G transcribe "${model[@]}" --language de --beam 1 --no-fallback "$W/clip.wav"
  done
done
bytes=$(stat -c %s "$W/b.tar")
$PY - "$W/times.txt" "$bytes" <<'PY'
import statistics, sys
t = {}
for line in open(sys.argv[1]):
    k, a, b = line.split(); t.setdefault(k, []).append(float(b) - float(a))
mb = int(sys.argv[2]) / 1e6
row = lambda k: f"{min(t[k]):8.2f} {statistics.median(t[k]):8.2f}"
print(f"bundle of whisper-base (f16) + 4 experts: {mb:.1f} MB; seconds, min and median of {len(t['export-tar'])} runs")
print(f"{'what':<34}{'min':>8} {'median':>8}")
for k, name in [("export-folder", "export to an OCI layout folder"), ("export-tar", "export to a .tar"),
                ("skopeo-copy", "skopeo copy folder -> oci-archive")]:
    print(f"{name:<34}{row(k)}   {mb / min(t[k]):7.1f} MB/s")
print(f"{'ratio .tar export / skopeo copy':<34}{min(t['export-tar']) / min(t['skopeo-copy']):8.2f} "
      f"{statistics.median(t['export-tar']) / statistics.median(t['skopeo-copy']):8.2f}")
for k, name in [("load-tar", "transcribe 1 s from the .tar"), ("load-folder", "transcribe 1 s from the folder"),
                ("load-registry", "transcribe 1 s from the registry")]:
    print(f"{name:<34}{row(k)}")
for k in ["load-tar", "load-folder"]:
    print(f"{'ratio ' + k[5:] + ' / registry (goal <= 1)':<34}{min(t[k]) / min(t['load-registry']):8.2f} "
          f"{statistics.median(t[k]) / statistics.median(t['load-registry']):8.2f}")
PY
