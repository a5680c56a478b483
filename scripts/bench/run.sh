#!/usr/bin/env bash
# Benchmark harness for dlgeom-cert: builds in release, then runs scripts/bench/run.py, which
# generates the data, times every mode and the Python references in one run, and writes
# BENCHMARKS.md at the repository root. Needs python3 with numpy and python-flint for the
# references (`pip install numpy python-flint`), /usr/bin/time, and optionally perf.
#
#   bash scripts/bench/run.sh                       # full grid Q ∈ {2,4,8}, N ∈ {10³,10⁴,10⁵}
#   QS="2" NS="1000" PERF=0 OUT=/tmp/B.md bash scripts/bench/run.sh   # quick try
#
# Timeouts (seconds): T_EVAL (eval, global, references; 300), T_MODE (families and the
# grid's CLI verify/check; 60), T_VERIFY (headline verify Q=8, N=10⁵; 120).
set -euo pipefail
cd "$(dirname "$0")/../.."
cargo build --release --bins
python3 -c 'import numpy, flint' || {
  echo "run.sh: the references need numpy and python-flint: pip install numpy python-flint" >&2
  exit 2
}
exec python3 scripts/bench/run.py
