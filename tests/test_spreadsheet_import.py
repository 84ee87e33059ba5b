"""Unit tests of the pure reading and validation rules (lib/spreadsheet_import.py, no database)."""

import datetime

import pandas as pd

from odoo.tests import BaseCase, tagged

from ..lib import spreadsheet_import as sheet


def _table(rows, header):
    frame = pd.DataFrame(rows, columns=header, dtype=object)
    frame.index = pd.RangeIndex(1, len(frame) + 1)
    return frame


@tagged("post_install", "-at_install")
class TestSpreadsheetRules(BaseCase):
    def test_dates_in_every_accepted_spelling(self):
        values = pd.Series(
            ["1990-03-05", "1990/3/5", "1990.3.5", "1990年3月5日", datetime.datetime(1990, 3, 5, 14, 0), "",
             None,
             "1990-02-30", "5/3/1990", "2024-02-14 10:30"],
            index=range(1, 11),
            dtype=object,
        )  # fmt: skip
        dates, bad = sheet.parse_dates(values)
        self.assertEqual(list(dates[:5]), [datetime.date(1990, 3, 5)] * 5)
        self.assertEqual((dates[6], dates[7], dates[10]), (None, None, datetime.date(2024, 2, 14)))
        self.assertEqual(list(bad[bad].index), [8, 9])

    def test_columns_case_insensitive_and_chinese(self):
        found = sheet.recognise_columns(["MEMBER_CODE", "姓名", "Mobile", "备注", "unknown"], "customers")
        self.assertEqual(
            found, {"member_code": "MEMBER_CODE", "name": "姓名", "mobile": "Mobile", "notes": "备注"}
        )

    def test_customer_cells(self):
        table = _table(
            [["A1", "张三", "138 0013 8000", "男", "金卡", "1,200", "VIP，老客户、VIP", "是"],
             ["A2", "李四", "+1 650 253 0000", "f", "", "", "", "0"],
             ["A1", "", "abc", "x", "铁卡", "-1", "", "maybe"]],
            ["会员卡号", "姓名", "手机号", "性别", "会员等级", "积分", "标签", "短信营销"],
        )  # fmt: skip
        parsed = sheet.validate_customers(table, {"金卡": 3}, {})
        frame = parsed.frame
        self.assertEqual(frame.at[1, "mobile_normalized"], "+8613800138000")
        self.assertEqual((frame.at[1, "gender"], frame.at[2, "gender"]), ("male", "female"))
        self.assertEqual((frame.at[1, "tier_id"], frame.at[1, "points"]), (3, 1200))
        self.assertEqual(frame.at[1, "tags"], ("VIP", "老客户"))
        self.assertEqual((frame.at[1, "consent_sms"], frame.at[2, "consent_sms"]), (True, False))
        codes = {(issue.row, issue.column): issue.code for issue in parsed.issues}
        self.assertEqual(
            codes,
            {(2, "mobile"): "foreign_mobile", (3, "name"): "required", (3, "mobile"): "bad_mobile",
             (3, "gender"): "bad_gender", (3, "tier"): "unknown_tier", (3, "points"): "negative_points",
             (3, "consent_sms"): "bad_yes_no", (3, "member_code"): "duplicate_in_file"},
        )  # fmt: skip
        self.assertEqual(list(frame["bad"]), [False, True, True])

    def test_missing_columns(self):
        parsed = sheet.validate_customers(_table([["x"]], ["email"]), {}, {})
        self.assertEqual(
            [(issue.row, issue.column) for issue in parsed.issues], [(0, "name"), (0, "mobile/member_code")]
        )
        parsed = sheet.validate_purchases(_table([["R1", "10"]], ["单号", "金额"]))
        self.assertEqual({issue.column for issue in parsed.issues}, {"date", "member_code/mobile"})

    def test_purchase_cells(self):
        table = _table(
            [["R1", "A1", "2025-01-02", "¥1,299.50"], ["R1", "", "2025-01-03", "x"], ["R3", "A1", "", "-5"]],
            ["reference", "member_code", "date", "amount"],
        )
        parsed = sheet.validate_purchases(table)
        self.assertEqual(parsed.frame.at[1, "amount"], 1299.5)
        codes = {(issue.row, issue.column, issue.code) for issue in parsed.issues}
        self.assertEqual(
            codes,
            {(2, "member_code", "mobile_or_code"), (2, "amount", "bad_number"),
             (2, "reference", "duplicate_in_file"),
             (3, "date", "required")},
        )  # fmt: skip

    def test_reading_refuses_what_is_not_a_spreadsheet(self):
        for content, code in (
            (b"", "empty"),
            (b"\x89PNG\r\n\x1a\n\x00\x00", "not_spreadsheet"),
            (b"PK\x03\x04not really a zip", "not_spreadsheet"),
            (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1garbage", "not_spreadsheet"),
            ("name,mobile\n张三,1\n".encode("utf-16"), "not_spreadsheet"),
            (b"name\n\xff\xfe\xfa\n", "encoding"),
        ):
            with self.subTest(content=content[:8]), self.assertRaises(sheet.FileError) as raised:
                sheet.read_table(content=content)
            self.assertEqual(raised.exception.code, code)
        gbk = sheet.read_table(content="姓名;手机号\n张三;13800138000\n".encode("gbk"))
        self.assertEqual(list(gbk.columns), ["姓名", "手机号"])
        self.assertEqual(gbk.at[1, "姓名"], "张三")
