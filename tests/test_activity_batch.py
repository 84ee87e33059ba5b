from datetime import date, timedelta

from freezegun import freeze_time

from odoo.exceptions import AccessError, MissingError
from odoo.tests import new_test_user, tagged

from .common import ShopCrmCase

D = date(2026, 9, 1)


@tagged("post_install", "-at_install")
class TestActivityBatch(ShopCrmCase):
    """mail.activity._shop_crm_create_batch and the overrides behind it (defaults computed once per batch,
    precomputed document model, record name and timezone, classification by model in one pass) create the
    activities core would create."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.staff.tz = "Asia/Shanghai"
        cls.manager.tz = "Europe/Paris"
        Partner = cls.env["res.partner"]
        cls.company = Partner.create({"name": "Lotus Trading", "is_company": True})
        cls.person = Partner.create(
            {"name": "Wang Fang", "parent_id": cls.company.id, "user_id": cls.staff.id}
        )
        cls.alone = Partner.create({"name": "Chen Jie", "user_id": cls.manager.id})
        cls.win_back = cls.env.ref("shop_crm.mail_activity_type_churn_warning")
        cls.partner_model = cls.env["ir.model"]._get_id("res.partner")

    def _vals(self, partner, user, **extra):
        return {"res_model_id": self.partner_model, "res_id": partner.id, "user_id": user.id, **extra}

    def test_batch_stores_what_core_computes(self):
        with freeze_time(D):
            activities = self.env["mail.activity"]._shop_crm_create_batch(
                [
                    self._vals(self.person, self.staff, activity_type_id=self.win_back.id, date_deadline=D),
                    # no deadline: core's default (today); no type: none without a model in the context
                    self._vals(self.alone, self.manager),
                ]
            )
            self.env.flush_all()
        self.assertNotIn("shop_crm_defaults_memo", activities.env.context, "the memo stays in the batch")
        activities.invalidate_recordset()  # read back what was stored
        first, second = activities
        self.assertEqual(
            (first.res_model, first.res_name, first.user_tz, first.date_done),
            ("res.partner", "Lotus Trading, Wang Fang", "Asia/Shanghai", False),
        )
        self.assertEqual(first.activity_type_id, self.win_back)
        self.assertEqual(
            (second.res_model, second.res_name, second.user_tz, second.date_done),
            ("res.partner", "Chen Jie", "Europe/Paris", False),
        )
        self.assertEqual((second.activity_type_id, second.date_deadline), (self.env["mail.activity.type"], D))
        self.assertEqual(self.person.activity_ids, first, "the customer's activities include it")
        self.assertIn(self.staff.partner_id, self.person.message_partner_ids)
        self.assertIn(self.manager.partner_id, self.alone.message_partner_ids)
        self.assertNotIn(self.manager.partner_id, self.person.message_partner_ids)

    def test_record_name_follows_the_record(self):
        activity = self.env["mail.activity"]._shop_crm_create_batch([self._vals(self.alone, self.staff)])
        activity.res_id = self.person.id
        self.assertEqual(activity.res_name, "Lotus Trading, Wang Fang")
        self.alone.name = "Chen Jie (VIP)"
        activity.res_id = self.alone.id
        self.assertEqual(activity.res_name, "Chen Jie (VIP)")

    def test_an_activity_created_done_keeps_core_computation(self):
        with freeze_time(D):
            activity = self.env["mail.activity"].create(self._vals(self.alone, self.staff, active=False))
            self.env.flush_all()
        activity.invalidate_recordset()
        self.assertEqual(
            (activity.date_done, activity.res_name, activity.user_tz), (D, "Chen Jie", "Asia/Shanghai")
        )

    def test_classified_by_model_in_order(self):
        ticket = self.env["shop.crm.feedback"].create({"partner_id": self.alone.id, "description": "Late"})
        Activity = self.env["mail.activity"]
        activities = Activity.create(
            [
                self._vals(self.alone, self.staff),
                {"res_model_id": self.env["ir.model"]._get_id("shop.crm.feedback"), "res_id": ticket.id,
                 "user_id": self.staff.id},
                self._vals(self.person, self.staff),
            ]
        )  # fmt: skip
        classified = activities._classify_by_model()
        self.assertEqual(list(classified), ["res.partner", "shop.crm.feedback"])
        self.assertEqual(classified["res.partner"]["activities"], activities[0] | activities[2])
        self.assertEqual(classified["res.partner"]["record_ids"], [self.alone.id, self.person.id])
        self.assertEqual(classified["shop.crm.feedback"]["activities"], activities[1])
        self.assertEqual(classified["shop.crm.feedback"]["record_ids"], [ticket.id])

    def test_staff_batch_and_its_limits(self):
        """A Shop CRM user creates a batch on customers they may edit; a user who may only read customers
        cannot, and a deleted customer is refused as core refuses it."""
        activities = (
            self.env["mail.activity"]
            .with_user(self.staff)
            ._shop_crm_create_batch([self._vals(self.alone, self.staff), self._vals(self.person, self.staff)])
        )
        self.assertEqual(activities.mapped("res_name"), ["Chen Jie", "Lotus Trading, Wang Fang"])
        reader = new_test_user(self.env, login="crm_reader", groups="base.group_portal")
        with self.assertRaises(AccessError):
            self.env["mail.activity"].with_user(reader)._shop_crm_create_batch(
                [self._vals(self.alone, reader)]
            )
        gone = self.env["res.partner"].create({"name": "Gone"})
        gone_id = gone.id
        gone.unlink()
        with self.assertRaises(MissingError):
            self.env["mail.activity"]._shop_crm_create_batch(
                [self._vals(self.alone, self.staff, date_deadline=D + timedelta(days=1)),
                 {"res_model_id": self.partner_model, "res_id": gone_id, "user_id": self.staff.id}]
            )  # fmt: skip
