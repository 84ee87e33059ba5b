"""The lifetime-value models in the analytics run: the expected next visit on customers (next to the churn
warning's personal rhythm), the prediction check (shop.crm.clv.validation) and follow-up plans on them."""

import math
import random
from datetime import timedelta

import numpy as np

from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import tagged

from ..lib import clv
from .test_analytics import AnalyticsCase, D, ago


@tagged("post_install", "-at_install")
class TestClvPredictions(AnalyticsCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.regular, cls.lapsed, cls.monthly, cls.once = cls._customers(
            "Regular 陈", "Lapsed 王", "Monthly 李", "Once 赵"
        )
        rng = random.Random(19)
        days = {
            cls.regular: [ago(3 + 10 * k) for k in range(36)],  # every 10 days, last visit 3 days ago
            cls.lapsed: [ago(60 + 10 * k) for k in range(34)],  # every 10 days until 60 days ago
            cls.monthly: [ago(20 + 30 * k) for k in range(12)],  # monthly, last visit 20 days ago
            cls.once: [ago(100)],
        }
        fillers = cls._customers(*(f"Customer {i:02d}" for i in range(36)))
        for customer in fillers:
            day, gap = ago(rng.randint(30, 500)), rng.choice((10, 20, 40, 60))
            visits = []
            while day <= D:
                visits.append(day)
                if rng.random() < 0.15:
                    break
                day += timedelta(days=1 + int(rng.expovariate(1 / gap)))
            days[customer] = visits
        cls.days = days
        cls.rows = [
            (customer, day, round(rng.uniform(20, 200), 2)) for customer, ds in days.items() for day in ds
        ]
        cls._orders(cls.rows)

    def _profiles(self, as_of):
        """(customers, frequency, recency, age in weeks, mean repeat spend) from the rows, as the analytics
        define them (one purchase per customer and day), up to ``as_of``."""
        customers, frequency, recency, age, spend = [], [], [], [], []
        for customer in self.days:
            spent = {}
            for partner, day, amount in self.rows:
                if partner == customer and day <= as_of:
                    spent[day] = spent.get(day, 0.0) + amount
            if not spent:
                continue
            ordered = sorted(spent)
            customers.append(customer)
            frequency.append(len(ordered) - 1)
            recency.append((ordered[-1] - ordered[0]).days / 7)
            age.append((as_of - ordered[0]).days / 7)
            repeat = [spent[day] for day in ordered[1:]]
            spend.append(sum(repeat) / len(repeat) if repeat else 0.0)
        return customers, np.array(frequency, dtype=float), np.array(recency), np.array(age), np.array(spend)

    def test_expected_next_visit_on_customers(self):
        summary = self._run()
        self.assertIn(summary["clv_method"], (clv.METHOD_MODEL, clv.METHOD_CONSTANT_DROPOUT))
        # the same as the library computes on the same profiles
        customers, x, t_x, big_t, spend = self._profiles(D)
        result = clv.fit_or_fallback(x, t_x, big_t, spend, horizon=52.18, penalizer=clv.DEFAULT_PENALIZER)
        self.assertEqual(result.method, summary["clv_method"])
        forecast = clv.forecast_visits(
            result, x, t_x, big_t, short=30 / 7, long=90 / 7, step=1 / 7, max_steps=3650
        )
        for index, partner in enumerate(customers):
            customer = partner.with_user(self.staff)
            self.assertAlmostEqual(customer.probability_alive, forecast.probability_alive[index], delta=6e-4)
            self.assertAlmostEqual(
                customer.expected_purchases_30d, forecast.purchases_short[index], delta=0.0051
            )
            self.assertAlmostEqual(
                customer.expected_purchases_90d, forecast.purchases_long[index], delta=0.0051
            )
            if math.isnan(forecast.next_visit[index]):
                self.assertFalse(customer.next_visit_date)
            else:
                self.assertEqual(
                    customer.next_visit_date, D + timedelta(days=round(forecast.next_visit[index] * 7))
                )
            self.assertEqual(customer.next_visit_overdue_days, round(forecast.overdue[index] * 7))

    def test_next_visit_and_churn_warning_side_by_side(self):
        self._run()
        regular, lapsed, monthly, once = (
            c.with_user(self.staff) for c in (self.regular, self.lapsed, self.monthly, self.once)
        )
        # the churn warning: away for longer than twice the usual gap
        self.assertEqual((regular.churn_typical_gap, regular.churn_warning), (10.0, False))
        self.assertEqual((lapsed.churn_typical_gap, lapsed.churn_warning), (10.0, True))
        self.assertEqual((monthly.churn_typical_gap, monthly.churn_warning), (30.0, False))
        # the model agrees: the regular is expected back within the usual gap, the lapsed one was expected
        # back 50 days ago and is probably gone, the monthly one is due in about ten days
        self.assertGreater(regular.probability_alive, 0.9)
        self.assertLessEqual(regular.next_visit_date, D + timedelta(days=14))
        self.assertLess(regular.next_visit_overdue_days, 0)
        self.assertLess(lapsed.probability_alive, 0.2)
        self.assertGreater(lapsed.next_visit_overdue_days, 40)
        self.assertGreater(regular.expected_purchases_30d, 5 * lapsed.expected_purchases_30d)
        self.assertLess(abs(monthly.next_visit_overdue_days), 15)
        self.assertLess(monthly.expected_purchases_30d, regular.expected_purchases_30d)
        # a one-visit customer has no rhythm of their own (the shop's median gap), the model a date
        self.assertGreater(once.next_visit_date, D)
        # filters and groups
        Partner = self.env["res.partner"].with_user(self.staff)
        ours = [("id", "in", [c.id for c in self.days])]
        overdue = Partner.search([*ours, ("next_visit_overdue_days", ">", 14)])
        self.assertIn(self.lapsed, overdue)
        self.assertNotIn(self.regular, overdue)
        # (memoryless for an active customer: one usual gap ahead of today, not of the last visit)
        within_two_weeks = Partner.search([*ours, ("next_visit_date", "<=", D + timedelta(days=14))])
        self.assertIn(self.regular, within_two_weeks)
        self.assertNotIn(self.once, within_two_weeks)
        groups = Partner._read_group(ours, ["next_visit_date:week"], ["__count"])
        self.assertEqual(sum(count for _week, count in groups), len(self.days))

    def test_followup_plans_on_the_expected_next_visit(self):
        self._run()
        Rule = self.env["shop.crm.followup.rule"]
        overdue = Rule.create(
            {"name": "Overdue", "next_visit": "overdue", "next_visit_days": 14, "timing": "once"}
        )
        soon = Rule.create(
            {
                "name": "Expected within two weeks",
                "next_visit": "expected_within",
                "next_visit_days": 14,
                "timing": "once",
            }
        )
        self.assertGreater(overdue._create_due_activities(D), 0)
        self.assertGreater(soon._create_due_activities(D), 0)
        histories = self.env["shop.crm.followup.history"].search([("rule_id", "in", (overdue | soon).ids)])
        overdue_partners = histories.filtered(lambda h: h.rule_id == overdue).partner_id
        soon_partners = histories.filtered(lambda h: h.rule_id == soon).partner_id
        self.assertIn(self.lapsed, overdue_partners)
        self.assertNotIn(self.regular, overdue_partners)
        self.assertNotIn(self.lapsed, soon_partners)  # an open follow-up already, and not expected soon
        expected = self.env["res.partner"].search(
            [("id", "in", [c.id for c in self.days]), ("next_visit_date", "<=", D + timedelta(days=14))]
        )
        self.assertTrue(soon_partners <= expected)
        with self.assertRaises(ValidationError):
            Rule.create({"name": "Bad", "next_visit": "overdue", "next_visit_days": -1})
        with self.assertRaises(ValidationError):
            Rule.create({"name": "Nobody", "next_visit_days": 3})

    def test_prediction_check_after_the_run(self):
        summary = self._run()
        check = self.company.shop_crm_clv_validation_id
        self.assertTrue(check)
        calibration = D - timedelta(weeks=26)
        self.assertEqual((check.date, check.calibration_date, check.holdout_weeks), (D, calibration, 26.0))
        customers, x, t_x, big_t, spend = self._profiles(calibration)
        actual_each = np.array(
            [len({day for day in self.days[customer] if day > calibration}) for customer in customers],
            dtype=float,
        )
        self.assertEqual(check.customers, len(customers))
        self.assertEqual(check.actual, int(actual_each.sum()))
        by_week = np.zeros(26)
        for customer in customers:
            for day in set(self.days[customer]):
                if day > calibration:
                    by_week[((day - calibration).days - 1) // 7] += 1
        expected = clv.holdout_validation(
            x, t_x, big_t, spend, actual_each, 26, by_week, penalizer=clv.DEFAULT_PENALIZER
        )
        self.assertEqual(check.method, expected.result.method)
        # (stored rounded to the digits shown)
        self.assertAlmostEqual(check.predicted, expected.predicted, delta=0.051)
        self.assertAlmostEqual(check.aggregate_error_pct, expected.aggregate_error_pct, delta=0.051)
        self.assertAlmostEqual(check.mean_absolute_error, expected.mean_absolute_error, delta=0.00051)
        self.assertEqual(len(check.tracking), 26)
        self.assertEqual(check.tracking[-1][2], check.actual)
        self.assertEqual([row[2] for row in check.tracking], list(np.cumsum(by_week)))
        self.assertEqual(summary["holdout_actual"], check.actual)
        self.assertEqual(summary["holdout_error_pct"], round(check.aggregate_error_pct, 1))
        self.assertIn("aggregate error", check.summary)
        self.assertIn("<table", check.tracking_html)
        # on demand (read from the purchases, not from the run's table): the same figures
        same = self.env["shop.crm.clv.validation"].with_user(self.manager).validate(as_of=D)
        self.assertNotEqual(same, check)
        self.assertEqual(
            (same.customers, same.actual, same.method), (check.customers, check.actual, check.method)
        )
        self.assertEqual(same.tracking, check.tracking)
        self.assertAlmostEqual(same.predicted, check.predicted, delta=0.051)
        self.assertAlmostEqual(same.mean_absolute_error, check.mean_absolute_error, delta=0.0011)
        # on demand, with another calibration date: a new check, the old ones kept
        self.company.shop_crm_clv_calibration_date = D - timedelta(weeks=13)
        again = self.env["shop.crm.clv.validation"].with_user(self.manager).validate(as_of=D)
        self.assertEqual((again.calibration_date, again.holdout_weeks), (D - timedelta(weeks=13), 13.0))
        self.assertEqual(self.company.shop_crm_clv_validation_id, again)
        self.assertEqual(
            self.env["shop.crm.clv.validation"].search_count([("company_id", "=", self.company.id)]), 3
        )

    def test_prediction_check_access_and_errors(self):
        self._run()
        Validation = self.env["shop.crm.clv.validation"]
        check = self.company.shop_crm_clv_validation_id
        self.assertEqual(Validation.with_user(self.staff).search([("id", "=", check.id)]), check)
        with self.assertRaises(AccessError):
            Validation.with_user(self.staff).validate(as_of=D)
        with self.assertRaises(AccessError):
            check.with_user(self.staff).unlink()
        with self.assertRaises(AccessError):
            check.with_user(self.manager).write({"actual": 1})
        with self.assertRaises(AccessError):
            Validation.with_user(self.outsider).search([])
        # another company's checks are not visible
        second = self.env["res.company"].create({"name": "Second Shop"})
        self.manager.write({"company_ids": [(4, second.id)]})
        other = (
            Validation.with_user(self.manager)
            .with_company(second)
            .with_context(allowed_company_ids=[second.id])
        )
        self.assertFalse(other.search([("id", "=", check.id)]))
        with self.assertRaises(AccessError):
            check.with_user(self.manager).with_context(allowed_company_ids=[second.id]).read(["actual"])
        # nothing bought by the calibration date: a clear error, nothing stored
        with self.assertRaises(UserError):
            Validation.with_user(self.manager).validate(as_of=ago(450))
        self.assertEqual(Validation.search_count([("company_id", "=", self.company.id)]), 1)

    def test_bad_settings(self):
        with self.assertRaises(ValidationError):
            self.company.shop_crm_clv_penalizer = -0.1
        with self.assertRaises(ValidationError):
            self.company.shop_crm_clv_calibration_date = self.company._shop_crm_today()
        with self.assertRaises(AccessError):
            self.company.with_user(self.staff).write({"shop_crm_clv_penalizer": 0.01})
