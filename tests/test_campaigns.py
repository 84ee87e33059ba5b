"""Segments and campaigns on a hand-built Shanghai flower shop, with frozen time.

The campaign starts on 10 March 2026 at 10:00 in Shanghai (02:00 UTC). The results window of 7 days is
10-16 March (shop days): a sale at 23:30 local on 16 March counts, one at 00:30 local on 17 March (still
16 March in UTC) does not, nor one on 9 March."""

import math
from datetime import date, datetime, timedelta
from unittest.mock import patch

from freezegun import freeze_time

from odoo import Command
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import tagged

from .common import ShopCrmCase, confirmed_sale

START = datetime(2026, 3, 10, 2, 0)  # 10:00 in Shanghai
SHANGHAI = timedelta(hours=8)


def local(year, month, day, hour, minute=0):
    """The UTC datetime of a Shanghai local time."""
    return datetime(year, month, day, hour, minute) - SHANGHAI


@tagged("post_install", "-at_install")
class TestCampaigns(ShopCrmCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company = cls.env.company
        cls.company.write(
            {
                "shop_crm_tz": "Asia/Shanghai",
                "shop_crm_campaign_cap_messages": 2,
                "shop_crm_campaign_cap_days": 30,
                "shop_crm_quiet_start": 21.0,
                "shop_crm_quiet_end": 9.0,
            }
        )
        cls.flowers = cls.env["product.category"].create({"name": "Flowers"})
        cls.roses = cls.env["product.category"].create({"name": "Roses", "parent_id": cls.flowers.id})
        cls.rose = cls.env["product.product"].create(
            {
                "name": "Red rose",
                "list_price": 10.0,
                "type": "consu",
                "categ_id": cls.roses.id,
                "taxes_id": [],
            }
        )
        cls.vase = cls.env["product.product"].create(
            {"name": "Vase", "list_price": 50.0, "type": "consu", "taxes_id": []}
        )
        cls.tag = cls.env["res.partner.category"].create({"name": "Campaign audience"})
        Partner = cls.env["res.partner"]
        cls.customers = Partner.create(
            [
                {
                    "name": f"Customer {index:02d}",
                    "mobile": f"+86 138 0013 80{index:02d}",
                    "email": f"c{index}@example.com",
                    "category_id": [Command.link(cls.tag.id)],
                }
                for index in range(20)
            ]
        )
        Consent = cls.env["shop.crm.consent"]
        Consent.create([{"partner_id": partner.id, "channel": "sms"} for partner in cls.customers[:15]])
        Consent.create([{"partner_id": partner.id, "channel": "email"} for partner in cls.customers[10:]])
        cls.customers[3].do_not_contact = True
        cls.customers[4].mobile = False  # consents to SMS, but no number
        cls.segment = cls.env["shop.crm.segment"].create(
            {"name": "Audience", "domain": repr([("category_id", "in", [cls.tag.id])])}
        )
        cls.program = cls.env["loyalty.program"].create(
            {
                "name": "Campaign 20 % off",
                "program_type": "coupons",
                "applies_on": "current",
                "trigger": "with_code",
                "sale_ok": True,
                "pos_ok": True,
                "rule_ids": [Command.clear()],
                "reward_ids": [
                    Command.clear(),
                    Command.create(
                        {
                            "reward_type": "discount",
                            "discount": 20,
                            "discount_mode": "percent",
                            "discount_applicability": "order",
                            "required_points": 1,
                        }
                    ),
                ],
            }
        )

    def _order(self, partner, utc, product=None, qty=1):
        return confirmed_sale(self.env, partner, product or self.vase, utc, qty=qty)

    def _campaign(self, **vals):
        return (
            self.env["shop.crm.campaign"]
            .with_user(self.manager)
            .create({"name": "Spring", "segment_id": self.segment.id, "seed": 7, **vals})
        )

    def _by_partner(self, campaign):
        return {recipient.partner_id: recipient for recipient in campaign.recipient_ids}

    # ---- segments -------------------------------------------------------------------------------------

    def test_coupon_codes_never_clash(self):
        """Odoo's coupon codes have 32 random bits: at a chain's scale some clash. A code another card has,
        or one drawn twice, is drawn again."""
        existing = self.env["loyalty.card"].create({"program_id": self.program.id, "code": "044a-1111-4aaa"})
        draws = iter(
            ["044a-1111-4aaa", "044b-2222-4bbb", "044b-2222-4bbb", "044c-3333-4ccc", "044d-4444-4ddd"]
        )
        with patch.object(type(self.env["loyalty.card"]), "_generate_code", side_effect=lambda: next(draws)):
            codes = self._campaign()._unique_coupon_codes(3)
        self.assertEqual(codes, ["044c-3333-4ccc", "044b-2222-4bbb", "044d-4444-4ddd"])
        self.assertNotIn(existing.code, codes)

    def test_segment_domain_count_and_open(self):
        self.assertEqual(self.segment.customer_count, 20)
        action = self.segment.action_open_customers()
        self.assertEqual(self.env["res.partner"].search(action["domain"]), self.customers)
        self.segment.domain = repr([("category_id", "in", [self.tag.id]), ("do_not_contact", "=", True)])
        self.assertEqual(self.segment.customer_count, 1)
        with self.assertRaises(ValidationError):
            self.segment.domain = "[('no_such_field', '=', 1)]"
        with self.assertRaises(ValidationError):
            self.segment.domain = "not a domain ("

    def test_segment_bought_category_in_last_days(self):
        self._order(self.customers[0], local(2026, 3, 9, 23, 30), self.rose)  # Roses is under Flowers
        self._order(self.customers[1], local(2026, 2, 1, 12), self.rose)  # too long ago
        self._order(self.customers[2], local(2026, 3, 9, 12), self.vase)  # another category
        self.segment.write({"category_id": self.flowers.id, "category_days": 30})
        with freeze_time(local(2026, 3, 10, 0, 30)):  # still 9 March in UTC
            self.assertEqual(self.segment._partners(), self.customers[0])
            self.assertEqual(self.segment.customer_count, 1)
        with self.assertRaises(ValidationError):
            self.segment.category_days = 0

    def test_segment_last_years_festival_buyers(self):
        """Bought in the week up to last year's festival (shop days): 14 February 2025, a solar festival."""
        festival = self.env["shop.crm.festival"].create(
            {"name": "Valentine", "calendar_type": "solar", "month": 2, "day": 14}
        )
        self._order(self.customers[0], local(2025, 2, 14, 23, 30))  # the festival day, late evening
        self._order(self.customers[1], local(2025, 2, 7, 0, 30))  # 7 days before: the first day of the week
        self._order(self.customers[2], local(2025, 2, 6, 23, 30))  # 8 days before: too early
        self._order(self.customers[3], local(2025, 2, 15, 0, 30))  # the day after (14 February in UTC)
        self.segment.festival_id = festival
        with freeze_time(local(2026, 3, 10, 12)):
            self.assertEqual(self.segment._partners(), self.customers[:2])
            self.assertEqual(self.segment.customer_count, 2)

    def test_relative_month_fields(self):
        self.customers[0].birthday = date(1990, 4, 2)
        self.customers[1].birthday = date(1985, 3, 30)
        self.customers[2].birthday = date(1985, 1, 5)
        # 1 March 00:30 in Shanghai is still February in UTC: the shop's month counts
        with freeze_time(local(2026, 3, 1, 0, 30)):
            Partner = self.env["res.partner"]
            self.assertEqual(
                Partner.search([("id", "in", self.customers.ids), ("birthday_in_months", "=", 1)]),
                self.customers[0],
            )
            self.assertEqual(
                Partner.search([("id", "in", self.customers.ids), ("birthday_in_months", "=", 10)]),
                self.customers[2],
            )
            self.assertEqual(self.customers[1].birthday_in_months, 0)
        ready = self.env.ref("shop_crm.shop_crm_segment_birthday_next_month")
        self.assertIn(("birthday_in_months", "=", 1), ready._partner_domain())

    def test_shipped_segments_are_valid(self):
        for xmlid in (
            "important_retain",
            "churn_warning",
            "new_this_month",
            "gold_and_above",
            "birthday_next_month",
            "qixi_buyers",
        ):
            segment = self.env.ref(f"shop_crm.shop_crm_segment_{xmlid}")
            self.assertGreaterEqual(segment.customer_count, 0)
            segment._partner_ids()

    def test_segment_access(self):
        self.assertEqual(self.segment.with_user(self.staff).customer_count, 20, "staff read segments")
        with self.assertRaises(AccessError):
            self.env["shop.crm.segment"].with_user(self.staff).create({"name": "Mine", "domain": "[]"})
        with self.assertRaises(AccessError):
            self.segment.with_user(self.staff).write({"name": "Renamed"})
        self.env["shop.crm.segment"].with_user(self.manager).create({"name": "Managers'", "domain": "[]"})

    # ---- starting a campaign --------------------------------------------------------------------------

    @freeze_time(START)
    def test_start_freezes_audience_draws_control_and_applies_rules(self):
        campaign = self._campaign(
            control_share=25, channel="sms_email", offer="coupon", coupon_program_id=self.program.id
        )
        campaign.action_schedule()
        self.assertEqual(campaign.state, "running")
        self.assertEqual(campaign.start_day, date(2026, 3, 10))
        self.assertEqual(len(campaign.recipient_ids), 20)
        control = campaign.recipient_ids.filtered(lambda r: r.recipient_group == "control")
        self.assertEqual(len(control), 5, "25 % of 20")
        # later changes to the segment do not change the recipients
        self.customers[0].category_id = [Command.clear()]
        self.assertEqual(len(campaign.recipient_ids), 20)
        for recipient in control:
            self.assertFalse(recipient.coupon_id, "the control group gets nothing")
            self.assertEqual((recipient.sms_status, recipient.sms_reason), ("skipped", "control"))
            self.assertEqual((recipient.email_status, recipient.email_reason), ("skipped", "control"))
        by_partner = self._by_partner(campaign)
        treated = campaign.recipient_ids - control
        for partner, recipient in by_partner.items():
            if recipient.recipient_group == "control":
                continue
            index = int(partner.name.split()[-1])
            if index == 3:
                self.assertFalse(recipient.coupon_id, "do not contact: no coupon either")
                self.assertEqual(recipient.sms_reason, "do_not_contact")
                self.assertEqual(recipient.email_reason, "do_not_contact")
                continue
            self.assertTrue(recipient.coupon_id)
            self.assertEqual(recipient.coupon_id.partner_id, partner)
            self.assertEqual(recipient.coupon_expiry, date(2026, 4, 9))
            expected_sms = "sent" if index < 15 and index != 4 else "skipped"
            self.assertEqual(recipient.sms_status, expected_sms, partner.name)
            if index == 4:
                self.assertEqual(recipient.sms_reason, "no_address")
            elif index >= 15:
                self.assertEqual(recipient.sms_reason, "no_consent")
            self.assertEqual(recipient.email_status, "sent" if index >= 10 else "skipped", partner.name)
            if index < 10:
                self.assertEqual(recipient.email_reason, "no_consent")
        sms = self.env["sms.sms"].search([("partner_id", "in", self.customers.ids)])
        self.assertEqual(
            set(sms.partner_id.ids),
            {r.partner_id.id for r in treated if r.sms_status == "sent"},
            "one SMS per treated recipient with consent and a number",
        )
        code_holder = treated.filtered(lambda r: r.sms_status == "sent")[0]
        text = sms.filtered(lambda s: s.partner_id == code_holder.partner_id).body
        self.assertIn(code_holder.coupon_code, text)
        self.assertIn(code_holder.partner_id.name, text)
        self.assertIn("2026-04-09", text)
        mails = self.env["mail.mail"].search([("model", "=", "shop.crm.campaign.recipient")])
        self.assertEqual(
            set(mails.mapped("res_id")), set(treated.filtered(lambda r: r.email_status == "sent").ids)
        )
        self.assertTrue(
            any(
                "Started: 20 recipients, 5 in the control group" in message.body
                for message in campaign.message_ids
            )
        )

    def test_draw_is_reproducible(self):
        groups = []
        for _attempt in range(2):
            with freeze_time(START):
                campaign = self._campaign(control_share=30, channel="none", offer="points", gift_points=10)
                campaign.action_schedule()
            groups.append({r.partner_id.id for r in campaign.recipient_ids if r.recipient_group == "control"})
        self.assertEqual(groups[0], groups[1], "same audience and seed: same control group")
        self.assertEqual(len(groups[0]), 6)

    @freeze_time(START)
    def test_points_gift_through_the_ledger(self):
        campaign = self._campaign(control_share=0, channel="none", offer="points", gift_points=25)
        campaign.action_schedule()
        recipient = self._by_partner(campaign)[self.customers[0]]
        self.assertEqual(recipient.points_given, 25)
        self.assertEqual(self.customers[0].points_balance, 25)
        self.assertFalse(self._by_partner(campaign)[self.customers[3]].points_given, "do not contact")
        self.assertEqual(recipient.sms_status, "none", "offer only: no message planned")
        again = self.env["shop.crm.points"]._post(
            [
                {
                    "card_id": self.customers[0].member_card_id.id,
                    "kind": "gift",
                    "issued": 25,
                    "order_model": campaign._name,
                    "order_id": campaign.id,
                    "description": "replay",
                }
            ]
        )
        self.assertFalse(again, "a campaign's gift is posted once per card")

    def test_frequency_cap(self):
        for day in (1, 5):
            with freeze_time(START - timedelta(days=day)):
                self._campaign(name=f"Earlier {day}", control_share=0, channel="sms").action_schedule()
        with freeze_time(START):
            campaign = self._campaign(control_share=0, channel="sms")
            campaign.action_schedule()
        first = self._by_partner(campaign)[self.customers[0]]
        self.assertEqual((first.sms_status, first.sms_reason), ("skipped", "frequency_cap"))
        # 31 days later the earlier messages are outside the 30 days
        with freeze_time(START + timedelta(days=31)):
            later = self._campaign(name="Later", control_share=0, channel="sms")
            later.action_schedule()
        self.assertEqual(self._by_partner(later)[self.customers[0]].sms_status, "sent")

    def test_quiet_hours_delay_sms_not_email(self):
        with freeze_time(local(2026, 3, 10, 22, 0)):
            campaign = self._campaign(control_share=0, channel="sms_email")
            campaign.action_schedule()
        recipient = self._by_partner(campaign)[self.customers[12]]
        self.assertEqual((recipient.sms_status, recipient.sms_reason), ("pending", "quiet_hours"))
        self.assertEqual(recipient.email_status, "sent", "emails are not held back")
        self.assertFalse(self.env["sms.sms"].search([("partner_id", "=", self.customers[12].id)]))
        with freeze_time(local(2026, 3, 11, 8, 45)):
            self.env["shop.crm.campaign"]._cron_campaigns()
        self.assertEqual(recipient.sms_status, "pending", "still quiet at 08:45")
        with freeze_time(local(2026, 3, 11, 9, 15)):
            self.env["shop.crm.campaign"]._cron_campaigns()
        self.assertEqual((recipient.sms_status, recipient.sms_reason), ("sent", False))
        self.assertTrue(self.env["sms.sms"].search([("partner_id", "=", self.customers[12].id)]))

    def test_schedule_in_shop_timezone_and_states(self):
        campaign = self._campaign(
            control_share=10,
            channel="email",
            schedule="later",
            scheduled_day=date(2026, 3, 12),
            scheduled_time=10.5,
        )
        self.assertEqual(campaign.scheduled_at, datetime(2026, 3, 12, 2, 30), "10:30 in Shanghai")
        with freeze_time(START):
            campaign.action_schedule()
        self.assertEqual(campaign.state, "scheduled")
        with freeze_time(datetime(2026, 3, 12, 2, 15)):
            self.env["shop.crm.campaign"]._cron_campaigns()
        self.assertEqual(campaign.state, "scheduled", "not yet")
        with freeze_time(datetime(2026, 3, 12, 2, 45)):
            self.env["shop.crm.campaign"]._cron_campaigns()
            self.env["shop.crm.campaign"]._cron_campaigns()
        self.assertEqual(campaign.state, "running")
        self.assertEqual(len(campaign.recipient_ids), 20, "a second cron run starts nothing twice")
        with self.assertRaises(UserError):
            campaign.action_cancel()
        with self.assertRaises(UserError):
            campaign.with_user(self.manager).write({"control_share": 50})
        with self.assertRaises(UserError):
            campaign.unlink()
        with freeze_time(local(2026, 4, 11, 3, 0)):  # the 30-day window (12 March - 10 April) is over
            self.env["shop.crm.campaign"]._cron_campaigns()
        self.assertEqual(campaign.state, "done")

    def test_bad_settings(self):
        with self.assertRaises(ValidationError):
            self._campaign(control_share=100)
        with self.assertRaises(ValidationError):
            self._campaign(offer="coupon")
        with self.assertRaises(ValidationError):
            self._campaign(offer="points", gift_points=0)
        with self.assertRaises(ValidationError):
            self.company.shop_crm_quiet_start = 25
        with self.assertRaises(ValidationError):
            self.company.shop_crm_campaign_cap_days = 0
        campaign = self._campaign(channel="none", offer="none")
        with self.assertRaises(UserError):
            campaign.action_schedule()
        empty = self.env["shop.crm.segment"].create({"name": "Nobody", "domain": "[('id', '=', 0)]"})
        campaign = self._campaign(segment_id=empty.id, channel="email")
        with self.assertRaises(UserError):
            campaign.action_schedule()
        self.assertEqual(campaign.state, "draft")
        self.assertFalse(campaign.recipient_ids)

    def test_access(self):
        with self.assertRaises(AccessError):
            self.env["shop.crm.campaign"].with_user(self.staff).create(
                {"name": "Mine", "segment_id": self.segment.id}
            )
        campaign = self._campaign(control_share=0, channel="email")
        with self.assertRaises(AccessError):
            campaign.with_user(self.staff).action_schedule()
        self.assertEqual(campaign.state, "draft")
        with freeze_time(START):
            campaign.with_user(self.manager).action_schedule()
        self.assertEqual(
            campaign.with_user(self.staff).recipient_ids.mapped("recipient_group")[:1], ["treated"]
        )
        self.assertIn("treated", campaign.with_user(self.staff).results(), "staff read the results")
        with self.assertRaises(AccessError):
            campaign.recipient_ids[:1].with_user(self.staff).write({"recipient_group": "control"})
        with self.assertRaises(AccessError):
            campaign.with_user(self.outsider).read(["name"])

    # ---- coupons and results --------------------------------------------------------------------------

    def test_coupon_usable_once_and_redemption(self):
        with freeze_time(START):
            campaign = self._campaign(
                control_share=0, channel="none", offer="coupon", coupon_program_id=self.program.id
            )
            campaign.action_schedule()
        recipient = self._by_partner(campaign)[self.customers[0]]
        with freeze_time(START + timedelta(days=1)):
            order = self.env["sale.order"].create(
                {
                    "partner_id": self.customers[0].id,
                    "order_line": [
                        Command.create({"product_id": self.vase.id, "product_uom_qty": 1, "tax_id": []})
                    ],
                }
            )
            rewards = order._try_apply_code(recipient.coupon_code)
            self.assertNotIn("error", rewards)
            coupon, reward = next(iter(rewards.items()))
            order._apply_program_reward(reward[0], coupon)
            order.action_confirm()
            self.assertLess(order.amount_total, 50.0, "the coupon's discount applies")
            self.assertTrue(recipient.coupon_used)
            second = self.env["sale.order"].create(
                {
                    "partner_id": self.customers[0].id,
                    "order_line": [
                        Command.create({"product_id": self.vase.id, "product_uom_qty": 1, "tax_id": []})
                    ],
                }
            )
            self.assertEqual(
                second._try_apply_code(recipient.coupon_code).get("error"),
                "This coupon has already been used.",
            )
        results = campaign.results()
        self.assertEqual(results["treated"]["coupons_issued"], 19, "all treated but the do-not-contact one")
        self.assertEqual(results["treated"]["coupons_used"], 1)
        self.assertAlmostEqual(results["treated"]["redemption_rate"], 1 / 19)

    def test_results_on_a_hand_built_shop(self):
        with freeze_time(START):
            campaign = self._campaign(
                control_share=50, channel="none", offer="points", gift_points=5, results_days=7
            )
            campaign.action_schedule()
        groups = {r.partner_id: r.recipient_group for r in campaign.recipient_ids}
        treated = [p for p in self.customers if groups[p] == "treated"]
        control = [p for p in self.customers if groups[p] == "control"]
        self.assertEqual((len(treated), len(control)), (10, 10))
        # treated: 4 respond (one on the first day at 10:30, one at 23:30 on the last day), one twice
        self._order(treated[0], local(2026, 3, 10, 10, 30))  # 50
        self._order(treated[1], local(2026, 3, 16, 23, 30))  # 50, last day of the window
        self._order(treated[2], local(2026, 3, 12, 12), qty=2)  # 100
        self._order(treated[3], local(2026, 3, 13, 12))
        self._order(treated[3], local(2026, 3, 14, 12), self.rose)  # 50 + 10
        self._order(treated[4], local(2026, 3, 17, 0, 30))  # day after the window (UTC: 16 March)
        self._order(treated[5], local(2026, 3, 9, 23, 0))  # before the start day
        # control: 1 responder
        self._order(control[0], local(2026, 3, 15, 12), self.rose, qty=3)  # 30
        self._order(control[1], local(2026, 3, 20, 12))  # after the window
        with freeze_time(local(2026, 3, 20, 12)):
            results = campaign.results()
            campaign.invalidate_recordset()
            sentence = campaign.results_summary
            chart = campaign.results_chart
        self.assertEqual(
            set(results), {"treated", "control", "lift_pp", "lift_ci95_pp", "incremental_revenue"}
        )
        t, c = results["treated"], results["control"]
        self.assertEqual((t["size"], t["responders"]), (10, 4))
        self.assertEqual((c["size"], c["responders"]), (10, 1))
        self.assertAlmostEqual(t["response_rate"], 0.4)
        self.assertAlmostEqual(c["response_rate"], 0.1)
        self.assertAlmostEqual(results["lift_pp"], 30.0)
        self.assertAlmostEqual(
            results["lift_ci95_pp"], 100 * 1.96 * math.sqrt(0.4 * 0.6 / 10 + 0.1 * 0.9 / 10)
        )
        self.assertAlmostEqual(t["spend_per_customer"], (50 + 50 + 100 + 60) / 10)
        self.assertAlmostEqual(c["spend_per_customer"], 3.0)
        self.assertAlmostEqual(results["incremental_revenue"], (26.0 - 3.0) * 10)
        self.assertIsNone(t["redemption_rate"], "no coupons in this campaign")
        self.assertEqual(
            sentence,
            f"+30.0 points (±{results['lift_ci95_pp']:.1f}) more customers came back "
            "than without the campaign",
        )
        self.assertEqual(len(chart["labels"]), 7)
        treated_series = next(d for d in chart["datasets"] if d["group"] == "treated")
        control_series = next(d for d in chart["datasets"] if d["group"] == "control")
        self.assertEqual(treated_series["counts"], [1, 1, 2, 3, 3, 3, 4])
        self.assertEqual(control_series["counts"], [0, 0, 0, 0, 0, 1, 1])
        self.assertEqual(treated_series["rates"][-1], 40.0)

    def test_results_with_zero_control(self):
        with freeze_time(START):
            campaign = self._campaign(
                control_share=0, channel="none", offer="points", gift_points=5, results_days=30
            )
            campaign.action_schedule()
        self._order(self.customers[0], local(2026, 3, 11, 12))
        with freeze_time(local(2026, 3, 20, 12)):
            results = campaign.results()
            sentence = campaign.results_summary
        self.assertEqual((results["treated"]["size"], results["treated"]["responders"]), (20, 1))
        self.assertEqual(results["control"]["size"], 0)
        self.assertIsNone(results["control"]["response_rate"])
        self.assertIsNone(results["lift_pp"])
        self.assertIsNone(results["lift_ci95_pp"])
        self.assertIsNone(results["incremental_revenue"])
        self.assertAlmostEqual(results["treated"]["spend_per_customer"], 50 / 20)
        self.assertEqual(sentence, "No control group: the lift cannot be measured.")
