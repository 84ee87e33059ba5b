"""The shop's day: an order's day and "today" are counted in the shop's timezone everywhere.

A flower shop in Shanghai (UTC+8) sells at 00:30, 07:30 and 23:30 local time on 10 March 2026; the first
two are still 9 March in UTC. Every Shop CRM capability must see all three on 10 March, and a scheduled
action that runs at 03:30 local time (19:30 UTC the day before) must work for the local date.
"""

from datetime import date, datetime

from freezegun import freeze_time

from odoo import Command
from odoo.exceptions import ValidationError
from odoo.tests import tagged
from odoo.tools import SQL

from .common import ShopCrmCase, confirmed_sale

DAY = date(2026, 3, 10)
# (local time, the same moment in UTC as Odoo stores it)
SALES = [
    ("00:30", datetime(2026, 3, 9, 16, 30)),
    ("07:30", datetime(2026, 3, 9, 23, 30)),
    ("23:30", datetime(2026, 3, 10, 15, 30)),
]


def utc_at_local_0330(day):
    """03:30 in Shanghai on ``day``, in UTC (the evening before)."""
    return datetime(day.year, day.month, day.day, 3, 30) - (datetime(2026, 1, 1, 8) - datetime(2026, 1, 1))


@tagged("post_install", "-at_install")
class TestShopDay(ShopCrmCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company = cls.env.company
        cls.company.write(
            {
                "shop_crm_tz": "Asia/Shanghai",
                "shop_crm_points_expiry_months": 12,
                "shop_crm_expiry_notice_days": 0,
                "shop_crm_tier_grace_days": 30,
            }
        )
        cls.program = cls.company._shop_crm_member_program()
        cls.product = cls.env["product.product"].create(
            {"name": "Night lily", "list_price": 1.0, "type": "consu", "taxes_id": [Command.clear()]}
        )
        cls.silver = cls.env["shop.crm.tier"].create(
            {"name": "Silver", "sequence": 20, "min_spend": 100, "period_months": 12}
        )
        Partner = cls.env["res.partner"]
        cls.customers = Partner.create(
            [{"name": f"Night owl {time}", "user_id": cls.staff.id} for time, _utc in SALES]
        )
        for customer, (_time, utc) in zip(cls.customers, SALES, strict=True):
            confirmed_sale(cls.env, customer, cls.product, utc, price=120)

    def _local_day_sql(self, utc):
        self.env.cr.execute(SQL("SELECT %s", self.company._shop_crm_local_day(SQL("%s::timestamp", utc))))
        return self.env.cr.fetchone()[0]

    def test_day_helpers_python_and_sql_agree(self):
        company = self.company
        self.assertEqual(company._shop_crm_timezone(), "Asia/Shanghai")
        self.assertEqual(company._shop_crm_day_start(DAY), datetime(2026, 3, 9, 16, 0))
        for _time, utc in SALES:
            self.assertEqual(company._shop_crm_day_of(utc), DAY)
            self.assertEqual(self._local_day_sql(utc), DAY)
        just_before = datetime(2026, 3, 9, 15, 59, 59)  # 23:59:59 local on 9 March
        self.assertEqual(company._shop_crm_day_of(just_before), date(2026, 3, 9))
        self.assertEqual(self._local_day_sql(just_before), date(2026, 3, 9))
        # China kept daylight saving time until 1991 (UTC+9 in summer): the SQL takes it into account
        summer_1988 = datetime(1988, 7, 1, 15, 30)
        self.assertEqual(company._shop_crm_day_of(summer_1988), date(1988, 7, 2))
        self.assertEqual(self._local_day_sql(summer_1988), date(1988, 7, 2))
        with freeze_time(utc_at_local_0330(DAY)):
            self.assertEqual(company._shop_crm_today(), DAY)
            self.env.cr.execute(SQL("SELECT %s", company._shop_crm_today_sql()))
            self.assertEqual(self.env.cr.fetchone()[0], DAY)

    def test_timezone_fallback_and_daylight_saving(self):
        company = self.company
        company.shop_crm_tz = False
        company.partner_id.tz = "America/New_York"
        self.assertEqual(company._shop_crm_timezone(), "America/New_York")
        # 8 March 2026: clocks go forward in New York; that day begins at 05:00 UTC, the next at 04:00
        self.assertEqual(company._shop_crm_day_start(date(2026, 3, 8)), datetime(2026, 3, 8, 5, 0))
        self.assertEqual(company._shop_crm_day_start(date(2026, 3, 9)), datetime(2026, 3, 9, 4, 0))
        self.assertEqual(self._local_day_sql(datetime(2026, 3, 9, 3, 59)), date(2026, 3, 8))
        self.assertEqual(self._local_day_sql(datetime(2026, 3, 9, 4, 0)), date(2026, 3, 9))
        company.partner_id.tz = False
        self.assertEqual(company._shop_crm_timezone(), "UTC")
        self.assertEqual(self._local_day_sql(datetime(2026, 3, 9, 23, 59)), date(2026, 3, 9))
        company.shop_crm_tz = "Asia/Kolkata"  # UTC+05:30
        self.assertEqual(self._local_day_sql(datetime(2026, 3, 9, 18, 29)), date(2026, 3, 9))
        self.assertEqual(self._local_day_sql(datetime(2026, 3, 9, 18, 30)), date(2026, 3, 10))

    def test_purchases_have_the_local_day(self):
        company = self.company
        self.env.flush_all()
        query = SQL(
            "SELECT partner_id, day FROM (%s) o WHERE partner_id IN %s",
            company._shop_crm_purchases(until=DAY),
            tuple(self.customers.ids),
        )
        self.env.cr.execute(query)
        self.assertEqual(dict(self.env.cr.fetchall()), dict.fromkeys(self.customers.ids, DAY))
        for until, since, expected in [(date(2026, 3, 9), None, 0), (DAY, DAY, 3)]:
            self.env.cr.execute(
                SQL(
                    "SELECT COUNT(*) FROM (%s) o WHERE partner_id IN %s",
                    company._shop_crm_purchases(until=until, since=since),
                    tuple(self.customers.ids),
                )
            )
            self.assertEqual(self.env.cr.fetchone()[0], expected, (until, since))
        self.env.cr.execute(
            SQL(
                "SELECT COUNT(*) FROM (%s) o WHERE partner_id IN %s",
                company._shop_crm_purchases(since=date(2026, 3, 11)),
                tuple(self.customers.ids),
            )
        )
        self.assertEqual(self.env.cr.fetchone()[0], 0)

    def test_points_are_dated_on_the_local_day(self):
        lines = self.env["loyalty.history"].search([("card_id.partner_id", "in", self.customers.ids)])
        self.assertEqual(len(lines), 3)
        self.assertEqual(set(lines.mapped("shop_crm_date")), {DAY})

    def test_tier_change_on_the_local_day(self):
        history = self.env["shop.crm.tier.history"].search([("partner_id", "in", self.customers.ids)])
        self.assertEqual(set(history.mapped("to_tier_id").ids), {self.silver.id})
        self.assertEqual(set(history.mapped("date")), {DAY})
        # the evaluation as of 9 March (local) sees none of the three sales: Silver is lost after the grace
        Tier = self.env["shop.crm.tier"].sudo()
        Tier._evaluate(self.company, as_of=date(2026, 3, 9), partners=self.customers)
        self.assertEqual(set(self.customers.mapped("tier_below_since")), {date(2026, 3, 9)})
        Tier._evaluate(self.company, as_of=DAY, partners=self.customers)
        self.assertEqual(set(self.customers.mapped("tier_below_since")), {False})
        # twelve months later the sales leave the window (a day counts when it is after as_of - 12 months)
        Tier._evaluate(self.company, as_of=date(2027, 3, 9), partners=self.customers)
        self.assertFalse(any(self.customers.mapped("tier_below_since")))
        Tier._evaluate(self.company, as_of=date(2027, 3, 10), partners=self.customers)
        self.assertEqual(set(self.customers.mapped("tier_below_since")), {date(2027, 3, 10)})

    def test_analytics_cron_at_0330_local(self):
        with freeze_time(utc_at_local_0330(date(2026, 3, 11))):
            self.env["shop.crm.analytics"]._cron_recompute()
        self.assertEqual(self.company.shop_crm_analytics_date, date(2026, 3, 11))
        for customer in self.customers:
            self.assertEqual(customer.rfm_recency_days, 1, customer.name)
            self.assertEqual(customer.rfm_frequency, 1)
            self.assertEqual(customer.lifecycle_stage, "new")
        # as of 9 March (local) none of them has bought yet
        self.env["shop.crm.analytics"].sudo().run(as_of=date(2026, 3, 9))
        self.assertEqual(set(self.customers.mapped("lifecycle_stage")), {"potential"})

    def test_expiry_cron_at_0330_local(self):
        Points = self.env["shop.crm.points"]
        card = self.customers[:1].member_card_id
        self.assertEqual(card.points, 120)
        # points earned on 10 March 2026 expire on 10 March 2027, local: not yet at 03:30 on the 9th
        with freeze_time(utc_at_local_0330(date(2027, 3, 9))):
            Points._cron_expire_points()
        self.assertEqual(card.points, 120)
        with freeze_time(utc_at_local_0330(date(2027, 3, 10))):
            Points._cron_expire_points()
        card.invalidate_recordset(["points"])
        self.assertEqual(card.points, 0)
        expired = card.history_ids.filtered(lambda line: line.shop_crm_kind == "expire")
        self.assertEqual(expired.shop_crm_date, date(2027, 3, 10))

    def test_followup_cron_at_0330_local(self):
        self.env["shop.crm.followup.rule"].create(
            {
                "name": "A week after the first purchase",
                "lifecycle_stage": "new",
                "timing": "after_first_purchase",
                "interval_days": 7,
                "purpose": "care",
            }
        )
        follow_up = self.env.ref("shop_crm.mail_activity_type_follow_up")

        def activities():
            return self.env["mail.activity"].search(
                [
                    ("res_model", "=", "res.partner"),
                    ("res_id", "in", self.customers.ids),
                    ("activity_type_id", "=", follow_up.id),
                ]
            )

        self.env["shop.crm.analytics"].sudo().run(as_of=date(2026, 3, 16))  # they are new customers
        with freeze_time(utc_at_local_0330(date(2026, 3, 16))):
            self.env["shop.crm.followup.rule"]._cron_create_followups()
        self.assertFalse(activities(), "first purchase on the 10th (local): due on the 17th")
        with freeze_time(utc_at_local_0330(date(2026, 3, 17))):
            self.env["shop.crm.followup.rule"]._cron_create_followups()
        self.assertEqual(len(activities()), 3)
        self.assertEqual(set(activities().mapped("date_deadline")), {date(2026, 3, 17)})

    def test_care_buyers_on_the_local_day(self):
        rule = self.env["shop.crm.care.rule"].create({"name": "Birthdays", "trigger": "birthday"})
        partners = self.env["res.partner"]._search([("id", "in", self.customers.ids)])
        buyers = rule._buyers(partners, DAY, DAY)
        self.assertEqual(sorted(buyers), sorted(self.customers.ids))
        self.assertFalse(rule._buyers(partners, date(2026, 3, 9), date(2026, 3, 9)))

    def test_visit_next_follow_up_not_before_the_local_day(self):
        Visit = self.env["shop.crm.visit"].with_user(self.staff)
        customer = self.customers[0]
        late = datetime(2026, 3, 10, 16, 30)  # 00:30 on 11 March in Shanghai
        with self.assertRaises(ValidationError):
            Visit.create({"partner_id": customer.id, "date": late, "next_date": DAY})
        visit = Visit.create({"partner_id": customer.id, "date": late, "next_date": date(2026, 3, 11)})
        self.assertEqual(visit.next_date, date(2026, 3, 11))
