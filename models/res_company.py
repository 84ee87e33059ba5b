import functools
from datetime import datetime, time, timedelta

import pytz

from odoo import Command, api, fields, models
from odoo.addons.base.models.res_partner import _tz_get
from odoo.exceptions import ValidationError
from odoo.tools import SQL

from ..lib import phone, rfm, sms_gateway

SMS_GATEWAYS = [
    ("odoo", "Odoo SMS"),
    ("aliyun", "Aliyun SMS (阿里云短信)"),
    ("tencent", "Tencent Cloud SMS (腾讯云短信)"),
]
# Only managers read or write the gateway's credentials (staff never see them, not even masked).
SMS_CREDENTIALS_GROUP = "shop_crm.group_shop_crm_manager"

# The purchase history imported from another system (shop.crm.legacy.purchase): a purchase source.
# The states of a paid Point of Sale order (a purchase when it has a customer).
POS_PAID_STATES = ("paid", "done", "invoiced")
LEGACY_PURCHASES = "shop_crm_legacy_purchase"


@functools.lru_cache(maxsize=64)
def _fixed_offset(tz_name):
    """``(since, offset)`` when the UTC offset of ``tz_name`` is constant from the naive UTC datetime
    ``since`` on (``since`` None: always), else None (daylight saving now or in the future)."""
    tz = pytz.timezone(tz_name)
    transitions = getattr(tz, "_utc_transition_times", None)
    if not transitions:
        offset = tz.utcoffset(datetime(2000, 1, 1))
        return (None, offset) if offset is not None else None
    if transitions[-1] > datetime.now():
        return None
    return transitions[-1], tz._transition_info[-1][0]


class ResCompany(models.Model):
    _inherit = "res.company"

    shop_crm_rfm_window_days = fields.Integer(
        "RFM Window (days)", default=365, help="Frequency and monetary count purchases in this many days."
    )
    shop_crm_class_a_min = fields.Integer("Class A from R+F+M", default=13)
    shop_crm_class_b_min = fields.Integer("Class B from R+F+M", default=10)
    shop_crm_class_c_min = fields.Integer("Class C from R+F+M", default=7)
    shop_crm_high_score = fields.Integer(
        "High Score From", default=3, help="R, F and M count as 'high' for the segments from this score on."
    )
    shop_crm_new_days = fields.Integer(
        "New Customer Days", default=90, help="A customer is new for this many days after the first purchase."
    )
    shop_crm_lost_days = fields.Integer(
        "Lost After (days)", default=180, help="A customer is lost after this many days without a purchase."
    )
    shop_crm_churn_gap_factor = fields.Float(
        "Churn Gap Factor",
        default=2.0,
        help="A churn warning is raised when the days since the last visit exceed this many times the "
        "customer's usual gap between visits.",
    )
    shop_crm_churn_min_days = fields.Integer(
        "Churn Minimum Days", default=14, help="No churn warning before this many days without a visit."
    )
    shop_crm_churn_complaint_factor = fields.Float(
        "Churn Factor With a Complaint",
        default=0.5,
        help="For customers with an open or unsatisfied complaint in the last 90 days, the churn gap factor "
        "is multiplied by this number (0.5: the warning comes twice as early).",
    )
    shop_crm_clv_min_customers = fields.Integer(
        "Lifetime Value: Minimum Customers",
        default=30,
        help="Below this many customers with purchases, the lifetime value uses a simple estimate.",
    )
    shop_crm_clv_min_repeat = fields.Integer(
        "Lifetime Value: Minimum Repeat Buyers",
        default=10,
        help="Below this many repeat buyers, the lifetime value uses a simple estimate.",
    )
    shop_crm_clv_penalizer = fields.Float(
        "Lifetime Value: Penalty",
        default=0.03,
        digits=(16, 6),
        help="L2 penalty on the logarithms of the model parameters, added to the total log-likelihood: keeps "
        "the fit finite on a small shop's flat likelihood and fades as the number of customers grows; 0 for "
        "plain maximum likelihood.",
    )
    shop_crm_clv_calibration_date = fields.Date(
        "Prediction Check: Calibration Date",
        help="The predictions are checked by fitting the models on the purchases up to this date and "
        "comparing what they predict for the days after it with what happened. Empty: 26 weeks before "
        "the analysis date.",
    )
    shop_crm_clv_validation_id = fields.Many2one(
        "shop.crm.clv.validation", "Last Prediction Check", readonly=True, copy=False
    )
    shop_crm_analytics_date = fields.Date("Customer Analytics As Of", readonly=True)
    shop_crm_analytics_fingerprint = fields.Char(
        "Customer Analytics Fingerprint",
        readonly=True,
        copy=False,
        groups="base.group_system",
        help="Technical: inputs of the last analytics run.",
    )
    shop_crm_analytics_state = fields.Char(
        "Customer Analytics State",
        readonly=True,
        copy=False,
        groups="base.group_system",
        help="Technical: which run the incremental state of the customer analytics is of.",
    )
    shop_crm_clv_method = fields.Selection(
        [
            ("bgnbd_gamma_gamma", "BG/NBD + Gamma-Gamma model"),
            ("bgnbd_constant_dropout", "BG/NBD with constant dropout + Gamma-Gamma model"),
            ("simple", "Simple estimate"),
        ],
        "Lifetime Value Method",
        readonly=True,
    )
    shop_crm_clv_summary = fields.Char("Lifetime Value Model", readonly=True)

    @api.constrains(
        "shop_crm_rfm_window_days",
        "shop_crm_class_a_min",
        "shop_crm_class_b_min",
        "shop_crm_class_c_min",
        "shop_crm_high_score",
        "shop_crm_new_days",
        "shop_crm_lost_days",
        "shop_crm_churn_gap_factor",
        "shop_crm_churn_min_days",
        "shop_crm_churn_complaint_factor",
        "shop_crm_clv_min_customers",
        "shop_crm_clv_min_repeat",
        "shop_crm_clv_penalizer",
        "shop_crm_clv_calibration_date",
    )
    def _check_shop_crm_analytics_settings(self):
        messages = {
            "window": self.env._("The RFM window must be at least one day."),
            "classes": self.env._(
                "The class thresholds must satisfy 15 ≥ A > B > C ≥ 1 (R+F+M is between 3 and 15)."
            ),
            "high_score": self.env._("The 'high' score must be between 1 and 5."),
            "lifecycle": self.env._("The new and lost customer days must be positive."),
            "complaints": self.env._("The churn factor with a complaint must be more than 0 and at most 1."),
            "churn": self.env._(
                "The churn gap factor must be positive and the churn minimum days cannot be negative."
            ),
        }
        for company in self:
            if problems := company._shop_crm_rfm_settings().problems():
                raise ValidationError(messages[problems[0]])
            if company.shop_crm_clv_min_customers < 1 or company.shop_crm_clv_min_repeat < 1:
                raise ValidationError(self.env._("The lifetime value minimums must be at least 1."))
            if not 0 <= company.shop_crm_clv_penalizer <= 1:
                raise ValidationError(self.env._("The lifetime value penalty must be between 0 and 1."))
            calibration = company.shop_crm_clv_calibration_date
            if calibration and calibration >= company._shop_crm_today() - timedelta(days=6):
                raise ValidationError(
                    self.env._("The calibration date of the prediction check must be at least a week ago.")
                )

    def _shop_crm_calibration_date(self, as_of):
        """The calibration date of the prediction check for an analysis as of ``as_of``."""
        self.ensure_one()
        return self.shop_crm_clv_calibration_date or as_of - timedelta(weeks=26)

    def _shop_crm_rfm_settings(self):
        self.ensure_one()
        return rfm.Settings(
            window_days=self.shop_crm_rfm_window_days,
            class_a_min=self.shop_crm_class_a_min,
            class_b_min=self.shop_crm_class_b_min,
            class_c_min=self.shop_crm_class_c_min,
            high_score=self.shop_crm_high_score,
            new_days=self.shop_crm_new_days,
            lost_days=self.shop_crm_lost_days,
            gap_factor=self.shop_crm_churn_gap_factor,
            min_days=self.shop_crm_churn_min_days,
            complaint_factor=self.shop_crm_churn_complaint_factor,
        )

    # ---- membership ---------------------------------------------------------------------------------
    shop_crm_program_id = fields.Many2one(
        "loyalty.program",
        "Member Points Program",
        domain="[('program_type', '=', 'loyalty'), ('company_id', 'in', [id, False])]",
        help="The loyalty program whose cards hold the members' points. Created on first use.",
    )
    shop_crm_points_expiry_months = fields.Integer(
        "Points Expire After (months)", default=12, help="0: points never expire."
    )
    shop_crm_expiry_notice_days = fields.Integer(
        "Expiry Notice (days before)",
        default=30,
        help="Members with an email address and email consent are told this many days before points expire "
        "(0: no notice).",
    )
    shop_crm_tier_grace_days = fields.Integer(
        "Tier Downgrade Grace (days)",
        default=30,
        help="A member keeps a tier for this many days after they stop qualifying for it.",
    )
    shop_crm_referral_points = fields.Float(
        "Referral Reward (points)",
        default=100,
        help="Points for the referrer when a referred customer's first order is paid.",
    )
    shop_crm_assign_team_id = fields.Many2one(
        "crm.team",
        "Auto-assign New Members To",
        help="New members without a staff member are assigned round-robin among this team's members.",
    )
    shop_crm_last_assigned_user_id = fields.Many2one(
        "res.users", "Last Auto-assigned Staff Member", readonly=True, copy=False
    )

    @api.constrains(
        "shop_crm_points_expiry_months",
        "shop_crm_expiry_notice_days",
        "shop_crm_tier_grace_days",
        "shop_crm_referral_points",
    )
    def _check_shop_crm_member_settings(self):
        for company in self:
            if (
                min(
                    company.shop_crm_points_expiry_months,
                    company.shop_crm_expiry_notice_days,
                    company.shop_crm_tier_grace_days,
                    company.shop_crm_referral_points,
                )
                < 0
            ):
                raise ValidationError(
                    self.env._(
                        "Points expiry, expiry notice, tier grace days and referral points "
                        "cannot be negative."
                    )
                )

    # ---- the shop's day: one definition for every Shop CRM date -------------------------------------
    #
    # Odoo stores datetimes (an order's date_order, a visit's date) in UTC. A shop counts days in its own
    # timezone: a sale at 07:30 in Shanghai is on that day, not on the UTC day before. Every Shop CRM date
    # that comes from a datetime (an order's day for the analytics, tiers, points, expiry, care, follow-ups,
    # campaigns and KPIs) and every "today" (crons run as a user without a timezone) is taken here.

    shop_crm_tz = fields.Selection(
        _tz_get,
        "Shop Timezone",
        default=lambda self: self._default_shop_crm_tz(),
        help="The shop's days are counted in this timezone: an order's day, 'today' for the scheduled "
        "actions, points, tiers, analytics, care and follow-ups.",
    )

    @api.model
    def _default_shop_crm_tz(self):
        """The timezone of the company's Point of Sale users (the current user when they have one), else of
        the administrator, else UTC."""
        admin = self.env.ref("base.user_admin", raise_if_not_found=False)
        return self.env.user.tz or (admin and admin.sudo().tz) or False

    def _shop_crm_timezone(self):
        """The name of the shop's timezone (always a valid one): the setting, else the timezone of the
        company's contact, else UTC."""
        self.ensure_one()
        tz = self.shop_crm_tz or self.partner_id.tz or "UTC"
        return tz if tz in pytz.all_timezones_set else "UTC"

    def _shop_crm_local_day(self, column):
        """SQL: the shop's day (a date) of ``column``, a UTC datetime column (``SQL`` or a column name).

        PostgreSQL's ``timezone()`` costs about as much as the rest of a scan of the orders; for a
        timezone whose offset has not changed since a date in the past (Asia/Shanghai since 1991: no
        daylight saving), the moments after that date are shifted by the fixed offset instead, which
        gives the same day."""
        if isinstance(column, str):
            column = SQL.identifier(*column.split("."))
        tz = self._shop_crm_timezone()
        general = SQL("timezone(%s, timezone('UTC', %s))", tz, column)
        fixed = _fixed_offset(tz)
        if fixed is None:
            return SQL("(%s)::date", general)
        since, offset = fixed
        if since is None:
            return SQL("(%s + %s)::date", column, offset)
        return SQL(
            "(CASE WHEN %s >= %s THEN %s + %s ELSE %s END)::date", column, since, column, offset, general
        )

    def _shop_crm_today(self):
        """Today in the shop's timezone (a date)."""
        return self._shop_crm_day_of(fields.Datetime.now())

    def _shop_crm_today_sql(self):
        """SQL: today in the shop's timezone (a date)."""
        return SQL("%s::date", self._shop_crm_today())

    def _shop_crm_day_of(self, value):
        """The shop's day of ``value``, a naive UTC datetime as Odoo stores them (or a date, returned as it
        is)."""
        if not value:
            return value
        if not isinstance(value, datetime):
            return fields.Date.to_date(value)
        tz = pytz.timezone(self._shop_crm_timezone())
        return pytz.utc.localize(value).astimezone(tz).date()

    def _shop_crm_day_start(self, day):
        """The naive UTC datetime at which the shop's ``day`` begins (to compare with a UTC column, which
        keeps its indexes usable)."""
        tz = pytz.timezone(self._shop_crm_timezone())
        start = tz.localize(datetime.combine(fields.Date.to_date(day), time.min))
        return start.astimezone(pytz.utc).replace(tzinfo=None)

    def _shop_crm_phone_region(self):
        """The region in which a phone number typed without a country code is read: the company's
        country, else China."""
        self.ensure_one()
        return self.country_id.code or phone.DEFAULT_REGION

    # ---- purchases: one definition for the analytics, tiers, follow-up plans and care rules ----------

    def _shop_crm_purchase_sources(self, until=None, since=None):
        """Where the company's purchases are: ``{table: condition on alias o}`` for paid POS orders with a
        customer, confirmed sales orders and the purchase history imported from another system
        (``shop_crm_legacy_purchase``, LEGACY_PURCHASES), with their day in the shop's timezone on or after
        ``since`` and on or before ``until`` when given. Refunds (a negative total) are included: callers
        that want purchases only keep a positive ``_shop_crm_purchase_amount``. The day of a purchase is
        ``_shop_crm_purchase_day(table)``, its amount in the company currency
        ``_shop_crm_purchase_amount(table)``; only the order tables have order lines."""
        self.ensure_one()
        bounds = SQL()
        legacy_bounds = SQL()
        if since:
            bounds = SQL("%s AND o.date_order >= %s", bounds, self._shop_crm_day_start(since))
            legacy_bounds = SQL("%s AND o.date >= %s", legacy_bounds, since)
        if until:
            day_after = self._shop_crm_day_start(until + timedelta(days=1))
            bounds = SQL("%s AND o.date_order < %s", bounds, day_after)
            legacy_bounds = SQL("%s AND o.date <= %s", legacy_bounds, until)
        return {
            "pos_order": SQL(
                "o.company_id = %s AND o.partner_id IS NOT NULL " "AND o.state IN %s%s",
                self.id,
                POS_PAID_STATES,
                bounds,
            ),
            "sale_order": SQL("o.company_id = %s AND o.state = 'sale'%s", self.id, bounds),
            LEGACY_PURCHASES: SQL("o.company_id = %s%s", self.id, legacy_bounds),
        }

    def _shop_crm_order_day(self, alias="o"):
        """SQL: the day of the order ``alias`` (a row of pos_order or sale_order) in the shop's timezone."""
        return self._shop_crm_local_day(SQL.identifier(alias, "date_order"))

    def _shop_crm_purchase_day(self, table, alias="o"):
        """SQL: the day of the purchase ``alias``, a row of the purchase source ``table``, in the shop's
        timezone (an imported purchase's ``date`` already is a shop day)."""
        if table == LEGACY_PURCHASES:
            return SQL.identifier(alias, "date")
        return self._shop_crm_order_day(alias)

    def _shop_crm_purchase_amount(self, table, alias="o"):
        """SQL: the amount of the purchase ``alias`` of source ``table`` in the company currency (numeric;
        negative for a refund)."""
        if table == LEGACY_PURCHASES:
            return SQL.identifier(alias, "amount")
        return SQL(
            "%s / COALESCE(NULLIF(%s, 0), 1)",
            SQL.identifier(alias, "amount_total"),
            SQL.identifier(alias, "currency_rate"),
        )

    def _shop_crm_purchase_moment(self, table, alias="o"):
        """SQL: when the purchase ``alias`` of ``table`` happened, a naive UTC datetime (an imported purchase:
        the start of its day in the shop's timezone)."""
        if table == LEGACY_PURCHASES:
            return SQL(
                "timezone('UTC', timezone(%s, %s::timestamp))",
                self._shop_crm_timezone(),
                SQL.identifier(alias, "date"),
            )
        return SQL.identifier(alias, "date_order")

    def _shop_crm_purchases(self, until=None, positive=False, since=None):
        """The company's purchases as SQL rows ``(partner_id, date_order, day, amount)``: ``day`` is the
        purchase's day in the shop's timezone, ``date_order`` its moment (UTC), the amount in the company
        currency (numeric); only the purchases with a positive amount if ``positive``; ``since``/``until``:
        as ``_shop_crm_purchase_sources``."""
        return SQL(" UNION ALL ").join(
            SQL(
                "SELECT o.partner_id, %s AS date_order, %s AS day, %s AS amount FROM %s o WHERE %s%s",
                self._shop_crm_purchase_moment(table),
                self._shop_crm_purchase_day(table),
                self._shop_crm_purchase_amount(table),
                SQL.identifier(table),
                condition,
                SQL(" AND %s > 0", self._shop_crm_purchase_amount(table)) if positive else SQL(),
            )
            for table, condition in self._shop_crm_purchase_sources(until, since).items()
        )

    def _shop_crm_purchase_lines(self, until=None, since=None):
        """The product lines of the company's purchases that have lines (paid POS orders with a customer and
        confirmed sales orders; the imported history has none) as SQL rows ``(partner_id, day, product_id,
        qty, amount)``: ``day`` the purchase's day in the shop's timezone, ``amount`` the line's total with
        taxes in the company currency (refund lines have a negative quantity and amount); ``since``/
        ``until``: as ``_shop_crm_purchase_sources``."""
        sources = self._shop_crm_purchase_sources(until, since)
        lines = {
            "pos_order": ("pos_order_line", "qty", "price_subtotal_incl", SQL("TRUE")),
            "sale_order": (
                "sale_order_line",
                "product_uom_qty",
                "price_total",
                SQL("l.display_type IS NULL"),
            ),
        }
        return SQL(" UNION ALL ").join(
            SQL(
                """SELECT o.partner_id, %(day)s AS day, l.product_id, l.%(qty)s AS qty,
                          l.%(total)s / COALESCE(NULLIF(o.currency_rate, 0), 1) AS amount
                     FROM %(orders)s o JOIN %(lines)s l ON l.order_id = o.id
                    WHERE %(condition)s AND l.product_id IS NOT NULL AND %(line_condition)s""",
                day=self._shop_crm_order_day(),
                qty=SQL.identifier(qty),
                total=SQL.identifier(total),
                orders=SQL.identifier(table),
                lines=SQL.identifier(line_table),
                condition=sources[table],
                line_condition=line_condition,
            )
            for table, (line_table, qty, total, line_condition) in lines.items()
        )

    @api.model
    def _shop_crm_member_programs(self):
        """The member points programs of every company (the ones the Shop CRM ledger owns)."""
        return self.sudo().search([("shop_crm_program_id", "!=", False)]).shop_crm_program_id

    def _shop_crm_member_program(self):
        """The company's member points program, created on first use (a loyalty program of type
        'loyalty': 1 point per currency unit, 100 points = 10 off an order, usable at the Point of Sale)."""
        self.ensure_one()
        if self.shop_crm_program_id:
            return self.shop_crm_program_id
        program = (
            self.env["loyalty.program"]
            .sudo()
            .with_company(self)
            .with_context(lang=self.partner_id.lang or self.env.lang)
            .create(
                {
                    "name": self.env._("Member Points"),
                    "program_type": "loyalty",
                    "company_id": self.id,
                    "applies_on": "both",
                    "trigger": "auto",
                    "pos_ok": True,
                    "sale_ok": False,
                    "portal_visible": True,
                    "portal_point_name": self.env._("Points"),
                    "rule_ids": [Command.clear(), Command.create({"reward_point_mode": "money"})],
                    "reward_ids": [
                        Command.clear(),
                        Command.create(
                            {
                                "reward_type": "discount",
                                "discount_mode": "per_order",
                                "discount": 10,
                                "discount_applicability": "order",
                                "required_points": 100,
                            }
                        ),
                    ],
                }
            )
        )
        self.sudo().shop_crm_program_id = program
        return program

    def _shop_crm_member_sequence(self):
        """The company's member number sequence (created on first use)."""
        self.ensure_one()
        Sequence = self.env["ir.sequence"].sudo()
        sequence = Sequence.search([("code", "=", "shop.crm.member"), ("company_id", "=", self.id)], limit=1)
        return sequence or Sequence.create(
            {
                "name": self.env._("Member numbers: %s", self.name),
                "code": "shop.crm.member",
                "company_id": self.id,
                "implementation": "no_gap",
                "number_next": 1,
            }
        )

    def _shop_crm_next_staff(self):
        """The next staff member of the auto-assignment team, round-robin (False without a team)."""
        self.ensure_one()
        users = self.shop_crm_assign_team_id.member_ids.filtered("active").sorted("id")
        if not users:
            return self.env["res.users"]
        last = self.shop_crm_last_assigned_user_id
        user = users.filtered(lambda candidate: candidate.id > last.id)[:1] or users[:1]
        self.sudo().shop_crm_last_assigned_user_id = user
        return user

    # ---- access -------------------------------------------------------------------------------------
    shop_crm_own_customers_only = fields.Boolean(
        "Staff See Only Their Own Customers",
        help="Staff (not managers) read the visits, tickets, customer values and points ledger only of the "
        "customers whose staff member they are (see security/shop_crm_security.xml).",
    )

    # ---- dashboard ----------------------------------------------------------------------------------
    shop_crm_neglected_days = fields.Integer(
        "Neglected After (days)",
        default=60,
        help="The dashboard lists A and B class customers with no visit and no purchase for more than this "
        "many days as neglected.",
    )

    shop_crm_monthly_report_email = fields.Boolean(
        "Email the Monthly Report to Managers",
        help="On the 1st of each month (in the shop's timezone) the nightly run emails last month's customer "
        "report (PDF) to the Shop CRM managers of the company.",
    )
    shop_crm_monthly_report_sent = fields.Date(
        "Monthly Report Last Emailed",
        readonly=True,
        copy=False,
        help="The shop day on which the nightly run last emailed the monthly report (once per month).",
    )

    @api.constrains("shop_crm_neglected_days")
    def _check_shop_crm_neglected_days(self):
        if any(company.shop_crm_neglected_days < 1 for company in self):
            raise ValidationError(self.env._("The neglected customer days must be at least 1."))

    # ---- campaigns ----------------------------------------------------------------------------------
    shop_crm_campaign_cap_messages = fields.Integer(
        "Campaign Messages at Most",
        default=2,
        help="A customer gets at most this many campaign messages in the frequency cap days (0: no cap).",
    )
    shop_crm_campaign_cap_days = fields.Integer("Frequency Cap Days", default=30)
    shop_crm_quiet_start = fields.Float(
        "No SMS From",
        default=21.0,
        help="Quiet hours, in the shop's timezone: campaign SMS wait until they end.",
    )
    shop_crm_quiet_end = fields.Float("No SMS Until", default=9.0)

    @api.constrains(
        "shop_crm_campaign_cap_messages",
        "shop_crm_campaign_cap_days",
        "shop_crm_quiet_start",
        "shop_crm_quiet_end",
    )
    def _check_shop_crm_campaign_settings(self):
        for company in self:
            if company.shop_crm_campaign_cap_messages < 0 or company.shop_crm_campaign_cap_days < 1:
                raise ValidationError(
                    self.env._(
                        "The frequency cap needs a number of messages (0 or more) and at least one day."
                    )
                )
            if not (0 <= company.shop_crm_quiet_start < 24 and 0 <= company.shop_crm_quiet_end < 24):
                raise ValidationError(self.env._("The quiet hours must be between 00:00 and 23:59."))

    # ---- SMS gateway (Aliyun / Tencent Cloud for shops in China; Odoo's own SMS otherwise) ------------
    shop_crm_sms_gateway = fields.Selection(
        SMS_GATEWAYS,
        "SMS Gateway",
        default="odoo",
        required=True,
        help="Shop CRM's SMS (campaigns, care greetings) go through this provider.",
    )
    shop_crm_sms_sign_name = fields.Char(
        "SMS Sign Name", help="The sign name (签名) the provider approved, shown in front of every SMS."
    )
    shop_crm_sms_key_id = fields.Char("SMS AccessKey ID / SecretId", groups=SMS_CREDENTIALS_GROUP, copy=False)
    shop_crm_sms_secret = fields.Char(
        "SMS AccessKey Secret / SecretKey", groups=SMS_CREDENTIALS_GROUP, copy=False
    )
    shop_crm_sms_app_id = fields.Char(
        "SMS SdkAppId", help="Tencent Cloud SMS only: the SMS application (SmsSdkAppId)."
    )
    shop_crm_sms_region = fields.Char(
        "SMS Region", default="ap-guangzhou", help="Tencent Cloud SMS only: the API region."
    )
    shop_crm_sms_endpoint = fields.Char(
        "SMS Endpoint",
        groups=SMS_CREDENTIALS_GROUP,
        help="Empty: the provider's public endpoint. A host name, or http://host:port for a local server.",
    )

    def _shop_crm_sms_gateway_problem(self):
        """What the company's SMS gateway still lacks (a translated sentence), or False. Not a constraint:
        the settings write their fields one by one."""
        self.ensure_one()
        company = self.sudo()
        if company.shop_crm_sms_gateway == "odoo":
            return False
        missing = not (
            company.shop_crm_sms_sign_name and company.shop_crm_sms_key_id and company.shop_crm_sms_secret
        )
        if missing or (company.shop_crm_sms_gateway == "tencent" and not company.shop_crm_sms_app_id):
            return self.env._(
                "The SMS gateway needs its sign name, access key and secret (and, for Tencent Cloud SMS, the "
                "SdkAppId)."
            )
        return False

    def _shop_crm_sms_gateway(self):
        """The lib/sms_gateway.py client of the company's provider, or None for Odoo's own SMS."""
        self.ensure_one()
        company = self.sudo()
        if company.shop_crm_sms_gateway == "odoo":
            return None
        return sms_gateway.make_gateway(
            company.shop_crm_sms_gateway,
            company.shop_crm_sms_key_id,
            company.shop_crm_sms_secret,
            company.shop_crm_sms_sign_name,
            app_id=company.shop_crm_sms_app_id,
            region=company.shop_crm_sms_region,
            endpoint=company.shop_crm_sms_endpoint,
        )

    # ---- satisfaction questionnaires ---------------------------------------------------------------
    shop_crm_survey_id = fields.Many2one(
        "survey.survey",
        "Satisfaction Questionnaire",
        domain=[("shop_crm_satisfaction", "=", True)],
        default=lambda self: self.env.ref("shop_crm.survey_store_satisfaction", raise_if_not_found=False),
        help="The questionnaire that receipts' and tickets' feedback links lead to, and that invitations "
        "send. Empty: the links open the one-question feedback page.",
    )
    shop_crm_survey_after_order = fields.Boolean(
        "Invite After a Purchase", help="The night after a paid POS order, its customer is invited."
    )
    shop_crm_survey_after_ticket = fields.Boolean(
        "Invite After a Resolved Ticket", help="When a ticket is resolved, its customer is invited."
    )
    shop_crm_survey_after_visit = fields.Boolean(
        "Invite After a Visit", help="When a visit reaches the customer, they are invited."
    )
    shop_crm_survey_cap_days = fields.Integer(
        "One Invitation per Customer Every (days)",
        default=30,
        help="A customer is invited to a questionnaire at most once in this many days.",
    )

    @api.model
    def _shop_crm_default_survey(self):
        """Give the shipped questionnaire to the companies without one (at install)."""
        survey = self.env.ref("shop_crm.survey_store_satisfaction", raise_if_not_found=False)
        if survey:
            self.sudo().search([("shop_crm_survey_id", "=", False)]).shop_crm_survey_id = survey

    @api.constrains("shop_crm_survey_cap_days")
    def _check_shop_crm_survey_cap_days(self):
        if any(company.shop_crm_survey_cap_days < 1 for company in self):
            raise ValidationError(self.env._("The questionnaire invitation cap must be at least one day."))

    # ---- feedback tickets ---------------------------------------------------------------------------
    shop_crm_sla_hours_low = fields.Integer("SLA Hours: Low", default=72)
    shop_crm_sla_hours_normal = fields.Integer("SLA Hours: Normal", default=48)
    shop_crm_sla_hours_high = fields.Integer("SLA Hours: High", default=24)
    shop_crm_sla_hours_urgent = fields.Integer("SLA Hours: Urgent", default=4)
    shop_crm_feedback_link_days = fields.Integer(
        "Feedback Link Valid (days)", default=30, help="A public feedback link expires after this many days."
    )

    @api.constrains(
        "shop_crm_sla_hours_low",
        "shop_crm_sla_hours_normal",
        "shop_crm_sla_hours_high",
        "shop_crm_sla_hours_urgent",
        "shop_crm_feedback_link_days",
    )
    def _check_shop_crm_sla(self):
        for company in self:
            hours = [
                company.shop_crm_sla_hours_low,
                company.shop_crm_sla_hours_normal,
                company.shop_crm_sla_hours_high,
                company.shop_crm_sla_hours_urgent,
            ]
            if min(hours) < 1 or company.shop_crm_feedback_link_days < 1:
                raise ValidationError(
                    self.env._("SLA hours and the feedback link validity must be at least 1.")
                )

    def _shop_crm_sla_hours(self, priority):
        self.ensure_one()
        return {
            "0": self.shop_crm_sla_hours_low,
            "1": self.shop_crm_sla_hours_normal,
            "2": self.shop_crm_sla_hours_high,
            "3": self.shop_crm_sla_hours_urgent,
        }.get(priority or "1", self.shop_crm_sla_hours_normal)
