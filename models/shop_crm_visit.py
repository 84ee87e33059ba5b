from odoo import api, fields, models
from odoo.exceptions import ValidationError

VISIT_CHANNELS = [
    ("in_store", "In Store"),
    ("phone", "Phone"),
    ("wechat", "WeChat"),
    ("sms", "SMS"),
    ("email", "Email"),
    ("home_visit", "Home Visit"),
]
PURPOSES = [
    ("routine", "Routine Follow-up"),
    ("after_sales", "After-sales"),
    ("care", "Care"),
    ("complaint", "Complaint Follow-up"),
    ("win_back", "Win-back"),
    ("occasion", "Birthday / Occasion"),
]
# The visits after which the customer may be invited to the satisfaction questionnaire.
VISIT_OUTCOMES_INVITED = ("reached", "interested", "purchased")
OUTCOMES = [
    ("reached", "Reached"),
    ("no_answer", "No Answer"),
    ("interested", "Interested"),
    ("purchased", "Purchased"),
    ("declined", "Declined"),
    ("do_not_contact", "Asked Not to Be Contacted"),
]


class ShopCrmVisit(models.Model):
    """One contact with a customer (回访): who, when, how, why, what came of it, and when to follow up.
    A next follow-up date schedules an activity for the staff member; "asked not to be contacted" marks
    the customer and withdraws their marketing consent."""

    _name = "shop.crm.visit"
    _description = "Customer Visit"
    _inherit = ["mail.thread"]
    _order = "date desc, id desc"

    partner_id = fields.Many2one("res.partner", "Customer", required=True, index=True, ondelete="cascade")
    date = fields.Datetime(required=True, default=fields.Datetime.now, tracking=True)
    user_id = fields.Many2one(
        "res.users",
        "Staff Member",
        required=True,
        index=True,
        default=lambda self: self.env.user,
        tracking=True,
    )
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company
    )
    channel = fields.Selection(VISIT_CHANNELS, required=True, default="phone")
    purpose = fields.Selection(PURPOSES, required=True, default="routine")
    outcome = fields.Selection(OUTCOMES, tracking=True)
    notes = fields.Text()
    next_date = fields.Date("Next Follow-up", help="Schedules a follow-up activity for the staff member.")
    activity_id = fields.Many2one("mail.activity", "Next Follow-up Activity", readonly=True, copy=False)

    @api.depends("partner_id", "date", "purpose")
    def _compute_display_name(self):
        purposes = dict(self._fields["purpose"]._description_selection(self.env))
        for visit in self:
            visit.display_name = f"{visit.partner_id.name or ''} · {purposes.get(visit.purpose, '')}"

    @api.constrains("next_date", "date", "outcome")
    def _check_next_date(self):
        for visit in self:
            if (
                visit.next_date
                and visit.date
                and visit.next_date < visit.company_id._shop_crm_day_of(visit.date)
            ):
                raise ValidationError(self.env._("The next follow-up cannot be before the visit."))
            if visit.next_date and visit.outcome == "do_not_contact":
                raise ValidationError(
                    self.env._("The customer asked not to be contacted: no next follow-up can be planned.")
                )

    @api.model_create_multi
    def create(self, vals_list):
        visits = super().create(vals_list)
        visits._after_change()
        self.env["survey.user_input"]._shop_crm_invite(
            "visit", visits.filtered(lambda visit: visit.outcome in VISIT_OUTCOMES_INVITED)
        )
        return visits

    def write(self, vals):
        result = super().write(vals)
        if {"next_date", "outcome", "user_id"} & set(vals):
            self._after_change()
        return result

    def _after_change(self):
        stop = self.filtered(lambda visit: visit.outcome == "do_not_contact")
        if stop:
            stop.partner_id.sudo()._shop_crm_stop_contact(
                self.env._("Asked not to be contacted during a visit.")
            )
        activity_type = self.env.ref("shop_crm.mail_activity_type_follow_up")
        for visit in self - stop:
            if not visit.next_date or visit.partner_id.do_not_contact:
                continue
            if visit.activity_id.exists():
                visit.activity_id.sudo().write(
                    {"date_deadline": visit.next_date, "user_id": visit.user_id.id}
                )
                continue
            visit.sudo().activity_id = visit.partner_id.sudo().activity_schedule(
                activity_type_id=activity_type.id,
                date_deadline=visit.next_date,
                user_id=visit.user_id.id,
                summary=self.env._("Follow-up of %s", visit.display_name),
            )
