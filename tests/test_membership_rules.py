"""Unit tests of lib/membership.py (no database needed, run with the Odoo tests)."""

import random
from datetime import date, timedelta

from odoo.tests import BaseCase, tagged

from ..lib import membership as m


@tagged("post_install", "-at_install")
class TestMembershipRules(BaseCase):
    def test_member_code_is_valid_ean13(self):
        code = m.member_code(1)
        self.assertEqual(code, "2900000000018")
        self.assertTrue(m.is_valid_member_code(code))
        self.assertEqual(m.ean13_check_digit("400638133393"), 1)  # a published EAN-13: 4006381333931
        self.assertFalse(m.is_valid_member_code("2900000000016"))
        self.assertFalse(m.is_valid_member_code("29000000000"))
        for bad in (0, -3, 10**10, "7"):
            with self.assertRaises(ValueError):
                m.member_code(bad)

    def test_age_band(self):
        today = date(2026, 11, 23)
        self.assertEqual(m.age_band(date(2000, 11, 23), today), "25_34")  # 26 today
        self.assertEqual(m.age_band(date(2001, 11, 24), today), "18_24")  # 25 tomorrow
        self.assertEqual(m.age_band(date(2010, 1, 1), today), "under_18")
        self.assertEqual(m.age_band(date(1950, 1, 1), today), "65_plus")
        self.assertIsNone(m.age_band(None, today))
        self.assertIsNone(m.age_band(date(2027, 1, 1), today))

    def test_add_months_clamps_month_ends(self):
        self.assertEqual(m.add_months(date(2026, 1, 31), 1), date(2026, 2, 28))
        self.assertEqual(m.add_months(date(2028, 1, 31), 1), date(2028, 2, 29))
        self.assertEqual(m.add_months(date(2026, 8, 31), 12), date(2027, 8, 31))
        self.assertEqual(m.add_months(date(2026, 12, 15), 3), date(2027, 3, 15))
        self.assertEqual(m.months_before(date(2026, 3, 31), 1), date(2026, 2, 28))

    def test_tier_rules(self):
        spend = m.Tier(1, 10, use_spend=True, min_spend=1000)
        points = m.Tier(2, 20, use_points=True, min_points=500)
        both = m.Tier(
            3, 30, use_spend=True, min_spend=1000, use_points=True, min_points=500, require_both=True
        )
        either = m.Tier(4, 40, use_spend=True, min_spend=5000, use_points=True, min_points=2000)
        self.assertTrue(spend.qualifies(1000, 0))
        self.assertFalse(spend.qualifies(999.99, 10**6))
        self.assertTrue(points.qualifies(0, 500))
        self.assertFalse(both.qualifies(1000, 499))
        self.assertTrue(both.qualifies(1000, 500))
        self.assertTrue(either.qualifies(0, 2000))
        self.assertEqual(m.Tier(5, 1).problems(), ["no_rule"])
        self.assertFalse(m.Tier(5, 1).qualifies(10**9, 10**9))
        self.assertEqual(m.Tier(6, 1, use_spend=True, min_spend=-1).problems(), ["negative_spend"])
        tiers = [spend, points, both, either]
        self.assertEqual(m.best_tier(tiers, {1: (1000, 600), 2: (1000, 600), 3: (1000, 600)}), both)
        self.assertIsNone(m.best_tier(tiers, {}))

    def test_decide_with_grace(self):
        silver, gold = m.Tier(1, 10, use_spend=True), m.Tier(2, 20, use_spend=True)
        today = date(2026, 5, 1)
        self.assertEqual(m.decide(silver, gold, False, None, 30, today), m.Decision(gold, "upgrade", None))
        self.assertEqual(m.decide(None, silver, False, None, 30, today), m.Decision(silver, "upgrade", None))
        self.assertEqual(
            m.decide(gold, gold, False, date(2026, 4, 1), 30, today), m.Decision(gold, None, None)
        )
        # stops qualifying: grace starts today, downgrade 30 days later
        self.assertEqual(m.decide(gold, silver, False, None, 30, today), m.Decision(gold, None, today))
        day29 = today + timedelta(days=29)
        self.assertEqual(m.decide(gold, silver, False, today, 30, day29), m.Decision(gold, None, today))
        day30 = today + timedelta(days=30)
        self.assertEqual(
            m.decide(gold, silver, False, today, 30, day30), m.Decision(silver, "downgrade", None)
        )
        self.assertEqual(m.decide(gold, None, False, None, 0, today), m.Decision(None, "downgrade", None))
        # locked: nothing moves
        self.assertEqual(m.decide(silver, gold, True, None, 30, today), m.Decision(silver, None, None))

    def test_fifo_expiry_across_month_ends(self):
        lines = [
            m.Line(date(2025, 1, 31), issued=100),  # expires 2026-01-31 (12 months)
            m.Line(date(2025, 2, 28), issued=50),  # expires 2026-02-28
            m.Line(date(2025, 3, 10), used=30),  # eats the oldest lot first
        ]
        self.assertEqual(m.expiring_points(lines, 12, date(2026, 1, 30)), 0)
        self.assertEqual(m.expiring_points(lines, 12, date(2026, 1, 31)), 70)
        lines.append(m.Line(date(2026, 1, 31), used=70))  # the expiry line
        self.assertEqual(m.expiring_points(lines, 12, date(2026, 2, 27)), 0)
        self.assertEqual(m.expiring_points(lines, 12, date(2026, 2, 28)), 50)
        self.assertEqual(m.expiring_points(lines, 0, date(2030, 1, 1)), 0)

    def test_fifo_prefix_formula_equals_lots(self):
        """The set-based formula max(0, issued in expired lots - all used) equals the lot simulation."""
        rng = random.Random(7)
        for _ in range(200):
            day = date(2025, 1, 1)
            lines = []
            for _ in range(rng.randint(1, 25)):
                day += timedelta(days=rng.randint(0, 40))
                lines.append(m.Line(day, issued=rng.choice([0, 0, 10, 25.5, 100])))
                balance = sum(x.issued - x.used for x in lines)
                if balance > 0 and rng.random() < 0.4:
                    lines.append(m.Line(day, used=round(rng.uniform(0, balance), 2)))
            as_of = day + timedelta(days=rng.randint(0, 500))
            months = rng.choice([1, 6, 12])
            expired_issued = sum(x.issued for x in lines if m.add_months(x.date, months) <= as_of)
            formula = max(0.0, expired_issued - sum(x.used for x in lines))
            self.assertAlmostEqual(m.expiring_points(lines, months, as_of), round(formula, 2), places=2)

    def test_redeemable_never_below_zero(self):
        self.assertEqual(m.redeemable(100, 128), 100)
        self.assertEqual(m.redeemable(100, 128, reserved_by_others=100), 28)
        self.assertEqual(m.redeemable(100, 50, earned=60), 100)
        self.assertEqual(m.redeemable(100, 20, reserved_by_others=90), 0)
        self.assertEqual(m.redeemable(0, 0), 0)
        with self.assertRaises(ValueError):
            m.redeemable(-1, 10)
        rng = random.Random(3)
        for _ in range(500):
            balance, others, earned = (round(rng.uniform(0, 500), 2) for _ in range(3))
            requested = round(rng.uniform(0, 600), 2)
            allowed = m.redeemable(requested, balance, others, earned)
            self.assertGreaterEqual(allowed, 0)
            self.assertLessEqual(allowed, requested)
            self.assertLessEqual(allowed, max(0.0, balance + earned - others) + 1e-9)
