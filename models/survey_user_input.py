from datetime import timedelta

from odoo import api, fields, models
from odoo.tools import SQL

from ..lib import survey_rules
from .res_company import POS_PAID_STATES

TRIGGERS = [
    ("order", "After a Purchase"),
    ("ticket", "After a Resolved Ticket"),
    ("visit", "After a Visit"),
    ("link", "Receipt or Ticket Link"),
]
# What each trigger's invitation is about: the field of the record, the company setting that turns it on.
TRIGGER_FIELDS = {
    "order": ("shop_crm_pos_order_id", "shop_crm_survey_after_order"),
    "ticket": ("shop_crm_feedback_id", "shop_crm_survey_after_ticket"),
    "visit": ("shop_crm_visit_id", "shop_crm_survey_after_visit"),
}


class SurveyUserInput(models.Model):
    """An answer to a Shop CRM questionnaire, linked to the customer, the order, ticket or visit it is
    about and the staff member; invitations are answers not started yet (core's own ``new`` state), sent
    by email or SMS to customers who consent, at most one per customer per the company's cap days, once
    per order, ticket or visit. A finished answer opens or updates a complaint ticket when it is unhappy
    (lib/survey_rules.py) and rates the resolved ticket it is about."""

    _inherit = "survey.user_input"

    shop_crm_trigger = fields.Selection(TRIGGERS, "Sent", readonly=True, index=True)
    shop_crm_company_id = fields.Many2one("res.company", "Shop", readonly=True, index="btree_not_null")
    shop_crm_pos_order_id = fields.Many2one(
        "pos.order", "POS Order", readonly=True, index="btree_not_null", ondelete="set null"
    )
    shop_crm_feedback_id = fields.Many2one(
        "shop.crm.feedback", "About Ticket", readonly=True, index="btree_not_null", ondelete="set null"
    )
    shop_crm_visit_id = fields.Many2one(
        "shop.crm.visit", "Visit", readonly=True, index="btree_not_null", ondelete="set null"
    )
    shop_crm_staff_id = fields.Many2one("res.users", "Staff Member", readonly=True, index="btree_not_null")
    shop_crm_complaint_id = fields.Many2one(
        "shop.crm.feedback",
        "Complaint",
        readonly=True,
        index="btree_not_null",
        ondelete="set null",
        help="The complaint ticket this unhappy answer opened or updated.",
    )
    shop_crm_invited_day = fields.Date("Invited On", readonly=True)
    shop_crm_answer_day = fields.Date("Answered On", readonly=True, index="btree_not_null")
    shop_crm_satisfaction = fields.Integer("Satisfaction (1-5)", readonly=True, aggregator="avg")
    shop_crm_nps = fields.Integer("Recommendation (0-10)", default=-1, readonly=True)
    shop_crm_comment = fields.Text("Comment", readonly=True)

    _sql_constraints = [
        ("shop_crm_order_once", "UNIQUE(shop_crm_pos_order_id)", "An order has one questionnaire."),
        ("shop_crm_ticket_once", "UNIQUE(shop_crm_feedback_id)", "A ticket has one questionnaire."),
        ("shop_crm_visit_once", "UNIQUE(shop_crm_visit_id)", "A visit has one questionnaire."),
    ]

    # ---- invitations --------------------------------------------------------------------------------

    @api.model
    def _shop_crm_invite(self, trigger, records):
        """Invite the customers of ``records`` (POS orders, tickets or visits, as ``trigger`` says) to the
        company's questionnaire, when the company sends it for this trigger: only customers who consent to
        email or SMS, not invited in the cap days, once per record. Returns the invitations sent."""
        field, setting = TRIGGER_FIELDS[trigger]
        invited = self.browse()
        for company, company_records in records.grouped("company_id").items():
            survey = company.shop_crm_survey_id
            if not (company[setting] and survey):
                continue
            invited |= self._shop_crm_invite_company(company, survey, trigger, field, company_records)
        return invited

    def _shop_crm_invite_company(self, company, survey, trigger, field, records):
        records = records.filtered("partner_id")
        partners = records.partner_id
        Consent = self.env["shop.crm.consent"].sudo()
        by_mail = Consent._consented_partners(partners, "email").filtered("email")
        by_sms = Consent._consented_partners(partners, "sms").filtered(lambda p: p.mobile or p.phone)
        today = company._shop_crm_today()
        cap_days = company.shop_crm_survey_cap_days
        recent = self.sudo()._read_group(
            [
                ("partner_id", "in", partners.ids),
                ("shop_crm_trigger", "in", list(TRIGGER_FIELDS)),
                ("shop_crm_invited_day", ">", today - timedelta(days=cap_days)),
            ],
            ["partner_id"],
            ["shop_crm_invited_day:max"],
        )
        already = {
            (field, record.id) for record in self.sudo().search([(field, "in", records.ids)]).mapped(field)
        }
        candidates = [survey_rules.Candidate(record.partner_id.id, (field, record.id)) for record in records]
        chosen, _skipped = survey_rules.invitations(
            candidates,
            consented=set((by_mail | by_sms).ids),
            last_invited={partner.id: day for partner, day in recent},
            already_invited=already,
            cap_days=cap_days,
            today=today,
        )
        by_id = {record.id: record for record in records}
        invitations = self.sudo().create(
            [
                {
                    **self._shop_crm_answer_vals(company, survey, by_id[candidate.key[1]], field),
                    "shop_crm_trigger": trigger,
                    "shop_crm_invited_day": today,
                }
                for candidate in chosen
            ]
        )
        mailed = invitations.filtered(lambda answer: answer.partner_id in by_mail)
        if mailed:
            template = self.env.ref("shop_crm.mail_template_survey_invitation")
            template.sudo().send_mail_batch(mailed.ids, email_layout_xmlid="mail.mail_notification_light")
        texted = invitations - mailed
        if texted:
            texted._message_sms_schedule_mass(
                template=self.env.ref("shop_crm.sms_template_survey_invitation").sudo(), mass_keep_log=True
            )
        return invitations

    @api.model
    def _shop_crm_answer_vals(self, company, survey, record, field):
        """The values of the answer to ``survey`` about ``record`` (an order, ticket or visit in
        ``field``): its customer and staff member (the customer's, else the cashier or the ticket's or
        visit's)."""
        partner = record.partner_id
        return {
            "survey_id": survey.id,
            "partner_id": partner.id,
            "email": partner.email,
            "nickname": partner.name,
            "shop_crm_company_id": company.id,
            field: record.id,
            "shop_crm_staff_id": (partner.user_id or record.user_id).id,
        }

    @api.model
    def _shop_crm_link_answer(self, record):
        """The answer that the public link of a POS order or ticket leads to (created on first use: the
        customer opened it; not an invitation, so no consent or cap applies). None when the company has no
        questionnaire."""
        company = record.company_id
        survey = company.shop_crm_survey_id
        if not survey:
            return None
        field = "shop_crm_pos_order_id" if record._name == "pos.order" else "shop_crm_feedback_id"
        self.env.cr.execute(
            SQL("SELECT pg_advisory_xact_lock(hashtext(%s))", f"shop_crm_survey:{field}:{record.id}")
        )
        answer = self.sudo().search([(field, "=", record.id)], limit=1)
        if not answer:
            answer = self.sudo().create(
                {**self._shop_crm_answer_vals(company, survey, record, field), "shop_crm_trigger": "link"}
            )
        return answer

    @api.model
    def _cron_survey_invitations(self):
        """The nightly invitations after a purchase: the customers of yesterday's paid POS orders (in each
        shop's day), for the companies that send them."""
        for company in self.env["res.company"].sudo().search([("shop_crm_survey_after_order", "=", True)]):
            today = company._shop_crm_today()
            orders = (
                self.env["pos.order"]
                .sudo()
                .search(
                    [
                        ("company_id", "=", company.id),
                        ("state", "in", POS_PAID_STATES),
                        ("partner_id", "!=", False),
                        ("date_order", ">=", company._shop_crm_day_start(today - timedelta(days=1))),
                        ("date_order", "<", company._shop_crm_day_start(today)),
                    ],
                    order="date_order desc, id desc",
                )
            )
            if orders:
                self._shop_crm_invite("order", orders)

    # ---- answers ------------------------------------------------------------------------------------

    def _mark_done(self):
        result = super()._mark_done()
        self.filtered(lambda answer: answer.survey_id.shop_crm_satisfaction)._shop_crm_process()
        return result

    def _shop_crm_scores(self):
        """(scores [(question, 1-5)], recommendation 0-10 or None, comment) of this answer."""
        self.ensure_one()
        scores, nps, comments = [], None, []
        for line in self.user_input_line_ids.filtered(lambda line: not line.skipped):
            measure = line.question_id.shop_crm_measure
            if measure == "score" and line.answer_type == "scale":
                scores.append((line.question_id, line.value_scale))
            elif measure == "nps" and line.answer_type == "scale":
                nps = line.value_scale
            elif measure == "comment" and (line.value_text_box or line.value_char_box):
                comments.append(line.value_text_box or line.value_char_box)
        return scores, nps, "\n".join(comments).strip()

    def _shop_crm_summary(self, scores, nps, comment):
        parts = [f"{question.title}: {score}/5" for question, score in scores]
        if nps is not None:
            parts.append(self.env._("Recommendation: %(nps)s/10", nps=nps))
        if comment:
            parts.append(self.env._("Comment: %(comment)s", comment=comment))
        return "\n".join(parts)

    def _shop_crm_process(self):
        """Store the answer's satisfaction, recommendation and comment; a resolved ticket it is about gets
        them as its satisfaction and NPS; an unhappy answer opens or updates a complaint ticket."""
        for answer in self:
            scores, nps, comment = answer._shop_crm_scores()
            satisfaction = survey_rules.satisfaction([score for _question, score in scores])
            company = answer.shop_crm_company_id or self.env.company
            answer.sudo().write(
                {
                    "shop_crm_company_id": company.id,
                    "shop_crm_answer_day": company._shop_crm_day_of(answer.end_datetime),
                    "shop_crm_satisfaction": satisfaction or 0,
                    "shop_crm_nps": -1 if nps is None else nps,
                    "shop_crm_comment": comment or False,
                }
            )
            ticket = answer.shop_crm_feedback_id.sudo()
            if ticket and ticket.stage in ("resolved", "closed") and satisfaction and nps is not None:
                ticket._public_answer(satisfaction, nps, comment)
            if survey_rules.is_complaint([score for _question, score in scores], nps, comment):
                answer._shop_crm_complaint(scores, nps, comment)

    def _shop_crm_complaint(self, scores, nps, comment):
        """Open the complaint of this unhappy answer, or update the one it is about (the ticket it
        re-surveys, reopened; the open complaint of the same order) rather than open a second."""
        self.ensure_one()
        Feedback = self.env["shop.crm.feedback"].sudo()
        summary = self._shop_crm_summary(scores, nps, comment)
        ticket = self.shop_crm_complaint_id.sudo()
        if not ticket and self.shop_crm_feedback_id.feedback_type == "complaint":
            ticket = self.shop_crm_feedback_id.sudo()
        if not ticket and self.shop_crm_pos_order_id:
            ticket = Feedback.search(
                [
                    ("pos_order_id", "=", self.shop_crm_pos_order_id.id),
                    ("feedback_type", "=", "complaint"),
                    ("stage", "in", ("new", "in_progress")),
                ],
                limit=1,
            )
        if ticket:
            if ticket.stage == "resolved":
                ticket.action_reopen()
            ticket.message_post(
                body=self.env._(
                    "The customer answered the questionnaire unhappily:\n%(answers)s", answers=summary
                ),
                subtype_xmlid="mail.mt_note",
                author_id=self.partner_id.id or None,
            )
        else:
            lowest = min(scores, key=lambda pair: pair[1])[0] if scores else self.env["survey.question"]
            order = self.shop_crm_pos_order_id
            ticket = Feedback.create(
                {
                    "feedback_type": "complaint",
                    "channel": "public_page",
                    "partner_id": self.partner_id.id,
                    "pos_order_id": order.id,
                    "company_id": (self.shop_crm_company_id or self.env.company).id,
                    "priority": "2",
                    "user_id": (self.shop_crm_staff_id or self.partner_id.user_id or order.user_id).id,
                    "category_id": lowest.shop_crm_category_id.id,
                    "description": summary,
                    "customer_comment": comment or False,
                }
            )
        self.sudo().shop_crm_complaint_id = ticket
        return ticket
