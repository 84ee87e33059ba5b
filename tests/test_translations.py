import fnmatch
import os
from pathlib import Path

import polib

from odoo.modules import get_module_path
from odoo.tests import TransactionCase, tagged
from odoo.tools.translate import (
    JAVASCRIPT_TRANSLATION_COMMENT,
    PYTHON_TRANSLATION_COMMENT,
    TranslationModuleReader,
)

ADDON = Path(get_module_path("shop_crm"))  # as Odoo sees it (not resolved: the checkout may be a link)
I18N = ADDON / "i18n"
SOURCE_FOLDERS = ("models", "wizard", "report", "controllers", "lib", "static/src")


class _AddonTermsReader(TranslationModuleReader):
    """Odoo's own term extraction, limited to the addon's source folders (the checkout also holds .venv)."""

    def _export_translatable_resources(self):
        addons_root = str(ADDON.parent)
        for folder in SOURCE_FOLDERS:
            for root, _dirs, files in os.walk(ADDON / folder):
                for fname in fnmatch.filter(files, "*.py"):
                    self._babel_extract_terms(
                        fname,
                        addons_root,
                        root,
                        "python",
                        extra_comments=[PYTHON_TRANSLATION_COMMENT],
                        extract_keywords={"_": None, "_lt": None},
                    )
                if folder == "static/src":
                    for fname in fnmatch.filter(files, "*.js"):
                        self._babel_extract_terms(
                            fname,
                            addons_root,
                            root,
                            "javascript",
                            extra_comments=[JAVASCRIPT_TRANSLATION_COMMENT],
                            extract_keywords={"_t": None},
                        )
                    for fname in fnmatch.filter(files, "*.xml"):
                        self._babel_extract_terms(
                            fname,
                            addons_root,
                            root,
                            "odoo.tools.translate:babel_extract_qweb",
                            extra_comments=[JAVASCRIPT_TRANSLATION_COMMENT],
                        )


@tagged("post_install", "-at_install")
class TestTranslations(TransactionCase):
    def test_po_files_are_complete(self):
        """Every translatable string of the installed module (menus, fields, views, code) is in the .pot and
        has a Chinese translation (Simplified and Traditional)."""
        live = {
            row[4] for row in _AddonTermsReader(self.env.cr, modules=["shop_crm"]) if row[0] == "shop_crm"
        }
        code_term = "Only Shop CRM managers can recompute the customer analytics."
        self.assertIn(code_term, live, "code terms are read")
        self.assertIn("Shop CRM", live, "menu terms are read")
        template = polib.pofile(str(I18N / "shop_crm.pot"))
        msgids = {entry.msgid for entry in template if not entry.obsolete}
        self.assertEqual(live - msgids, set(), "i18n/shop_crm.pot is out of date: run scripts/i18n.sh")
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
        self.assertEqual(env["ir.model"]._get("shop.crm.tier").name, "会员等级")
        birthday = env["ir.model.fields"]._get("res.partner", "birthday")
        self.assertEqual(birthday.field_description, "生日")

    def test_zh_tw(self):
        self.env["res.lang"]._activate_lang("zh_TW")
        self.env["ir.module.module"]._load_module_terms(["shop_crm"], ["zh_TW"], overwrite=True)
        env = self.env(context=dict(self.env.context, lang="zh_TW"))
        self.assertEqual(env.ref("shop_crm.shop_crm_menu_root").name, "門店客戶管理")
