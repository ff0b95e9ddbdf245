#!/usr/bin/env bash
# Fuzz the parsers that read untrusted bytes, with libFuzzer and AddressSanitizer:
#   fuzz/run.sh [SECONDS] [TARGET...]      default: 15 s each, every target
# (`glossa-fuzz --list` names them: safetensors, ct2, manifest, blob, oci-manifest, audio.)
# `make test` runs it briefly; bench/fuzz/run.sh runs it for longer.
#
# Each target starts from fuzz/seeds/TARGET (checked in) plus, for audio, tiny WAV/FLAC
# files made here with sox (no audio is committed), in a scratch copy under
# .build/fuzz-work so the checked-in seeds never change. Prints executions, speed, corpus
# growth and crashes per target; a crash input is kept in .build/fuzz-work/crashes and
# replays with `.build/fuzz/debug/glossa-fuzz` (GLOSSA_FUZZ_TARGET=TARGET ... FILE).
# FUZZ_SEED (default 1) fixes libFuzzer's mutation seed, so a CI run repeats the same search
# and a red run is reproducible; 0 picks a random seed (bench/fuzz/run.sh does).
# Exit status: 0 when no target crashed, 1 when one did, 2 on a build or usage error.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/cpu.sh     # GLOSSA_CPU: the same flags as make's build
SECONDS_EACH=${1:-15}
shift || true
TARGETS=("$@")
[[ $SECONDS_EACH =~ ^[0-9]+$ && $SECONDS_EACH -gt 0 ]] || { echo "fuzz/run.sh: SECONDS must be a positive integer, got '$SECONDS_EACH'" >&2; exit 2; }
((${#TARGETS[@]})) || TARGETS=(safetensors ct2 manifest blob oci-manifest audio)

SCRATCH=.build/fuzz
WORK=.build/fuzz-work
echo "fuzz: building glossa-fuzz with -sanitize=fuzzer,address in $SCRATCH" >&2
swift build --product glossa-fuzz --scratch-path "$SCRATCH" \
  -Xswiftc -sanitize=fuzzer,address -Xswiftc -DFUZZING >&2 || exit 2
BIN=$SCRATCH/debug/glossa-fuzz

rm -rf "$WORK"; mkdir -p "$WORK/crashes" "$WORK/logs"
audio_seeds() {  # tiny generated files of the formats users feed transcribe
  local d=$1
  command -v sox > /dev/null || { echo "fuzz/run.sh: sox is missing (scripts/setup.sh installs it)" >&2; exit 2; }
  sox -n -r 16000 -c 1 -b 16 "$d/mono16k.wav" synth 0.02 sine 440
  sox -n -r 8000 -c 2 -b 8 "$d/stereo8k-u8.wav" synth 0.02 sine 300
  sox -n -r 44100 -c 1 -b 16 "$d/tone.flac" synth 0.02 sine 1000
  sox -n -r 22050 -c 1 -e floating-point -b 32 "$d/float.wav" synth 0.02 sine 500
  sox -n -r 16000 -c 1 -b 24 "$d/s24.aiff" synth 0.02 sine 200
}

printf '%-13s %10s %9s %8s %8s\n' target executions exec/s corpus crashes
failed=0
for t in "${TARGETS[@]}"; do
  corpus=$WORK/corpus/$t; mkdir -p "$corpus"
  if [[ $t == audio ]]; then audio_seeds "$corpus"; fi
  if [[ -d fuzz/seeds/$t ]]; then cp fuzz/seeds/"$t"/* "$corpus"/
  else echo "fuzz/run.sh: unknown target '$t' (no fuzz/seeds/$t)" >&2; exit 2
  fi
  seeds=$(ls "$corpus" | wc -l)
  log=$WORK/logs/$t.log
  # -rss_limit_mb: a refused decompression bomb must be refused before it allocates;
  # -timeout: one input taking 10 s is a hang. Both count as crashes.
  status=0
  GLOSSA_FUZZ_TARGET=$t "$BIN" -seed="${FUZZ_SEED:-1}" -max_total_time="$SECONDS_EACH" -rss_limit_mb=2048 -timeout=10 \
    -print_final_stats=1 -artifact_prefix="$WORK/crashes/$t-" "$corpus" > "$log" 2>&1 || status=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  crashes=$(ls "$WORK/crashes" | grep -c "^$t-" || true)
  printf '%-13s %10s %9s %8s %8s\n' "$t" "${execs:-?}" "${speed:-?}" "$seeds->$(ls "$corpus" | wc -l)" "$crashes"
  if ((status != 0 || crashes > 0)); then
    failed=1
    echo "fuzz: $t failed (exit $status); log: $log" >&2
    grep -E "ERROR|SUMMARY|Fatal error|==[0-9]+==" "$log" | head -20 >&2 || tail -20 "$log" >&2
  fi
done
exit "$failed"
