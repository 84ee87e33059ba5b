from pathlib import Path

import polib

from odoo.tests import TransactionCase, tagged

I18N = Path(__file__).resolve().parent.parent / "i18n"


@tagged("post_install", "-at_install")
class TestTranslations(TransactionCase):
    def test_po_files_are_complete(self):
        """Every translatable string of the .pot has a Chinese translation (Simplified and Traditional)."""
        template = polib.pofile(str(I18N / "shop_crm.pot"))
        msgids = {entry.msgid for entry in template if not entry.obsolete}
        self.assertGreater(len(msgids), 10)
        for lang in ("zh_CN", "zh_TW"):
            catalogue = polib.pofile(str(I18N / f"{lang}.po"))
            translated = {entry.msgid for entry in catalogue.translated_entries() if not entry.fuzzy}
            self.assertEqual(msgids - translated, set(), f"untranslated in {lang}.po")

    def test_zh_cn_menus_and_models(self):
        self.env["res.lang"]._activate_lang("zh_CN")
        self.env["ir.module.module"]._load_module_terms(["shop_crm"], ["zh_CN"], overwrite=True)
        env = self.env(context=dict(self.env.context, lang="zh_CN"))
        self.assertEqual(env.ref("shop_crm.shop_crm_menu_root").name, "门店客户管理")
        self.assertEqual(env.ref("shop_crm.shop_crm_menu_config").name, "配置")
        self.assertEqual(env.ref("shop_crm.res_partner_menu_shop_customers").name, "客户")
        self.assertEqual(env.ref("shop_crm.group_shop_crm_manager").name, "经理")
        self.assertEqual(env["ir.model"]._get("shop.crm.demo").name, "门店客户管理演示店铺生成器")
        birthday = env["ir.model.fields"]._get("res.partner", "birthday")
        self.assertEqual(birthday.field_description, "生日")

    def test_zh_tw(self):
        self.env["res.lang"]._activate_lang("zh_TW")
        self.env["ir.module.module"]._load_module_terms(["shop_crm"], ["zh_TW"], overwrite=True)
        env = self.env(context=dict(self.env.context, lang="zh_TW"))
        self.assertEqual(env.ref("shop_crm.shop_crm_menu_root").name, "門店客戶管理")
