#!/usr/bin/env bash
# End to end, whole files: `glossa transcribe` vs faster-whisper (compute_type=float32,
# cpu_threads=2), same espeak clips, language given, greedy and beam 5. Each run is a fresh
# process (model load included, as a user would see it); wall time and peak RSS via /usr/bin/time.
#   bench/transcribe/e2e.sh [model-dir]      (needs a release build of glossa)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
MODEL=${1:-$ROOT/models/whisper-base-ct2}
OUT=$ROOT/bench/out/e2e; mkdir -p "$OUT"
. "$ROOT/scripts/venv.sh"
. "$ROOT/scripts/cpu.sh"   # GLOSSA_CPU: the same build as make's
GLOSSA=${GLOSSA:-$(cd "$ROOT" && swift build -c release --show-bin-path)/glossa}
declare -A TEXT=(
  [de]="Der Zug nach Hamburg fährt heute eine Stunde später ab."
  [fr]="Le boulanger ouvre sa boutique avant le lever du soleil."
  [es]="El mercado del pueblo abre muy temprano los sábados."
  [en]="The old lighthouse keeper counted the ships every evening."
)
for l in "${!TEXT[@]}"; do
  espeak-ng -v "$l" -w "$OUT/raw.wav" "${TEXT[$l]}" && sox "$OUT/raw.wav" -r 16000 -c 1 -b 16 "$OUT/$l.wav"
done
rm -f "$OUT/raw.wav"
for beam in 1 5; do
  for l in "${!TEXT[@]}"; do
    g=$( { /usr/bin/time -f "%e %M" "$GLOSSA" transcribe --model "$MODEL" --language "$l" --beam $beam --threads 2 "$OUT/$l.wav" >"$OUT/g_$l.txt"; } 2>&1 | tail -1)
    f=$( { /usr/bin/time -f "%e %M" "$PY" - "$MODEL" "$OUT/$l.wav" "$l" $beam >"$OUT/f_$l.txt" <<'PY'
import sys
from faster_whisper import WhisperModel
m = WhisperModel(sys.argv[1], device="cpu", compute_type="float32", cpu_threads=2)
segs, info = m.transcribe(sys.argv[2], language=sys.argv[3], beam_size=int(sys.argv[4]), without_timestamps=True, vad_filter=False)
print(" ".join(s.text.strip() for s in segs))
PY
    } 2>&1 | tail -1)
    set -- $g; gw=$1; gr=$2; set -- $f; fw=$1; fr=$2
    echo "beam $beam $l: glossa ${gw}s ${gr}KB | faster-whisper ${fw}s ${fr}KB | ratio $("$PY" -c "print(round($gw/$fw,2))")"
    echo "   glossa: $(cat "$OUT/g_$l.txt" | head -1)"; echo "   fw:     $(cat "$OUT/f_$l.txt")"
  done
done
