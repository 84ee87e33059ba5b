"""The customer card at the till, sign-up by mobile and the visit noted from the till (server rules)."""

from datetime import date, timedelta

from freezegun import freeze_time

from odoo import Command
from odoo.exceptions import AccessError, UserError
from odoo.tests import BaseCase, new_test_user, tagged

from ..lib import customer_card as cc
from ..lib import membership
from .common import ShopCrmCase


@tagged("post_install", "-at_install")
class TestCustomerCardRules(BaseCase):
    """lib/customer_card.py"""

    def test_tier_progress(self):
        silver = membership.Tier(1, 10, use_spend=True, min_spend=1000)
        gold = membership.Tier(2, 20, use_spend=True, min_spend=5000)
        vip = membership.Tier(3, 30, use_spend=True, min_spend=9000, use_points=True, min_points=800)
        tiers = [vip, gold, silver]  # any order
        progress = cc.tier_progress(tiers, None, {1: (680, 0)})
        self.assertEqual(
            (progress.tier, progress.spend_missing, progress.points_missing), (silver, 320, None)
        )
        # a silver member goes for gold, over gold's own totals
        progress = cc.tier_progress(tiers, 1, {1: (4000, 0), 2: (4680, 0)})
        self.assertEqual((progress.tier, progress.spend_missing), (gold, 320))
        # qualifying already for gold (the upgrade is due): the next one is shown
        progress = cc.tier_progress(tiers, 1, {2: (5000, 100), 3: (5000, 100)})
        self.assertEqual(progress.tier, vip)
        self.assertEqual((progress.spend_missing, progress.points_missing), (4000, 700))
        self.assertFalse(progress.require_both, "either rule qualifies for this tier")
        self.assertIsNone(cc.tier_progress(tiers, 3, {}), "top tier: nothing more to reach")
        self.assertIsNone(cc.tier_progress([], None, {}))
        both = membership.Tier(
            4, 5, use_spend=True, min_spend=10, use_points=True, min_points=5, require_both=True
        )
        progress = cc.tier_progress([both], None, {4: (20, 1)})
        self.assertEqual(
            (progress.spend_missing, progress.points_missing, progress.require_both), (0, 4, True)
        )

    def test_flags(self):
        today = date(2026, 6, 10)
        self.assertTrue(cc.within_window(today, today))
        self.assertTrue(cc.within_window(today + timedelta(days=6), today))
        self.assertFalse(cc.within_window(today + timedelta(days=7), today))
        self.assertFalse(cc.within_window(today - timedelta(days=1), today))
        self.assertFalse(cc.within_window(None, today))
        flags = cc.flags(True, [today + timedelta(days=30), today + timedelta(days=2)], ["FB1"], True, today)
        self.assertEqual(flags, ["churn", "date", "complaint", "do_not_contact"])
        self.assertEqual(cc.popup_flags(flags), ["churn", "date", "complaint"])
        self.assertEqual(cc.flags(False, [today + timedelta(days=8)], [], False, today), [])
        self.assertEqual(cc.popup_flags(["do_not_contact"]), [], "not contacting is no reason for a popup")


class PosCardCase(ShopCrmCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company = cls.env.company
        cls.company.write({"country_id": cls.env.ref("base.cn").id, "shop_crm_points_expiry_months": 12})
        cls.cashier = new_test_user(
            cls.env,
            login="pos_cashier",
            name="Cashier Chen",
            groups="base.group_user,point_of_sale.group_pos_user",
        )
        cls.config = cls.env["pos.config"].create({"name": "Front till"})
        cls.program = cls.company._shop_crm_member_program()
        Tier = cls.env["shop.crm.tier"].with_user(cls.manager)
        cls.silver = Tier.create({"name": "Silver", "sequence": 10, "min_spend": 1000, "period_months": 12})
        cls.gold = Tier.create(
            {"name": "Gold", "sequence": 20, "use_spend": False, "use_points": True, "min_points": 5000}
        )
        cls.rose = cls.env["product.product"].create(
            {"name": "Red rose", "list_price": 1.0, "type": "consu", "taxes_id": [Command.clear()]}
        )
        cls.Partner = cls.env["res.partner"]

    def _card(self, partner, user=None):
        partner.invalidate_recordset(["shop_crm_pos_card"])
        return partner.with_user(user or self.cashier).shop_crm_pos_card

    def _values(self, partner, **values):
        self.env["shop.crm.customer.value"].sudo().create(
            {"partner_id": partner.id, "company_id": self.company.id, **values}
        )


@tagged("post_install", "-at_install")
@freeze_time("2026-06-10 04:00")
class TestPosCustomerCard(PosCardCase):
    def test_card_of_a_member(self):
        customer = self.Partner.create(
            {
                "name": "朱涛",
                "user_id": self.staff.id,
                "birthday": date(1990, 6, 14),
                "preference_notes": "White lilies, no pollen",
            }
        )
        customer._shop_crm_enroll(self.company)
        order = self.env["sale.order"].create(
            {
                "partner_id": customer.id,
                "order_line": [
                    Command.create({"product_id": self.rose.id, "product_uom_qty": 680, "tax_id": []})
                ],
            }
        )
        order.action_confirm()
        card = customer.member_card_id
        self.assertEqual(card.points, 680)
        # points earned 11.5 months ago expire within the next 30 days
        self.env["shop.crm.points"]._post(
            [
                {
                    "card_id": card.id,
                    "kind": "gift",
                    "description": "Old gift",
                    "issued": 40,
                    "date": date(2025, 6, 25),
                }
            ]
        )
        self._values(
            customer,
            rfm_class="B",
            rfm_segment="important_keep",
            lifecycle_stage="returning",
            churn_warning=True,
            churn_typical_gap=12,
            rfm_recency_days=41,
            rfm_monetary=680,
        )
        self.env["shop.crm.care.rule"].with_user(self.manager).create(
            {"name": "Birthday gift", "trigger": "birthday", "days_before": 3, "gift_points": 200}
        )
        self.env["shop.crm.occasion"].create(
            {"partner_id": customer.id, "name": "Mother's birthday", "date": date(1960, 7, 20)}
        )
        ticket = self.env["shop.crm.feedback"].create(
            {
                "partner_id": customer.id,
                "feedback_type": "complaint",
                "description": "The roses wilted in a day.",
            }
        )
        self.env["shop.crm.feedback"].create(
            {"partner_id": customer.id, "feedback_type": "praise", "description": "Lovely wrapping."}
        )
        result = self._card(customer)
        self.assertEqual(result["member_code"], customer.member_code)
        self.assertEqual(result["tier"], False, "no tier yet: spend 680 < 1000")
        self.assertIn("320.00", result["tier_progress"])
        self.assertIn("more to Silver", result["tier_progress"])
        self.assertEqual(result["points"], 720)
        self.assertEqual(result["points_expiring"], 40)
        self.assertEqual(
            (result["value_class"], result["segment"], result["stage"]),
            ("B", "Important keep customer", "Returning"),
        )
        self.assertEqual(result["staff"], self.staff.name)
        self.assertEqual(result["preferences"], "White lilies, no pollen")
        self.assertEqual(result["flags"], ["churn", "date", "complaint"])
        self.assertEqual(result["churn_reason"], "usually every 12 days, last visit 41 days ago")
        self.assertEqual(len(result["dates"]), 1, "the mother's birthday is more than 7 days away")
        self.assertEqual(result["dates"][0]["text"], "Birthday in 4 days")
        self.assertEqual(result["dates"][0]["offer"], "Birthday gift: 200 points gift")
        self.assertEqual(result["complaints"], [{"reference": ticket.name, "stage": "New Ticket"}])
        self.assertEqual([alert["kind"] for alert in result["alerts"]], ["churn", "date", "complaint"])
        self.assertIn(ticket.name, result["alerts"][2]["title"])
        self.assertIn("200 points gift", result["alerts"][1]["advice"])
        # a resolved complaint and a contact stop change the flags
        ticket.write(
            {
                "stage": "resolved",
                "resolution": "Replaced the bouquet.",
                "category_id": self.env.ref("shop_crm.feedback_category_freshness").id,
                "root_cause": "Old stock",
            }
        )
        customer.do_not_contact = True
        result = self._card(customer)
        self.assertEqual(result["flags"], ["churn", "date", "do_not_contact"])
        self.assertEqual(result["complaints"], [])

    def test_member_day_of_today_for_the_tier(self):
        """10 June 2026 is a Wednesday and the 10th: the card shows the member days of the customer's tier
        that apply today, with their offer; not those of other tiers or other days."""
        MemberDay = self.env["shop.crm.member.day"].with_user(self.manager)
        MemberDay.create(
            {
                "name": "每周三会员日",
                "tier_ids": [Command.set(self.gold.ids)],
                "weekday": "2",
                "points_multiplier": 2,
            }
        )
        MemberDay.create(
            {
                "name": "Thursday",
                "tier_ids": [Command.set((self.silver | self.gold).ids)],
                "weekday": "3",
                "points_multiplier": 3,
            }
        )
        MemberDay.create(
            {
                "name": "Tenth of the month",
                "tier_ids": [Command.set(self.silver.ids)],
                "recurrence": "monthly",
                "month_day": 10,
                "points_multiplier": 1.5,
            }
        )
        gold_member, silver_member, no_tier = self.Partner.create(
            [{"name": "Gold Guo"}, {"name": "Silver Shi"}, {"name": "Plain Pan"}]
        )
        (gold_member | silver_member | no_tier)._shop_crm_enroll(self.company)
        gold_member.sudo().tier_id = self.gold
        silver_member.sudo().tier_id = self.silver
        self.assertEqual(
            self._card(gold_member)["member_days"], [{"name": "每周三会员日", "offer": "points ×2"}]
        )
        self.assertEqual(
            self._card(silver_member)["member_days"], [{"name": "Tenth of the month", "offer": "points ×1.5"}]
        )
        self.assertEqual(self._card(no_tier)["member_days"], [], "no tier: no member day")
        with freeze_time("2026-06-11 04:00"):  # Thursday the 11th
            self.assertEqual(
                self._card(gold_member)["member_days"], [{"name": "Thursday", "offer": "points ×3"}]
            )
            self.assertEqual(
                self._card(silver_member)["member_days"], [{"name": "Thursday", "offer": "points ×3"}]
            )

    def test_progress_by_points_and_no_card_for_staff(self):
        customer = self.Partner.create({"name": "Points Li"})
        customer._shop_crm_enroll(self.company)
        customer.sudo().tier_id = self.silver
        self.env["shop.crm.points"]._post(
            [{"card_id": customer.member_card_id.id, "kind": "earn", "description": "Earned", "issued": 4680}]
        )
        result = self._card(customer)
        self.assertEqual(result["tier"], "Silver")
        self.assertEqual(result["tier_progress"], "320 points more to Gold")
        self.assertEqual(result["flags"], [])
        self.assertEqual(result["alerts"], [])
        self.assertFalse(self._card(self.staff.partner_id), "staff and companies are not customers: no card")
        self.assertFalse(self._card(self.company.partner_id))
        # not a member: no points, no code, still a card
        walk_in = self.Partner.create({"name": "Walk-in Wu"})
        result = self._card(walk_in)
        self.assertEqual((result["member_code"], result["points"]), (False, False))
        self.assertIn("more to Silver", result["tier_progress"])

    def test_cards_come_with_the_pos_data_in_a_few_queries(self):
        self.assertIn("shop_crm_pos_card", self.Partner._load_pos_data_fields(self.config.id))
        self.assertIn("mobile_normalized", self.Partner._load_pos_data_fields(self.config.id))
        partners = self.Partner.create(
            [{"name": f"Customer {index}", "birthday": date(1990, 6, 12)} for index in range(12)]
        )
        partners[:6]._shop_crm_enroll(self.company)
        for partner in partners:
            self.env["shop.crm.occasion"].create(
                {"partner_id": partner.id, "name": "Anniversary", "date": date(2020, 6, 11)}
            )
        self.env.flush_all()

        def queries(records):
            self.env.invalidate_all()
            before = self.env.cr.sql_log_count
            rows = self.Partner.with_user(self.cashier).search_read(
                [("id", "in", records.ids)], ["name", "shop_crm_pos_card"]
            )
            self.assertTrue(all(row["shop_crm_pos_card"]["flags"] == ["date"] for row in rows))
            return self.env.cr.sql_log_count - before

        queries(partners[:1])  # warm the caches
        few, many = queries(partners[:2] | partners[6:7]), queries(partners)
        self.assertEqual(few, many, "the cards of all loaded customers are read together")


@tagged("post_install", "-at_install")
@freeze_time("2026-06-10 04:00")
class TestPosSignUp(PosCardCase):
    def _sign_up(self, user=None, **values):
        values = {"mobile": "139 1234 5678", "name": "New Member", **values}
        return self.Partner.with_user(user or self.cashier).shop_crm_pos_sign_up(values, self.config.id)

    def test_mobile_normalisation_and_search(self):
        customer = self.Partner.create({"name": "Ma Li", "mobile": "138-0013-8000"})
        self.assertEqual(customer.mobile_normalized, "+8613800138000")
        Cashier = self.Partner.with_user(self.cashier)
        for typed in ("+86 138 0013 8000", "13800138000", "0086-138-0013-8000", " 138 0013 8000 "):
            result = Cashier.shop_crm_pos_check_mobile(typed)
            self.assertEqual(
                result, {"mobile": "+8613800138000", "partner_id": customer.id, "partner_name": "Ma Li"}
            )
            # the till's partner search sends "<typed>%"
            self.assertEqual(Cashier.search([("shop_crm_mobile_search", "ilike", typed + "%")]), customer)
        self.assertEqual(
            Cashier.shop_crm_pos_check_mobile("139 1234 5678"),
            {"mobile": "+8613912345678", "partner_id": False, "partner_name": False},
        )
        self.assertFalse(Cashier.search([("shop_crm_mobile_search", "ilike", "Ma Li%")]))
        for bad in ("12345", "010 6552 9988", ""):  # too short, a Beijing landline, nothing
            with self.assertRaises(UserError):
                Cashier.shop_crm_pos_check_mobile(bad)

    def test_sign_up_enrols_at_once(self):
        referrer = self.Partner.create({"name": "Referrer Zhao", "mobile": "13700001111"})
        referrer._shop_crm_enroll(self.company)
        Cashier = self.Partner.with_user(self.cashier)
        self.assertEqual(
            Cashier.shop_crm_pos_find_referrer(referrer.member_code),
            [{"id": referrer.id, "name": "Referrer Zhao", "member_code": referrer.member_code}],
        )
        self.assertEqual(
            [row["id"] for row in Cashier.shop_crm_pos_find_referrer("+86 137 0000 1111")], [referrer.id]
        )
        self.assertEqual(Cashier.shop_crm_pos_find_referrer("nobody"), [])
        partner_id = self._sign_up(
            birthday="1995-03-08", gender="female", consents=["sms", "wechat"], referred_by_id=referrer.id
        )
        partner = self.Partner.browse(partner_id)
        self.assertEqual(partner.mobile_normalized, "+8613912345678")
        self.assertEqual((partner.birthday, partner.gender), (date(1995, 3, 8), "female"))
        self.assertEqual(partner.referred_by_id, referrer)
        self.assertTrue(membership.is_valid_member_code(partner.member_code))
        self.assertEqual(partner.barcode, partner.member_code, "the member card scans at once")
        self.assertEqual(partner.member_since, date(2026, 6, 10))
        self.assertTrue(partner.member_card_id, "the card exists before the first order")
        self.assertEqual(partner.member_card_id.program_id, self.program)
        consents = partner.consent_ids.sorted("channel")
        self.assertEqual(consents.mapped("channel"), ["sms", "wechat"])
        self.assertEqual(set(consents.mapped("source")), {"till"})
        self.assertEqual(set(consents.mapped("granted_date")), {date(2026, 6, 10)})
        self.assertTrue(all(consents.mapped("granted")))
        # the first order earns points at once
        order = self.env["sale.order"].create(
            {
                "partner_id": partner.id,
                "order_line": [
                    Command.create({"product_id": self.rose.id, "product_uom_qty": 30, "tax_id": []})
                ],
            }
        )
        order.action_confirm()
        self.assertEqual(partner.member_card_id.points, 30)

    def test_duplicate_mobile_is_refused(self):
        existing = self.Partner.create({"name": "Already Here", "mobile": "+86 139-1234-5678"})
        count = self.Partner.search_count([])
        with self.assertRaisesRegex(UserError, "already exists \\(Already Here\\)"):
            self._sign_up(mobile="13912345678")
        existing.active = False  # archived customers count too
        with self.assertRaisesRegex(UserError, "already exists"):
            self._sign_up(mobile="0086 139 1234 5678")
        self.assertEqual(self.Partner.search_count([]), count - 1, "nothing was created")
        self.assertFalse(
            self.Partner.with_user(self.cashier).shop_crm_pos_check_mobile("13912345678")["partner_id"],
            "an archived customer is named, not offered",
        )

    def test_bad_sign_up_input(self):
        count = self.Partner.with_context(active_test=False).search_count([])
        for values in (
            {"name": "  "},
            {"mobile": "123"},
            {"mobile": ""},
            {"birthday": "2026-06-11"},
            {"birthday": "not a date"},
            {"gender": "robot"},
            {"consents": ["pigeon"]},
            {"referred_by_id": 10**8},
        ):
            with self.subTest(values=values), self.assertRaises(UserError):
                self._sign_up(**values)
        self.assertEqual(self.Partner.with_context(active_test=False).search_count([]), count)
        self.assertFalse(self.env["shop.crm.consent"].search([("source", "=", "till")]))

    def test_only_pos_users_sign_up(self):
        with self.assertRaises(AccessError):
            self._sign_up(user=self.outsider)
        with self.assertRaises(AccessError):
            self.Partner.with_user(self.outsider).shop_crm_pos_check_mobile("13912345678")


@tagged("post_install", "-at_install")
@freeze_time("2026-06-10 04:00")
class TestPosVisitAndAccess(PosCardCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.customer = cls.Partner.create({"name": "Away Wang", "user_id": cls.staff.id})
        cls.env["shop.crm.customer.value"].sudo().create(
            {
                "partner_id": cls.customer.id,
                "company_id": cls.company.id,
                "rfm_class": "A",
                "rfm_segment": "important_value",
                "lifecycle_stage": "returning",
                "churn_warning": True,
                "churn_typical_gap": 9,
                "rfm_recency_days": 30,
                "rfm_monetary": 8800,
                "clv_historical": 26000,
                "clv_predicted_12m": 9100,
                "probability_alive": 0.71,
            }
        )

    def test_note_it_records_an_in_store_visit(self):
        visit_id = self.customer.with_user(self.cashier).shop_crm_pos_note_visit(["churn"])
        visit = self.env["shop.crm.visit"].browse(visit_id)
        self.assertEqual(
            (visit.partner_id, visit.user_id, visit.channel, visit.purpose, visit.outcome, visit.company_id),
            (self.customer, self.cashier, "in_store", "win_back", "reached", self.company),
        )
        self.assertIn("usually every 9 days, last visit 30 days ago", visit.notes)
        self.assertFalse(visit.activity_id, "no follow-up planned from the till")
        with self.assertRaises(UserError):
            self.customer.with_user(self.cashier).shop_crm_pos_note_visit(["do_not_contact", "bogus"])
        with self.assertRaises(AccessError):
            self.customer.with_user(self.outsider).shop_crm_pos_note_visit(["churn"])
        self.assertEqual(self.env["shop.crm.visit"].search_count([("partner_id", "=", self.customer.id)]), 1)

    def test_cashier_sees_the_card_not_the_values(self):
        Cashier = self.Partner.with_user(self.cashier)
        card = Cashier.browse(self.customer.id).read(["shop_crm_pos_card"])[0]["shop_crm_pos_card"]
        self.assertEqual((card["value_class"], card["flags"]), ("A", ["churn"]))
        shown = {key for key in card if key not in ("dates", "complaints", "alerts")}
        for secret in ("rfm_monetary", "clv_historical", "clv_predicted_12m", "probability_alive"):
            self.assertNotIn(secret, shown)
        self.assertNotIn("8800", str(card))
        self.assertNotIn("26000", str(card))
        for fname in (
            "rfm_monetary",
            "rfm_frequency",
            "rfm_r_score",
            "clv_historical",
            "clv_predicted_12m",
            "probability_alive",
            "rfm_explanation",
        ):
            with self.subTest(field=fname), self.assertRaises(AccessError):
                Cashier.browse(self.customer.id).read([fname])
        with self.assertRaises(AccessError):
            Cashier.search([("rfm_monetary", ">", 1000)])
        for model in ("shop.crm.customer.value", "shop.crm.feedback", "shop.crm.visit", "shop.crm.consent"):
            with self.subTest(model=model), self.assertRaises(AccessError):
                self.env[model].with_user(self.cashier).search([])
        # Shop CRM staff still read the values; users without the Point of Sale do not get cards
        self.assertEqual(self.customer.with_user(self.staff).rfm_monetary, 8800)
        with self.assertRaises(AccessError):
            self.Partner.with_user(self.outsider).browse(self.customer.id).read(["shop_crm_pos_card"])
