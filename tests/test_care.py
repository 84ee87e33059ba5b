from datetime import date, datetime, timedelta

from freezegun import freeze_time

from odoo import Command
from odoo.exceptions import AccessError, ValidationError
from odoo.tests import tagged
from odoo.tools.safe_eval import safe_eval

from .common import ShopCrmCase


@tagged("post_install", "-at_install")
class TestCare(ShopCrmCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        Partner = cls.env["res.partner"]
        cls.consenting = Partner.create(
            {
                "name": "生日 A",
                "birthday": date(1990, 11, 26),
                "user_id": cls.staff.id,
                "email": "a@example.com",
            }
        )
        cls.silent = Partner.create(
            {
                "name": "生日 B",
                "birthday": date(1985, 11, 26),
                "user_id": cls.staff.id,
                "email": "b@example.com",
            }
        )
        cls.refuser = Partner.create(
            {
                "name": "生日 C",
                "birthday": date(1992, 11, 26),
                "user_id": cls.staff.id,
                "do_not_contact": True,
            }
        )
        cls.leapling = Partner.create(
            {"name": "闰日 D", "birthday": date(2000, 2, 29), "user_id": cls.staff.id}
        )
        cls.env["shop.crm.consent"].create({"partner_id": cls.consenting.id, "channel": "email"})
        cls.Rule = cls.env["shop.crm.care.rule"].with_user(cls.manager)
        cls.care_type = cls.env.ref("shop_crm.mail_activity_type_care")
        cls.rose = cls.env["product.product"].create({"name": "Red rose", "list_price": 10, "taxes_id": []})

    def _care_activities(self, partners):
        return self.env["mail.activity"].search(
            [
                ("res_model", "=", "res.partner"),
                ("res_id", "in", partners.ids),
                ("activity_type_id", "=", self.care_type.id),
            ]
        )

    def _mails(self, partners):
        return self.env["mail.mail"].search([("model", "=", "res.partner"), ("res_id", "in", partners.ids)])

    def test_birthday_care_once_with_consent(self):
        rule = self.Rule.create(
            {
                "name": "Birthday",
                "trigger": "birthday",
                "days_before": 3,
                "mail_template_id": self.env.ref("shop_crm.mail_template_care_greeting").id,
                "gift_points": 20,
            }
        )
        everyone = self.consenting | self.silent | self.refuser | self.leapling
        logs = rule._give_care(date(2026, 11, 23))
        self.assertEqual(logs.partner_id, self.consenting | self.silent, "not the customer who said no")
        self.assertEqual(set(logs.mapped("date")), {date(2026, 11, 26)})
        activities = self._care_activities(everyone)
        self.assertEqual(len(activities), 2)
        self.assertEqual(activities.user_id, self.staff)
        self.assertEqual(
            self._mails(everyone).mapped("res_id"), self.consenting.ids, "email only with consent"
        )
        self.assertEqual((self.consenting.points_balance, self.silent.points_balance), (20, 20))
        self.assertEqual(self.consenting.points_history_ids.shop_crm_kind, "gift")
        # a second run, the same day or the next, gives nothing twice
        self.assertFalse(rule._give_care(date(2026, 11, 23)))
        self.assertEqual(self.env["shop.crm.care.rule"]._cron_care(date(2026, 11, 23)), 0)
        self.assertEqual(len(self._care_activities(everyone)), 2)
        self.assertEqual(len(self._mails(everyone)), 1)
        self.assertEqual(self.consenting.points_balance, 20)
        # next year again
        self.assertEqual(len(rule._give_care(date(2027, 11, 23))), 2)
        # a Feb 29 birthday is celebrated on Feb 28 in a common year
        self.assertEqual(rule._give_care(date(2027, 2, 25)).partner_id, self.leapling)
        self.assertFalse(rule._give_care(date(2028, 2, 25)), "in a leap year it waits for Feb 29")
        self.assertEqual(rule._give_care(date(2028, 2, 26)).partner_id, self.leapling)

    def test_important_dates_remembered_with_their_own_notice(self):
        """Each important date is remembered its own days of notice (remind_days) ahead, once a year."""
        Occasion = self.env["shop.crm.occasion"]
        early, late = Occasion.create(
            [
                {"partner_id": self.consenting.id, "name": "Wedding anniversary", "date": date(2012, 5, 20),
                 "remind_days": 14},
                {"partner_id": self.silent.id, "name": "Father's birthday", "date": date(1960, 5, 20),
                 "remind_days": 2},
            ]
        )  # fmt: skip
        Occasion.create(
            {"partner_id": self.refuser.id, "name": "Asked not to be contacted", "date": date(1970, 5, 20)}
        )
        rule = self.Rule.create({"name": "Important dates", "trigger": "occasion", "days_before": 7})
        self.assertFalse(rule._give_care(date(2026, 5, 13)), "not the rule's 7 days")
        logs = rule._give_care(date(2026, 5, 6))
        self.assertEqual(
            (logs.partner_id, logs.key, logs.date),
            (self.consenting, f"occasion:{early.id}", date(2026, 5, 20)),
        )
        self.assertEqual(logs.year, 2026)
        logs = rule._give_care(date(2026, 5, 18))
        self.assertEqual((logs.partner_id, logs.key), (self.silent, f"occasion:{late.id}"))
        self.assertFalse(rule._give_care(date(2026, 5, 18)), "once a year")
        self.assertFalse(rule._give_care(date(2026, 5, 19)))
        self.assertEqual(rule._give_care(date(2027, 5, 6)).partner_id, self.consenting, "and next year")
        # a notice that reaches into the next year counts for the year of the date
        early.write({"date": date(2012, 1, 3), "remind_days": 5})
        logs = rule._give_care(date(2027, 12, 29))
        self.assertEqual((logs.date, logs.year), (date(2028, 1, 3), 2028))
        with self.assertRaises(ValidationError):
            early.remind_days = -1

    def test_done_care_records_a_visit_and_is_in_follow_ups_today(self):
        rule = self.Rule.create({"name": "Birthday", "trigger": "birthday", "days_before": 3})
        with freeze_time("2026-11-23 01:00"):
            rule._give_care(date(2026, 11, 23))
        activity = self._care_activities(self.silent)
        action = (
            self.env["ir.actions.act_window"]
            .with_user(self.staff)
            ._for_xml_id("shop_crm.mail_activity_action_shop_crm_followups")
        )
        self.assertNotIn("ref(", action["domain"], "the web client evaluates it: ids, not xml ids")
        with freeze_time("2026-11-24 10:00"):
            domain = safe_eval(
                action["domain"], {"context_today": lambda: date(2026, 11, 24), "ref": self.env.ref}
            )
            queue = self.env["mail.activity"].with_user(self.staff).search(domain)
            self.assertIn(activity, queue, "care is in the staff member's Follow-ups Today")
            activity.with_user(self.staff).action_feedback(feedback="<p>Ordered a birthday cake</p>")
        visit = self.silent.visit_ids
        self.assertEqual((visit.purpose, visit.outcome, visit.user_id), ("care", "reached", self.staff))
        self.assertIn("birthday cake", visit.notes)
        self.assertFalse(activity.exists())

    def test_lunar_occasions_across_new_year_and_leap_month(self):
        Occasion = self.env["shop.crm.occasion"]
        mother = Occasion.create(
            {
                "partner_id": self.silent.id,
                "name": "Mother's birthday",
                "calendar_type": "lunar",
                "lunar_month": 12,
                "lunar_day": 20,
                "remind_days": 10,
            }
        )
        leap = Occasion.create(
            {
                "partner_id": self.consenting.id,
                "name": "Grandfather",
                "calendar_type": "lunar",
                "lunar_month": 6,
                "lunar_day": 1,
                "lunar_leap": True,
                "remind_days": 10,
            }
        )
        # an important date's own days of notice count, not the rule's days before
        rule = self.Rule.create({"name": "Important dates", "trigger": "occasion", "days_before": 3})
        self.assertFalse(rule._give_care(date(2027, 1, 16)))
        logs = rule._give_care(
            date(2027, 1, 17)
        )  # 腊月二十 of lunar 2026 = 2027-01-27, after the solar new year
        self.assertEqual(
            (logs.partner_id, logs.key, logs.date), (self.silent, f"occasion:{mother.id}", date(2027, 1, 27))
        )
        self.assertEqual(rule._give_care(date(2028, 1, 6)).date, date(2028, 1, 16), "and the next lunar year")
        # 闰六月初一: in 2025 (a year with a leap sixth month) it falls in the leap month...
        self.assertEqual(rule._give_care(date(2025, 7, 15)).key, f"occasion:{leap.id}")
        self.assertEqual(leap._next_occurrence(date(2025, 7, 1)), date(2025, 7, 25))
        # ...and in 2026, which has none, on the ordinary sixth month
        self.assertEqual(leap._next_occurrence(date(2026, 1, 1)), date(2026, 7, 14))

    def test_festival_care_reminds_last_years_order(self):
        buyer = self.silent
        other = self.consenting
        for partner, day in ((buyer, date(2025, 8, 27)), (other, date(2025, 7, 1))):
            order = self.env["sale.order"].create(
                {
                    "partner_id": partner.id,
                    "order_line": [
                        Command.create({"product_id": self.rose.id, "product_uom_qty": 11, "tax_id": []})
                    ],
                }
            )
            order.action_confirm()
            order.date_order = datetime.combine(day, datetime.min.time()) + timedelta(hours=4)
        qixi = self.env.ref("shop_crm.festival_qixi")
        self.assertEqual(qixi._date_in(2025), date(2025, 8, 29))
        self.assertEqual(qixi._date_in(2026), date(2026, 8, 19))
        rule = self.Rule.create(
            {
                "name": "七夕 reminder",
                "trigger": "festival",
                "festival_id": qixi.id,
                "audience": "festival_buyers",
                "days_before": 7,
            }
        )
        self.assertFalse(rule._give_care(date(2026, 8, 11)))
        logs = rule._give_care(date(2026, 8, 12))
        self.assertEqual(logs.partner_id, buyer, "only who bought for 七夕 last year")
        activity = self._care_activities(buyer)
        self.assertIn("11 × Red rose", str(activity.note))
        self.assertIn("2026-08-19", activity.summary)

    def test_festival_calendar_years(self):
        spring = self.env.ref("shop_crm.festival_spring_festival")
        self.assertEqual(
            [spring._date_in(y) for y in (2025, 2026, 2027)],
            [date(2025, 1, 29), date(2026, 2, 17), date(2027, 2, 6)],
        )
        mid_autumn = self.env.ref("shop_crm.festival_mid_autumn")
        self.assertEqual(mid_autumn._date_in(2025), date(2025, 10, 6), "after 2025's leap sixth month")
        custom = self.env["shop.crm.festival"].create(
            {"name": "Shop anniversary", "calendar_type": "lunar", "month": 3, "day": 3}
        )
        self.assertEqual(custom._next_date(date(2026, 1, 1)), date(2026, 4, 19))
        with self.assertRaises(ValidationError):
            self.env["shop.crm.festival"].create(
                {"name": "Bad", "calendar_type": "solar", "month": 2, "day": 30}
            )

    def test_sms_only_with_sms_consent(self):
        self.consenting.mobile = "+86 138 0013 8000"
        self.silent.mobile = "+86 139 0013 9000"
        self.env["shop.crm.consent"].create({"partner_id": self.silent.id, "channel": "sms"})
        rule = self.Rule.create(
            {
                "name": "Birthday SMS",
                "trigger": "birthday",
                "days_before": 0,
                "create_activity": False,
                "sms_template_id": self.env.ref("shop_crm.sms_template_care_greeting").id,
            }
        )
        logs = rule._give_care(date(2026, 11, 26))
        self.assertEqual(logs.filtered("texted").partner_id, self.silent, "SMS consent, not email consent")
        sms = self.env["sms.sms"].search([("partner_id", "in", (self.consenting | self.silent).ids)])
        self.assertEqual(sms.partner_id, self.silent)
        self.assertIn("生日 B", sms.body)

    def test_birthday_coupon_once(self):
        program = self.env["loyalty.program"].create(
            {
                "name": "Birthday coupon",
                "program_type": "coupons",
                "trigger": "with_code",
                "applies_on": "current",
            }
        )
        rule = self.Rule.create(
            {
                "name": "Birthday coupon",
                "trigger": "birthday",
                "days_before": 0,
                "create_activity": False,
                "coupon_program_id": program.id,
            }
        )
        logs = rule._give_care(date(2026, 11, 26))
        coupons = self.env["loyalty.card"].search([("program_id", "=", program.id)])
        self.assertEqual(coupons.partner_id, self.consenting | self.silent)
        self.assertEqual(logs.coupon_id, coupons)
        self.assertFalse(rule._give_care(date(2026, 11, 26)))
        self.assertEqual(self.env["loyalty.card"].search_count([("program_id", "=", program.id)]), 2, "once")
        self.assertFalse(self._care_activities(self.consenting), "no activity when the rule gives none")

    def test_rules_and_access(self):
        with self.assertRaises(ValidationError):
            self.Rule.create({"name": "Nothing", "trigger": "birthday", "create_activity": False})
        with self.assertRaises(ValidationError):
            self.Rule.create({"name": "No festival", "trigger": "festival"})
        with self.assertRaises(ValidationError):
            self.Rule.create({"name": "Negative", "trigger": "birthday", "days_before": -1})
        with self.assertRaises(AccessError):
            self.env["shop.crm.care.rule"].with_user(self.staff).create(
                {"name": "Staff", "trigger": "birthday"}
            )
        rule = self.Rule.create({"name": "Birthday", "trigger": "birthday"})
        self.assertEqual(rule.with_user(self.staff).read(["name"])[0]["name"], "Birthday")
        with self.assertRaises(AccessError):
            rule.with_user(self.outsider).read(["name"])
