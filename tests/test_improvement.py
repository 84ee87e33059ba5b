"""Ticket categories, the root cause of a resolved complaint, improvement actions (planned → done →
verified, linked tickets, before/after counts) and their overdue activity, and who may change them."""

from datetime import date, datetime

from freezegun import freeze_time

from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import tagged

from .common import ShopCrmCase


@tagged("post_install", "-at_install")
class TestImprovement(ShopCrmCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env.company.shop_crm_tz = "Asia/Shanghai"
        cls.customer = cls.env["res.partner"].create({"name": "挑剔的客户", "user_id": cls.staff.id})
        cls.freshness = cls.env.ref("shop_crm.feedback_category_freshness")
        cls.price = cls.env.ref("shop_crm.feedback_category_price")
        cls.Feedback = cls.env["shop.crm.feedback"]
        cls.Improvement = cls.env["shop.crm.improvement"]

    def _complaint(self, **vals):
        return self.Feedback.with_user(self.staff).create(
            {"partner_id": self.customer.id, "description": "The lilies were brown.", **vals}
        )

    def test_shipped_categories(self):
        names = self.env["shop.crm.feedback.category"].search([("company_id", "=", False)]).mapped("name")
        self.assertEqual(
            names,
            [
                "Product quality",
                "Freshness",
                "Service",
                "Waiting time",
                "Environment",
                "Price",
                "Delivery",
                "Other",
            ],
        )

    def test_categories_configured_by_managers_only(self):
        Category = self.env["shop.crm.feedback.category"]
        self.assertEqual(Category.with_user(self.staff).browse(self.freshness.id).name, "Freshness")
        with self.assertRaises(AccessError):
            Category.with_user(self.staff).create({"name": "Parking"})
        with self.assertRaises(AccessError):
            self.freshness.with_user(self.staff).name = "Stale"
        parking = Category.with_user(self.manager).create(
            {"name": "Parking", "company_id": self.env.company.id}
        )
        self.assertIn(parking, Category.with_user(self.staff).search([]))
        other = self.env["res.company"].create({"name": "Other Shop"})
        theirs = Category.create({"name": "Their category", "company_id": other.id})
        self.assertNotIn(theirs, Category.with_user(self.staff).search([]), "another company's category")

    @freeze_time("2026-10-01 08:00:00")
    def test_complaint_resolved_only_with_category_and_root_cause(self):
        ticket = self._complaint(resolution="Replaced the lilies.")
        with self.assertRaises(ValidationError):
            ticket.action_resolve()  # no category, no root cause
        ticket.category_id = self.freshness
        with self.assertRaises(ValidationError):
            ticket.action_resolve()  # no root cause
        ticket.root_cause = "   "
        with self.assertRaises(ValidationError):
            ticket.action_resolve()  # a blank root cause is none
        ticket.write({"category_id": False, "root_cause": "The cold room was at 12 °C."})
        with self.assertRaises(ValidationError):
            ticket.action_resolve()  # no category
        ticket.category_id = self.freshness
        ticket.with_user(self.staff).action_resolve()
        self.assertEqual(ticket.stage, "resolved")
        with self.assertRaises(ValidationError):
            ticket.root_cause = False  # a resolved complaint keeps its root cause
        with self.assertRaises(ValidationError):
            ticket.category_id = False
        # a suggestion needs neither
        suggestion = self._complaint(feedback_type="suggestion", resolution="Thanks!")
        suggestion.action_resolve()
        self.assertEqual(suggestion.stage, "resolved")

    def test_improvement_states_and_verification(self):
        ticket = self._complaint()
        action = self.Improvement.with_user(self.manager).create(
            {
                "name": "Check the cold room twice a day",
                "category_id": self.freshness.id,
                "user_id": self.staff.id,
                "deadline": date(2026, 10, 15),
                "feedback_ids": [(6, 0, ticket.ids)],
            }
        )
        self.assertEqual(action.state, "planned")
        self.assertEqual(ticket.improvement_ids, action)
        with self.assertRaises(UserError):
            action.action_verify()  # planned -> verified skips done
        with freeze_time("2026-10-10 02:00:00"):
            action.with_user(self.manager).action_done()
        self.assertEqual(action.done_date, date(2026, 10, 10))
        with self.assertRaises(ValidationError):
            action.with_user(self.manager).action_verify()  # no verification note
        action.with_user(self.manager).verification_note = "Two weeks of temperature logs at 4 °C."
        with freeze_time("2026-10-24 02:00:00"):
            action.with_user(self.manager).action_verify()
        self.assertEqual((action.state, action.verified_date), ("verified", date(2026, 10, 24)))
        with self.assertRaises(UserError):
            action.action_reopen()  # verified is final

    def test_staff_read_managers_edit_improvements(self):
        action = self.Improvement.with_user(self.manager).create(
            {"name": "Price tags on every bucket", "user_id": self.staff.id, "deadline": date(2026, 10, 15)}
        )
        self.assertEqual(action.with_user(self.staff).name, "Price tags on every bucket")
        with self.assertRaises(AccessError):
            self.Improvement.with_user(self.staff).create(
                {"name": "Mine", "user_id": self.staff.id, "deadline": date(2026, 10, 15)}
            )
        with self.assertRaises(AccessError):
            action.with_user(self.staff).action_done()  # even its owner: a manager marks it done
        with self.assertRaises(AccessError):
            action.with_user(self.staff).unlink()
        with self.assertRaises(AccessError):
            action.with_user(self.outsider).read(["name"])
        other = self.env["res.company"].create({"name": "Other Shop"})
        theirs = self.Improvement.create(
            {
                "name": "Theirs",
                "user_id": self.manager.id,
                "deadline": date(2026, 10, 15),
                "company_id": other.id,
            }
        )
        self.assertNotIn(theirs, self.Improvement.with_user(self.manager).search([]))

    def test_overdue_activity_for_the_owner_once(self):
        with freeze_time("2026-10-01 08:00:00"):
            late = self.Improvement.create(
                {"name": "New display fridge", "user_id": self.staff.id, "deadline": date(2026, 10, 5)}
            )
            on_time = self.Improvement.create(
                {"name": "Retrain the cashiers", "user_id": self.staff.id, "deadline": date(2026, 10, 20)}
            )
            done = self.Improvement.create(
                {"name": "Done already", "user_id": self.staff.id, "deadline": date(2026, 10, 3)}
            )
            done.action_done()
        activity_type = self.env.ref("shop_crm.mail_activity_type_improvement_overdue")

        def overdue_activities():
            return self.env["mail.activity"].search(
                [("res_model", "=", "shop.crm.improvement"), ("activity_type_id", "=", activity_type.id)]
            )

        # 5 October 23:30 in Shanghai is still the deadline day: not overdue yet
        with freeze_time("2026-10-05 15:30:00"):
            self.Improvement._cron_overdue_activities()
            self.assertFalse(overdue_activities())
            self.assertFalse(late.overdue)
        # 6 October 00:30 in Shanghai (16:30 UTC on the 5th): overdue
        with freeze_time(datetime(2026, 10, 5, 16, 30)):
            late.invalidate_recordset(["overdue"])
            self.assertTrue(late.overdue)
            self.assertIn(late, self.Improvement.search([("overdue", "=", True)]))
            self.Improvement._cron_overdue_activities()
            activities = overdue_activities()
            self.assertEqual(activities.mapped("res_id"), late.ids, "only the late planned action")
            self.assertEqual(activities.date_deadline, date(2026, 10, 6))
            self.assertAssignedAsCoreDoes(activities, self.staff)
            self.Improvement._cron_overdue_activities()
            self.assertEqual(overdue_activities(), activities, "the next night adds none")
            late.action_done()
            self.assertFalse(overdue_activities(), "done: its overdue activity goes")
        self.assertFalse(on_time.activity_ids)

    def test_complaints_before_and_after_the_action(self):
        def complaint(when, category):
            with freeze_time(when):
                return self._complaint(category_id=category.id)

        for when in ("2026-08-01 03:00:00", "2026-08-20 03:00:00", "2026-09-30 15:00:00"):
            complaint(when, self.freshness)  # the last: 23:00 on 30 September in Shanghai, before
        complaint("2026-09-20 03:00:00", self.price)  # another category
        complaint("2026-10-01 02:00:00", self.freshness)  # 10:00 on 1 October: after
        with freeze_time("2026-10-01 01:00:00"):
            action = self.Improvement.create(
                {
                    "name": "Cold chain checks",
                    "category_id": self.freshness.id,
                    "user_id": self.staff.id,
                    "deadline": date(2026, 10, 1),
                }
            )
            action.action_done()
        with freeze_time("2026-10-11 04:00:00"):
            action.invalidate_recordset()
            self.assertEqual(
                (action.complaints_before, action.complaints_after, action.complaints_after_days), (3, 1, 11)
            )

    def test_new_improvement_from_a_complaint(self):
        ticket = self._complaint(category_id=self.freshness.id)
        action = ticket.with_user(self.manager).action_new_improvement()
        improvement = (
            self.Improvement.with_user(self.manager)
            .with_context(**action["context"])
            .create({"name": "Smaller orders, delivered daily", "deadline": date(2026, 11, 1)})
        )
        self.assertEqual(improvement.feedback_ids, ticket)
        self.assertEqual(improvement.category_id, self.freshness)
        self.assertEqual(improvement.user_id, self.manager)
