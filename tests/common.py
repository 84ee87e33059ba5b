from odoo.tests import TransactionCase, new_test_user


class ShopCrmCase(TransactionCase):
    """Base class: a Shop CRM user (staff), a Shop CRM manager and an internal user without Shop CRM."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.staff = new_test_user(
            cls.env, login="crm_staff", name="Staff Xiao Li", groups="shop_crm.group_shop_crm_user"
        )
        cls.manager = new_test_user(
            cls.env, login="crm_manager", name="Manager Zhou", groups="shop_crm.group_shop_crm_manager"
        )
        cls.outsider = new_test_user(
            cls.env, login="crm_outsider", name="Warehouse Wu", groups="base.group_user"
        )
