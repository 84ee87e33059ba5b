#!/usr/bin/env bash
# make lint: ruff (lint + format check) and pylint-odoo on the addon.
set -euo pipefail
# shellcheck source=common.sh
source "$(dirname "$0")/common.sh"
[ -x "$VENV/bin/ruff" ] || bash "$ROOT/scripts/setup.sh"
cd "$ROOT"
"$VENV/bin/ruff" check .
"$VENV/bin/ruff" format --check .
"$VENV/bin/pylint" --rcfile=.pylintrc --ignore=.venv,scripts,bench -- "$ROOT"
echo "shop_crm: lint clean"
