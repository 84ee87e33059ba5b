from datetime import date, datetime, timedelta

from freezegun import freeze_time

from odoo import Command
from odoo.exceptions import AccessError, ValidationError
from odoo.tests import tagged

from ..models.mail_activity import NOTIFY_EACH_MAX
from .common import ShopCrmCase

D = date(2026, 9, 1)


@tagged("post_install", "-at_install")
class TestFollowupPlans(ShopCrmCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.gold = cls.env["shop.crm.tier"].create({"name": "Gold", "sequence": 30, "min_spend": 10**6})
        Partner = cls.env["res.partner"]
        cls.vip = Partner.create({"name": "VIP 陈", "user_id": cls.staff.id})
        cls.quiet = Partner.create({"name": "Quiet 王", "user_id": cls.staff.id})
        cls.orphan = Partner.create({"name": "Orphan 李"})
        cls.other = Partner.create({"name": "Other 赵", "user_id": cls.staff.id})
        (cls.vip | cls.quiet | cls.orphan).write({"tier_id": cls.gold.id})
        cls.quiet.do_not_contact = True
        cls.Rule = cls.env["shop.crm.followup.rule"]
        cls.follow_up = cls.env.ref("shop_crm.mail_activity_type_follow_up")
        cls.product = cls.env["product.product"].create(
            {"name": "Tulip", "list_price": 1.0, "type": "consu", "taxes_id": [Command.clear()]}
        )

    def _activities(self, partners):
        return self.env["mail.activity"].search(
            [
                ("res_model", "=", "res.partner"),
                ("res_id", "in", partners.ids),
                ("activity_type_id", "=", self.follow_up.id),
            ]
        )

    def _cron(self, day):
        with freeze_time(day):
            return self.Rule._cron_create_followups()

    def _buy(self, partner, day, price=50):
        order = self.env["sale.order"].create(
            {
                "partner_id": partner.id,
                "order_line": [
                    Command.create({"product_id": self.product.id, "price_unit": price, "tax_id": []})
                ],
            }
        )
        order.action_confirm()
        order.date_order = datetime.combine(day, datetime.min.time()) + timedelta(hours=3)

    def test_cadence_creates_one_activity_per_due_customer(self):
        self.Rule.with_user(self.manager).create(
            {"name": "Gold every 30 days", "tier_id": self.gold.id, "interval_days": 30, "purpose": "care"}
        )
        everyone = self.vip | self.quiet | self.orphan | self.other
        self.assertEqual(self._cron(D), 1)
        activity = self._activities(everyone)
        self.assertEqual(activity.res_id, self.vip.id, "not the do-not-contact, staffless or non-gold ones")
        self.assertEqual((activity.user_id, activity.date_deadline), (self.staff, D))
        self.assertEqual(self._cron(D), 0, "a second run the same day changes nothing")
        self.assertEqual(self._cron(D + timedelta(days=3)), 0, "never a second one while one is open")
        with freeze_time(D + timedelta(days=3)):
            activity.with_user(self.staff).action_feedback(feedback="<p>Loved the peonies</p>")
        visit = self.vip.visit_ids
        self.assertEqual((visit.purpose, visit.outcome, visit.user_id), ("care", "reached", self.staff))
        self.assertIn("Loved the peonies", visit.notes)
        self.assertEqual(self._cron(D + timedelta(days=32)), 0, "30 days after the visit, not after the plan")
        self.assertEqual(self._cron(D + timedelta(days=33)), 1)
        self.assertEqual(len(self._activities(everyone)), 1)

    def test_plan_activities_are_assigned_as_core_assigns(self):
        """A plan's activities go through mail.activity's batched create: the staff member follows the
        customer, is notified and sees the counter move; the plan's history points at the activities."""
        rule = self.Rule.create({"name": "Gold call", "tier_id": self.gold.id, "interval_days": 30})
        with freeze_time(D):
            bus_before = self._activity_bus_count(self.staff)
            self.assertEqual(self.Rule._cron_create_followups(), 1)
            activity = self._activities(self.vip)
            self.assertEqual(activity.summary, "Gold call")
            self.assertAssignedAsCoreDoes(activity, self.staff)
            self.assertEqual(self._activity_bus_count(self.staff) - bus_before, 1)
            self.assertEqual(rule.history_ids.activity_id, activity)
            self.assertEqual(self.Rule._cron_create_followups(), 0, "a rerun creates nothing twice")
            self.assertEqual(len(rule.history_ids), 1)

    def test_a_large_batch_notifies_each_assignee_once(self):
        """More than NOTIFY_EACH_MAX activities for one staff member at once (a new plan over many
        customers): still one batched create (followers, counters), one summary notification."""
        many = self.env["res.partner"].create(
            [
                {"name": f"Gold {index}", "user_id": self.staff.id, "tier_id": self.gold.id}
                for index in range(NOTIFY_EACH_MAX)
            ]
        )
        self.Rule.create({"name": "Gold call", "tier_id": self.gold.id, "interval_days": 30})
        with freeze_time(D):
            bus_before = self._activity_bus_count(self.staff)
            self.assertEqual(self.Rule._cron_create_followups(), NOTIFY_EACH_MAX + 1)
            activities = self._activities(many | self.vip)
            self.assertAssignedAsCoreDoes(activities, self.staff, summary=True)
            self.assertEqual(self._activity_bus_count(self.staff) - bus_before, NOTIFY_EACH_MAX + 1)
            self.assertEqual(self.Rule._cron_create_followups(), 0, "a rerun creates nothing twice")

    def test_new_customers_after_first_purchase_once(self):
        self.Rule.with_user(self.manager).create(
            {
                "name": "Thank new customers",
                "lifecycle_stage": "new",
                "timing": "after_first_purchase",
                "interval_days": 7,
                "purpose": "after_sales",
            }
        )
        self._buy(self.other, D - timedelta(days=5))
        self.env["shop.crm.analytics"].run(as_of=D)
        self.assertEqual(self.other.lifecycle_stage, "new")
        self.assertEqual(self._cron(D), 0, "5 days after the first purchase")
        self.assertEqual(self._cron(D + timedelta(days=2)), 1)
        with freeze_time(D + timedelta(days=2)):
            self._activities(self.other).action_feedback()
        self.assertEqual(self._cron(D + timedelta(days=3)), 0, "once")

    def test_after_first_purchase_counts_purchases_only(self):
        self.Rule.with_user(self.manager).create(
            {
                "name": "Thank gold buyers",
                "tier_id": self.gold.id,
                "timing": "after_first_purchase",
                "interval_days": 7,
                "purpose": "after_sales",
            }
        )
        self._buy(self.vip, D - timedelta(days=20), price=0)  # a free sample is not a purchase
        self.assertEqual(self._cron(D), 0)
        self._buy(self.vip, D - timedelta(days=3))
        self.assertEqual(self._cron(D), 0, "3 days after the first purchase")
        self.assertEqual(self._cron(D + timedelta(days=4)), 1)

    def test_lost_customers_once_per_episode(self):
        self.Rule.with_user(self.manager).create(
            {
                "name": "Win back",
                "lifecycle_stage": "lost",
                "timing": "once",
                "interval_days": 0,
                "purpose": "win_back",
            }
        )
        self._buy(self.other, D - timedelta(days=200))
        self.env["shop.crm.analytics"].run(as_of=D)
        self.assertEqual(self.other.lifecycle_stage, "lost")
        self.assertEqual(self._cron(D), 1)
        with freeze_time(D):
            action = self._activities(self.other).with_user(self.staff).action_feedback_schedule_next()
        self.assertEqual(action["res_model"], "shop.crm.visit", "done & schedule next opens the visit")
        visit = self.env["shop.crm.visit"].browse(action["res_id"])
        self.assertEqual(visit.purpose, "win_back")
        self.assertEqual(self._cron(D + timedelta(days=1)), 0, "one win-back call per episode")

    def test_plan_needs_customers_and_managers(self):
        with self.assertRaises(ValidationError):
            self.Rule.with_user(self.manager).create({"name": "Everyone", "interval_days": 30})
        with self.assertRaises(ValidationError):
            self.Rule.with_user(self.manager).create(
                {"name": "Zero", "tier_id": self.gold.id, "interval_days": 0}
            )
        with self.assertRaises(AccessError):
            self.Rule.with_user(self.staff).create({"name": "Staff", "tier_id": self.gold.id})
        rule = self.Rule.with_user(self.manager).create({"name": "Gold", "tier_id": self.gold.id})
        self.assertEqual(rule.with_user(self.staff).read(["name"])[0]["name"], "Gold", "staff read the plans")
        with self.assertRaises(AccessError):
            rule.with_user(self.outsider).read(["name"])

    def test_work_queue_action(self):
        self.Rule.create({"name": "Gold", "tier_id": self.gold.id, "interval_days": 30})
        self._cron(D)
        action = (
            self.env["ir.actions.act_window"]
            .with_user(self.staff)
            ._for_xml_id("shop_crm.mail_activity_action_shop_crm_followups")
        )
        self.assertEqual(action["res_model"], "mail.activity")
        self.assertIn("search_default_filter_user_id_uid", action["context"])
