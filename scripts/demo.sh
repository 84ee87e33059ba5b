#!/usr/bin/env bash
# make demo / make demo-db: (re)create the database shop_crm_demo with Shop CRM and the demo flower shop,
# run every scheduled computation once, print the login and a summary; then serve Odoo on
# http://127.0.0.1:8069 until Ctrl-C (unless --no-serve). DEMO_LANG=zh_CN also loads that language
# (adds ~15 s); staff users and customers then use it.
set -euo pipefail
# shellcheck source=common.sh
source "$(dirname "$0")/common.sh"
serve=1
[ "${1:-}" = "--no-serve" ] && serve=0
DB=${SHOP_CRM_DEMO_DB:-shop_crm_demo}
PORT=${SHOP_CRM_PORT:-8069}
bash "$ROOT/scripts/setup.sh"
started=$(date +%s)
log="$WORK/demo.log"
echo "shop_crm: (re)creating database $DB"
create_db_from_base "$DB"
echo "shop_crm: installing shop_crm into $DB (log: $log)"
lang_opt=()
[ -n "${DEMO_LANG:-}" ] && lang_opt=(--load-language="$DEMO_LANG")
"$ROOT/scripts/odoo" -d "$DB" -i shop_crm "${lang_opt[@]}" --stop-after-init --log-level=warn >"$log" 2>&1 \
    || { tail -n 40 "$log"; die "installing shop_crm failed"; }
echo "shop_crm: generating the demo flower shop and running the scheduled computations"
"$ROOT/scripts/odoo" shell -d "$DB" --no-http --log-level=warn <"$ROOT/scripts/demo_generate.py" >"$WORK/demo_generate.out" 2>>"$log" \
    || { tail -n 40 "$log"; die "generating the demo shop failed"; }
grep -q "SHOP_CRM_SUMMARY seconds" "$WORK/demo_generate.out" || { tail -n 40 "$log"; die "generating the demo shop failed"; }
cat <<MSG

  Shop CRM demo is ready ($(( $(date +%s) - started )) s) — database: $DB
  URL:      http://127.0.0.1:$PORT/odoo/action-shop_crm.res_partner_action_shop_customers
  Log in:   admin / admin           (administrator, Shop CRM manager)
            shop.manager / shop.manager   (shop manager)   shop.staff1 / shop.staff1   (staff)

  Summary:
MSG
sed -n 's/^SHOP_CRM_SUMMARY /    /p' "$WORK/demo_generate.out"
echo
if [ "$serve" = 1 ]; then
    echo "shop_crm: serving Odoo on http://127.0.0.1:$PORT (Ctrl-C to stop)"
    exec "$ROOT/scripts/odoo" -d "$DB" --db-filter="^$DB\$" --http-port="$PORT" --log-level=warn
fi
