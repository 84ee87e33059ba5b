"""Member days (会员日) on a Shanghai shop: double points on the right weekday only (the shop's day),
once per order, with the tier bonus; the discount as an Odoo promotion program on the next member day."""

from datetime import date, datetime, timedelta

from freezegun import freeze_time

from odoo import Command
from odoo.exceptions import AccessError, ValidationError
from odoo.tests import tagged

from .common import ShopCrmCase

SHANGHAI = timedelta(hours=8)


def local(year, month, day, hour, minute=0):
    return datetime(year, month, day, hour, minute) - SHANGHAI


@tagged("post_install", "-at_install")
class TestMemberDays(ShopCrmCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company = cls.env.company
        cls.company.shop_crm_tz = "Asia/Shanghai"
        cls.company._shop_crm_member_program()
        cls.gold_prices = cls.env["product.pricelist"].create({"name": "Gold prices"})
        cls.silver = cls.env["shop.crm.tier"].create(
            {"name": "Silver", "sequence": 20, "min_spend": 10**6, "points_multiplier": 1.5}
        )
        cls.gold = cls.env["shop.crm.tier"].create(
            {"name": "Gold", "sequence": 30, "min_spend": 10**7, "pricelist_id": cls.gold_prices.id}
        )
        cls.vase = cls.env["product.product"].create(
            {"name": "Vase", "list_price": 50.0, "type": "consu", "taxes_id": []}
        )
        cls.member = cls.env["res.partner"].create({"name": "Silver Su"})
        cls.member._shop_crm_enroll(cls.company)
        cls.member.write({"tier_id": cls.silver.id, "tier_locked": True})
        cls.wednesday = cls.env["shop.crm.member.day"].create(
            {
                "name": "Wednesday double points",
                "tier_ids": [Command.set([cls.silver.id])],
                "recurrence": "weekly",
                "weekday": "2",
                "points_multiplier": 2.0,
            }
        )

    def _order(self, utc):
        with freeze_time(utc):
            order = self.env["sale.order"].create(
                {
                    "partner_id": self.member.id,
                    "order_line": [
                        Command.create({"product_id": self.vase.id, "product_uom_qty": 1, "tax_id": []})
                    ],
                }
            )
            order.action_confirm()
        return order

    def _lines(self, order):
        return self.env["loyalty.history"].search(
            [("order_model", "=", "sale.order"), ("order_id", "=", order.id)]
        )

    def test_double_points_on_the_member_day_only(self):
        wednesday = self._order(local(2026, 3, 11, 12))
        lines = self._lines(wednesday)
        by_kind = {line.shop_crm_kind: line.issued for line in lines}
        self.assertEqual(by_kind, {"earn": 50.0, "bonus": 25.0, "member_day": 75.0}, "(50 + 25) × (2 − 1)")
        # a replayed award posts nothing twice
        self.env["shop.crm.points"]._award_orders(wednesday)
        self.assertEqual(len(self._lines(wednesday)), 3)
        # 00:30 on Thursday in Shanghai is still Wednesday in UTC: not a member day
        thursday = self._order(local(2026, 3, 12, 0, 30))
        self.assertNotIn("member_day", self._lines(thursday).mapped("shop_crm_kind"))
        # another tier gets no member-day points
        self.member.write({"tier_id": self.gold.id})
        gold_wednesday = self._order(local(2026, 3, 18, 12))
        self.assertNotIn("member_day", self._lines(gold_wednesday).mapped("shop_crm_kind"))

    def test_monthly_member_day_and_applies_today(self):
        self.wednesday.write({"recurrence": "monthly", "month_day": 31})
        with freeze_time(local(2026, 4, 30, 10)):
            self.assertTrue(self.wednesday.applies_today, "31st: the last day of April")
            order = self._order(local(2026, 4, 30, 10))
        self.assertIn("member_day", self._lines(order).mapped("shop_crm_kind"))
        with freeze_time(local(2026, 4, 29, 10)):
            self.wednesday.invalidate_recordset()
            self.assertFalse(self.wednesday.applies_today)
            self.assertEqual(self.wednesday.next_date, date(2026, 4, 30))

    def test_discount_as_a_promotion_program(self):
        with freeze_time(local(2026, 3, 12, 10)):  # a Thursday
            member_day = self.env["shop.crm.member.day"].create(
                {
                    "name": "Gold 95折",
                    "tier_ids": [Command.set([self.gold.id])],
                    "weekday": "2",
                    "discount_percent": 5,
                }
            )
        program = member_day.program_id
        self.assertEqual(program.program_type, "promotion")
        self.assertEqual(program.trigger, "auto")
        self.assertTrue(program.pos_ok and program.sale_ok)
        self.assertEqual(program.pricelist_ids, self.gold_prices)
        self.assertEqual((program.date_from, program.date_to), (date(2026, 3, 18), date(2026, 3, 18)))
        self.assertEqual(program.reward_ids.discount, 5)
        with freeze_time(local(2026, 3, 18, 23, 0)):
            self.env["shop.crm.member.day"]._roll_programs()
        self.assertEqual(program.date_from, date(2026, 3, 18), "still the member day")
        with freeze_time(local(2026, 3, 19, 0, 30)):
            self.env["shop.crm.member.day"]._roll_programs()
        self.assertEqual((program.date_from, program.date_to), (date(2026, 3, 25), date(2026, 3, 25)))
        member_day.write({"discount_percent": 0, "points_multiplier": 1.5})
        self.assertFalse(program.active, "no discount: the program is archived")

    def test_bad_member_days(self):
        MemberDay = self.env["shop.crm.member.day"]
        base = {"name": "Bad", "tier_ids": [Command.set([self.silver.id])], "weekday": "2"}
        with self.assertRaises(ValidationError):
            MemberDay.create({**base, "points_multiplier": 1.0})  # no offer
        with self.assertRaises(ValidationError):
            MemberDay.create({**base, "discount_percent": 5})  # Silver has no member pricelist
        with self.assertRaises(ValidationError):
            MemberDay.create({**base, "recurrence": "monthly", "month_day": 32, "points_multiplier": 2})
        with self.assertRaises(ValidationError):
            MemberDay.create({**base, "points_multiplier": 0.5})

    def test_access(self):
        self.assertEqual(self.wednesday.with_user(self.staff).name, "Wednesday double points")
        with self.assertRaises(AccessError):
            self.wednesday.with_user(self.staff).write({"points_multiplier": 3})
        with self.assertRaises(AccessError):
            self.env["shop.crm.member.day"].with_user(self.staff).create(
                {"name": "Mine", "tier_ids": [Command.set([self.silver.id])], "points_multiplier": 2}
            )
