"""Shared tooling of the Point of Sale scripts (``bench/pos_concurrency.py``, ``bench/pos.py``): a throwaway
database copied from the project's template, Odoo run from the project's ``scripts/odoo`` (shell and
multi-worker server), and a till that speaks JSON-RPC over HTTP as Odoo's POS does.

Nothing here is imported by the addon: it is tooling, kept out of what a production database registers.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid as uuidlib
from pathlib import Path

import requests
from bench_common import connect, odoo_options, say, work_dir  # noqa: F401  (say: pc.say in the scripts)

ROOT = Path(__file__).resolve().parent.parent  # the addon folder (repository root)
RESULT_MARK = "SHOP_CRM_POS_SETUP "


def query(options: dict[str, str], db: str, statement: str, params=None) -> list[tuple]:
    conn = connect(options, db)
    try:
        with conn.cursor() as cr:
            cr.execute(statement, params)
            return cr.fetchall()
    finally:
        conn.close()


def setup_environment() -> tuple[Path, dict[str, str]]:
    """Run scripts/setup.sh (idempotent) and return ($WORK, odoo.conf options)."""
    subprocess.run(["bash", str(ROOT / "scripts" / "setup.sh")], check=True, stdout=subprocess.DEVNULL)
    work = work_dir()
    return work, odoo_options(work)


def create_database(db: str, modules: str, log: Path) -> None:
    """``db`` copied from the project's template (Shop CRM's Odoo dependencies installed), then
    ``modules`` installed into it (e.g. "shop_crm", or "pos_loyalty" for a plain database)."""
    subprocess.run(
        [
            "bash",
            "-c",
            'source "$1/scripts/common.sh" && source "$WORK/db.env" && create_db_from_base "$2"',
            "bash",
            str(ROOT),
            db,
        ],
        check=True,
    )
    run_logged([str(ROOT / "scripts" / "odoo"), "-d", db, "-i", modules, "--stop-after-init"], log, "install")


def drop_database(db: str, work: Path) -> None:
    subprocess.run(
        ["bash", "-c", 'source "$1/db.env" && dropdb --if-exists --force "$2"', "bash", str(work), db],
        check=False,
    )
    subprocess.run(["rm", "-rf", str(work / "data" / "filestore" / db)], check=False)


def run_logged(cmd: list[str], log: Path, what: str, stdin: str | None = None) -> str:
    with open(log, "a", encoding="utf-8") as out:
        out.write(f"\n$ {' '.join(cmd)}\n")
        out.flush()
        result = subprocess.run(cmd, input=stdin, capture_output=True, text=True, check=False, cwd=ROOT)
        out.write(result.stdout)
        out.write(result.stderr)
    if result.returncode != 0:
        sys.stderr.write(result.stderr[-3000:])
        raise SystemExit(f"{what} failed (exit {result.returncode}); log: {log}")
    return result.stdout


def odoo_shell(db: str, code: str, args: dict, log: Path) -> dict:
    """Run ``code`` in ``scripts/odoo shell`` on ``db`` with ``ARGS`` (a dict) defined; the code ends by
    ``print(RESULT_MARK + json.dumps(result))`` after committing. Returns that result."""
    program = (
        f"import json\nARGS = json.loads({json.dumps(json.dumps(args))})\nRESULT_MARK = {RESULT_MARK!r}\n"
    )
    out = run_logged(
        [str(ROOT / "scripts" / "odoo"), "shell", "-d", db, "--no-http", "--log-level=warn"],
        log,
        "odoo shell",
        stdin=program + code,
    )
    for line in out.splitlines():
        if line.startswith(RESULT_MARK):
            return json.loads(line[len(RESULT_MARK) :])
    raise SystemExit(f"odoo shell printed no result; log: {log}")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """A multi-worker Odoo (prefork) on 127.0.0.1 serving only ``db``."""

    def __init__(self, db: str, workers: int, log: Path, extra: list[str] | None = None):
        self.db = db
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        cmd = [
            str(ROOT / "scripts" / "odoo"),
            "-d",
            db,
            f"--db-filter=^{db}$",
            f"--workers={workers}",
            "--max-cron-threads=0",
            "--http-interface=127.0.0.1",
            f"--http-port={self.port}",
            "--limit-time-real=1800",
            "--limit-time-cpu=1800",
            "--log-level=warn",
            f"--logfile={log}",
            *(extra or []),
        ]
        self.process = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def wait_ready(self, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"Odoo exited with status {self.process.returncode}")
            try:
                if requests.get(f"{self.url}/web/health", timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.5)
        raise SystemExit("Odoo did not start in time")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=30)


class RpcError(Exception):
    def __init__(self, error: dict):
        data = error.get("data") or {}
        self.name = data.get("name", "")
        self.message = data.get("message") or error.get("message", "")
        super().__init__(f"{self.name}: {self.message}")


class Till:
    """One till: its own HTTP session (cookie), logged in as the cashier, calling models as the POS does
    (``/web/dataset/call_kw``)."""

    def __init__(self, url: str, db: str, login: str, password: str, timeout: float = 120):
        self.url = url
        self.timeout = timeout
        self.http = requests.Session()
        self._post("/web/session/authenticate", {"db": db, "login": login, "password": password})

    def _post(self, path: str, params: dict):
        response = self.http.post(
            self.url + path,
            json={"jsonrpc": "2.0", "method": "call", "params": params, "id": 1},
            timeout=self.timeout,
        )
        response.raise_for_status()
        body = response.json()
        if "error" in body:
            raise RpcError(body["error"])
        return body.get("result")  # Odoo leaves "result" out when the method returns None

    def call(self, model: str, method: str, *args, **kwargs):
        return self._post(
            f"/web/dataset/call_kw/{model}/{method}",
            {"model": model, "method": method, "args": list(args), "kwargs": kwargs},
        )


def till_order(shop: dict, till: dict, member: dict, sequence: int, qty: float, redeem: float) -> dict:
    """The payload a till sends to ``pos.order.sync_from_ui`` for a paid order: ``qty`` units of the shop's
    product at 1.00 and, when ``redeem`` points are spent, one reward line of the member program's reward
    (``redeem / required points`` steps of its discount)."""
    now = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime())
    amount = round(qty * 1.0, 2)
    lines = [
        [
            0,
            0,
            {
                "product_id": shop["product_id"],
                "qty": qty,
                "price_unit": 1.0,
                "price_subtotal": amount,
                "price_subtotal_incl": amount,
                "discount": 0.0,
                "tax_ids": [[5]],
                "uuid": str(uuidlib.uuid4()),
            },
        ]
    ]
    total = amount
    code = ""
    if redeem:
        value = round(redeem / shop["required_points"] * shop["reward_discount"], 2)
        code = uuidlib.uuid4().hex[:10]
        lines.append(
            [
                0,
                0,
                {
                    "product_id": shop["discount_product_id"],
                    "qty": 1,
                    "price_unit": -value,
                    "price_subtotal": -value,
                    "price_subtotal_incl": -value,
                    "discount": 0.0,
                    "tax_ids": [[5]],
                    "is_reward_line": True,
                    "reward_id": shop["reward_id"],
                    "coupon_id": member["card_id"],
                    "points_cost": redeem,
                    "reward_identifier_code": code,
                    "uuid": str(uuidlib.uuid4()),
                },
            ]
        )
        total = round(total - value, 2)
    return {
        "uuid": str(uuidlib.uuid4()),
        "name": f"Order {till['session_id']:05d}-{till['index']:03d}-{sequence:04d}",
        "session_id": till["session_id"],
        "partner_id": member["partner_id"],
        "user_id": shop["cashier_id"],
        "date_order": now,
        "pricelist_id": till["pricelist_id"],
        "fiscal_position_id": False,
        "sequence_number": sequence,
        "amount_tax": 0.0,
        "amount_total": total,
        "amount_paid": total,
        "amount_return": 0.0,
        "to_invoice": False,
        "state": "paid",
        "lines": lines,
        "payment_ids": [
            [0, 0, {"amount": total, "payment_method_id": till["payment_method_id"], "payment_date": now}]
        ],
        "_reward_code": code,
    }


def coupon_data(shop: dict, member: dict, won: float, spent: float, code: str) -> dict:
    """What the till sends to ``confirm_coupon_programs`` for the member card (pos_loyalty's
    ``_postProcessLoyalty``)."""
    entry = {
        "points": won - spent,
        "won": won,
        "spent": spent,
        "program_id": shop["program_id"],
        "coupon_id": member["card_id"],
        "barcode": False,
        "partner_id": member["partner_id"],
    }
    if code:
        entry["line_codes"] = [code]
    return {str(member["card_id"]): entry}


def sync_payload(order: dict) -> dict:
    return {key: value for key, value in order.items() if not key.startswith("_")}


# Set up the shop in the throwaway database (run in ``scripts/odoo shell``): a cashier with POS rights
# only, ``ARGS["tills"]`` shops with an open session each, the product, and ``ARGS["members"]`` members
# with ``ARGS["points"]`` points each (for the plain pos_loyalty database: the same loyalty program and
# cards, without Shop CRM).
SETUP = r"""
from odoo import Command
company = env.company
if "shop.crm.points" in env:
    program = company._shop_crm_member_program()
else:
    program = env["loyalty.program"].create({
        "name": "Member Points", "program_type": "loyalty", "company_id": company.id,
        "applies_on": "both", "trigger": "auto", "pos_ok": True, "sale_ok": False,
        "rule_ids": [Command.clear(), Command.create({"reward_point_mode": "money"})],
        "reward_ids": [Command.clear(), Command.create({
            "reward_type": "discount", "discount_mode": "per_order", "discount": 10,
            "discount_applicability": "order", "required_points": 100})],
    })
reward = program.reward_ids[:1]
product = env["product.product"].create({
    "name": "Bench rose", "list_price": 1.0, "type": "consu", "available_in_pos": True,
    "taxes_id": [Command.clear()],
})
cashier = env["res.users"].create({
    "name": "Till cashier", "login": ARGS["login"], "password": ARGS["login"],
    "groups_id": [Command.set([env.ref("base.group_user").id, env.ref("point_of_sale.group_pos_user").id])],
})
admin = env.ref("base.user_admin")
tills = []
for index in range(ARGS["tills"]):
    name = f"Cash till {index + 1}"
    journal = env["account.journal"].create(
        {"name": name, "type": "cash", "code": f"CT{index + 1:03d}", "company_id": company.id}
    )
    cash = env["pos.payment.method"].create({"name": name, "journal_id": journal.id})
    config = env["pos.config"].create(
        {"name": f"Till {index + 1}", "payment_method_ids": [Command.set(cash.ids)]}
    )
    config.with_user(admin).open_ui()
    session = config.current_session_id
    tills.append({
        "index": index + 1, "config_id": config.id, "session_id": session.id,
        "payment_method_id": cash.id, "pricelist_id": config.pricelist_id.id,
    })
partners = env["res.partner"].create([
    {"name": f"Member {index + 1}", "mobile": f"+86 139 0000 {index:04d}"} for index in range(ARGS["members"])
])
members = []
if "shop.crm.points" in env:
    Points = env["shop.crm.points"]
    for partner in partners:
        partner._shop_crm_enroll(company)
    cards = Points._member_cards(partners, company)
    Points._post([
        {"card_id": cards[p.id].id, "kind": "adjust", "issued": ARGS["points"], "description": "start"}
        for p in partners
    ])
    members = [{"partner_id": p.id, "card_id": cards[p.id].id} for p in partners]
else:
    cards = env["loyalty.card"].create([
        {"program_id": program.id, "partner_id": p.id, "points": ARGS["points"]} for p in partners
    ])
    members = [{"partner_id": c.partner_id.id, "card_id": c.id} for c in cards]
env.cr.commit()
print(RESULT_MARK + json.dumps({
    "program_id": program.id, "reward_id": reward.id, "required_points": reward.required_points,
    "reward_discount": reward.discount, "discount_product_id": reward.discount_line_product_id.id,
    "product_id": product.id, "cashier_id": cashier.id, "login": ARGS["login"],
    "tills": tills, "members": members,
}))
"""


def fill_customers(options: dict[str, str], db: str, shop: dict, total: int) -> int:
    """Bring the database to ``total`` customers with set-based SQL (bench data, not business code): each
    new customer has a mobile and a member points card of 500 points with its history line; with Shop CRM
    also a member code, member-since date and the ledger's start entry, as enrolment leaves them. Returns
    the number of customers added. Nothing of Odoo's ORM runs (1,000,000 customers in a few minutes)."""
    conn = connect(options, db)
    try:
        with conn, conn.cursor() as cr:
            cr.execute("SELECT count(*) FROM res_partner")
            missing = total - cr.fetchone()[0]
            if missing <= 0:
                return 0
            cr.execute("SELECT company_id FROM loyalty_program WHERE id = %s", [shop["program_id"]])
            company_id = cr.fetchone()[0]
            cr.execute(
                "SELECT 1 FROM information_schema.columns WHERE table_name = 'res_partner' AND "
                "column_name = 'member_code'"
            )
            shop_crm = bool(cr.fetchone())
            cr.execute("SELECT COALESCE(MAX(id), 0) FROM res_partner")
            first = cr.fetchone()[0] + 1
            cr.execute(
                """
                INSERT INTO res_partner (name, complete_name, active, type, is_company, lang, tz, mobile,
                                         autopost_bills, create_uid, write_uid, create_date, write_date)
                SELECT 'Bench customer ' || g, 'Bench customer ' || g, TRUE, 'contact', FALSE, 'en_US',
                       'Asia/Shanghai', '+86 137 ' || lpad(g::text, 8, '0'), 'ask', 1, 1,
                       NOW() AT TIME ZONE 'UTC', NOW() AT TIME ZONE 'UTC'
                  FROM generate_series(1, %s) AS g
                """,
                [missing],
            )
            cr.execute(
                "UPDATE res_partner SET commercial_partner_id = id"
                " WHERE id >= %s AND commercial_partner_id IS NULL",
                [first],
            )
            if shop_crm:
                cr.execute(
                    """
                    UPDATE res_partner
                       SET member_code = '29' || lpad(id::text, 11, '0'),
                           member_company_id = %(company)s,
                           member_since = CURRENT_DATE - (id %% 1500),
                           mobile_normalized = '+86137' || lpad((id - %(first)s + 1)::text, 8, '0')
                     WHERE id >= %(first)s
                    """,
                    {"company": company_id, "first": first},
                )
            cr.execute(
                """
                INSERT INTO loyalty_card (code, program_id, partner_id, company_id, points, active,
                                          create_uid, write_uid, create_date, write_date)
                SELECT 'bench-' || p.id, %s, p.id, %s, 500, TRUE, 1, 1, p.create_date, p.create_date
                  FROM res_partner p
                 WHERE p.id >= %s
                """,
                [shop["program_id"], company_id, first],
            )
            cr.execute(
                """
                INSERT INTO loyalty_history (card_id, description, issued, used,
                                             create_uid, write_uid, create_date, write_date)
                SELECT c.id, 'start', 500, 0, 1, 1, c.create_date, c.create_date
                  FROM loyalty_card c JOIN res_partner p ON p.id = c.partner_id
                 WHERE p.id >= %s
                """,
                [first],
            )
            if shop_crm:
                cr.execute(
                    """
                    UPDATE loyalty_history h
                       SET shop_crm_kind = 'adjust', shop_crm_date = p.member_since
                      FROM loyalty_card c JOIN res_partner p ON p.id = c.partner_id
                     WHERE h.card_id = c.id AND p.id >= %s
                    """,
                    [first],
                )
        conn.autocommit = True
        with conn.cursor() as cr:
            cr.execute("VACUUM ANALYZE res_partner")
            cr.execute("VACUUM ANALYZE loyalty_card")
            cr.execute("VACUUM ANALYZE loyalty_history")
        return missing
    finally:
        conn.close()


def new_database_name(prefix: str) -> str:
    return f"{prefix}_{os.getpid()}"
