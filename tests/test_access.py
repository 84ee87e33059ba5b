"""Who sees what: the front desk, staff with "staff see only their own customers", managers, and users
of another company (each rule with the records it must hide), in the way of OCA helpdesk_mgmt's tests."""

from datetime import date

from lxml import etree

from odoo.exceptions import AccessError
from odoo.tests import new_test_user, tagged

from .common import ShopCrmCase

# What the front desk must not see: spend, RFM values, lifetime value, purchase history.
HIDDEN_FROM_FRONT_DESK = (
    "rfm_monetary",
    "rfm_frequency",
    "rfm_recency_days",
    "rfm_class",
    "rfm_segment",
    "lifecycle_stage",
    "churn_warning",
    "churn_reason",
    "clv_historical",
    "clv_predicted_12m",
    "probability_alive",
    "rfm_explanation",
    "points_history_ids",
    "tier_history_ids",
)


def _in_subview(node):
    """Whether a view's ``node`` is inside an x2many field's own list or form."""
    return any(parent.tag == "field" for parent in node.iterancestors())


@tagged("post_install", "-at_install")
class TestFrontDesk(ShopCrmCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.front_desk = new_test_user(
            cls.env,
            login="crm_front_desk",
            name="Front Desk Fang",
            groups="shop_crm.group_shop_crm_front_desk",
        )
        cls.customer = cls.env["res.partner"].create(
            {"name": "前台客户", "phone": "13800001111", "user_id": cls.staff.id}
        )
        cls.customer._shop_crm_enroll(cls.env.company)
        cls.env["shop.crm.customer.value"].create(
            {
                "partner_id": cls.customer.id,
                "company_id": cls.env.company.id,
                "rfm_class": "A",
                "rfm_monetary": 8800,
                "clv_historical": 12000,
                "lifecycle_stage": "returning",
            }
        )

    def test_group_ladder(self):
        front_desk = self.env.ref("shop_crm.group_shop_crm_front_desk")
        self.assertIn(front_desk, self.env.ref("shop_crm.group_shop_crm_user").implied_ids)
        self.assertTrue(self.staff.has_group("shop_crm.group_shop_crm_front_desk"))
        self.assertFalse(self.front_desk.has_group("shop_crm.group_shop_crm_user"))

    def test_front_desk_reads_contact_tier_and_points(self):
        partner = self.customer.with_user(self.front_desk)
        values = partner.read(["name", "phone", "member_code", "tier_id", "points_balance"])[0]
        self.assertEqual((values["name"], values["phone"]), ("前台客户", "13800001111"))
        self.assertTrue(values["member_code"])
        self.assertEqual(values["points_balance"], 0)
        # and serves the customer at the counter: consent, important dates, new customers
        self.env["shop.crm.consent"].with_user(self.front_desk).create(
            {"partner_id": self.customer.id, "channel": "sms"}
        )
        self.env["shop.crm.occasion"].with_user(self.front_desk).create(
            {"partner_id": self.customer.id, "name": "结婚纪念日", "date": date(2015, 10, 1)}
        )
        new = self.env["res.partner"].with_user(self.front_desk).create({"name": "新客户"})
        new.action_shop_crm_enroll()
        self.assertTrue(new.member_code)

    def test_front_desk_cannot_read_spend_value_or_purchase_history(self):
        partner = self.customer.with_user(self.front_desk)
        for fname in HIDDEN_FROM_FRONT_DESK:
            with self.assertRaises(AccessError, msg=fname):
                partner.read([fname])
        with self.assertRaises(AccessError):
            self.env["res.partner"].with_user(self.front_desk).search([("rfm_class", "=", "A")])
        with self.assertRaises(AccessError):
            self.env["res.partner"].with_user(self.front_desk).search([], order="rfm_monetary desc")
        with self.assertRaises(AccessError):
            self.env["res.partner"].with_user(self.front_desk).read_group([], ["rfm_class"], ["rfm_class"])
        for model in (
            "shop.crm.customer.value",
            "loyalty.history",
            "shop.crm.visit",
            "shop.crm.feedback",
            "shop.crm.tier.history",
            "shop.crm.segment.change",
            "pos.order",
            "sale.order",
        ):
            with self.assertRaises(AccessError, msg=model):
                self.env[model].with_user(self.front_desk).search([])
        # staff do read them
        self.assertEqual(self.customer.with_user(self.staff).rfm_class, "A")

    def test_front_desk_views_render_without_analytics(self):
        """The customer views of the Customers action, as the front desk gets them, and a read of every
        field they show (what the web client does)."""
        action = self.env.ref("shop_crm.res_partner_action_shop_customers")
        views = [(view.view_id.id, view.view_mode) for view in action.view_ids] + [(False, "search")]
        Partner = self.env["res.partner"].with_user(self.front_desk)
        result = Partner.get_views(views)
        for view_type, view in result["views"].items():
            for fname in HIDDEN_FROM_FRONT_DESK:
                self.assertNotIn(f'name="{fname}"', view["arch"], f"{fname} in the {view_type} view")
        # the fields the web client reads: the top-level fields of the form and list views
        readable = set()
        for view_type in ("form", "list", "kanban"):
            arch = etree.fromstring(result["views"][view_type]["arch"])
            readable |= {node.get("name") for node in arch.iter("field") if not _in_subview(node)}
        readable = sorted(readable)
        for fname in ("points_balance", "tier_id", "consent_ids", "occasion_ids", "phone", "wechat_id"):
            self.assertIn(fname, readable)
        values = self.customer.with_user(self.front_desk).read(readable)
        self.assertEqual(values[0]["name"], "前台客户")
        # the same views for staff still show the analytics
        staff_views = self.env["res.partner"].with_user(self.staff).get_views(views)
        self.assertIn('name="rfm_class"', staff_views["views"]["list"]["arch"])

    def test_front_desk_menus(self):
        menus = self.env["ir.ui.menu"].with_user(self.front_desk)._visible_menu_ids()
        self.assertIn(self.env.ref("shop_crm.shop_crm_menu_root").id, menus)
        self.assertIn(self.env.ref("shop_crm.res_partner_menu_shop_customers").id, menus)
        self.assertIn(self.env.ref("shop_crm.shop_crm_occasion_menu").id, menus)
        for xmlid in (
            "res_partner_menu_churn_warnings",
            "shop_crm_visit_menu",
            "shop_crm_feedback_menu",
            "loyalty_history_menu_shop_crm",
            "shop_crm_menu_reporting",
            "shop_crm_privacy_request_menu",
        ):
            self.assertNotIn(self.env.ref(f"shop_crm.{xmlid}").id, menus, xmlid)


@tagged("post_install", "-at_install")
class TestOwnCustomersOnly(ShopCrmCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.other_staff = new_test_user(
            cls.env, login="crm_staff2", name="Staff Xiao Wang", groups="shop_crm.group_shop_crm_user"
        )
        company = cls.env.company
        Partner = cls.env["res.partner"]
        cls.mine = Partner.create({"name": "我的客户", "user_id": cls.staff.id})
        cls.theirs = Partner.create({"name": "别人的客户", "user_id": cls.other_staff.id})
        customers = cls.mine | cls.theirs
        customers._shop_crm_enroll(company)
        cls.env["shop.crm.points"]._post(
            [
                {"card_id": customer.member_card_id.id, "kind": "adjust", "issued": 50, "description": "gift"}
                for customer in customers
            ]
        )
        cls.env["shop.crm.customer.value"].create(
            [{"partner_id": c.id, "company_id": company.id, "rfm_class": "A"} for c in customers]
        )
        cls.visits = cls.env["shop.crm.visit"].create(
            [{"partner_id": c.id, "user_id": c.user_id.id, "notes": "n"} for c in customers]
        )
        cls.tickets = cls.env["shop.crm.feedback"].create(
            [{"partner_id": c.id, "user_id": c.user_id.id, "description": "d"} for c in customers]
        )
        cls.anonymous_ticket = cls.env["shop.crm.feedback"].create({"description": "walk-in"})

    def _seen(self, user):
        return {
            "visits": self.env["shop.crm.visit"]
            .with_user(user)
            .search([("id", "in", self.visits.ids)])
            .partner_id,
            "tickets": self.env["shop.crm.feedback"]
            .with_user(user)
            .search([("id", "in", self.tickets.ids)])
            .partner_id,
            "values": self.env["res.partner"].browse(
                self.env["shop.crm.customer.value"]
                .with_user(user)
                .search([("partner_id", "in", (self.mine | self.theirs).ids)])
                .mapped("partner_id")
            ),
            "ledger": self.env["loyalty.history"]
            .with_user(user)
            .search([("card_id.partner_id", "in", (self.mine | self.theirs).ids)])
            .card_id.partner_id,
            "class A": self.env["res.partner"]
            .with_user(user)
            .search([("id", "in", (self.mine | self.theirs).ids), ("rfm_class", "=", "A")]),
        }

    def test_setting_off_staff_see_every_customer(self):
        both = self.mine | self.theirs
        self.assertEqual(
            self._seen(self.staff), dict.fromkeys(["visits", "tickets", "values", "ledger", "class A"], both)
        )

    def test_setting_on_staff_see_only_their_own(self):
        self.env.company.shop_crm_own_customers_only = True
        seen = self._seen(self.staff)
        for what, partners in seen.items():
            self.assertEqual(partners, self.mine, what)
        # the other customer's records are refused, their values empty
        with self.assertRaises(AccessError):
            self.visits.filtered(lambda v: v.partner_id == self.theirs).with_user(self.staff).read(["notes"])
        with self.assertRaises(AccessError):
            self.tickets.filtered(lambda t: t.partner_id == self.theirs).with_user(self.staff).read(
                ["description"]
            )
        theirs = self.theirs.with_user(self.staff)
        self.assertFalse(theirs.rfm_class, "no value of another staff member's customer")
        self.assertFalse(theirs.points_history_ids, "nor their ledger lines")
        self.assertEqual(self.mine.with_user(self.staff).rfm_class, "A")
        self.assertEqual(len(self.mine.with_user(self.staff).points_history_ids), 1)
        # tickets without a customer stay visible; the other staff member sees their own; managers all
        Feedback = self.env["shop.crm.feedback"].with_user(self.staff)
        self.assertIn(self.anonymous_ticket, Feedback.search([]))
        self.assertEqual(self._seen(self.other_staff)["visits"], self.theirs)
        both = self.mine | self.theirs
        self.assertEqual(
            self._seen(self.manager),
            dict.fromkeys(["visits", "tickets", "values", "ledger", "class A"], both),
        )

    def test_setting_is_per_company(self):
        other = self.env["res.company"].create({"name": "Other shop", "shop_crm_own_customers_only": True})
        self.staff.write({"company_ids": [(4, other.id)]})
        self.assertEqual(self._seen(self.staff)["visits"], self.mine | self.theirs, "not on in this company")


@tagged("post_install", "-at_install")
class TestMultiCompany(ShopCrmCase):
    """Each company rule hides another company's records (that every model has one: test_security)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.other = cls.env["res.company"].create({"name": "Other shop"})
        cls.elsewhere = cls.env["res.partner"].create({"name": "别家客户", "company_id": cls.other.id})
        cls.here = cls.env["res.partner"].create({"name": "本店客户"})

    def test_company_rules_hide_other_companies_records(self):
        env = self.env
        care_rule = env["shop.crm.care.rule"].create({"name": "Birthday", "company_id": self.other.id})
        plan = env["shop.crm.followup.rule"].create(
            {"name": "Monthly", "company_id": self.other.id, "rfm_class": "A"}
        )
        records = {
            "shop.crm.care.log": env["shop.crm.care.log"].create(
                {
                    "rule_id": care_rule.id,
                    "partner_id": self.here.id,
                    "key": "birthday",
                    "year": 2026,
                    "date": date(2026, 5, 1),
                }
            ),
            "shop.crm.followup.history": env["shop.crm.followup.history"].create(
                {"rule_id": plan.id, "partner_id": self.here.id, "date": date(2026, 5, 1)}
            ),
            "shop.crm.consent": env["shop.crm.consent"].create(
                {"partner_id": self.elsewhere.id, "channel": "sms"}
            ),
            "shop.crm.occasion": env["shop.crm.occasion"].create(
                {"partner_id": self.elsewhere.id, "name": "生日", "date": date(2000, 1, 1)}
            ),
            "shop.crm.festival": env["shop.crm.festival"].create(
                {"name": "店庆", "calendar_type": "solar", "month": 6, "day": 18, "company_id": self.other.id}
            ),
            "shop.crm.care.rule": care_rule,
            "shop.crm.followup.rule": plan,
            "shop.crm.visit": env["shop.crm.visit"].create(
                {"partner_id": self.here.id, "company_id": self.other.id}
            ),
            "shop.crm.customer.value": env["shop.crm.customer.value"].create(
                {"partner_id": self.here.id, "company_id": self.other.id}
            ),
            "shop.crm.privacy.request": env["shop.crm.privacy.request"].create(
                {"partner_id": self.here.id, "request_type": "export", "company_id": self.other.id}
            ),
        }
        for model, record in records.items():
            visible = env[model].with_user(self.manager).search([("id", "=", record.id)])
            self.assertFalse(visible, f"{model}: another company's record is hidden")
            if model != "shop.crm.customer.value":  # plain company ids: core's error message needs a record
                with self.assertRaises(AccessError, msg=model):
                    record.with_user(self.manager).read(["id"])
        # a manager of both companies sees them
        self.manager.write({"company_ids": [(4, self.other.id)]})
        allowed = (
            self.env["shop.crm.care.log"]
            .with_user(self.manager)
            .with_context(allowed_company_ids=[self.env.company.id, self.other.id])
        )
        self.assertTrue(allowed.search([("id", "=", records["shop.crm.care.log"].id)]))
        # the shared festival calendar (no company) stays visible to all
        shared = env["shop.crm.festival"].create(
            {"name": "元旦", "calendar_type": "solar", "month": 1, "day": 1}
        )
        self.assertTrue(env["shop.crm.festival"].with_user(self.staff).search([("id", "=", shared.id)]))
