from odoo.tests import HttpCase, new_test_user, tagged


@tagged("post_install", "-at_install")
class TestUi(HttpCase):
    def test_staff_opens_customers_list(self):
        """A shop staff member logs in, opens Shop CRM from the apps menu and sees the customers list."""
        new_test_user(self.env, login="tour_staff", groups="shop_crm.group_shop_crm_user")
        self.env["res.partner"].create({"name": "林美美 Lin Meimei", "phone": "13900139000"})
        self.start_tour("/odoo", "shop_crm_customers_tour", login="tour_staff")
