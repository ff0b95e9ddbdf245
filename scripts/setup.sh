#!/usr/bin/env bash
# Installs everything Glossa's build, tests, demo and benchmarks need on Debian.
# Idempotent: re-running it is cheap once everything is present.
#   scripts/setup.sh          C libraries, espeak-ng, docker-registry, Python peers for tests
#   scripts/setup.sh --bench  also the heavier peers used only by bench/ and golden regeneration
# Python peers live in the project virtual environment .venv (git-ignored), pinned by
# scripts/requirements*.txt; scripts, benchmarks and tests run .venv/bin/python (or $PYTHON),
# never the system python3, which on Debian 12 has no pip and refuses installs (PEP 668).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)

# The numeric targets are built for Haswell-class x86-64 (AVX2 + FMA) when the CPU has it
# (scripts/cpu.sh); say so when it does not, since training and transcription run slower.
. "$ROOT/scripts/cpu.sh"
if [ "$(uname -m)" = x86_64 ] && [ -z "$GLOSSA_CPU" ]; then
  echo "setup: this CPU has no AVX2/FMA (or GLOSSA_CPU is set empty): building for baseline x86-64;" \
       "element-wise loops run about 35% slower than on a Haswell-class CPU" >&2
fi

APT_PACKAGES=(
  libopenblas-dev libsqlite3-dev libzstd-dev libsndfile1-dev libsoxr-dev  # linked C libraries
  libxxhash-dev                                                          # XXH3, the blob frames' body check
  libsodium-dev                                                          # BLAKE2b for minisign signatures
  espeak-ng sox                                                          # speech synthesis for corpora
  docker-registry skopeo apache2-utils                                   # OCI peers for remote tests (htpasswd)
  minisign                                                               # signature peer (bundle signing tests)
  zstd pkg-config
  python3 python3-venv python3-pip                                       # the .venv below
)

. "$(dirname "$0")/apt-install.sh"
apt_install setup "${APT_PACKAGES[@]}"

# The project virtual environment. Made from Debian's python3 (whose venv module comes from
# python3-venv above); remade when it is missing, half made (no pip) or broken, e.g. after
# that python3 was upgraded.
VENV="$ROOT/.venv"
BASE_PY=/usr/bin/python3; [ -x "$BASE_PY" ] || BASE_PY=python3
if ! "$VENV/bin/python" -c 'import sys, pip; sys.exit(sys.prefix == sys.base_prefix)' 2>/dev/null; then
  echo "setup: creating the Python virtual environment $VENV" >&2
  rm -rf "$VENV"
  "$BASE_PY" -m venv "$VENV"
fi

# Installs the pinned requirements file $1 into the venv unless the same file (by digest)
# was installed before; the stamp is written only after pip succeeded, so a failed or
# interrupted install is retried on the next run.
venv_install() {
  local req="$ROOT/scripts/$1" stamp="$VENV/.glossa-$1.sha256"
  if [[ -f "$stamp" ]] && [[ "$(sha256sum < "$req")" == "$(cat "$stamp")" ]]; then return; fi
  echo "setup: installing Python peers from scripts/$1 into .venv" >&2
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check -r "$req" >&2
  sha256sum < "$req" > "$stamp"
}
venv_install requirements.txt
if [[ "${1:-}" == "--bench" ]]; then venv_install requirements-bench.txt; fi
echo "setup: ok" >&2
