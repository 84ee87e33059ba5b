"""The campaign definitions of lib/campaign.py: control draw, quiet hours, published results."""

import math
from datetime import date, datetime, time

from odoo.tests import BaseCase, tagged

from ..lib import campaign


@tagged("post_install", "-at_install", "shop_crm_unit")
class TestCampaignRules(BaseCase):
    def test_control_size(self):
        self.assertEqual(campaign.control_size(100, 10), 10)
        self.assertEqual(campaign.control_size(25, 10), 3, "2.5 rounds half up")
        self.assertEqual(campaign.control_size(24, 10), 2)
        self.assertEqual(campaign.control_size(50, 0), 0, "0 % is allowed: no control group")
        self.assertEqual(campaign.control_size(1, 60), 0, "never the whole audience below 100 %")
        self.assertEqual(campaign.control_size(0, 10), 0)
        with self.assertRaises(ValueError):
            campaign.control_size(10, -1)
        with self.assertRaises(ValueError):
            campaign.control_size(10, 101)

    def test_draw_reproducible_and_share_respected(self):
        ids = list(range(1000, 3000))
        first = campaign.draw_control(ids, 10, seed=42)
        self.assertEqual(len(first), 200)
        self.assertLessEqual(first, set(ids))
        self.assertEqual(
            campaign.draw_control(reversed(ids), 10, seed=42), first, "order of the ids is irrelevant"
        )
        other = campaign.draw_control(ids, 10, seed=43)
        self.assertNotEqual(other, first, "another seed, another group")
        self.assertEqual(campaign.draw_control(ids, 0, seed=42), set())
        # uniform: about 10 % of each half of the ids
        low = len([i for i in first if i < 2000])
        self.assertTrue(70 <= low <= 130, low)

    def test_quiet_hours(self):
        quiet = [(time(21, 0), True), (time(23, 59), True), (time(0, 30), True), (time(8, 59), True)]
        quiet += [(time(9, 0), False), (time(12, 0), False), (time(20, 59), False)]
        for moment, expected in quiet:
            self.assertEqual(campaign.in_quiet_hours(moment, 21.0, 9.0), expected, moment)
        self.assertTrue(campaign.in_quiet_hours(time(13, 0), 12.5, 14.0), "a day-time range")
        self.assertFalse(campaign.in_quiet_hours(time(3, 0), 9.0, 9.0), "equal hours: none")
        self.assertEqual(
            campaign.quiet_hours_end(datetime(2026, 3, 10, 22, 15), 21.0, 9.0), datetime(2026, 3, 11, 9, 0)
        )
        self.assertEqual(
            campaign.quiet_hours_end(datetime(2026, 3, 10, 7, 0), 21.0, 9.0), datetime(2026, 3, 10, 9, 0)
        )
        noon = datetime(2026, 3, 10, 12, 0)
        self.assertEqual(campaign.quiet_hours_end(noon, 21.0, 9.0), noon)

    def test_results_definitions(self):
        # T: 90 customers, 27 responders, 4500 net; C: 10 customers, 2 responders, 300 net
        results = campaign.results((90, 27, 4500.0), (10, 2, 300.0), coupons_issued=80, coupons_used=20)
        self.assertEqual(
            set(results), {"treated", "control", "lift_pp", "lift_ci95_pp", "incremental_revenue"}
        )
        treated, control = results["treated"], results["control"]
        self.assertAlmostEqual(treated["response_rate"], 0.3)
        self.assertAlmostEqual(control["response_rate"], 0.2)
        self.assertAlmostEqual(results["lift_pp"], 10.0)
        expected_ci = 100 * 1.96 * math.sqrt(0.3 * 0.7 / 90 + 0.2 * 0.8 / 10)
        self.assertAlmostEqual(results["lift_ci95_pp"], expected_ci)
        self.assertAlmostEqual(treated["spend_per_customer"], 50.0)
        self.assertAlmostEqual(control["spend_per_customer"], 30.0)
        self.assertAlmostEqual(results["incremental_revenue"], (50.0 - 30.0) * 90)
        self.assertAlmostEqual(treated["redemption_rate"], 0.25)
        self.assertNotIn("redemption_rate", control, "redemption is for the treated group only")

    def test_results_without_control_group(self):
        results = campaign.results((50, 10, 1000.0), (0, 0, 0.0), coupons_issued=0, coupons_used=0)
        self.assertAlmostEqual(results["treated"]["response_rate"], 0.2)
        self.assertIsNone(results["control"]["response_rate"])
        self.assertIsNone(results["lift_pp"])
        self.assertIsNone(results["lift_ci95_pp"])
        self.assertIsNone(results["incremental_revenue"])
        self.assertIsNone(results["treated"]["redemption_rate"], "no coupon issued: no rate")

    def test_cumulative_by_day(self):
        series = campaign.cumulative_by_day({date(2026, 3, 2): 2, date(2026, 3, 4): 1}, date(2026, 3, 1), 5)
        self.assertEqual([count for _day, count in series], [0, 2, 2, 3, 3])
        self.assertEqual(series[-1][0], date(2026, 3, 5))

    def test_member_day_recurrence(self):
        wednesday = date(2026, 3, 11)
        self.assertTrue(campaign.member_day_on(wednesday, "weekly", weekday=2))
        self.assertFalse(campaign.member_day_on(wednesday, "weekly", weekday=3))
        self.assertFalse(campaign.member_day_on(date(2026, 3, 12), "weekly", weekday=2))
        self.assertTrue(campaign.member_day_on(date(2026, 3, 31), "monthly", month_day=31))
        self.assertTrue(
            campaign.member_day_on(date(2026, 4, 30), "monthly", month_day=31), "last day instead"
        )
        self.assertFalse(campaign.member_day_on(date(2026, 4, 29), "monthly", month_day=31))
        self.assertTrue(campaign.member_day_on(date(2026, 2, 28), "monthly", month_day=30))
        self.assertTrue(campaign.member_day_on(date(2026, 3, 8), "monthly", month_day=8))
        self.assertEqual(campaign.next_member_day(date(2026, 3, 12), "weekly", weekday=2), date(2026, 3, 18))
        self.assertEqual(campaign.next_member_day(date(2026, 3, 11), "weekly", weekday=2), wednesday)
        self.assertEqual(
            campaign.next_member_day(date(2026, 4, 1), "monthly", month_day=31), date(2026, 4, 30)
        )
        with self.assertRaises(ValueError):
            campaign.member_day_on(wednesday, "yearly")

    def test_member_day_extra(self):
        self.assertEqual(campaign.member_day_extra(150.0, 2.0), 150.0, "double points: as much again")
        self.assertEqual(campaign.member_day_extra(33.33, 1.5), 16.67)
        self.assertEqual(campaign.member_day_extra(100.0, 1.0), 0.0)
        self.assertEqual(campaign.member_day_extra(0.0, 2.0), 0.0)
