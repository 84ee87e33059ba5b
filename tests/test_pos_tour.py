from datetime import timedelta

from odoo.addons.point_of_sale.tests.test_frontend import TestPointOfSaleHttpCommon
from odoo.tests import tagged


@tagged("post_install", "-at_install")
class TestPosMemberTour(TestPointOfSaleHttpCommon):
    def test_cashier_sells_to_a_member(self):
        """In the real Point of Sale a member's order earns points once, posted by the server, however the
        till reports its coupon points (it calls confirm_coupon_programs after the sync)."""
        company = self.main_pos_config.company_id
        program = company._shop_crm_member_program()
        customer = self.env["res.partner"].create({"name": "Wang Member"})
        customer._shop_crm_enroll(company)
        silver = (
            self.env["shop.crm.tier"]
            .sudo()
            .create({"name": "Silver", "company_id": company.id, "min_spend": 10**6})
        )
        customer.sudo().tier_id = silver
        self.whiteboard_pen.write({"lst_price": 10, "taxes_id": [(5, 0, 0)]})
        self.main_pos_config.write({"tax_regime_selection": False, "use_pricelist": False})
        self.main_pos_config.with_user(self.pos_user).open_ui()
        self.start_pos_tour("shop_crm_pos_member_tour")
        card = program.coupon_ids.filtered(lambda coupon: coupon.partner_id == customer)
        self.assertEqual(len(card), 1)
        self.assertEqual(card.points, 30, "1 point per yuan, once")
        self.assertEqual(card.history_ids.mapped("shop_crm_kind"), ["earn"])
        order = self.env["pos.order"].search([("partner_id", "=", customer.id)])
        self.assertEqual(order.state, "paid")
        self.assertEqual(card.history_ids.order_id, order.id)

    def test_cashier_redeems_part_of_the_points(self):
        """Partial redemption in the real Point of Sale (200 of 350 points), then a refused reservation:
        the till is told, the reward shrinks to the points that are left and the order is paid so."""
        company = self.main_pos_config.company_id
        Points = self.env["shop.crm.points"]
        partial, busy = self.env["res.partner"].create([{"name": "Li Partial"}, {"name": "Zhao Busy"}])
        (partial | busy)._shop_crm_enroll(company)
        cards = Points._member_cards(partial | busy, company)
        Points._post(
            [
                {"card_id": cards[partial.id].id, "kind": "adjust", "issued": 350, "description": "start"},
                {"card_id": cards[busy.id].id, "kind": "adjust", "issued": 150, "description": "start"},
            ]
        )
        # another till has just validated an order redeeming 100 of Zhao's 150 points
        self.assertFalse(Points._reserve("other-till-order", {cards[busy.id].id: -100}))
        self.whiteboard_pen.write({"lst_price": 10, "taxes_id": [(5, 0, 0)]})
        self.main_pos_config.write({"tax_regime_selection": False, "use_pricelist": False})
        self.main_pos_config.with_user(self.pos_user).open_ui()
        self.start_pos_tour("shop_crm_pos_points_tour")

        order = self.env["pos.order"].search([("partner_id", "=", partial.id)])
        self.assertEqual((order.state, order.amount_total), ("paid", 80))
        self.assertEqual(sum(order.lines.mapped("points_cost")), 200)
        self.assertEqual(
            cards[partial.id].history_ids.filtered(lambda h: h.shop_crm_kind == "redeem").used, 200
        )
        self.assertEqual(cards[partial.id].points, 350 + 100 - 200)

        busy_order = self.env["pos.order"].search([("partner_id", "=", busy.id)])
        self.assertEqual((busy_order.state, busy_order.amount_total), ("paid", 40))
        self.assertEqual(sum(busy_order.lines.mapped("points_cost")), 100, "one step instead of two")
        self.assertFalse(busy_order.shop_crm_points_shortfall)
        self.assertEqual(cards[busy.id].points, 150 + 50 - 100)
        reservations = (
            self.env["shop.crm.points.reservation"].sudo().search([("card_id", "=", cards[busy.id].id)])
        )
        self.assertEqual(
            {(r.order_uuid, r.state, r.points) for r in reservations},
            {("other-till-order", "reserved", 100), (busy_order.uuid, "confirmed", 50)},
            "the other till keeps its points; this order reserved its corrected draw and confirmed it",
        )

    def test_feedback_at_the_till_and_receipt(self):
        """The receipt shows tier, points earned, balance, points expiring soon and the feedback QR code;
        the cashier's two taps make the order's ticket once."""
        company = self.main_pos_config.company_id
        Points = self.env["shop.crm.points"]
        customer = self.env["res.partner"].create({"name": "Qian Feedback"})
        customer._shop_crm_enroll(company)
        card = Points._member_cards(customer, company)[customer.id]
        earned_last_year = company._shop_crm_today() - timedelta(days=350)
        Points._post(
            [
                {
                    "card_id": card.id,
                    "kind": "adjust",
                    "issued": 120,
                    "description": "start",
                    "date": earned_last_year,
                }
            ]
        )
        gold = (
            self.env["shop.crm.tier"]
            .sudo()
            .create({"name": "Gold", "company_id": company.id, "min_spend": 10**6})
        )
        customer.sudo().tier_id = gold
        self.whiteboard_pen.write({"lst_price": 10, "taxes_id": [(5, 0, 0)]})
        self.main_pos_config.write({"tax_regime_selection": False, "use_pricelist": False})
        self.main_pos_config.with_user(self.pos_user).open_ui()
        self.start_pos_tour("shop_crm_pos_feedback_tour")
        order = self.env["pos.order"].search([("partner_id", "=", customer.id)])
        self.assertEqual(order.state, "paid")
        tickets = self.env["shop.crm.feedback"].sudo().search([("pos_order_id", "=", order.id)])
        self.assertEqual(len(tickets), 1, "two taps, one ticket")
        self.assertEqual(
            (tickets.feedback_type, tickets.satisfaction, tickets.customer_comment, tickets.channel),
            ("complaint", "2", "包装破了", "in_store"),
        )
        self.assertEqual(card.points, 150)

    def test_customer_display_after_the_sale(self):
        """Odoo's customer display (local type, fed by the till through its channel) shows the member's
        name, tier and new points balance once the sale is paid, and nothing of them before or after."""
        company = self.main_pos_config.company_id
        Points = self.env["shop.crm.points"]
        customer = self.env["res.partner"].create({"name": "Sun Display"})
        customer._shop_crm_enroll(company)
        card = Points._member_cards(customer, company)[customer.id]
        Points._post([{"card_id": card.id, "kind": "adjust", "issued": 120, "description": "start"}])
        gold = (
            self.env["shop.crm.tier"]
            .sudo()
            .create({"name": "Gold", "company_id": company.id, "min_spend": 10**6})
        )
        customer.sudo().tier_id = gold
        self.whiteboard_pen.write({"lst_price": 10, "taxes_id": [(5, 0, 0)]})
        self.main_pos_config.write(
            {"tax_regime_selection": False, "use_pricelist": False, "customer_display_type": "local"}
        )
        self.main_pos_config.with_user(self.pos_user).open_ui()
        self.start_pos_tour("shop_crm_pos_customer_display_tour")
        order = self.env["pos.order"].search([("partner_id", "=", customer.id)])
        self.assertEqual(order.state, "paid")
        self.assertEqual(card.points, 150, "the balance the display showed is the card's")
