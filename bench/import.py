"""Benchmark of the Shop CRM import (``shop.crm.import.run``) against Odoo's own ``base_import``.

Usage (with the project's virtualenv; ``make bench ARGS="import ..."`` does the same)::

    .venv/bin/python bench/import.py [--customers N] [--purchases M] [--base-import-customers K]
                                     [--db NAME] [--output PATH] [--check]

1. Creates the database ``--db`` (default ``shop_crm_bench_import``) from the cached template and installs
   Shop CRM into it (``scripts/odoo -i shop_crm``), then writes two files into a temporary folder:
   ``customers.csv`` (N customers, default 100,000: member code, name, mobile in mixed spellings, birthday,
   tier among four, an opening points balance, one or two tags; UTF-8) and ``purchases.csv`` (M purchases,
   default 1,000,000: reference, member code, date over three years, amount, items).
2. In ONE Python process that loads Odoo in-process, each step in its own cursor, committed (or rolled
   back where said), timed from the call to the end of the commit:
     a. dry run of the customers file (nothing written);
     b. the customer import (customers, member cards, opening balance lines, tier changes, tags);
     c. the purchase import;
     d. a plain ``COPY`` of the same purchases file into an index-less table with the same columns
        (PostgreSQL parses the CSV itself: the floor for loading these rows);
     d'. the floor for an Odoo table: the rows exactly as the import wrote them, COPied into an empty
        table with the same indexes and foreign keys as ``shop_crm_legacy_purchase``, rolled back;
     e. the same customers (name, mobile, birthday, tags, tier) through ``base_import``
        (``base_import.import.execute_import``, as the Import button of a list does), rolled back;
        ``--base-import-customers N`` times it on the first N customers only (a full-size base_import
        takes hours on a shared machine) and the comparison is then per customer.
   Peak RSS of the measuring process (VmHWM, reset before each step) is recorded.
3. Writes ``bench/results/import.json`` and prints a table. Targets: customer import >= 5 x faster than
   base_import; purchases <= 3 x the plain COPY; dry run <= 0.5 x the real customer import; peak RSS
   <= 1 GB. ``--check`` makes the exit status 1 when a target is missed. The database is dropped at the end
   unless ``--keep-db``.
"""

from __future__ import annotations

import argparse
import datetime
import io
import json
import os
import platform
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_common import say, work_dir

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUTPUT = ROOT / "bench" / "results" / "import.json"
TIERS = ["普通会员", "银卡", "金卡", "钻石"]
TAGS = ["VIP", "老客户", "企业客户", "新客", "花艺课"]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高"
GIVEN = ["芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明", "超"]


def create_database(db: str, work: Path) -> None:
    script = 'source "$1/scripts/common.sh" && create_db_from_base "$2"'
    subprocess.run(["bash", "-c", script, "bash", str(ROOT), db], check=True)
    log = work / f"{db}.log"
    with log.open("w", encoding="utf-8") as out:
        subprocess.run(
            [
                str(ROOT / "scripts" / "odoo"),
                "-d",
                db,
                "-i",
                "shop_crm",
                "--stop-after-init",
                "--log-level=warn",
            ],
            check=True,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def drop_database(db: str) -> None:
    script = 'source "$1/scripts/common.sh" && source "$WORK/db.env" && dropdb --if-exists --force "$2"'
    subprocess.run(["bash", "-c", script, "bash", str(ROOT), db], check=True)


def write_files(folder: Path, customers: int, purchases: int, seed: int = 14) -> tuple[Path, Path]:
    """The customers and purchases files (plain Python: the benchmark's own writer, not timed), and the
    same customers for base_import (``customers_base_import.csv``: tags separated by commas, quoted)."""
    rng = random.Random(seed)
    customers_path = folder / "customers.csv"
    start = datetime.date(2023, 1, 1)
    with (
        customers_path.open("w", encoding="utf-8") as out,
        (folder / "customers_base_import.csv").open("w", encoding="utf-8") as base,
    ):
        out.write("member_code,name,mobile,birthday,tier,points,tags\n")
        base.write("member_code,name,mobile,birthday,tier,points,tags\n")
        for index in range(1, customers + 1):
            digits = f"13{index % 10}{index:08d}"
            style = index % 3
            mobile = (
                digits
                if style == 0
                else (f"{digits[:3]} {digits[3:7]} {digits[7:]}" if style == 1 else f"+86{digits}")
            )
            birthday = (datetime.date(1960, 1, 1) + datetime.timedelta(days=rng.randrange(15000))).isoformat()
            tags = "、".join(rng.sample(TAGS, rng.randint(1, 2)))
            name = rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(GIVEN)
            tier, points = rng.choice(TIERS), rng.randrange(0, 5000)
            out.write(f"BM{index:07d},{name},{mobile},{birthday},{tier},{points},{tags}\n")
            base.write(
                f'BM{index:07d},{name},{mobile},{birthday},{tier},{points},"{tags.replace("、", ",")}"\n'
            )
    purchases_path = folder / "purchases.csv"
    with purchases_path.open("w", encoding="utf-8") as out:
        out.write("reference,member_code,date,amount,items\n")
        for index in range(1, purchases + 1):
            day = start + datetime.timedelta(days=rng.randrange(1095))
            customer = rng.randint(1, customers)
            amount = rng.choice([59, 88, 128, 199, 299, 520, 999]) * (-1 if index % 50 == 0 else 1)
            out.write(
                f"BP{index:08d},BM{customer:07d},{day.isoformat()},{amount}.00,"
                f"{rng.randint(1, 99)} × 红玫瑰\n"
            )
    return customers_path, purchases_path


class PeakMemory:
    @staticmethod
    def _status(field):
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 1024.0
        return None

    def start(self):
        with open("/proc/self/clear_refs", "w", encoding="ascii") as refs:
            refs.write("5")

    def peak(self):
        return self._status("VmHWM")


def measure(db: str, customers_path: Path, purchases_path: Path, base_import_customers: int = 0) -> dict:
    work = work_dir()
    sys.path.insert(0, (work / "odoo_src").read_text(encoding="utf-8").strip())
    import odoo
    from odoo import api

    odoo.tools.config.parse_config(["-c", str(work / "odoo.conf"), "-d", db, "--log-level=warn"])
    registry = odoo.modules.registry.Registry(db)
    memory = PeakMemory()
    steps = {}

    with registry.cursor() as cr:
        env = api.Environment(cr, odoo.SUPERUSER_ID, {})
        company = env.ref("base.main_company")
        company.write({"country_id": env.ref("base.cn").id, "shop_crm_tz": "Asia/Shanghai"})
        for sequence, name in enumerate(TIERS):
            env["shop.crm.tier"].create(
                {"name": name, "sequence": 10 * (sequence + 1), "min_spend": 1000 * sequence}
            )

    def step(name, func, commit=True):
        memory.start()
        started = time.perf_counter()
        with registry.cursor() as cr:
            env = api.Environment(cr, odoo.SUPERUSER_ID, {})
            result = func(env, cr)
            if commit:
                cr.commit()
            else:
                cr.rollback()
        seconds = time.perf_counter() - started
        steps[name] = {"seconds": round(seconds, 2), "peak_rss_mb": round(memory.peak(), 1), "result": result}
        say(
            f"  {name:<22} {seconds:8.1f} s  peak RSS {memory.peak():7.1f} MB  "
            f"{json.dumps(result, ensure_ascii=False)[:160]}"
        )

    def summary(result):
        return {key: value for key, value in result.items() if key != "errors"} | {
            "errors": len(result["errors"])
        }

    step(
        "customers_dry_run",
        lambda env, cr: summary(env["shop.crm.import"].run(str(customers_path), "customers", dry_run=True)),
    )
    step(
        "customers_import",
        lambda env, cr: summary(env["shop.crm.import"].run(str(customers_path), "customers")),
    )
    step(
        "purchases_import",
        lambda env, cr: summary(env["shop.crm.import"].run(str(purchases_path), "purchases")),
    )

    def plain_copy(env, cr):
        cr.execute(
            "CREATE TABLE bench_plain_copy "
            "(reference varchar, member_code varchar, date date, amount numeric, items text)"
        )
        with purchases_path.open("rb") as data:
            cr.copy_expert("COPY bench_plain_copy FROM STDIN WITH (FORMAT csv, HEADER true)", data)
        cr.execute("SELECT COUNT(*) FROM bench_plain_copy")
        return {"rows": cr.fetchone()[0]}

    step("purchases_plain_copy", plain_copy)

    def constrained_copy(env, cr):
        """The floor for writing these rows into an Odoo table: the rows exactly as the import COPies
        them (read back from shop_crm_legacy_purchase before the clock starts) into an empty table with
        the same indexes and the same four foreign keys (customer, company, create/write user), as
        Odoo creates them. Rolled back."""
        cr.execute(
            "CREATE TABLE bench_constrained_copy (LIKE shop_crm_legacy_purchase INCLUDING ALL);"
            "ALTER TABLE bench_constrained_copy "
            "ADD FOREIGN KEY (partner_id) REFERENCES res_partner(id) ON DELETE CASCADE, "
            "ADD FOREIGN KEY (company_id) REFERENCES res_company(id) ON DELETE RESTRICT, "
            "ADD FOREIGN KEY (create_uid) REFERENCES res_users(id) ON DELETE SET NULL, "
            "ADD FOREIGN KEY (write_uid) REFERENCES res_users(id) ON DELETE SET NULL"
        )
        columns = (
            "partner_id, company_id, date, amount, reference, items, channel, import_file, create_uid, "
            "write_uid, create_date, write_date"
        )
        data = io.BytesIO()
        cr.copy_expert(
            f"COPY (SELECT {columns} FROM shop_crm_legacy_purchase) TO STDOUT WITH (FORMAT csv)", data
        )
        data.seek(0)
        started = time.perf_counter()
        cr.copy_expert(f"COPY bench_constrained_copy ({columns}) FROM STDIN WITH (FORMAT csv)", data)
        seconds = time.perf_counter() - started
        cr.execute("SELECT COUNT(*) FROM bench_constrained_copy")
        return {"rows": cr.fetchone()[0], "copy_seconds": round(seconds, 2)}

    step("purchases_constrained_copy", constrained_copy, commit=False)

    def base_import(env, cr):
        content = (customers_path.parent / "customers_base_import.csv").read_bytes()
        if base_import_customers:  # the header and the first N customers only
            content = b"".join(content.splitlines(keepends=True)[: base_import_customers + 1])
        record = env["base_import.import"].create(
            {
                "res_model": "res.partner",
                "file": content,
                "file_name": "customers.csv",
                "file_type": "text/csv",
            }
        )
        options = {
            "has_headers": True,
            "quoting": '"',
            "separator": ",",
            "encoding": "utf-8",
            "date_format": "%Y-%m-%d",
            "float_thousand_separator": ",",
            "float_decimal_separator": ".",
            "name_create_enabled_fields": {"category_id": True},
        }
        fields = [False, "name", "mobile", "birthday", "tier_id", False, "category_id"]
        columns = ["member_code", "name", "mobile", "birthday", "tier", "points", "tags"]
        result = record.execute_import(fields, columns, options)
        messages = result.get("messages", [])
        return {
            "ids": len(result.get("ids") or []),
            "messages": len(messages),
            "first_message": messages[0]["message"] if messages else None,
        }

    step("base_import_customers", base_import, commit=False)
    return steps


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--purchases", type=int, default=1_000_000)
    parser.add_argument("--db", default="shop_crm_bench_import")
    parser.add_argument("--output", default=str(DEFAULT_OUTPUT))
    parser.add_argument(
        "--base-import-customers",
        type=int,
        default=0,
        help="time base_import on the first N customers only (0: all); the comparison is then per customer",
    )
    parser.add_argument("--keep-db", action="store_true")
    parser.add_argument("--check", action="store_true")
    parser.add_argument("--internal", help=argparse.SUPPRESS)
    parser.add_argument("--files", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.internal == "measure":
        steps = measure(args.db, Path(args.files[0]), Path(args.files[1]), args.base_import_customers)
        sys.stdout.write("RESULT " + json.dumps(steps, ensure_ascii=False) + "\n")
        return 0
    work = work_dir()
    say(
        f"shop_crm bench/import: {args.customers:,} customers, {args.purchases:,} purchases, "
        f"database {args.db}"
    )
    load_before = [round(value, 2) for value in os.getloadavg()]
    started = time.perf_counter()
    create_database(args.db, work)
    say(f"  database ready in {time.perf_counter() - started:.0f} s")
    with tempfile.TemporaryDirectory(prefix="shop_crm_bench_import_") as folder:
        customers_path, purchases_path = write_files(Path(folder), args.customers, args.purchases)
        say(
            f"  files written: {customers_path.stat().st_size / 1e6:.1f} MB, "
            f"{purchases_path.stat().st_size / 1e6:.1f} MB"
        )
        out = subprocess.run(
            [
                sys.executable,
                str(Path(__file__).resolve()),
                "--internal",
                "measure",
                "--db",
                args.db,
                "--files",
                str(customers_path),
                str(purchases_path),
                "--base-import-customers",
                str(args.base_import_customers),
            ],
            capture_output=False,
            stdout=subprocess.PIPE,
            text=True,
            check=False,
            cwd=ROOT,
        )
    lines = [line for line in out.stdout.splitlines() if not line.startswith("RESULT ")]
    for line in lines:
        say(line)
    results = [line for line in out.stdout.splitlines() if line.startswith("RESULT ")]
    if not args.keep_db:
        drop_database(args.db)
    if out.returncode or not results:
        raise SystemExit(f"error: the measuring process failed (exit {out.returncode})")
    steps = json.loads(results[-1][len("RESULT ") :])
    customers = steps["customers_import"]["seconds"]
    base_count = steps["base_import_customers"]["result"]["ids"] or 1
    # per customer (the same thing when base_import imported the whole file)
    base_per_customer = steps["base_import_customers"]["seconds"] / base_count
    ratios = {
        "base_import_over_customer_import": round(base_per_customer / (customers / args.customers), 2),
        "purchases_over_plain_copy": round(
            steps["purchases_import"]["seconds"] / steps["purchases_plain_copy"]["seconds"], 2
        ),
        "purchases_over_constrained_copy": round(
            steps["purchases_import"]["seconds"]
            / steps["purchases_constrained_copy"]["result"]["copy_seconds"],
            2,
        ),
        "dry_run_over_customer_import": round(steps["customers_dry_run"]["seconds"] / customers, 2),
        "peak_rss_mb": max(step["peak_rss_mb"] for step in steps.values()),
    }
    targets = {
        "customer import >= 5 x faster than base_import": ratios["base_import_over_customer_import"] >= 5,
        "purchases <= 3 x plain COPY": ratios["purchases_over_plain_copy"] <= 3,
        "dry run <= 0.5 x customer import": ratios["dry_run_over_customer_import"] <= 0.5,
        "peak RSS <= 1 GB": ratios["peak_rss_mb"] <= 1024,
    }
    report = {
        "benchmark": "import",
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "customers": args.customers,
        "purchases": args.purchases,
        "base_import_customers": base_count,
        "load_average_before": load_before,
        "load_average_after": [round(value, 2) for value in os.getloadavg()],
        "uptime": subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout.strip(),
        "steps": steps,
        "ratios": ratios,
        "targets_met": targets,
        "notes": "Each step in its own cursor, committed (base_import and the constrained copy rolled "
        "back); peak RSS of the measuring process including the loaded registry; PostgreSQL server memory "
        "not included. purchases_constrained_copy: the import's rows COPied into a table with the same "
        "indexes and foreign keys (its copy_seconds is the COPY alone). "
        + (
            f"base_import timed on the first {base_count} customers only: the ratio compares the time per "
            "customer."
            if base_count < args.customers
            else "base_import imported the whole customers file."
        ),
    }
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    Path(args.output).write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    say(f"  ratios: {json.dumps(ratios)}")
    for name, met in targets.items():
        say(f"  {'met    ' if met else 'MISSED '} {name}")
    say(f"  written to {args.output}")
    return 1 if args.check and not all(targets.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
