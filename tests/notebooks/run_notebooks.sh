#!/usr/bin/env bash
# The researchers' side end to end: simulate a small scenario, test the steward_report package
# on its outputs, and execute every notebook in notebooks/ headless, top to bottom.
# Usage: run_notebooks.sh STEWARD_SIM SOURCE_DIR PYTHON
set -euo pipefail
sim=$1
src=$2
python=$3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

"$sim" run "$src/tests/notebooks/small.textproto" --out "$work/run" --quiet > "$work/run.log"
export STEWARD_RUN_DIR="$work/run"
# perf_check.ipynb: the committed perf-gate fixture, not whatever build-release/perf holds.
export STEWARD_PERF_COMPARISON="$src/tests/perf/fixtures/comparison.json"
export PYTHONPATH="$src/notebooks"
export PYDEVD_DISABLE_FILE_VALIDATION=1
export MPLBACKEND=Agg
"$python" "$src/tests/notebooks/test_steward_report.py" -v 2>&1

for notebook in "$src"/notebooks/*.ipynb; do
  echo "executing $notebook"
  if ! "$python" -m nbconvert --to notebook --execute --output-dir "$work/executed" \
      --ExecutePreprocessor.timeout=300 "$notebook" > "$work/nbconvert.log" 2>&1; then
    cat "$work/nbconvert.log" >&2
    echo "FAILED: $notebook" >&2
    exit 1
  fi
done
echo "notebooks: all executed"
