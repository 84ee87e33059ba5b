from datetime import datetime, timedelta

from odoo import Command, fields
from odoo.tests import HttpCase, new_test_user, tagged


@tagged("post_install", "-at_install")
class TestUi(HttpCase):
    def test_staff_opens_customers_list(self):
        """A shop staff member logs in, opens Shop CRM from the apps menu and sees the customers list."""
        new_test_user(self.env, login="tour_staff", groups="shop_crm.group_shop_crm_user")
        self.env["res.partner"].create({"name": "林美美 Lin Meimei", "phone": "13900139000"})
        self.start_tour("/odoo", "shop_crm_customers_tour", login="tour_staff")

    def test_staff_follows_churn_warnings(self):
        """Staff open the churn warnings, a customer's value tab and the RFM analysis."""
        staff = new_test_user(self.env, login="tour_churn", groups="shop_crm.group_shop_crm_user")
        customer = self.env["res.partner"].create({"name": "Zhang Churn", "user_id": staff.id})
        product = self.env["product.product"].create({"name": "Lily", "taxes_id": [Command.clear()]})
        today = fields.Date.context_today(self.env["res.partner"])
        days = [today - timedelta(days=ago) for ago in (60, 50, 40, 30)]
        orders = self.env["sale.order"].create(
            [
                {
                    "partner_id": customer.id,
                    "order_line": [
                        Command.create({"product_id": product.id, "price_unit": 88.0, "tax_id": []})
                    ],
                }
                for _day in days
            ]
        )
        orders.action_confirm()
        for order, day in zip(orders, days, strict=True):
            order.date_order = datetime.combine(day, datetime.min.time()) + timedelta(hours=4)
        self.env["shop.crm.analytics"].run(as_of=today)
        self.assertTrue(customer.churn_warning)
        self.start_tour("/odoo", "shop_crm_churn_tour", login="tour_churn")

    def test_manager_adjusts_member_points(self):
        """A manager opens a member from the customers list, sees tier and points history on the
        Membership tab, and adjusts the points with a reason."""
        manager = new_test_user(self.env, login="tour_manager", groups="shop_crm.group_shop_crm_manager")
        self.env["shop.crm.tier"].create({"name": "Silver", "sequence": 20, "min_spend": 1000})
        customer = self.env["res.partner"].create({"name": "Wang Member", "user_id": manager.id})
        product = self.env["product.product"].create({"name": "Peony", "taxes_id": [Command.clear()]})
        order = self.env["sale.order"].create(
            {
                "partner_id": customer.id,
                "order_line": [
                    Command.create({"product_id": product.id, "price_unit": 1200.0, "tax_id": []})
                ],
            }
        )
        order.action_confirm()
        self.assertEqual(customer.points_balance, 1200)
        self.start_tour("/odoo", "shop_crm_member_tour", login="tour_manager")
        self.assertEqual(customer.points_balance, 1225)
        self.assertIn("Late delivery", customer.points_history_ids[:1].description)

    def test_manager_runs_a_campaign(self):
        """A manager creates a segment, starts a campaign for it and sees the recipients."""
        new_test_user(self.env, login="tour_campaigns", groups="shop_crm.group_shop_crm_manager")
        customer = self.env["res.partner"].create({"name": "Tour Customer"})
        self.start_tour("/odoo", "shop_crm_campaign_tour", login="tour_campaigns")
        segment = self.env["shop.crm.segment"].search([("name", "=", "Tour audience")])
        self.assertIn(customer, segment._partners())
        campaign = self.env["shop.crm.campaign"].search([("segment_id", "=", segment.id)])
        self.assertEqual(campaign.state, "running")
        recipient = campaign.recipient_ids.filtered(lambda row: row.partner_id == customer)
        self.assertEqual((recipient.recipient_group, recipient.points_given), ("treated", 10))
