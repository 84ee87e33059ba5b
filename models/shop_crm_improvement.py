from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import format_date

STATES = [("planned", "Planned"), ("done", "Done"), ("verified", "Verified")]
# Allowed state moves (anything else is refused with a clear message).
TRANSITIONS = {"planned": {"done"}, "done": {"verified", "planned"}, "verified": set()}
# The complaints of an action's category are counted over this many days before it was done and as
# many days after (or up to today), to see whether they fell.
COMPARE_DAYS = 90


class ShopCrmImprovement(models.Model):
    """What the shop changes because of complaints (整改措施): linked tickets, an owner and a deadline
    (明確責任人和完成時間), planned → done → verified with a verification note. A planned action past its
    deadline gets an activity for its owner from the nightly run."""

    _name = "shop.crm.improvement"
    _description = "Improvement Action"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _order = "state, deadline, id desc"

    name = fields.Char("Action", required=True, tracking=True, help="What the shop changes.")
    description = fields.Html()
    category_id = fields.Many2one("shop.crm.feedback.category", index=True, tracking=True)
    feedback_ids = fields.Many2many(
        "shop.crm.feedback",
        "shop_crm_feedback_improvement_rel",
        "improvement_id",
        "feedback_id",
        "Tickets",
        domain="[('company_id', '=', company_id)]",
    )
    feedback_count = fields.Integer("Ticket Count", compute="_compute_feedback_count")
    user_id = fields.Many2one(
        "res.users",
        "Owner",
        required=True,
        tracking=True,
        index=True,
        default=lambda self: self.env.user,
        domain=[("share", "=", False)],
    )
    deadline = fields.Date(required=True, tracking=True)
    state = fields.Selection(STATES, required=True, default="planned", tracking=True, index=True)
    done_date = fields.Date("Done On", readonly=True, copy=False)
    verified_date = fields.Date("Verified On", readonly=True, copy=False)
    verification_note = fields.Text(tracking=True, help="How the shop checked that the change worked.")
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company
    )
    overdue = fields.Boolean(compute="_compute_overdue", search="_search_overdue")
    complaints_before = fields.Integer(
        compute="_compute_complaint_trend",
        help="Complaints of the category in the 90 days before the action was done.",
    )
    complaints_after = fields.Integer(
        compute="_compute_complaint_trend",
        help="Complaints of the category since the action was done (at most 90 days).",
    )
    complaints_after_days = fields.Integer("Days After", compute="_compute_complaint_trend")

    @api.depends("feedback_ids")
    def _compute_feedback_count(self):
        for action in self:
            action.feedback_count = len(action.feedback_ids)

    @api.depends("state", "deadline", "company_id")
    def _compute_overdue(self):
        for action in self:
            action.overdue = (
                action.state == "planned"
                and action.deadline
                and action.deadline < action.company_id._shop_crm_today()
            )

    def _search_overdue(self, operator, value):
        if operator not in ("=", "!=") or not isinstance(value, bool):
            return NotImplemented
        domain = [("state", "=", "planned"), ("deadline", "<", self.env.company._shop_crm_today())]
        return domain if (operator == "=") == value else ["!", "&", *domain]

    @api.depends("category_id", "done_date", "company_id")
    def _compute_complaint_trend(self):
        """Complaints of the action's category (in its company, by the shop's day they were received) in
        the COMPARE_DAYS days before it was done, and after it (up to COMPARE_DAYS days, up to today).
        One count per action: actions are few (tens a year), never a loop over tickets."""
        Feedback = self.env["shop.crm.feedback"]
        for action in self:
            action.complaints_before = action.complaints_after = action.complaints_after_days = 0
            if not (action.category_id and action.done_date):
                continue
            company = action.company_id
            today = company._shop_crm_today()
            after_end = min(action.done_date + timedelta(days=COMPARE_DAYS), today + timedelta(days=1))
            base = [
                ("company_id", "=", company.id),
                ("category_id", "=", action.category_id.id),
                ("feedback_type", "=", "complaint"),
            ]

            def count(first_day, end_day, base=base, company=company):
                return Feedback.search_count(
                    [
                        *base,
                        ("received_date", ">=", company._shop_crm_day_start(first_day)),
                        ("received_date", "<", company._shop_crm_day_start(end_day)),
                    ]
                )

            action.complaints_before = count(
                action.done_date - timedelta(days=COMPARE_DAYS), action.done_date
            )
            action.complaints_after = count(action.done_date, after_end)
            action.complaints_after_days = max((after_end - action.done_date).days, 0)

    @api.constrains("state", "verification_note")
    def _check_verification_note(self):
        for action in self:
            if action.state == "verified" and not (action.verification_note or "").strip():
                raise ValidationError(
                    self.env._(
                        "Improvement action %(action)s: write how it was verified before verifying it.",
                        action=action.name,
                    )
                )

    @api.constrains("feedback_ids", "company_id")
    def _check_feedback_company(self):
        for action in self:
            if action.feedback_ids.filtered(
                lambda ticket, action=action: ticket.company_id != action.company_id
            ):
                raise ValidationError(
                    self.env._(
                        "Improvement action %(action)s: its tickets must be of its company.",
                        action=action.name,
                    )
                )

    def write(self, vals):
        if "state" in vals:
            self._check_transition(vals["state"])
            today = self.env.company._shop_crm_today()
            if vals["state"] == "done":
                vals = {**vals, "done_date": today}
            elif vals["state"] == "verified":
                vals = {**vals, "verified_date": today}
            elif vals["state"] == "planned":
                vals = {**vals, "done_date": False, "verified_date": False}
        result = super().write(vals)
        if vals.get("state") in ("done", "verified"):
            self.activity_unlink(["shop_crm.mail_activity_type_improvement_overdue"])
        return result

    def _check_transition(self, new_state):
        labels = dict(self._fields["state"]._description_selection(self.env))
        for action in self:
            if action.state != new_state and new_state not in TRANSITIONS[action.state]:
                raise UserError(
                    self.env._(
                        "Improvement action %(action)s cannot go from %(old)s to %(new)s.",
                        action=action.name,
                        old=labels[action.state],
                        new=labels[new_state],
                    )
                )

    # ---- actions ------------------------------------------------------------------------------------

    def action_done(self):
        self.write({"state": "done"})

    def action_verify(self):
        self.write({"state": "verified"})

    def action_reopen(self):
        self.write({"state": "planned"})

    def action_view_tickets(self):
        self.ensure_one()
        return {
            "name": self.env._("Tickets"),
            "type": "ir.actions.act_window",
            "res_model": "shop.crm.feedback",
            "view_mode": "list,form",
            "domain": [("id", "in", self.feedback_ids.ids)],
        }

    # ---- nightly ------------------------------------------------------------------------------------

    @api.model
    def _cron_overdue_activities(self):
        """An activity for the owner of each planned action past its deadline (in its company's day), due
        today, unless it has one open already (running twice changes nothing), in batched creates."""
        activity_type = self.env.ref("shop_crm.mail_activity_type_improvement_overdue")
        model_id = self.env["ir.model"]._get_id(self._name)
        vals_list = []
        # (the UTC day after today is the latest shop's day anywhere: each company's own day decides)
        latest = fields.Date.context_today(self.with_context(tz="UTC")) + timedelta(days=1)
        candidates = self.sudo().search([("state", "=", "planned"), ("deadline", "<", latest)])
        for company, planned in candidates.grouped("company_id").items():
            today = company._shop_crm_today()
            actions = planned.filtered(lambda action, today=today: action.deadline < today)
            has_ours = set(
                self.env["mail.activity"]
                .sudo()
                .search(
                    [
                        ("res_model", "=", self._name),
                        ("res_id", "in", actions.ids),
                        ("activity_type_id", "=", activity_type.id),
                    ]
                )
                .mapped("res_id")
            )
            for action in actions:
                if action.id in has_ours or not action.user_id.active:
                    continue
                vals_list.append(
                    {
                        "res_model_id": model_id,
                        "res_model": self._name,
                        "res_id": action.id,
                        "activity_type_id": activity_type.id,
                        "user_id": action.user_id.id,
                        "date_deadline": today,
                        "automated": True,
                        "summary": self.env._(
                            "Improvement action overdue since %(deadline)s: %(action)s",
                            deadline=format_date(self.env, action.deadline),
                            action=action.name,
                        ),
                    }
                )
        if vals_list:
            self.env["mail.activity"].sudo()._shop_crm_create_batch(vals_list)
