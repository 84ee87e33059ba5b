import re
from datetime import datetime, timedelta

from freezegun import freeze_time

from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import HttpCase, tagged

from .common import ShopCrmCase


@tagged("post_install", "-at_install")
class TestFeedback(ShopCrmCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.customer = cls.env["res.partner"].create({"name": "投诉的客户", "user_id": cls.staff.id})
        cls.Feedback = cls.env["shop.crm.feedback"]

    def _ticket(self, **vals):
        return self.Feedback.with_user(self.staff).create(
            {"partner_id": self.customer.id, "description": "The roses wilted the next day.", **vals}
        )

    @freeze_time("2026-10-01 08:00:00")
    def test_sla_deadline_from_priority(self):
        self.env.company.write({"shop_crm_sla_hours_urgent": 4, "shop_crm_sla_hours_low": 72})
        urgent = self._ticket(priority="3")
        low = self._ticket(priority="0")
        normal = self._ticket()
        self.assertEqual(urgent.deadline, datetime(2026, 10, 1, 12, 0))
        self.assertEqual(low.deadline, datetime(2026, 10, 4, 8, 0))
        self.assertEqual(normal.deadline, datetime(2026, 10, 3, 8, 0))
        self.assertTrue(urgent.name.startswith("FB/2026/"))
        with freeze_time("2026-10-01 13:00:00"):
            self.assertIn(urgent, self.Feedback.search([("overdue", "=", True)]))
            self.assertNotIn(low, self.Feedback.search([("overdue", "=", True)]))
            urgent.write(
                {
                    "resolution": "Replaced the bouquet.",
                    "category_id": self.env.ref("shop_crm.feedback_category_freshness").id,
                    "root_cause": "The cold room was too warm.",
                }
            )
            urgent.action_resolve()
            self.assertFalse(urgent.sla_met, "resolved after its 4 hours")
            self.assertAlmostEqual(urgent.resolution_hours, 5.0)
        with self.assertRaises(ValidationError):
            self.env.company.shop_crm_sla_hours_high = 0

    @freeze_time("2026-10-01 08:00:00")
    def test_stage_rules_and_satisfaction_follow_up(self):
        ticket = self._ticket()
        with self.assertRaises(UserError):
            ticket.action_close()  # new -> closed is not allowed
        with self.assertRaises(UserError):
            ticket.action_resolve()  # no resolution yet
        ticket.action_start()
        self.assertEqual(ticket.stage, "in_progress")
        ticket.with_user(self.staff).write(
            {
                "resolution": "Replaced the bouquet and apologised.",
                "category_id": self.env.ref("shop_crm.feedback_category_freshness").id,
                "root_cause": "Old stock sold first.",
            }
        )
        ticket.with_user(self.staff).action_resolve()
        self.assertEqual(ticket.stage, "resolved")
        activity = self.env["mail.activity"].search(
            [("res_model", "=", "res.partner"), ("res_id", "=", self.customer.id)]
        )
        self.assertEqual(activity.activity_type_id, self.env.ref("shop_crm.mail_activity_type_follow_up"))
        self.assertEqual(activity.user_id, self.staff, "the customer's staff member calls back")
        ticket.action_close()
        with self.assertRaises(UserError):
            ticket.action_cancel()  # closed is final
        with self.assertRaises(ValidationError):
            ticket.nps = 11

    def test_compensation_posted_once(self):
        ticket = self._ticket()
        with self.assertRaises(AccessError):
            ticket.with_user(self.staff).action_compensate(50, "sorry")
        with self.assertRaises(UserError):
            ticket.with_user(self.manager).action_compensate(-5, "sorry")
        wizard = (
            self.env["shop.crm.feedback.compensate"]
            .with_user(self.manager)
            .create({"feedback_id": ticket.id, "points": 50, "reason": "Wilted roses"})
        )
        wizard.action_apply()
        self.assertEqual(self.customer.points_balance, 50)
        self.assertEqual(ticket.compensation_points, 50)
        line = self.customer.points_history_ids
        self.assertEqual(line.shop_crm_kind, "compensation")
        self.assertIn("Wilted roses", line.description)
        self.assertEqual(ticket.with_user(self.manager).action_compensate(50, "again"), 0, "once per ticket")
        self.assertEqual(self.customer.points_balance, 50)

    def test_coupon_compensation_once(self):
        program = self.env["loyalty.program"].create(
            {
                "name": "Sorry coupon",
                "program_type": "coupons",
                "trigger": "with_code",
                "applies_on": "current",
            }
        )
        ticket = self._ticket()
        wizard = (
            self.env["shop.crm.feedback.compensate"]
            .with_user(self.manager)
            .create({"feedback_id": ticket.id, "kind": "coupon", "reason": "Late delivery"})
        )
        with self.assertRaises(UserError):
            wizard.action_apply()  # no program chosen
        wizard.program_id = program
        wizard.action_apply()
        coupon = ticket.compensation_coupon_id
        self.assertEqual((coupon.program_id, coupon.partner_id), (program, self.customer))
        self.assertEqual(ticket.with_user(self.manager).action_compensate_coupon(program, "again"), coupon)
        self.assertEqual(self.env["loyalty.card"].search_count([("program_id", "=", program.id)]), 1, "once")
        self.assertIn(coupon.code, ticket.message_ids[0].body)
        with self.assertRaises(AccessError):
            ticket.with_user(self.staff).action_compensate_coupon(program, "x")

    def test_access(self):
        ticket = self._ticket()
        self.assertEqual(ticket.with_user(self.staff).read(["stage"])[0]["stage"], "new")
        with self.assertRaises(AccessError):
            ticket.with_user(self.staff).unlink()
        with self.assertRaises(AccessError):
            self.Feedback.with_user(self.outsider).search([])
        other_company = self.env["res.company"].create({"name": "Other shop"})
        elsewhere = self.Feedback.create(
            {"description": "x", "company_id": other_company.id, "partner_id": self.customer.id}
        )
        self.assertNotIn(elsewhere, self.Feedback.with_user(self.staff).search([]))
        ticket.with_user(self.manager).unlink()


@tagged("post_install", "-at_install")
class TestFeedbackPage(HttpCase):
    """The one-question page of a company without a satisfaction questionnaire (test_survey.py: with)."""

    def setUp(self):
        super().setUp()
        self.env.company.shop_crm_survey_id = False
        self.customer = self.env["res.partner"].create({"name": "Page customer"})
        self.ticket = self.env["shop.crm.feedback"].create(
            {"partner_id": self.customer.id, "description": "Late delivery", "channel": "phone"}
        )
        self.url = f"/shop_crm/feedback/{self.ticket.id}?access_token={self.ticket.access_token}"

    def _csrf(self, response):
        return re.search(r'name="csrf_token" value="([^"]+)"', response.text).group(1)

    def test_valid_token_stores_the_answer(self):
        page = self.url_open(self.url)
        self.assertEqual(page.status_code, 200)
        self.assertIn(self.ticket.name, page.text)
        answer = self.url_open(
            self.url,
            data={"csrf_token": self._csrf(page), "satisfaction": "4", "nps": "9", "comment": "Kind staff"},
        )
        self.assertEqual(answer.status_code, 200)
        self.assertIn("o_shop_crm_feedback_thanks", answer.text)
        self.assertEqual((self.ticket.satisfaction, self.ticket.nps), ("4", 9))
        self.assertEqual(self.ticket.nps_category, "promoter")
        self.assertEqual(self.ticket.customer_comment, "Kind staff")
        note = self.ticket.message_ids.filtered(lambda message: "The customer answered" in message.body)
        self.assertEqual(note.author_id, self.customer, "the customer's note")
        self.assertTrue(self.ticket.answered_date)

    def test_bad_answer_is_refused_and_nothing_stored(self):
        page = self.url_open(self.url)
        answer = self.url_open(
            self.url, data={"csrf_token": self._csrf(page), "satisfaction": "9", "nps": "x"}
        )
        self.assertEqual(answer.status_code, 400)
        self.assertFalse(self.ticket.satisfaction)

    def test_link_is_the_portal_token(self):
        """The link is the ticket's portal.mixin URL and token (the portal's share URL opens it too)."""
        token = self.ticket.access_token
        self.assertTrue(token)
        self.assertEqual(self.ticket.access_url, f"/shop_crm/feedback/{self.ticket.id}")
        self.assertTrue(self.ticket.public_url.endswith(self.url))
        self.assertEqual(self.ticket._get_share_url(), self.url, "the portal's own share URL")
        self.assertEqual(self.url_open(self.ticket._get_share_url()).status_code, 200)
        self.assertNotEqual(self.ticket.copy({"description": "Again"}).access_token, token, "not copied")

    def test_links_of_the_earlier_form_redirect(self):
        old = f"/shop_crm/feedback/{self.ticket.id}/{self.ticket.access_token}"
        moved = self.url_open(old, allow_redirects=False)
        self.assertEqual(moved.status_code, 308)
        self.assertTrue(moved.headers["Location"].endswith(self.url))
        page = self.url_open(old)
        self.assertEqual(page.status_code, 200)
        answer = self.url_open(old, data={"csrf_token": self._csrf(page), "satisfaction": "5", "nps": "10"})
        self.assertEqual(answer.status_code, 200, "a form posted to an old link is posted again")
        self.assertEqual(self.ticket.satisfaction, "5")
        self.assertEqual(self.url_open(f"/shop_crm/feedback/{self.ticket.id}/wrong-token").status_code, 404)

    def test_wrong_or_expired_token_refused(self):
        base = f"/shop_crm/feedback/{self.ticket.id}"
        self.assertEqual(self.url_open(f"{base}?access_token=wrong-token").status_code, 404)
        self.assertEqual(self.url_open(base).status_code, 404, "no token")
        self.assertEqual(self.url_open(f"{base}?access_token=").status_code, 404, "empty token")
        other = self.env["shop.crm.feedback"].create({"description": "Other", "channel": "phone"})
        self.assertEqual(
            self.url_open(
                f"/shop_crm/feedback/{other.id}?access_token={self.ticket.access_token}"
            ).status_code,
            404,
            "another ticket's token",
        )
        self.assertEqual(
            self.url_open(f"/shop_crm/feedback/{self.ticket.id + 999}?access_token=x").status_code, 404
        )
        page = self.url_open(self.url)
        refused = self.url_open(
            f"{base}?access_token=wrong",
            data={"csrf_token": self._csrf(page), "satisfaction": "1", "nps": "0"},
        )
        self.assertEqual(refused.status_code, 404)
        self.assertFalse(self.ticket.satisfaction, "nothing stored through a wrong token")
        self.ticket.env.cr.execute(
            "UPDATE shop_crm_feedback SET received_date = %s WHERE id = %s",
            [datetime.now() - timedelta(days=31), self.ticket.id],
        )
        self.ticket.invalidate_recordset()
        self.assertEqual(self.url_open(self.url).status_code, 404, "links expire after 30 days")

    def test_receipt_link_creates_one_ticket(self):
        config = self.env["pos.config"].create({"name": "Counter"})
        config.with_user(self.env.ref("base.user_admin")).open_ui()
        session = config.current_session_id
        product = self.env["product.product"].create({"name": "Lily", "list_price": 20, "taxes_id": []})
        cash = config.payment_method_ids.filtered("is_cash_count")[:1]
        order = self.env["pos.order"].create(
            {
                "session_id": session.id,
                "partner_id": self.customer.id,
                "lines": [
                    (
                        0,
                        0,
                        {
                            "product_id": product.id,
                            "qty": 1,
                            "price_unit": 20,
                            "price_subtotal": 20,
                            "price_subtotal_incl": 20,
                        },
                    )
                ],
                "amount_total": 20,
                "amount_tax": 0,
                "amount_paid": 0,
                "amount_return": 0,
            }
        )
        self.env["pos.make.payment"].with_context(active_id=order.id).create(
            {"amount": 20, "payment_method_id": cash.id}
        ).check()
        self.assertEqual(order.state, "paid")
        order._ensure_access_token()
        url = order.shop_crm_feedback_url.split("/", 3)[3]
        self.assertEqual(url, f"shop_crm/feedback/order/{order.id}?access_token={order.access_token}")
        page = self.url_open(f"/{url}")
        self.assertEqual(page.status_code, 200)
        for satisfaction in ("2", "1"):
            answer = self.url_open(
                f"/{url}", data={"csrf_token": self._csrf(page), "satisfaction": satisfaction, "nps": "3"}
            )
            self.assertEqual(answer.status_code, 200)
        ticket = self.env["shop.crm.feedback"].search([("pos_order_id", "=", order.id)])
        self.assertEqual(len(ticket), 1, "rating again updates the same ticket")
        self.assertEqual(
            (ticket.feedback_type, ticket.channel, ticket.partner_id),
            ("complaint", "public_page", self.customer),
        )
        self.assertEqual(
            (ticket.satisfaction, ticket.nps_category, ticket.nps_value), ("1", "detractor", -100)
        )
        self.assertEqual(
            self.url_open(f"/shop_crm/feedback/order/{order.id}?access_token=wrong").status_code, 404
        )
        self.assertEqual(self.url_open(f"/shop_crm/feedback/order/{order.id}/wrong").status_code, 404)
        old = self.url_open(
            f"/shop_crm/feedback/order/{order.id}/{order.access_token}", allow_redirects=False
        )
        self.assertEqual(old.status_code, 308, "receipts printed with the earlier link still work")
        self.assertTrue(old.headers["Location"].endswith(url))

    def test_closed_ticket_link_refused(self):
        self.ticket.write(
            {
                "resolution": "Refunded",
                "category_id": self.env.ref("shop_crm.feedback_category_other").id,
                "root_cause": "Wrong order",
            }
        )
        self.ticket.action_resolve()
        self.ticket.action_close()
        self.assertEqual(self.url_open(self.url).status_code, 404)
