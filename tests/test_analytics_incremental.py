"""Incremental analytics runs (issue 18): a run recomputes the aggregates of the customers whose orders
changed since the last run (or crossed one of its dates) and gives exactly what a full recompute gives."""

import itertools
import random
from datetime import timedelta

from odoo import Command
from odoo.exceptions import AccessError
from odoo.tests import tagged
from odoo.tools import SQL

from ..models.shop_crm_analytics import STATE_COLUMNS
from ..models.shop_crm_customer_value import VALUE_FIELDS
from .test_analytics import AnalyticsCase, ago

SOURCE_TABLES = ("sale_order", "pos_order", "shop_crm_legacy_purchase")
REFERENCES = itertools.count(1)


class IncrementalCase(AnalyticsCase):
    def _age_writes(self, interval):
        self.env.flush_all()
        for table in SOURCE_TABLES:
            self.env.cr.execute(
                SQL(
                    "UPDATE %s SET write_date = write_date - %s::interval WHERE write_date IS NOT NULL",
                    SQL.identifier(table),
                    interval,
                )
            )
        self.env.invalidate_all()

    def _next_day(self):
        """A day passes: everything written so far, and the watermark of every run so far, move one day
        into the past (in a test, every write of the transaction has the same write date, the
        transaction's start, and so has the watermark of a run)."""
        self.env.flush_all()
        for company in self.env["res.company"].sudo().search([("shop_crm_analytics_state", "!=", False)]):
            as_of, watermark, rows, key = self.Analytics._state_marker(company)
            company.shop_crm_analytics_state = "|".join(
                [str(as_of), str(watermark - timedelta(days=1)), str(rows), key]
            )
        self._age_writes("1 day")

    def _legacy(self, partner, day, amount, company=None):
        return (
            self.env["shop.crm.legacy.purchase"]
            .sudo()
            .create(
                {
                    "partner_id": partner.id,
                    "company_id": (company or self.company).id,
                    "date": day,
                    "amount": amount,
                    "reference": f"OLD-{next(REFERENCES)}",
                }
            )
        )

    def _snapshot(self, company):
        """Every analytics value of the company's customers, the company's lifetime-value model and the
        incremental state, as plain rows."""
        cr = self.env.cr
        self.env.flush_all()
        columns = SQL(", ").join(SQL.identifier(column) for column in VALUE_FIELDS)
        cr.execute(
            SQL(
                "SELECT partner_id, %s FROM shop_crm_customer_value WHERE company_id = %s "
                "ORDER BY partner_id",
                columns,
                company.id,
            )
        )
        values = cr.fetchall()
        state_columns = SQL(", ").join(SQL.identifier(column) for column in STATE_COLUMNS)
        cr.execute(
            SQL(
                "SELECT partner_id, %s FROM shop_crm_analytics_state WHERE company_id = %s "
                "ORDER BY partner_id",
                state_columns,
                company.id,
            )
        )
        state = cr.fetchall()
        cr.execute(
            SQL(
                "SELECT shop_crm_clv_method, shop_crm_clv_summary, shop_crm_analytics_date FROM res_company "
                "WHERE id = %s",
                company.id,
            )
        )
        return {"values": values, "state": state, "company": cr.fetchone()}

    def _run_as(self, company, as_of, full=False):
        # what was written so far was written an hour before the run (outside its watermark's margin)
        self._age_writes("1 hour")
        return self.Analytics.with_user(self.manager).with_company(company).run(as_of=as_of, full=full)

    def _full_recompute(self, company, as_of):
        """What a full recompute gives on the same data, without keeping it (rolled back)."""
        self.env.flush_all()
        self.env.cr.execute(SQL("SAVEPOINT shop_crm_full_check"))
        try:
            summary = self._run_as(company, as_of, full=True)
            return summary, self._snapshot(company)
        finally:
            self.env.cr.execute(SQL("ROLLBACK TO SAVEPOINT shop_crm_full_check"))
            self.env.invalidate_all()

    def assertSameAsFull(self, company, as_of, label):
        incremental = self._snapshot(company)
        summary, full = self._full_recompute(company, as_of)
        self.assertEqual(summary["mode"], "full")
        self.assertEqual(incremental["state"], full["state"], f"{label}: aggregates")
        by_partner = {row[0]: row for row in full["values"]}
        self.assertEqual(len(incremental["values"]), len(full["values"]), f"{label}: customers")
        for row in incremental["values"]:
            self.assertEqual(row, by_partner.get(row[0]), f"{label}: customer {row[0]}")
        self.assertEqual(incremental["company"], full["company"], f"{label}: lifetime-value model")


@tagged("post_install", "-at_install")
class TestAnalyticsIncrementalRandom(IncrementalCase):
    def test_random_days_match_full_recompute(self):
        """Two shops through 14 days of new orders, refunds, cancellations, deleted and changed orders,
        customers moving orders or leaving, settings changes and runs switching between the shops: after
        every day's run, every analytics value equals a full recompute's on the same data."""
        rng = random.Random(18)
        second = self.env["res.company"].create({"name": "Second Branch"})
        (self.manager | self.staff).write({"company_ids": [Command.link(second.id)]})
        companies = [self.company, second]
        partners = self._customers(*(f"Chain {i}" for i in range(40)))
        amounts = (10.0, 25.0, 60.0, 99.0, 150.0, 300.0)
        start = ago(20)
        # two years of history in both shops, sales orders and imported purchases
        history = {company.id: [] for company in companies}
        for partner in partners[:34]:
            for _i in range(rng.choice((1, 2, 3, 5))):
                company = rng.choice(companies)
                day = start - timedelta(days=rng.randrange(0, 730))
                if rng.random() < 0.3:
                    self._legacy(partner, day, rng.choice(amounts), company=company)
                else:
                    history[company.id].append((partner, day, rng.choice(amounts)))
        orders = self.env["sale.order"]
        for company in companies:
            orders |= self._orders(history[company.id], company=company)
        last_run = {}
        modes = []
        leaving = self._customers("Leaving Lu")
        self._legacy(leaving, start - timedelta(days=3), 42.0)
        for day_index in range(14):
            as_of = start + timedelta(days=day_index)
            self._next_day()
            company = rng.choice(companies)
            # the day's business, in both shops
            new_rows = {shop.id: [] for shop in companies}
            for _i in range(rng.randrange(1, 5)):
                partner = rng.choice(partners)
                new_rows[rng.choice(companies).id].append((partner, as_of, rng.choice(amounts)))
            if rng.random() < 0.5:  # a refund
                partner = rng.choice(partners)
                new_rows[rng.choice(companies).id].append((partner, as_of, -rng.choice(amounts[:3])))
            for shop in companies:
                if new_rows[shop.id]:
                    orders |= self._orders(new_rows[shop.id], company=shop)
            if rng.random() < 0.4:
                self._legacy(rng.choice(partners), as_of - timedelta(days=rng.randrange(0, 400)), 33.0)
            confirmed = orders.filtered(lambda order: order.state == "sale")
            if rng.random() < 0.5:  # a cancellation
                rng.choice(confirmed)._action_cancel()
            if rng.random() < 0.4:  # a cancelled order deleted
                cancelled = orders.filtered(lambda order: order.state == "cancel")
                if cancelled:
                    doomed = rng.choice(cancelled)
                    orders -= doomed
                    doomed.unlink()
            if rng.random() < 0.4:  # an order given to another customer
                rng.choice(confirmed).partner_id = rng.choice(partners)
            if rng.random() < 0.3:  # an old order's date corrected
                order = rng.choice(confirmed)
                order.date_order = order.date_order - timedelta(days=rng.randrange(1, 60))
            if day_index == 6:  # a customer with imported purchases only leaves
                leaving.unlink()
            settings_changed = day_index in (4, 9)
            if settings_changed:
                company.shop_crm_lost_days = rng.choice((120, 150, 200))
            summary = self._run_as(company, as_of)
            first = company.id not in last_run
            expected = "full" if first or settings_changed else "incremental"
            self.assertEqual(summary["mode"], expected, f"day {day_index}: {summary['full_reason']}")
            modes.append((summary["mode"], summary["recomputed"], summary["customers"]))
            last_run[company.id] = as_of
            self.assertSameAsFull(company, as_of, f"day {day_index}, {company.name}")
        incremental = [mode for mode in modes if mode[0] == "incremental"]
        self.assertGreaterEqual(len(incremental), 6)
        self.assertTrue(
            any(recomputed < customers / 2 for _mode, recomputed, customers in incremental),
            "an incremental run recomputes the changed customers, not all",
        )


@tagged("post_install", "-at_install")
class TestAnalyticsIncrementalRules(IncrementalCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.regular, cls.occasional, cls.newcomer = cls._customers("Regular Ren", "Occasional Ou", "New Niu")
        cls._orders(
            [
                (cls.regular, ago(400), 80.0),
                (cls.regular, ago(30), 80.0),
                (cls.regular, ago(10), 80.0),
                (cls.occasional, ago(366), 50.0),
                (cls.occasional, ago(200), 50.0),
            ]
        )

    def test_first_run_full_then_only_what_changed(self):
        first = self._run_as(self.company, ago(1))
        self.assertEqual((first["mode"], first["full_reason"]), ("full", "first_run"))
        self._next_day()
        self._orders([(self.newcomer, ago(0), 30.0)])
        second = self._run_as(self.company, ago(0))
        self.assertEqual((second["mode"], second["full_reason"]), ("incremental", False))
        # only the newcomer: no purchase on ago(365) (left the window), none on the calibration day
        self.assertEqual(second["recomputed"], 1)
        self.assertEqual(self.newcomer.rfm_frequency, 1)
        self.assertSameAsFull(self.company, ago(0), "one new order")

    def test_orders_leaving_the_window_are_recomputed(self):
        self._run_as(self.company, ago(1))
        self.assertEqual(self.occasional.rfm_frequency, 1)  # ago(200); ago(366) is out of the window
        self._next_day()
        self._run_as(self.company, ago(0))
        self._next_day()
        summary = self._run_as(self.company, ago(0) + timedelta(days=165))
        self.assertEqual(summary["mode"], "incremental")
        self.occasional.invalidate_recordset()
        self.assertEqual(self.occasional.rfm_frequency, 0, "ago(200) left the window 165 days later")
        self.assertSameAsFull(self.company, ago(0) + timedelta(days=165), "window")

    def test_deleted_and_moved_orders_are_recomputed(self):
        self._run_as(self.company, ago(0))
        self.assertEqual(self.regular.rfm_frequency, 2)
        self._next_day()
        order = self.env["sale.order"].search(
            [("partner_id", "=", self.regular.id)], order="date_order desc"
        )[0]
        order.partner_id = self.newcomer
        summary = self._run_as(self.company, ago(0) + timedelta(days=1))
        self.assertEqual(summary["mode"], "incremental")
        self.assertEqual((self.regular.rfm_frequency, self.newcomer.rfm_frequency), (1, 1))
        self._next_day()
        order._action_cancel()
        self._next_day()  # (aged past the watermark: only the record of the deletion can tell)
        order.unlink()
        self._run_as(self.company, ago(0) + timedelta(days=2))
        self.assertEqual(self.newcomer.rfm_frequency, 0)
        self.assertSameAsFull(self.company, ago(0) + timedelta(days=2), "deleted order")

    def test_full_run_when_the_state_cannot_be_used(self):
        self._run_as(self.company, ago(5))
        self.company.shop_crm_rfm_window_days = 300
        self.assertEqual(self._run_as(self.company, ago(4))["full_reason"], "inputs_changed")
        self.assertEqual(self._run_as(self.company, ago(6))["full_reason"], "earlier_date")
        self.env.cr.execute(
            SQL("DELETE FROM shop_crm_analytics_state WHERE partner_id = %s", self.regular.id)
        )
        summary = self._run_as(self.company, ago(5))
        self.assertEqual(summary["full_reason"], "state_lost")
        self.assertEqual(self.regular.rfm_frequency, 2)
        self.assertEqual(self._run_as(self.company, ago(4), full=True)["full_reason"], "requested")
        self.company.sudo().shop_crm_tz = "America/New_York"
        self.assertEqual(self._run_as(self.company, ago(3))["full_reason"], "inputs_changed")
        self.assertEqual(self._run_as(self.company, ago(2))["mode"], "incremental")

    def test_only_managers_run_a_full_recompute(self):
        for user in (self.staff, self.outsider):
            with self.assertRaises(AccessError):
                self.Analytics.with_user(user).run(as_of=ago(0), full=True)
