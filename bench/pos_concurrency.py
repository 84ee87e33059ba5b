"""Proof that member points are never double spent at the Point of Sale, with real concurrency.

Usage (with the project's virtualenv; ``.ci/run`` runs the small size)::

    .venv/bin/python bench/pos_concurrency.py [--tills 4] [--orders 6] [--members 2] [--points 250]
                                              [--workers 2] [--timeout 600] [--seed 1] [--keep-db]

1. Copies the project's template database into a throwaway ``shop_crm_pospoints_conc_<pid>``, installs
   Shop CRM, and sets up (in ``scripts/odoo shell``) a cashier with POS rights only, ``--tills`` shops with
   an open POS session each, and ``--members`` members holding ``--points`` points each.
2. Starts a multi-worker Odoo (``--workers``, default 2, prefork) on 127.0.0.1 with a free port, and runs
   ``--tills`` tills in parallel threads, each with its own HTTP session, doing what Odoo's POS does over
   JSON-RPC. Every till sells ``--orders`` orders, all tills starting each order at the same moment, each
   order going to one of the few members (so tills collide on the same cards) and redeeming 100 points for
   10.00 off (30.00 of goods, which earn 30 points):
   - online tills validate first (``pos.order.shop_crm_reserve_points`` then ``validate_coupon_programs``)
     and, when refused, correct the order to what the member can still use, as the cashier would;
     every third till is "offline": it never validates and syncs with its stale idea of the balance;
   - the till syncs the paid order (``sync_from_ui``), a third of the time from two connections at the
     same moment (a double click, a retry racing the first request), then confirms its coupon points
     (``confirm_coupon_programs`` and ``add_loyalty_history_lines``);
   - errors the till must expect (the order's uuid already being created by the racing request, a
     serialization failure after Odoo's own retries) are retried, at most 8 times.
   Then all tills replay random syncs and confirmations of every till concurrently.
3. Checks in the database: every order exists once per uuid, is paid and earned its 30 points once; its
   redemption was either taken from the card or recorded as its shortfall (never both, never twice), and
   an order whose validation reserved its points is never short;
   every card's balance equals the sum of its ledger and is never negative; no confirmed order keeps an
   open reservation; no unexpected error reached a till. Prints ``pos_concurrency: N passed, M failed``
   and exits 1 on any failure. Bounded by ``--timeout`` seconds and by the number of orders.
The server and the database are removed at the end (``--keep-db`` keeps the database).
"""

from __future__ import annotations

import argparse
import math
import random
import threading
import time
from collections import Counter

import pos_common as pc

EXPECTED_ERRORS = (
    "An order with this uuid already exists",
    "could not serialize access",
    "concurrent update",
    "deadlock detected",
)
EARN_PER_ORDER = 30.0
REDEEM_STEP = 100.0


class Run:
    def __init__(self, args, shop: dict, url: str, db: str):
        self.args = args
        self.shop = shop
        self.url = url
        self.db = db
        self.deadline = time.monotonic() + args.timeout
        self.lock = threading.Lock()
        self.orders: dict[str, dict] = {}  # uuid -> {"payload", "member", "redeem", "code"}
        self.stats = Counter()
        self.unexpected: list[str] = []
        # Two connections per till, logged in one after the other before the traffic starts (the first
        # login of a user creates its settings record; core does not expect that to race).
        self.clients = [(self.login(), self.login()) for _till in shop["tills"]]
        # Every till starts each of its orders at the same moment as the others: validations collide.
        self.barrier = threading.Barrier(len(shop["tills"]), timeout=args.timeout)

    def login(self):
        return pc.Till(self.url, self.db, self.shop["login"], self.shop["login"])

    def note(self, key: str, amount: int = 1) -> None:
        with self.lock:
            self.stats[key] += amount

    def retrying(self, what: str, func):
        """Call ``func`` until it works, retrying the errors a till must expect (8 tries at most)."""
        for attempt in range(8):
            if time.monotonic() > self.deadline:
                raise TimeoutError(f"{what}: out of time")
            try:
                return func()
            except pc.RpcError as error:
                if not any(text in error.message for text in EXPECTED_ERRORS):
                    raise
                self.note(f"expected error: {next(t for t in EXPECTED_ERRORS if t in error.message)}")
                time.sleep(0.05 * (attempt + 1) + random.random() * 0.1)
        raise RuntimeError(f"{what}: still failing after 8 tries")

    # ---- one till -----------------------------------------------------------------------------------

    def sell(self, index: int, rng: random.Random) -> None:
        till = self.shop["tills"][index]
        offline = index % 3 == 2
        client, twin = self.clients[index]
        for sequence in range(1, self.args.orders + 1):
            if time.monotonic() > self.deadline:
                raise TimeoutError("out of time while selling")
            member = rng.choice(self.shop["members"])
            redeem = REDEEM_STEP
            self.barrier.wait()
            order = pc.till_order(self.shop, till, member, sequence, EARN_PER_ORDER, redeem)
            card = str(member["card_id"])
            if not offline:
                for _attempt in range(3):
                    answer = client.call(
                        "pos.order", "shop_crm_reserve_points", order["uuid"], {card: EARN_PER_ORDER - redeem}
                    )
                    if answer["successful"]:
                        break
                    self.note("validations refused")
                    available = float(answer["payload"]["updated_points"][card])
                    # the cashier redeems what is left, in the reward's steps
                    redeem = math.floor((available + EARN_PER_ORDER) / REDEEM_STEP) * REDEEM_STEP
                    order = {
                        **pc.till_order(self.shop, till, member, sequence, EARN_PER_ORDER, redeem),
                        "uuid": order["uuid"],
                    }
                    if not redeem:
                        break
                else:
                    raise RuntimeError("the reservation kept being refused")
                if redeem:
                    valid = client.call(
                        "pos.order", "validate_coupon_programs", [], {card: EARN_PER_ORDER - redeem}, []
                    )
                    if not valid["successful"]:
                        raise RuntimeError(f"validate_coupon_programs refused a reserved order: {valid}")
            with self.lock:
                self.orders[order["uuid"]] = {
                    "payload": order,
                    "member": member,
                    "redeem": redeem,
                    "reserved": not offline and bool(redeem),
                }
            self.sync(client, twin if rng.random() < 0.33 else None, order)
            self.note("orders sold")

    def sync(self, client, twin, order: dict) -> None:
        payload = pc.sync_payload(order)
        results, errors = [], []

        def send(connection):
            try:
                results.append(
                    self.retrying("sync", lambda: connection.call("pos.order", "sync_from_ui", [payload]))
                )
            except Exception as error:  # reported by the caller below, never ignored
                errors.append(error)

        threads = [threading.Thread(target=send, args=(c,)) for c in ([client, twin] if twin else [client])]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if errors:
            raise errors[0]
        if twin:
            self.note("syncs sent twice at once")
        order_id = results[0]["pos.order"][0]["id"]
        entry = self.orders[order["uuid"]]
        redeem = entry["redeem"]
        data = pc.coupon_data(self.shop, entry["member"], EARN_PER_ORDER, redeem, order["_reward_code"])
        answer = self.retrying(
            "confirm", lambda: client.call("pos.order", "confirm_coupon_programs", [order_id], data)
        )
        updates = [{"id": u["id"], "old_id": u["old_id"]} for u in answer["coupon_updates"]]
        history = [
            {
                "order_id": order_id,
                "card_id": str(entry["member"]["card_id"]),  # the till sends a string
                "spent": redeem,
                "won": EARN_PER_ORDER,
            }
        ]
        self.retrying(
            "history",
            lambda: client.call("pos.order", "add_loyalty_history_lines", [order_id], history, updates),
        )

    def replay(self, index: int, rng: random.Random) -> None:
        client, twin = self.clients[index]
        uuids = sorted(self.orders)
        for _ in range(self.args.orders):
            if time.monotonic() > self.deadline:
                raise TimeoutError("out of time while replaying")
            order = self.orders[rng.choice(uuids)]["payload"]
            self.sync(client, twin if rng.random() < 0.5 else None, order)
            self.note("replays")

    def run_threads(self, target) -> None:
        errors = []

        def body(index):
            try:
                target(index, random.Random(self.args.seed * 1000 + index))
            except Exception as error:  # collected and reported: the run fails
                errors.append(f"till {index + 1}: {type(error).__name__}: {error}")

        threads = [threading.Thread(target=body, args=(i,)) for i in range(self.args.tills)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=max(1.0, self.deadline - time.monotonic() + 5))
        if any(thread.is_alive() for thread in threads):
            errors.append("a till was still running at the deadline")
        self.unexpected += errors


def check(options: dict, db: str, run: Run) -> tuple[int, list[str]]:
    """The database's state after the run: (checks passed, failures)."""
    passed, failures = 0, []

    def expect(condition: bool, message: str) -> None:
        nonlocal passed
        if condition:
            passed += 1
        else:
            failures.append(message)

    rows = pc.query(
        options,
        db,
        """
        SELECT o.uuid, COUNT(*) OVER (PARTITION BY o.uuid), o.state, o.shop_crm_points_shortfall,
               COALESCE(SUM(h.issued) FILTER (WHERE h.shop_crm_kind = 'earn'), 0),
               COUNT(h.id) FILTER (WHERE h.shop_crm_kind = 'earn'),
               COALESCE(SUM(h.used) FILTER (WHERE h.shop_crm_kind = 'redeem'), 0),
               COUNT(h.id) FILTER (WHERE h.shop_crm_kind = 'redeem'),
               COUNT(h.id) FILTER (WHERE h.shop_crm_kind IS NULL)
          FROM pos_order o
          LEFT JOIN loyalty_history h ON h.order_model = 'pos.order' AND h.order_id = o.id
         WHERE o.uuid = ANY(%s)
         GROUP BY o.id
        """,
        (list(run.orders),),
    )
    by_uuid = {row[0]: row for row in rows}
    for uuid, entry in run.orders.items():
        row = by_uuid.get(uuid)
        if not row:
            failures.append(f"order {uuid} was never created")
            continue
        _uuid, copies, state, shortfall, earned, earn_lines, redeemed, redeem_lines, odoo_lines = row
        expect(copies == 1, f"order {uuid}: {copies} orders for one uuid")
        expect(state == "paid", f"order {uuid}: state {state}")
        expect(
            earn_lines == 1 and earned == EARN_PER_ORDER,
            f"order {uuid}: earned {earned} in {earn_lines} lines",
        )
        expect(redeem_lines <= 1, f"order {uuid}: {redeem_lines} redemption lines")
        expect(
            abs(redeemed + (shortfall or 0) - entry["redeem"]) < 0.005,
            f"order {uuid}: asked {entry['redeem']}, redeemed {redeemed}, shortfall {shortfall}",
        )
        if entry["reserved"]:
            expect(not shortfall, f"order {uuid}: reserved at validation but short of {shortfall} points")
        expect(odoo_lines == 0, f"order {uuid}: {odoo_lines} member lines written from the till's numbers")
    for card_id, points, ledger in pc.query(
        options,
        db,
        """
        SELECT c.id, c.points, COALESCE(SUM(h.issued - h.used), 0)
          FROM loyalty_card c LEFT JOIN loyalty_history h ON h.card_id = c.id
         WHERE c.id = ANY(%s) GROUP BY c.id
        """,
        ([m["card_id"] for m in run.shop["members"]],),
    ):
        expect(abs(points - ledger) < 0.005, f"card {card_id}: balance {points} but ledger {ledger}")
        expect(points >= -0.005, f"card {card_id}: negative balance {points}")
    (open_reservations,) = pc.query(
        options,
        db,
        """
        SELECT COUNT(*) FROM shop_crm_points_reservation r JOIN pos_order o ON o.uuid = r.order_uuid
         WHERE r.state = 'reserved'
        """,
    )[0]
    expect(open_reservations == 0, f"{open_reservations} reservations of synced orders still open")
    expect(not run.unexpected, "unexpected errors: " + "; ".join(run.unexpected[:5]))
    return passed, failures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--tills", type=int, default=4)
    parser.add_argument("--orders", type=int, default=6, help="orders per till (and replays per till)")
    parser.add_argument("--members", type=int, default=2)
    parser.add_argument("--points", type=float, default=250.0, help="each member's points at the start")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds for the whole till traffic")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep-db", action="store_true")
    args = parser.parse_args()
    if args.workers < 2 or args.tills < 2:
        parser.error("a concurrency proof needs --workers >= 2 and --tills >= 2")
    work, options = pc.setup_environment()
    db = pc.new_database_name("shop_crm_pospoints_conc")
    log = work / "pos_concurrency.log"
    log.write_text("")
    server = None
    started = time.monotonic()
    try:
        pc.say(f"pos_concurrency: database {db} (log: {log})")
        pc.create_database(db, "shop_crm", log)
        shop = pc.odoo_shell(
            db,
            pc.SETUP,
            {"tills": args.tills, "members": args.members, "points": args.points, "login": "till"},
            log,
        )
        server = pc.Server(db, args.workers, work / "pos_concurrency_server.log")
        server.wait_ready()
        pc.say(f"pos_concurrency: Odoo with {args.workers} workers on {server.url}; {args.tills} tills")
        run = Run(args, shop, server.url, db)
        traffic = time.monotonic()
        run.run_threads(run.sell)
        if not run.unexpected:
            run.run_threads(run.replay)
        pc.say(
            f"pos_concurrency: till traffic {time.monotonic() - traffic:.1f}s: "
            + ", ".join(f"{key} {value}" for key, value in sorted(run.stats.items()))
        )
        server.stop()
        passed, failures = check(options, db, run)
    finally:
        if server:
            server.stop()
        if not args.keep_db:
            pc.drop_database(db, work)
    for failure in failures[:20]:
        pc.say(f"FAILED: {failure}")
    pc.say(f"pos_concurrency: finished in {time.monotonic() - started:.0f}s")
    pc.say(f"pos_concurrency: {passed} passed, {len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
