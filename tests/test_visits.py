from datetime import date, datetime

from freezegun import freeze_time

from odoo.exceptions import AccessError, ValidationError
from odoo.tests import new_test_user, tagged

from .common import ShopCrmCase


@tagged("post_install", "-at_install")
@freeze_time("2026-07-01 09:00")
class TestVisits(ShopCrmCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.colleague = new_test_user(
            cls.env, login="crm_staff_b", name="Staff Xiao Wang", groups="shop_crm.group_shop_crm_user"
        )
        cls.customer = cls.env["res.partner"].create(
            {"name": "何女士", "user_id": cls.staff.id, "email": "he@example.com"}
        )
        cls.follow_up = cls.env.ref("shop_crm.mail_activity_type_follow_up")

    def _activities(self):
        return self.env["mail.activity"].search(
            [("res_model", "=", "res.partner"), ("res_id", "=", self.customer.id)]
        )

    def test_visit_schedules_one_follow_up(self):
        visit = (
            self.env["shop.crm.visit"]
            .with_user(self.staff)
            .create(
                {
                    "partner_id": self.customer.id,
                    "channel": "wechat",
                    "purpose": "after_sales",
                    "outcome": "reached",
                    "notes": "The roses lasted ten days.",
                    "next_date": "2026-07-15",
                }
            )
        )
        self.assertEqual(visit.user_id, self.staff)
        activity = self._activities()
        self.assertEqual(len(activity), 1)
        self.assertEqual((activity.activity_type_id, activity.user_id), (self.follow_up, self.staff))
        self.assertEqual(activity.date_deadline, date(2026, 7, 15))
        visit.with_user(self.staff).next_date = "2026-07-20"
        self.assertEqual(self._activities(), activity, "moved, not duplicated")
        self.assertEqual(activity.date_deadline, date(2026, 7, 20))
        self.assertEqual(self.customer.visit_count, 1)

    def test_staff_change_only_their_own_visits(self):
        visit = (
            self.env["shop.crm.visit"]
            .with_user(self.colleague)
            .create(
                {
                    "partner_id": self.customer.id,
                    "channel": "phone",
                    "purpose": "routine",
                    "outcome": "no_answer",
                }
            )
        )
        self.assertEqual(visit.with_user(self.staff).read(["outcome"])[0]["outcome"], "no_answer")
        with self.assertRaises(AccessError):
            visit.with_user(self.staff).write({"outcome": "reached"})
        with self.assertRaises(AccessError):
            self.env["shop.crm.visit"].with_user(self.staff).create(
                {"partner_id": self.customer.id, "user_id": self.colleague.id, "purpose": "care"}
            )
        with self.assertRaises(AccessError):
            visit.with_user(self.colleague).unlink()
        visit.with_user(self.manager).write({"outcome": "reached"})
        with self.assertRaises(AccessError):
            self.env["shop.crm.visit"].with_user(self.outsider).search([])

    def test_asked_not_to_be_contacted(self):
        Consent = self.env["shop.crm.consent"]
        Consent.create([{"partner_id": self.customer.id, "channel": c} for c in ("email", "wechat")])
        Visit = self.env["shop.crm.visit"].with_user(self.staff)
        Visit.create({"partner_id": self.customer.id, "purpose": "routine", "next_date": "2026-07-10"})
        self.assertEqual(len(self._activities()), 1)
        with self.assertRaises(ValidationError):
            Visit.create(
                {"partner_id": self.customer.id, "outcome": "do_not_contact", "next_date": "2026-07-10"}
            )
        Visit.create({"partner_id": self.customer.id, "purpose": "win_back", "outcome": "do_not_contact"})
        self.assertTrue(self.customer.do_not_contact)
        self.assertFalse(self._activities(), "open follow-ups are dropped")
        self.assertFalse(self.customer.consent_ids.filtered("granted"), "marketing consent withdrawn")
        self.assertFalse(self.customer._shop_crm_has_consent("email"))
        Visit.create({"partner_id": self.customer.id, "purpose": "care", "next_date": "2026-08-01"})
        self.assertFalse(self._activities(), "no new follow-up for a do-not-contact customer")

    def test_next_date_not_before_visit(self):
        with self.assertRaises(ValidationError):
            self.env["shop.crm.visit"].with_user(self.staff).create(
                {"partner_id": self.customer.id, "date": datetime(2026, 7, 1, 9), "next_date": "2026-06-30"}
            )
