# shellcheck shell=bash
# Shared paths for the Shop CRM scripts. Sourced, never executed; has no side effects.
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# Generated state (addons link, odoo.conf, filestore, logs) lives OUTSIDE the checkout: Odoo walks a module's
# folder following symlinks (e.g. to extract translatable terms), and a link back to the checkout inside
# it would loop forever.
WORK="${SHOP_CRM_WORK:-${HOME}/.cache/shop_crm/work/$(basename "$ROOT")-$(printf %s "$ROOT" | sha1sum | cut -c1-8)}"
VENV="$ROOT/.venv"
ODOO_CACHE_DIR="${HOME}/.cache/shop_crm/odoo-18.0"
ODOO_GIT_URL="https://github.com/odoo/odoo.git"
ODOO_CONF="$WORK/odoo.conf"

die() {
    echo "shop_crm: ERROR: $*" >&2
    exit 1
}

# Prints the Odoo 18.0 source folder in use, or nothing when none is in place yet.
find_odoo_src() {
    if [ -n "${ODOO_SRC:-}" ]; then
        echo "$ODOO_SRC"
    elif [ -f "$ODOO_CACHE_DIR/odoo-bin" ]; then
        echo "$ODOO_CACHE_DIR"
    fi
}
