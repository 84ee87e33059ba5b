"""Member days (会员日): a recurring offer for chosen tiers — every week on a weekday or every month on a
day — such as 每周三会员日: 金卡 95折, or double points for 银卡 and above.

- The discount is an Odoo loyalty promotion program (automatic, Point of Sale and sales), limited to the
  chosen tiers' member pricelists (Odoo's programs can be limited to pricelists, not to customers: each
  chosen tier needs its member pricelist) and valid on the next member day only (``date_from`` =
  ``date_to``); the campaigns cron moves it on to the next member day when the day is over.
- Extra points are posted by the member points ledger (``shop.crm.points._earn_entries``) when an order
  is awarded: (earned + tier bonus) x (multiplier - 1) as a ``member_day`` line, once per order and
  award round like every ledger line.
"""

from odoo import Command, api, fields, models
from odoo.exceptions import ValidationError

from ..lib import campaign as rules

WEEKDAYS = [
    ("0", "Monday"),
    ("1", "Tuesday"),
    ("2", "Wednesday"),
    ("3", "Thursday"),
    ("4", "Friday"),
    ("5", "Saturday"),
    ("6", "Sunday"),
]


class ShopCrmMemberDay(models.Model):
    _name = "shop.crm.member.day"
    _description = "Member Day"
    _order = "company_id, id"

    name = fields.Char(required=True, translate=True)
    active = fields.Boolean(default=True)
    company_id = fields.Many2one("res.company", required=True, default=lambda self: self.env.company)
    tier_ids = fields.Many2many(
        "shop.crm.tier", string="For Tiers", required=True, domain="[('company_id', '=', company_id)]"
    )
    recurrence = fields.Selection(
        [("weekly", "Every Week"), ("monthly", "Every Month")], default="weekly", required=True
    )
    weekday = fields.Selection(WEEKDAYS, default="2")
    month_day = fields.Integer("Day of the Month", default=1)
    points_multiplier = fields.Float(
        "Points ×",
        default=1.0,
        digits=(4, 2),
        help="2: double points on the member day (tier bonus included).",
    )
    discount_percent = fields.Float("Discount (%)", digits=(5, 2), help="e.g. 5 for 95折; 0: no discount.")
    program_id = fields.Many2one("loyalty.program", "Promotion Program", readonly=True, copy=False)
    next_date = fields.Date("Next Member Day", compute="_compute_next_date")
    applies_today = fields.Boolean("Member Day Today", compute="_compute_next_date")

    @api.depends("recurrence", "weekday", "month_day", "company_id")
    def _compute_next_date(self):
        for member_day in self:
            today = member_day.company_id._shop_crm_today()
            member_day.next_date = member_day._next(today)
            member_day.applies_today = member_day.next_date == today

    @api.constrains("recurrence", "weekday", "month_day", "points_multiplier", "discount_percent", "tier_ids")
    def _check_member_day(self):
        for member_day in self:
            if member_day.recurrence == "weekly" and not member_day.weekday:
                raise ValidationError(self.env._("Member day %s: choose the weekday.", member_day.name))
            if member_day.recurrence == "monthly" and not 1 <= member_day.month_day <= 31:
                raise ValidationError(
                    self.env._("Member day %s: the day of the month is from 1 to 31.", member_day.name)
                )
            if member_day.points_multiplier < 1 or not 0 <= member_day.discount_percent < 100:
                raise ValidationError(
                    self.env._(
                        "Member day %s: the points multiplier is at least 1 and the discount from 0 to "
                        "less than 100 %%.",
                        member_day.name,
                    )
                )
            if member_day.points_multiplier == 1 and not member_day.discount_percent:
                raise ValidationError(
                    self.env._("Member day %s: give extra points, a discount or both.", member_day.name)
                )
            if member_day.discount_percent and member_day.tier_ids.filtered(
                lambda tier: not tier.pricelist_id
            ):
                raise ValidationError(
                    self.env._(
                        "Member day %s: a discount needs a member pricelist on every chosen tier (Odoo's "
                        "promotions are limited to the tiers' pricelists).",
                        member_day.name,
                    )
                )

    @api.model_create_multi
    def create(self, vals_list):
        member_days = super().create(vals_list)
        member_days._sync_programs()
        return member_days

    def write(self, vals):
        result = super().write(vals)
        if set(vals) & {
            "name",
            "active",
            "tier_ids",
            "recurrence",
            "weekday",
            "month_day",
            "discount_percent",
            "company_id",
        }:
            self._sync_programs()
        return result

    # ---- business -----------------------------------------------------------------------------------

    def _next(self, after):
        self.ensure_one()
        return rules.next_member_day(after, self.recurrence, self.weekday, self.month_day)

    def _on(self, day):
        self.ensure_one()
        return rules.member_day_on(day, self.recurrence, self.weekday, self.month_day)

    def _sync_programs(self):
        """Create or update the promotion program of each member day with a discount (archived without)."""
        Program = self.env["loyalty.program"].sudo()
        for member_day in self:
            program = member_day.program_id.sudo()
            if not member_day.discount_percent or not member_day.active:
                program.write({"active": False})
                continue
            day = member_day._next(member_day.company_id._shop_crm_today())
            vals = {
                "name": member_day.name,
                "active": True,
                "company_id": member_day.company_id.id,
                "pricelist_ids": [Command.set(member_day.tier_ids.pricelist_id.ids)],
                "date_from": day,
                "date_to": day,
            }
            reward = {
                "reward_type": "discount",
                "discount_mode": "percent",
                "discount": member_day.discount_percent,
                "discount_applicability": "order",
                "required_points": 1,
            }
            if program:
                program.write(vals)
                program.reward_ids[:1].write(reward)
                continue
            member_day.program_id = Program.create(
                {
                    **vals,
                    "program_type": "promotion",
                    "trigger": "auto",
                    "applies_on": "current",
                    "pos_ok": True,
                    "sale_ok": True,
                    "rule_ids": [
                        Command.clear(),
                        Command.create({"reward_point_mode": "order", "reward_point_amount": 1}),
                    ],
                    "reward_ids": [Command.clear(), Command.create(reward)],
                }
            )

    @api.model
    def _roll_programs(self):
        """Move the promotion of each member day whose day is over on to its next member day (called by the
        campaigns cron; changes nothing when the dates are current)."""
        for member_day in self.search([("program_id", "!=", False), ("discount_percent", ">", 0)]):
            today = member_day.company_id._shop_crm_today()
            program = member_day.program_id.sudo()
            if not program.date_to or program.date_to < today:
                day = member_day._next(today)
                program.write({"date_from": day, "date_to": day})

    @api.model
    def _points_entries(self, order, company, entries, common):
        """The member-day ledger line of an order being awarded: (earned + tier bonus) × (multiplier − 1)
        when the order's day is a member day of the customer's tier (called by the ledger's
        ``_earn_entries``; posted with the order's other lines, so once per order and award round)."""
        earned = sum(entry["issued"] for entry in entries if entry["kind"] in ("earn", "bonus"))
        multiplier = self._multiplier(company, order.partner_id.tier_id, common["date"])
        extra = rules.member_day_extra(earned, multiplier)
        if not extra:
            return []
        return [
            {
                **common,
                "kind": "member_day",
                "issued": extra,
                "description": self.env._(
                    "Member day ×%(multiplier)s on %(order)s", multiplier=multiplier, order=order.display_name
                ),
            }
        ]

    @api.model
    def _multiplier(self, company, tier, day):
        """The highest points multiplier of ``company``'s member days for ``tier`` on ``day`` (1: none)."""
        if not tier or tier.company_id != company:
            return 1.0
        member_days = self.sudo().search(
            [("company_id", "=", company.id), ("tier_ids", "in", tier.ids), ("points_multiplier", ">", 1)]
        )
        return max(
            [member_day.points_multiplier for member_day in member_days if member_day._on(day)] or [1.0]
        )
