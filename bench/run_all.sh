#!/bin/sh
# The scaling table of issue 16 (docs/benchmarks.md): every figure on SQLite, and on PostgreSQL where the
# machine has it (PG_URL, default the local one). About 50 minutes on a quiet 2-core machine.
set -eu
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
PG_URL=${PG_URL:-postgresql+psycopg://postgres@127.0.0.1:5432/test}
uptime
$PY bench/scale_bench.py --deals 48000
$PY bench/scale_bench.py --deals 300000
$PY bench/scale_bench.py --deals 1000000
$PY bench/scale_bench.py --people 20000 --deals 300000
$PY bench/scale_bench.py --deals 48000 --database-url "$PG_URL"
$PY bench/app_bench.py --deals 300 --import-rows 20000
$PY bench/app_bench.py --deals 300 --import-rows 20000 --database-url "$PG_URL"
if [ -f bench/calc_bench.py ]; then $PY bench/calc_bench.py; fi
uptime
