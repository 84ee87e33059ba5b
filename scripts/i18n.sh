#!/usr/bin/env bash
# Regenerate i18n/shop_crm.pot from an up-to-date database and merge it into the .po files
# (new strings arrive untranslated; the translation test then fails until they are translated).
#   scripts/i18n.sh [DB]     (default: a throwaway database)
set -euo pipefail
# shellcheck source=common.sh
source "$(dirname "$0")/common.sh"
bash "$ROOT/scripts/setup.sh"
# shellcheck source=/dev/null
source "$WORK/db.env"
DB=${1:-shop_crm_i18n_$$}
if [ -z "${1:-}" ]; then
    "$ROOT/scripts/odoo" -d "$DB" -i shop_crm --stop-after-init --log-level=warn
else
    "$ROOT/scripts/odoo" -d "$DB" -u shop_crm --stop-after-init --log-level=warn
fi
# Export from a copy of the addon's own files: Odoo scans every file under the module folder, .venv included.
copy=$(mktemp -d)
trap 'rm -rf "$copy"; [ -z "${1:-}" ] && dropdb --if-exists --force "$DB" >/dev/null 2>&1 || true' EXIT
mkdir "$copy/shop_crm"
(cd "$ROOT" && git ls-files -co --exclude-standard -z | xargs -0 cp --parents -t "$copy/shop_crm")
odoo_src=$(cat "$WORK/odoo_src")
"$ROOT/scripts/odoo" -d "$DB" --addons-path="$odoo_src/addons,$odoo_src/odoo/addons,$copy" \
    --i18n-export="$ROOT/i18n/shop_crm.pot" --modules=shop_crm --stop-after-init --log-level=warn
"$VENV/bin/python" - "$ROOT/i18n" <<'PY'
import sys
from pathlib import Path

import polib

folder = Path(sys.argv[1])
template = polib.pofile(str(folder / "shop_crm.pot"))
for lang in ("zh_CN", "zh_TW"):
    path = folder / f"{lang}.po"
    catalogue = polib.pofile(str(path)) if path.exists() else polib.POFile()
    catalogue.merge(template)
    for entry in [entry for entry in catalogue if entry.obsolete]:
        catalogue.remove(entry)
    catalogue.metadata.update({"Language": lang, "Content-Type": "text/plain; charset=UTF-8",
                               "Content-Transfer-Encoding": "8bit", "Project-Id-Version": "Odoo Server 18.0", "MIME-Version": "1.0"})
    catalogue.save(str(path))
    missing = [e.msgid for e in catalogue if not e.translated() and not e.obsolete]
    print(f"{lang}.po: {len(missing)} untranslated")
PY
