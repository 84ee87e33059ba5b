from pathlib import Path

from odoo.exceptions import AccessError
from odoo.tests import tagged

from .common import ShopCrmCase


@tagged("post_install", "-at_install")
class TestSecurity(ShopCrmCase):
    def _visible_menus(self, user):
        return self.env["ir.ui.menu"].with_user(user)._visible_menu_ids()

    def test_module_installed(self):
        module = self.env["ir.module.module"].search([("name", "=", "shop_crm")])
        self.assertEqual(module.state, "installed")
        self.assertEqual(module.installed_version, "18.0.1.0.0")
        self.assertEqual(module.license, "LGPL-3")

    def test_group_ladder(self):
        user_group = self.env.ref("shop_crm.group_shop_crm_user")
        manager_group = self.env.ref("shop_crm.group_shop_crm_manager")
        self.assertIn(user_group, manager_group.implied_ids)
        self.assertIn(self.env.ref("base.group_user"), user_group.implied_ids)
        self.assertTrue(self.staff.has_group("base.group_partner_manager"), "staff can add customers")
        self.assertTrue(self.manager.has_group("shop_crm.group_shop_crm_user"))
        self.assertFalse(self.staff.has_group("shop_crm.group_shop_crm_manager"))
        self.assertFalse(self.outsider.has_group("shop_crm.group_shop_crm_user"))
        self.assertTrue(self.env.ref("base.user_admin").has_group("shop_crm.group_shop_crm_manager"))

    def test_menus_by_group(self):
        root = self.env.ref("shop_crm.shop_crm_menu_root").id
        customers = self.env.ref("shop_crm.res_partner_menu_shop_customers").id
        config = self.env.ref("shop_crm.shop_crm_menu_config").id
        staff_menus = self._visible_menus(self.staff)
        self.assertIn(root, staff_menus)
        self.assertIn(customers, staff_menus)
        self.assertNotIn(config, staff_menus, "staff must not see the configuration")
        manager_menus = self._visible_menus(self.manager)
        self.assertIn(config, manager_menus)
        self.assertIn(self.env.ref("shop_crm.res_partner_category_menu_shop_crm").id, manager_menus)
        self.assertNotIn(root, self._visible_menus(self.outsider), "Shop CRM is hidden without its group")

    def test_customers_action_lists_customers_not_staff(self):
        customer = (
            self.env["res.partner"].with_user(self.staff).create({"name": "林美美", "phone": "13800138000"})
        )
        action = self.env.ref("shop_crm.res_partner_action_shop_customers")
        domain = eval(action.domain)
        visible = self.env["res.partner"].with_user(self.staff).search(domain)
        self.assertIn(customer, visible)
        self.assertNotIn(self.staff.partner_id, visible, "staff members are not customers")
        self.assertNotIn(self.env.company.partner_id, visible, "the shop itself is not a customer")
        self.assertTrue(customer.is_shop_customer)
        self.assertFalse(self.staff.partner_id.is_shop_customer)
        self.assertFalse(self.env.company.partner_id.is_shop_customer)
        not_customers = self.env["res.partner"].search([("is_shop_customer", "=", False)])
        self.assertIn(self.env.company.partner_id, not_customers)
        self.assertNotIn(customer, not_customers)

    def test_every_model_has_access_rules(self):
        """Every concrete model that Shop CRM defines is covered by ir.model.access lines."""
        model_names = (
            self.env["ir.model.data"]
            .search([("module", "=", "shop_crm"), ("model", "=", "ir.model")])
            .mapped(lambda data: self.env["ir.model"].browse(data.res_id).model)
        )
        self.assertIn("shop.crm.tier", model_names)
        self.assertNotIn("shop.crm.demo", model_names, "the demo builder is tooling, not a model")
        for name in model_names:
            model = self.env[name]
            if model._abstract:
                continue
            self.assertTrue(
                self.env["ir.model.access"].search_count([("model_id.model", "=", name)]),
                f"{name} has no access rules",
            )

    def test_outsider_cannot_add_customers(self):
        with self.assertRaises(AccessError):
            self.env["res.partner"].with_user(self.outsider).create({"name": "Nobody"})

    def test_nothing_in_the_addon_changes_a_companys_currency_or_chart(self):
        """Loading a chart of accounts or setting a company's currency is the demo builder's business
        (scripts/demo_shop.py, outside what the addon registers), never the addon's."""
        self.assertNotIn("shop.crm.demo", self.env.registry)
        addon = Path(__file__).resolve().parent.parent
        for folder in ("models", "wizard", "controllers", "lib", "report"):
            for source in (addon / folder).glob("*.py"):
                text = source.read_text(encoding="utf-8")
                for forbidden in ("account.chart.template", "try_loading", "base.CNY"):
                    self.assertNotIn(forbidden, text, f"{source.name} uses {forbidden}")
