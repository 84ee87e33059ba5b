#!/usr/bin/env bash
# make bench [ARGS="..."]: run the benchmarks under bench/ and write bench/results/*.json.
# Benchmarks measure speed and memory against the targets in README.md; they are not tests.
#
#   make bench                                   both: bench/clv.py, then bench/analytics.py (1M / 10M)
#   make bench ARGS="--small"                    both; the options go to bench/analytics.py
#   make bench ARGS="analytics --small"          only the analytics benchmark (100k customers / 1M orders)
#   make bench ARGS="analytics --customers 200000 --orders 2000000 --rebuild"
#   make bench ARGS="clv --customers 100000"     only the CLV benchmark, with its own options
#   make bench ARGS=import                       the import benchmark (100k customers, 1M purchases vs base_import)
#   make bench ARGS=pos                          the POS sync benchmark, Shop CRM vs plain pos_loyalty
#   make bench ARGS="pos --orders 200 --customers 1000 --check"
#   make bench ARGS=kpi                          the KPI benchmark: compute() and the dashboard vs GROUP BY (1M / 10M)
#   make bench ARGS="kpi --small"                the same on 100k customers / 1M orders (its own database)
#   make bench ARGS=campaign                     a campaign of 200k recipients in a copy of the 1M-customer chain
#   make bench ARGS="campaign --recipients 50000 --fresh --check"
#
# A first word "clv" or "analytics" picks one benchmark and passes it the other options; without it
# bench/clv.py runs with its defaults and every option goes to bench/analytics.py (--small,
# --customers N, --orders M, --db NAME, --rebuild, --keep-db, --check; see its --help).
# bench/analytics.py builds its database (shop_crm_bench) on first use: a few minutes at full size.
# With --check, the exit status is 1 when a benchmark misses a target (both still run).
set -euo pipefail
# shellcheck source=common.sh
source "$(dirname "$0")/common.sh"
bash "$ROOT/scripts/setup.sh"
mkdir -p "$ROOT/bench/results"
cd "$ROOT"

which=all
case "${1:-}" in
clv | analytics | import | pos | kpi | campaign)
    which=$1
    shift
    ;;
esac

status=0
if [ "$which" = pos ]; then
    echo "shop_crm: bench/pos.py $*"
    "$VENV/bin/python" bench/pos.py "$@" || status=$?
elif [ "$which" = clv ]; then
    echo "shop_crm: bench/clv.py $*"
    "$VENV/bin/python" bench/clv.py "$@" || status=$?
elif [ "$which" = all ]; then
    check=()
    for arg in "$@"; do [ "$arg" = --check ] && check=(--check); done
    echo "shop_crm: bench/clv.py ${check[*]}"
    "$VENV/bin/python" bench/clv.py "${check[@]}" || status=$?
fi
if [ "$which" = kpi ]; then
    echo "shop_crm: bench/kpi.py $*"
    "$VENV/bin/python" bench/kpi.py "$@" || status=$?
fi
if [ "$which" = campaign ]; then
    echo "shop_crm: bench/campaign.py $*"
    "$VENV/bin/python" bench/campaign.py "$@" || status=$?
fi
if [ "$which" = import ]; then
    echo "shop_crm: bench/import.py $*"
    "$VENV/bin/python" bench/import.py "$@" || status=$?
fi
if [ "$which" = analytics ] || [ "$which" = all ]; then
    echo "shop_crm: bench/analytics.py $*"
    "$VENV/bin/python" bench/analytics.py "$@" || status=$?
fi
exit "$status"
