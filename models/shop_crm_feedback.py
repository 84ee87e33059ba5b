import uuid
from datetime import timedelta

from werkzeug.urls import url_encode

from odoo import Command, api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tools import SQL

from .res_company import POS_PAID_STATES
from .res_partner import CONTACT_CHANNELS

TYPES = [
    ("complaint", "Complaint"),
    ("suggestion", "Suggestion"),
    ("praise", "Praise"),
    ("inquiry", "Inquiry"),
]
PRIORITIES = [("0", "Low"), ("1", "Normal"), ("2", "High"), ("3", "Urgent")]
STAGES = [
    ("new", "New Ticket"),
    ("in_progress", "In Progress"),
    ("resolved", "Resolved"),
    ("closed", "Closed"),
    ("cancelled", "Cancelled"),
]
# Allowed stage moves (anything else is refused with a clear message).
TRANSITIONS = {
    "new": {"in_progress", "resolved", "cancelled"},
    "in_progress": {"resolved", "cancelled"},
    "resolved": {"closed", "in_progress"},
    "closed": set(),
    "cancelled": {"new"},
}
FEEDBACK_CHANNELS = [*CONTACT_CHANNELS, ("public_page", "Feedback Page")]


class ShopCrmFeedback(models.Model):
    """A customer's feedback or complaint, tracked to resolution (工单): SLA deadline from the priority,
    stage rules, resolution, satisfaction (1-5) and NPS (0-10), optional compensation in member points,
    and a public page where the customer answers without logging in, opened with the ticket's
    ``portal.mixin`` access token."""

    _name = "shop.crm.feedback"
    _description = "Customer Feedback"
    _inherit = ["portal.mixin", "mail.thread", "mail.activity.mixin"]
    _order = "priority desc, deadline, id desc"

    name = fields.Char("Reference", required=True, readonly=True, copy=False, default="/")
    feedback_type = fields.Selection(TYPES, "Type", required=True, default="complaint", tracking=True)
    channel = fields.Selection(FEEDBACK_CHANNELS, required=True, default="in_store")
    partner_id = fields.Many2one("res.partner", "Customer", index=True, tracking=True)
    pos_order_id = fields.Many2one("pos.order", "POS Order", domain="[('partner_id', '=', partner_id)]")
    sale_order_id = fields.Many2one("sale.order", "Sales Order", domain="[('partner_id', '=', partner_id)]")
    product_id = fields.Many2one("product.product")
    description = fields.Text(required=True)
    priority = fields.Selection(PRIORITIES, default="1", required=True, tracking=True)
    user_id = fields.Many2one(
        "res.users", "Responsible", default=lambda self: self.env.user, tracking=True, index=True
    )
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company
    )
    stage = fields.Selection(STAGES, required=True, default="new", tracking=True, index=True)
    received_date = fields.Datetime("Received", required=True, default=fields.Datetime.now, index=True)
    deadline = fields.Datetime(compute="_compute_deadline", store=True, help="From the priority's SLA hours.")
    resolved_date = fields.Datetime(readonly=True, copy=False)
    resolution = fields.Text()
    resolution_hours = fields.Float(compute="_compute_resolution", store=True, aggregator="avg")
    sla_met = fields.Boolean("Within SLA", compute="_compute_resolution", store=True)
    overdue = fields.Boolean(compute="_compute_overdue", search="_search_overdue")
    satisfaction = fields.Selection(
        [("1", "1 - Very unhappy"), ("2", "2"), ("3", "3"), ("4", "4"), ("5", "5 - Very happy")],
        tracking=True,
    )
    satisfaction_score = fields.Integer(compute="_compute_scores", store=True, aggregator="avg")
    nps = fields.Integer("NPS Answer (0-10)", default=-1, tracking=True, help="-1: not answered.")
    nps_category = fields.Selection(
        [("promoter", "Promoter"), ("passive", "Passive"), ("detractor", "Detractor")],
        compute="_compute_scores",
        store=True,
    )
    nps_value = fields.Integer(
        "NPS",
        compute="_compute_scores",
        store=True,
        aggregator="avg",
        help="100 for a promoter, 0 for a passive, -100 for a detractor: "
        "the average over answered tickets is the Net Promoter Score.",
    )
    customer_comment = fields.Text(readonly=True)
    answered_date = fields.Datetime(readonly=True, copy=False)
    compensation_points = fields.Float(readonly=True, copy=False)
    compensation_coupon_id = fields.Many2one("loyalty.card", readonly=True, copy=False)
    public_url = fields.Char("Feedback Link", compute="_compute_public_url")
    category_id = fields.Many2one(
        "shop.crm.feedback.category",
        index=True,
        tracking=True,
        domain="['|', ('company_id', '=', False), ('company_id', '=', company_id)]",
    )
    root_cause = fields.Text(
        tracking=True, help="Why it happened (required to resolve a complaint): what the shop must change."
    )
    survey_answer_ids = fields.One2many(
        "survey.user_input", "shop_crm_complaint_id", "Questionnaire Answers", readonly=True
    )
    improvement_ids = fields.Many2many(
        "shop.crm.improvement",
        "shop_crm_feedback_improvement_rel",
        "feedback_id",
        "improvement_id",
        "Improvement Actions",
    )

    _sql_constraints = [
        ("nps_range", "CHECK(nps >= -1 AND nps <= 10)", "The NPS answer is a number from 0 to 10."),
    ]

    @api.depends("priority", "received_date", "company_id")
    def _compute_deadline(self):
        for ticket in self:
            start = ticket.received_date or fields.Datetime.now()
            hours = ticket.company_id._shop_crm_sla_hours(ticket.priority)
            ticket.deadline = start + timedelta(hours=hours)

    @api.depends("resolved_date", "received_date", "deadline")
    def _compute_resolution(self):
        for ticket in self:
            if ticket.resolved_date and ticket.received_date:
                ticket.resolution_hours = (ticket.resolved_date - ticket.received_date).total_seconds() / 3600
                ticket.sla_met = ticket.resolved_date <= ticket.deadline
            else:
                ticket.resolution_hours = 0
                ticket.sla_met = False

    @api.depends("deadline", "stage")
    def _compute_overdue(self):
        now = fields.Datetime.now()
        for ticket in self:
            ticket.overdue = (
                ticket.stage in ("new", "in_progress") and ticket.deadline and ticket.deadline < now
            )

    def _search_overdue(self, operator, value):
        if operator not in ("=", "!=") or not isinstance(value, bool):
            return NotImplemented
        domain = [("stage", "in", ("new", "in_progress")), ("deadline", "<", fields.Datetime.now())]
        return domain if (operator == "=") == value else ["!", "&", *domain]

    @api.depends("satisfaction", "nps")
    def _compute_scores(self):
        for ticket in self:
            ticket.satisfaction_score = int(ticket.satisfaction or 0)
            if ticket.nps < 0:
                ticket.nps_category = False
                ticket.nps_value = 0
            else:
                category = "promoter" if ticket.nps >= 9 else "passive" if ticket.nps >= 7 else "detractor"
                ticket.nps_category = category
                ticket.nps_value = {"promoter": 100, "passive": 0, "detractor": -100}[category]

    def _compute_access_url(self):
        result = super()._compute_access_url()
        for ticket in self:
            ticket.access_url = f"/shop_crm/feedback/{ticket.id}"
        return result

    @api.depends("access_url", "access_token")
    def _compute_public_url(self):
        for ticket in self:
            token = ticket.sudo().access_token
            ticket.public_url = (
                f"{ticket.get_base_url()}{ticket.access_url}?{url_encode({'access_token': token})}"
                if token
                else False
            )

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if vals.get("name", "/") == "/":
                vals["name"] = self.env["ir.sequence"].next_by_code("shop.crm.feedback") or "/"
            # the portal token (as portal.mixin._portal_ensure_token makes it), from the start: the link
            # is printed on paper
            vals.setdefault("access_token", str(uuid.uuid4()))
        return super().create(vals_list)

    def write(self, vals):
        if "stage" in vals:
            self._check_transition(vals["stage"], vals)
            if vals["stage"] == "resolved":
                vals = {**vals, "resolved_date": fields.Datetime.now()}
            elif vals["stage"] in ("new", "in_progress"):
                vals = {**vals, "resolved_date": False}
        result = super().write(vals)
        if vals.get("stage") == "resolved":
            self._schedule_satisfaction_follow_up()
            self.env["survey.user_input"]._shop_crm_invite("ticket", self)
        return result

    def _check_transition(self, new_stage, vals):
        labels = dict(self._fields["stage"]._description_selection(self.env))
        for ticket in self:
            if ticket.stage == new_stage:
                continue
            if new_stage not in TRANSITIONS[ticket.stage]:
                raise UserError(
                    self.env._(
                        "Ticket %(ticket)s cannot go from %(old)s to %(new)s.",
                        ticket=ticket.name,
                        old=labels[ticket.stage],
                        new=labels[new_stage],
                    )
                )
            if new_stage == "resolved" and not (vals.get("resolution") or ticket.resolution or "").strip():
                raise UserError(
                    self.env._(
                        "Ticket %(ticket)s: describe the resolution before resolving it.", ticket=ticket.name
                    )
                )

    @api.constrains("stage", "feedback_type", "category_id", "root_cause")
    def _check_root_cause(self):
        """A complaint is resolved (or closed) only with its category and its root cause."""
        for ticket in self:
            if ticket.feedback_type != "complaint" or ticket.stage not in ("resolved", "closed"):
                continue
            if not ticket.category_id or not (ticket.root_cause or "").strip():
                raise ValidationError(
                    self.env._(
                        "Complaint %(ticket)s: choose its category and describe its root cause before "
                        "resolving it.",
                        ticket=ticket.name,
                    )
                )

    @api.constrains("nps")
    def _check_nps(self):
        for ticket in self:
            if not -1 <= ticket.nps <= 10:
                raise ValidationError(self.env._("The NPS answer is a number from 0 to 10."))

    def _schedule_satisfaction_follow_up(self):
        """After a complaint is resolved, the staff member calls back to ask whether the customer is
        satisfied (a follow-up activity on the customer, unless they asked not to be contacted)."""
        activity_type = self.env.ref("shop_crm.mail_activity_type_follow_up")
        for ticket in self.filtered(lambda t: t.feedback_type == "complaint" and t.partner_id):
            partner = ticket.partner_id
            if partner.do_not_contact:
                continue
            partner.sudo().activity_schedule(
                activity_type_id=activity_type.id,
                date_deadline=ticket.company_id._shop_crm_today() + timedelta(days=3),
                user_id=(partner.user_id or ticket.user_id or self.env.user).id,
                summary=self.env._("Ask whether %(ticket)s was resolved to satisfaction", ticket=ticket.name),
            )

    # ---- actions ------------------------------------------------------------------------------------

    def action_start(self):
        self.write({"stage": "in_progress"})

    def action_resolve(self):
        self.write({"stage": "resolved"})

    def action_close(self):
        self.write({"stage": "closed"})

    def action_cancel(self):
        self.write({"stage": "cancelled"})

    def action_reopen(self):
        self.write({"stage": "in_progress" if self.filtered(lambda t: t.stage == "resolved") else "new"})

    def action_new_improvement(self):
        """A new improvement action for these complaints (their category, linked to them)."""
        categories = self.category_id
        return {
            "name": self.env._("Improvement Action"),
            "type": "ir.actions.act_window",
            "res_model": "shop.crm.improvement",
            "view_mode": "form",
            "target": "current",
            "context": {
                "default_feedback_ids": [Command.set(self.ids)],
                "default_category_id": categories.id if len(categories) == 1 else False,
                "default_company_id": self.company_id[:1].id or self.env.company.id,
            },
        }

    def _assert_can_compensate(self):
        """Compensation (points or a coupon) is granted by a Shop CRM manager to the ticket's customer."""
        self.ensure_one()
        if not self.env.user.has_group("shop_crm.group_shop_crm_manager"):
            raise AccessError(self.env._("Only Shop CRM managers can grant compensation."))
        if not self.partner_id:
            raise UserError(self.env._("Ticket %s has no customer to compensate.", self.name))

    def action_compensate(self, points, reason):
        """Grant ``points`` member points for this ticket (once per ticket: the ledger's award constraint),
        recorded in the points history and the ticket's chatter. Returns the points actually granted."""
        self._assert_can_compensate()
        if points <= 0 or not (reason or "").strip():
            raise UserError(
                self.env._("Give a positive number of points and the reason for the compensation.")
            )
        ledger = self.env["shop.crm.points"].sudo()
        self.partner_id._shop_crm_enroll(self.company_id)
        card = ledger._member_cards(self.partner_id, self.company_id)[self.partner_id.id]
        posted = ledger._post(
            [
                {
                    "card_id": card.id,
                    "kind": "compensation",
                    "issued": points,
                    "order_model": self._name,
                    "order_id": self.id,
                    "description": self.env._(
                        "Compensation for %(ticket)s: %(reason)s", ticket=self.name, reason=reason
                    ),
                }
            ]
        )
        granted = posted.get(card.id, 0.0)
        if granted:
            self.sudo().compensation_points = granted
            self.message_post(
                body=self.env._(
                    "%(points)s points granted as compensation: %(reason)s", points=granted, reason=reason
                ),
                subtype_xmlid="mail.mt_note",
            )
        return granted

    def action_compensate_coupon(self, program, reason):
        """Give the customer a coupon of ``program`` (Odoo loyalty) as compensation, once per ticket,
        recorded on the ticket and in its chatter. Returns the coupon (the existing one when repeated)."""
        self._assert_can_compensate()
        if not (reason or "").strip():
            raise UserError(self.env._("Give the reason for the compensation."))
        # lock the ticket row: two clicks at once must not create two coupons
        self.env.cr.execute(SQL("SELECT id FROM shop_crm_feedback WHERE id = %s FOR UPDATE", self.id))
        self.invalidate_recordset(["compensation_coupon_id"])
        if self.compensation_coupon_id:
            return self.compensation_coupon_id
        coupon = (
            self.env["loyalty.card"]
            .sudo()
            .create({"program_id": program.id, "partner_id": self.partner_id.id, "points": 1})
        )
        self.sudo().compensation_coupon_id = coupon
        self.message_post(
            body=self.env._(
                "Coupon %(code)s (%(program)s) given as compensation: %(reason)s",
                code=coupon.code,
                program=program.name,
                reason=reason,
            ),
            subtype_xmlid="mail.mt_note",
        )
        return coupon

    # ---- public page --------------------------------------------------------------------------------

    @api.model
    def _public_link_open(self, record, state_field, open_states, start_field):
        """Whether the public link of ``record`` (its access token was checked by the portal) is still
        open: its ``state_field`` is in ``open_states`` and the link is not older than the company's
        validity (counted from ``start_field``)."""
        if record[state_field] not in open_states:
            return False
        days = record.company_id.shop_crm_feedback_link_days
        return not (days and record[start_field] + timedelta(days=days) < fields.Datetime.now())

    def _public_ticket_open(self):
        """Whether customers may still answer on the ticket's page (not closed or cancelled, link not
        expired)."""
        self.ensure_one()
        return self._public_link_open(self, "stage", ("new", "in_progress", "resolved"), "received_date")

    @api.model
    def _public_order_open(self, order):
        """Whether the feedback link of a POS order's receipt is still open (a paid order, link not
        expired)."""
        return self._public_link_open(order, "state", POS_PAID_STATES, "date_order")

    @api.model
    def _public_order_answer(self, order, satisfaction, nps, comment):
        """A rating of a POS order from its receipt: the order's page ticket is created (a complaint for
        1-2, a suggestion for 3, praise for 4-5) or, when rated again, updated."""
        ticket = self.sudo().search(
            [("pos_order_id", "=", order.id), ("channel", "=", "public_page")], limit=1
        )
        if not ticket:
            ticket = self.sudo().create(
                {
                    **self._order_ticket_vals(order, self._rating_type(satisfaction), "public_page"),
                    "description": comment or self.env._("Rating from the receipt's feedback page."),
                }
            )
        ticket._public_answer(satisfaction, nps, comment)
        return ticket

    @api.model
    def _rating_type(self, satisfaction):
        """The ticket type of a satisfaction score: a complaint for 1-2, a suggestion for 3, praise for
        4-5."""
        return "complaint" if satisfaction <= 2 else "suggestion" if satisfaction == 3 else "praise"

    @api.model
    def _order_ticket_vals(self, order, feedback_type, channel):
        """The values of the ticket of a POS order: its customer, company and the customer's staff member
        (else the cashier); complaints have a high priority."""
        return {
            "feedback_type": feedback_type,
            "channel": channel,
            "partner_id": order.partner_id.id,
            "pos_order_id": order.id,
            "company_id": order.company_id.id,
            "priority": "2" if feedback_type == "complaint" else "1",
            "user_id": (order.partner_id.user_id or order.user_id).id,
        }

    @api.model
    def _till_order_answer(self, order):
        """What the cashier recorded on the receipt screen (satisfaction 1-5, a comment, or "complaint"):
        the order's in-store ticket is created (a complaint when flagged or rated 1-2, a suggestion for 3,
        praise for 4-5) or updated when the cashier changes the answer; nothing happens when it is the
        same answer again (replayed syncs and queued writes)."""
        satisfaction = int(order.shop_crm_satisfaction or 0)
        comment = order.shop_crm_feedback_comment or False
        if order.shop_crm_complaint:
            feedback_type = "complaint"
        else:
            feedback_type = self._rating_type(satisfaction) if satisfaction else "praise"
        ticket = order.sudo().shop_crm_feedback_id
        vals = {
            "feedback_type": feedback_type,
            "satisfaction": order.shop_crm_satisfaction or False,
            "customer_comment": comment,
        }
        if ticket:
            changed = {key: value for key, value in vals.items() if ticket[key] != value}
            if changed:
                ticket.sudo().write(changed)
            return ticket
        ticket = self.sudo().create(
            {
                **self._order_ticket_vals(order, feedback_type, "in_store"),
                **vals,
                "answered_date": fields.Datetime.now(),
                "description": comment or self.env._("Recorded at the till on %s.", order.display_name),
            }
        )
        order.sudo().shop_crm_feedback_id = ticket
        return ticket

    def _public_answer(self, satisfaction, nps, comment):
        """Store the customer's answer from the public page (validated there)."""
        self.ensure_one()
        self.sudo().write(
            {
                "satisfaction": str(satisfaction),
                "nps": nps,
                "customer_comment": comment or False,
                "answered_date": fields.Datetime.now(),
            }
        )
        self.sudo().message_post(
            body=self.env._(
                "The customer answered: satisfaction %(satisfaction)s/5, NPS %(nps)s. %(comment)s",
                satisfaction=satisfaction,
                nps=nps,
                comment=comment or "",
            ),
            subtype_xmlid="mail.mt_note",
            # the customer wrote it (the page runs as the superuser once the portal token is checked)
            author_id=self.partner_id.id or None,
        )
