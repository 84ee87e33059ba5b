"""The customer and purchase import on real files the tests write (xlsx, xls, GBK and UTF-8-BOM CSV),
the legacy purchases in the analytics, tiers and care, and access."""

import base64
import datetime
import os
import tempfile
from datetime import date

import openpyxl
import xlwt
from freezegun import freeze_time

from odoo.exceptions import AccessError, UserError
from odoo.tests import tagged

from .common import ShopCrmCase

HEADER = [
    "会员卡号",
    "姓名",
    "手机号",
    "邮箱",
    "性别",
    "生日",
    "会员等级",
    "积分",
    "入会日期",
    "负责人",
    "标签",
    "微信号",
    "备注",
    "短信营销",
    "邮件营销",
    "微信营销",
    "推荐人",
]


class ImportCase(ShopCrmCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company = cls.env.company
        cls.company.shop_crm_tz = "Asia/Shanghai"
        cls.company.country_id = cls.env.ref("base.cn")
        Tier = cls.env["shop.crm.tier"]
        cls.silver = Tier.create({"name": "银卡", "sequence": 20, "min_spend": 1000})
        cls.gold = Tier.create({"name": "金卡", "sequence": 30, "min_spend": 5000})
        cls.Import = cls.env["shop.crm.import"].with_user(cls.manager)
        cls.folder = tempfile.mkdtemp(prefix="shop_crm_import_")

    def _path(self, name):
        return os.path.join(self.folder, name)

    def _csv(self, name, rows, encoding="utf-8", header=HEADER):
        path = self._path(name)
        lines = [",".join(header)] + [",".join(str(cell) for cell in row) for row in rows]
        with open(path, "wb") as handle:
            handle.write(("\n".join(lines) + "\n").encode(encoding))
        return path

    def _xlsx(self, name, rows, header=HEADER):
        path = self._path(name)
        book = openpyxl.Workbook()
        sheet = book.active
        sheet.append(header)
        for row in rows:
            sheet.append(row)
        book.save(path)
        return path

    def _partner(self, mobile):
        return self.env["res.partner"].search([("mobile_normalized", "=", mobile)])

    def _ledger(self, partner):
        card = partner.with_company(self.company).member_card_id
        return card, card.history_ids.sorted("id")


@tagged("post_install", "-at_install")
class TestCustomerImport(ImportCase):
    ROWS = [
        [
            "A001",
            "张三",
            "138 0013 8000",
            "ZS@Example.com",
            "男",
            "1990年3月5日",
            "金卡",
            120,
            "2020/1/2",
            "crm_staff",
            "VIP、老客户",
            "zhangsan",
            "喜欢红玫瑰",
            "是",
            "否",
            "1",
            "",
        ],
        [
            "",
            "李四",
            "+86 139-0013-9000",
            "",
            "女",
            "1985/12/1",
            "",
            "",
            "",
            "",
            "老客户",
            "",
            "",
            "",
            "",
            "",
            "A001",
        ],
        [
            "A003",
            "王五",
            "0086 137 0013 7000",
            "",
            "",
            "",
            "银卡",
            "0",
            "",
            "Staff Xiao Li",
            "",
            "",
            "",
            "no",
            "",
            "",
            "13900139000",
        ],
    ]

    def test_gbk_csv_with_chinese_headers_then_reimport_unchanged(self):
        path = self._csv("customers_gbk.csv", self.ROWS, encoding="gbk")
        with freeze_time("2026-03-01 04:00:00"):
            result = self.Import.run(path, "customers")
        self.assertEqual(result, {"rows": 3, "created": 3, "updated": 0, "unchanged": 0, "errors": []})
        zhang = self._partner("+8613800138000")
        self.assertEqual(len(zhang), 1)
        self.assertEqual(
            (zhang.name, zhang.email, zhang.gender, zhang.birthday, zhang.member_code, zhang.member_since),
            ("张三", "zs@example.com", "male", date(1990, 3, 5), "A001", date(2020, 1, 2)),
        )
        self.assertEqual(zhang.user_id, self.staff)
        self.assertEqual(zhang.wechat_id, "zhangsan")
        self.assertIn("喜欢红玫瑰", zhang.comment)
        self.assertEqual(sorted(zhang.category_id.mapped("name")), ["VIP", "老客户"])
        self.assertEqual(zhang.tier_id, self.gold)
        history = zhang.tier_history_ids
        self.assertEqual(
            (history.reason, history.to_tier_id, history.note), ("import", self.gold, path.split("/")[-1])
        )
        card, lines = self._ledger(zhang)
        self.assertEqual(
            (lines.mapped("shop_crm_kind"), lines.mapped("issued"), card.points), (["opening"], [120], 120)
        )
        consents = {consent.channel: consent.granted for consent in zhang.consent_ids}
        self.assertEqual(consents, {"sms": True, "email": False, "wechat": True})
        li = self._partner("+8613900139000")
        self.assertTrue(li.member_code is False or li.member_code is None or not li.member_code)
        self.assertEqual(li.referred_by_id, zhang, "referrer by member code of another row")
        wang = self._partner("+8613700137000")
        self.assertEqual(wang.referred_by_id, li, "referrer by mobile")
        self.assertEqual(wang.tier_id, self.silver)
        self.assertEqual(wang.with_company(self.company).points_balance, 0)
        self.assertTrue(wang.with_company(self.company).member_card_id, "a member gets a card")
        # the same file again changes nothing
        with freeze_time("2026-03-02 04:00:00"):
            again = self.Import.run(path, "customers")
        self.assertEqual(again, {"rows": 3, "created": 0, "updated": 0, "unchanged": 3, "errors": []})
        card, lines = self._ledger(zhang)
        self.assertEqual((len(lines), card.points), (1, 120))
        self.assertEqual(len(zhang.tier_history_ids), 1)

    def test_xlsx_excel_dates_and_changed_balance(self):
        rows = [
            [
                "B001",
                "赵六",
                13800138001,
                "",
                "female",
                datetime.datetime(1992, 7, 8),
                "",
                50,
                "",
                "",
                "",
                "",
                "",
                "",
                "",
                "",
                "",
            ]
        ]
        path = self._xlsx("first.xlsx", rows)
        self.assertEqual(self.Import.run(path, "customers")["created"], 1)
        zhao = self._partner("+8613800138001")
        self.assertEqual((zhao.birthday, zhao.member_code), (date(1992, 7, 8), "B001"))
        # a later file with another balance and a new name: the difference is an adjustment naming the file
        rows[0][1], rows[0][7] = "赵六六", 80
        later = self._xlsx("later.xlsx", rows)
        dry = self.Import.run(later, "customers", dry_run=True)
        self.assertEqual((dry["updated"], dry["unchanged"]), (1, 0))
        self.assertEqual(zhao.name, "赵六", "a dry run writes nothing")
        result = self.Import.run(later, "customers")
        self.assertEqual((result["created"], result["updated"]), (0, 1))
        self.assertEqual(zhao.name, "赵六六")
        card, lines = self._ledger(zhao)
        self.assertEqual(lines.mapped("shop_crm_kind"), ["opening", "adjust"])
        self.assertEqual(lines[-1].issued, 30)
        self.assertIn("later.xlsx", lines[-1].description)
        self.assertEqual(card.points, sum(lines.mapped("issued")) - sum(lines.mapped("used")))
        # and down again: the difference is taken back, balance = ledger
        rows[0][7] = 60
        self.Import.run(self._xlsx("lower.xlsx", rows), "customers")
        card, lines = self._ledger(zhao)
        self.assertEqual((lines[-1].used, card.points), (20, 60))
        self.assertEqual(self.Import.run(self._xlsx("lower2.xlsx", rows), "customers")["unchanged"], 1)

    def test_xls_and_utf8_bom(self):
        path = self._path("old.xls")
        book = xlwt.Workbook()
        sheet = book.add_sheet("会员")
        for column, header in enumerate(["name", "Mobile", "BIRTHDAY"]):
            sheet.write(0, column, header)
        sheet.write(1, 0, "钱七")
        sheet.write(1, 1, 13800138002)
        sheet.write(1, 2, datetime.datetime(1980, 1, 31), xlwt.easyxf(num_format_str="YYYY-MM-DD"))
        book.save(path)
        self.assertEqual(self.Import.run(path, "customers")["created"], 1)
        self.assertEqual(self._partner("+8613800138002").birthday, date(1980, 1, 31))
        bom = self._csv(
            "bom.csv",
            [["孙八", "13800138003", "1999.9.9"]],
            encoding="utf-8-sig",
            header=["姓名", "手机号", "生日"],
        )
        self.assertEqual(self.Import.run(bom, "customers")["created"], 1)
        self.assertEqual(self._partner("+8613800138003").birthday, date(1999, 9, 9))

    def test_matching_existing_customers(self):
        existing = self.env["res.partner"].create(
            {"name": "老客户", "mobile": "13800138004", "email": "old@example.com"}
        )
        by_email = self.env["res.partner"].create({"name": "邮箱客户", "email": "mail@example.com"})
        path = self._csv(
            "match.csv",
            [["老客户", "+86 138 0013 8004", ""], ["邮箱客户", "", "MAIL@example.com"]],
            header=["name", "mobile", "email"],
        )
        result = self.Import.run(path, "customers")
        # the second row has neither mobile nor member code: an error, nothing written
        self.assertEqual([error["row"] for error in result["errors"]], [2])
        self.assertEqual(result["created"] + result["updated"] + result["unchanged"], 0)
        result = self.Import.run(path, "customers", skip_errors=True)
        self.assertEqual((result["created"], result["updated"], result["unchanged"]), (0, 0, 1))
        self.assertEqual(self._partner("+8613800138004"), existing)
        self.assertFalse(by_email.mobile)

    def test_errors_nothing_written_unless_skipped(self):
        rows = [
            ["C001", "好人", "13800138005", "", "", "", "", "10", "", "", "", "", "", "", "", "", ""],
            ["C002", "坏手机", "12345", "", "", "", "", "", "", "", "", "", "", "", "", "", ""],
            ["C003", "外国", "+1 650 253 0000", "", "", "", "", "", "", "", "", "", "", "", "", "", ""],
            [
                "C004",
                "坏日期",
                "13800138006",
                "",
                "",
                "1990-02-30",
                "铁卡",
                "-5",
                "",
                "nobody",
                "",
                "",
                "",
                "maybe",
                "",
                "",
                "",
            ],
            ["C001", "重复", "13800138007", "", "", "", "", "", "", "", "", "", "", "", "", "", ""],
            ["C008", "", "13800138008", "", "x", "", "", "", "", "", "", "", "", "", "", "", ""],
            ["C009", "推荐未知", "13800138015", "", "", "", "", "", "", "", "", "", "", "", "", "", "Z999"],
        ]
        path = self._csv("errors.csv", rows)
        result = self.Import.run(path, "customers")
        found = {(error["row"], error["column"]) for error in result["errors"]}
        self.assertEqual(
            found,
            {
                (2, "mobile"),
                (3, "mobile"),
                (4, "birthday"),
                (4, "tier"),
                (4, "points"),
                (4, "staff"),
                (4, "consent_sms"),
                (5, "member_code"),
                (6, "name"),
                (6, "gender"),
                (7, "referred_by"),
            },
        )
        self.assertTrue(all(error["message"] for error in result["errors"]))
        self.assertIn("row 1", next(e["message"] for e in result["errors"] if e["row"] == 5))
        self.assertEqual((result["rows"], result["created"]), (7, 0))
        self.assertFalse(self._partner("+8613800138005"), "nothing written")
        dry = self.Import.run(path, "customers", dry_run=True, skip_errors=True)
        self.assertEqual(dry["created"], 1)
        self.assertFalse(self._partner("+8613800138005"), "a dry run writes nothing")
        result = self.Import.run(path, "customers", skip_errors=True)
        self.assertEqual((result["created"], len(result["errors"])), (1, 11))
        good = self._partner("+8613800138005")
        self.assertEqual((good.member_code, good.with_company(self.company).points_balance), ("C001", 10))

    def test_new_customers_are_what_the_orm_create_makes(self):
        """The import inserts new customers in batches (not one ORM create per row): every stored field
        of every module has the value core's create gives the same contact, the stored computed ones
        included (commercial partner, complete name, normalised and sanitised numbers, partner share)."""
        path = self._csv(
            "orm.csv",
            [["Z1", "赵一", "138 0013 8900", "Zhao@Example.com", "女", "1991-04-05", "", "", "", "", "VIP"]],
            header=HEADER[:11],
        )
        self.assertEqual(self.Import.run(path, "customers")["created"], 1)
        imported = self._partner("+8613800138900")
        vip = self.env["res.partner.category"].search([("name", "=", "VIP")])
        reference = (
            self.env["res.partner"]
            .with_user(self.manager)
            .with_context(tracking_disable=True)
            .create(
                {
                    "name": "赵一",
                    "mobile": "138 0013 8900",
                    "email": "zhao@example.com",
                    "gender": "female",
                    "birthday": date(1991, 4, 5),
                    "member_code": "Z2",
                    "member_company_id": self.company.id,
                    "member_since": imported.member_since,
                    "category_id": [(6, 0, vip.ids)],
                }
            )
        )
        self.assertEqual(imported.commercial_partner_id, imported)
        self.assertEqual(imported.complete_name, "赵一")
        self.assertEqual(imported.phone_sanitized, "+8613800138900")
        self.assertEqual(imported.category_id, vip)
        self.assertEqual((imported.create_uid, imported.write_uid), (self.manager, self.manager))
        skip = {
            "id",
            "member_code",
            "barcode",
            "create_date",
            "write_date",
            "commercial_partner_id",
            "tier_id",
        }
        skip |= {"tier_below_since", "display_name", "member_card_id", "points_balance"}
        differences = {
            name: (imported[name], reference[name])
            for name, field in imported._fields.items()
            if field.store and field.column_type and name not in skip and imported[name] != reference[name]
        }
        self.assertEqual(differences, {})
        self.assertFalse(
            self.env["ir.model.data"].search([("model", "=", "res.partner"), ("res_id", "=", imported.id)])
        )

    def test_duplicate_mobiles_in_file_and_missing_column(self):
        path = self._csv(
            "dups.csv", [["甲", "138 0013 8009"], ["乙", "+8613800138009"]], header=["姓名", "手机号"]
        )
        result = self.Import.run(path, "customers")
        self.assertEqual([(e["row"], e["column"]) for e in result["errors"]], [(2, "mobile")])
        missing = self._csv("missing.csv", [["13800138010"]], header=["手机号"])
        result = self.Import.run(missing, "customers", skip_errors=True)
        self.assertEqual([(e["row"], e["column"]) for e in result["errors"]], [(0, "name")])
        self.assertEqual(result["created"], 0)

    def test_new_members_get_generated_codes(self):
        path = self._csv(
            "codes.csv",
            [["丙", "13800138011", "银卡"], ["丁", "13800138012", ""]],
            header=["name", "mobile", "tier"],
        )
        self.Import.run(path, "customers")
        member, plain = self._partner("+8613800138011"), self._partner("+8613800138012")
        self.assertEqual(len(member.member_code), 13, "an in-store EAN-13")
        self.assertEqual(member.barcode, member.member_code)
        self.assertFalse(plain.member_code, "no tier, points or code: a customer, not a member")

    def test_refused_files_and_access(self):
        png = self._path("photo.csv")
        with open(png, "wb") as handle:
            handle.write(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00")
        with self.assertRaises(UserError):
            self.Import.run(png, "customers")
        latin = self._path("latin.csv")
        with open(latin, "wb") as handle:
            handle.write("name,mobile\nJosé,13800138013\n".encode("utf-16"))
        with self.assertRaises(UserError):
            self.Import.run(latin, "customers")
        with self.assertRaises(UserError):
            self.Import.run(self._csv("ok.csv", [["x", "13800138014"]], header=["name", "mobile"]), "orders")
        with self.assertRaises(AccessError):
            self.env["shop.crm.import"].with_user(self.staff).run(png, "customers")


@tagged("post_install", "-at_install")
class TestPurchaseImport(ImportCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        Partner = cls.env["res.partner"]
        cls.member = Partner.create({"name": "老会员", "mobile": "13800138100"})
        cls.member._shop_crm_enroll(cls.company)
        cls.other = Partner.create({"name": "散客", "mobile": "13800138101"})

    def _purchases(self, name, rows, encoding="utf-8"):
        return self._csv(
            name,
            rows,
            encoding=encoding,
            header=["单号", "会员卡号", "手机号", "日期", "金额", "商品", "渠道"],
        )

    def test_purchases_import_reimport_and_read_only(self):
        rows = [
            ["R1", self.member.member_code, "", "2025-02-14", "520.00", "11 × 红玫瑰", "门店"],
            ["R2", "", "138 0013 8101", "2025/8/29", "99", "", ""],
            ["R3", "", "13800138101", "2025年9月1日", "-20", "", ""],
        ]
        path = self._purchases("history.csv", rows, encoding="gbk")
        result = self.Import.run(path, "purchases")
        self.assertEqual(result, {"rows": 3, "created": 3, "updated": 0, "unchanged": 0, "errors": []})
        legacy = self.env["shop.crm.legacy.purchase"].search(
            [("reference", "in", ["R1", "R2", "R3"])], order="reference"
        )
        self.assertEqual(legacy.partner_id, self.member | self.other)
        self.assertEqual(legacy.mapped("amount"), [520.0, 99.0, -20.0])
        self.assertEqual(legacy[0].date, date(2025, 2, 14))
        # written by COPY with what the ORM would set: company, creator, creation time, file
        self.assertEqual(legacy.company_id, self.company)
        self.assertEqual(legacy.create_uid, self.manager)
        self.assertEqual(legacy.write_uid, self.manager)
        self.assertTrue(all(legacy.mapped("create_date")))
        self.assertEqual(set(legacy.mapped("import_file")), {"history.csv"})
        self.assertEqual(legacy.with_user(self.manager).mapped("reference"), ["R1", "R2", "R3"])
        self.assertEqual(self.member.with_company(self.company).points_balance, 0, "no points for history")
        self.assertEqual(self.Import.run(path, "purchases")["unchanged"], 3)
        self.assertEqual(
            self.env["shop.crm.legacy.purchase"].search_count([("reference", "in", ["R1", "R2", "R3"])]), 3
        )
        with self.assertRaises(UserError):
            legacy[0].write({"amount": 1})
        with self.assertRaises(UserError):
            legacy[0].unlink()
        rows[0][4] = "521"
        changed = self.Import.run(self._purchases("changed.csv", rows), "purchases")
        self.assertEqual([(e["row"], e["column"]) for e in changed["errors"]], [(1, "reference")])

    def test_purchase_errors(self):
        rows = [
            ["P1", "", "13800138199", "2025-01-01", "10", "", ""],
            ["P2", self.member.member_code, "", "2025-13-01", "abc", "", ""],
            ["P2", self.member.member_code, "", "2025-01-02", "10", "", ""],
            ["P4", self.member.member_code, "", "2025-01-02", "10", "", ""],
        ]
        result = self.Import.run(self._purchases("bad.csv", rows), "purchases")
        self.assertEqual(
            {(e["row"], e["column"]) for e in result["errors"]},
            {(1, "mobile"), (2, "date"), (2, "amount"), (3, "reference")},
        )
        self.assertFalse(self.env["shop.crm.legacy.purchase"].search([("reference", "=", "P4")]))
        result = self.Import.run(self._purchases("bad.csv", rows), "purchases", skip_errors=True)
        self.assertEqual(result["created"], 1)
        self.assertTrue(self.env["shop.crm.legacy.purchase"].search([("reference", "=", "P4")]))

    def test_legacy_purchases_count_in_analytics_tiers_and_care(self):
        tier_company = self.company
        tier_company.shop_crm_tier_grace_days = 0
        rows = [
            [f"L{index}", self.member.member_code, "", f"2025-{month:02d}-15", "1500", "3 × 百合", ""]
            for index, month in enumerate((3, 6, 8, 10), start=1)
        ]
        rows.append(["L9", "", "13800138101", "2024-08-25", "88", "11 × 红玫瑰", ""])
        self.Import.run(self._purchases("years.csv", rows), "purchases")
        with freeze_time("2025-11-01 04:00:00"):
            self.env["shop.crm.analytics"].sudo().run(as_of=date(2025, 11, 1), company=tier_company)
            values = self.member.with_company(tier_company)
            self.assertEqual((values.rfm_frequency, values.rfm_monetary), (4, 6000))
            self.assertEqual(values.lifecycle_stage, "returning")
            self.assertEqual(self.other.with_company(tier_company).lifecycle_stage, "lost")
            self.env["shop.crm.tier"].sudo()._evaluate(tier_company, as_of=date(2025, 11, 1))
            self.assertEqual(self.member.tier_id, self.gold, "spend of the imported history")
        # care: last year's items for a date-based rule (birthday) come from the imported text
        self.other.write({"birthday": date(1990, 8, 29), "user_id": self.staff.id})
        rule = self.env["shop.crm.care.rule"].create(
            {"name": "生日", "trigger": "birthday", "days_before": 0}
        )
        logs = rule._give_care(date(2025, 8, 29))
        self.assertEqual(logs.partner_id, self.other)
        self.assertEqual(rule._last_year_purchases(logs), {logs.id: "11 × 红玫瑰"})


@tagged("post_install", "-at_install")
class TestDuplicatesAndMerge(ImportCase):
    def test_possible_duplicates_and_merge_keeps_one_member(self):
        Partner = self.env["res.partner"]
        path = self._csv(
            "two.csv",
            [["M1", "陈一", "138 0013 8200", "金卡", "100"], ["M2", "陈一", "+8613800138200", "银卡", "50"]],
            header=["会员卡号", "姓名", "手机号", "会员等级", "积分"],
        )
        self.assertEqual(self.Import.run(path, "customers")["created"], 2, "different member codes: two rows")
        first, second = Partner.search([("mobile_normalized", "=", "+8613800138200")], order="id")
        same_day = Partner.create({"name": "林二", "birthday": date(1990, 1, 1)})
        Partner.create({"name": " 林二", "birthday": date(1990, 1, 1)})
        Partner.create({"name": "林二", "birthday": date(1991, 1, 1)})
        Duplicate = self.env["shop.crm.duplicate"].with_user(self.staff)
        groups = Duplicate.read_group([], ["group_key"], ["reason", "group_key"], lazy=False)
        counts = {(group["reason"], group["group_key"]): group["__count"] for group in groups}
        self.assertEqual(counts[("mobile", "+8613800138200")], 2)
        self.assertEqual(counts[("name_birthday", "林二 · 1990-01-01")], 2)
        self.assertNotIn(("name_birthday", "林二 · 1991-01-01"), counts)
        self.assertIn(same_day, Duplicate.search([("reason", "=", "name_birthday")]).partner_id)
        # what each of them has
        visit = self.env["shop.crm.visit"].create({"partner_id": second.id, "user_id": self.staff.id})
        ticket = self.env["shop.crm.feedback"].create({"partner_id": second.id, "description": "花蔫了"})
        occasion = self.env["shop.crm.occasion"].create(
            {"partner_id": second.id, "name": "母亲生日", "date": date(2026, 5, 1)}
        )
        friend = Partner.create({"name": "朋友", "referred_by_id": second.id})
        Consent = self.env["shop.crm.consent"]
        with freeze_time("2026-01-01"):
            Consent.create({"partner_id": first.id, "channel": "sms"})
            Consent.create({"partner_id": second.id, "channel": "email"})
            Consent.create({"partner_id": second.id, "channel": "sms"})
        with freeze_time("2026-02-01"):
            Consent.search([("partner_id", "=", second.id), ("channel", "=", "sms")]).action_withdraw()
        with freeze_time("2026-03-01"):
            Consent.create({"partner_id": first.id, "channel": "email"})
        with freeze_time("2026-03-02"):
            Consent.search([("partner_id", "=", first.id), ("channel", "=", "email")]).action_withdraw()
        cards = (first | second).with_company(self.company).member_card_id
        lines = cards.history_ids
        self.assertEqual(len(lines), 2)
        # a manager merges them from the list (Odoo's merge wizard), keeping the first
        action = Duplicate.with_user(self.manager).search([("partner_id", "=", first.id)]).action_merge()
        self.assertEqual(action["res_model"], "base.partner.merge.automatic.wizard")
        self.assertEqual(set(action["context"]["active_ids"]), {first.id, second.id})
        wizard = self.env["base.partner.merge.automatic.wizard"].with_context(**action["context"]).create({})
        self.assertEqual(wizard.partner_ids, first | second)
        wizard.dst_partner_id = first
        wizard.action_merge()
        self.assertFalse(second.exists())
        kept = first.with_company(self.company)
        self.assertEqual(kept.member_code, "M1")
        self.assertEqual(kept.points_balance, 150, "the sum of both balances")
        self.assertEqual(kept.member_card_id.history_ids, lines, "every ledger line")
        card = kept.member_card_id
        self.assertEqual(
            card.points, sum(card.history_ids.mapped("issued")) - sum(card.history_ids.mapped("used"))
        )
        self.assertEqual(kept.tier_id, self.gold, "the higher tier")
        self.assertEqual(len(kept.tier_history_ids), 2, "both customers' tier history")
        self.assertEqual((visit.partner_id, ticket.partner_id, occasion.partner_id), (kept, kept, kept))
        self.assertEqual(friend.referred_by_id, kept)
        consents = {consent.channel: consent.granted for consent in kept.consent_ids}
        self.assertEqual(consents, {"sms": False, "email": False}, "the latest answer per channel")
        self.assertFalse(Duplicate.search([("group_key", "=", "+8613800138200")]))

    def test_merge_needs_a_manager(self):
        a = self.env["res.partner"].create({"name": "周三", "mobile": "13800138300"})
        self.env["res.partner"].create({"name": "周三", "mobile": "138-0013-8300"})
        row = self.env["shop.crm.duplicate"].with_user(self.staff).search([("partner_id", "=", a.id)])
        with self.assertRaises(AccessError):
            row.action_merge()


@tagged("post_install", "-at_install")
class TestImportWizard(ImportCase):
    def test_wizard_check_download_errors_then_import(self):
        content = "姓名,手机号,积分\n何九,13800138400,30\n坏,123,\n".encode("gbk")
        Wizard = self.env["shop.crm.import.wizard"].with_user(self.manager)
        wizard = Wizard.create(
            {"kind": "customers", "file": base64.b64encode(content), "file_name": "会员.csv"}
        )
        wizard.action_check()
        self.assertEqual(
            (wizard.state, wizard.rows, wizard.created, wizard.error_count), ("checked", 2, 0, 1)
        )
        self.assertIn("mobile", wizard.preview)
        errors = base64.b64decode(wizard.error_file).decode("utf-8-sig")
        self.assertIn("2,mobile,", errors)
        wizard.action_import()
        self.assertEqual(wizard.state, "checked", "errors: nothing imported")
        self.assertFalse(self._partner("+8613800138400"))
        wizard.skip_errors = True
        wizard.action_import()
        self.assertEqual((wizard.state, wizard.created), ("done", 1))
        self.assertEqual(self._partner("+8613800138400").with_company(self.company).points_balance, 30)
        with self.assertRaises(AccessError):
            self.env["shop.crm.import.wizard"].with_user(self.staff).create(
                {"kind": "customers", "file": base64.b64encode(content), "file_name": "x.csv"}
            )


@tagged("post_install", "-at_install")
class TestBackgroundImport(ImportCase):
    """A large file is imported by a background job (ir.cron triggered), whose progress the wizard shows."""

    def setUp(self):
        super().setUp()
        # one cursor for the test and the progress writes (which otherwise commit through their own)
        self.registry.enter_test_mode(self.cr)
        self.addCleanup(self.registry.leave_test_mode)
        self.env["ir.config_parameter"].sudo().set_param("shop_crm.import_background_rows", 2)
        self.cron = self.env.ref("shop_crm.ir_cron_shop_crm_import_jobs")

    def _wizard(self, content, name="大文件.csv", user=None):
        wizard = (
            self.env["shop.crm.import.wizard"]
            .with_user(user or self.manager)
            .create({"kind": "customers", "file": base64.b64encode(content), "file_name": name})
        )
        wizard.action_check()
        return wizard

    def test_large_file_runs_in_a_job_with_progress_and_a_notification(self):
        content = (
            "姓名,手机号,积分,会员等级\n甲,13800138501,10,金卡\n乙,13800138502,,\n丙,13800138503,5,\n"
        ).encode()
        wizard = self._wizard(content)
        self.assertEqual((wizard.state, wizard.rows, wizard.created), ("checked", 3, 3))
        triggers_before = self.env["ir.cron.trigger"].search_count([("cron_id", "=", self.cron.id)])
        wizard.action_import()
        job = wizard.job_id
        self.assertEqual(
            (wizard.state, job.state, job.running, job.progress), ("running", "queued", False, 0)
        )
        self.assertEqual(job.user_id, self.manager)
        self.assertEqual(
            self.env["ir.cron.trigger"].search_count([("cron_id", "=", self.cron.id)]), triggers_before + 1
        )
        self.assertFalse(self._partner("+8613800138501"), "nothing imported before the job runs")
        bus_before = self.env["bus.bus"].search([], order="id desc", limit=1).id or 0
        self.env["shop.crm.import.job"]._cron_run_jobs()
        job.invalidate_recordset()
        self.assertEqual(
            (job.state, job.created, job.updated, job.unchanged, job.error_count), ("done", 3, 0, 0, 0)
        )
        # the progress the import wrote, rows done / total, as the wizard and the job list read it
        self.env.cr.execute(
            "SELECT rows_done, rows_total FROM shop_crm_import_progress WHERE job_id = %s", [job.id]
        )
        self.assertEqual(self.env.cr.fetchall(), [(3, 3)])
        self.assertEqual((job.rows_done, job.rows_total, job.progress), (3, 3, 100.0))
        customer = self._partner("+8613800138501")
        self.assertEqual(customer.with_company(self.company).points_balance, 10)
        self.assertEqual(customer.tier_id, self.gold)
        self.env.cr.precommit.run()  # the bus sends its notifications when the transaction commits
        notification = self.env["bus.bus"].search([("id", ">", bus_before)])
        self.assertEqual(len(notification), 1)
        self.assertIn("simple_notification", notification.message)
        self.assertIn(str(self.manager.partner_id.id), notification.channel)
        wizard.action_refresh()
        self.assertEqual((wizard.state, wizard.created), ("done", 3))
        # the job ran as the manager and is done: running the scheduled action again changes nothing
        self.env["shop.crm.import.job"]._cron_run_jobs()
        self.assertEqual(
            self.env["res.partner"].search_count([("mobile_normalized", "=", "+8613800138501")]), 1
        )

    def test_progress_while_importing(self):
        """The import reports rows done / total of its job while it writes (the new customers in blocks)."""
        job = (
            self.env["shop.crm.import.job"]
            .with_user(self.manager)
            .create({"kind": "customers", "file": base64.b64encode(b"x"), "file_name": "x.csv"})
        )
        path = self._csv(
            "progress.csv",
            [["", f"客{i}", f"1380013{8600 + i}"] for i in range(4)],
            header=["member_code", "name", "mobile"],
        )
        result = self.Import.with_context(shop_crm_import_job_id=job.id).run(path, "customers")
        self.assertEqual(result["created"], 4)
        self.assertEqual((job.running, job.rows_done, job.rows_total), (True, 4, 4))
        # without a job, nothing is reported
        count = self.env["shop.crm.import.progress"].sudo().search_count([])
        self.Import.run(
            self._csv("no_job.csv", [["", "客x", "13800139700"]], header=["member_code", "name", "mobile"]),
            "customers",
        )
        self.assertEqual(self.env["shop.crm.import.progress"].sudo().search_count([]), count)

    def test_failed_job_and_errors_import_nothing(self):
        wizard = self._wizard("姓名,手机号\n甲,13800138511\n乙,123\n丙,13800138513\n".encode())
        self.assertEqual(wizard.error_count, 1)
        wizard.action_import()
        self.env["shop.crm.import.job"]._cron_run_jobs()
        job = wizard.job_id
        job.invalidate_recordset()
        self.assertEqual((job.state, job.created, job.error_count), ("failed", 0, 1))
        self.assertIn("errors", job.message)
        self.assertIn("2,mobile,", base64.b64decode(job.error_file).decode("utf-8-sig"))
        self.assertFalse(self._partner("+8613800138511"), "nothing is half-imported")
        wizard.action_refresh()
        self.assertEqual(wizard.state, "checked")
        # a file that is not a spreadsheet: the job fails with the import's message
        bad = (
            self.env["shop.crm.import.job"]
            .with_user(self.manager)
            .create(
                {"kind": "customers", "file": base64.b64encode(b"\x00\x01\x02binary"), "file_name": "x.csv"}
            )
        )
        self.env["shop.crm.import.job"]._cron_run_jobs()
        bad.invalidate_recordset()
        self.assertEqual(bad.state, "failed")
        self.assertIn("not a spreadsheet", bad.message)

    def test_staff_cannot_start_or_read_background_imports(self):
        with self.assertRaises(AccessError):
            self.env["shop.crm.import.job"].with_user(self.staff).create(
                {"kind": "customers", "file": base64.b64encode(b"x"), "file_name": "x.csv"}
            )
        job = (
            self.env["shop.crm.import.job"]
            .with_user(self.manager)
            .create({"kind": "customers", "file": base64.b64encode(b"x"), "file_name": "x.csv"})
        )
        with self.assertRaises(AccessError):
            job.with_user(self.staff).read(["state"])
        with self.assertRaises(AccessError):
            job.with_user(self.manager).write({"state": "done"})


@tagged("post_install", "-at_install")
class TestImportSamples(ImportCase):
    def test_shipped_samples_import_cleanly_into_a_shop_like_the_demo(self):
        from odoo.tests import new_test_user

        for login in ("shop.staff1", "shop.staff2", "shop.staff3"):
            new_test_user(self.env, login=login, groups="shop_crm.group_shop_crm_user")
        self.env["shop.crm.tier"].create({"name": "普通会员", "sequence": 10, "min_spend": 0})
        self.env["shop.crm.tier"].create({"name": "钻石", "sequence": 40, "min_spend": 20000})
        folder = os.path.join(os.path.dirname(os.path.dirname(__file__)), "data", "samples")
        customers = os.path.join(folder, "customers_youzan.csv")
        purchases = os.path.join(folder, "purchases_youzan.csv")
        result = self.Import.run(customers, "customers")
        self.assertEqual((result["errors"], result["created"]), ([], 40))
        result = self.Import.run(purchases, "purchases")
        self.assertEqual((result["errors"], result["created"]), ([], result["rows"]))
        self.assertEqual(self.Import.run(customers, "customers")["unchanged"], 40)
        self.assertEqual(self.Import.run(purchases, "purchases")["unchanged"], result["rows"])
