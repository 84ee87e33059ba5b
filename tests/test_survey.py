"""Satisfaction questionnaires on Odoo survey: invitations (triggers, consent, cap, once per order,
ticket or visit), answers → complaint tickets, answers rating a resolved ticket, the receipt's link leading
to the questionnaire, who may see and change what, and a customer answering through the public link."""

import re
from datetime import datetime

from freezegun import freeze_time
from psycopg2 import IntegrityError

from odoo import Command
from odoo.exceptions import AccessError, ValidationError
from odoo.tests import HttpCase, tagged
from odoo.tools import mute_logger

from .common import ShopCrmCase


def paid_pos_order(env, partner, when=None, amount=20.0):
    """A paid POS order of ``partner`` (one product, no taxes), in the counter's open session."""
    config = env["pos.config"].search([("name", "=", "Survey counter")], limit=1)
    if not config:
        config = env["pos.config"].create({"name": "Survey counter"})
    if not config.current_session_id:
        config.with_user(env.ref("base.user_admin")).open_ui()
    product = env["product.product"].search([("name", "=", "Survey lily")], limit=1) or env[
        "product.product"
    ].create({"name": "Survey lily", "list_price": amount, "taxes_id": [], "available_in_pos": True})
    order = env["pos.order"].create(
        {
            "session_id": config.current_session_id.id,
            "partner_id": partner.id,
            "lines": [
                Command.create(
                    {
                        "product_id": product.id,
                        "qty": 1,
                        "price_unit": amount,
                        "price_subtotal": amount,
                        "price_subtotal_incl": amount,
                    }
                )
            ],
            "amount_total": amount,
            "amount_tax": 0,
            "amount_paid": 0,
            "amount_return": 0,
        }
    )
    cash = config.payment_method_ids.filtered("is_cash_count")[:1]
    env["pos.make.payment"].with_context(active_id=order.id).create(
        {"amount": amount, "payment_method_id": cash.id}
    ).check()
    if when:
        order.date_order = when
    return order


class SurveyCase(ShopCrmCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company = cls.env.company
        cls.company.write(
            {
                "shop_crm_tz": "Asia/Shanghai",
                "shop_crm_survey_after_order": True,
                "shop_crm_survey_after_ticket": True,
                "shop_crm_survey_after_visit": True,
            }
        )
        cls.survey = cls.env.ref("shop_crm.survey_store_satisfaction")
        cls.q = {
            name: cls.env.ref(f"shop_crm.survey_question_{name}")
            for name in ("quality", "service", "environment", "price", "recommend", "comment")
        }
        cls.Answer = cls.env["survey.user_input"]
        Partner = cls.env["res.partner"]
        cls.mailed = Partner.create(
            {"name": "邮件客户", "email": "mail@example.com", "user_id": cls.staff.id}
        )
        cls.texted = Partner.create({"name": "短信客户", "mobile": "+8613800002222"})
        cls.silent = Partner.create({"name": "未同意的客户", "email": "silent@example.com"})
        cls.stopped = Partner.create(
            {"name": "不要联系", "email": "stop@example.com", "do_not_contact": True}
        )
        cls.env["shop.crm.consent"].create(
            [
                {"partner_id": cls.mailed.id, "channel": "email"},
                {"partner_id": cls.texted.id, "channel": "sms"},
                {"partner_id": cls.stopped.id, "channel": "email"},
            ]
        )

    def _answer(self, answer, scores=(4, 4, 4, 4), nps=9, comment=""):
        """Answer as the survey front end saves it, and finish."""
        for name, score in zip(("quality", "service", "environment", "price"), scores, strict=True):
            answer._save_lines(self.q[name], str(score))
        answer._save_lines(self.q["recommend"], str(nps))
        if comment:
            answer._save_lines(self.q["comment"], comment)
        answer._mark_done()
        return answer

    def _ticket(self, partner, **vals):
        return self.env["shop.crm.feedback"].create(
            {"partner_id": partner.id, "description": "The vase was cracked.", **vals}
        )

    def _resolve(self, ticket):
        ticket.write(
            {
                "resolution": "New vase",
                "category_id": self.env.ref("shop_crm.feedback_category_quality").id,
                "root_cause": "Packed without paper",
            }
        )
        ticket.action_resolve()


@tagged("post_install", "-at_install")
class TestSurveyInvitations(SurveyCase):
    def test_shipped_questionnaire(self):
        self.assertEqual(self.company.shop_crm_survey_id, self.survey)
        self.assertEqual(self.survey.access_mode, "token", "only the invited answer, through their token")
        self.assertFalse(self.survey.users_login_required)
        self.assertEqual(
            [(q.question_type, q.shop_crm_measure) for q in self.survey.question_ids],
            [("scale", "score")] * 4 + [("scale", "nps"), ("text_box", "comment")],
        )
        self.assertEqual((self.q["quality"].scale_min, self.q["quality"].scale_max), (1, 5))
        self.assertEqual((self.q["recommend"].scale_min, self.q["recommend"].scale_max), (0, 10))
        self.assertEqual(
            self.q["price"].shop_crm_category_id, self.env.ref("shop_crm.feedback_category_price")
        )

    @freeze_time("2026-10-10 03:00:00")
    def test_after_visit_consent_checked_and_linked(self):
        Visit = self.env["shop.crm.visit"].with_user(self.staff)
        visits = Visit.create(
            [
                {"partner_id": partner.id, "outcome": "reached", "channel": "in_store"}
                for partner in (self.mailed, self.texted, self.silent, self.stopped)
            ]
        )
        no_answer = Visit.create({"partner_id": self.mailed.id, "outcome": "no_answer"})
        invitations = self.Answer.search([("shop_crm_visit_id", "in", (visits | no_answer).ids)])
        self.assertEqual(invitations.partner_id, self.mailed | self.texted, "only who consents")
        mailed = invitations.filtered(lambda answer: answer.partner_id == self.mailed)
        self.assertEqual(
            (mailed.shop_crm_trigger, mailed.shop_crm_staff_id, mailed.state, mailed.shop_crm_invited_day),
            ("visit", self.staff, "new", datetime(2026, 10, 10).date()),
        )
        mail = self.env["mail.mail"].search([("model", "=", "survey.user_input"), ("res_id", "=", mailed.id)])
        self.assertIn(mailed.access_token, mail.body_html, "the email carries the answer's own link")
        sms = self.env["sms.sms"].search([("partner_id", "=", self.texted.id)])
        self.assertIn(self.survey.access_token, sms.body)

    def test_cap_days_and_once_per_record(self):
        with freeze_time("2026-10-01 03:00:00"):
            first = self._ticket(self.mailed)
            self._resolve(first)
            invitation = self.Answer.search([("shop_crm_feedback_id", "=", first.id)])
            self.assertEqual(invitation.shop_crm_trigger, "ticket")
            first.action_reopen()
            self._resolve(first)
            self.assertEqual(
                self.Answer.search_count([("shop_crm_feedback_id", "=", first.id)]), 1, "once per ticket"
            )
        with freeze_time("2026-10-30 03:00:00"):  # 29 days later: capped
            second = self._ticket(self.mailed)
            self._resolve(second)
            self.assertFalse(self.Answer.search([("shop_crm_feedback_id", "=", second.id)]))
        with freeze_time("2026-10-31 03:00:00"):  # 30 days later: invited again
            third = self._ticket(self.mailed)
            self._resolve(third)
            self.assertTrue(self.Answer.search([("shop_crm_feedback_id", "=", third.id)]))
        self.company.shop_crm_survey_after_ticket = False
        with freeze_time("2026-12-31 03:00:00"):
            fourth = self._ticket(self.mailed)
            self._resolve(fourth)
            self.assertFalse(self.Answer.search([("shop_crm_feedback_id", "=", fourth.id)]), "trigger off")

    def test_after_purchase_nightly_once_per_order(self):
        # paid on 9 October 23:30 in Shanghai (15:30 UTC); the night of the 10th invites
        with freeze_time("2026-10-09 15:30:00"):
            order = paid_pos_order(self.env, self.texted)
            silent_order = paid_pos_order(self.env, self.silent)
        with freeze_time("2026-10-09 18:00:00"):  # 02:00 on the 10th in Shanghai
            self.env["shop.crm.nightly"]._cron_nightly()
            invitations = self.Answer.search([("shop_crm_pos_order_id", "in", (order | silent_order).ids)])
            self.assertEqual(invitations.shop_crm_pos_order_id, order)
            self.assertEqual(invitations.shop_crm_trigger, "order")
            self.env["shop.crm.nightly"]._cron_nightly()
            self.assertEqual(
                self.Answer.search([("shop_crm_pos_order_id", "in", (order | silent_order).ids)]),
                invitations,
                "the night run twice invites once",
            )
        with self.assertRaises(IntegrityError), mute_logger("odoo.sql_db"), self.env.cr.savepoint():
            self.Answer.create({"survey_id": self.survey.id, "shop_crm_pos_order_id": order.id})

    def test_cap_setting_validated(self):
        with self.assertRaises(ValidationError):
            self.company.shop_crm_survey_cap_days = 0


@tagged("post_install", "-at_install")
class TestSurveyAnswers(SurveyCase):
    def _order_answer(self, partner):
        order = paid_pos_order(self.env, partner)
        return order, self.Answer._shop_crm_link_answer(order)

    def test_low_score_opens_one_complaint_with_the_answers(self):
        order, answer = self._order_answer(self.mailed)
        self.assertEqual(self.Answer._shop_crm_link_answer(order), answer, "the same answer each time")
        self._answer(answer, scores=(5, 4, 4, 2), nps=8)
        ticket = answer.shop_crm_complaint_id
        self.assertEqual(
            (
                ticket.feedback_type,
                ticket.pos_order_id,
                ticket.partner_id,
                ticket.user_id,
                ticket.category_id,
            ),
            ("complaint", order, self.mailed, self.staff, self.env.ref("shop_crm.feedback_category_price")),
        )
        self.assertIn("Price: 2/5", ticket.description)
        self.assertEqual(ticket.survey_answer_ids, answer)
        self.assertEqual((answer.shop_crm_satisfaction, answer.shop_crm_nps), (4, 8))

    def test_answer_updates_the_open_complaint_of_its_order(self):
        order = paid_pos_order(self.env, self.texted)
        at_till = self._ticket(self.texted, pos_order_id=order.id, channel="in_store")
        answer = self._answer(self.Answer._shop_crm_link_answer(order), scores=(1, 4, 4, 4), nps=3)
        self.assertEqual(answer.shop_crm_complaint_id, at_till, "updated, not a second complaint")
        self.assertEqual(self.env["shop.crm.feedback"].search_count([("pos_order_id", "=", order.id)]), 1)
        self.assertTrue(at_till.message_ids.filtered(lambda m: "questionnaire" in (m.body or "")))

    def test_detractor_with_comment_is_a_complaint_without_comment_not(self):
        _order, quiet = self._order_answer(self.mailed)
        self._answer(quiet, scores=(3, 3, 3, 3), nps=5)
        self.assertFalse(quiet.shop_crm_complaint_id, "a detractor without a comment")
        _order, vocal = self._order_answer(self.texted)
        self._answer(vocal, scores=(3, 3, 3, 3), nps=5, comment="Queue too long")
        self.assertEqual(vocal.shop_crm_complaint_id.customer_comment, "Queue too long")
        _order, happy = self._order_answer(self.silent)
        self._answer(happy, scores=(5, 5, 4, 3), nps=10, comment="Lovely")
        self.assertFalse(happy.shop_crm_complaint_id)
        self.assertFalse(self.env["shop.crm.feedback"].search([("partner_id", "=", self.silent.id)]))

    def test_answer_on_a_resolved_ticket_rates_it_or_reopens_it(self):
        with freeze_time("2026-10-01 03:00:00"):
            ticket = self._ticket(self.mailed)
            self._resolve(ticket)
            answer = self.Answer.search([("shop_crm_feedback_id", "=", ticket.id)])
            self._answer(answer, scores=(5, 4, 4, 4), nps=9)
        self.assertEqual((ticket.satisfaction, ticket.nps, ticket.nps_category), ("4", 9, "promoter"))
        self.assertEqual(ticket.stage, "resolved")
        self.assertFalse(answer.shop_crm_complaint_id)
        with freeze_time("2026-11-15 03:00:00"):
            unhappy = self._ticket(self.texted)
            self._resolve(unhappy)
            answer = self.Answer.search([("shop_crm_feedback_id", "=", unhappy.id)])
            self._answer(answer, scores=(1, 2, 3, 3), nps=2, comment="Nobody called")
        self.assertEqual(answer.shop_crm_complaint_id, unhappy, "the same complaint, not a second")
        self.assertEqual(unhappy.stage, "in_progress", "reopened")
        self.assertEqual((unhappy.satisfaction, unhappy.nps), ("2", 2))
        self.assertEqual(self.env["shop.crm.feedback"].search_count([("partner_id", "=", self.texted.id)]), 1)

    def test_analysis_and_access(self):
        _order, answer = self._order_answer(self.mailed)
        with freeze_time("2026-10-09 17:00:00"):  # 01:00 on the 10th in Shanghai
            self._answer(answer, scores=(5, 4, 3, 1), nps=6, comment="Expensive")
        self.env.flush_all()  # the analysis is a SQL view over the answer lines
        rows = self.env["shop.crm.survey.analysis"].search([("user_input_id", "=", answer.id)])
        self.assertEqual(len(rows), 5)
        self.assertEqual(set(rows.mapped("answer_day")), {datetime(2026, 10, 10).date()})
        by_question = {row.question_id: row for row in rows}
        self.assertEqual(by_question[self.q["price"]].low_score, 1)
        self.assertEqual(by_question[self.q["recommend"]].nps_value, -100)
        self.assertEqual(by_question[self.q["quality"]].product_category_id, _order.lines.product_id.categ_id)
        # staff read answers and the analysis; they change neither answers nor questionnaires
        self.assertEqual(answer.with_user(self.staff).shop_crm_satisfaction, 3)
        self.assertEqual(len(self.env["shop.crm.survey.analysis"].with_user(self.staff).search([])), 5)
        self.assertEqual(self.survey.with_user(self.staff).title, self.survey.title)
        with self.assertRaises(AccessError):
            answer.with_user(self.staff).write({"shop_crm_satisfaction": 5})
        with self.assertRaises(AccessError):
            self.survey.with_user(self.staff).write({"title": "Mine"})
        with self.assertRaises(AccessError):
            self.q["price"].with_user(self.staff).write({"title": "Cost"})
        with self.assertRaises(AccessError):
            answer.with_user(self.outsider).read(["shop_crm_satisfaction"])
        # managers edit the questionnaire
        self.survey.with_user(self.manager).write({"title": "How was your visit to us?"})
        self.q["price"].with_user(self.manager).write({"title": "Price and value"})
        self.assertEqual(self.q["price"].title, "Price and value")


@tagged("post_install", "-at_install")
class TestSurveyPublicLink(HttpCase):
    """A customer answers the questionnaire from their receipt's link, without logging in."""

    def test_receipt_link_leads_to_the_questionnaire(self):
        customer = self.env["res.partner"].create({"name": "扫码的客户"})
        order = paid_pos_order(self.env, customer)
        order._ensure_access_token()
        survey = self.env.ref("shop_crm.survey_store_satisfaction")
        link = f"/shop_crm/feedback/order/{order.id}?access_token={order.access_token}"
        self.assertEqual(
            self.url_open(f"/shop_crm/feedback/order/{order.id}?access_token=x").status_code, 404
        )
        moved = self.url_open(link, allow_redirects=False)
        self.assertEqual(moved.status_code, 303)
        answer = self.env["survey.user_input"].search([("shop_crm_pos_order_id", "=", order.id)])
        self.assertEqual(answer.partner_id, customer)
        self.assertIn(
            f"/survey/start/{survey.access_token}?answer_token={answer.access_token}",
            moved.headers["Location"],
        )
        start = self.url_open(link)
        self.assertEqual(start.status_code, 200)
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', start.text).group(1)
        base = survey.get_base_url()
        self.opener.post(f"{base}/survey/begin/{survey.access_token}/{answer.access_token}", json={})
        post = {"csrf_token": csrf, "token": answer.access_token, "button_submit": "submit"}
        for question, value in zip(
            survey.question_ids, ("2", "4", "4", "4", "3", "The roses wilted"), strict=True
        ):
            post[str(question.id)] = value
        response = self.opener.post(
            f"{base}/survey/submit/{survey.access_token}/{answer.access_token}", json={"params": post}
        )
        self.assertEqual(response.status_code, 200, response.text)
        self.assertNotIn("error", response.json(), response.text)
        answer.invalidate_recordset()
        self.assertEqual(answer.state, "done")
        ticket = answer.shop_crm_complaint_id
        self.assertEqual((ticket.feedback_type, ticket.pos_order_id), ("complaint", order))
        self.assertEqual(ticket.category_id, self.env.ref("shop_crm.feedback_category_quality"))
        self.assertIn("The roses wilted", ticket.description)
