"""Benchmark of the Point of Sale order sync with Shop CRM against plain ``pos_loyalty``.

Usage (with the project's virtualenv; ``make bench ARGS=pos`` does the same)::

    .venv/bin/python bench/pos.py [--orders 200] [--customers 1000] [--large-customers 1000000]
                                  [--session-loads 5] [--redeem-every 5] [--warmup 5]
                                  [--workers 2] [--output PATH] [--check] [--keep-db]

In one run, two throwaway databases are built the same way from the project's template: one with Shop CRM
(``shop_crm_pospoints_bench_shop_crm_<pid>``), one with only Odoo's ``pos_loyalty``
(``..._pos_loyalty_<pid>``, the member program created as Shop CRM creates it: 1 point per currency unit,
100 points = 10 off). Each gets one POS shop with an open session, ``--customers`` members with a card of
500 points, and a cashier with POS rights only. Against each, a multi-worker Odoo is started and one till
syncs ``--orders`` member orders one at a time over HTTP JSON-RPC, as Odoo's POS does: (Shop CRM only, for
orders that redeem: ``shop_crm_reserve_points``), ``validate_coupon_programs`` when the order redeems,
``sync_from_ui``, ``confirm_coupon_programs`` and ``add_loyalty_history_lines``. Every ``--redeem-every``-th
order redeems 100 points. The first ``--warmup`` orders are not measured.

Per order: wall seconds of its requests (client side) and SQL queries (the query count Odoo logs for each
request). Then the till's session load (``pos.session.load_data`` as the POS calls it when it starts,
``--session-loads`` times). Then each database is filled to ``--large-customers`` customers (default
1,000,000; set-based SQL in ``pos_common.fill_customers``: a mobile and a member card with 500 points and
its history line each, with Shop CRM also the member code and ledger entry) and the same orders and
session loads are measured again.

Reported: p50/p95 seconds and mean queries per order for both, at both sizes, the session loads, and the
targets of issue 13: Shop CRM's p95 <= 1.25 x plain and queries <= plain + 12 (at ``--customers``); Shop
CRM's p95 at ``--large-customers`` within 1.2 x its p95 at ``--customers``; the session load at
``--large-customers`` <= 1.2 x plain's. Written to ``bench/results/pos.json`` with the machine's load
average (the benchmark machine may be shared); ``--check`` exits 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import re
import statistics
import subprocess
import time

import pos_common as pc

TARGETS = {
    "p95_ratio": 1.25,
    "extra_queries": 12,
    "p95_large_vs_small": 1.2,
    "session_load_large_ratio": 1.2,
}
REQUEST = re.compile(r'"POST /web/dataset/call_kw/pos\.order/(\w+) HTTP/1\.[01]" 200 - (\d+) ')
LOAD_REQUEST = re.compile(r'"POST /web/dataset/call_kw/pos\.session/load_data HTTP/1\.[01]" 200 - (\d+) ')


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))
    return ordered[index]


def sync_orders(args, variant: str, shop: dict, client, server_log) -> dict:
    """Sync ``--orders`` (+ warm-up) member orders one at a time; p50/p95 seconds and queries per order."""
    till = shop["tills"][0]
    seconds, calls = [], []
    members = shop["members"]
    start_line = len(server_log.read_text().splitlines())
    for sequence in range(1, args.orders + args.warmup + 1):
        member = members[(sequence * 7919) % len(members)]
        redeem = 100.0 if sequence % args.redeem_every == 0 else 0.0
        order = pc.till_order(shop, till, member, shop["next_sequence"] + sequence, 30.0, redeem)
        card = str(member["card_id"])
        count = 0
        begin = time.perf_counter()
        if redeem:
            if variant == "shop_crm":
                client.call("pos.order", "shop_crm_reserve_points", order["uuid"], {card: 30.0 - redeem})
                count += 1
            client.call("pos.order", "validate_coupon_programs", [], {card: 30.0 - redeem}, [])
            count += 1
        result = client.call("pos.order", "sync_from_ui", [pc.sync_payload(order)])
        order_id = result["pos.order"][0]["id"]
        data = pc.coupon_data(shop, member, 30.0, redeem, order["_reward_code"])
        answer = client.call("pos.order", "confirm_coupon_programs", [order_id], data)
        updates = [{"id": u["id"], "old_id": u["old_id"]} for u in answer["coupon_updates"]]
        history = [{"order_id": order_id, "card_id": card, "spent": redeem, "won": 30.0}]
        client.call("pos.order", "add_loyalty_history_lines", [order_id], history, updates)
        count += 3
        elapsed = time.perf_counter() - begin
        calls.append(count)
        if sequence > args.warmup:
            seconds.append(elapsed)
    shop["next_sequence"] += args.orders + args.warmup
    time.sleep(1)  # the last request's log line
    text = "\n".join(server_log.read_text().splitlines()[start_line:])
    counts = [int(match.group(2)) for match in REQUEST.finditer(text)]
    if len(counts) != sum(calls):
        raise SystemExit(f"{variant}: {len(counts)} logged requests for {sum(calls)} calls ({server_log})")
    queries, position = [], 0
    for index, count in enumerate(calls):
        if index >= args.warmup:
            queries.append(sum(counts[position : position + count]))
        position += count
    return {
        "orders": len(seconds),
        "p50_seconds": round(percentile(seconds, 0.5), 4),
        "p95_seconds": round(percentile(seconds, 0.95), 4),
        "mean_seconds": round(statistics.mean(seconds), 4),
        "queries_per_order": round(statistics.mean(queries), 1),
        "queries_per_order_max": max(queries),
    }


def load_sessions(args, shop: dict, client, server_log) -> dict:
    """The till's session load (``pos.session.load_data``, every model, as the POS calls it when it
    starts), ``--session-loads`` times after one warm-up: median and max seconds, queries, customers."""
    session_id = shop["tills"][0]["session_id"]
    start_line = len(server_log.read_text().splitlines())
    seconds, partners = [], 0
    for index in range(args.session_loads + 1):
        begin = time.perf_counter()
        data = client.call("pos.session", "load_data", [session_id], [])
        if index:
            seconds.append(time.perf_counter() - begin)
        partners = len(data["res.partner"]["data"])
    time.sleep(1)
    text = "\n".join(server_log.read_text().splitlines()[start_line:])
    counts = [int(match.group(1)) for match in LOAD_REQUEST.finditer(text)][1:]
    return {
        "loads": len(seconds),
        "median_seconds": round(statistics.median(seconds), 4),
        "max_seconds": round(max(seconds), 4),
        "queries": round(statistics.mean(counts), 1) if counts else None,
        "customers_loaded": partners,
    }


def run_variant(args, variant: str, work, options) -> dict:
    modules = "shop_crm" if variant == "shop_crm" else "pos_loyalty"
    db = pc.new_database_name(f"shop_crm_pospoints_bench_{variant}")
    log = work / f"pos_bench_{variant}.log"
    log.write_text("")
    server = None
    phases = {}
    try:
        pc.say(f"pos bench: {variant}: building {db}")
        started = time.monotonic()
        pc.create_database(db, modules, log)
        shop = pc.odoo_shell(
            db, pc.SETUP, {"tills": 1, "members": args.customers, "points": 500.0, "login": "till"}, log
        )
        shop["next_sequence"] = 0
        pc.say(f"pos bench: {variant}: built in {time.monotonic() - started:.0f}s")
        sizes = [("small", 0)]
        if args.large_customers:
            sizes.append(("large", args.large_customers))
        for phase, total in sizes:
            if total:
                started = time.monotonic()
                added = pc.fill_customers(options, db, shop, total)
                pc.say(f"pos bench: {variant}: {added} customers added in {time.monotonic() - started:.0f}s")
            customers = pc.query(options, db, "SELECT count(*) FROM res_partner")[0][0]
            server_log = work / f"pos_bench_{variant}_{phase}_server.log"
            server_log.write_text("")
            server = pc.Server(db, args.workers, server_log, extra=["--log-handler=werkzeug:INFO"])
            server.wait_ready()
            # plain pos_loyalty loads every card of the till's programs: minutes at 1,000,000 members
            client = pc.Till(server.url, db, shop["login"], shop["login"], timeout=1800)
            result = {"customers": customers, **sync_orders(args, variant, shop, client, server_log)}
            result["session_load"] = load_sessions(args, shop, client, server_log)
            server.stop()
            server = None
            phases[phase] = result
            pc.say(f"pos bench: {variant}: {phase}: {json.dumps(result)}")
        return {"database": db, **phases}
    finally:
        if server:
            server.stop()
        if not args.keep_db:
            pc.drop_database(db, work)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--orders", type=int, default=200)
    parser.add_argument("--customers", type=int, default=1000, help="members made through the ORM")
    parser.add_argument(
        "--large-customers",
        type=int,
        default=1_000_000,
        help="then fill each database to this many customers (SQL) and measure again; 0: skip",
    )
    parser.add_argument("--session-loads", type=int, default=5)
    parser.add_argument("--redeem-every", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--output", default=str(pc.ROOT / "bench" / "results" / "pos.json"))
    parser.add_argument("--check", action="store_true")
    parser.add_argument("--keep-db", action="store_true")
    args = parser.parse_args()
    work, options = pc.setup_environment()
    load_before = os.getloadavg()
    plain = run_variant(args, "pos_loyalty", work, options)
    shop_crm = run_variant(args, "shop_crm", work, options)
    small, plain_small = shop_crm["small"], plain["small"]
    ratio = small["p95_seconds"] / plain_small["p95_seconds"]
    extra = small["queries_per_order"] - plain_small["queries_per_order"]
    measured = {"p95_ratio": round(ratio, 3), "extra_queries_per_order": round(extra, 1)}
    met = {"p95_ratio": ratio <= TARGETS["p95_ratio"], "extra_queries": extra <= TARGETS["extra_queries"]}
    if "large" in shop_crm:
        large, plain_large = shop_crm["large"], plain["large"]
        scale = large["p95_seconds"] / small["p95_seconds"]
        session = large["session_load"]["median_seconds"] / plain_large["session_load"]["median_seconds"]
        measured |= {"p95_large_vs_small": round(scale, 3), "session_load_large_ratio": round(session, 3)}
        met |= {
            "p95_large_vs_small": scale <= TARGETS["p95_large_vs_small"],
            "session_load_large_ratio": session <= TARGETS["session_load_large_ratio"],
        }
    report = {
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "load_average_start": [round(value, 2) for value in load_before],
            "load_average_end": [round(value, 2) for value in os.getloadavg()],
            "uptime_end": subprocess.run(
                ["uptime"], capture_output=True, text=True, check=False
            ).stdout.strip(),
        },
        "settings": {
            "orders": args.orders,
            "customers": args.customers,
            "large_customers": args.large_customers,
            "session_loads": args.session_loads,
            "redeem_every": args.redeem_every,
            "warmup": args.warmup,
            "workers": args.workers,
        },
        "pos_loyalty": plain,
        "shop_crm": shop_crm,
        **measured,
        "targets": TARGETS,
        "met": met,
    }
    with open(args.output, "w", encoding="utf-8") as out:
        json.dump(report, out, indent=2)
        out.write("\n")
    pc.say(
        f"pos bench: p95 {small['p95_seconds']}s vs {plain_small['p95_seconds']}s = {ratio:.2f} x "
        f"(target <= {TARGETS['p95_ratio']}); queries/order {small['queries_per_order']} vs "
        f"{plain_small['queries_per_order']} = +{extra:.1f} (target <= +{TARGETS['extra_queries']})"
    )
    if "large" in shop_crm:
        large, plain_large = shop_crm["large"], plain["large"]
        pc.say(
            f"pos bench: at {large['customers']} customers: p95 {large['p95_seconds']}s"
            f" = {measured['p95_large_vs_small']:.2f} x the p95 at {small['customers']} "
            f"(target <= {TARGETS['p95_large_vs_small']}); session load "
            f"{large['session_load']['median_seconds']}s vs {plain_large['session_load']['median_seconds']}s"
            f" = {measured['session_load_large_ratio']:.2f} x"
            f" (target <= {TARGETS['session_load_large_ratio']})"
        )
    pc.say(f"pos bench: {args.output}; {report['machine']['uptime_end']}")
    return 1 if args.check and not all(met.values()) else 0


if __name__ == "__main__":
    raise SystemExit(main())
