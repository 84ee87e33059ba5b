import random
from datetime import date, datetime, time, timedelta

from freezegun import freeze_time

from odoo import Command
from odoo.addons.shop_crm.scripts.demo_shop import DemoShop
from odoo.exceptions import AccessError, ValidationError
from odoo.tests import tagged

from ..lib import demo_plan, rfm
from .common import ShopCrmCase

D = date(2026, 6, 30)


def ago(days):
    return D - timedelta(days=days)


class AnalyticsCase(ShopCrmCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company = cls.env.company
        cls.product = cls.env["product.product"].create(
            {"name": "Rose bouquet", "list_price": 1.0, "type": "consu", "taxes_id": [Command.clear()]}
        )
        cls.Analytics = cls.env["shop.crm.analytics"]

    @classmethod
    def _customers(cls, *names, staff=None):
        return cls.env["res.partner"].create(
            [{"name": name, "user_id": (staff or cls.staff).id} for name in names]
        )

    @classmethod
    def _orders(cls, rows, company=None):
        """Confirmed sales orders for ``(partner, day, amount)`` rows; a negative amount is a refund."""
        orders = (
            cls.env["sale.order"]
            .with_company(company or cls.company)
            .create(
                [
                    {
                        "partner_id": partner.id,
                        "order_line": [
                            Command.create(
                                {
                                    "product_id": cls.product.id,
                                    "product_uom_qty": 1 if amount > 0 else -1,
                                    "price_unit": abs(amount),
                                    "tax_id": [Command.clear()],
                                }
                            )
                        ],
                    }
                    for partner, _day, amount in rows
                ]
            )
        )
        orders.action_confirm()
        for order, (_partner, day, _amount) in zip(orders, rows, strict=True):
            order.date_order = datetime.combine(day, datetime.min.time()) + timedelta(hours=3)
        return orders

    def _run(self, as_of=D, user=None):
        return self.Analytics.with_user(user or self.manager).run(as_of=as_of)


@tagged("post_install", "-at_install")
class TestAnalyticsDefinitions(AnalyticsCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        names = (
            "frequent", "tie1", "tie2", "refund", "edge_in", "edge_out", "future", "potential",
            "new", "not_new", "lost", "not_lost", "churn", "one_day",
        )  # fmt: skip
        cls.c = dict(zip(names, cls._customers(*names), strict=True))
        c = cls.c
        cls.rows = [
            (c["frequent"], ago(1), 100.0),
            (c["frequent"], ago(10), 100.0),
            (c["frequent"], ago(20), 100.0),
            (c["tie1"], ago(30), 60.0),
            (c["tie2"], ago(30), 60.0),
            (c["refund"], ago(5), 300.0),
            (c["refund"], ago(4), -100.0),
            (c["edge_in"], ago(364), 50.0),
            (c["edge_out"], ago(365), 50.0),
            (c["future"], D + timedelta(days=1), 80.0),
            (c["new"], ago(90), 10.0),
            (c["not_new"], ago(91), 10.0),
            (c["lost"], ago(181), 10.0),
            (c["lost"], ago(400), 10.0),
            (c["not_lost"], ago(180), 10.0),
            (c["not_lost"], ago(300), 10.0),
            (c["churn"], ago(100), 20.0),
            (c["churn"], ago(90), 20.0),
            (c["churn"], ago(80), 20.0),
            (c["churn"], ago(80), 5.0),
            (c["one_day"], ago(50), 30.0),
        ]
        cls._orders(cls.rows)
        # a cancelled order and a quotation never count
        quotation = cls._orders([(c["potential"], ago(3), 999.0)])
        quotation._action_cancel()
        cls.env["sale.order"].create({"partner_id": c["potential"].id, "date_order": ago(2)})
        with freeze_time("2026-06-30 22:00:00"):
            cls.summary = cls.Analytics.with_user(cls.manager).run(as_of=D)

    def test_summary(self):
        self.assertGreaterEqual(self.summary["customers"], len(self.c))
        self.assertEqual(self.company.shop_crm_analytics_date, D)

    def test_recency_frequency_monetary(self):
        c = self.c
        self.assertEqual(c["frequent"].rfm_recency_days, 1)
        self.assertEqual(c["frequent"].rfm_frequency, 3)
        self.assertEqual(c["frequent"].rfm_monetary, 300.0)
        self.assertEqual(c["refund"].rfm_monetary, 200.0, "refunds count against monetary")
        self.assertEqual(c["refund"].rfm_frequency, 1, "a refund is not a purchase")
        self.assertEqual(c["refund"].clv_historical, 200.0)
        self.assertEqual(c["churn"].rfm_frequency, 4, "two orders on one day are two purchases")
        self.assertEqual(c["edge_in"].rfm_frequency, 1, "D-364 is inside the window")
        self.assertEqual(c["edge_out"].rfm_frequency, 0, "D-365 is outside the window")
        self.assertEqual(c["edge_out"].rfm_recency_days, 365)

    def test_scores_and_classes(self):
        c = self.c
        self.assertEqual(c["frequent"].rfm_r_score, 5)
        self.assertEqual(c["frequent"].rfm_f_score, 5)
        self.assertEqual(c["frequent"].rfm_m_score, 5)
        self.assertEqual(c["frequent"].rfm_class, "A")
        self.assertEqual(c["frequent"].rfm_segment, "important_value")
        tie = (c["tie1"].rfm_r_score, c["tie1"].rfm_f_score, c["tie1"].rfm_m_score)
        self.assertEqual(tie, (c["tie2"].rfm_r_score, c["tie2"].rfm_f_score, c["tie2"].rfm_m_score))
        self.assertEqual((c["edge_out"].rfm_r_score, c["edge_out"].rfm_f_score), (0, 0))
        self.assertEqual(c["edge_out"].rfm_class, "D", "purchased, but not in the window")
        self.assertEqual(c["edge_out"].rfm_segment, "general_retain")
        for name in ("potential", "future"):
            self.assertFalse(c[name].rfm_class, f"{name}: never purchased, no class")
            self.assertFalse(c[name].rfm_segment)

    def test_lifecycle(self):
        stages = {name: partner.lifecycle_stage for name, partner in self.c.items()}
        self.assertEqual(stages["potential"], "potential")
        self.assertEqual(stages["future"], "potential", "orders after the as-of date are ignored")
        self.assertEqual(stages["new"], "new", "first purchase 90 days ago")
        self.assertEqual(stages["not_new"], "returning", "first purchase 91 days ago")
        self.assertEqual(stages["lost"], "lost", "last purchase 181 days ago")
        self.assertEqual(stages["not_lost"], "returning", "last purchase 180 days ago")
        self.assertEqual(stages["edge_in"], "lost")

    def test_churn_warning(self):
        churn = self.c["churn"]
        self.assertTrue(churn.churn_warning)
        self.assertEqual(churn.churn_typical_gap, 10.0)
        self.assertEqual(churn.churn_reason, "usually every 10 days, last visit 80 days ago")
        self.assertFalse(self.c["lost"].churn_warning, "lost customers are past warning")
        self.assertFalse(self.c["frequent"].churn_warning)
        self.assertFalse(self.c["potential"].churn_warning)

    def test_matches_reference_definitions(self):
        """Every value equals the plain-Python reference computation of the definitions (lib/rfm.py)."""
        expected = rfm.compute(
            [(partner.id, day, amount) for partner, day, amount in self.rows],
            D,
            [p.id for p in self.c.values()],
        )
        for name, partner in self.c.items():
            self._assert_reference(partner, expected[partner.id], name)

    def _assert_reference(self, partner, values, label):
        got = (
            None if partner.lifecycle_stage == "potential" else partner.rfm_recency_days,
            partner.rfm_frequency,
            round(partner.rfm_monetary, 2),
            partner.rfm_r_score,
            partner.rfm_f_score,
            partner.rfm_m_score,
            partner.rfm_class or None,
            partner.rfm_segment or None,
            partner.lifecycle_stage,
            partner.churn_warning,
        )
        want = (
            values.recency_days,
            values.frequency,
            round(values.monetary, 2),
            values.r_score,
            values.f_score,
            values.m_score,
            values.rfm_class,
            values.segment,
            values.stage,
            values.churn_warning,
        )
        self.assertEqual(got, want, label)

    def test_second_run_changes_nothing(self):
        activities = self.env["mail.activity"].search_count([])
        changes = self.env["shop.crm.segment.change"].search_count([])
        second = self._run()
        self.assertEqual(second["changed"], 0)
        self.assertEqual(second["segment_changes"], 0)
        self.assertEqual(self.env["mail.activity"].search_count([]), activities)
        self.assertEqual(self.env["shop.crm.segment.change"].search_count([]), changes)

    def test_lifetime_value_falls_back_on_little_data(self):
        self.assertEqual(self.company.shop_crm_clv_method, "simple")
        self.assertIn("too little data", self.company.shop_crm_clv_summary)
        self.assertEqual(self.c["frequent"].clv_method, "simple")
        self.assertGreater(self.c["frequent"].clv_predicted_12m, 0)
        self.assertFalse(self.c["potential"].clv_predicted_12m)

    def test_filters_group_bys_and_order_on_customers(self):
        """The values are filtered, grouped, summed and sorted on res.partner like stored fields."""
        Partner = self.env["res.partner"].with_user(self.staff)
        c = self.c
        unknown = Partner.create({"name": "Not analysed yet"})  # no values: counts as empty
        ids = [partner.id for partner in c.values()] + [unknown.id]
        in_shop = [("id", "in", ids)]

        def found(domain):
            return Partner.search([*in_shop, *domain])

        def having(predicate):
            return Partner.browse(ids).filtered(predicate)

        self.assertIn(c["frequent"], found([("rfm_class", "=", "A")]))
        for klass in ("A", "B", "C", "D"):
            self.assertEqual(found([("rfm_class", "=", klass)]), having(lambda p, k=klass: p.rfm_class == k))
        self.assertEqual(found([("rfm_class", "=", False)]), c["future"] | c["potential"] | unknown)
        self.assertEqual(found([("rfm_class", "!=", False)]), having(lambda p: p.rfm_class))
        self.assertEqual(found([("churn_warning", "=", True)]), c["churn"])
        self.assertEqual(found([("churn_warning", "=", False)]), having(lambda p: p != c["churn"]))
        new = c["frequent"] | c["tie1"] | c["tie2"] | c["refund"] | c["new"] | c["one_day"]
        self.assertEqual(found([("lifecycle_stage", "in", ["new"])]), new)
        self.assertEqual(found([("lifecycle_stage", "=", False)]), unknown)
        self.assertEqual(found([("rfm_frequency", ">=", 3)]), c["frequent"] | c["churn"])
        self.assertEqual(found([("rfm_frequency", "=", 0)]), having(lambda p: not p.rfm_frequency))
        self.assertEqual(
            found([("rfm_segment", "=", "important_value")]),
            having(lambda p: p.rfm_segment == "important_value"),
        )

        groups = dict(Partner._read_group(in_shop, ["lifecycle_stage"], ["__count"]))
        expected = {}
        for partner in (*c.values(), unknown):
            expected[partner.lifecycle_stage] = expected.get(partner.lifecycle_stage, 0) + 1
        self.assertEqual(groups, expected)
        by_class = dict(Partner._read_group(in_shop, ["rfm_class"], ["rfm_monetary:sum"]))
        self.assertEqual(by_class["A"], sum(having(lambda p: p.rfm_class == "A").mapped("rfm_monetary")))
        self.assertEqual(by_class[False], 0.0)

        ordered = Partner.search(in_shop, order="rfm_monetary desc nulls last, id")
        self.assertEqual(ordered.mapped("rfm_monetary"), sorted(ordered.mapped("rfm_monetary"), reverse=True))
        self.assertEqual(ordered[0], c["frequent"])
        description = Partner.fields_get(
            ["rfm_class", "rfm_monetary"], ["groupable", "sortable", "searchable"]
        )
        self.assertTrue(all(all(attributes.values()) for attributes in description.values()), description)

    def test_staff_reads_values_with_explanation(self):
        partner = self.c["frequent"].with_user(self.staff)
        self.assertEqual(partner.rfm_class, "A")
        self.assertIn("R 5/5", partner.rfm_explanation)
        self.assertIn("Class A", partner.rfm_explanation)


@tagged("post_install", "-at_install")
class TestAnalyticsComplaints(AnalyticsCase):
    """Open or unsatisfied complaints make the churn warning come earlier (lib/rfm.py: complaint weight)."""

    def test_complaint_weight(self):
        calm, upset, satisfied, old = self._customers("Calm", "Upset", "Satisfied", "Old complaint")
        rows = []
        for partner in (calm, upset, satisfied, old):
            rows += [(partner, ago(days), 50) for days in (45, 35, 25, 15)]  # every 10 days, last 15 ago
        self._orders(rows)
        Feedback = self.env["shop.crm.feedback"]
        with freeze_time(datetime.combine(ago(5), time(10))):
            Feedback.create({"partner_id": upset.id, "description": "Wilted roses"})
            happy = Feedback.create(
                {"partner_id": satisfied.id, "description": "Late", "resolution": "Refund"}
            )
            happy.write(
                {
                    "stage": "resolved",
                    "satisfaction": "5",
                    "category_id": self.env.ref("shop_crm.feedback_category_delivery").id,
                    "root_cause": "Courier late",
                }
            )
        with freeze_time(datetime.combine(ago(100), time(10))):
            Feedback.create({"partner_id": old.id, "description": "Long ago"})
        self._run()
        # usual gap 10 days, last visit 15 days ago: max(2 x 10, 14) = 20 -> no warning; with an open
        # complaint max(2 x 0.5 x 10, 14) = 14 -> warning
        self.assertEqual(
            [p.churn_warning for p in (calm, upset, satisfied, old)], [False, True, False, False]
        )
        expected = rfm.compute(
            [(partner.id, day, amount) for partner, day, amount in rows], D, complaining={upset.id}
        )
        for partner in (calm, upset, satisfied, old):
            self.assertEqual(partner.churn_warning, expected[partner.id].churn_warning, partner.name)
        # unsatisfied answers count too; a second run sees the new ticket (it is an input of the run)
        happy.write({"satisfaction": "2"})
        self._run()
        self.assertTrue(satisfied.churn_warning)
        with self.assertRaises(ValidationError):
            self.company.shop_crm_churn_complaint_factor = 1.5


@tagged("post_install", "-at_install")
class TestAnalyticsRandom(AnalyticsCase):
    def test_random_shop_matches_reference(self):
        """60 customers with random purchases and refunds over 2 years: SQL == reference definitions."""
        rng = random.Random(42)
        partners = self._customers(*(f"Random {i}" for i in range(60)))
        rows = []
        for partner in partners[:55]:
            for _i in range(rng.choice((1, 1, 2, 3, 5, 8))):
                day = ago(rng.randrange(0, 730))
                rows.append((partner, day, float(rng.choice((10, 25, 25, 60, 99, 150, 300)))))
                if rng.random() < 0.08:
                    rows.append((partner, day + timedelta(days=rng.randrange(0, 3)), -10.0))
        self._orders(rows)
        self._run()
        expected = rfm.compute([(p.id, d, a) for p, d, a in rows], D, partners.ids)
        by_class = {}
        for partner in partners:
            values = expected[partner.id]
            self.assertEqual(
                (partner.rfm_frequency, partner.rfm_r_score, partner.rfm_f_score, partner.rfm_m_score),
                (values.frequency, values.r_score, values.f_score, values.m_score),
                partner.name,
            )
            self.assertAlmostEqual(partner.rfm_monetary, values.monetary, places=2)
            self.assertEqual(partner.rfm_class or None, values.rfm_class, partner.name)
            self.assertEqual(partner.rfm_segment or None, values.segment, partner.name)
            self.assertEqual(partner.lifecycle_stage, values.stage, partner.name)
            self.assertEqual(partner.churn_warning, values.churn_warning, partner.name)
            self.assertAlmostEqual(partner.clv_historical, values.net_spend, places=2)
            by_class[values.rfm_class] = by_class.get(values.rfm_class, 0) + 1
        self.assertGreaterEqual(len(by_class), 4, "the random shop has several classes")


@tagged("post_install", "-at_install")
class TestAnalyticsHistoryAndActivities(AnalyticsCase):
    def test_changes_recorded_and_one_activity_per_episode(self):
        regular, other = self._customers("Regular Wang", "Other Li")
        self._orders([(regular, ago(d), 50.0) for d in (60, 50, 40, 30)] + [(other, ago(5), 20.0)])
        Activity = self.env["mail.activity"]
        activity_type = self.env.ref("shop_crm.mail_activity_type_churn_warning")

        def activities():
            return Activity.search([("res_id", "=", regular.id), ("res_model", "=", "res.partner"),
                                    ("activity_type_id", "=", activity_type.id)])  # fmt: skip

        self._run(as_of=D)  # first run: baseline, no history
        self.assertEqual(
            self.env["shop.crm.segment.change"].search_count([("partner_id", "=", regular.id)]), 0
        )
        self.assertTrue(regular.churn_warning, "30 days away, usually every 10")
        self.assertEqual(len(activities()), 1)
        self.assertEqual(activities().user_id, self.staff, "for the customer's staff member")
        self.assertEqual(activities().date_deadline, D + timedelta(days=2))

        self._run(as_of=D + timedelta(days=1))  # the warning goes on: same episode, no new activity
        self.assertEqual(len(activities()), 1)
        activities().with_user(self.staff).action_done()
        visit = regular.visit_ids
        self.assertEqual((visit.purpose, visit.outcome, visit.user_id), ("win_back", "reached", self.staff))
        self.assertEqual(
            visit.notes, "Churn warning: win the customer back", "a done win-back call is a visit"
        )
        self._run(as_of=D + timedelta(days=2))
        self.assertEqual(len(activities()), 0, "done, and the episode has not ended")

        self._orders([(regular, D + timedelta(days=3), 50.0)])  # the customer comes back
        self._run(as_of=D + timedelta(days=3))
        self.assertFalse(regular.churn_warning)
        self._run(as_of=D + timedelta(days=60))  # ... and stays away again: a new episode
        self.assertTrue(regular.churn_warning)
        self.assertEqual(len(activities()), 1)

        changes = self.env["shop.crm.segment.change"].search([("partner_id", "=", regular.id)])
        self.assertTrue(changes, "moves between classes/stages are kept")
        self.assertTrue(all(change.company_id == self.company for change in changes))
        self.assertEqual(set(changes.mapped("what")) - {"rfm_class", "rfm_segment", "lifecycle_stage"}, set())
        for change in changes:
            self.assertNotEqual(change.old_value, change.new_value)
        staff_view = (
            self.env["shop.crm.segment.change"]
            .with_user(self.staff)
            .search([("partner_id", "=", regular.id)])
        )
        self.assertEqual(staff_view, changes, "staff read the history")
        with self.assertRaises(AccessError):
            changes[:1].with_user(self.staff).unlink()
        with self.assertRaises(AccessError):
            changes[:1].with_user(self.manager).write({"new_value": "A"})

    def test_win_back_activities_are_assigned_as_core_assigns(self):
        """The win-back activities go through mail.activity's batched create: the staff member follows
        the customers, is notified, and their counter moves over the bus; a rerun creates nothing."""
        away = self._customers("Away Zhao", "Away Qian")
        self._orders([(partner, ago(d), 50.0) for partner in away for d in (60, 50, 40, 30)])
        with freeze_time(D + timedelta(days=2)):  # the activities' deadline: due today
            bus_before = self._activity_bus_count(self.staff)
            self.assertEqual(self._run(as_of=D)["churn_activities"], 2)
            activities = self.env["mail.activity"].search(
                [("res_model", "=", "res.partner"), ("res_id", "in", away.ids)]
            )
            self.assertEqual(len(activities), 2)
            self.assertEqual(set(activities.mapped("res_name")), {"Away Zhao", "Away Qian"})
            self.assertTrue(all(activities.mapped("automated")))
            self.assertAssignedAsCoreDoes(activities, self.staff)
            self.assertEqual(self._activity_bus_count(self.staff) - bus_before, 2)
            # a rerun (same day, or the next one with the warning still on) creates nothing twice
            self._run(as_of=D)
            self._run(as_of=D + timedelta(days=1))
            self.assertEqual(
                self.env["mail.activity"].search_count(
                    [("res_model", "=", "res.partner"), ("res_id", "in", away.ids)]
                ),
                2,
            )

    def test_pos_orders_count(self):
        """Paid POS orders are purchases; a POS refund counts against monetary."""
        customer = self._customers("POS Chen")
        config = self.env["pos.config"].create({"name": "Counter"})
        config.with_user(self.env.ref("base.user_admin")).open_ui()
        session = config.current_session_id
        cash = config.payment_method_ids.filtered("is_cash_count")[:1]
        demo = DemoShop(self.env)
        # the demo shop's POS payload (the format the POS sends): 88 x 1.00, then a refund of 20 x 1.00
        payloads = [
            demo._pos_order_payload(
                session,
                demo_plan.PlannedOrder(1, datetime.combine(day, time(12)), (("P", qty),), "pos", "cash"),
                {1: customer},
                {"P": self.product},
                {"cash": cash},
                index,
            )
            for index, (qty, day) in enumerate(((88.0, ago(2)), (-20.0, ago(1))))
        ]
        self.env["pos.order"].sync_from_ui(payloads)
        self.assertEqual(set(session.order_ids.mapped("state")), {"paid"})
        self._run()
        self.assertEqual(customer.rfm_frequency, 1)
        self.assertEqual(customer.rfm_monetary, 68.0)
        self.assertEqual(customer.rfm_recency_days, 2)
        self.assertEqual(customer.lifecycle_stage, "new")


@tagged("post_install", "-at_install")
class TestAnalyticsCompanies(AnalyticsCase):
    def test_values_per_company(self):
        """A customer who buys in two companies has one set of values per company; each company sees,
        filters and groups its own."""
        second = self.env["res.company"].create({"name": "Second Shop"})
        (self.manager | self.staff).write({"company_ids": [Command.link(second.id)]})
        shared, other = self._customers("Shared Qian", "Only First Zhao")
        self._orders([(shared, ago(5), 100.0), (shared, ago(3), 100.0), (other, ago(8), 30.0)])
        self._orders([(shared, ago(400), 70.0)], company=second)
        self._run()
        self.Analytics.with_user(self.manager).with_company(second).run(as_of=D)

        first = shared.with_user(self.staff).with_company(self.company)
        self.assertEqual((first.rfm_frequency, first.rfm_monetary, first.lifecycle_stage), (2, 200.0, "new"))
        self.assertEqual(first.clv_historical, 200.0)
        in_second = shared.with_user(self.staff).with_company(second)
        self.assertEqual((in_second.rfm_frequency, in_second.rfm_recency_days), (0, 400))
        self.assertEqual((in_second.lifecycle_stage, in_second.rfm_class), ("lost", "D"))
        self.assertEqual(in_second.clv_historical, 70.0)
        self.assertEqual(first.lifecycle_stage, "new", "the second company's run kept the first one's values")
        self.assertEqual(other.with_company(second).lifecycle_stage, "potential", "shared, no order there")

        Partner = self.env["res.partner"].with_user(self.staff)
        pair = [("id", "in", (shared | other).ids)]
        lost = [*pair, ("lifecycle_stage", "=", "lost")]
        self.assertEqual(Partner.with_company(self.company).search(lost), Partner)
        self.assertEqual(Partner.with_company(second).search(lost), shared)
        self.assertEqual(
            dict(Partner.with_company(second)._read_group(pair, ["lifecycle_stage"], ["__count"])),
            {"lost": 1, "potential": 1},
        )
        Value = self.env["shop.crm.customer.value"]
        self.assertEqual(Value.search_count([("partner_id", "=", shared.id)]), 2)
        staff_values = Value.with_user(self.staff).with_context(allowed_company_ids=[self.company.id])
        self.assertEqual(staff_values.search([("partner_id", "=", shared.id)]).company_id, self.company.id)
        with self.assertRaises(AccessError):
            staff_values.search([("partner_id", "=", shared.id)]).write({"rfm_frequency": 9})

    def test_amounts_in_the_smallest_unit_of_the_shop_currency(self):
        """A shop whose currency has three decimals (Kuwaiti dinar) keeps every fils: the sums are exact in
        the currency's smallest unit, not in cents."""
        dinar = self.env.ref("base.KWD")
        dinar.active = True
        self.assertEqual(dinar.decimal_places, 3)
        self.env.ref("product.decimal_price").digits = 3  # prices in fils, as such a shop sets up
        shop = self.env["res.company"].create({"name": "Dinar Shop", "currency_id": dinar.id})
        (self.manager | self.staff).write({"company_ids": [Command.link(shop.id)]})
        customer = self._customers("Fils Counter")
        rows = [(customer, ago(400), 0.5), (customer, ago(5), 1.234), (customer, ago(3), 2.345)]
        orders = self._orders([*rows, (customer, ago(2), -0.001)], company=shop)
        self.assertEqual(orders.mapped("amount_total"), [0.5, 1.234, 2.345, -0.001])
        self.Analytics.with_user(self.manager).with_company(shop).run(as_of=D)

        values = customer.with_user(self.staff).with_company(shop)
        self.assertEqual(values.shop_crm_currency_id, dinar)
        self.assertEqual((values.rfm_frequency, values.rfm_monetary), (2, 3.578))
        self.assertEqual(values.clv_historical, 4.078)

    def test_deleted_customer_values_go_with_it(self):
        customer = self._customers("Passing Through")
        self._run()
        Value = self.env["shop.crm.customer.value"]
        self.assertEqual(Value.search_count([("partner_id", "=", customer.id)]), 1)
        customer.unlink()
        self.assertEqual(Value.search_count([("partner_id", "=", customer.id)]), 0)


@tagged("post_install", "-at_install")
class TestAnalyticsAccessAndSettings(AnalyticsCase):
    def test_only_managers_recompute(self):
        with self.assertRaises(AccessError):
            self._run(user=self.staff)
        with self.assertRaises(AccessError):
            self._run(user=self.outsider)
        self.assertIn("customers", self._run(user=self.manager))

    def test_staff_cannot_change_settings(self):
        with self.assertRaises(AccessError):
            self.company.with_user(self.staff).write({"shop_crm_lost_days": 30})

    def test_settings_are_used(self):
        customer = self._customers("Settings Xu")
        self._orders([(customer, ago(100), 10.0)])
        self._run()
        self.assertEqual(customer.lifecycle_stage, "returning")
        self.company.shop_crm_lost_days = 60
        self._run()
        self.assertEqual(customer.lifecycle_stage, "lost")

    def _as_if_committed(self):
        """Pretend the last run was committed after everything written so far (a test is one transaction,
        whose savepoints write with later transaction ids): its horizon becomes the id after the newest
        one that wrote an input."""
        self.env.cr.execute(
            "SELECT (GREATEST((SELECT MAX(xmin::text::bigint) FROM res_partner),"
            " (SELECT MAX(xmin::text::bigint) FROM pos_order),"
            " (SELECT MAX(xmin::text::bigint) FROM sale_order),"
            " (SELECT MAX(xmin::text::bigint) FROM shop_crm_feedback)) + 1)::text"
        )
        fingerprint = self.company.shop_crm_analytics_fingerprint
        self.company.shop_crm_analytics_fingerprint = (
            self.env.cr.fetchone()[0] + ":" + fingerprint.partition(":")[2]
        )

    def test_rerun_skips_only_when_nothing_changed(self):
        customer = self._customers("Shortcut Sun")
        self._orders([(customer, ago(100), 10.0)])
        self._run()
        self.assertFalse(self._run().get("unchanged"), "never trusts its own transaction's fingerprint")
        self._as_if_committed()
        self.assertTrue(self._run().get("unchanged"), "same date, settings, orders and customers: skipped")
        self._as_if_committed()
        order = self._orders([(customer, ago(10), 10.0)])  # a new order
        self.assertFalse(self._run().get("unchanged"))
        self.assertEqual(customer.rfm_recency_days, 10)
        self._as_if_committed()
        self.assertTrue(self._run().get("unchanged"))
        with self.cr.savepoint():  # a later transaction changes an order: as many orders as before
            order.date_order = datetime.combine(ago(5), datetime.min.time())
            self.env.flush_all()
        self.assertFalse(self._run().get("unchanged"), "an order written after the last run")
        self.assertEqual(customer.rfm_recency_days, 5)
        self._as_if_committed()
        with self.cr.savepoint():
            customer.name = "Shortcut Sun Jr"
            self.env.flush_all()
        self.assertFalse(self._run().get("unchanged"), "a customer written after the last run")
        self._as_if_committed()
        self.assertFalse(self._run(as_of=D + timedelta(days=1)).get("unchanged"), "another date")
        self._as_if_committed()
        self.company.shop_crm_lost_days = 170
        self.assertFalse(self._run(as_of=D + timedelta(days=1)).get("unchanged"), "other settings")

    def test_bad_settings_rejected(self):
        for values in (
            {"shop_crm_class_a_min": 9, "shop_crm_class_b_min": 10},
            {"shop_crm_class_c_min": 0},
            {"shop_crm_class_a_min": 16},
            {"shop_crm_rfm_window_days": 0},
            {"shop_crm_high_score": 6},
            {"shop_crm_lost_days": 0},
            {"shop_crm_churn_gap_factor": 0.0},
            {"shop_crm_churn_min_days": -1},
            {"shop_crm_clv_min_customers": 0},
        ):
            with self.assertRaises(ValidationError, msg=str(values)), self.cr.savepoint():
                self.company.write(values)
            self.env.invalidate_all()

    def test_cron_runs_for_every_company(self):
        second = self.env["res.company"].create({"name": "Second shop"})
        with freeze_time("2026-07-01 04:00:00"):
            self.env["shop.crm.analytics"]._cron_recompute()
        self.assertEqual(self.company.shop_crm_analytics_date, date(2026, 7, 1))
        self.assertEqual(second.shop_crm_analytics_date, date(2026, 7, 1))
