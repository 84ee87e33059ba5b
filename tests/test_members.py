import random
from datetime import date, datetime, time, timedelta

from freezegun import freeze_time

from odoo import Command
from odoo.addons.shop_crm.scripts.demo_shop import DemoShop
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import Form, tagged

from ..lib import chinese_calendar, demo_plan, membership
from .common import ShopCrmCase


class MembersCase(ShopCrmCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company = cls.env.company
        cls.company.write(
            {
                "shop_crm_points_expiry_months": 12,
                "shop_crm_tier_grace_days": 30,
                "shop_crm_referral_points": 100,
                "shop_crm_expiry_notice_days": 30,
            }
        )
        cls.program = cls.company._shop_crm_member_program()
        cls.product = cls.env["product.product"].create(
            {"name": "Lily bouquet", "list_price": 1.0, "type": "consu", "taxes_id": [Command.clear()]}
        )
        cls.pricelist = cls.env["product.pricelist"].create({"name": "Gold prices"})
        Tier = cls.env["shop.crm.tier"].with_user(cls.manager)
        cls.silver = Tier.create(
            {
                "name": "Silver",
                "sequence": 20,
                "min_spend": 1000,
                "period_months": 12,
                "points_multiplier": 1.5,
            }
        )
        cls.gold = Tier.create(
            {
                "name": "Gold",
                "sequence": 30,
                "min_spend": 5000,
                "period_months": 12,
                "points_multiplier": 2,
                "pricelist_id": cls.pricelist.id,
            }
        )
        cls.Points = cls.env["shop.crm.points"]

    @classmethod
    def _customer(cls, name, **vals):
        return (
            cls.env["res.partner"]
            .with_user(cls.staff)
            .create({"name": name, "user_id": cls.staff.id, **vals})
        )

    def _sale(self, partner, amount):
        order = self.env["sale.order"].create(
            {
                "partner_id": partner.id,
                "order_line": [
                    Command.create(
                        {
                            "product_id": self.product.id,
                            "product_uom_qty": 1,
                            "price_unit": amount,
                            "tax_id": [Command.clear()],
                        }
                    )
                ],
            }
        )
        order.action_confirm()
        return order

    def _pos_session(self):
        config = self.env["pos.config"].create({"name": "Counter"})
        config.with_user(self.env.ref("base.user_admin")).open_ui()
        return config.current_session_id

    def _pos_payload(self, session, customer, qty, when, index, redeem=0, refund_of=None):
        """The POS payload of one paid order (the demo shop's builder), with a reward line redeeming
        ``redeem`` points, or refunding ``qty`` units of ``refund_of``'s line."""
        cash = session.config_id.payment_method_ids.filtered("is_cash_count")[:1]
        payload = DemoShop(self.env)._pos_order_payload(
            session,
            demo_plan.PlannedOrder(1, when, (("P", qty),), "pos", "cash"),
            {1: customer},
            {"P": self.product},
            {"cash": cash},
            index,
        )
        payload["uuid"] = f"{payload['uuid'][:-6]}{index:06d}"
        if refund_of:
            payload["lines"][0][2]["refunded_orderline_id"] = refund_of.lines[:1].id
        if redeem:
            payload["lines"].append(
                Command.create(
                    {
                        "product_id": self.product.id,
                        "qty": 1,
                        "price_unit": -10,
                        "price_subtotal": -10,
                        "price_subtotal_incl": -10,
                        "discount": 0,
                        "tax_ids": [Command.clear()],
                        "is_reward_line": True,
                        "coupon_id": customer.member_card_id.id,
                        "points_cost": redeem,
                    }
                )
            )
            for key in ("amount_total", "amount_paid"):
                payload[key] -= 10
            payload["payment_ids"][0][2]["amount"] -= 10
        return payload

    def _lines(self, partner, kind=None):
        domain = [("card_id", "=", partner.member_card_id.id)]
        if kind:
            domain.append(("shop_crm_kind", "=", kind))
        return self.env["loyalty.history"].search(domain)

    def assertLedgerBalanced(self, partner):
        partner.invalidate_recordset()
        card = partner.member_card_id
        self.env.cr.execute(
            "SELECT COALESCE(SUM(issued - used), 0) FROM loyalty_history WHERE card_id = %s", [card.id]
        )
        ledger = self.env.cr.fetchone()[0]
        card.invalidate_recordset(["points"])
        self.assertAlmostEqual(card.points, ledger, places=2, msg="stored balance = sum of the ledger")
        self.assertGreaterEqual(card.points, -0.005)
        return card.points


@tagged("post_install", "-at_install")
class TestMemberProfile(MembersCase):
    @freeze_time("2026-03-01")
    def test_enrolment_and_member_code(self):
        customer = self._customer("林美美", birthday=date(1990, 5, 20), gender="female")
        self.assertFalse(customer.is_member)
        customer.with_user(self.staff).action_shop_crm_enroll()
        self.assertTrue(membership.is_valid_member_code(customer.member_code))
        self.assertEqual(customer.barcode, customer.member_code, "scannable at the Point of Sale")
        self.assertEqual(customer.member_since, date(2026, 3, 1))
        self.assertEqual(customer.member_company_id, self.company)
        self.assertEqual(customer.age_band, "35_44")
        self.assertEqual(customer.member_card_id.program_id, self.program)
        self.assertIn(customer, self.env["res.partner"].search([("is_member", "=", True)]))
        other = self._customer("王芳")
        other.action_shop_crm_enroll()
        self.assertNotEqual(other.member_code, customer.member_code)
        with self.assertRaises(ValidationError) as caught:
            other.sudo().member_code = customer.member_code
        self.assertIn("already used", str(caught.exception))
        with self.assertRaises(ValidationError):
            other.sudo().member_code = "29 00"

    def test_round_robin_assignment(self):
        team = self.env["crm.team"].create({"name": "Counter team"})
        first = self.staff
        second = self.env["res.users"].create({"name": "Staff Two", "login": "crm_staff_two"})
        team.member_ids = first | second
        self.company.shop_crm_assign_team_id = team
        customers = self.env["res.partner"].create([{"name": f"Walk-in {i}"} for i in range(3)])
        for customer in customers:
            customer._shop_crm_enroll(self.company)
        self.assertEqual(customers.mapped("user_id"), first | second)
        self.assertEqual([c.user_id for c in customers], [first, second, first])

    @freeze_time("2026-04-01")
    def test_consent_withdrawal_stops_marketing_not_points(self):
        customer = self._customer("陈静", email="chen@example.com")
        consent = (
            self.env["shop.crm.consent"]
            .with_user(self.staff)
            .create({"partner_id": customer.id, "channel": "email", "note": "signed at the counter"})
        )
        self.assertTrue(consent.granted)
        self.assertEqual(consent.granted_date, date(2026, 4, 1))
        self.assertTrue(customer._shop_crm_has_consent("email"))
        self.assertFalse(customer._shop_crm_has_consent("sms"))
        with freeze_time("2026-04-10"):
            consent.with_user(self.staff).action_withdraw()
        self.assertFalse(consent.granted)
        self.assertEqual(consent.withdrawn_date, date(2026, 4, 10))
        self.assertFalse(customer._shop_crm_has_consent("email"))
        self.assertIn("withdrawn", customer.message_ids[0].body)
        self._sale(customer, 80)
        self.assertEqual(customer.points_balance, 80, "without consent a customer still earns points")
        with self.assertRaises(AccessError):
            consent.with_user(self.outsider).action_grant()

    def test_lunar_occasion_across_chinese_new_year(self):
        customer = self._customer("周丽")
        Occasion = self.env["shop.crm.occasion"].with_user(self.staff)
        # mother's birthday 腊月二十 (lunar 12/20): before CNY it falls in the next solar year
        mother = Occasion.create(
            {
                "partner_id": customer.id,
                "name": "Mother's birthday",
                "calendar_type": "lunar",
                "lunar_month": 12,
                "lunar_day": 20,
                "remind_days": 10,
            }
        )
        self.assertEqual(mother._next_occurrence(date(2026, 12, 1)), date(2027, 1, 27))
        self.assertEqual(chinese_calendar.solar_to_lunar(date(2027, 1, 27)).label_zh(), "农历腊月二十")
        self.assertEqual(mother._next_occurrence(date(2027, 1, 28)), date(2028, 1, 16))
        spring = Occasion.create(
            {
                "partner_id": customer.id,
                "name": "Shop anniversary",
                "calendar_type": "lunar",
                "lunar_month": 1,
                "lunar_day": 1,
            }
        )
        self.assertEqual(spring._next_occurrence(date(2026, 2, 17)), date(2026, 2, 17))  # 春节 2026
        self.assertEqual(spring._next_occurrence(date(2026, 2, 18)), date(2027, 2, 6))  # 春节 2027
        self.assertEqual(spring.with_context(shop_crm_as_of="2026-02-18").next_date, date(2027, 2, 6))
        # once, lunar: 农历2026年八月十五 = 2026-09-25
        once = Occasion.create(
            {
                "partner_id": customer.id,
                "name": "Wedding",
                "calendar_type": "lunar",
                "recurrence": "once",
                "lunar_year": 2026,
                "lunar_month": 8,
                "lunar_day": 15,
            }
        )
        self.assertEqual(once._next_occurrence(date(2026, 1, 1)), date(2026, 9, 25))
        self.assertFalse(once._next_occurrence(date(2026, 9, 26)))
        # the form fills the lunar day from a solar date
        with Form(self.env["shop.crm.occasion"].with_user(self.staff)) as form:
            form.partner_id = customer
            form.name = "Grandmother"
            form.calendar_type = "lunar"
            form.date = date(2026, 9, 25)
            self.assertEqual((form.lunar_month, form.lunar_day), (8, 15))
        with self.assertRaises(ValidationError):
            Occasion.create(
                {
                    "partner_id": customer.id,
                    "name": "Bad",
                    "calendar_type": "lunar",
                    "lunar_month": 13,
                    "lunar_day": 1,
                }
            )
        with self.assertRaises(ValidationError):
            Occasion.create(
                {
                    "partner_id": customer.id,
                    "name": "Bad leap",
                    "calendar_type": "lunar",
                    "recurrence": "once",
                    "lunar_year": 2026,
                    "lunar_month": 4,
                    "lunar_day": 1,
                    "lunar_leap": True,
                }
            )
        with self.assertRaises(ValidationError):
            Occasion.create({"partner_id": customer.id, "name": "No date", "calendar_type": "solar"})

    def test_reassign_wizard(self):
        new_staff = self.env["res.users"].create(
            {
                "name": "Staff Three",
                "login": "crm_staff_three",
                "groups_id": [Command.link(self.env.ref("shop_crm.group_shop_crm_user").id)],
            }
        )
        customers = self._customer("A") | self._customer("B") | self._customer("C", user_id=new_staff.id)
        wizard = (
            self.env["shop.crm.reassign"]
            .with_user(self.manager)
            .create(
                {
                    "mode": "staff",
                    "from_user_id": self.staff.id,
                    "to_user_id": new_staff.id,
                    "reason": "Li moved shop",
                }
            )
        )
        wizard.action_apply()
        self.assertEqual(customers.mapped("user_id"), new_staff)
        self.assertIn("Li moved shop", customers[0].message_ids[0].body)
        self.assertIn("Staff Xiao Li", customers[0].message_ids[0].body)
        back = (
            self.env["shop.crm.reassign"]
            .with_user(self.manager)
            .create(
                {
                    "partner_ids": [Command.set(customers[:1].ids)],
                    "to_user_id": self.staff.id,
                    "reason": "asked",
                }
            )
        )
        back.action_apply()
        self.assertEqual(customers.mapped("user_id"), self.staff | new_staff)
        self.assertEqual(customers[0].user_id, self.staff)
        with self.assertRaises(AccessError):
            self.env["shop.crm.reassign"].with_user(self.staff).create(
                {"partner_ids": [Command.set(customers.ids)], "to_user_id": self.staff.id, "reason": "x"}
            )
        empty = (
            self.env["shop.crm.reassign"]
            .with_user(self.manager)
            .create(
                {
                    "mode": "staff",
                    "from_user_id": self.outsider.id,
                    "to_user_id": self.staff.id,
                    "reason": "x",
                }
            )
        )
        with self.assertRaises(UserError):
            empty.action_apply()

    def test_my_customers_action(self):
        mine = self._customer("Mine")
        theirs = self._customer("Theirs", user_id=self.manager.id)
        action = (
            self.env["ir.actions.act_window"]
            .with_user(self.staff)
            ._for_xml_id("shop_crm.res_partner_action_my_customers")
        )
        domain = eval(action["domain"], {"uid": self.staff.id})
        found = self.env["res.partner"].with_user(self.staff).search(domain)
        self.assertIn(mine, found)
        self.assertNotIn(theirs, found)


@tagged("post_install", "-at_install")
class TestTiers(MembersCase):
    def test_tier_without_rule_rejected(self):
        with self.assertRaises(ValidationError) as caught:
            self.env["shop.crm.tier"].with_user(self.manager).create(
                {"name": "Empty", "use_spend": False, "use_points": False}
            )
        self.assertIn("no qualifying rule", str(caught.exception))
        with self.assertRaises(ValidationError):
            self.silver.with_user(self.manager).points_multiplier = 0.5
        with self.assertRaises(ValidationError):
            self.silver.with_user(self.manager).min_spend = -1
        with self.assertRaises(AccessError):
            self.env["shop.crm.tier"].with_user(self.staff).create({"name": "Staff tier", "min_spend": 1})
        self.assertEqual(self.env["shop.crm.tier"].with_user(self.staff).search([]), self.silver | self.gold)
        with self.assertRaises(AccessError):
            self.env["shop.crm.tier"].with_user(self.outsider).search([])

    def test_upgrade_on_order_then_downgrade_after_grace(self):
        with freeze_time("2026-01-10 10:00"):
            customer = self._customer("张伟")
            order = self._sale(customer, 1200)
            self.assertEqual(customer.tier_id, self.silver, "upgraded on the paid order")
            change = customer.tier_history_ids
            self.assertEqual(
                (change.from_tier_id, change.to_tier_id, change.reason),
                (self.env["shop.crm.tier"], self.silver, "upgrade"),
            )
            self.assertEqual(change.order_ref, order)
            self.assertIn("Silver", customer.message_ids[0].body)
        with freeze_time("2027-01-09"):
            self.env["shop.crm.tier"]._cron_evaluate()
            self.assertEqual(customer.tier_id, self.silver, "the order still counts on its anniversary eve")
            self.assertFalse(customer.tier_below_since)
        with freeze_time("2027-01-10"):
            self.env["shop.crm.tier"]._cron_evaluate()
            self.assertEqual(customer.tier_id, self.silver, "grace period starts")
            self.assertEqual(customer.tier_below_since, date(2027, 1, 10))
        with freeze_time("2027-02-08"):
            self.env["shop.crm.tier"]._cron_evaluate()
            self.assertEqual(customer.tier_id, self.silver, "day 29 of 30")
        with freeze_time("2027-02-09"):
            self.env["shop.crm.tier"]._cron_evaluate()
            self.assertFalse(customer.tier_id, "downgraded after 30 days")
            last = self.env["shop.crm.tier.history"].search([("partner_id", "=", customer.id)], limit=1)
            self.assertEqual((last.reason, last.date), ("downgrade", date(2027, 2, 9)))
            history_count = len(customer.tier_history_ids)
            self.env["shop.crm.tier"]._cron_evaluate()
            self.assertEqual(len(customer.tier_history_ids), history_count, "a second run changes nothing")

    @freeze_time("2026-05-01")
    def test_tier_changes_are_chatter_notes_logged_through_the_chatter_api(self):
        """The nightly evaluation logs each change as a real chatter note (author, note subtype, a message
        id of Odoo's form), one per customer, and a second run logs nothing again."""
        customers = self._customer("钱多多") | self._customer("孙小美")
        customers.action_shop_crm_enroll()
        for customer in customers:
            self._sale(customer, 1500)
        notes = self.env["mail.message"].search(
            [("model", "=", "res.partner"), ("res_id", "in", customers.ids), ("body", "ilike", "Member tier")]
        )
        self.assertEqual(len(notes), 2, "one note per customer")
        note_subtype = self.env.ref("mail.mt_note")
        for note in notes:
            self.assertEqual(note.subtype_id, note_subtype)
            self.assertTrue(note.is_internal)
            self.assertEqual(note.message_type, "notification")
            self.assertRegex(note.message_id, r"^<[^@]+@[^>]+>$")
            self.assertIn("Silver", note.body)
            self.assertEqual(note.author_id, self.env.user.partner_id)
        self.assertEqual(len(set(notes.mapped("message_id"))), 2)
        self.assertIn("&lt;b&gt;", self._log_tier_change_with_markup(customers[0]), "text is escaped")
        messages = [("model", "=", "res.partner"), ("res_id", "in", customers.ids)]
        count = self.env["mail.message"].search_count(messages)
        self.env["shop.crm.tier"]._cron_evaluate()
        self.assertEqual(self.env["mail.message"].search_count(messages), count, "nothing logged twice")

    def _log_tier_change_with_markup(self, customer):
        self.silver.with_user(self.manager).name = "<b>Silver</b>"
        self.env["shop.crm.tier"]._record_changes(
            self.company, [(customer.id, self.silver.id, self.gold.id, "manual")], date(2026, 5, 1)
        )
        return customer.message_ids[0].body

    @freeze_time("2026-05-01")
    def test_requalifying_during_grace_and_gold_pricelist(self):
        customer = self._customer("李娜")
        self._sale(customer, 6000)
        self.assertEqual(customer.tier_id, self.gold)
        self.assertEqual(customer.property_product_pricelist, self.pricelist, "member prices")
        customer.sudo().tier_below_since = date(2026, 4, 20)
        self.env["shop.crm.tier"]._evaluate(self.company)
        self.assertFalse(customer.tier_below_since, "qualifying again ends the grace period")

    @freeze_time("2026-05-01")
    def test_manual_tier_and_lock(self):
        customer = self._customer("赵敏")
        customer.action_shop_crm_enroll()
        with self.assertRaises(AccessError):
            customer.with_user(self.staff).write({"tier_id": self.gold.id})
        with self.assertRaises(AccessError):
            customer.with_user(self.staff).write({"tier_locked": True})
        customer.with_user(self.manager).write({"tier_id": self.gold.id, "tier_locked": True})
        self.assertEqual(customer.tier_history_ids.reason, "manual")
        self.assertEqual(customer.tier_history_ids.user_id, self.manager)
        self.env["shop.crm.tier"]._evaluate(self.company)
        self.assertEqual(customer.tier_id, self.gold, "a locked tier stays")
        customer.with_user(self.manager).tier_locked = False
        self.company.shop_crm_tier_grace_days = 0
        self.env["shop.crm.tier"]._evaluate(self.company)
        self.assertFalse(customer.tier_id, "unlocked, no spend, no grace: downgraded")

    def test_sql_evaluation_matches_reference(self):
        """The set-based evaluation gives every member the tier lib/membership.py computes."""
        rng = random.Random(11)
        self.env["shop.crm.tier"].with_user(self.manager).create(
            {
                "name": "Points star",
                "sequence": 25,
                "use_spend": False,
                "use_points": True,
                "min_points": 3000,
                "period_months": 6,
            }
        )
        customers = self.env["res.partner"]
        with freeze_time("2026-01-05"):
            for i in range(12):
                customers |= self._customer(f"Random {i}")
                customers[-1].action_shop_crm_enroll()
        days = [date(2026, 1, 5) + timedelta(days=d) for d in range(0, 400, 9)]
        for day in days:
            with freeze_time(day):
                for customer in customers:
                    if rng.random() < 0.15:
                        self._sale(customer, rng.choice([100, 300, 800, 2000]))
        as_of = date(2027, 2, 1)
        tiers = self.env["shop.crm.tier"].search([("company_id", "=", self.company.id)])
        rules = [tier._rule() for tier in tiers]
        expected = {}
        for customer in customers:
            totals = {}
            for tier in tiers:
                start = membership.months_before(as_of, tier.period_months)
                orders = self.env["sale.order"].search(
                    [("partner_id", "=", customer.id), ("state", "=", "sale")]
                )
                spend = sum(o.amount_total for o in orders if start < o.date_order.date() <= as_of)
                points = sum(
                    line.issued
                    for line in self._lines(customer)
                    if start < line.shop_crm_date <= as_of and line.shop_crm_kind in ("earn", "bonus")
                )
                totals[tier.id] = (spend, points)
            best = membership.best_tier(rules, totals)
            expected[customer.id] = best.id if best else False
        self.company.shop_crm_tier_grace_days = 0
        customers.sudo().write({"tier_below_since": False})
        with freeze_time(as_of):
            self.env["shop.crm.tier"]._evaluate(self.company, as_of=as_of)
        self.assertEqual({c.id: c.tier_id.id for c in customers}, expected)
        self.assertGreater(len(set(expected.values())), 1, "the random shop spreads over several tiers")


@tagged("post_install", "-at_install")
class TestPointsLedger(MembersCase):
    @freeze_time("2026-06-01")
    def test_sale_award_idempotent_with_tier_bonus_and_cancel(self):
        customer = self._customer("黄磊")
        first = self._sale(customer, 1200)
        self.assertEqual(customer.points_balance, 1200)
        self.assertEqual(customer.tier_id, self.silver)
        second = self._sale(customer, 100)
        bonus = self._lines(customer, "bonus")
        self.assertEqual(bonus.issued, 50, "×1.5 for Silver: the bonus is its own line")
        self.assertIn("Silver", bonus.description)
        self.assertEqual(customer.points_balance, 1350)
        # replayed confirmations pay nothing
        self.Points._award_orders(first | second)
        self.Points._award_orders(second)
        self.assertEqual(customer.points_balance, 1350)
        self.assertEqual(len(self._lines(customer)), 3)
        # cancelling takes the points back; confirming again earns again, once
        second._action_cancel()
        self.assertEqual(customer.points_balance, 1200)
        second.action_draft()
        second.action_confirm()
        self.Points._award_orders(second)
        self.assertEqual(customer.points_balance, 1350)
        self.assertLedgerBalanced(customer)

    @freeze_time("2026-06-01")
    def test_history_is_append_only(self):
        customer = self._customer("孙丽")
        self._sale(customer, 50)
        line = self._lines(customer)
        with self.assertRaises(UserError):
            line.sudo().write({"issued": 5000})
        with self.assertRaises(UserError):
            line.sudo().unlink()
        with self.assertRaises(AccessError):
            line.with_user(self.staff).write({"description": "x"})
        self.assertEqual(
            line.with_user(self.staff).read(["issued"])[0]["issued"], 50, "staff read the ledger"
        )
        with self.assertRaises(UserError):
            customer.member_card_id.sudo().points = 10**6

    @freeze_time("2026-06-01")
    def test_manual_adjustment(self):
        customer = self._customer("吴昊")
        self._sale(customer, 30)
        Adjust = self.env["shop.crm.points.adjust"]
        with self.assertRaises(AccessError):
            Adjust.with_user(self.staff).create({"partner_id": customer.id, "amount": 5, "reason": "x"})
        for amount in (-5, 0):
            wizard = Adjust.with_user(self.manager).create(
                {"partner_id": customer.id, "amount": amount, "reason": "x"}
            )
            with self.assertRaises(UserError) as caught:
                wizard.action_apply()
            self.assertIn("positive", str(caught.exception))
        wizard = Adjust.with_user(self.manager).create(
            {"partner_id": customer.id, "operation": "deduct", "amount": 31, "reason": "typo"}
        )
        with self.assertRaises(UserError) as caught:
            wizard.action_apply()
        self.assertIn("below zero", str(caught.exception))
        self.assertEqual(customer.points_balance, 30, "nothing lost")
        Adjust.with_user(self.manager).create(
            {"partner_id": customer.id, "amount": 20, "reason": "late delivery"}
        ).action_apply()
        Adjust.with_user(self.manager).create(
            {"partner_id": customer.id, "operation": "deduct", "amount": 50, "reason": "gift exchanged"}
        ).action_apply()
        adjust = self._lines(customer, "adjust")
        self.assertEqual(len(adjust), 2)
        self.assertIn("late delivery", adjust[-1].description)
        self.assertEqual(customer.points_balance, 0)
        self.assertLedgerBalanced(customer)

    def test_fifo_expiry_across_month_ends(self):
        customer = self._customer("钱多多", email="qian@example.com")
        customer.action_shop_crm_enroll()
        adjust = self.env["shop.crm.points.adjust"].with_user(self.manager)
        for day, operation, amount in (
            ("2025-01-31", "add", 100),
            ("2025-02-28", "add", 50),
            ("2025-03-10", "deduct", 30),
        ):
            with freeze_time(day):
                adjust.create(
                    {"partner_id": customer.id, "operation": operation, "amount": amount, "reason": "test"}
                ).action_apply()
        self.assertEqual(self.Points._expire_points(self.company, date(2026, 1, 30)), 0)
        self.assertEqual(self.Points._expire_points(self.company, date(2026, 1, 31)), 1)
        expired = self._lines(customer, "expire")
        self.assertEqual((expired.used, expired.shop_crm_date), (70, date(2026, 1, 31)))
        self.assertEqual(self.Points._expire_points(self.company, date(2026, 1, 31)), 0, "idempotent")
        self.assertEqual(self.Points._expire_points(self.company, date(2026, 2, 27)), 0)
        self.Points._expire_points(self.company, date(2026, 2, 28))
        self.assertEqual(customer.points_balance, 0)
        ledger = self.Points._ledger_lines(customer.member_card_id)
        self.assertEqual(membership.expiring_points(ledger, 12, date(2026, 3, 1)), 0)
        self.assertLedgerBalanced(customer)

    def test_expiry_notice_only_with_email_consent(self):
        told = self._customer("Told", email="told@example.com")
        silent = self._customer("Silent", email="silent@example.com")
        self.env["shop.crm.consent"].create({"partner_id": told.id, "channel": "email"})
        with freeze_time("2025-05-10"):
            self._sale(told, 40)
            self._sale(silent, 40)
        notified = self.Points._notify_expiring(self.company, date(2026, 4, 20))
        self.assertEqual(notified, told.member_card_id)
        self.assertEqual(notified.shop_crm_expiring_points, 40)
        mails = self.env["mail.mail"].search(
            [("model", "=", "loyalty.card"), ("res_id", "in", (told | silent).member_card_id.ids)]
        )
        self.assertEqual(mails.mapped("res_id"), told.member_card_id.ids)
        self.assertFalse(
            self.Points._notify_expiring(self.company, date(2026, 4, 21)), "once per notice period"
        )

    def test_referral_reward_once(self):
        with freeze_time("2026-06-01"):
            referrer = self._customer("老客户")
            friend = self._customer("新朋友", referred_by_id=referrer.id)
            self.assertEqual(referrer.referral_count, 1)
            order = self._sale(friend, 10)
            self.assertEqual(referrer.points_balance, 100)
            self._sale(friend, 10)
            self.Points._award_orders(order)
            self.assertEqual(referrer.points_balance, 100, "rewarded once")
            self.assertEqual(len(self._lines(referrer, "referral")), 1)
        with self.assertRaises(ValidationError):
            referrer.referred_by_id = referrer
        with self.assertRaises(ValidationError):
            referrer.referred_by_id = friend

    def test_random_ledger_stays_balanced(self):
        """A long random run of earns (POS and sales), redemptions at the POS, POS refunds, sale
        cancellations, adjustments, expiries and replays of syncs and confirmations: the stored balance
        always equals the sum of the history and never goes below zero."""
        rng = random.Random(5)
        customers = [self._customer(f"Ledger {i}") for i in range(4)]
        session = self._pos_session()
        orders, pos_orders, payloads = [], [], []
        day = datetime(2025, 1, 1, 2)
        for step in range(90):
            day += timedelta(days=rng.randint(1, 15))
            with freeze_time(day):
                customer = rng.choice(customers)
                action = rng.random()
                if action < 0.2:
                    orders.append(self._sale(customer, rng.choice([20, 55.5, 300, 1200])))
                elif action < 0.4:
                    balance = customer.points_balance
                    redeem = 100 if balance >= 100 and rng.random() < 0.5 else 0
                    qty = float(rng.choice([30, 80, 450]))
                    payload = self._pos_payload(session, customer, qty, day, step, redeem=redeem)
                    self.env["pos.order"].sync_from_ui([payload])
                    pos_orders.append(session.order_ids.filtered(lambda o, u=payload["uuid"]: o.uuid == u))
                    payloads.append(payload)
                elif action < 0.48 and pos_orders:
                    original = rng.choice(pos_orders)
                    if original.amount_total > 0:
                        qty = -float(rng.randint(1, int(original.lines[:1].qty)))
                        payload = self._pos_payload(
                            session, original.partner_id, qty, day, step, refund_of=original
                        )
                        self.env["pos.order"].sync_from_ui([payload])
                elif action < 0.55 and payloads:
                    self.env["pos.order"].sync_from_ui([dict(rng.choice(payloads))])  # replayed sync
                elif action < 0.62 and orders:
                    order = rng.choice(orders)
                    if order.state == "sale":
                        order._action_cancel()
                elif action < 0.7 and (orders or pos_orders):
                    self.Points._award_orders(rng.choice(orders + pos_orders))  # replayed confirmation
                elif action < 0.82 and customer.member_card_id:
                    balance = customer.points_balance
                    operation = "deduct" if balance > 10 and rng.random() < 0.6 else "add"
                    amount = round(rng.uniform(1, balance if operation == "deduct" else 200), 2)
                    self.env["shop.crm.points.adjust"].with_user(self.manager).create(
                        {"partner_id": customer.id, "operation": operation, "amount": amount, "reason": "r"}
                    ).action_apply()
                else:
                    self.Points._expire_points(self.company)
                for each in customers:
                    if each.member_card_id:
                        self.assertLedgerBalanced(each)
        kinds = set(
            self.env["loyalty.history"]
            .search([("card_id.program_id", "=", self.program.id)])
            .mapped("shop_crm_kind")
        )
        self.assertTrue({"earn", "bonus", "redeem", "refund", "cancel", "adjust", "expire"} <= kinds, kinds)


@tagged("post_install", "-at_install")
class TestPosPoints(MembersCase):
    def test_replayed_pos_sync_and_refund(self):
        customer = self._customer("POS 刘")
        session = self._pos_session()
        now = datetime.combine(date.today(), time(4))

        def payload(qty, index, **options):
            return self._pos_payload(session, customer, qty, now + timedelta(minutes=index), index, **options)

        sale = payload(300.0, 0)
        self.env["pos.order"].sync_from_ui([sale])
        order = session.order_ids
        self.assertEqual(order.state, "paid")
        self.assertEqual(customer.points_balance, 300)
        card = customer.member_card_id
        # the till syncs again after a lost connection, and confirms its coupon points again
        self.env["pos.order"].sync_from_ui([dict(sale)])
        self.assertEqual(len(session.order_ids), 1)
        coupon_data = {str(card.id): {"points": 300, "won": 300, "spent": 0, "program_id": self.program.id}}
        for _replay in range(2):
            result = order.confirm_coupon_programs(coupon_data)
            order.add_loyalty_history_lines(
                [{"card_id": card.id, "won": 300, "spent": 0}], result["coupon_updates"]
            )
        self.assertEqual(customer.points_balance, 300, "never paid twice")
        self.assertEqual(len(self._lines(customer)), 1)
        update = [u for u in result["coupon_updates"] if u["id"] == card.id]
        self.assertEqual(update[0]["points"], 300, "the till gets the real balance")
        # a redemption on the next order: 200 points for a reward line
        redeem = payload(50.0, 1, redeem=200)  # 50 of goods, a -10 reward line, paid 40
        self.assertEqual(redeem["amount_paid"], 40.0)
        self.env["pos.order"].sync_from_ui([redeem, redeem])
        self.assertEqual(customer.points_balance, 300 + 50 - 200)
        # refund half of the first order: half of its points come back out
        refund = payload(-150.0, 2, refund_of=order)
        self.env["pos.order"].sync_from_ui([refund])
        refund_order = session.order_ids.filtered(lambda o: o.amount_total < 0)
        self.assertEqual(refund_order.state, "paid")
        self.assertEqual(self._lines(customer, "refund").used, 150)
        self.assertEqual(customer.points_balance, 0)
        self.Points._award_orders(refund_order)
        self.assertEqual(customer.points_balance, 0, "a refund replay takes nothing more")
        self.assertLedgerBalanced(customer)
