from datetime import date, datetime, timedelta

from freezegun import freeze_time

from odoo import Command
from odoo.tests import tagged

from .common import ShopCrmCase

D = date(2026, 6, 30)
# 02:30 on D in Shanghai, when the nightly run is scheduled
NIGHT = "2026-06-29 18:30:00"
STEPS_LOGGED = [
    "points expiry",
    "member tiers",
    "customer analytics",
    "follow-up plans",
    "care",
    "monthly report",
    "overdue improvement actions",
    "questionnaire invitations",
]


@tagged("post_install", "-at_install")
class TestNightlyRun(ShopCrmCase):
    """One scheduled action runs the nightly jobs in order: points expiry, tiers, analytics, follow-ups,
    care. Follow-up plans target churn warnings (computed by the analytics) and care rules target tiers
    (evaluated by the tiers step): in this order they see tonight's values, not yesterday's."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company = cls.env.company
        cls.company.shop_crm_tz = "Asia/Shanghai"
        cls.product = cls.env["product.product"].create(
            {"name": "Peony", "list_price": 1.0, "type": "consu", "taxes_id": [Command.clear()]}
        )
        Partner = cls.env["res.partner"]
        cls.away = Partner.create({"name": "Away 周", "user_id": cls.staff.id})
        cls.birthday = Partner.create(
            {"name": "Birthday 吴", "user_id": cls.staff.id, "birthday": date(1990, 6, 30)}
        )
        # Away came every 10 days and has stayed away for 30: a churn warning as of D.
        for days_ago in (60, 50, 40, 30):
            cls._sale(cls.away, 80, D - timedelta(days=days_ago))
        cls._sale(cls.birthday, 2000, D - timedelta(days=1))
        # The tier is configured after the orders: only the nightly evaluation gives it.
        cls.silver = cls.env["shop.crm.tier"].create({"name": "Silver", "sequence": 20, "min_spend": 1000})
        cls.plan = cls.env["shop.crm.followup.rule"].create(
            {"name": "Win back", "churn_warning": True, "timing": "once", "interval_days": 0,
             "purpose": "win_back"}
        )  # fmt: skip
        cls.care = cls.env["shop.crm.care.rule"].create(
            {"name": "Silver birthdays", "trigger": "birthday", "tier_id": cls.silver.id, "days_before": 0}
        )

    @classmethod
    def _sale(cls, partner, amount, day):
        order = cls.env["sale.order"].create(
            {
                "partner_id": partner.id,
                "order_line": [
                    Command.create(
                        {"product_id": cls.product.id, "price_unit": amount, "tax_id": [Command.clear()]}
                    )
                ],
            }
        )
        order.action_confirm()
        order.date_order = datetime.combine(day, datetime.min.time()) + timedelta(hours=4)

    def _plan_activities(self):
        return self.env["mail.activity"].search(
            [
                ("res_model", "=", "res.partner"),
                ("res_id", "=", self.away.id),
                ("activity_type_id", "=", self.env.ref("shop_crm.mail_activity_type_follow_up").id),
            ]
        )

    def _night(self):
        with (
            freeze_time(NIGHT),
            self.assertLogs("odoo.addons.shop_crm.models.shop_crm_nightly", "DEBUG") as logged,
        ):
            self.env["shop.crm.nightly"]._cron_nightly()
        return [line.split(": ", 2)[-1].split(" done")[0] for line in logged.output]

    def test_one_scheduled_action_for_the_night(self):
        crons = self.env["ir.model.data"].search([("module", "=", "shop_crm"), ("model", "=", "ir.cron")])
        # campaigns have their own action every 15 minutes (a start at a chosen time, SMS after the quiet
        # hours): not a nightly job, nothing of the night depends on it
        # and background imports run when a manager starts one (triggered), not at night
        nightly_jobs = [
            name
            for name in crons.mapped("name")
            if name not in ("ir_cron_shop_crm_campaigns", "ir_cron_shop_crm_import_jobs")
        ]
        self.assertEqual(nightly_jobs, ["ir_cron_shop_crm_nightly"], "no job of its own to run late")
        nightly = self.env.ref("shop_crm.ir_cron_shop_crm_nightly")
        self.assertEqual((nightly.code, nightly.active), ("model._cron_nightly()", True))
        self.assertEqual((nightly.interval_number, nightly.interval_type), (1, "days"))

    def test_steps_run_in_order_and_see_each_others_results(self):
        self.assertFalse(self.birthday.tier_id)
        self.assertFalse(self.away.churn_warning)
        self.assertEqual(self._night(), STEPS_LOGGED)
        # tiers before care: the member became Silver tonight and is cared for on their birthday
        self.assertEqual(self.birthday.tier_id, self.silver)
        self.assertEqual(self.care.log_ids.partner_id, self.birthday)
        # analytics before follow-ups: tonight's churn warning gets the plan's win-back follow-up
        self.assertTrue(self.away.churn_warning)
        self.assertEqual(len(self._plan_activities()), 1)
        self.assertEqual(self.plan.history_ids.partner_id, self.away)
        # a second night on the same day changes nothing
        activities = self.env["mail.activity"].search_count([("res_model", "=", "res.partner")])
        messages = self.env["mail.message"].search_count([("model", "=", "res.partner")])
        self.assertEqual(self._night(), STEPS_LOGGED)
        self.assertEqual(
            self.env["mail.activity"].search_count([("res_model", "=", "res.partner")]), activities
        )
        self.assertEqual(self.env["mail.message"].search_count([("model", "=", "res.partner")]), messages)
        self.assertEqual(len(self.care.log_ids), 1)

    def test_the_order_matters(self):
        """What separate jobs would do when the analytics or the tiers run late: the follow-ups and the
        care see yesterday's values and miss tonight's customers."""
        with freeze_time(NIGHT):
            self.assertEqual(self.env["shop.crm.followup.rule"]._cron_create_followups(), 0)
            self.assertEqual(self.env["shop.crm.care.rule"]._cron_care(), 0)
        self._night()
        self.assertEqual(len(self._plan_activities()), 1)
        self.assertEqual(self.care.log_ids.partner_id, self.birthday)
