from datetime import date, timedelta

from odoo.tests import BaseCase, tagged

from ..lib import rfm

D = date(2026, 6, 30)


def ago(days):
    return D - timedelta(days=days)


@tagged("post_install", "-at_install", "shop_crm_unit")
class TestRfmRules(BaseCase):
    def test_cume_dist_scores_with_ties(self):
        # CUME_DIST over (1, 2, 2, 3, 5): 0.2, 0.6, 0.6, 0.8, 1.0 -> CEIL(5x): 1, 3, 3, 4, 5
        scores = rfm.cume_dist_scores({"a": 1, "b": 2, "c": 2, "d": 3, "e": 5})
        self.assertEqual(scores, {"a": 1, "b": 3, "c": 3, "d": 4, "e": 5})
        self.assertEqual(rfm.cume_dist_scores({"x": 7}), {"x": 5}, "a lone customer is the top")
        self.assertEqual(set(rfm.cume_dist_scores({"x": 1, "y": 1, "z": 1}).values()), {5}, "all tied: all 5")

    def test_classes(self):
        self.assertEqual([rfm.score_class(t) for t in (15, 13, 12, 10, 9, 7, 6, 0)], list("AABBCCDD"))
        strict = rfm.Settings(class_a_min=14, class_b_min=11, class_c_min=8)
        self.assertEqual(rfm.score_class(13, strict), "B")

    def test_segments(self):
        self.assertEqual(rfm.segment(5, 5, 5), "important_value")
        self.assertEqual(rfm.segment(3, 2, 3), "important_development")
        self.assertEqual(rfm.segment(2, 3, 4), "important_keep")
        self.assertEqual(rfm.segment(1, 1, 5), "important_retain")
        self.assertEqual(rfm.segment(4, 4, 2), "general_value")
        self.assertEqual(rfm.segment(3, 1, 1), "general_development")
        self.assertEqual(rfm.segment(2, 5, 2), "general_keep")
        self.assertEqual(rfm.segment(0, 0, 0), "general_retain")
        self.assertEqual(len(set(rfm.SEGMENTS.values())), 8)

    def test_definitions(self):
        orders = [
            ("refund", ago(5), 300.0),
            ("refund", ago(4), -100.0),
            ("edge_in", ago(364), 50.0),
            ("edge_out", ago(365), 50.0),
            ("future", D + timedelta(days=1), 80.0),
            ("new", ago(90), 10.0),
            ("not_new", ago(91), 10.0),
            ("lost", ago(181), 10.0),
            ("lost", ago(400), 10.0),
            ("not_lost", ago(180), 10.0),
            ("not_lost", ago(300), 10.0),
            ("churn", ago(100), 20.0),
            ("churn", ago(90), 20.0),
            ("churn", ago(80), 20.0),
            ("churn", ago(80), 5.0),  # same day: one purchase day, two purchases
        ]
        values = rfm.compute(orders, D, customers=["potential"])
        self.assertEqual(values["refund"].monetary, 200.0)
        self.assertEqual(values["refund"].frequency, 1, "a refund is not a purchase")
        self.assertEqual(values["edge_in"].frequency, 1)
        self.assertEqual(values["edge_out"].frequency, 0)
        self.assertEqual((values["edge_out"].r_score, values["edge_out"].rfm_class), (0, "D"))
        self.assertEqual(values["edge_out"].recency_days, 365)
        self.assertEqual(values["future"].stage, "potential", "orders after D are ignored")
        self.assertEqual(values["potential"].stage, "potential")
        self.assertIsNone(values["potential"].rfm_class)
        self.assertEqual(values["new"].stage, "new")
        self.assertEqual(values["not_new"].stage, "returning")
        self.assertEqual(values["lost"].stage, "lost")
        self.assertEqual(values["not_lost"].stage, "returning")
        churn = values["churn"]
        self.assertEqual((churn.frequency, churn.purchase_days, churn.typical_gap), (4, 3, 10))
        self.assertTrue(churn.churn_warning, "80 days away, usually every 10")
        self.assertFalse(values["lost"].churn_warning, "lost customers have no warning")
        # one purchase day: shop-wide median of personal medians (churn 10, lost 219, not_lost 120) = 120
        self.assertEqual(values["edge_in"].typical_gap, 120)
        self.assertFalse(values["edge_in"].churn_warning, "364 > 2 x 120, but the customer is lost")
        self.assertFalse(values["new"].churn_warning, "90 < 2 x 120")

    def test_one_purchase_day_uses_shop_median(self):
        orders = [("a", ago(30), 9.0), ("a", ago(20), 9.0), ("b", ago(40), 9.0), ("b", ago(30), 9.0)]
        values = rfm.compute([*orders, ("one", ago(25), 9.0)], D)
        self.assertEqual(values["one"].typical_gap, 10)
        self.assertTrue(values["one"].churn_warning, "25 > max(2 x 10, 14)")
        values = rfm.compute([*orders, ("one", ago(19), 9.0)], D)
        self.assertFalse(values["one"].churn_warning, "19 <= max(2 x 10, 14)")
        values = rfm.compute([("one", ago(15), 9.0)], D)
        self.assertIsNone(values["one"].typical_gap, "no customer with two purchase days")
        self.assertTrue(values["one"].churn_warning, "only the 14-day minimum applies")

    def test_new_before_lost_precedence(self):
        # first purchase 90 days ago: new, although 90 days without a purchase is "lost" with lost_days=30
        values = rfm.compute([("c", ago(90), 10.0)], D, settings=rfm.Settings(lost_days=30))
        self.assertEqual(values["c"].stage, "new")

    def test_min_days(self):
        values = rfm.compute([("c", ago(20), 10.0), ("c", ago(15), 10.0), ("c", ago(13), 10.0)], D)
        self.assertFalse(values["c"].churn_warning, "13 days is within the 14-day minimum")
        values = rfm.compute([("c", ago(25), 10.0), ("c", ago(20), 10.0), ("c", ago(15), 10.0)], D)
        self.assertTrue(values["c"].churn_warning, "15 > max(2 x 5, 14)")

    def test_bad_settings(self):
        self.assertEqual(rfm.Settings().problems(), [])
        for bad, code in (
            (rfm.Settings(window_days=0), "window"),
            (rfm.Settings(class_a_min=10, class_b_min=10), "classes"),
            (rfm.Settings(class_c_min=0), "classes"),
            (rfm.Settings(class_a_min=16), "classes"),
            (rfm.Settings(high_score=6), "high_score"),
            (rfm.Settings(lost_days=0), "lifecycle"),
            (rfm.Settings(new_days=-1), "lifecycle"),
            (rfm.Settings(gap_factor=0), "churn"),
            (rfm.Settings(min_days=-1), "churn"),
        ):
            self.assertEqual(bad.problems(), [code])
            with self.assertRaises(ValueError):
                bad.validate()
