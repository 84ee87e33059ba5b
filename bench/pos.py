"""Benchmark of the Point of Sale order sync with Shop CRM against plain ``pos_loyalty``.

Usage (with the project's virtualenv; ``make bench ARGS=pos`` does the same)::

    .venv/bin/python bench/pos.py [--orders 200] [--customers 1000] [--redeem-every 5] [--warmup 5]
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
request). Reported: p50/p95 seconds and mean queries per order for both, the ratios, and the targets of
issue 13: Shop CRM's p95 <= 1.25 x plain, queries <= plain + 12. Written to ``bench/results/pos.json``;
``--check`` exits 1 when a target is missed. Not measured here: the same p95 at 1,000,000 customers and
the session load with 1,000,000 customers (see the README).
"""

from __future__ import annotations

import argparse
import datetime
import json
import platform
import re
import statistics
import time

import pos_common as pc

TARGETS = {"p95_ratio": 1.25, "extra_queries": 12}
REQUEST = re.compile(r'"POST /web/dataset/call_kw/pos\.order/(\w+) HTTP/1\.[01]" 200 - (\d+) ')


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))
    return ordered[index]


def run_variant(args, variant: str, work) -> dict:
    modules = "shop_crm" if variant == "shop_crm" else "pos_loyalty"
    db = pc.new_database_name(f"shop_crm_pospoints_bench_{variant}")
    log = work / f"pos_bench_{variant}.log"
    server_log = work / f"pos_bench_{variant}_server.log"
    log.write_text("")
    server_log.write_text("")
    server = None
    try:
        pc.say(f"pos bench: {variant}: building {db}")
        started = time.monotonic()
        pc.create_database(db, modules, log)
        shop = pc.odoo_shell(
            db, pc.SETUP, {"tills": 1, "members": args.customers, "points": 500.0, "login": "till"}, log
        )
        pc.say(f"pos bench: {variant}: built in {time.monotonic() - started:.0f}s")
        server = pc.Server(db, args.workers, server_log, extra=["--log-handler=werkzeug:INFO"])
        server.wait_ready()
        client = pc.Till(server.url, db, shop["login"], shop["login"])
        till = shop["tills"][0]
        seconds, calls = [], []
        members = shop["members"]
        for sequence in range(1, args.orders + args.warmup + 1):
            member = members[(sequence * 7919) % len(members)]
            redeem = 100.0 if sequence % args.redeem_every == 0 else 0.0
            order = pc.till_order(shop, till, member, sequence, 30.0, redeem)
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
        server.stop()
        server = None
        counts = [int(match.group(2)) for match in REQUEST.finditer(server_log.read_text())]
        if len(counts) != sum(calls):
            raise SystemExit(
                f"{variant}: {len(counts)} logged requests for {sum(calls)} calls ({server_log})"
            )
        queries, position = [], 0
        for index, count in enumerate(calls):
            if index >= args.warmup:
                queries.append(sum(counts[position : position + count]))
            position += count
        result = {
            "database": db,
            "orders": len(seconds),
            "p50_seconds": round(percentile(seconds, 0.5), 4),
            "p95_seconds": round(percentile(seconds, 0.95), 4),
            "mean_seconds": round(statistics.mean(seconds), 4),
            "queries_per_order": round(statistics.mean(queries), 1),
            "queries_per_order_max": max(queries),
        }
        pc.say(f"pos bench: {variant}: {json.dumps(result)}")
        return result
    finally:
        if server:
            server.stop()
        if not args.keep_db:
            pc.drop_database(db, work)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--orders", type=int, default=200)
    parser.add_argument("--customers", type=int, default=1000)
    parser.add_argument("--redeem-every", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--output", default=str(pc.ROOT / "bench" / "results" / "pos.json"))
    parser.add_argument("--check", action="store_true")
    parser.add_argument("--keep-db", action="store_true")
    args = parser.parse_args()
    work, _options = pc.setup_environment()
    plain = run_variant(args, "pos_loyalty", work)
    shop_crm = run_variant(args, "shop_crm", work)
    ratio = shop_crm["p95_seconds"] / plain["p95_seconds"]
    extra = shop_crm["queries_per_order"] - plain["queries_per_order"]
    report = {
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "machine": {"python": platform.python_version(), "cpus": __import__("os").cpu_count()},
        "settings": {
            "orders": args.orders,
            "customers": args.customers,
            "redeem_every": args.redeem_every,
            "warmup": args.warmup,
            "workers": args.workers,
        },
        "pos_loyalty": plain,
        "shop_crm": shop_crm,
        "p95_ratio": round(ratio, 3),
        "extra_queries_per_order": round(extra, 1),
        "targets": TARGETS,
        "met": {
            "p95_ratio": ratio <= TARGETS["p95_ratio"],
            "extra_queries": extra <= TARGETS["extra_queries"],
        },
    }
    with open(args.output, "w", encoding="utf-8") as out:
        json.dump(report, out, indent=2)
        out.write("\n")
    pc.say(
        f"pos bench: p95 {shop_crm['p95_seconds']}s vs {plain['p95_seconds']}s = {ratio:.2f} x "
        f"(target <= {TARGETS['p95_ratio']}); queries/order {shop_crm['queries_per_order']} vs "
        f"{plain['queries_per_order']} = +{extra:.1f} (target <= +{TARGETS['extra_queries']}); {args.output}"
    )
    return 1 if args.check and not all(report["met"].values()) else 0


if __name__ == "__main__":
    raise SystemExit(main())
