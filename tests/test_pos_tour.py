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
