#!/usr/bin/env bash
# Prepares everything Shop CRM needs to run and be tested on this machine. Idempotent: a second run
# only checks and (re)starts what is not running.
#   1. system packages (PostgreSQL, Chromium, build headers) with apt, through sudo when not root;
#   2. the Odoo 18.0 source: $ODOO_SRC, else ~/.cache/shop_crm/odoo-18.0, else a shallow git clone;
#   3. .venv with Odoo's requirements, ours, and the test/lint tools;
#   4. a running PostgreSQL cluster and a database role for the current user;
#   5. $WORK/addons/shop_crm -> this checkout, and $WORK/odoo.conf for scripts/odoo ($WORK: see common.sh).
set -euo pipefail
# shellcheck source=common.sh
source "$(dirname "$0")/common.sh"
mkdir -p "$WORK"
# Connection settings of a previous run (db.env) must not leak into the role and cluster checks below.
unset PGUSER PGHOST PGPORT PGDATABASE

as_root() {
    if [ "$(id -u)" = 0 ]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo "$@"
    else
        die "need root to run '$*' (no sudo found). Install it by hand, then run this again."
    fi
}

# ---- 1. system packages -------------------------------------------------------------------------
APT_PACKAGES=(postgresql postgresql-client chromium libpq-dev libldap2-dev libsasl2-dev libxml2-dev
    libxslt1-dev libjpeg-dev zlib1g-dev libffi-dev python3-venv python3-dev build-essential git
    fonts-noto-cjk wkhtmltopdf poppler-utils)
missing=()
for pkg in "${APT_PACKAGES[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$pkg")
    fi
done
if [ ${#missing[@]} -gt 0 ]; then
    command -v apt-get >/dev/null 2>&1 || die "missing system packages: ${missing[*]} (and no apt-get to install them)"
    echo "shop_crm: installing system packages: ${missing[*]}"
    as_root apt-get update -qq || die "apt-get update failed; install by hand: ${missing[*]}"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null \
        || die "apt-get install failed for: ${missing[*]}"
fi

# ---- 2. the Odoo 18.0 source --------------------------------------------------------------------
odoo_src=$(find_odoo_src)
if [ -z "$odoo_src" ]; then
    echo "shop_crm: no Odoo source found; cloning Odoo 18.0 into $ODOO_CACHE_DIR"
    mkdir -p "$(dirname "$ODOO_CACHE_DIR")"
    rm -rf "$ODOO_CACHE_DIR.partial"
    if GIT_TERMINAL_PROMPT=0 timeout 1800 git clone -q --depth 1 -b 18.0 "$ODOO_GIT_URL" "$ODOO_CACHE_DIR.partial"; then
        mv "$ODOO_CACHE_DIR.partial" "$ODOO_CACHE_DIR"
        odoo_src=$ODOO_CACHE_DIR
    else
        rm -rf "$ODOO_CACHE_DIR.partial"
        die "could not get the Odoo 18.0 source (git clone of $ODOO_GIT_URL failed).
  Put an Odoo 18.0 Community source tree on this machine and either
    export ODOO_SRC=/path/to/odoo-18.0      (the folder that holds odoo-bin)
  or place it at $ODOO_CACHE_DIR, then run the command again."
    fi
fi
[ -f "$odoo_src/odoo-bin" ] || die "ODOO_SRC=$odoo_src does not hold odoo-bin; point it at an Odoo 18.0 source tree"
grep -q "version_info = (18, 0" "$odoo_src/odoo/release.py" \
    || die "$odoo_src is not Odoo 18.0 (see odoo/release.py); point ODOO_SRC at an Odoo 18.0 source tree"

# ---- 3. the virtualenv ----------------------------------------------------------------------------
stamp="$VENV/.shop_crm_requirements"
want=$(cat "$odoo_src/requirements.txt" "$ROOT"/requirements*.txt | sha1sum | cut -c1-40)
if [ ! -x "$VENV/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    echo "shop_crm: preparing $VENV (Odoo requirements + ours; takes a few minutes the first time)"
    [ -x "$VENV/bin/python" ] || python3 -m venv "$VENV" || die "python3 -m venv failed"
    constraint="$WORK/pip-constraint.txt"
    # Old sdists among Odoo's pins still import pkg_resources while building.
    echo "setuptools<70" >"$constraint"
    export PIP_CONSTRAINT="$constraint" PIP_DISABLE_PIP_VERSION_CHECK=1
    "$VENV/bin/pip" install -q "setuptools<70" wheel || die "pip could not install setuptools"
    "$VENV/bin/pip" install -q -r "$odoo_src/requirements.txt" || die "pip could not install Odoo's requirements"
    # Odoo's pins are constraints for ours: nothing of ours may move a package Odoo needs.
    "$VENV/bin/pip" install -q -c "$odoo_src/requirements.txt" -r "$ROOT/requirements.txt" -r "$ROOT/requirements-dev.txt" \
        || die "pip could not install requirements.txt / requirements-dev.txt"
    "$VENV/bin/pip" install -q --no-deps -r "$ROOT/requirements-nodeps.txt" \
        || die "pip could not install requirements-nodeps.txt"
    echo "$want" >"$stamp"
fi

# ---- 4. PostgreSQL ----------------------------------------------------------------------------
db_user=$(id -un)
if [ "$(id -u)" = 0 ] || sudo -n true 2>/dev/null; then
    # The distribution's cluster, run by the postgres system user; a superuser role for us.
    as_postgres() { if [ "$(id -u)" = 0 ]; then su postgres -s /bin/sh -c "$*"; else sudo -u postgres sh -c "$*"; fi; }
    cluster=$(pg_lsclusters -h 2>/dev/null | awk 'NR==1 {print $1" "$2}')
    if [ -z "$cluster" ]; then
        ver=$(ls /usr/lib/postgresql | sort -n | tail -1)
        as_root pg_createcluster "$ver" main >/dev/null
        cluster="$ver main"
    fi
    read -r pg_ver pg_name <<<"$cluster"
    if ! pg_lsclusters -h | awk -v v="$pg_ver" -v n="$pg_name" '$1==v && $2==n {print $4}' | grep -q online; then
        as_root pg_ctlcluster "$pg_ver" "$pg_name" start || die "could not start PostgreSQL cluster $cluster"
    fi
    db_port=$(pg_lsclusters -h | awk -v v="$pg_ver" -v n="$pg_name" '$1==v && $2==n {print $3}')
    db_host=/var/run/postgresql
    for _ in $(seq 1 30); do
        as_postgres "pg_isready -q -h $db_host -p $db_port" && break
        sleep 0.5
    done
    if ! as_postgres "psql -h $db_host -p $db_port -tAc \"SELECT 1 FROM pg_roles WHERE rolname = '$db_user'\"" | grep -q 1; then
        as_postgres "createuser -h $db_host -p $db_port --superuser $db_user" || die "could not create role $db_user"
    fi
else
    # No root: a private cluster under ~/.cache/shop_crm/pgdata on a private socket.
    pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
    [ -n "$pg_bin" ] || die "PostgreSQL server binaries not found under /usr/lib/postgresql"
    pgdata="${HOME}/.cache/shop_crm/pgdata"
    db_host="${HOME}/.cache/shop_crm/pgsocket"
    db_port=54329
    mkdir -p "$db_host"
    [ -f "$pgdata/PG_VERSION" ] || "$pg_bin/initdb" -q -D "$pgdata" -U "$db_user" --auth=trust >/dev/null
    if ! "$pg_bin/pg_ctl" -D "$pgdata" status >/dev/null 2>&1; then
        "$pg_bin/pg_ctl" -D "$pgdata" -l "$pgdata/server.log" -w \
            -o "-k $db_host -p $db_port -c listen_addresses=''" start >/dev/null || die "could not start PostgreSQL in $pgdata"
    fi
fi

# ---- 5. addons folder and Odoo configuration ------------------------------------------------
mkdir -p "$WORK/addons" "$WORK/data"
ln -sfn "$ROOT" "$WORK/addons/shop_crm"
cat >"$ODOO_CONF" <<CONF
[options]
addons_path = $odoo_src/addons,$odoo_src/odoo/addons,$WORK/addons
data_dir = $WORK/data
db_host = $db_host
db_port = $db_port
db_user = $db_user
db_password = False
list_db = True
without_demo = all
http_interface = 127.0.0.1
CONF
echo "$odoo_src" >"$WORK/odoo_src"
printf 'export PGHOST=%q PGPORT=%q PGUSER=%q PGDATABASE=postgres\n' "$db_host" "$db_port" "$db_user" >"$WORK/db.env"
