from datetime import date, timedelta

from odoo.addons.point_of_sale.tests.test_frontend import TestPointOfSaleHttpCommon
from odoo.tests import tagged


@tagged("post_install", "-at_install")
class TestPosCustomerCardTour(TestPointOfSaleHttpCommon):
    """The customer card, the once-per-order popup and sign-up in the real Point of Sale."""

    def setUp(self):
        super().setUp()
        self.company = self.main_pos_config.company_id
        self.program = self.company._shop_crm_member_program()
        self.whiteboard_pen.write({"lst_price": 10, "taxes_id": [(5, 0, 0)]})
        self.main_pos_config.write({"tax_regime_selection": False, "use_pricelist": False})

    def test_card_and_popup_in_chinese(self):
        """A member with a churn warning and a birthday this week: the till, in zh_CN, shows the card and
        the popup once; "Note it" records one in-store visit by the cashier."""
        self.env["res.lang"]._activate_lang("zh_CN")
        self.pos_user.lang = "zh_CN"
        today = self.company._shop_crm_today()
        Tier = self.env["shop.crm.tier"].sudo()
        silver = Tier.create(
            {"name": "Silver", "company_id": self.company.id, "sequence": 10, "min_spend": 10**6}
        )
        Tier.create(
            {
                "name": "Gold",
                "company_id": self.company.id,
                "sequence": 20,
                "use_spend": False,
                "use_points": True,
                "min_points": 5000,
            }
        )
        birthday = today + timedelta(days=3)
        customer = self.env["res.partner"].create(
            {
                "name": "朱涛",
                "birthday": date(1988, birthday.month, birthday.day),  # a leap year: any day exists
                "preference_notes": "白百合",
            }
        )
        customer._shop_crm_enroll(self.company)
        customer.sudo().tier_id = silver
        self.env["shop.crm.points"]._post(
            [
                {
                    "card_id": customer.member_card_id.id,
                    "kind": "gift",
                    "description": "Gift",
                    "issued": 40,
                    "date": today - timedelta(days=350),
                }
            ]
        )
        self.env["shop.crm.customer.value"].sudo().create(
            {
                "partner_id": customer.id,
                "company_id": self.company.id,
                "rfm_class": "B",
                "rfm_segment": "important_keep",
                "lifecycle_stage": "returning",
                "churn_warning": True,
                "churn_typical_gap": 12,
                "rfm_recency_days": 41,
            }
        )
        self.env["shop.crm.care.rule"].sudo().create(
            {"name": "生日礼", "company_id": self.company.id, "trigger": "birthday", "gift_points": 200}
        )
        # the member day of the customer's tier that applies today is on the card (another day's is not)
        MemberDay = self.env["shop.crm.member.day"].sudo()
        MemberDay.create(
            {
                "name": "银卡会员日",
                "company_id": self.company.id,
                "tier_ids": [(6, 0, silver.ids)],
                "weekday": str(today.weekday()),
                "points_multiplier": 2,
            }
        )
        MemberDay.create(
            {
                "name": "明日会员日",
                "company_id": self.company.id,
                "tier_ids": [(6, 0, silver.ids)],
                "weekday": str((today.weekday() + 1) % 7),
                "points_multiplier": 3,
            }
        )
        self.main_pos_config.with_user(self.pos_user).open_ui()
        self.start_pos_tour("shop_crm_pos_customer_card_tour")
        visit = self.env["shop.crm.visit"].sudo().search([("partner_id", "=", customer.id)])
        self.assertEqual(len(visit), 1, "noted once")
        self.assertEqual(
            (visit.channel, visit.user_id, visit.purpose), ("in_store", self.pos_user, "win_back")
        )
        self.assertIn("流失预警", visit.notes, "noted in the cashier's language")

    def test_sign_up_by_mobile(self):
        """A new member signs up at the till; a mobile another customer has is offered as that customer.
        The new member's first order earns points."""
        china = self.env.ref("base.cn")
        self.company.country_id = china
        existing = self.env["res.partner"].create(
            {"name": "Ma Existing", "mobile": "13800138000", "country_id": china.id}
        )
        self.assertEqual(existing.mobile_normalized, "+8613800138000")
        self.main_pos_config.with_user(self.pos_user).open_ui()
        self.start_pos_tour("shop_crm_pos_signup_tour")
        member = self.env["res.partner"].sudo().search([("name", "=", "Li Newmember")])
        self.assertEqual(len(member), 1)
        self.assertEqual(member.mobile_normalized, "+8613912345678")
        self.assertEqual(
            (member.birthday, member.gender, member.referred_by_id), (date(1995, 3, 8), "female", existing)
        )
        self.assertTrue(member.member_code)
        self.assertEqual(member.consent_ids.mapped("channel"), ["sms"])
        self.assertEqual(member.consent_ids.source, "till")
        self.assertEqual(
            self.env["res.partner"].search_count([("mobile_normalized", "=", "+8613800138000")]), 1
        )
        order = self.env["pos.order"].search([("partner_id", "=", member.id)])
        self.assertEqual(order.state, "paid")
        self.assertEqual(member.member_card_id.points, 30, "the first order earned its points")
