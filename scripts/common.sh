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

# Creates database $1 from a cached template that has Shop CRM's Odoo dependencies installed (built once
# per Odoo source and dependency list: installing them takes about a minute, the copy a few seconds).
# Needs setup.sh to have run ($WORK/db.env, $WORK/odoo_src). The copy gets its own filestore, uuid, secret.
create_db_from_base() {
    local db=$1 odoo_src deps key template
    odoo_src=$(cat "$WORK/odoo_src")
    deps=$("$VENV/bin/python" -c "import ast,sys; print(','.join(ast.literal_eval(open(sys.argv[1]).read())['depends']))" \
        "$ROOT/__manifest__.py")
    key=$({ echo "$odoo_src $deps"; cat "$odoo_src/odoo/release.py"
            for module in ${deps//,/ }; do stat -c '%n %Y' "$odoo_src/addons/$module/__manifest__.py" 2>/dev/null; done
          } | sha1sum | cut -c1-10)
    template="shop_crm_base_$key"
    # shellcheck source=/dev/null
    source "$WORK/db.env"
    if [ "$(psql -Atc "SELECT 1 FROM pg_database WHERE datname = '$template'")" != 1 ]; then
        echo "shop_crm: building the template database $template ($deps; once per Odoo source)"
        dropdb --if-exists --force "$template.partial" >/dev/null 2>&1 || true
        "$ROOT/scripts/odoo" -d "$template.partial" -i "$deps" --stop-after-init --log-level=warn \
            >"$WORK/template.log" 2>&1 || { tail -n 30 "$WORK/template.log" >&2; die "building $template failed"; }
        psql -qc "ALTER DATABASE \"$template.partial\" RENAME TO \"$template\"" || die "renaming $template failed"
        rm -rf "$WORK/data/filestore/$template"
        [ -d "$WORK/data/filestore/$template.partial" ] && mv "$WORK/data/filestore/$template.partial" "$WORK/data/filestore/$template"
    fi
    dropdb --if-exists --force "$db" 2>/dev/null || die "could not drop database $db"
    createdb -T "$template" "$db" || die "could not create database $db from $template"
    rm -rf "$WORK/data/filestore/$db"
    [ -d "$WORK/data/filestore/$template" ] && cp -a "$WORK/data/filestore/$template" "$WORK/data/filestore/$db"
    psql -d "$db" -qc "UPDATE ir_config_parameter SET value = gen_random_uuid()::text
                        WHERE key IN ('database.uuid', 'database.secret')" || die "could not reset $db's uuid"
}
