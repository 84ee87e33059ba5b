from datetime import date

from freezegun import freeze_time

from odoo.addons.shop_crm.scripts.demo_shop import PAYMENT_METHOD_NAMES, STAFF, DemoShop
from odoo.exceptions import UserError
from odoo.tests import TransactionCase, new_test_user, tagged

from ..lib import demo_plan


@tagged("post_install", "-at_install")
class TestDemoGenerator(TransactionCase):
    """The demo shop builder (``scripts/demo_shop.py``, run by ``make demo`` in ``scripts/odoo shell``, not
    a model of the addon) goes through Odoo's real models on a fresh company: paid POS orders in closed
    sessions, confirmed sales."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company = cls.env["res.company"].create({"name": "Test flower shop"})
        cls.anchor = date(2026, 3, 31)
        with freeze_time("2026-03-31 20:00:00"):
            cls.summary = DemoShop(cls.env).generate(
                seed=5, anchor=cls.anchor, customers=40, days=120, company=cls.company, login_prefix="t."
            )
        cls.plan = demo_plan.build_plan(
            seed=5, anchor=cls.anchor, customers=40, days=120, staff_count=len(STAFF) - 1
        )

    def test_company_is_a_chinese_shop(self):
        self.assertEqual(self.company.currency_id, self.env.ref("base.CNY"))
        self.assertEqual(self.company.country_id, self.env.ref("base.cn"))
        self.assertTrue(self.company.chart_template)

    def test_customers(self):
        partners = self.env["res.partner"].search(
            [("company_id", "=", self.company.id), ("is_shop_customer", "=", True)]
        )
        self.assertEqual(len(partners), 40)
        self.assertEqual(self.summary["customers"], 40)
        self.assertEqual(set(partners.mapped("name")), {c.name for c in self.plan.customers})
        self.assertTrue(all(partner.user_id for partner in partners), "every customer has a staff member")
        self.assertTrue(
            all(partner.user_id.has_group("shop_crm.group_shop_crm_user") for partner in partners)
        )
        self.assertEqual(
            len(partners.filtered("birthday")), sum(1 for c in self.plan.customers if c.birthday)
        )

    def test_pos_orders_are_paid_in_closed_sessions(self):
        orders = self.env["pos.order"].search([("company_id", "=", self.company.id)])
        self.assertEqual(len(orders), self.plan.count("pos"))
        self.assertEqual(self.summary["pos_orders"], self.plan.count("pos"))
        self.assertGreater(len(orders), 30)
        self.assertEqual(set(orders.mapped("state")), {"done"}, "sessions were closed, so orders are done")
        self.assertEqual(set(orders.session_id.mapped("state")), {"closed"})
        for order in orders:
            self.assertAlmostEqual(
                order.amount_total, sum(order.lines.mapped("price_subtotal_incl")), places=2
            )
            self.assertAlmostEqual(order.amount_paid, order.amount_total, places=2)
        self.assertEqual(
            set(orders.payment_ids.payment_method_id.mapped("name")), set(PAYMENT_METHOD_NAMES.values())
        )
        expected_total = sum(
            sum(next(p[3] for p in demo_plan.PRODUCTS if p[0] == code) * qty for code, qty in o.lines)
            for o in self.plan.orders
            if o.channel == "pos"
        )
        self.assertAlmostEqual(sum(orders.mapped("amount_total")), expected_total, places=2)
        first_day = min(orders.mapped("date_order")).date()
        self.assertGreaterEqual(first_day, date(2025, 12, 1))
        self.assertTrue(
            all(order.session_id.move_id for order in orders), "closing posted the accounting entry"
        )

    def test_sale_orders_confirmed_with_their_own_dates(self):
        orders = self.env["sale.order"].search([("company_id", "=", self.company.id)])
        self.assertEqual(len(orders), self.plan.count("sale"))
        self.assertGreater(len(orders), 0)
        self.assertEqual(set(orders.mapped("state")), {"sale"})
        self.assertLessEqual(max(orders.mapped("date_order")).date(), self.anchor)
        self.assertLess(min(orders.mapped("date_order")).date(), date(2026, 3, 1), "dates kept, not 'now'")

    def test_staff(self):
        logins = ["t." + suffix for suffix, _name, _manager in STAFF]
        users = self.env["res.users"].search([("login", "in", logins)])
        self.assertEqual(len(users), len(STAFF))
        self.assertTrue(
            users.filtered(lambda u: u.login == "t.manager").has_group("shop_crm.group_shop_crm_manager")
        )
        self.assertFalse(
            users.filtered(lambda u: u.login == "t.staff1").has_group("shop_crm.group_shop_crm_manager")
        )

    def test_members_tiers_points_dates_referrals(self):
        partners = self.env["res.partner"].search(
            [("company_id", "=", self.company.id), ("is_shop_customer", "=", True)]
        )
        self.assertTrue(all(partner.member_code for partner in partners), "every customer is a member")
        self.assertEqual(self.summary["members"], 40)
        tiers = self.env["shop.crm.tier"].search([("company_id", "=", self.company.id)])
        self.assertEqual(tiers.mapped("name"), ["普通会员", "银卡", "金卡", "钻石"])
        self.assertGreater(len(partners.tier_id), 1, "customers are spread over tiers")
        program = self.company.shop_crm_program_id
        cards = self.env["loyalty.card"].search([("program_id", "=", program.id)])
        self.assertTrue(any(card.points > 0 for card in cards))
        for card in cards:
            self.assertAlmostEqual(card.points, sum(h.issued - h.used for h in card.history_ids), places=2)
        kinds = set(cards.history_ids.mapped("shop_crm_kind"))
        self.assertIn("earn", kinds)
        extras = demo_plan.member_extras(self.plan)
        self.assertEqual(len(partners.filtered("referred_by_id")), len(extras.referrals))
        occasions = self.env["shop.crm.occasion"].search([("partner_id", "in", partners.ids)])
        self.assertEqual(len(occasions), len(extras.occasions))
        soon = occasions.with_context(shop_crm_as_of=self.anchor).filtered(
            lambda occasion: occasion.next_date and (occasion.next_date - self.anchor).days <= 30
        )
        self.assertTrue(soon, "some important dates are coming up")
        self.assertTrue(self.env["shop.crm.consent"].search_count([("partner_id", "in", partners.ids)]))

    def test_visits(self):
        visits = self.env["shop.crm.visit"].search([("company_id", "=", self.company.id)])
        planned = demo_plan.planned_visits(self.plan)
        self.assertEqual(len(visits), len(planned))
        self.assertEqual(self.summary["visits"], len(planned))
        self.assertTrue(all(visit.user_id == visit.partner_id.user_id for visit in visits))
        follow_ups = visits.activity_id
        self.assertEqual(
            set(follow_ups.activity_type_id), {self.env.ref("shop_crm.mail_activity_type_follow_up")}
        )
        self.assertEqual(len(follow_ups), sum(1 for v in planned if v.next_in_days is not None))

    def test_feedback_in_every_stage(self):
        # (the questionnaire's unhappy answers open their own complaints: test_survey_answers_across_months)
        tickets = self.env["shop.crm.feedback"].search(
            [("company_id", "=", self.company.id), ("survey_answer_ids", "=", False)]
        )
        planned = demo_plan.planned_feedback(self.plan)
        self.assertEqual(len(tickets), len(planned))
        self.assertEqual(
            set(tickets.mapped("stage")), {"new", "in_progress", "resolved", "closed", "cancelled"}
        )
        answered = tickets.filtered("satisfaction")
        self.assertTrue(answered and all(t.stage in ("resolved", "closed") for t in answered))
        self.assertTrue(tickets.filtered("compensation_points"))
        resolved = tickets.filtered(
            lambda t: t.feedback_type == "complaint" and t.stage in ("resolved", "closed")
        )
        self.assertTrue(resolved and all(t.category_id and t.root_cause for t in resolved))

    def test_survey_answers_across_months(self):
        answers = self.env["survey.user_input"].search([("shop_crm_company_id", "=", self.company.id)])
        self.assertEqual(len(answers), self.summary["survey_answers"])
        self.assertTrue(answers and set(answers.mapped("state")) == {"done"})
        self.assertGreaterEqual(len({day.replace(day=1) for day in answers.mapped("shop_crm_answer_day")}), 3)
        complaints = answers.shop_crm_complaint_id
        self.assertTrue(complaints and all(ticket.category_id for ticket in complaints))

    def test_improvement_actions(self):
        actions = self.env["shop.crm.improvement"].search([("company_id", "=", self.company.id)])
        self.assertEqual(sorted(actions.mapped("state")), ["planned", "verified"])
        self.assertTrue(all(action.user_id and action.deadline for action in actions))
        self.assertTrue(actions.filtered("overdue"), "one is past its deadline")

    def test_care_rules(self):
        rules = self.env["shop.crm.care.rule"].search([("company_id", "=", self.company.id)])
        self.assertEqual(set(rules.mapped("trigger")), {"birthday", "occasion", "festival"})

    def test_builder_is_for_administrators_only(self):
        manager = new_test_user(self.env, login="t.demo.manager", groups="shop_crm.group_shop_crm_manager")
        with self.assertRaises(UserError):
            DemoShop(self.env(user=manager)).generate(customers=1, days=30, company=self.company)
