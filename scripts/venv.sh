# Sourced by scripts/ and bench/: sets PY to the project venv's Python (or $PYTHON), the only
# Python they run, so no peer comes from the system python3 (Debian 12's has no pip and
# refuses installs, PEP 668). scripts/setup.sh creates .venv from scripts/requirements.txt;
# scripts/setup.sh --bench adds the benchmark peers (scripts/requirements-bench.txt).
PY=${PYTHON:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/.venv/bin/python}
if ! [[ -x "$PY" ]]; then
  echo "$(basename "$0"): no Python at $PY; run scripts/setup.sh (it creates .venv)" >&2
  exit 1
fi
