from odoo import api, fields, models
from odoo.exceptions import ValidationError

from ..lib import chinese_calendar


class ShopCrmOccasion(models.Model):
    """A customer's own important date (a relative's birthday, an anniversary...), solar or lunar,
    yearly or once, with how many days before to remind the staff member."""

    _name = "shop.crm.occasion"
    _description = "Important Date"
    _order = "partner_id, id"

    partner_id = fields.Many2one("res.partner", "Customer", required=True, index=True, ondelete="cascade")
    name = fields.Char("Occasion", required=True, help="e.g. Mother's birthday, wedding anniversary")
    calendar_type = fields.Selection(
        [("solar", "Solar (Gregorian)"), ("lunar", "Lunar (Chinese)")],
        "Calendar",
        required=True,
        default="solar",
    )
    date = fields.Date(
        help="The solar date; for a lunar occasion, pick any year's date to fill the lunar day."
    )
    lunar_year = fields.Integer(help="Lunar year, for an occasion that happens once.")
    lunar_month = fields.Integer()
    lunar_day = fields.Integer()
    lunar_leap = fields.Boolean("Leap Month")
    recurrence = fields.Selection(
        [("yearly", "Every Year"), ("once", "Once")], required=True, default="yearly"
    )
    remind_days = fields.Integer("Remind Days Before", default=7)
    note = fields.Char()
    date_label = fields.Char("When", compute="_compute_date_label")
    next_date = fields.Date(compute="_compute_next_date")

    @api.onchange("date", "calendar_type")
    def _onchange_date(self):
        if self.calendar_type == "lunar" and self.date:
            lunar = chinese_calendar.solar_to_lunar(self.date)
            self.lunar_year, self.lunar_month, self.lunar_day, self.lunar_leap = (
                lunar.year,
                lunar.month,
                lunar.day,
                lunar.leap,
            )

    @api.depends("calendar_type", "date", "lunar_month", "lunar_day", "lunar_leap")
    def _compute_date_label(self):
        for occasion in self:
            if occasion.calendar_type == "lunar" and occasion.lunar_month and occasion.lunar_day:
                lunar = chinese_calendar.LunarDate(
                    occasion.lunar_year or 2000, occasion.lunar_month, occasion.lunar_day, occasion.lunar_leap
                )
                occasion.date_label = (
                    lunar.label_zh() if (self.env.lang or "").startswith("zh") else lunar.label()
                )
            elif occasion.date:
                occasion.date_label = (
                    fields.Date.to_string(occasion.date)
                    if occasion.recurrence == "once"
                    else occasion.date.strftime("%m-%d")
                )
            else:
                occasion.date_label = False

    @api.depends(
        "calendar_type", "date", "lunar_year", "lunar_month", "lunar_day", "lunar_leap", "recurrence"
    )
    @api.depends_context("shop_crm_as_of")
    def _compute_next_date(self):
        as_of = self.env.context.get("shop_crm_as_of")
        as_of = fields.Date.to_date(as_of) if as_of else self.env.company._shop_crm_today()
        for occasion in self:
            occasion.next_date = occasion._next_occurrence(as_of)

    def _next_occurrence(self, after):
        """The first date on or after ``after`` when this occasion falls (None when it is over)."""
        self.ensure_one()
        if self.recurrence == "once":
            once = self.date
            if self.calendar_type == "lunar":
                if not (self.lunar_year and self.lunar_month and self.lunar_day):
                    return None
                try:
                    once = chinese_calendar.lunar_to_solar(
                        self.lunar_year, self.lunar_month, self.lunar_day, self.lunar_leap
                    )
                except ValueError:
                    return None
            return chinese_calendar.next_occurrence(
                None, None, None, False, after, yearly=False, once_date=once
            )
        if self.calendar_type == "lunar":
            if not (1 <= self.lunar_month <= 12 and 1 <= self.lunar_day <= 30):
                return None
            return chinese_calendar.next_occurrence(
                "lunar", self.lunar_month, self.lunar_day, self.lunar_leap, after
            )
        if not self.date:
            return None
        return chinese_calendar.next_occurrence("solar", self.date.month, self.date.day, False, after)

    @api.constrains(
        "calendar_type",
        "date",
        "lunar_year",
        "lunar_month",
        "lunar_day",
        "lunar_leap",
        "recurrence",
        "remind_days",
    )
    def _check_date(self):
        for occasion in self:
            if occasion.remind_days < 0:
                raise ValidationError(self.env._("The reminder cannot be a negative number of days before."))
            if occasion.calendar_type == "solar":
                if not occasion.date:
                    raise ValidationError(self.env._("Occasion %s needs a date.", occasion.name))
                continue
            if not (1 <= occasion.lunar_month <= 12 and 1 <= occasion.lunar_day <= 30):
                raise ValidationError(
                    self.env._(
                        "Occasion %s: a lunar date needs a month from 1 to 12 and a day from 1 to 30.",
                        occasion.name,
                    )
                )
            if occasion.recurrence == "once":
                try:
                    chinese_calendar.lunar_to_solar(
                        occasion.lunar_year, occasion.lunar_month, occasion.lunar_day, occasion.lunar_leap
                    )
                except ValueError as error:
                    raise ValidationError(
                        self.env._(
                            "Occasion %(name)s: lunar year %(year)s has no such date.",
                            name=occasion.name,
                            year=occasion.lunar_year,
                        )
                    ) from error
