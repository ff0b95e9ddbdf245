#!/usr/bin/env bash
# Installs everything Glossa's build, tests, demo and benchmarks need on Debian.
# Idempotent: re-running it is cheap once everything is present.
#   scripts/setup.sh          C libraries, espeak-ng, docker-registry, Python peers for tests
#   scripts/setup.sh --bench  also the heavier peers used only by bench/ and golden regeneration
set -euo pipefail

# Package.swift compiles the numeric targets for Haswell-class x86-64 (AVX2 + FMA).
if [ "$(uname -m)" = x86_64 ] && ! grep -qw avx2 /proc/cpuinfo; then
  echo "setup: this CPU has no AVX2; Glossa's x86-64 build targets Haswell-class CPUs (Intel 2013+, AMD 2015+)." >&2
  echo "setup: to build anyway, remove the '-target-cpu haswell' setting near the top of Package.swift." >&2
  exit 1
fi

APT_PACKAGES=(
  libopenblas-dev libsqlite3-dev libzstd-dev libsndfile1-dev libsoxr-dev  # linked C libraries
  libsodium-dev                                                          # BLAKE2b for minisign signatures
  espeak-ng sox                                                          # speech synthesis for corpora
  docker-registry skopeo apache2-utils                                   # OCI peers for remote tests (htpasswd)
  minisign                                                               # signature peer (bundle signing tests)
  zstd pkg-config
)
# Peers used by tests (golden checks, interop) and the model fetch.
PIP_PACKAGES=(safetensors jiwer oras numpy jsonschema)
# Peers used only by benchmarks and by scripts that regenerate golden values.
PIP_BENCH_PACKAGES=(faster-whisper ctranslate2 zipnn transformers torch peft)

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing Debian packages: ${missing[*]}" >&2
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi

PY=${PYTHON:-python3}
pip_install() {
  local need=()
  for p in "$@"; do $PY -m pip show -q "$p" >/dev/null 2>&1 || need+=("$p"); done
  if ((${#need[@]})); then
    echo "setup: installing Python packages: ${need[*]}" >&2
    $PY -m pip install -q "${need[@]}" >&2
  fi
}
pip_install "${PIP_PACKAGES[@]}"
if [[ "${1:-}" == "--bench" ]]; then pip_install "${PIP_BENCH_PACKAGES[@]}"; fi
echo "setup: ok" >&2
