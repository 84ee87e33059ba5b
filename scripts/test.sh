#!/usr/bin/env bash
# make test: create a throwaway database, install shop_crm with --test-enable, run all its tests (Python and
# browser tours), drop the database, and end with exactly one line "shop_crm: N passed, M failed".
# Exit status is non-zero on any failed or erroring test, on any ERROR logged by Odoo (e.g. during the
# install), when no test ran, or when Odoo/PostgreSQL cannot be set up.
set -uo pipefail
# shellcheck source=common.sh
source "$(dirname "$0")/common.sh"
TAGS=${SHOP_CRM_TEST_TAGS:-/shop_crm}

summary() {
    echo "shop_crm: $1 passed, $2 failed"
}

if ! bash "$ROOT/scripts/setup.sh"; then
    echo "shop_crm: cannot run the tests: Odoo or PostgreSQL could not be set up (see the message above)." >&2
    summary 0 1
    exit 1
fi
# shellcheck source=/dev/null
source "$WORK/db.env"
DB="shop_crm_test_$$"
log="$WORK/test.log"
port=$("$VENV/bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cleanup() {
    dropdb --if-exists --force "$DB" >/dev/null 2>&1 || true
    rm -rf "$WORK/data/filestore/$DB"
}
trap cleanup EXIT
cleanup
if ! (create_db_from_base "$DB"); then
    echo "shop_crm: cannot run the tests: the test database could not be created (see above)." >&2
    summary 0 1
    exit 1
fi
echo "shop_crm: installing shop_crm with tests into $DB (log: $log)"
started=$(date +%s)
"$ROOT/scripts/odoo" -d "$DB" -i shop_crm --test-enable --test-tags "$TAGS" --stop-after-init \
    --http-port="$port" --log-level=test --workers=0 --max-cron-threads=0 >"$log" 2>&1
rc=$?
elapsed=$(( $(date +%s) - started ))

# Odoo's own report: "F failed, E error(s) of N tests when loading database 'DB'"
report=$(grep -E "[0-9]+ failed, [0-9]+ error\(s\) of [0-9]+ tests when loading database" "$log" | tail -n 1)
if [[ $report =~ ([0-9]+)\ failed,\ ([0-9]+)\ error\(s\)\ of\ ([0-9]+)\ tests ]]; then
    failures=${BASH_REMATCH[1]}
    errors=${BASH_REMATCH[2]}
    ran=${BASH_REMATCH[3]}
else
    failures=0 errors=0 ran=0
fi
# ERROR lines that are not a test's own failure report (install errors, tracebacks outside tests...).
other_errors=$(grep -E "^[0-9-]+ [0-9:,]+ [0-9]+ (ERROR|CRITICAL) " "$log" \
    | grep -vE " (ERROR|CRITICAL) [^ ]+ (odoo\.addons\.shop_crm\.tests\.|odoo\.tests\.result: )" -c)
failed=$(( failures + errors + other_errors ))
passed=$(( ran - failures - errors ))
(( passed < 0 )) && passed=0

if (( failed > 0 )); then
    echo "---- failures and errors (full log: $log) ----"
    grep -E "^[0-9-]+ [0-9:,]+ [0-9]+ (ERROR|CRITICAL) " "$log" | cut -c1-400 | head -n 40
    grep -nE "^(FAIL|ERROR): " "$log" | head -n 40
fi
if (( ran == 0 )); then
    echo "shop_crm: no test ran (Odoo exit status $rc); see $log" >&2
    tail -n 20 "$log" >&2
    failed=$(( failed > 0 ? failed : 1 ))
fi
if (( rc != 0 && failed == 0 )); then
    echo "shop_crm: Odoo exited with status $rc; see $log" >&2
    tail -n 20 "$log" >&2
    failed=1
fi
echo "shop_crm: tests ran in ${elapsed}s"
summary "$passed" "$failed"
(( failed == 0 ))
