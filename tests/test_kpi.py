"""The owner's KPIs (shop.crm.kpi.compute) on hand-built Shanghai shops: every published definition, the
previous period, refunds, purchases just before and after local midnight, members who joined mid-period,
the staff scorecard restriction and who may compute what."""

import subprocess
from datetime import date, datetime, timedelta

from freezegun import freeze_time

from odoo import Command
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import BaseCase, HttpCase, new_test_user, tagged

from ..lib import kpi
from .common import ShopCrmCase, confirmed_sale

P = (date(2026, 3, 1), date(2026, 3, 31))  # P' = 29 January - 28 February 2026 (31 days)
SHANGHAI = timedelta(hours=8)


def local(day, hour=12, minute=0):
    """The naive UTC datetime of ``hour:minute`` in Shanghai on ``day``."""
    return datetime(day.year, day.month, day.day, hour, minute) - SHANGHAI


class KpiCase(ShopCrmCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company = cls.env.company
        cls.company.shop_crm_tz = "Asia/Shanghai"
        cls.staff2 = new_test_user(
            cls.env, login="crm_staff2", name="Staff Xiao Wang", groups="shop_crm.group_shop_crm_user"
        )
        cls.Kpi = cls.env["shop.crm.kpi"]
        cls.product = cls.env["product.product"].create(
            {"name": "Peony", "list_price": 1.0, "type": "consu", "taxes_id": [Command.clear()]}
        )

    @classmethod
    def _customer(cls, name, staff):
        return cls.env["res.partner"].create({"name": name, "user_id": staff.id})

    @classmethod
    def _sale(cls, partner, moment, amount):
        """A sales order confirmed at ``moment`` (UTC); a negative amount is a refund."""
        return confirmed_sale(
            cls.env, partner, cls.product, moment, qty=1 if amount > 0 else -1, price=abs(amount)
        )

    def _compute(self, period=P, user=None, as_user=None):
        with freeze_time("2026-04-15 02:00:00"):
            return self.Kpi.with_user(as_user or self.manager).compute(*period, user=user)


@tagged("post_install", "-at_install")
class TestKpiLib(BaseCase):
    def test_previous_period(self):
        self.assertEqual(kpi.previous_period(*P), (date(2026, 1, 29), date(2026, 2, 28)))
        self.assertEqual(kpi.previous_period(date(2026, 3, 5), date(2026, 3, 5)), (date(2026, 3, 4),) * 2)

    def test_share_nps_change(self):
        self.assertEqual(kpi.share(1, 4), 0.25)
        self.assertEqual(kpi.share(3, 0), 0.0)
        self.assertAlmostEqual(kpi.net_promoter_score(2, 1, 3), 100 / 3)
        self.assertEqual(kpi.net_promoter_score(0, 0, 0), 0.0)
        self.assertEqual(kpi.change(150, 100), ("up", 50.0))
        self.assertEqual(kpi.change(50, 100), ("down", -50.0))
        self.assertEqual(kpi.change(5, 0), ("up", None))
        self.assertEqual(kpi.change(0, 0), ("same", 0.0))

    def test_presets(self):
        today = date(2026, 2, 14)
        self.assertEqual(kpi.preset("this_month", today), (date(2026, 2, 1), date(2026, 2, 28)))
        self.assertEqual(kpi.preset("last_month", today), (date(2026, 1, 1), date(2026, 1, 31)))
        self.assertEqual(kpi.preset("last_month", date(2026, 1, 5)), (date(2025, 12, 1), date(2025, 12, 31)))
        quarter = (date(2026, 10, 1), date(2026, 12, 31))
        self.assertEqual(kpi.preset("this_quarter", date(2026, 11, 30)), quarter)
        with self.assertRaises(ValueError):
            kpi.preset("someday", today)


@tagged("post_install", "-at_install")
class TestKpiPurchases(KpiCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        staff, staff2 = cls.staff, cls.staff2
        cls.alice = cls._customer("Alice", staff)  # P' and P, twice on one day, a refund
        cls.bob = cls._customer("Bob", staff)  # first purchase ever in P, two days, card on 15 March
        cls.erin = cls._customer("Erin", staff)  # bought last year, only a refund in P
        cls.carol = cls._customer("Carol", staff2)  # P' only (its first day, 07:30 local)
        cls.dan = cls._customer("Dan", staff2)  # last year, then 23:30 local on the last day of P
        cls.frank = cls._customer("Frank", staff2)  # first purchase 07:30 local on 1 March, card later
        cls.ed = cls._customer("Ed", staff)  # 00:30 local on 1 April: still 31 March in UTC
        sales = [
            (cls.dan, local(date(2025, 6, 1)), 10.0),
            (cls.erin, local(date(2025, 12, 1)), 40.0),
            (cls.carol, local(date(2026, 1, 29), 7, 30), 60.0),
            (cls.alice, local(date(2026, 2, 10)), 100.0),
            (cls.frank, local(date(2026, 3, 1), 7, 30), 90.0),
            (cls.alice, local(date(2026, 3, 5), 10), 200.0),
            (cls.alice, local(date(2026, 3, 5), 18), 50.0),
            (cls.bob, local(date(2026, 3, 10)), 80.0),
            (cls.erin, local(date(2026, 3, 12)), -40.0),
            (cls.bob, local(date(2026, 3, 20)), 120.0),
            (cls.alice, local(date(2026, 3, 25)), -30.0),
            (cls.dan, local(date(2026, 3, 31), 23, 30), 70.0),
            (cls.ed, local(date(2026, 4, 1), 0, 30), 500.0),
        ]
        for partner, moment, amount in sales:
            cls._sale(partner, moment, amount)
        # buyers become members on their first purchase; Bob got his card on 15 March, Frank after P
        cls.bob.sudo().member_since = date(2026, 3, 15)
        cls.frank.sudo().member_since = date(2026, 4, 10)

    def test_shop_figures(self):
        k = self._compute()
        self.assertEqual(set(k), set(kpi.KEYS))
        self.assertEqual(k["active_customers"], 4, "Alice, Bob, Dan, Frank (not Ed: 1 April locally)")
        self.assertEqual(k["new_customers"], 2, "Bob and Frank")
        self.assertEqual(k["returning_customers"], 2)
        self.assertEqual(k["repeat_rate"], 0.25, "Bob: two days; Alice twice on one day")
        self.assertEqual(k["retention_rate"], 0.5, "of Alice and Carol (P'), Alice")
        self.assertEqual(k["sales"], 540.0, "refunds reduce the sales")
        self.assertEqual(k["purchases"], 6, "refunds are not purchases")
        self.assertEqual(k["average_ticket"], 90.0)
        # members: Alice 220 (all), Bob 120 (not his 80 before the card), Dan 70, Erin -40; not Frank
        self.assertAlmostEqual(k["member_sales_share"], 370 / 540)

    def test_staff_scorecard(self):
        k = self._compute(user=self.staff)
        self.assertEqual(k["active_customers"], 2, "Alice and Bob")
        self.assertEqual(k["new_customers"], 1)
        self.assertEqual(k["returning_customers"], 1)
        self.assertEqual(k["repeat_rate"], 0.5)
        self.assertEqual(k["retention_rate"], 1.0)
        self.assertEqual(k["sales"], 380.0)
        self.assertEqual(k["purchases"], 4)
        self.assertEqual(k["average_ticket"], 95.0)
        self.assertAlmostEqual(k["member_sales_share"], 300 / 380)
        self.assertEqual(self._compute(user=self.staff, as_user=self.staff), k, "staff see their own")
        other = self._compute(user=self.staff2)
        self.assertEqual(other["active_customers"], 2, "Dan and Frank")
        self.assertEqual(other["retention_rate"], 0.0, "Carol did not come back")

    def test_previous_period_without_customers(self):
        k = self._compute((date(2025, 6, 1), date(2025, 6, 1)))
        self.assertEqual((k["active_customers"], k["new_customers"]), (1, 1))
        self.assertEqual(k["retention_rate"], 0.0)
        self.assertEqual(k["repeat_rate"], 0.0)
        empty = self._compute((date(2024, 1, 1), date(2024, 1, 31)))
        self.assertEqual(
            {
                key: empty[key]
                for key in ("active_customers", "sales", "average_ticket", "member_sales_share")
            },
            {"active_customers": 0, "sales": 0.0, "average_ticket": 0.0, "member_sales_share": 0.0},
        )

    def test_local_midnight(self):
        april = self._compute((date(2026, 4, 1), date(2026, 4, 1)))
        self.assertEqual((april["active_customers"], april["sales"]), (1, 500.0), "Ed at 00:30 local")
        last_day = self._compute((date(2026, 3, 31), date(2026, 3, 31)))
        self.assertEqual((last_day["active_customers"], last_day["sales"]), (1, 70.0), "Dan at 23:30")
        february = self._compute((date(2026, 2, 28), date(2026, 2, 28)))
        self.assertEqual(february["purchases"], 0, "Frank's 07:30 on 1 March is 28 February in UTC")

    def test_money_rounding(self):
        self._sale(self.bob, local(date(2026, 3, 21)), 10.005)
        k = self._compute()
        self.assertEqual(k["purchases"], 7)
        rounding = self.company.currency_id.rounding
        self.assertAlmostEqual(k["average_ticket"] / rounding, round(k["average_ticket"] / rounding))


@tagged("post_install", "-at_install")
class TestKpiCustomerCare(KpiCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        staff, staff2 = cls.staff, cls.staff2
        cls.alice = cls._customer("Alice", staff)
        cls.bob = cls._customer("Bob", staff)
        cls.carol = cls._customer("Carol", staff2)
        cls.dan = cls._customer("Dan", staff2)
        cls.frank = cls._customer("Frank", staff2)
        Change = cls.env["shop.crm.segment.change"]
        Change.create(
            [
                {"partner_id": partner.id, "date": day, "what": what, "old_value": old, "new_value": new}
                for partner, day, what, old, new in [
                    (cls.alice, date(2026, 3, 10), "lifecycle_stage", "returning", "lost"),
                    (cls.carol, date(2026, 2, 27), "lifecycle_stage", "new", "lost"),
                    (cls.dan, date(2026, 3, 31), "lifecycle_stage", "lost", "returning"),
                    (cls.frank, date(2026, 3, 2), "lifecycle_stage", "lost", "new"),
                    (cls.bob, date(2026, 4, 1), "lifecycle_stage", "returning", "lost"),
                    (cls.bob, date(2026, 3, 3), "rfm_class", "B", "D"),
                ]
            ]
        )
        # the member ledger
        Points = cls.env["shop.crm.points"]
        cards = Points._member_cards(cls.alice | cls.bob | cls.dan, cls.company)
        lines = [
            (cls.alice, "earn", 500, 0, date(2026, 2, 10)),
            (cls.alice, "earn", 250, 0, date(2026, 3, 5)),
            (cls.alice, "bonus", 25, 0, date(2026, 3, 5)),
            (cls.alice, "redeem", 0, 100, date(2026, 3, 6)),
            (cls.alice, "adjust", 10, 0, date(2026, 3, 7)),
            (cls.alice, "adjust", 0, 5, date(2026, 3, 8)),
            (cls.alice, "expire", 0, 20, date(2026, 3, 31)),
            (cls.alice, "gift", 30, 0, date(2026, 4, 1)),
            (cls.bob, "referral", 100, 0, date(2026, 3, 20)),
            (cls.bob, "refund", 0, 8, date(2026, 3, 21)),
            (cls.bob, "compensation", 50, 0, date(2026, 3, 22)),
            (cls.bob, "gift", 40, 0, date(2026, 3, 23)),
            (cls.dan, "earn", 70, 0, date(2026, 3, 31)),
        ]
        Points._post(
            [
                {
                    "card_id": cards[partner.id].id,
                    "kind": kind,
                    "issued": issued,
                    "used": used,
                    "date": day,
                    "description": kind,
                }
                for partner, kind, issued, used, day in lines
            ]
        )
        # follow-up and win-back activities
        follow_up = cls.env.ref("shop_crm.mail_activity_type_follow_up")
        churn = cls.env.ref("shop_crm.mail_activity_type_churn_warning")
        care = cls.env.ref("shop_crm.mail_activity_type_care")
        Activity = cls.env["mail.activity"]
        model_id = cls.env["ir.model"]._get_id("res.partner")

        def activity(partner, kind, deadline):
            return Activity.create(
                {
                    "res_model_id": model_id,
                    "res_id": partner.id,
                    "activity_type_id": kind.id,
                    "date_deadline": deadline,
                    "user_id": partner.user_id.id,
                }
            )

        cls.late = activity(cls.alice, follow_up, date(2026, 3, 10))
        cls.on_time = activity(cls.bob, churn, date(2026, 3, 15))
        activity(cls.carol, follow_up, date(2026, 3, 20))  # not done
        activity(cls.dan, follow_up, date(2026, 4, 2))  # after P
        activity(cls.frank, care, date(2026, 3, 5))  # not a follow-up
        with freeze_time(local(date(2026, 3, 11), 1, 0)):  # 10 March in UTC, 11 March in the shop
            cls.late.with_user(cls.staff).action_feedback(feedback="Called back")  # records a visit
        with freeze_time(local(date(2026, 3, 14), 18, 0)):
            cls.on_time.with_user(cls.staff).action_feedback(feedback="Coming on Sunday")
        # visits
        Visit = cls.env["shop.crm.visit"]
        Visit.create(
            [
                {"partner_id": cls.alice.id, "date": local(date(2026, 3, 3)), "user_id": staff.id},
                {"partner_id": cls.carol.id, "date": local(date(2026, 3, 1), 0, 30), "user_id": staff2.id},
                {"partner_id": cls.dan.id, "date": local(date(2026, 4, 1), 0, 30), "user_id": staff2.id},
            ]
        )
        # feedback tickets
        Ticket = cls.env["shop.crm.feedback"]

        def ticket(partner, kind, received, resolved, answered, satisfaction, nps):
            record = Ticket.create(
                {
                    "partner_id": partner.id,
                    "feedback_type": kind,
                    "description": "Wilted flowers",
                    "received_date": received,
                    "user_id": partner.user_id.id,
                }
            )
            if resolved:
                with freeze_time(resolved):
                    record.write(
                        {
                            "stage": "resolved",
                            "resolution": "New bouquet",
                            "category_id": cls.env.ref("shop_crm.feedback_category_freshness").id,
                            "root_cause": "Old stock",
                        }
                    )
            if answered:
                with freeze_time(answered):
                    record._public_answer(satisfaction, nps, "")
            return record

        # alice: in P, resolved after 10 hours (its satisfaction follow-up is due on 4 March)
        ticket(cls.alice, "complaint", local(date(2026, 3, 1), 8), local(date(2026, 3, 1), 18),
               local(date(2026, 3, 2)), 5, 10)  # fmt: skip
        ticket(cls.bob, "suggestion", local(date(2026, 3, 15), 8), local(date(2026, 3, 16), 14),
               local(date(2026, 3, 17)), 2, 5)  # fmt: skip
        # carol: received 28 February 23:00 local (P'), resolved on 1 March after 12 hours
        ticket(cls.carol, "complaint", local(date(2026, 2, 28), 23), local(date(2026, 3, 1), 11),
               local(date(2026, 3, 1), 20), 4, 9)  # fmt: skip
        ticket(cls.dan, "complaint", local(date(2026, 4, 1), 0, 30), False, False, 0, 0)

    def test_segment_changes(self):
        k = self._compute()
        self.assertEqual((k["lost_customers"], k["won_back_customers"]), (1, 2))
        mine = self._compute(user=self.staff)
        self.assertEqual((mine["lost_customers"], mine["won_back_customers"]), (1, 0))

    def test_points(self):
        k = self._compute()
        self.assertEqual(k["points_issued"], 495, "earn, bonus, gift, referral, adjustments up")
        self.assertEqual(k["points_redeemed"], 100)
        self.assertEqual(k["points_expired"], 20)
        # outstanding on 31 March: Alice 660, Bob 182, Dan 70 = 912 points x 0.1
        self.assertEqual(k["points_liability"], 91.2)
        mine = self._compute(user=self.staff)
        self.assertEqual(mine["points_issued"], 425)
        self.assertEqual(mine["points_liability"], 84.2)

    def test_point_value_from_cheapest_reward(self):
        program = self.company._shop_crm_member_program()
        program.reward_ids = [
            Command.create(
                {
                    "reward_type": "discount",
                    "discount_mode": "per_order",
                    "discount": 25,
                    "discount_applicability": "order",
                    "required_points": 50,
                }  # fmt: skip
            )
        ]
        self.assertEqual(self._compute()["points_liability"], 456.0, "912 points x 25 / 50")

    def test_followups_and_visits(self):
        self.assertFalse(self.late.active, "done follow-ups are kept")
        self.assertEqual(self.late.date_done, date(2026, 3, 11), "the shop's day it was done")
        k = self._compute()
        # Alice late, Bob on time, Carol not done, and the two satisfaction calls after complaints
        self.assertEqual(k["followups_due"], 5)
        self.assertAlmostEqual(k["followups_on_time"], 0.2)
        self.assertEqual(k["visits"], 4, "Alice, Carol at 00:30 on 1 March, the follow-up and call done")
        mine = self._compute(user=self.staff)
        self.assertEqual(mine["followups_due"], 3)
        self.assertAlmostEqual(mine["followups_on_time"], 1 / 3)
        self.assertEqual(mine["visits"], 3)
        action = self.Kpi.with_user(self.staff).kpi_action("followups_due", *P)
        activities = self.env["mail.activity"].with_context(active_test=False).search(action["domain"])
        self.assertEqual(len(activities), 3)
        self.assertEqual(action["context"], {"active_test": False}, "done ones too")

    def test_tickets(self):
        k = self._compute()
        self.assertEqual((k["tickets"], k["complaints"]), (2, 1))
        self.assertAlmostEqual(k["avg_resolution_hours"], (10 + 30 + 12) / 3)
        self.assertAlmostEqual(k["satisfaction_avg"], (5 + 2 + 4) / 3)
        self.assertAlmostEqual(k["nps"], 100 / 3, msg="two promoters, one detractor of three")
        mine = self._compute(user=self.staff)
        self.assertEqual((mine["tickets"], mine["complaints"]), (2, 1))
        self.assertAlmostEqual(mine["avg_resolution_hours"], 20)
        self.assertAlmostEqual(mine["satisfaction_avg"], 3.5)
        self.assertAlmostEqual(mine["nps"], 0.0)


@tagged("post_install", "-at_install")
class TestKpiAccess(KpiCase):
    def test_staff_only_their_own_scorecard(self):
        self.assertIsInstance(self._compute(user=self.staff, as_user=self.staff), dict)
        with self.assertRaises(AccessError):
            self._compute(as_user=self.staff)
        with self.assertRaises(AccessError):
            self._compute(user=self.staff2, as_user=self.staff)

    def test_managers_all(self):
        self.assertIsInstance(self._compute(), dict)
        self.assertIsInstance(self._compute(user=self.staff), dict)

    def test_outsider_and_other_company(self):
        with self.assertRaises(AccessError):
            self._compute(user=self.outsider, as_user=self.outsider)
        other = self.env["res.company"].create({"name": "Other Shop"})
        with self.assertRaises(AccessError):
            self.Kpi.with_user(self.manager).compute(*P, company=other)

    def test_bad_period(self):
        with self.assertRaises(UserError):
            self.Kpi.with_user(self.manager).compute(date(2026, 3, 2), date(2026, 3, 1))
        with self.assertRaises(UserError):
            self.Kpi.with_user(self.manager).compute(False, date(2026, 3, 1))


@tagged("post_install", "-at_install")
class TestKpiDashboard(KpiCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        Value = cls.env["shop.crm.customer.value"]

        def customer(name, staff, klass):
            partner = cls._customer(name, staff)
            Value.create({"partner_id": partner.id, "company_id": cls.company.id, "rfm_class": klass})
            return partner

        cls.n1 = customer("Neglected A", cls.staff, "A")  # last purchase 1 February
        cls.n2 = customer("Visited B", cls.staff, "B")  # same purchase, visited 1 March
        cls.n3 = customer("Forgotten C", cls.staff, "C")  # never: but class C
        cls.n4 = customer("Never seen A", cls.staff2, "A")
        cls.n5 = customer("Exactly 60 days A", cls.staff, "A")  # 14 February
        cls.n6 = customer("Unassigned A", cls.staff, "A")
        cls.n6.user_id = False
        for partner, day in (
            (cls.n1, date(2026, 2, 1)),
            (cls.n2, date(2026, 2, 1)),
            (cls.n5, date(2026, 2, 14)),
        ):
            cls._sale(partner, local(day, 23, 30), 100.0)
        cls.env["shop.crm.visit"].create(
            {"partner_id": cls.n2.id, "date": local(date(2026, 3, 1)), "user_id": cls.staff.id}
        )

    def _neglected(self, user=None, as_user=None):
        with freeze_time(local(date(2026, 4, 15), 9)):
            return self.Kpi.with_user(as_user or self.manager).neglected_customers(user=user)

    def test_neglected_customers(self):
        data = self._neglected()
        self.assertEqual(data["days"], 60)
        self.assertEqual([row["id"] for row in data["customers"]], (self.n4 | self.n1).ids)
        self.assertEqual(data["count"], 2)
        self.assertEqual(data["by_staff"], {self.staff.id: 1, self.staff2.id: 1})
        self.assertEqual(data["customers"][1]["last_day"], "2026-02-01")
        mine = self._neglected(user=self.staff, as_user=self.staff)
        self.assertEqual([row["id"] for row in mine["customers"]], self.n1.ids)
        self.company.shop_crm_neglected_days = 30
        self.assertEqual(self._neglected()["count"], 4, "14 February and the visit of 1 March are old too")
        with self.assertRaises(ValidationError):
            self.company.shop_crm_neglected_days = 0
        with self.assertRaises(AccessError):
            self._neglected(user=self.staff2, as_user=self.staff)

    def test_dashboard_data(self):
        with freeze_time(local(date(2026, 3, 10), 9)):
            data = self.Kpi.with_user(self.manager).dashboard_data("last_month")
        self.assertEqual((data["date_from"], data["date_to"]), ("2026-02-01", "2026-02-28"))
        self.assertEqual((data["previous_from"], data["previous_to"]), ("2026-01-04", "2026-01-31"))
        tiles = {tile["key"]: tile for tile in data["tiles"]}
        self.assertEqual(list(tiles), list(kpi.KEYS))
        self.assertEqual(tiles["active_customers"]["value"], 3)
        self.assertEqual(tiles["active_customers"]["direction"], "up")
        self.assertIsNone(tiles["active_customers"]["percent"], "nobody bought in January")
        self.assertEqual(tiles["sales"]["value"], 300.0)
        monthly = data["charts"]["monthly"]
        self.assertEqual(monthly["labels"][-1], "2026-02")
        self.assertEqual(len(monthly["labels"]), 12)
        self.assertEqual((monthly["active"][-1], monthly["new"][-1], monthly["returning"][-1]), (3, 3, 0))
        cohorts = data["charts"]["cohorts"]
        self.assertEqual([cohort["month"] for cohort in cohorts][-1], "2026-02")
        self.assertEqual((cohorts[-1]["size"], cohorts[-1]["shares"]), (3, [1.0]))
        self.assertEqual(cohorts[0]["shares"], [0.0] * 12, "nobody started in March 2025")
        with freeze_time(local(date(2026, 4, 10), 9)):
            later = self.Kpi.with_user(self.manager).dashboard_data("last_month")["charts"]["cohorts"]
        self.assertEqual(later[-2]["month"], "2026-02")
        self.assertEqual(later[-2]["shares"], [1.0, 0.0], "February's buyers did not come back in March")
        hours = data["charts"]["hours"]
        self.assertEqual(sum(cell["purchases"] for cell in hours), 3)
        self.assertEqual({cell["hour"] for cell in hours}, {23}, "23:30 in the shop, not 15:30 UTC")
        cards = {card["user_id"]: card for card in data["scorecards"]}
        self.assertEqual(cards[self.staff.id]["assigned"], 4, "not the unassigned customer")
        self.assertEqual(cards[self.staff.id]["active"], 3)
        self.assertEqual(cards[self.staff2.id]["active"], 0)

    def test_staff_see_their_own_dashboard(self):
        with freeze_time(local(date(2026, 3, 10), 9)):
            data = self.Kpi.with_user(self.staff2).dashboard_data("last_month", user=self.staff.id)
            self.assertEqual(data["user"]["id"], self.staff2.id, "staff cannot open another scorecard")
            self.assertEqual([card["user_id"] for card in data["scorecards"]], self.staff2.ids)
            tiles = {tile["key"]: tile["value"] for tile in data["tiles"]}
            self.assertEqual(tiles["active_customers"], 0)
            with self.assertRaises(AccessError):
                self.Kpi.with_user(self.outsider).dashboard_data("last_month")
            with self.assertRaises(UserError):
                self.Kpi.with_user(self.manager).dashboard_data("next_year")

    def test_tiles_open_records(self):
        action = self.Kpi.with_user(self.manager).kpi_action("active_customers", "2026-02-01", "2026-02-28")
        self.assertEqual(action["res_model"], "res.partner")
        partners = self.env["res.partner"].search(action["domain"])
        self.assertEqual(partners, self.n1 | self.n2 | self.n5)
        new = self.Kpi.with_user(self.manager).kpi_action("new_customers", "2026-02-02", "2026-02-28")
        self.assertEqual(self.env["res.partner"].search(new["domain"]), self.n5)
        visits = self.Kpi.with_user(self.staff).kpi_action("visits", "2026-03-01", "2026-03-31")
        self.assertEqual(self.env["shop.crm.visit"].search(visits["domain"]).partner_id, self.n2)
        with freeze_time(local(date(2026, 4, 15), 9)):
            neglected = self.Kpi.with_user(self.staff).kpi_action("neglected", "2026-04-01", "2026-04-30")
        self.assertEqual(self.env["res.partner"].search(neglected["domain"]), self.n1)
        with self.assertRaises(UserError):
            self.Kpi.with_user(self.manager).kpi_action("happiness", "2026-02-01", "2026-02-28")


@tagged("post_install", "-at_install")
class TestKpiDashboardTour(HttpCase):
    def test_dashboard_tour(self):
        """A manager opens the dashboard, switches to last month and opens the active customers."""
        manager = new_test_user(self.env, login="tour_kpi", groups="shop_crm.group_shop_crm_manager")
        self.env.company.shop_crm_tz = "UTC"
        product = self.env["product.product"].create({"name": "Tulip", "taxes_id": [Command.clear()]})
        partners = self.env["res.partner"].create(
            [
                {"name": name, "user_id": manager.id}
                for name in ("Dashboard Dong", "Dashboard Xi", "Dashboard Nan")
            ]
        )
        today = self.env.company._shop_crm_today()
        last_month = kpi.add_months(today, -1)
        moments = [
            (partners[0], datetime.combine(last_month, datetime.min.time()) + timedelta(hours=10)),
            (partners[1], datetime.combine(last_month, datetime.min.time()) + timedelta(hours=11)),
            (partners[2], datetime.combine(today.replace(day=1), datetime.min.time()) + timedelta(hours=1)),
        ]
        for partner, moment in moments:
            order = self.env["sale.order"].create(
                {
                    "partner_id": partner.id,
                    "order_line": [
                        Command.create({"product_id": product.id, "price_unit": 50.0, "tax_id": []})
                    ],
                }
            )
            order.action_confirm()
            order.date_order = moment
        self.start_tour("/odoo", "shop_crm_dashboard_tour", login="tour_kpi")


@tagged("post_install", "-at_install")
class TestKpiReports(KpiCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company.shop_crm_points_expiry_months = 12
        cls.member = cls._customer("林美美 Lin Meimei", cls.staff)
        with freeze_time(local(date(2025, 5, 10))):
            cls.member._shop_crm_enroll(cls.company)
        card = cls.member.member_card_id
        cls.env["shop.crm.points"]._post(
            [
                {
                    "card_id": card.id,
                    "kind": "earn",
                    "issued": 100,
                    "date": date(2025, 5, 10),
                    "description": "Roses",
                },
                {
                    "card_id": card.id,
                    "kind": "earn",
                    "issued": 40,
                    "date": date(2025, 8, 2),
                    "description": "Lilies",
                },
                {
                    "card_id": card.id,
                    "kind": "redeem",
                    "used": 30,
                    "date": date(2025, 9, 1),
                    "description": "Reward",
                },
            ]
        )
        cls._sale(cls.member, local(date(2026, 3, 3)), 88.0)  # earns 88 points on 3 March 2026

    def _html(self, report, records, user=None):
        Report = self.env["ir.actions.report"].with_user(user or self.manager)
        html, _kind = Report._render_qweb_html(report, records.ids)
        return html.decode()

    def test_member_card(self):
        html = self._html("shop_crm.report_member_card", self.member)
        self.assertIn("林美美 Lin Meimei", html)
        self.assertIn(self.member.member_code, html)
        self.assertIn(self.company.name, html)
        self.assertEqual(html.count("data:image/png;base64,"), 2, "barcode and QR code")

    def test_member_card_pdf_renders_chinese(self):
        Report = self.env["ir.actions.report"].with_user(self.staff).with_context(force_report_rendering=True)
        pdf, kind = Report._render_qweb_pdf("shop_crm.action_report_member_card", self.member.ids)
        self.assertEqual(kind, "pdf")
        self.assertTrue(pdf.startswith(b"%PDF"))
        text = subprocess.run(
            ["pdftotext", "-", "-"], input=pdf, capture_output=True, check=True
        ).stdout.decode()
        self.assertIn("林美美", text)
        self.assertIn(self.member.member_code, text)
        self.assertEqual(text.count("\f"), 1, "one card-sized page")

    def test_points_statement(self):
        with freeze_time(local(date(2026, 4, 15))):
            html = self._html("shop_crm.report_points_statement", self.member, user=self.staff)
        for text in ("Roses", "Lilies", "Reward", "100.00", "140.00", "110.00", "198.00"):
            self.assertIn(text, html)
        # FIFO: the 30 used come from May's 100, whose 70 left expire in May 2026; August's 40 in August
        self.assertIn("2026-05", html)
        self.assertIn("70.00", html)
        self.assertIn("2026-08", html)
        self.assertIn("2027-03", html, "March 2026's 88 points, in the 12th month shown")

    def test_monthly_report_for_managers_only(self):
        with freeze_time(local(date(2026, 4, 15))):
            html = self._html("shop_crm.report_monthly", self.company)
            self.assertIn("2026-03-01", html)
            self.assertIn("Active customers", html)
            self.assertIn("Staff Xiao Li", html)
            with self.assertRaises(AccessError):
                self._html("shop_crm.report_monthly", self.company, user=self.staff)


@tagged("post_install", "-at_install")
class TestKpiInsight(KpiCase):
    """The dashboard's purchase insight: top product categories per RFM segment, festival demand (last
    year's buyers for the festivals of the next 60 days and what they bought) and the top movers."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        Category = cls.env["product.category"]
        cls.flowers = Category.create({"name": "Flowers"})
        cls.gifts = Category.create({"name": "Gifts"})

        def product(name, category):
            return cls.env["product.product"].create(
                {"name": name, "type": "consu", "categ_id": category.id, "taxes_id": [Command.clear()]}
            )

        cls.rose = product("Red rose", cls.flowers)
        cls.vase = product("Glass vase", cls.gifts)
        cls.card = product("Greeting card", cls.gifts)
        cls.mia = cls._customer("Mia", cls.staff)
        cls.olga = cls._customer("Olga", cls.staff)
        cls.nora = cls._customer("Nora", cls.staff2)
        cls.pete = cls._customer("Pete", cls.staff2)
        Value = cls.env["shop.crm.customer.value"]
        for partner, segment in ((cls.mia, "important_value"), (cls.nora, "general_keep")):
            Value.create({"partner_id": partner.id, "company_id": cls.company.id, "rfm_segment": segment})
        lines = [
            # last year, around Mother's Day (11 May 2025: buying window 4-11 May) and 520 (13-20 May)
            (cls.olga, local(date(2025, 5, 3), 23, 30), cls.vase, 5, 30.0),  # the day before the window
            (cls.mia, local(date(2025, 5, 4), 0, 30), cls.rose, 3, 10.0),  # its first day, 00:30 local
            (cls.mia, local(date(2025, 5, 4), 0, 30), cls.vase, 1, 30.0),
            (cls.mia, local(date(2025, 5, 8)), cls.rose, -1, 10.0),  # a refund: one rose less
            (cls.nora, local(date(2025, 5, 11), 23, 30), cls.rose, 2, 10.0),  # the festival, 23:30 local
            (cls.pete, local(date(2025, 5, 15)), cls.card, 4, 5.0),  # 520
            # P' (29 January - 28 February 2026) and P (March 2026)
            (cls.olga, local(date(2026, 2, 2)), cls.card, 4, 5.0),
            (cls.nora, local(date(2026, 2, 10)), cls.rose, 10, 10.0),
            (cls.mia, local(date(2026, 3, 5)), cls.rose, 2, 10.0),
            (cls.mia, local(date(2026, 3, 5)), cls.vase, 1, 30.0),
            (cls.nora, local(date(2026, 3, 10)), cls.rose, 5, 10.0),
            (cls.nora, local(date(2026, 3, 12)), cls.rose, -1, 10.0),
            (cls.pete, local(date(2026, 3, 15)), cls.vase, 1, 100.0),  # no segment yet
            (cls.mia, local(date(2026, 3, 20)), cls.card, 3, 5.0),
            (cls.mia, local(date(2026, 4, 1), 0, 30), cls.rose, 9, 10.0),  # 1 April locally: not in P
        ]
        for partner, moment, item, qty, price in lines:
            confirmed_sale(cls.env, partner, item, moment, qty=qty, price=price)
        Change = cls.env["shop.crm.segment.change"]
        for partner, old, new, day in (
            (cls.mia, "general_value", "important_value", date(2026, 3, 2)),
            (cls.nora, "important_value", "general_keep", date(2026, 3, 2)),
            (cls.olga, "general_value", "important_value", date(2026, 3, 9)),
            (cls.pete, "general_keep", "general_value", date(2026, 2, 27)),  # before P
        ):
            Change.create(
                {
                    "partner_id": partner.id,
                    "company_id": cls.company.id,
                    "what": "rfm_segment",
                    "old_value": old,
                    "new_value": new,
                    "date": day,
                }
            )

    def _data(self, user=None, as_user=None):
        with freeze_time(local(date(2026, 4, 15), 10)):
            return self.Kpi.with_user(as_user or self.manager).dashboard_data(
                "custom", date_from="2026-03-01", date_to="2026-03-31", user=user
            )

    def test_top_categories_per_segment(self):
        segments = self._data()["charts"]["segment_categories"]
        self.assertEqual([segment["segment"] for segment in segments], ["important_value", "general_keep"])
        self.assertEqual(segments[0]["label"], "Important value customer")
        mia = [(c["name"], c["sales"], c["qty"], c["customers"]) for c in segments[0]["categories"]]
        self.assertEqual(mia, [("Gifts", 45.0, 4.0, 1), ("Flowers", 20.0, 2.0, 1)], "not 1 April's roses")
        nora = [(c["name"], c["sales"], c["qty"]) for c in segments[1]["categories"]]
        self.assertEqual(nora, [("Flowers", 40.0, 4.0)], "the refunded rose is taken off")
        mine = self._data(user=self.staff2, as_user=self.staff2)["charts"]["segment_categories"]
        self.assertEqual([segment["segment"] for segment in mine], ["general_keep"], "only Nora's")
        action = self.Kpi.with_user(self.manager).kpi_action(
            "segment_category",
            "2026-03-01",
            "2026-03-31",
            segment="important_value",
            category_id=self.gifts.id,
        )
        self.assertEqual(self.env["res.partner"].search(action["domain"]), self.mia)
        theirs = self.Kpi.with_user(self.staff2).kpi_action(
            "segment_category",
            "2026-03-01",
            "2026-03-31",
            segment="important_value",
            category_id=self.gifts.id,
        )
        self.assertFalse(
            self.env["res.partner"].search(theirs["domain"]), "staff: not Mia, another's customer"
        )

    def test_festival_demand(self):
        festivals = self._data()["charts"]["festivals"]
        # 15 April 2026 + 60 days: Mother's Day (10 May) and 520 (20 May); not the Dragon Boat Festival
        # (19 June) nor Father's Day (21 June)
        self.assertEqual(
            [(f["name"], f["date"]) for f in festivals],
            [("Mother's Day", "2026-05-10"), ("520 Day", "2026-05-20")],
        )
        mothers, day520 = festivals
        self.assertEqual((mothers["window_from"], mothers["window_to"]), ("2025-05-04", "2025-05-11"))
        self.assertEqual((mothers["buyers"], mothers["still_active"]), (2, 2), "Mia and Nora bought in March")
        products = [(p["name"], p["qty"], p["customers"]) for p in mothers["products"]]
        self.assertEqual(products, [("Red rose", 4.0, 2), ("Glass vase", 1.0, 1)], "not Olga's vases")
        self.assertEqual((day520["buyers"], day520["still_active"]), (1, 1))
        self.assertEqual([(p["name"], p["qty"]) for p in day520["products"]], [("Greeting card", 4.0)])
        self.company.shop_crm_lost_days = 30  # still active: a purchase in the last 30 days
        festivals = self._data()["charts"]["festivals"]
        self.assertEqual((festivals[0]["buyers"], festivals[0]["still_active"]), (2, 1), "Mia on 1 April")
        mine = self._data(user=self.staff, as_user=self.staff)["charts"]["festivals"]
        self.assertEqual((mine[0]["buyers"], mine[1]["buyers"]), (1, 0))
        self.assertEqual(
            [(p["name"], p["qty"]) for p in mine[0]["products"]], [("Red rose", 2.0), ("Glass vase", 1.0)]
        )
        mothers_day = self.env.ref("shop_crm.festival_mothers_day")
        with freeze_time(local(date(2026, 4, 15), 10)):
            action = self.Kpi.with_user(self.manager).kpi_action(
                "festival_buyers", "2026-03-01", "2026-03-31", festival_id=mothers_day.id
            )
            self.assertEqual(self.env["res.partner"].search(action["domain"]), self.mia | self.nora)
            action = self.Kpi.with_user(self.staff).kpi_action(
                "festival_buyers", "2026-03-01", "2026-03-31", festival_id=mothers_day.id
            )
            self.assertEqual(self.env["res.partner"].search(action["domain"]), self.mia)
            with self.assertRaises(UserError):
                self.Kpi.with_user(self.manager).kpi_action(
                    "festival_buyers",
                    "2026-03-01",
                    "2026-03-31",
                    festival_id=self.env.ref("shop_crm.festival_mid_autumn").id,
                )

    def test_top_movers(self):
        movers = self._data()["top_movers"]
        up = [(m["name"], m["previous"], m["current"], m["change"]) for m in movers["customers_up"]]
        self.assertEqual(up, [("Pete", 0.0, 100.0, 100.0), ("Mia", 0.0, 65.0, 65.0)])
        down = [(m["name"], m["change"]) for m in movers["customers_down"]]
        self.assertEqual(down, [("Nora", -60.0), ("Olga", -20.0)], "Nora: 100 in February, 50 - 10 in March")
        segments = [(s["segment"], s["entered"], s["left"], s["net"]) for s in movers["segments"]]
        self.assertEqual(
            segments,
            [("general_value", 0, 2, -2), ("important_value", 2, 1, 1), ("general_keep", 1, 0, 1)],
            "February's change is not in P",
        )
        mine = self._data(user=self.staff, as_user=self.staff)["top_movers"]
        self.assertEqual([m["name"] for m in mine["customers_up"] + mine["customers_down"]], ["Mia", "Olga"])
        self.assertEqual({s["segment"] for s in mine["segments"]}, {"general_value", "important_value"})

    def test_monthly_report_shows_insight(self):
        with freeze_time(local(date(2026, 4, 15), 10)):
            html = (
                self.env["ir.actions.report"]
                .with_user(self.manager)
                ._render_qweb_html("shop_crm.report_monthly", self.company.ids)[0]
                .decode()
            )
        for text in (
            "Top movers",
            "Pete",
            "Nora",
            "Important value customer",
            "Gifts",
            "Mother&#39;s Day",
            "Red rose",
        ):
            self.assertIn(text, html)


@tagged("post_install", "-at_install")
class TestKpiMonthlyEmail(KpiCase):
    """The monthly report emailed to the managers on the 1st of the month (shop's timezone), when the
    setting is on, once per month, to the company's managers only."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.other_company = cls.env["res.company"].create({"name": "Other Shop"})
        cls.other_manager = new_test_user(
            cls.env,
            login="crm_other_manager",
            groups="shop_crm.group_shop_crm_manager",
            company_id=cls.other_company.id,
            company_ids=[Command.set(cls.other_company.ids)],
        )
        cls._sale(cls._customer("Qing", cls.staff), local(date(2026, 3, 8)), 66.0)

    def _send(self, moment):
        with freeze_time(moment):
            return self.env["shop.crm.kpi"]._cron_send_monthly_report()

    def test_off_by_default(self):
        self.assertFalse(self.env["res.company"].create({"name": "New Shop"}).shop_crm_monthly_report_email)
        self.assertFalse(self._send(datetime(2026, 3, 31, 17, 0)), "the 1st, but the setting is off")

    def test_sent_on_the_first_once_to_managers(self):
        self.company.shop_crm_monthly_report_email = True
        self.assertFalse(self._send(datetime(2026, 3, 31, 15, 0)), "31 March, 23:00 in Shanghai")
        mail = self._send(datetime(2026, 3, 31, 17, 0))  # 1 April, 01:00 in Shanghai (still 31 March in UTC)
        self.assertEqual(len(mail), 1)
        self.assertEqual(self.company.shop_crm_monthly_report_sent, date(2026, 4, 1))
        users = mail.recipient_ids.user_ids
        self.assertIn(self.manager, users)
        self.assertNotIn(self.staff, users, "staff do not get the owner's report")
        self.assertNotIn(self.outsider, users)
        self.assertNotIn(self.other_manager, users, "a manager of another company")
        self.assertTrue(all(user.has_group("shop_crm.group_shop_crm_manager") for user in users))
        self.assertEqual(len(mail.attachment_ids), 1)
        report = mail.attachment_ids.raw.decode()
        for text in ("Monthly customer report", "2026-03-01", "2026-03-31", "66.00", "Staff Xiao Li"):
            self.assertIn(text, report)
        self.assertFalse(self._send(datetime(2026, 4, 1, 3, 0)), "once per month: not again on the 1st")
        self.assertFalse(self._send(datetime(2026, 4, 1, 17, 0)), "2 April in Shanghai (1 April in UTC)")
        self.assertEqual(len(self._send(datetime(2026, 4, 30, 16, 30))), 1, "1 May: the next month's")

    def test_pdf_attached(self):
        """The attachment is the monthly report as a PDF (rendered by wkhtmltopdf; tests render HTML unless
        asked for the real rendering)."""
        self.company.shop_crm_monthly_report_email = True
        with freeze_time(datetime(2026, 3, 31, 17, 0)):
            mail = (
                self.env["shop.crm.kpi"].with_context(force_report_rendering=True)._cron_send_monthly_report()
            )
        attachment = mail.attachment_ids
        self.assertEqual(attachment.mimetype, "application/pdf")
        self.assertTrue(attachment.name.endswith(".pdf"))
        text = subprocess.run(
            ["pdftotext", "-", "-"], input=attachment.raw, capture_output=True, check=True
        ).stdout.decode()
        self.assertIn("Monthly customer report", text)
        self.assertIn("Staff Xiao Li", text)
