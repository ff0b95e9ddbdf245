# Sourced by the Makefile (through `bash -c`), scripts/ and bench/: exports GLOSSA_CPU, the
# `-target-cpu` Package.swift compiles the numeric targets for (see the comment there), so
# glossa's own builds get AVX2 + FMA loops while the package stays dependable by others.
# An explicit GLOSSA_CPU (even empty: the baseline CPU) is kept; otherwise x86-64 CPUs with
# AVX2 and FMA get `haswell` and the rest the baseline.
# Every build of one .build folder must see the same value, or SwiftPM recompiles the
# numeric targets for the other CPU.
if [[ -z "${GLOSSA_CPU+set}" ]]; then
  GLOSSA_CPU=
  if [[ "$(uname -m)" == x86_64 ]] && grep -qw avx2 /proc/cpuinfo && grep -qw fma /proc/cpuinfo; then
    GLOSSA_CPU=haswell
  fi
fi
export GLOSSA_CPU
