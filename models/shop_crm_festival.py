from datetime import date, timedelta

from odoo import api, fields, models
from odoo.exceptions import ValidationError

from ..lib import chinese_calendar

# Days before a festival in which orders count as bought "for" it (care's last-year buyers, segments).
FESTIVAL_BUYING_DAYS = 7
BUILTIN = [(code, chinese_calendar.FESTIVAL_NAMES[code][0]) for code in chinese_calendar.FESTIVAL_CODES]


class ShopCrmFestival(models.Model):
    """The shop's festival calendar: Chinese festivals computed for any year (lunar ones through the
    lunar calendar library, never a table of years), plus the shop's own days (solar or lunar)."""

    _name = "shop.crm.festival"
    _description = "Shop Festival"
    _order = "sequence, id"

    name = fields.Char(required=True, translate=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    company_id = fields.Many2one(
        "res.company", index=True, help="Empty: the festival is in the calendar of every company."
    )
    code = fields.Selection(BUILTIN, "Built-in Festival", help="A festival whose date Shop CRM computes.")
    calendar_type = fields.Selection(
        [("solar", "Solar (Gregorian)"), ("lunar", "Lunar (Chinese)")], "Calendar"
    )
    month = fields.Integer()
    day = fields.Integer()
    leap = fields.Boolean("Leap Month")
    next_date = fields.Date(compute="_compute_next_date")

    @api.depends("code", "calendar_type", "month", "day", "leap")
    @api.depends_context("shop_crm_as_of")
    def _compute_next_date(self):
        as_of = self.env.context.get("shop_crm_as_of")
        as_of = fields.Date.to_date(as_of) if as_of else self.env.company._shop_crm_today()
        for festival in self:
            festival.next_date = festival._next_date(as_of)

    @api.constrains("code", "calendar_type", "month", "day")
    def _check_date(self):
        for festival in self:
            if festival.code:
                continue
            try:
                chinese_calendar.next_occurrence(
                    festival.calendar_type, festival.month, festival.day, festival.leap, date(2026, 1, 1)
                )
            except ValueError as error:
                raise ValidationError(
                    self.env._(
                        "Festival %(name)s: choose a built-in festival, or a solar or lunar month and day "
                        "that exist.",
                        name=festival.name,
                    )
                ) from error

    def _buying_window(self, year):
        """``(first day, festival day)``: the days of solar ``year`` whose orders were bought for the
        festival."""
        day = self._date_in(year)
        return day - timedelta(days=FESTIVAL_BUYING_DAYS), day

    def _date_in(self, year):
        """The festival's date in solar ``year``."""
        self.ensure_one()
        if self.code:
            return chinese_calendar.festival_date(self.code, year)
        return chinese_calendar.next_occurrence(
            self.calendar_type, self.month, self.day, self.leap, date(year, 1, 1)
        )

    def _next_date(self, after):
        """The first date of this festival on or after ``after``."""
        self.ensure_one()
        this_year = self._date_in(after.year)
        return this_year if this_year >= after else self._date_in(after.year + 1)
