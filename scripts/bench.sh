#!/usr/bin/env bash
# make bench [ARGS="..."]: run the benchmarks under bench/ and write bench/results/*.json.
# Benchmarks measure speed and memory against the targets in README.md; they are not tests.
set -euo pipefail
# shellcheck source=common.sh
source "$(dirname "$0")/common.sh"
bash "$ROOT/scripts/setup.sh"
mkdir -p "$ROOT/bench/results"
cd "$ROOT"
echo "shop_crm: bench/clv.py $*"
"$VENV/bin/python" bench/clv.py "$@"
