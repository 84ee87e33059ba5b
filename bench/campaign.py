"""Benchmark of starting a campaign and computing its results at a chain's scale (issue 20, Performance).

Usage (with the project's virtualenv; ``make bench ARGS="campaign ..."`` does the same)::

    .venv/bin/python bench/campaign.py [--source shop_crm_bench] [--db shop_crm_bench_campaign]
                                       [--recipients 200000] [--fresh] [--output PATH] [--check]

1. The chain's database of ``bench/analytics.py`` (``--source``, 1,000,000 customers / 10,000,000 orders,
   built by ``make bench ARGS=analytics`` when missing) is copied once to ``--db`` (this benchmark's own,
   so the shared analytics database is never upgraded by a branch) and Shop CRM is upgraded there when
   the addon changed since (``-u shop_crm``). ``--fresh`` copies it again.
2. In ONE fresh Python process that loads Odoo, in one transaction that is ROLLED BACK at the end (the
   database is unchanged, every run starts from the same data):
   setup (untimed): every 1,000,000 / N-th customer gets a tag (N = ``--recipients``, 200,000), two thirds
   of them consent to SMS and one third to email (set-based SQL), a coupon program, a segment "tagged",
   a campaign: coupon offer, SMS and email, 10 % control group, starting now (no quiet hours);
   a. ``campaign.action_schedule()`` (starts now: the audience frozen into recipients, the control draw,
      consent / do-not-contact / frequency cap, one coupon per reachable treated recipient, the SMS and
      emails queued), then ``flush_all()``: wall seconds, SQL queries, peak RSS of the process;
   b. ``campaign.results()`` (the published definitions over the purchases in the window) in a clean
      cache: the same measures.
   Peak RSS is the process's (registry included), reset before each step (/proc/self/clear_refs).
3. Writes ``bench/results/campaign.json`` and prints a short table. Targets: start <= 60 s and <= 1 GB
   (1024 MB), results <= 2 s. ``--check`` makes the exit status 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import resource
import subprocess
import sys
from pathlib import Path

import analytics
from bench_common import odoo_options, say, work_dir

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUTPUT = ROOT / "bench" / "results" / "campaign.json"
DEFAULT_SOURCE = analytics.DEFAULT_DB
DEFAULT_DB = "shop_crm_bench_campaign"
RECIPIENTS = 200_000
TARGETS = {"start_seconds": 60.0, "start_peak_rss_mb": 1024.0, "results_seconds": 2.0}
RESULT_PREFIX = "SHOP_CRM_BENCH_RESULT "


def prepare_database(args, options, work) -> None:
    """--db as a copy of --source, upgraded to the addon as it is now."""
    log = work / "bench_campaign.log"
    if not analytics.database_exists(options, args.source):
        raise SystemExit(
            f"error: {args.source} is missing: build it first with make bench ARGS=analytics "
            "(1M customers / 10M orders, about 10 minutes)"
        )
    if args.fresh or not analytics.database_exists(options, args.db):
        say(f"copying {args.source} to {args.db}")
        seconds = analytics.copy_database(options, args.source, args.db)
        say(f"  copied in {seconds:.0f} s")
    analytics.upgrade_if_changed(options, args.db, log)


def cpu_measured(odoo, memory, func) -> dict:
    """``analytics.measured`` plus the CPU seconds of this process (user + system): on a shared, loaded
    machine the wall time mostly says how long the process waited for a core."""
    before = resource.getrusage(resource.RUSAGE_SELF)
    run = analytics.measured(odoo, memory, func)
    after = resource.getrusage(resource.RUSAGE_SELF)
    run["cpu_seconds"] = round(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime, 2)
    return run


def measure(db: str, recipients: int) -> dict:
    memory = analytics.PeakMemory()
    odoo, registry = analytics.load_odoo(db)
    from odoo import Command, api

    report = {"peak_rss_resettable": memory.resettable}
    with registry.cursor() as cr:
        env = api.Environment(cr, odoo.SUPERUSER_ID, {})
        company = env.ref("base.main_company")
        # no quiet hours: the SMS are queued at once, whatever the time of the run
        company.write(
            {"shop_crm_campaign_cap_messages": 2, "shop_crm_quiet_start": 0, "shop_crm_quiet_end": 0}
        )
        cr.execute("SELECT count(*) FROM res_partner WHERE active")
        customers = cr.fetchone()[0]
        step = max(1, customers // recipients)
        tag = env["res.partner.category"].create({"name": "Bench campaign audience"})
        cr.execute(
            """INSERT INTO res_partner_res_partner_category_rel (category_id, partner_id)
               SELECT %s, id FROM (SELECT id, row_number() OVER (ORDER BY id) AS n FROM res_partner
                                    WHERE active AND id <> %s) p
                WHERE p.n %% %s = 0 LIMIT %s""",
            (tag.id, company.partner_id.id, step, recipients),
        )
        tagged = cr.rowcount
        cr.execute(
            """INSERT INTO shop_crm_consent (partner_id, channel, granted, granted_date, source,
                                             create_uid, write_uid, create_date, write_date)
               SELECT r.partner_id, CASE WHEN r.partner_id %% 3 = 0 THEN 'email' ELSE 'sms' END, TRUE,
                      CURRENT_DATE - 30, 'backend', 1, 1, now() at time zone 'UTC', now() at time zone 'UTC'
                 FROM res_partner_res_partner_category_rel r
                WHERE r.category_id = %s""",
            (tag.id,),
        )
        consents = cr.rowcount
        env.invalidate_all()
        program = env["loyalty.program"].create(
            {
                "name": "Bench campaign coupon",
                "program_type": "coupons",
                "applies_on": "current",
                "trigger": "with_code",
                "pos_ok": True,
                "rule_ids": [Command.clear()],
                "reward_ids": [
                    Command.clear(),
                    Command.create(
                        {
                            "reward_type": "discount",
                            "discount": 10,
                            "discount_mode": "percent",
                            "discount_applicability": "order",
                            "required_points": 1,
                        }
                    ),
                ],
            }
        )
        segment = env["shop.crm.segment"].create(
            {"name": "Bench audience", "domain": repr([("category_id", "in", [tag.id])])}
        )
        campaign = env["shop.crm.campaign"].create(
            {
                "name": "Bench campaign",
                "segment_id": segment.id,
                "control_share": 10,
                "seed": 2024,
                "offer": "coupon",
                "coupon_program_id": program.id,
                "channel": "sms_email",
            }
        )
        env.flush_all()

        def start():
            campaign.action_schedule()
            env.flush_all()
            return {"state": campaign.state, "recipients": campaign.recipient_count}

        started = cpu_measured(odoo, memory, start)
        env.invalidate_all()

        def results():
            return env["shop.crm.campaign"].browse(campaign.id).results()

        computed = cpu_measured(odoo, memory, results)
        cr.execute(
            """SELECT count(*) FILTER (WHERE recipient_group = 'control'), count(coupon_id),
                      count(*) FILTER (WHERE sms_status = 'sent'),
                      count(*) FILTER (WHERE email_status = 'sent')
                 FROM shop_crm_campaign_recipient WHERE campaign_id = %s""",
            (campaign.id,),
        )
        control, coupons, sms, emails = cr.fetchone()
        cr.rollback()
    for name, run in (("start", started), ("results", computed)):
        run.pop("_top_full", None)
        report[name] = json.loads(json.dumps(run, default=str))
    report.update(
        {
            "customers": customers,
            "audience": tagged,
            "consents": consents,
            "control": control,
            "coupons": coupons,
            "sms_queued": sms,
            "emails_queued": emails,
        }
    )
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--source", default=DEFAULT_SOURCE, help=f"the chain's database (default {DEFAULT_SOURCE})"
    )
    parser.add_argument("--db", default=DEFAULT_DB, help=f"this benchmark's copy (default {DEFAULT_DB})")
    parser.add_argument(
        "--recipients", type=int, default=RECIPIENTS, help=f"audience (default {RECIPIENTS:,})"
    )
    parser.add_argument("--fresh", action="store_true", help="copy the source database again")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument("--internal", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.internal:
        print(RESULT_PREFIX + json.dumps(measure(args.db, args.recipients), default=str))
        return 0
    work = work_dir()
    options = odoo_options(work)
    prepare_database(args, options, work)
    load = os.getloadavg()
    say(f"measuring a campaign of {args.recipients:,} recipients in {args.db} (load {load[0]:.1f})")
    cmd = [sys.executable, str(Path(__file__).resolve()), "--internal", "--db", args.db]
    cmd += ["--recipients", str(args.recipients)]
    result = subprocess.run(cmd, capture_output=True, text=True, check=False, cwd=ROOT)
    lines = [line for line in result.stdout.splitlines() if line.startswith(RESULT_PREFIX)]
    if result.returncode != 0 or not lines:
        sys.stderr.write(result.stderr[-6000:] + result.stdout[-2000:])
        raise SystemExit(f"error: measuring in {args.db} failed (exit {result.returncode})")
    report = json.loads(lines[-1][len(RESULT_PREFIX) :])
    start, results = report["start"], report["results"]
    checks = {
        "start_seconds": start["seconds"] <= TARGETS["start_seconds"],
        "start_peak_rss_mb": start["peak_rss_mb"] <= TARGETS["start_peak_rss_mb"],
        "results_seconds": results["seconds"] <= TARGETS["results_seconds"],
    }
    out = {
        "benchmark": "campaign",
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "load_average": [round(value, 2) for value in load],
            "load_average_after": [round(value, 2) for value in os.getloadavg()],
        },
        "database": args.db,
        "targets": TARGETS,
        "met": checks,
        **report,
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(out, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    say(f"{'step':<10}{'seconds':>10}{'target':>10}{'CPU s':>8}{'peak RSS MB':>14}{'queries':>10}")
    say(
        f"{'start':<10}{start['seconds']:>10.1f}{TARGETS['start_seconds']:>10.0f}"
        f"{start.get('cpu_seconds', 0):>8.1f}"
        f"{start['peak_rss_mb']:>14.0f}"
        f"{start['sql_queries']:>10}"
    )
    say(
        f"{'results':<10}{results['seconds']:>10.2f}{TARGETS['results_seconds']:>10.0f}"
        f"{results.get('cpu_seconds', 0):>8.2f}"
        f"{results['peak_rss_mb']:>14.0f}{results['sql_queries']:>10}"
    )
    say(
        f"audience {report['audience']:,} of {report['customers']:,} customers: "
        f"control {report['control']:,}, "
        f"coupons {report['coupons']:,}, SMS {report['sms_queued']:,}, emails {report['emails_queued']:,}"
    )
    say(f"campaign: {'all targets met' if all(checks.values()) else 'TARGET MISSED'} ({args.output})")
    return 1 if args.check and not all(checks.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
