"""Benchmark of the owner's KPIs (``shop.crm.kpi``) at scale: ``compute()`` for a one-month period and the
dashboard's first load (``dashboard_data``), against the plain GROUP BY over the same month's orders.

Usage (with the project's virtualenv; ``make bench ARGS="kpi ..."`` does the same)::

    .venv/bin/python bench/kpi.py [--small] [--customers N] [--orders M] [--db NAME]
                                  [--rebuild | --keep-db] [--seed S] [--output PATH] [--check]

1. Runs ``scripts/setup.sh``, then makes sure the benchmark database ``--db`` (default
   ``shop_crm_bench_kpi``, its own: the analytics benchmark's ``shop_crm_bench`` is left alone) holds N
   customers and M orders (default 1,000,000 / 10,000,000; ``--small``: 100,000 / 1,000,000), built
   exactly as the analytics benchmark builds its database (bench/analytics.py, bench/analytics_build.sql;
   upgraded with ``-u shop_crm`` when the addon changed).
2. Once per built database, the KPI layer (recorded in ``ir_config_parameter`` ``shop_crm_bench.kpi``):
   40 products in 8 categories (ORM), one or two product lines for every POS order of the last 14 months
   (set-based SQL; the line totals add up to the order's; refunds get negative quantities), so that the
   top categories per RFM segment and the festival demand read real order lines; then one analytics run
   (RFM segments and matrix, lifecycle stages, change history), committed.
3. Measures in ONE fresh Python process that loads Odoo in-process, as the superuser in the main company,
   for P = last month (in the shop's timezone) and today's festivals:
     a. the plain GROUP BY partner over the orders of P (paid POS orders with a customer and confirmed
        sales orders of the company: count and sum of the totals, consumed server-side), run once untimed
        to warm the caches, then timed 3 times: the median is used;
     b. ``env['shop.crm.kpi'].compute(P)``;
     c. ``env['shop.crm.kpi'].dashboard_data('last_month')`` in a new cursor: the dashboard's first load
        (tiles for P and P', every chart, scorecards, neglected customers, top movers).
   For each: wall seconds, SQL queries, peak RSS of the process (absolute, as bench/analytics.py measures
   it), the slowest statements.
4. Writes ``bench/results/kpi.json`` and prints a short table. Targets (issue 16): compute <= 2 x the plain
   GROUP BY, the dashboard's first load <= 3 x, peak RSS <= 1 GB. ``--check``: exit status 1 when missed.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import analytics
from bench_common import odoo_options, say, work_dir

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUTPUT = ROOT / "bench" / "results" / "kpi.json"
DEFAULT_DB = "shop_crm_bench_kpi"
KPI_META_KEY = "shop_crm_bench.kpi"
KPI_LAYER_VERSION = 1
LINE_MONTHS = 14  # POS orders of the last 14 months get product lines (P, P' and last year's festivals)
TARGETS = {"compute_ratio": 2.0, "dashboard_ratio": 3.0, "peak_rss_mb": 1024.0}
RESULT_PREFIX = "SHOP_CRM_BENCH_RESULT "
RAW_REPEAT = 3

# The baseline: the plain GROUP BY over the orders of the period (the same rows compute() counts).
RAW_GROUPBY_SQL = """
SELECT count(*), sum(s.orders), sum(s.total)
FROM (
    SELECT o.partner_id, count(*) AS orders, sum(o.amount_total) AS total
    FROM (
        SELECT partner_id, amount_total FROM pos_order
        WHERE state IN ('paid', 'done', 'invoiced') AND company_id = %(company)s AND partner_id IS NOT NULL
          AND date_order >= %(start)s AND date_order < %(end)s
        UNION ALL
        SELECT partner_id, amount_total FROM sale_order
        WHERE state = 'sale' AND company_id = %(company)s AND partner_id IS NOT NULL
          AND date_order >= %(start)s AND date_order < %(end)s
    ) AS o
    GROUP BY o.partner_id
) AS s
"""

LINES_SQL = """
INSERT INTO pos_order_line (order_id, product_id, name, full_product_name, qty, price_unit, price_subtotal,
                            price_subtotal_incl, company_id, create_uid, write_uid, create_date, write_date)
SELECT o.id, (%(products)s::int[])[1 + (o.id * 7 + n * 13) %% %(count)s], 'bench', 'bench',
       sign(o.amount_total), abs(o.amount_total) / (1 + o.id %% 2),
       o.amount_total / (1 + o.id %% 2), o.amount_total / (1 + o.id %% 2),
       o.company_id, 1, 1, o.date_order, o.date_order
  FROM pos_order o CROSS JOIN LATERAL generate_series(1, 1 + o.id %% 2) AS n
 WHERE o.company_id = %(company)s AND o.date_order >= %(since)s
   AND NOT EXISTS (SELECT 1 FROM pos_order_line l WHERE l.order_id = o.id)
"""


def internal_call(mode: str, db: str, log: Path) -> dict:
    """Run this file in ``--internal MODE`` in a fresh process; return the JSON it reports."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--internal", mode, "--db", db]
    result = subprocess.run(cmd, capture_output=True, text=True, check=False, cwd=ROOT)
    with log.open("a", encoding="utf-8") as out:
        out.write(f"\n$ {' '.join(cmd)}\n{result.stderr}")
    lines = [line for line in result.stdout.splitlines() if line.startswith(RESULT_PREFIX)]
    if result.returncode != 0 or not lines:
        sys.stderr.write(result.stderr[-6000:] + result.stdout[-2000:])
        raise SystemExit(f"error: {mode} in {db} failed (exit {result.returncode})")
    return json.loads(lines[-1][len(RESULT_PREFIX) :])


def prepare(db: str) -> dict:
    """The KPI layer (see the module docstring, step 2), committed."""
    odoo, registry = analytics.load_odoo(db)
    from odoo import api

    started = time.perf_counter()
    with registry.cursor() as cr:
        env = api.Environment(cr, odoo.SUPERUSER_ID, {})
        company = env.ref("base.main_company")
        products = env["product.product"]
        for index in range(8):
            category = env["product.category"].create({"name": f"Bench category {index + 1}"})
            products |= products.create(
                [
                    {
                        "name": f"Bench product {index + 1}.{number + 1}",
                        "categ_id": category.id,
                        "type": "consu",
                    }
                    for number in range(5)
                ]
            )
        today = company._shop_crm_today()
        since = company._shop_crm_day_start(today - datetime.timedelta(days=LINE_MONTHS * 31))
        cr.execute(
            LINES_SQL,
            {"products": products.ids, "count": len(products), "company": company.id, "since": since},
        )
        lines = cr.rowcount
        cr.commit()
        lines_seconds = time.perf_counter() - started
        cr.execute("ANALYZE pos_order_line")
        step = time.perf_counter()
        result = env["shop.crm.analytics"].run()
        cr.commit()
        return {
            "products": len(products),
            "lines": lines,
            "lines_seconds": round(lines_seconds, 1),
            "analytics_seconds": round(time.perf_counter() - step, 1),
            "analytics": json.loads(json.dumps(result, default=str)),
        }


def measure(db: str) -> dict:
    """Time the plain GROUP BY, compute() and the dashboard's first load in this process."""
    memory = analytics.PeakMemory()
    odoo, registry = analytics.load_odoo(db)
    from odoo import api
    from odoo.addons.shop_crm.lib import kpi

    with registry.cursor() as cr:
        env = api.Environment(cr, odoo.SUPERUSER_ID, {})
        company = env.ref("base.main_company")
        date_from, date_to = kpi.preset("last_month", company._shop_crm_today())
        params = {
            "company": company.id,
            "start": company._shop_crm_day_start(date_from),
            "end": company._shop_crm_day_start(date_to + datetime.timedelta(days=1)),
        }
        cr.execute("SHOW server_version")
        server_version = cr.fetchone()[0]
        cr.execute(RAW_GROUPBY_SQL, params)  # warms the caches (untimed)
        customers = cr.fetchone()[0]
        cr.execute("SELECT count(*) FROM pos_order_line")
        lines = cr.fetchone()[0]

    def raw_groupby():
        with registry.cursor() as cr:
            cr.execute(RAW_GROUPBY_SQL, params)
            return cr.fetchone()[0]

    def compute():
        with registry.cursor() as cr:
            env = api.Environment(cr, odoo.SUPERUSER_ID, {})
            return env["shop.crm.kpi"].compute(date_from, date_to, company=company.id)

    def dashboard():
        with registry.cursor() as cr:
            env = api.Environment(cr, odoo.SUPERUSER_ID, {"allowed_company_ids": [company.id]})
            data = env["shop.crm.kpi"].dashboard_data("last_month")
            return {
                "tiles": len(data["tiles"]),
                "festivals": [
                    (f["name"], f["buyers"], len(f["products"])) for f in data["charts"]["festivals"]
                ],
                "segments_with_categories": len(data["charts"]["segment_categories"]),
                "scorecards": len(data["scorecards"]),
                "neglected": data["neglected"]["count"],
            }

    raws = sorted(
        (analytics.measured(odoo, memory, raw_groupby) for _ in range(RAW_REPEAT)), key=lambda r: r["seconds"]
    )
    raw = raws[len(raws) // 2]
    computed = analytics.measured(odoo, memory, compute)
    loaded = analytics.measured(odoo, memory, dashboard)

    def phase(run):
        return {
            "seconds": round(run["seconds"], 3),
            "peak_rss_mb": round(run["peak_rss_mb"], 1),
            "rss_before_mb": round(run["rss_before_mb"] or 0, 1),
            "sql_queries": run["sql_queries"],
            "result": json.loads(json.dumps(run["result"], default=str)),
            "top_statements": run["top_statements"],
        }

    return {
        "postgresql": server_version,
        "period": [date_from.isoformat(), date_to.isoformat()],
        "customers_in_period": customers,
        "pos_order_lines": lines,
        "peak_rss_resettable": memory.resettable,
        "raw_groupby_seconds": round(raw["seconds"], 3),
        "raw_groupby_runs": [round(r["seconds"], 3) for r in raws],
        "compute": phase(computed),
        "dashboard": phase(loaded),
    }


def build_report(built: dict, layer: dict, measured_report: dict) -> dict:
    raw = measured_report["raw_groupby_seconds"]
    compute, dashboard = measured_report["compute"], measured_report["dashboard"]
    compute_ratio = compute["seconds"] / raw if raw else None
    dashboard_ratio = dashboard["seconds"] / raw if raw else None
    peak = max(compute["peak_rss_mb"], dashboard["peak_rss_mb"])
    targets = {
        "compute_ratio_le_2": bool(compute_ratio is not None and compute_ratio <= TARGETS["compute_ratio"]),
        "dashboard_ratio_le_3": bool(
            dashboard_ratio is not None and dashboard_ratio <= TARGETS["dashboard_ratio"]
        ),
        "peak_rss_le_1024_mb": bool(peak <= TARGETS["peak_rss_mb"]),
    }
    return {
        "customers": built["customers"],
        "orders": built["orders"],
        "period": measured_report["period"],
        "customers_in_period": measured_report["customers_in_period"],
        "pos_order_lines": measured_report["pos_order_lines"],
        "raw_groupby_seconds": measured_report["raw_groupby_seconds"],
        "raw_groupby_runs": measured_report["raw_groupby_runs"],
        "compute_seconds": compute["seconds"],
        "compute_ratio": round(compute_ratio, 3) if compute_ratio is not None else None,
        "dashboard_seconds": dashboard["seconds"],
        "dashboard_ratio": round(dashboard_ratio, 3) if dashboard_ratio is not None else None,
        "peak_rss_mb": peak,
        "compute": compute,
        "dashboard": dashboard,
        "targets": {
            "compute_max_ratio": TARGETS["compute_ratio"],
            "dashboard_max_ratio": TARGETS["dashboard_ratio"],
            "max_peak_rss_mb": TARGETS["peak_rss_mb"],
            **targets,
        },
        "targets_met": all(targets.values()),
        "machine": analytics.machine_info(measured_report["postgresql"]),
        "load_average": list(os.getloadavg()),
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "data_label": (
            f"synthetic shop (bench/analytics_build.sql v{built['generator']}, seed {built['seed']}): "
            f"{built['customers']:,} customers, {built['orders']:,} orders over "
            f"{analytics.HORIZON_DAYS} days; "
            f"KPI layer v{layer['version']}: {layer['products']} products in 8 categories, "
            f"{layer['lines']:,} POS order lines (the orders of the last {LINE_MONTHS} months), "
            "one analytics run"
        ),
        "method": {
            "raw_groupby": "plain GROUP BY partner_id (count, sum amount_total) over the paid POS orders "
            "with a customer and confirmed sales orders of the company dated in P (the shop's days as UTC "
            "bounds), "
            f"consumed server-side; run once untimed, then timed {RAW_REPEAT} times: the median is used",
            "compute": "wall time of env['shop.crm.kpi'].compute(P) in a new cursor, P = last month",
            "dashboard": "wall time of env['shop.crm.kpi'].dashboard_data('last_month') in a new cursor: "
            "compute(P) and compute(P'), every chart, scorecards, neglected customers, top movers",
            "peak_rss_mb": "peak resident memory of the measuring Python process (includes the loaded Odoo "
            "registry); PostgreSQL server memory not included",
        },
    }


def print_table(report: dict) -> None:
    say("")
    say(
        f"kpi: {report['customers']:,} customers, {report['orders']:,} orders, "
        f"P = {' - '.join(report['period'])}"
    )
    say(f"{'':<22}{'seconds':>10}{'ratio':>8}{'peak MB':>10}{'queries':>9}")
    say(f"{'plain GROUP BY (P)':<22}{report['raw_groupby_seconds']:>10.2f}")
    for label, key in (("compute(P)", "compute"), ("dashboard first load", "dashboard")):
        row = report[key]
        ratio = report[f"{key}_ratio"]
        say(
            f"{label:<22}{row['seconds']:>10.2f}{ratio:>8.2f}{row['peak_rss_mb']:>10.0f}{row['sql_queries']:>9}"
        )
    say("targets: " + ", ".join(f"{k}={v}" for k, v in report["targets"].items() if isinstance(v, bool)))
    say("slowest statements of the dashboard's first load:")
    for item in report["dashboard"]["top_statements"][:4]:
        say(f"  {item['seconds']:7.2f} s  {item['sql'][:150]}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    analytics.add_chain_arguments(parser, DEFAULT_DB, DEFAULT_OUTPUT)
    parser.add_argument("--internal", choices=("prepare", "measure"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.internal:
        report = prepare(args.db) if args.internal == "prepare" else measure(args.db)
        sys.stdout.write(RESULT_PREFIX + json.dumps(report, default=str) + "\n")
        return 0

    default = analytics.SMALL if args.small else analytics.FULL
    args.customers = args.customers or default[0]
    args.orders = args.orders or default[1]
    if args.customers < 100 or args.orders < 100:
        parser.error("--customers and --orders must be >= 100")
    if not re.fullmatch(r"[a-z][a-z0-9_]{0,50}", args.db):
        parser.error("--db: lowercase letters, digits and _ only")

    subprocess.run(["bash", str(ROOT / "scripts" / "setup.sh")], check=True, cwd=ROOT)
    work = work_dir()
    options = odoo_options(work)
    log = work / "bench_kpi.log"
    built = analytics.ensure_database(args, options, work)
    raw_layer = analytics.read_parameter(options, args.db, KPI_META_KEY)
    layer = json.loads(raw_layer) if raw_layer else None
    if not layer or layer.get("version") != KPI_LAYER_VERSION or layer.get("built_on") != built["built_on"]:
        say(f"adding the KPI layer to {args.db}: products, order lines, one analytics run (log: {log})")
        step = time.perf_counter()
        layer = dict(
            internal_call("prepare", args.db, log), version=KPI_LAYER_VERSION, built_on=built["built_on"]
        )
        analytics.write_parameter(options, args.db, KPI_META_KEY, json.dumps(layer, sort_keys=True))
        say(
            f"  {layer['lines']:,} order lines, analytics in {layer['analytics_seconds']:.0f} s "
            f"({time.perf_counter() - step:.0f} s)"
        )
    say(f"measuring in {args.db}")
    measured_report = internal_call("measure", args.db, log)
    report = build_report(built, layer, measured_report)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.output.with_name(args.output.name + ".tmp")
    tmp.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(tmp, args.output)
    print_table(report)
    say(f"targets met: {report['targets_met']}\nwrote {args.output}")
    return 0 if (report["targets_met"] or not args.check) else 1


if __name__ == "__main__":
    sys.exit(main())
