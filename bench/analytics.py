"""Benchmark of the Shop CRM analytics engine (``shop.crm.analytics``) at scale.

Usage (with the project's virtualenv; ``make bench ARGS="analytics ..."`` does the same)::

    .venv/bin/python bench/analytics.py [--small] [--customers N] [--orders M] [--db NAME]
                                        [--rebuild | --keep-db] [--seed S] [--output PATH] [--check]

1. Runs ``scripts/setup.sh`` (idempotent), then makes sure the benchmark database ``--db`` (default
   ``shop_crm_bench``) holds N customers and M orders (default 1,000,000 / 10,000,000; ``--small``:
   100,000 / 1,000,000). It is (re)built when missing, on ``--rebuild``, or when the sizes, seed or
   generator recorded in its ``ir_config_parameter`` ``shop_crm_bench.build`` differ: Shop CRM is
   installed with ``scripts/odoo -i shop_crm``, one POS shop (``pos.config``) with one open session is
   created through the ORM, then the customers and orders are inserted set-based in PostgreSQL by
   ``bench/analytics_build.sql`` (see its header for the data set: M = POS orders + 5 % sales orders,
   ~5 % anonymous POS orders, ~2 % refunds, ~10 % customers who never bought), then VACUUM ANALYZE.
   When the addon's models/data files changed since the database was built or last upgraded, it is
   upgraded (``-u shop_crm``) first. ``--keep-db`` uses the database as it is (no rebuild, no upgrade).
2. Copies it to ``<db>_run`` (``CREATE DATABASE ... TEMPLATE``), so that every benchmark starts from
   data the analytics never saw, and measures in ONE fresh Python process that loads Odoo in-process:
     a. the plain ``GROUP BY partner`` (last order date, order count, sum of totals) over the same orders
        the engine reads (paid/done/invoiced POS orders and confirmed sales orders of the company, with a
        customer), run once untimed to warm the caches, then timed; its result is consumed in the server
        (an outer aggregate over every grouped column), not fetched into Python;
     b. ``env['shop.crm.analytics'].run()`` in a new cursor and environment, like the scheduled action,
        committed; timed from the call to the end of the commit;
     c. the plain GROUP BY again, then an immediate second ``run()`` + commit, measured the same way.
   The GROUP BY is timed 3 times before each run and the median is used.
   For each run: wall seconds, SQL queries (Odoo's global query counter, all cursors of the process;
   COPY statements would not be counted), peak RSS of the measuring process in MB (absolute, i.e.
   including the ~170 MB of the loaded registry; the kernel's peak counter is reset before each run via
   /proc/self/clear_refs, else ``ru_maxrss`` is used and says so). PostgreSQL server memory is NOT
   included. The slowest SQL statements of each run are recorded too (``top_statements``).
   d. ``--days`` nights of business (default 10, 0: none; issue 18): each night inserts one day of new paid
      POS orders in SQL (30,000 orders for 20,000 random customers per million customers, ~2 % refunds,
      dated the next day, written now) and cancels a few old orders (1 per 1,000 of the day's orders,
      by an SQL update that sets write_date), times the plain GROUP BY once, then the nightly
      ``run(as_of=that day)`` + commit (incremental: the customers whose orders changed), measured as
      above. After the last night, a full recompute (``run(full=True)``) of the same data in the same
      transaction is timed and every analytics value and aggregate compared with the incremental
      run's, then rolled back. Target: nightly run <= 0.5 x the plain GROUP BY (median of the nights).
3. Writes ``bench/results/analytics.json`` and prints a short table. Targets: first run <= 3.5 x the
   plain GROUP BY and <= 45 s end to end, second run <= 1.5 x, peak RSS <= 1 GB (1024 MB). ``--check``
   makes the exit status 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import hashlib
import json
import os
import platform
import re
import resource
import subprocess
import sys
import threading
import time
from pathlib import Path

from bench_common import connect, odoo_options, say, work_dir
from psycopg2 import sql

ROOT = Path(__file__).resolve().parent.parent  # the addon folder (repository root)
BUILD_SQL = ROOT / "bench" / "analytics_build.sql"
DEFAULT_OUTPUT = ROOT / "bench" / "results" / "analytics.json"
DEFAULT_DB = "shop_crm_bench"
META_KEY = "shop_crm_bench.build"
ADDON_META_KEY = "shop_crm_bench.addon_fingerprint"
GENERATOR_VERSION = 2
FULL = (1_000_000, 10_000_000)
SMALL = (100_000, 1_000_000)
SALE_SHARE = 0.05  # share of the M orders that are sales orders (the rest are POS orders)
ANONYMOUS_SHARE = 0.05  # share of the POS orders without a customer
HORIZON_DAYS = 1095  # ~3 years of history, ending yesterday
TARGETS = {
    "first_ratio": 3.5,
    "first_seconds": 45.0,
    "second_ratio": 1.5,
    "peak_rss_mb": 1024.0,
    "nightly_ratio": 0.5,
}
# One night of business per million customers (issue 18): orders and distinct customers
NIGHT_ORDERS_PER_MILLION = 30_000
NIGHT_CUSTOMERS_PER_MILLION = 20_000
NIGHT_REFUND_SHARE = 0.02
NIGHT_CANCEL_PER_ORDERS = 1_000
ENGINE_MODEL = "shop.crm.analytics"
RESULT_PREFIX = "SHOP_CRM_BENCH_RESULT "
TOP_STATEMENTS = 8
RAW_REPEAT = 3  # the plain GROUP BY is timed this many times before each run; the median is used

# The baseline: what any per-customer summary must at least do. Same rows as the engine reads.
RAW_GROUPBY_SQL = """
SELECT count(*), max(s.last_order), sum(s.orders), sum(s.total)
FROM (
    SELECT o.partner_id, max(o.date_order) AS last_order, count(*) AS orders, sum(o.amount_total) AS total
    FROM (
        SELECT partner_id, date_order, amount_total
        FROM pos_order
        WHERE state IN ('paid', 'done', 'invoiced') AND company_id = %(company)s AND partner_id IS NOT NULL
        UNION ALL
        SELECT partner_id, date_order, amount_total
        FROM sale_order
        WHERE state = 'sale' AND company_id = %(company)s AND partner_id IS NOT NULL
    ) AS o
    GROUP BY o.partner_id
) AS s
"""


def database_exists(options: dict[str, str], name: str) -> bool:
    conn = connect(options, "postgres")
    try:
        with conn.cursor() as cr:
            cr.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
            return cr.fetchone() is not None
    finally:
        conn.close()


def admin_sql(options: dict[str, str], statement, params=None) -> None:
    """Run one statement in autocommit on the maintenance database (CREATE/DROP DATABASE)."""
    conn = connect(options, "postgres")
    conn.autocommit = True
    try:
        with conn.cursor() as cr:
            cr.execute(statement, params)
    finally:
        conn.close()


def read_parameter(options: dict[str, str], db: str, key: str) -> str | None:
    conn = connect(options, db)
    try:
        with conn.cursor() as cr:
            cr.execute("SELECT value FROM ir_config_parameter WHERE key = %s", (key,))
            row = cr.fetchone()
            return row[0] if row else None
    except Exception:
        return None
    finally:
        conn.close()


def write_parameter(options: dict[str, str], db: str, key: str, value: str) -> None:
    conn = connect(options, db)
    try:
        with conn, conn.cursor() as cr:
            cr.execute("DELETE FROM ir_config_parameter WHERE key = %s", (key,))
            cr.execute(
                "INSERT INTO ir_config_parameter (key, value, create_uid, write_uid, create_date, "
                "write_date) VALUES (%s, %s, 1, 1, now() at time zone 'UTC', now() at time zone 'UTC')",
                (key, value),
            )
    finally:
        conn.close()


def addon_fingerprint() -> str:
    """Hash of what an upgrade (-u shop_crm) would load: manifest, models, data, security, views."""
    digest = hashlib.sha1()
    paths = [ROOT / "__manifest__.py", ROOT / "__init__.py"]
    for folder in ("models", "data", "security", "views", "wizard", "wizards", "report"):
        if (ROOT / folder).is_dir():
            paths.extend(
                sorted(p for p in (ROOT / folder).rglob("*") if p.is_file() and "__pycache__" not in p.parts)
            )
    for path in paths:
        if path.is_file():
            digest.update(str(path.relative_to(ROOT)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def run_logged(cmd: list[str], log: Path, what: str) -> None:
    """Run a command, its output appended to ``log``; on failure show the log's tail and stop."""
    with log.open("a", encoding="utf-8") as out:
        out.write(f"\n$ {' '.join(cmd)}\n")
        out.flush()
        result = subprocess.run(cmd, stdout=out, stderr=subprocess.STDOUT, check=False, cwd=ROOT)
    if result.returncode != 0:
        tail = log.read_text(encoding="utf-8", errors="replace").splitlines()[-40:]
        sys.stderr.write("\n".join(tail) + "\n")
        raise SystemExit(f"error: {what} failed (exit {result.returncode}); log: {log}")


# ---- building the benchmark database ------------------------------------------------------------------


def wanted_build(customers: int, orders: int, seed: int) -> dict:
    sale_orders = round(orders * SALE_SHARE)
    pos_orders = orders - sale_orders
    return {
        "generator": GENERATOR_VERSION,
        "customers": customers,
        "orders": orders,
        "pos_orders": pos_orders,
        "partner_pos_orders": pos_orders - round(pos_orders * ANONYMOUS_SHARE),
        "sale_orders": sale_orders,
        "seed": seed,
    }


def step_line(title: str, started: float, rows: int | None = None) -> None:
    count = f"{rows:>13,} rows" if rows and rows > 0 else ""
    say(f"  {title:<42}{time.perf_counter() - started:8.1f} s{count}")


def build_database(options: dict[str, str], work: Path, db: str, want: dict) -> dict:
    """Drop and rebuild ``db``: install Shop CRM, create the POS shop, bulk-insert the data set."""
    log = work / "bench_analytics.log"
    log.write_text("", encoding="utf-8")
    started = time.perf_counter()
    say(f"building {db}: {want['customers']:,} customers, {want['orders']:,} orders (log: {log})")
    drop_database(options, db)
    step = time.perf_counter()
    run_logged(
        [str(ROOT / "scripts" / "odoo"), "-d", db, "-i", "shop_crm", "--stop-after-init", "--log-level=warn"],
        log,
        "installing shop_crm",
    )
    step_line("install shop_crm", step)
    step = time.perf_counter()
    ids = internal_call("orm-setup", db, log)
    step_line("POS shop and open session (ORM)", step)

    sql_text = BUILD_SQL.read_text(encoding="utf-8")
    steps = re.split(r"^-- step: (.+)$", sql_text, flags=re.MULTILINE)[1:]
    conn = connect(options, db)
    try:
        with conn.cursor() as cr:
            cr.execute("SET work_mem = '512MB'")
            cr.execute("SET maintenance_work_mem = '1GB'")
            cr.execute("SET max_parallel_workers_per_gather = 0")  # deterministic random() order
            cr.execute("SET session_replication_role = replica")  # no FK triggers during the load
            cr.execute("SET synchronous_commit = off")
            cr.execute(
                "SELECT nextval('res_partner_id_seq'), nextval('pos_order_id_seq'), "
                "nextval('sale_order_id_seq')"
            )
            partner_base, pos_base, sale_base = cr.fetchone()
            cr.execute(
                "CREATE TEMP TABLE bench_params AS SELECT "
                "%(customers)s::int AS customers, %(pos_orders)s::int AS pos_orders, "
                "%(partner_orders)s::int AS partner_orders, %(sale_orders)s::int AS sale_orders, "
                "%(company_id)s::int AS company_id, %(currency_id)s::int AS currency_id, "
                "%(session_id)s::int AS session_id, %(config_id)s::int AS config_id, "
                "%(user_id)s::int AS user_id, %(country_id)s::int AS country_id, "
                "%(partner_base)s::int AS partner_base, %(pos_base)s::int AS pos_base, "
                "%(sale_base)s::int AS sale_base, %(horizon)s::int AS horizon_days, "
                "%(today)s::date AS today, %(seed)s::float8 AS seed",
                {
                    "customers": want["customers"],
                    "pos_orders": want["pos_orders"],
                    "partner_orders": want["partner_pos_orders"],
                    "sale_orders": want["sale_orders"],
                    **ids,
                    "partner_base": partner_base - 1,
                    "pos_base": pos_base - 1,
                    "sale_base": sale_base - 1,
                    "horizon": HORIZON_DAYS,
                    "today": datetime.date.today(),
                    "seed": (want["seed"] % 2000) / 1000.0 - 1.0,  # setseed() takes [-1, 1]
                },
            )
            for title, body in zip(steps[::2], steps[1::2], strict=True):
                step = time.perf_counter()
                cr.execute(body)
                step_line(title.strip(), step, cr.rowcount)
            for table, seq in (
                ("res_partner", "res_partner_id_seq"),
                ("pos_order", "pos_order_id_seq"),
                ("sale_order", "sale_order_id_seq"),
            ):
                cr.execute(
                    sql.SQL("SELECT setval(%s, (SELECT max(id) FROM {}))").format(sql.Identifier(table)),
                    (seq,),
                )
            cr.execute(
                "SELECT (SELECT count(*) FROM res_partner WHERE id > %s),"
                " (SELECT count(*) FROM pos_order WHERE session_id = %s),"
                " (SELECT count(*) FROM sale_order WHERE id > %s)",
                (partner_base - 1, ids["session_id"], sale_base - 1),
            )
            counts = cr.fetchone()
        conn.commit()
        conn.autocommit = True
        with conn.cursor() as cr:
            step = time.perf_counter()
            cr.execute("VACUUM (ANALYZE) res_partner, pos_order, sale_order")
            step_line("vacuum analyze", step)
            cr.execute("SELECT pg_size_pretty(pg_database_size(current_database()))")
            size = cr.fetchone()[0]
    finally:
        conn.close()
    built = dict(
        want,
        built_on=datetime.date.today().isoformat(),
        build_seconds=round(time.perf_counter() - started, 1),
        inserted={"customers": counts[0], "pos_orders": counts[1], "sale_orders": counts[2]},
        database_size=size,
        company_id=ids["company_id"],
    )
    write_parameter(options, db, META_KEY, json.dumps(built, sort_keys=True))
    write_parameter(options, db, ADDON_META_KEY, addon_fingerprint())
    say(f"  built in {built['build_seconds']:.0f} s, database size {size}")
    return built


def ensure_database(args, options: dict[str, str], work: Path) -> dict:
    """The benchmark database, (re)built or upgraded as needed; returns its build record."""
    want = wanted_build(args.customers, args.orders, args.seed)
    built = None
    if database_exists(options, args.db):
        raw = read_parameter(options, args.db, META_KEY)
        built = json.loads(raw) if raw else None
    if args.keep_db:
        if built is None:
            raise SystemExit(f"error: --keep-db but {args.db} is missing or not a built benchmark database")
        say(f"using {args.db} (--keep-db): {built['customers']:,} customers, {built['orders']:,} orders")
        return built
    same = built is not None and all(built.get(key) == value for key, value in want.items())
    if args.rebuild or not same:
        if built is not None and not args.rebuild:
            say(
                f"{args.db} holds another data set ({built['customers']:,} / {built['orders']:,}); rebuilding"
            )
        return build_database(options, work, args.db, want)
    upgrade_if_changed(options, args.db, work / "bench_analytics.log")
    say(
        f"using {args.db}: {built['customers']:,} customers, {built['orders']:,} orders "
        f"(built {built['built_on']})"
    )
    return built


def drop_database(options: dict[str, str], name: str) -> None:
    admin_sql(options, sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def copy_database(options: dict[str, str], source: str, target: str) -> float:
    """CREATE DATABASE target TEMPLATE source (file copy: fast for big databases); returns seconds."""
    started = time.perf_counter()
    drop_database(options, target)
    admin_sql(
        options,
        sql.SQL("CREATE DATABASE {} TEMPLATE {} STRATEGY FILE_COPY").format(
            sql.Identifier(target), sql.Identifier(source)
        ),
    )
    return time.perf_counter() - started


# ---- in-process Odoo (internal modes, run in a child process) -------------------------------------------


def internal_call(mode: str, db: str, log: Path | None = None, days: int = 0) -> dict:
    """Run this file in ``--internal MODE`` in a fresh process; return the JSON it reports."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--internal", mode, "--db", db, "--days", str(days)]
    result = subprocess.run(cmd, capture_output=True, text=True, check=False, cwd=ROOT)
    if log is not None:
        with log.open("a", encoding="utf-8") as out:
            out.write(f"\n$ {' '.join(cmd)}\n{result.stderr}")
    lines = [line for line in result.stdout.splitlines() if line.startswith(RESULT_PREFIX)]
    if result.returncode != 0 or not lines:
        sys.stderr.write(result.stderr[-6000:] + result.stdout[-2000:])
        raise SystemExit(f"error: {mode} in {db} failed (exit {result.returncode})")
    return json.loads(lines[-1][len(RESULT_PREFIX) :])


def load_odoo(db: str):
    """Import Odoo from the source setup.sh found and load ``db``'s registry; returns (odoo, registry)."""
    work = work_dir()
    sys.path.insert(0, (work / "odoo_src").read_text(encoding="utf-8").strip())
    import odoo

    odoo.tools.config.parse_config(["-c", str(work / "odoo.conf"), "-d", db, "--log-level=warn"])
    registry = odoo.modules.registry.Registry(db)
    return odoo, registry


def orm_setup(db: str) -> dict:
    """One POS shop with one open session for the main company, created through the ORM."""
    odoo, registry = load_odoo(db)
    from odoo import api

    with registry.cursor() as cr:
        env = api.Environment(cr, odoo.SUPERUSER_ID, {})
        company = env.ref("base.main_company")
        if not company.chart_template:
            env["account.chart.template"].try_loading("generic_coa", company=company, install_demo=False)
        admin = env.ref("base.user_admin")
        user_env = env(user=admin, context={"allowed_company_ids": [company.id]})
        config = user_env["pos.config"].create({"name": "Bench Shop", "company_id": company.id})
        config.open_ui()
        session = config.current_session_id
        session.set_opening_control(0, None)
        return {
            "company_id": company.id,
            "currency_id": company.currency_id.id,
            "config_id": config.id,
            "session_id": session.id,
            "user_id": admin.id,
            "country_id": env.ref("base.cn").id,
        }


class PeakMemory:
    """Peak resident memory of this process, resettable on Linux (VmHWM, reset by clear_refs)."""

    def __init__(self) -> None:
        self.resettable = self._reset()

    @staticmethod
    def _status(field: str) -> float | None:
        try:
            with open("/proc/self/status", encoding="ascii") as status:
                for line in status:
                    if line.startswith(field + ":"):
                        return int(line.split()[1]) / 1024.0
        except OSError:
            return None
        return None

    @staticmethod
    def _reset() -> bool:
        try:
            with open("/proc/self/clear_refs", "w", encoding="ascii") as refs:
                refs.write("5")
        except OSError:
            return False
        return True

    def start(self) -> float | None:
        """Reset the peak; return the current RSS in MB."""
        if self.resettable:
            self._reset()
        return self._status("VmRSS")

    def peak(self) -> float:
        if self.resettable:
            value = self._status("VmHWM")
            if value is not None:
                return value
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def measured(odoo, memory: PeakMemory, func) -> dict:
    """Run ``func()``; its wall seconds, peak RSS, SQL queries and slowest statements."""
    sql_db = odoo.sql_db
    statements = []

    def hook(cr, query, params, start, delay):
        statements.append((delay, query, params))

    thread = threading.current_thread()
    previous = getattr(thread, "query_hooks", None)
    thread.query_hooks = (*(previous or ()), hook)
    rss_before = memory.start()
    queries_before = sql_db.sql_counter
    started = time.perf_counter()
    try:
        result = func()
        seconds = time.perf_counter() - started
    finally:
        if previous is None:
            del thread.query_hooks
        else:
            thread.query_hooks = previous
    top = sorted(statements, key=lambda item: item[0], reverse=True)[:TOP_STATEMENTS]
    return {
        "seconds": seconds,
        "peak_rss_mb": memory.peak(),
        "rss_before_mb": rss_before,
        "sql_queries": sql_db.sql_counter - queries_before,
        "result": result,
        "top_statements": [
            {"seconds": round(delay, 3), "sql": " ".join(str(query).split())[:400]}
            for delay, query, _p in top
        ],
        "_top_full": [(delay, query, params) for delay, query, params in top],
    }


NIGHT_ORDERS_SQL = """
WITH params AS (
    SELECT (SELECT MAX(id) FROM pos_order) AS base, o.session_id, o.config_id, o.company_id, o.user_id
      FROM pos_order o WHERE o.company_id = %(company)s ORDER BY o.id LIMIT 1
), buyers AS (
    SELECT id, row_number() OVER () AS k
      FROM (SELECT p.id FROM res_partner p
             WHERE p.id IN (SELECT DISTINCT partner_id FROM pos_order WHERE partner_id IS NOT NULL
                              AND id %% 97 = %(night)s %% 97)
             ORDER BY md5(p.id::text || %(night)s::text) LIMIT %(customers)s) c
), drawn AS (
    SELECT g, b.id AS partner_id,
           %(day_start)s::timestamp + make_interval(secs => 3600 + floor(random() * 43200)) AS date_order,
           round((20 + random() * 200)::numeric, 2) * CASE WHEN random() < %(refunds)s THEN -1 ELSE 1 END
               AS amount
      FROM generate_series(1, %(orders)s) AS g
      JOIN buyers b ON b.k = 1 + (g - 1) %% %(customers)s
)
INSERT INTO pos_order (
    id, name, pos_reference, uuid, session_id, config_id, company_id, user_id, partner_id, date_order,
    state, sequence_number, amount_tax, amount_total, amount_paid, amount_return, currency_rate,
    to_invoice, is_tipped, tip_amount, has_deleted_line, nb_print, create_date, write_date, create_uid,
    write_uid
)
SELECT p.base + d.g, 'Bench Night ' || %(night)s || '/' || d.g, 'Night ' || %(night)s || '-' || d.g,
       md5('night' || %(night)s || '-' || d.g)::uuid::text, p.session_id, p.config_id, p.company_id,
       p.user_id, d.partner_id, d.date_order, 'paid', d.g, round(d.amount * 6 / 106, 2), d.amount,
       d.amount, 0, 1.0, FALSE, FALSE, 0, FALSE, 0, now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC',
       p.user_id, p.user_id
  FROM drawn d, params p
"""

# A few old orders cancelled (a correction of the past, seen by its write date)
NIGHT_CANCEL_SQL = """
UPDATE pos_order SET state = 'cancel', write_date = now() AT TIME ZONE 'UTC'
 WHERE id IN (SELECT id FROM pos_order WHERE company_id = %(company)s AND state = 'paid'
                AND partner_id IS NOT NULL AND id %% 1009 = %(night)s
              ORDER BY id LIMIT %(cancel)s)
"""

# After the last night: the incremental values and aggregates, to compare with a full recompute
COMPARE_SQL = """
SELECT
    (SELECT COUNT(*) FROM ((SELECT * FROM bench_incremental_values EXCEPT
                            SELECT * FROM shop_crm_customer_value WHERE company_id = %(company)s)
                           UNION ALL
                           (SELECT * FROM shop_crm_customer_value WHERE company_id = %(company)s EXCEPT
                            SELECT * FROM bench_incremental_values)) d) AS values_differing,
    (SELECT COUNT(*) FROM ((SELECT * FROM bench_incremental_state EXCEPT
                            SELECT * FROM shop_crm_analytics_state WHERE company_id = %(company)s)
                           UNION ALL
                           (SELECT * FROM shop_crm_analytics_state WHERE company_id = %(company)s EXCEPT
                            SELECT * FROM bench_incremental_state)) d) AS state_differing,
    (SELECT COUNT(*) FROM bench_incremental_values) AS values_compared
"""


def nights(odoo, registry, memory, company_id: int, customers: int, days: int) -> dict:
    """``days`` nights of business and the nightly runs (see the module docstring, 2.d)."""
    from odoo import api

    scale = customers / 1_000_000
    per_night = {
        "orders": max(1, round(NIGHT_ORDERS_PER_MILLION * scale)),
        "customers": max(1, round(NIGHT_CUSTOMERS_PER_MILLION * scale)),
    }
    per_night["cancel"] = max(1, per_night["orders"] // NIGHT_CANCEL_PER_ORDERS)
    with registry.cursor() as cr:
        env = api.Environment(cr, odoo.SUPERUSER_ID, {})
        first_day = env["res.company"].browse(company_id).shop_crm_analytics_date

    def raw_groupby():
        with registry.cursor() as cr:
            cr.execute(RAW_GROUPBY_SQL, {"company": company_id})
            return cr.fetchone()[0]

    results = []
    for night in range(1, days + 1):
        as_of = first_day + datetime.timedelta(days=night)
        with registry.cursor() as cr:
            env = api.Environment(cr, odoo.SUPERUSER_ID, {})
            company = env["res.company"].browse(company_id)
            params = {"company": company_id, "night": night, "refunds": NIGHT_REFUND_SHARE,
                      "day_start": company._shop_crm_day_start(as_of), **per_night}  # fmt: skip
            cr.execute(NIGHT_ORDERS_SQL, params)
            inserted = cr.rowcount
            cr.execute(NIGHT_CANCEL_SQL, params)
            cancelled = cr.rowcount
            cr.commit()
        raw = measured(odoo, memory, raw_groupby)

        def nightly_run(as_of=as_of):
            with registry.cursor() as cr:
                env = api.Environment(cr, odoo.SUPERUSER_ID, {})
                result = env[ENGINE_MODEL].run(as_of=as_of)
                cr.commit()
            return result

        run = measured(odoo, memory, nightly_run)
        result = json.loads(json.dumps(run["result"], default=str))
        results.append(
            {
                "night": night,
                "as_of": str(as_of),
                "orders_added": inserted,
                "orders_cancelled": cancelled,
                "seconds": round(run["seconds"], 3),
                "raw_groupby_seconds": round(raw["seconds"], 3),
                "ratio": round(run["seconds"] / raw["seconds"], 3) if raw["seconds"] else None,
                "peak_rss_mb": round(run["peak_rss_mb"], 1),
                "sql_queries": run["sql_queries"],
                "mode": result.get("mode"),
                "recomputed": result.get("recomputed"),
                "changed": result.get("changed"),
                "churn_activities": result.get("churn_activities"),
                "top_statements": run["top_statements"][:5],
            }
        )
        say(f"night {night}: {results[-1]['seconds']:.2f} s = {results[-1]['ratio']:.2f} x GROUP BY "
            f"({result.get('mode')}, {result.get('recomputed'):,} recomputed)")  # fmt: skip
    check = {}
    if results:
        with registry.cursor() as cr:
            cr.execute(
                "CREATE TEMP TABLE bench_incremental_values AS "
                "SELECT * FROM shop_crm_customer_value WHERE company_id = %s",
                (company_id,),
            )
            cr.execute(
                "CREATE TEMP TABLE bench_incremental_state AS "
                "SELECT * FROM shop_crm_analytics_state WHERE company_id = %s",
                (company_id,),
            )
            env = api.Environment(cr, odoo.SUPERUSER_ID, {})
            started = time.perf_counter()
            full = env[ENGINE_MODEL].run(as_of=first_day + datetime.timedelta(days=days), full=True)
            env.flush_all()
            full_seconds = time.perf_counter() - started
            cr.execute(COMPARE_SQL, {"company": company_id})
            values_differing, state_differing, compared = cr.fetchone()
            cr.rollback()
        check = {
            "after_nights": days,
            "full_recompute_seconds": round(full_seconds, 3),
            "full_recompute_mode": full.get("mode"),
            "values_compared": compared,
            "values_differing": values_differing,
            "state_rows_differing": state_differing,
            "identical": values_differing == 0 and state_differing == 0,
        }
    ratios = sorted(r["ratio"] for r in results if r["ratio"] is not None)
    return {
        "per_night": per_night,
        "nights": results,
        "median_ratio": ratios[len(ratios) // 2] if ratios else None,
        "max_ratio": ratios[-1] if ratios else None,
        "median_seconds": sorted(r["seconds"] for r in results)[len(results) // 2] if results else None,
        "check": check,
    }


def measure(db: str, days: int = 0) -> dict:
    """Time the plain GROUP BY and two analytics runs in this process (see the module docstring)."""
    memory = PeakMemory()
    odoo, registry = load_odoo(db)
    from odoo import api

    with registry.cursor() as cr:
        env = api.Environment(cr, odoo.SUPERUSER_ID, {})
        company_id = env.ref("base.main_company").id
        if ENGINE_MODEL not in env:
            return {"engine_missing": True}
        cr.execute("SHOW server_version")
        server_version = cr.fetchone()[0]
        cr.execute(
            "SELECT name, setting FROM pg_settings WHERE name IN ('shared_buffers', 'work_mem', "
            "'max_parallel_workers_per_gather', 'effective_cache_size', 'jit', 'autovacuum')"
        )
        settings = dict(cr.fetchall())
        cr.execute("SELECT count(*) FROM res_partner")  # warms res_partner
        cr.execute(RAW_GROUPBY_SQL, {"company": company_id})  # warms the orders (untimed)
        groups = cr.fetchone()[0]

    def raw_groupby():
        with registry.cursor() as cr:
            cr.execute(RAW_GROUPBY_SQL, {"company": company_id})
            return cr.fetchone()[0]

    def analytics_run():
        with registry.cursor() as cr:
            env = api.Environment(cr, odoo.SUPERUSER_ID, {})
            result = env[ENGINE_MODEL].run()
            cr.commit()
        return result

    phases = {}
    for name in ("first", "second"):
        raws = [measured(odoo, memory, raw_groupby) for _ in range(RAW_REPEAT)]
        raws.sort(key=lambda raw: raw["seconds"])
        run = measured(odoo, memory, analytics_run)
        phases[name] = {"raw": raws[len(raws) // 2], "raw_runs": [r["seconds"] for r in raws], "run": run}

    def jsonable(value):
        return json.loads(json.dumps(value, default=str))

    with registry.cursor() as cr:
        cr.execute("SELECT COUNT(*) FROM res_partner")
        partners = cr.fetchone()[0]
    incremental = nights(odoo, registry, memory, company_id, partners, days) if days else None
    report = {
        "incremental": incremental,
        "engine_missing": False,
        "postgresql": server_version,
        "pg_settings": settings,
        "customers_with_orders": groups,
        "peak_rss_resettable": memory.resettable,
    }
    with registry.cursor() as cr:
        for name, phase in phases.items():
            report[name] = {
                "seconds": phase["run"]["seconds"],
                "raw_groupby_seconds": phase["raw"]["seconds"],
                "raw_groupby_runs": phase["raw_runs"],
                "peak_rss_mb": phase["run"]["peak_rss_mb"],
                "rss_before_mb": phase["run"]["rss_before_mb"],
                "sql_queries": phase["run"]["sql_queries"],
                "result": jsonable(phase["run"]["result"]),
                "top_statements": phase["run"]["top_statements"],
                "top_statements_full": [
                    {"seconds": round(delay, 3), "sql": _mogrify(cr, query, params)}
                    for delay, query, params in phase["run"]["_top_full"]
                ],
            }
    return report


def _mogrify(cr, query, params) -> str:
    try:
        return cr.mogrify(query, params).decode("utf-8", "replace")
    except Exception:
        return str(query)


# ---- the report ----------------------------------------------------------------------------------------


def machine_info(postgresql: str) -> dict:
    cpu = platform.processor()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            cpu = next((line.split(":", 1)[1].strip() for line in info if line.startswith("model name")), cpu)
    except OSError:
        pass
    memory_gb = None
    with contextlib.suppress(ValueError, OSError):
        memory_gb = round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1)
    return {
        "cores": os.cpu_count(),
        "cpu": cpu,
        "memory_gb": memory_gb,
        "postgresql": postgresql,
        "python": platform.python_version(),
    }


def build_report(args, built: dict, measured_report: dict, copy_seconds: float) -> dict:
    first, second = measured_report["first"], measured_report["second"]

    def ratio(phase):
        return phase["seconds"] / phase["raw_groupby_seconds"] if phase["raw_groupby_seconds"] else None

    first_ratio, second_ratio = ratio(first), ratio(second)
    targets = {
        "first_ratio_le_3_5": bool(first_ratio is not None and first_ratio <= TARGETS["first_ratio"]),
        "first_seconds_le_45": bool(first["seconds"] <= TARGETS["first_seconds"]),
        "second_ratio_le_1_5": bool(second_ratio is not None and second_ratio <= TARGETS["second_ratio"]),
        "peak_rss_le_1024_mb": bool(
            max(first["peak_rss_mb"], second["peak_rss_mb"]) <= TARGETS["peak_rss_mb"]
        ),
    }
    incremental = measured_report.get("incremental")
    if incremental:
        incremental = {
            "customers": built["customers"],
            "orders_before": built["orders"],
            **incremental,
            "target_nightly_max_ratio": TARGETS["nightly_ratio"],
            "nightly_median_ratio_le_0_5": bool(
                incremental["median_ratio"] is not None
                and incremental["median_ratio"] <= TARGETS["nightly_ratio"]
            ),
            "identical_to_full_recompute": bool(incremental["check"].get("identical")),
            "method": "nights of new POS orders inserted in SQL after the first and second runs, each "
            "followed by the plain GROUP BY (timed once) and the nightly run(as_of=that day) + commit; "
            "after the last night a full recompute in the same transaction, compared value by value "
            "(EXCEPT both ways) with the incremental run's values and aggregates, then rolled back",
        }
    return {
        "customers": built["customers"],
        "orders": built["orders"],
        "incremental": incremental,
        "pos_orders": built["inserted"]["pos_orders"],
        "sale_orders": built["inserted"]["sale_orders"],
        "customers_with_orders": measured_report["customers_with_orders"],
        "seconds": round(first["seconds"], 3),
        "raw_groupby_seconds": round(first["raw_groupby_seconds"], 3),
        "raw_groupby_runs": [round(value, 3) for value in first["raw_groupby_runs"]],
        "ratio": round(first_ratio, 3) if first_ratio is not None else None,
        "peak_rss_mb": round(first["peak_rss_mb"], 1),
        "rss_before_mb": round(first["rss_before_mb"] or 0, 1),
        "sql_queries": first["sql_queries"],
        "changed": first["result"].get("changed") if isinstance(first["result"], dict) else None,
        "result": first["result"],
        "top_statements": first["top_statements"],
        "second_run": {
            "seconds": round(second["seconds"], 3),
            "raw_groupby_seconds": round(second["raw_groupby_seconds"], 3),
            "raw_groupby_runs": [round(value, 3) for value in second["raw_groupby_runs"]],
            "ratio": round(second_ratio, 3) if second_ratio is not None else None,
            "peak_rss_mb": round(second["peak_rss_mb"], 1),
            "sql_queries": second["sql_queries"],
            "changed": second["result"].get("changed") if isinstance(second["result"], dict) else None,
            "result": second["result"],
            "top_statements": second["top_statements"],
        },
        "targets": {
            "first_run_max_ratio": TARGETS["first_ratio"],
            "first_run_max_seconds": TARGETS["first_seconds"],
            "second_run_max_ratio": TARGETS["second_ratio"],
            "max_peak_rss_mb": TARGETS["peak_rss_mb"],
            **targets,
        },
        "targets_met": all(targets.values()),
        "machine": machine_info(measured_report["postgresql"]),
        "pg_settings": measured_report["pg_settings"],
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "data_label": (
            f"synthetic shop (bench/analytics_build.sql v{built['generator']}, seed {built['seed']}): "
            f"{built['customers']:,} customers (10 % never bought, ~3 % businesses), "
            f"{built['orders']:,} orders over {HORIZON_DAYS} days = {built['inserted']['pos_orders']:,} paid "
            f"POS orders (~5 % anonymous, ~2 % refunds) + {built['inserted']['sale_orders']:,} confirmed "
            f"sales orders; built {built['built_on']} in {built['build_seconds']:.0f} s, "
            f"{built['database_size']}"
        ),
        "method": {
            "database": f"fresh copy {args.db}_run of {args.db} (CREATE DATABASE ... TEMPLATE, "
            f"{copy_seconds:.1f} s), so the first run sees data the analytics never computed",
            "seconds": "wall time of env['shop.crm.analytics'].run() in a new cursor + commit",
            "raw_groupby": "plain GROUP BY partner_id (max date_order, count, sum amount_total) over "
            "paid/done/invoiced POS orders and confirmed sales orders of the company with a customer, "
            "consumed server-side by an outer aggregate; run once untimed to warm the caches, then "
            f"timed {RAW_REPEAT} times right before each analytics run: the median is used",
            "peak_rss_mb": "peak resident memory of the measuring Python process during the run, absolute "
            "(includes the loaded Odoo registry, see rss_before_mb); PostgreSQL server memory not included"
            + ("" if measured_report["peak_rss_resettable"] else "; NOT reset between runs (ru_maxrss)"),
            "sql_queries": "queries counted by Odoo (odoo.sql_db.sql_counter) during the run",
            "server": "PostgreSQL as configured (see pg_settings; autovacuum stays on, so the second run "
            "may overlap the vacuum of the rows the first run wrote, as it would in production)",
        },
    }


def print_table(report: dict) -> None:
    second = report["second_run"]
    say("")
    say(f"analytics: {report['customers']:,} customers, {report['orders']:,} orders")
    say(f"{'':<12}{'seconds':>10}{'GROUP BY s':>12}{'ratio':>8}{'peak MB':>10}{'queries':>9}{'changed':>10}")
    for label, row in (("first run", report), ("second run", second)):
        changed = "" if row.get("changed") is None else f"{row['changed']:,}"
        say(
            f"{label:<12}{row['seconds']:>10.2f}{row['raw_groupby_seconds']:>12.2f}{row['ratio']:>8.2f}"
            f"{row['peak_rss_mb']:>10.0f}{row['sql_queries']:>9}{changed:>10}"
        )
    say("targets: " + ", ".join(f"{k}={v}" for k, v in report["targets"].items() if isinstance(v, bool)))
    incremental = report.get("incremental")
    if incremental:
        check = incremental["check"]
        say(
            f"nights: median {incremental['median_seconds']:.2f} s = {incremental['median_ratio']:.2f} x "
            f"GROUP BY (max {incremental['max_ratio']:.2f} x); identical to a full recompute after "
            f"{check.get('after_nights')} nights: {incremental['identical_to_full_recompute']} "
            f"(full recompute {check.get('full_recompute_seconds')} s)"
        )
    say("slowest statements of the first run:")
    for item in report["top_statements"][:4]:
        say(f"  {item['seconds']:7.2f} s  {item['sql'][:150]}")


def upgrade_if_changed(options: dict[str, str], db: str, log: Path) -> bool:
    """Upgrade shop_crm in ``db`` when the addon's models/data changed since it was built or last upgraded."""
    if read_parameter(options, db, ADDON_META_KEY) == addon_fingerprint():
        return False
    step = time.perf_counter()
    say(f"upgrading shop_crm in {db} (the addon changed since it was built; log: {log})")
    run_logged(
        [str(ROOT / "scripts" / "odoo"), "-d", db, "-u", "shop_crm", "--stop-after-init", "--log-level=warn"],
        log,
        "upgrading shop_crm",
    )
    write_parameter(options, db, ADDON_META_KEY, addon_fingerprint())
    say(f"  upgraded in {time.perf_counter() - step:.1f} s")
    return True


def add_chain_arguments(parser: argparse.ArgumentParser, default_db: str, default_output: Path) -> None:
    """The options of a benchmark on the generated chain database: sizes, database, rebuild, output, check."""
    parser.add_argument("--small", action="store_true", help="100,000 customers / 1,000,000 orders")
    parser.add_argument("--customers", type=int, help=f"customers (default {FULL[0]:,})")
    parser.add_argument("--orders", type=int, help=f"orders, POS + sales (default {FULL[1]:,})")
    parser.add_argument("--db", default=default_db, help=f"benchmark database (default {default_db})")
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--rebuild", action="store_true", help="rebuild the database even if it fits")
    group.add_argument(
        "--keep-db", action="store_true", help="use the database as it is (no rebuild/upgrade)"
    )
    parser.add_argument("--seed", type=int, default=2024, help="data generator seed")
    parser.add_argument("--output", type=Path, default=default_output)
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_chain_arguments(parser, DEFAULT_DB, DEFAULT_OUTPUT)
    parser.add_argument("--days", type=int, default=10, help="nights of new orders after the runs (0: none)")
    parser.add_argument(
        "--incremental-into",
        type=Path,
        help="write only the nights' results, as the 'incremental' section of this report (e.g. a --small "
        "run into the 1M / 10M report, whose other keys stay)",
    )
    parser.add_argument("--internal", choices=("orm-setup", "measure"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.internal:
        report = orm_setup(args.db) if args.internal == "orm-setup" else measure(args.db, args.days)
        sys.stdout.write(RESULT_PREFIX + json.dumps(report, default=str) + "\n")
        return 0

    default = SMALL if args.small else FULL
    args.customers = args.customers or default[0]
    args.orders = args.orders or default[1]
    if args.customers < 100 or args.orders < 100:
        parser.error("--customers and --orders must be >= 100")
    if not re.fullmatch(r"[a-z][a-z0-9_]{0,50}", args.db):
        parser.error("--db: lowercase letters, digits and _ only")

    subprocess.run(["bash", str(ROOT / "scripts" / "setup.sh")], check=True, cwd=ROOT)
    work = work_dir()
    options = odoo_options(work)
    built = ensure_database(args, options, work)
    run_db = f"{args.db}_run"
    copy_seconds = copy_database(options, args.db, run_db)
    say(f"copied {args.db} to {run_db} in {copy_seconds:.1f} s; measuring")
    measured_report = internal_call("measure", run_db, work / "bench_analytics.log", days=args.days)
    if measured_report.get("engine_missing"):
        sys.stderr.write(
            f"error: the model {ENGINE_MODEL} does not exist yet in {run_db}; nothing measured\n"
        )
        return 2
    statements_file = work / f"bench_analytics_statements_{args.db}.sql"
    with statements_file.open("w", encoding="utf-8") as out:
        for name in ("first", "second"):
            for item in measured_report[name]["top_statements_full"]:
                out.write(f"-- {name} run: {item['seconds']} s\n{item['sql']};\n\n")
    report = build_report(args, built, measured_report, copy_seconds)
    if args.incremental_into:
        merged = json.loads(args.incremental_into.read_text(encoding="utf-8"))
        merged["incremental"] = report["incremental"]
        report, args.output = merged, args.incremental_into
    args.output.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.output.with_name(args.output.name + ".tmp")
    tmp.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(tmp, args.output)
    print_table(report)
    say(
        f"targets met: {report['targets_met']}\nwrote {args.output} "
        f"(slowest statements in full: {statements_file})"
    )
    return 0 if (report["targets_met"] or not args.check) else 1


if __name__ == "__main__":
    sys.exit(main())
