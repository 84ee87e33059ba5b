import base64
import io
import json
from datetime import date, datetime

import openpyxl
from freezegun import freeze_time

from odoo.exceptions import AccessError, UserError
from odoo.tests import Form, tagged
from odoo.tools import SQL

from ..lib import privacy
from .test_members import MembersCase

NAME = "隐私测试王小美"
MOBILE = "13912345678"
PHONE = "057188812345"
EMAIL = "xiaomei.privacy@example.com"
OLD_EMAIL = "old.xiaomei@example.com"
WECHAT = "wxm_privacy_88"
STREET = "文三路隐私巷88号"
NOTE_WORD = "百合过敏隐私"


@tagged("post_install", "-at_install")
class TestPrivacyLib(MembersCase):
    def test_json_and_xlsx_documents(self):
        sections = [
            privacy.Section(
                "profile",
                "Profile",
                [("name", "Name"), ("born", "Birthday")],
                [{"name": NAME, "born": date(1990, 5, 1)}],
            ),
            privacy.Section("visits", "Visits: [2026]", [("notes", "Notes")], []),
        ]
        document = json.loads(privacy.to_json(sections, {"Reference": "PIPL/1"}))
        self.assertEqual(document["profile"], [{"name": NAME, "born": "1990-05-01"}])
        self.assertEqual(document["visits"], [])
        workbook = openpyxl.load_workbook(io.BytesIO(privacy.to_xlsx(sections, {"Reference": "PIPL/1"})))
        self.assertEqual(workbook.sheetnames, ["Export", "Profile", "Visits   2026 "])
        self.assertEqual([cell.value for cell in workbook["Profile"][2]], [NAME, "1990-05-01"])


@tagged("post_install", "-at_install")
class TestPrivacyRequests(MembersCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company.shop_crm_tz = "Asia/Shanghai"
        cls.referrer = cls._customer("推荐人老陈")
        cls.customer = cls._customer(
            NAME,
            mobile=MOBILE,
            phone=PHONE,
            email=OLD_EMAIL,
            wechat_id=WECHAT,
            street=STREET,
            city="杭州",
            country_id=cls.env.ref("base.cn").id,
            birthday=date(1990, 5, 1),
            gender="female",
            preference_notes=f"喜欢白色 {NOTE_WORD}",
            comment=f"<p>VIP {NOTE_WORD}</p>",
            referred_by_id=cls.referrer.id,
        )
        cls.customer.with_user(cls.staff).action_shop_crm_enroll()
        Consent = cls.env["shop.crm.consent"].with_user(cls.staff)
        Consent.create([{"partner_id": cls.customer.id, "channel": channel} for channel in ("email", "sms")])
        cls.env["shop.crm.occasion"].with_user(cls.staff).create(
            {"partner_id": cls.customer.id, "name": f"母亲生日 {NOTE_WORD}", "date": date(1960, 8, 15)}
        )

    def _history(self):
        """Visits, a ticket with chatter and an attachment, a paid POS order at 07:30 Shanghai time and a
        confirmed sale order."""
        customer = self.customer
        customer.email = EMAIL  # tracked: the old address stays in the chatter's tracking values
        self.env["shop.crm.visit"].with_user(self.staff).create(
            {
                "partner_id": customer.id,
                "notes": f"{NAME} 说 {NOTE_WORD}",
                "next_date": date(2026, 12, 1),
                "date": datetime(2026, 11, 20, 2, 0),
            }
        )
        ticket = (
            self.env["shop.crm.feedback"]
            .with_user(self.staff)
            .create({"description": f"{NAME} 投诉: 花枯萎了 {MOBILE}"})
        )
        ticket.partner_id = customer  # tracked: the customer's name is copied into the tracking value
        ticket.message_post(body=f"回电 {MOBILE}", attachments=[("note.txt", f"{EMAIL}".encode())])
        customer.message_post(
            body=f"微信 {WECHAT}", attachments=[("id.txt", NAME.encode())], subtype_xmlid="mail.mt_note"
        )
        session = self._pos_session()
        when = datetime(2026, 11, 20, 7, 30)  # Shanghai time (the demo payload builder's local time)
        self.env["pos.order"].sync_from_ui([self._pos_payload(session, customer, 120.0, when, 0)])
        self.pos_order = session.order_ids
        self.pos_order.date_order = datetime(2026, 11, 19, 23, 30)  # UTC: 07:30 on Nov 20 in Shanghai
        self.sale = self._sale(customer, 300)
        self.env.cr.precommit.run()  # the tracking values, as at the end of the request
        return ticket

    def _columns_holding(self, strings):
        """{(table, column): [strings found]} over every text, varchar and jsonb column of the database."""
        self.env.flush_all()
        self.env.cr.execute(
            """
            SELECT c.table_name, c.column_name
              FROM information_schema.columns c
              JOIN information_schema.tables t
                ON t.table_schema = c.table_schema AND t.table_name = c.table_name
             WHERE c.table_schema = 'public' AND t.table_type = 'BASE TABLE'
               AND c.data_type IN ('text', 'character varying', 'jsonb', 'character')
            """
        )
        found = {}
        for table, column in self.env.cr.fetchall():
            self.env.cr.execute(
                SQL(
                    "SELECT s FROM unnest(%s::text[]) s "
                    "WHERE EXISTS (SELECT 1 FROM %s WHERE strpos(%s::text, s) > 0)",
                    strings,
                    SQL.identifier(table),
                    SQL.identifier(column),
                )
            )
            if hits := [row[0] for row in self.env.cr.fetchall()]:
                found[(table, column)] = hits
        return found

    @freeze_time("2026-11-25 04:00:00")
    def test_export_json_and_xlsx(self):
        self._history()
        action = self.customer.with_user(self.manager).action_shop_crm_privacy_export()
        request = self.env["shop.crm.privacy.request"].browse(action["res_id"])
        self.assertEqual(request.request_type, "export")
        self.assertEqual(request.user_id, self.manager, "logged with who")
        self.assertEqual(request.date, datetime(2026, 11, 25, 4, 0), "and when")
        self.assertIn("exported by Manager Zhou", request.message_ids[0].body)
        document = json.loads(base64.b64decode(request.export_json))
        profile = document["profile"][0]
        self.assertEqual(
            (profile["name"], profile["mobile"], profile["email"], profile["wechat_id"], profile["birthday"]),
            (NAME, MOBILE, EMAIL, WECHAT, "1990-05-01"),
        )
        self.assertIn(STREET, profile["address"])
        self.assertEqual(sorted(c["channel"] for c in document["consents"]), ["Email", "SMS"])
        granted = self.customer.consent_ids[0].granted_date.isoformat()
        self.assertEqual(document["consents"][0]["granted_date"], granted)
        self.assertEqual(document["important_dates"][0]["date"], "08-15")
        self.assertIn(NOTE_WORD, document["visits"][0]["notes"])
        self.assertIn("花枯萎了", document["tickets"][0]["description"])
        kinds = sorted(line["kind"] for line in document["points_ledger"])
        self.assertEqual(kinds, ["Earned", "Earned"], "the POS order and the sale order earned points")
        purchases = sorted(document["purchases"], key=lambda row: row["date_order"])
        self.assertEqual([row["amount"] for row in purchases], [120.0, 300.0])
        self.assertEqual(purchases[0]["day"], "2026-11-20", "the POS sale's day in Shanghai, not the UTC day")
        workbook = openpyxl.load_workbook(io.BytesIO(base64.b64decode(request.export_xlsx)))
        self.assertIn("Purchases", workbook.sheetnames)
        self.assertEqual(workbook["Profile"]["A2"].value, NAME)
        self.assertEqual(workbook["Purchases"].max_row, 3, "header + two purchases")

    def test_requests_are_for_managers_and_logs_stay(self):
        with self.assertRaises(AccessError):
            self.customer.with_user(self.staff).action_shop_crm_privacy_export()
        with self.assertRaises(AccessError):
            self.customer.with_user(self.staff).action_shop_crm_privacy_anonymize()
        with self.assertRaises(AccessError):
            self.env["shop.crm.privacy.anonymize"].with_user(self.staff).create(
                {"partner_id": self.customer.id}
            )
        with self.assertRaises(AccessError):
            self.env["shop.crm.privacy.request"].with_user(self.staff).search([])
        request = self.env["shop.crm.privacy.request"].with_user(self.manager)._export(self.customer)
        with self.assertRaises(UserError):
            request.with_user(self.manager).write({"note": "changed"})
        with self.assertRaises(UserError):
            request.sudo().unlink()

    def test_anonymize_needs_confirmation(self):
        action = self.customer.with_user(self.manager).action_shop_crm_privacy_anonymize()
        wizard = Form(self.env[action["res_model"]].with_user(self.manager).with_context(**action["context"]))
        wizard = wizard.save()
        with self.assertRaises(UserError):
            wizard.action_anonymize()
        self.assertEqual(self.customer.name, NAME, "nothing changed without the confirmation")
        self.assertFalse(self.customer.with_user(self.manager).privacy_request_ids)

    def test_anonymize_refused_for_a_user_account(self):
        with self.assertRaises(UserError):
            self.env["shop.crm.privacy.request"].with_user(self.manager)._anonymize(self.staff.partner_id)

    @freeze_time("2026-11-25 04:00:00")
    def test_anonymize_leaves_no_personal_string(self):
        ticket = self._history()
        customer = self.customer
        self.env["shop.crm.privacy.request"].with_user(self.manager)._export(customer)
        strings = [NAME, MOBILE, PHONE, EMAIL, OLD_EMAIL, WECHAT, STREET, NOTE_WORD]
        before = self._columns_holding(strings)
        # the test is real: the strings were in core and Shop CRM tables before
        for place in [
            ("res_partner", "name"),
            ("res_partner", "complete_name"),
            ("res_partner", "mobile_normalized"),
            ("res_partner", "barcode"),
            ("mail_message", "body"),
            ("pos_order", "email"),
            ("shop_crm_visit", "notes"),
            ("shop_crm_feedback", "description"),
            ("pos_order", "mobile"),
            ("loyalty_history", "description"),
            ("shop_crm_occasion", "name"),
        ]:
            if place == ("res_partner", "barcode"):
                continue  # the barcode is the member code, checked below
            self.assertIn(place, before)
        member_code = customer.member_code
        self.assertTrue(customer.with_company(self.company).barcode == member_code)
        balance = customer.points_balance
        self.assertGreater(balance, 0)
        orders_before = (self.pos_order.amount_total, self.sale.amount_total)

        wizard = Form(
            self.env["shop.crm.privacy.anonymize"]
            .with_user(self.manager)
            .with_context(default_partner_id=customer.id)
        )
        wizard.note = "written request at the counter"
        wizard.confirm = True
        action = wizard.save().action_anonymize()
        request = self.env["shop.crm.privacy.request"].browse(action["res_id"])
        self.assertEqual((request.request_type, request.user_id), ("anonymize", self.manager))

        left = self._columns_holding([*strings, member_code])
        self.assertEqual(left, {}, "no personal string remains anywhere in the database")
        customer.invalidate_recordset()
        self.assertTrue(customer.exists() and customer.shop_crm_anonymized)
        self.assertFalse(
            customer.birthday or customer.gender or customer.wechat_id or customer.mobile_normalized
        )
        self.assertFalse(customer.occasion_ids)
        self.assertFalse(customer.consent_ids.filtered("granted"), "every consent withdrawn")
        self.assertEqual(set(customer.consent_ids.mapped("withdrawn_date")), {date(2026, 11, 25)})
        self.assertTrue(customer.do_not_contact)
        self.assertFalse(ticket.customer_comment)
        # the member card is closed, its balance forfeited by a ledger line
        card = (
            self.env["loyalty.card"]
            .with_context(active_test=False)
            .search([("partner_id", "=", customer.id), ("program_id", "=", self.program.id)])
        )
        self.assertFalse(card.active)
        self.assertEqual(card.points, 0)
        forfeit = card.history_ids.filtered(lambda line: line.shop_crm_kind == "forfeit")
        self.assertEqual(forfeit.used, balance)
        self.env.cr.execute("SELECT SUM(issued - used) FROM loyalty_history WHERE card_id = %s", [card.id])
        self.assertAlmostEqual(self.env.cr.fetchone()[0], 0, places=2, msg="balance = ledger = 0")
        # orders stay, anonymous, so sales stay true
        self.assertEqual((self.pos_order.partner_id, self.sale.partner_id), (customer, customer))
        self.assertEqual((self.pos_order.amount_total, self.sale.amount_total), orders_before)
        self.env.cr.execute(
            SQL(
                "SELECT COUNT(*), SUM(amount) FROM (%s) p WHERE p.partner_id = %s",
                self.company._shop_crm_purchases(),
                customer.id,
            )
        )
        self.assertEqual(self.env.cr.fetchone(), (2, 420))
        # the referrer keeps their reward, without the customer's name
        reward = self._lines(self.referrer, "referral")
        self.assertEqual(reward.issued, 100)
        # irreversible: a second request and an export are refused
        with self.assertRaises(UserError):
            self.env["shop.crm.privacy.request"].with_user(self.manager)._anonymize(customer)
        with self.assertRaises(UserError):
            self.env["shop.crm.privacy.request"].with_user(self.manager)._export(customer)
