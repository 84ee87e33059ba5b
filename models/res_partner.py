from datetime import timedelta
from textwrap import shorten

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.osv import expression
from odoo.tools import SQL
from odoo.tools.query import Query

from ..lib import chinese_calendar, customer_card, membership, phone
from .res_company import POS_PAID_STATES
from .shop_crm_customer_value import CLASSES, CLV_METHODS, SEGMENTS, STAGES, VALUE_FIELDS

VALUE_TABLE = "shop_crm_customer_value"
# Spend, RFM values, lifetime value and purchase history: staff and managers, not the front desk.
ANALYTICS_GROUP = "shop_crm.group_shop_crm_user"
# The customer card at the till shows the points expiring within this many days.
EXPIRY_SOON_DAYS = 30


def _search_value(fname):
    """The search method of the analytics field ``fname`` (Odoo calls it with the operator and value)."""

    def search(partners, operator, value):
        return partners._search_shop_crm_value(fname, operator, value)

    search.__name__ = f"_search_{fname}"
    return search


GENDERS = [("female", "Female"), ("male", "Male"), ("other", "Other")]
CONTACT_CHANNELS = [
    ("phone", "Phone"),
    ("wechat", "WeChat"),
    ("sms", "SMS"),
    ("email", "Email"),
    ("in_store", "In Store"),
]
SOURCE_CHANNELS = [
    ("walk_in", "Walk-in"),
    ("referral", "Referral"),
    ("wechat", "WeChat"),
    ("meituan", "Meituan / Dianping"),
    ("douyin", "Douyin"),
    ("website", "Website"),
    ("event", "Event"),
    ("other", "Other"),
]
AGE_BANDS = [
    ("under_18", "Under 18"),
    ("18_24", "18-24"),
    ("25_34", "25-34"),
    ("35_44", "35-44"),
    ("45_54", "45-54"),
    ("55_64", "55-64"),
    ("65_plus", "65 and over"),
]


class ResPartner(models.Model):
    _inherit = "res.partner"

    birthday = fields.Date(help="The customer's date of birth, used for birthday care.")
    mobile_normalized = fields.Char(
        "Normalised Mobile",
        compute="_compute_mobile_normalized",
        store=True,
        index="btree_not_null",
        help="The mobile in international form (+8613800138000), to find a customer by mobile however it "
        "was typed. Empty when the mobile is not a valid number.",
    )
    is_shop_customer = fields.Boolean(
        string="Shop Customer",
        compute="_compute_is_shop_customer",
        search="_search_is_shop_customer",
        help="A customer of the shop: not a staff member (internal user) and not one of your companies.",
    )

    # ---- customer analytics of the current company (stored per company in shop.crm.customer.value,
    # written in bulk by shop.crm.analytics; see lib/rfm.py). Not stored here, but searchable, sortable and
    # groupable like stored fields: _field_to_sql joins the current company's row.
    shop_crm_currency_id = fields.Many2one(
        "res.currency", "Shop Currency", compute="_compute_shop_crm_currency_id"
    )
    rfm_recency_days = fields.Integer(
        "Recency (days)",
        compute="_compute_shop_crm_values",
        groups=ANALYTICS_GROUP,
        search=_search_value("rfm_recency_days"),
        help="Days between the analysis date and the last purchase.",
    )
    rfm_frequency = fields.Integer(
        "Frequency",
        compute="_compute_shop_crm_values",
        groups=ANALYTICS_GROUP,
        search=_search_value("rfm_frequency"),
        help="Purchases in the RFM window.",
    )
    rfm_monetary = fields.Monetary(
        "Monetary",
        currency_field="shop_crm_currency_id",
        compute="_compute_shop_crm_values",
        groups=ANALYTICS_GROUP,
        search=_search_value("rfm_monetary"),
        help="Purchases minus refunds in the RFM window.",
    )
    rfm_r_score = fields.Integer(
        "R Score",
        compute="_compute_shop_crm_values",
        groups=ANALYTICS_GROUP,
        search=_search_value("rfm_r_score"),
        aggregator="avg",
    )
    rfm_f_score = fields.Integer(
        "F Score",
        compute="_compute_shop_crm_values",
        groups=ANALYTICS_GROUP,
        search=_search_value("rfm_f_score"),
        aggregator="avg",
    )
    rfm_m_score = fields.Integer(
        "M Score",
        compute="_compute_shop_crm_values",
        groups=ANALYTICS_GROUP,
        search=_search_value("rfm_m_score"),
        aggregator="avg",
    )
    rfm_class = fields.Selection(
        CLASSES,
        "Value Class",
        compute="_compute_shop_crm_values",
        groups=ANALYTICS_GROUP,
        search=_search_value("rfm_class"),
    )
    rfm_segment = fields.Selection(
        SEGMENTS,
        "RFM Segment",
        compute="_compute_shop_crm_values",
        groups=ANALYTICS_GROUP,
        search=_search_value("rfm_segment"),
    )
    lifecycle_stage = fields.Selection(
        STAGES,
        compute="_compute_shop_crm_values",
        groups=ANALYTICS_GROUP,
        search=_search_value("lifecycle_stage"),
    )
    churn_warning = fields.Boolean(
        compute="_compute_shop_crm_values", groups=ANALYTICS_GROUP, search=_search_value("churn_warning")
    )
    churn_typical_gap = fields.Float(
        "Usual Days Between Visits",
        digits=(16, 1),
        compute="_compute_shop_crm_values",
        groups=ANALYTICS_GROUP,
        search=_search_value("churn_typical_gap"),
        help="Median gap between the customer's purchase days (shop-wide median for one-visit customers).",
    )
    churn_reason = fields.Char(
        "Churn Warning Reason", compute="_compute_churn_reason", groups=ANALYTICS_GROUP
    )
    clv_historical = fields.Monetary(
        "Historical Value",
        currency_field="shop_crm_currency_id",
        compute="_compute_shop_crm_values",
        groups=ANALYTICS_GROUP,
        search=_search_value("clv_historical"),
        help="Net spend ever.",
    )
    clv_predicted_12m = fields.Monetary(
        "Predicted Value (12 months)",
        currency_field="shop_crm_currency_id",
        compute="_compute_shop_crm_values",
        groups=ANALYTICS_GROUP,
        search=_search_value("clv_predicted_12m"),
        help="Expected spend in the next 12 months.",
    )
    probability_alive = fields.Float(
        "Probability Still Active",
        digits=(16, 3),
        compute="_compute_shop_crm_values",
        groups=ANALYTICS_GROUP,
        search=_search_value("probability_alive"),
        aggregator="avg",
    )
    clv_method = fields.Selection(
        CLV_METHODS,
        "Lifetime Value Method",
        compute="_compute_shop_crm_values",
        groups=ANALYTICS_GROUP,
        search=_search_value("clv_method"),
    )
    expected_purchases_30d = fields.Float(
        "Expected Purchases (30 days)",
        digits=(16, 2),
        compute="_compute_shop_crm_values",
        groups=ANALYTICS_GROUP,
        search=_search_value("expected_purchases_30d"),
        help="Purchases the lifetime-value model expects from the customer in the next 30 days.",
    )
    expected_purchases_90d = fields.Float(
        "Expected Purchases (90 days)",
        digits=(16, 2),
        compute="_compute_shop_crm_values",
        groups=ANALYTICS_GROUP,
        search=_search_value("expected_purchases_90d"),
        help="Purchases the lifetime-value model expects from the customer in the next 90 days.",
    )
    next_visit_date = fields.Date(
        "Expected Next Visit",
        compute="_compute_shop_crm_values",
        groups=ANALYTICS_GROUP,
        search=_search_value("next_visit_date"),
        help="The day by which the customer, if still active, is expected to have made one more purchase "
        "(none when the probability of still being active is below 5%).",
    )
    next_visit_overdue_days = fields.Integer(
        "Days Overdue",
        compute="_compute_shop_crm_values",
        groups=ANALYTICS_GROUP,
        search=_search_value("next_visit_overdue_days"),
        help="Days since the day by which, seen on the day of the last purchase, the customer was expected "
        "back (negative: not due yet).",
    )
    rfm_explanation = fields.Text(
        "Score Explanation", compute="_compute_rfm_explanation", groups=ANALYTICS_GROUP
    )

    @api.depends("partner_share")
    def _compute_is_shop_customer(self):
        own_companies = self._own_company_partner_ids()
        for partner in self:
            partner.is_shop_customer = partner.partner_share and partner.id not in own_companies

    def _search_is_shop_customer(self, operator, value):
        if operator not in ("=", "!=") or not isinstance(value, bool):
            return NotImplemented
        domain = ["&", ("partner_share", "=", True), ("id", "not in", list(self._own_company_partner_ids()))]
        return domain if (operator == "=") == value else ["!", *domain]

    def _own_company_partner_ids(self):
        companies = self.env["res.company"].sudo().with_context(active_test=False)
        return set(companies.search([("partner_id", "!=", False)]).partner_id.ids)

    @api.depends_context("company")
    def _compute_shop_crm_currency_id(self):
        self.shop_crm_currency_id = self.env.company.currency_id  # the analytics are per company

    @api.depends_context("company")
    def _compute_shop_crm_values(self):
        # Read without the table's access rights (a Shop CRM user reads values through the customer), but
        # with its record rules: staff who see only their own customers get no values for the others.
        Value = self.env["shop.crm.customer.value"].sudo()
        rows = Value.search_fetch(
            expression.AND(
                [
                    [("partner_id", "in", self._origin.ids), ("company_id", "=", self.env.company.id)],
                    self._shop_crm_value_rule_domain(),
                ]
            ),
            ["partner_id", *VALUE_FIELDS],
        )
        by_partner = {row.partner_id: row for row in rows}
        for partner in self:
            row = by_partner.get(partner._origin.id, Value)
            for fname in VALUE_FIELDS:
                partner[fname] = row[fname]

    def _search_shop_crm_value(self, fname, operator, value):
        """The customers whose value ``fname`` in the current company satisfies ``operator value``, with
        the usual meaning of empty values (customers without values count as empty)."""
        self.check_field_access_rights("read", [fname])  # a search on a restricted value reveals it
        query = Query(self.env, self._table, self._table_sql)
        query.add_where(self._condition_to_sql(self._table, fname, operator, value, query))
        return [("id", "in", query)]

    def _field_to_sql(self, alias, fname, query=None, flush=True):
        if fname not in VALUE_FIELDS:
            return super()._field_to_sql(alias, fname, query, flush)
        if query is None:
            raise ValueError(f"Cannot convert {fname!r} to SQL without a query to join its table to")
        self.check_field_access_rights("read", [fname])
        value_alias = query.make_alias(alias, "shop_crm_value")
        condition = SQL(
            "%s = %s AND %s = %s",
            SQL.identifier(value_alias, "partner_id"),
            SQL.identifier(alias, "id"),
            SQL.identifier(value_alias, "company_id"),
            self.env.company.id,
        )
        if rule_domain := self._shop_crm_value_rule_domain():
            # searching, sorting and grouping by a value follow the values' record rules too
            allowed = self.env["shop.crm.customer.value"].sudo()._search(rule_domain)
            condition = SQL(
                "%s AND %s IN %s", condition, SQL.identifier(value_alias, "id"), allowed.subselect()
            )
        query.add_join("LEFT JOIN", value_alias, VALUE_TABLE, condition)
        return SQL.identifier(value_alias, fname)

    def _shop_crm_value_rule_domain(self):
        """The record rules of the customer values for the current user ([] for the superuser)."""
        return self.env["ir.rule"]._compute_domain("shop.crm.customer.value", "read") or []

    @api.depends("churn_warning", "churn_typical_gap", "rfm_recency_days", "lifecycle_stage")
    @api.depends_context("company")
    def _compute_churn_reason(self):
        for partner in self:
            if not partner.churn_warning:
                partner.churn_reason = False
            elif partner.churn_typical_gap:
                partner.churn_reason = self.env._(
                    "usually every %(gap)s days, last visit %(days)s days ago",
                    gap=round(partner.churn_typical_gap),
                    days=partner.rfm_recency_days,
                )
            else:
                partner.churn_reason = self.env._(
                    "last visit %(days)s days ago", days=partner.rfm_recency_days
                )

    @api.depends("rfm_r_score", "rfm_f_score", "rfm_m_score", "rfm_recency_days", "rfm_frequency")
    @api.depends_context("company")
    def _compute_rfm_explanation(self):
        for partner in self:
            if not partner.lifecycle_stage or partner.lifecycle_stage == "potential":
                partner.rfm_explanation = self.env._("No purchase yet: no scores.")
                continue
            if not partner.rfm_f_score:
                partner.rfm_explanation = self.env._(
                    "No purchase in the RFM window (last purchase %(days)s days ago): scores 0, class D.",
                    days=partner.rfm_recency_days,
                )
                continue
            partner.rfm_explanation = "\n".join(
                [
                    self.env._(
                        "R %(score)s/5: last purchase %(days)s days ago (5 = the most recent fifth).",
                        score=partner.rfm_r_score,
                        days=partner.rfm_recency_days,
                    ),
                    self.env._(
                        "F %(score)s/5: %(count)s purchases in the window (5 = the most frequent fifth).",
                        score=partner.rfm_f_score,
                        count=partner.rfm_frequency,
                    ),
                    self.env._(
                        "M %(score)s/5: %(amount)s spent in the window (5 = the top-spending fifth).",
                        score=partner.rfm_m_score,
                        amount=partner.shop_crm_currency_id.format(partner.rfm_monetary),
                    ),
                    self.env._(
                        "Class %(klass)s: R+F+M = %(total)s.",
                        klass=partner.rfm_class,
                        total=partner.rfm_r_score + partner.rfm_f_score + partner.rfm_m_score,
                    ),
                ]
            )

    # ---- membership -----------------------------------------------------------------------------
    member_code = fields.Char(
        copy=False, index="btree_not_null", readonly=True, help="Printed on the member card as a barcode."
    )
    member_since = fields.Date(copy=False, readonly=True)
    member_company_id = fields.Many2one("res.company", "Member Of", copy=False, readonly=True, index=True)
    is_member = fields.Boolean("Member", compute="_compute_is_member", search="_search_is_member")
    gender = fields.Selection(GENDERS)
    age_band = fields.Selection(AGE_BANDS, compute="_compute_age_band")
    preferred_channel = fields.Selection(CONTACT_CHANNELS, "Preferred Contact Channel")
    wechat_id = fields.Char("WeChat ID")
    preference_notes = fields.Text("Preferences", help="Favourite flowers, colours, allergies, sizes...")
    source_channel = fields.Selection(SOURCE_CHANNELS, "Source", help="How the customer found the shop.")
    tier_id = fields.Many2one(
        "shop.crm.tier", "Member Tier", copy=False, index="btree_not_null", readonly=True
    )
    tier_color = fields.Integer(related="tier_id.color")
    shop_crm_tier_name = fields.Char("Tier Name", related="tier_id.name")
    tier_locked = fields.Boolean(
        copy=False, help="A manager fixed this tier by hand: the evaluation leaves it alone."
    )
    tier_below_since = fields.Date(
        "Below Tier Since",
        copy=False,
        readonly=True,
        help="First day the member stopped qualifying for the current tier "
        "(downgrade after the grace period).",
    )
    # the tier changes name their triggering orders: purchase history, not for the front desk
    tier_history_ids = fields.One2many(
        "shop.crm.tier.history", "partner_id", "Tier Changes", groups=ANALYTICS_GROUP
    )
    member_card_id = fields.Many2one("loyalty.card", compute="_compute_member_points")
    points_balance = fields.Float("Points", compute="_compute_member_points", digits=(16, 2))
    points_history_ids = fields.Many2many(
        "loyalty.history", compute="_compute_member_points", groups=ANALYTICS_GROUP
    )
    referred_by_id = fields.Many2one(
        "res.partner", index="btree_not_null", copy=False, domain=[("is_company", "=", False)]
    )
    referral_ids = fields.One2many("res.partner", "referred_by_id", "Referrals")
    referral_count = fields.Integer(compute="_compute_referral_count")
    consent_ids = fields.One2many("shop.crm.consent", "partner_id", "Marketing Consent")
    occasion_ids = fields.One2many("shop.crm.occasion", "partner_id", "Important Dates")
    do_not_contact = fields.Boolean(
        copy=False,
        help="The customer asked not to be contacted: no follow-up, no marketing "
        "(they still buy and earn points).",
    )
    visit_ids = fields.One2many("shop.crm.visit", "partner_id", "Visits")
    visit_count = fields.Integer(compute="_compute_visit_count")
    feedback_ids = fields.One2many("shop.crm.feedback", "partner_id")
    feedback_count = fields.Integer(compute="_compute_feedback_count")
    # ---- privacy (PIPL) ----
    shop_crm_anonymized = fields.Boolean(
        "Anonymised",
        copy=False,
        readonly=True,
        help="The customer's personal information was erased on request.",
    )
    shop_crm_anonymized_date = fields.Date("Anonymised On", copy=False, readonly=True)
    privacy_request_ids = fields.One2many(
        "shop.crm.privacy.request",
        "partner_id",
        "Personal Information Requests",
        groups="shop_crm.group_shop_crm_manager",
    )
    # ---- campaign segments (models/shop_crm_segment.py): search-only helpers for the domain editor ----
    shop_crm_segment_id = fields.Many2one(
        "shop.crm.segment",
        "In Segment",
        compute="_compute_shop_crm_segment_id",
        search="_search_shop_crm_segment_id",
    )
    birthday_in_months = fields.Integer(
        "Birthday In (months)",
        compute="_compute_shop_crm_relative_months",
        search="_search_birthday_in_months",
        help="0: the birthday is this month, 1: next month... (the shop's month).",
    )
    member_since_months = fields.Integer(
        "Member For (months)",
        compute="_compute_shop_crm_relative_months",
        search="_search_member_since_months",
        help="0: joined this month, 1: last month... (the shop's month).",
    )

    _sql_constraints = [
        (
            "shop_crm_member_code_unique",
            "UNIQUE(member_code, member_company_id)",
            "This member code is already used in this company.",
        ),
    ]

    def _compute_shop_crm_segment_id(self):
        self.shop_crm_segment_id = False

    def _search_shop_crm_segment_id(self, operator, value):
        if operator not in ("=", "in") or not value:
            return NotImplemented
        segments = self.env["shop.crm.segment"].browse(value if isinstance(value, list) else [value])
        if len(segments) != 1:
            return NotImplemented
        return [("id", "in", segments._partners_query())]

    @api.depends("birthday", "member_since")
    def _compute_shop_crm_relative_months(self):
        today = self.env.company._shop_crm_today()
        for partner in self:
            partner.birthday_in_months = (
                (partner.birthday.month - today.month) % 12 if partner.birthday else False
            )
            partner.member_since_months = (
                (today.year - partner.member_since.year) * 12 + today.month - partner.member_since.month
                if partner.member_since
                else False
            )

    def _search_birthday_in_months(self, operator, value):
        month = self.env.company._shop_crm_today().month
        expression = SQL(
            "MOD(EXTRACT(MONTH FROM %s)::int - %s + 12, 12)", SQL.identifier(self._table, "birthday"), month
        )
        return self._search_shop_crm_months("birthday", expression, operator, value)

    def _search_member_since_months(self, operator, value):
        today = self.env.company._shop_crm_today()
        column = SQL.identifier(self._table, "member_since")
        expression = SQL(
            "(%s - EXTRACT(YEAR FROM %s)::int) * 12 + %s - EXTRACT(MONTH FROM %s)::int",
            today.year,
            column,
            today.month,
            column,
        )
        return self._search_shop_crm_months("member_since", expression, operator, value)

    def _search_shop_crm_months(self, column, expression, operator, value):
        operators = {"=": "=", "!=": "<>", "<": "<", "<=": "<=", ">": ">", ">=": ">="}
        if operator not in operators or isinstance(value, bool) or not isinstance(value, int):
            return NotImplemented
        self.flush_model([column])
        query = Query(self.env, self._table, self._table_sql)
        query.add_where(
            SQL(
                "%s IS NOT NULL AND %s %s %s",
                SQL.identifier(self._table, column),
                expression,
                SQL(operators[operator]),
                value,
            )
        )
        return [("id", "in", query)]

    @api.depends("member_code")
    def _compute_is_member(self):
        for partner in self:
            partner.is_member = bool(partner.member_code)

    def _search_is_member(self, operator, value):
        if operator not in ("=", "!=") or not isinstance(value, bool):
            return NotImplemented
        return [("member_code", "!=" if (operator == "=") == value else "=", False)]

    @api.depends("mobile", "country_id")
    def _compute_mobile_normalized(self):
        default_region = self.env.company._shop_crm_phone_region()
        for partner in self:
            partner.mobile_normalized = phone.normalize_or_none(
                partner.mobile, partner.country_id.code or default_region
            )

    @api.depends("birthday")
    def _compute_age_band(self):
        today = self.env.company._shop_crm_today()
        for partner in self:
            partner.age_band = membership.age_band(partner.birthday, today)

    @api.depends_context("company")
    def _compute_member_points(self):
        program = self.env.company.sudo().shop_crm_program_id
        cards = self.env["loyalty.card"]
        if program and self.ids:
            cards = cards.sudo().search([("program_id", "=", program.id), ("partner_id", "in", self.ids)])
        by_partner = {card.partner_id.id: card for card in cards.sorted("id", reverse=True)}
        for partner in self:
            card = by_partner.get(partner.id, self.env["loyalty.card"])
            partner.member_card_id = card
            partner.points_balance = card.points
            if "points_history_ids" in self._fields and self._fields["points_history_ids"].is_accessible(
                self.env
            ):
                # the ledger lines the user may read (staff who see only their own customers)
                partner.points_history_ids = card.history_ids.with_env(self.env)._filtered_access("read")
            else:
                partner.points_history_ids = False

    def _compute_visit_count(self):
        counts = dict(
            self.env["shop.crm.visit"]._read_group(
                [("partner_id", "in", self.ids)], ["partner_id"], ["__count"]
            )
        )
        for partner in self:
            partner.visit_count = counts.get(partner, 0)

    def _compute_feedback_count(self):
        counts = dict(
            self.env["shop.crm.feedback"]._read_group(
                [("partner_id", "in", self.ids)], ["partner_id"], ["__count"]
            )
        )
        for partner in self:
            partner.feedback_count = counts.get(partner, 0)

    def action_shop_crm_feedback(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("shop_crm.shop_crm_feedback_action")
        action["domain"] = [("partner_id", "=", self.id)]
        action["context"] = {"default_partner_id": self.id}
        return action

    def _compute_referral_count(self):
        counts = dict(
            self.with_context(active_test=False)._read_group(
                [("referred_by_id", "in", self.ids)], ["referred_by_id"], ["__count"]
            )
        )
        for partner in self:
            partner.referral_count = counts.get(partner, 0)

    @api.constrains("member_code", "member_company_id")
    def _check_member_code(self):
        for partner in self.filtered("member_code"):
            code = partner.member_code
            if not code.isascii() or not code.isalnum():
                raise ValidationError(
                    self.env._(
                        "Member code %(code)s: use letters and digits only (it is printed as a barcode).",
                        code=code,
                    )
                )

    def _check_member_code_free(self, code, company_id):
        """Raise a clear error when ``code`` is taken in ``company_id`` by another contact than ``self``."""
        if not code:
            return
        duplicate = (
            self.with_context(active_test=False)
            .sudo()
            .search(
                [
                    ("member_code", "=", code),
                    ("member_company_id", "=", company_id),
                    ("id", "not in", self.ids),
                ],
                limit=1,
            )
        )
        if duplicate:
            raise ValidationError(
                self.env._(
                    "Member code %(code)s is already used by %(other)s.",
                    code=code,
                    other=duplicate.display_name,
                )
            )

    @api.constrains("referred_by_id")
    def _check_referred_by(self):
        for partner in self.filtered("referred_by_id"):
            if partner.referred_by_id == partner or partner._has_cycle("referred_by_id"):
                raise ValidationError(
                    self.env._(
                        "%(customer)s cannot be referred by themselves, directly or through others.",
                        customer=partner.display_name,
                    )
                )

    @api.model_create_multi
    def create(self, vals_list):
        # the import checks its member codes for a whole file in one query (shop.crm.import)
        for vals in vals_list if not self.env.context.get("shop_crm_member_codes_checked") else []:
            if vals.get("member_code"):
                self.browse()._check_member_code_free(vals["member_code"], vals.get("member_company_id"))
        return super().create(vals_list)

    def write(self, vals):
        if vals.get("member_code"):
            for partner in self:
                partner._check_member_code_free(
                    vals["member_code"], vals.get("member_company_id", partner.member_company_id.id)
                )
        engine = self.env.context.get("shop_crm_tier_engine")
        if (
            {"tier_id", "tier_locked"} & set(vals)
            and not engine
            and not self.env.su
            and not self.env.user.has_group("shop_crm.group_shop_crm_manager")
        ):
            raise AccessError(self.env._("Only Shop CRM managers can change or lock a member's tier."))
        manual = "tier_id" in vals and not engine
        before = {partner.id: partner.tier_id.id for partner in self} if manual else {}
        if manual:
            vals = {**vals, "tier_below_since": False}
        result = super().write(vals)
        if manual:
            changes = [
                (partner.id, before[partner.id], partner.tier_id.id, "manual")
                for partner in self
                if before[partner.id] != partner.tier_id.id
            ]
            if changes:
                company = self.env.company
                self.env["shop.crm.tier"]._record_changes(company, changes, company._shop_crm_today())
        return result

    # ---- membership actions ---------------------------------------------------------------------

    def action_shop_crm_enroll(self):
        self._shop_crm_enroll(self.env.company)
        return True

    def _shop_crm_enroll(self, company):
        """Make these customers members of ``company``: member code (a valid in-store EAN-13, also set as
        the contact's barcode for scanning at the Point of Sale), member since, staff member by
        round-robin when the company has an assignment team, and a member points card."""
        new_members = self.filtered(lambda partner: not partner.member_code)
        if not new_members:
            return new_members
        sequence = company._shop_crm_member_sequence()
        today = company._shop_crm_today()
        for partner in new_members.sudo():
            code = membership.member_code(int(sequence.next_by_id()))
            vals = {"member_code": code, "member_since": today, "member_company_id": company.id}
            if not partner.with_company(company).barcode:
                vals["barcode"] = code
            if not partner.user_id and (staff := company._shop_crm_next_staff()):
                vals["user_id"] = staff.id
            partner.with_company(company).write(vals)
        self.env["shop.crm.points"]._member_cards(new_members, company)
        return new_members

    def _shop_crm_evaluate_tiers(self, company, order=None):
        return self.env["shop.crm.tier"].sudo()._evaluate(company, partners=self, order=order)

    def _shop_crm_paid_order_count(self, company):
        self.ensure_one()
        pos = (
            self.env["pos.order"]
            .sudo()
            .search_count(
                [
                    ("partner_id", "=", self.id),
                    ("company_id", "=", company.id),
                    ("state", "in", POS_PAID_STATES),
                    ("amount_total", ">", 0),
                ]
            )
        )
        sale = (
            self.env["sale.order"]
            .sudo()
            .search_count(
                [("partner_id", "=", self.id), ("company_id", "=", company.id), ("state", "=", "sale")]
            )
        )
        return pos + sale

    def _shop_crm_has_consent(self, channel):
        self.ensure_one()
        return self in self.env["shop.crm.consent"].sudo()._consented_partners(self, channel)

    def action_shop_crm_points_history(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Points History"),
            "res_model": "loyalty.history",
            "view_mode": "list",
            "views": [(self.env.ref("shop_crm.loyalty_history_view_tree_shop_crm").id, "list")],
            "domain": [("card_id", "=", self.member_card_id.id)],
            "context": {"create": False},
        }

    @api.model
    def _load_pos_data_fields(self, config_id):
        # the cashier sees the member tier and card when picking the customer (also for searched customers:
        # the till's partner search reads these same fields), and finds customers by any form of mobile
        return [
            *super()._load_pos_data_fields(config_id),
            "shop_crm_tier_name",
            "member_code",
            "mobile_normalized",
            "shop_crm_pos_card",
        ]

    def _shop_crm_stop_contact(self, reason):
        """The customers asked not to be contacted: flag them, withdraw their marketing consent and drop
        their open follow-up, win-back and care activities (PIPL: withdrawal as easy as consent)."""
        self.write({"do_not_contact": True})
        self.consent_ids.filtered("granted").action_withdraw()
        types = (
            self.env.ref("shop_crm.mail_activity_type_follow_up")
            | self.env.ref("shop_crm.mail_activity_type_churn_warning")
            | self.env.ref("shop_crm.mail_activity_type_care")
        )
        self.env["mail.activity"].search(
            [
                ("res_model", "=", "res.partner"),
                ("res_id", "in", self.ids),
                ("activity_type_id", "in", types.ids),
            ]
        ).unlink()
        for partner in self:
            partner.message_post(body=reason, subtype_xmlid="mail.mt_note")

    def action_shop_crm_visits(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("shop_crm.shop_crm_visit_action")
        action["domain"] = [("partner_id", "=", self.id)]
        action["context"] = {"default_partner_id": self.id}
        return action

    def action_shop_crm_referrals(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("shop_crm.res_partner_action_shop_customers")
        action["domain"] = [("referred_by_id", "=", self.id)]
        action["context"] = {"default_referred_by_id": self.id}
        action["name"] = self.env._("Referrals")
        return action

    def unlink(self):
        # The customers' analytics values go with them (no foreign key, see shop.crm.customer.value).
        self.env["shop.crm.customer.value"].sudo().search([("partner_id", "in", self.ids)]).unlink()
        self.env["shop.crm.analytics"]._forget_partners(self.ids)
        return super().unlink()

    # ---- privacy (PIPL) requests -------------------------------------------------------------------

    def action_shop_crm_privacy_export(self):
        """Export the customer's personal information (a logged request with a JSON and an XLSX file)."""
        self.ensure_one()
        request = self.env["shop.crm.privacy.request"]._export(self)
        return {
            "type": "ir.actions.act_window",
            "res_model": "shop.crm.privacy.request",
            "res_id": request.id,
            "view_mode": "form",
            "views": [(False, "form")],
        }

    def action_shop_crm_privacy_anonymize(self):
        """Open the confirmation of the customer's anonymisation."""
        self.ensure_one()
        self.env["shop.crm.privacy.request"]._check_manager()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Anonymise Customer"),
            "res_model": "shop.crm.privacy.anonymize",
            "view_mode": "form",
            "views": [(False, "form")],
            "target": "new",
            "context": {"default_partner_id": self.id},
        }

    # ---- Point of Sale: the customer card and sign-up at the till --------------------------------
    shop_crm_pos_card = fields.Json(
        "Customer Card",
        compute="_compute_shop_crm_pos_card",
        groups="point_of_sale.group_pos_user",
        help="What the cashier sees of the customer at the Point of Sale (loaded with the customer).",
    )
    shop_crm_mobile_search = fields.Char(
        "Mobile (any form)",
        compute="_compute_shop_crm_mobile_search",
        search="_search_shop_crm_mobile_search",
        help="Search only: finds the customer whose normalised mobile is the searched number, however it "
        "is typed (+86, spaces, dashes).",
    )

    def _compute_shop_crm_mobile_search(self):
        self.shop_crm_mobile_search = False

    def _search_shop_crm_mobile_search(self, operator, value):
        if operator not in ("=", "ilike", "=ilike", "like", "=like") or not isinstance(value, str):
            return NotImplemented
        # the till's partner search sends "<typed text>%" (a prefix search on every field)
        region = self.env.company._shop_crm_phone_region()
        normalized = phone.normalize_or_none(value.strip().rstrip("%"), region)
        return [("mobile_normalized", "=", normalized)] if normalized else [("id", "=", False)]

    @api.depends_context("company", "lang")
    def _compute_shop_crm_pos_card(self):
        """The cards of all these customers in a few queries (the till loads them with the customers).
        Read server-side: the cashier sees what the card shows, not the customers' analytics, tickets or
        visits themselves."""
        company = self.env.company
        today = company._shop_crm_today()
        customers = self.sudo().with_company(company).filtered(lambda p: p.id and p.is_shop_customer)
        self.shop_crm_pos_card = False
        if not customers:
            return
        currency = company.currency_id
        segments = dict(self._fields["rfm_segment"]._description_selection(self.env))
        stages = dict(self._fields["lifecycle_stage"]._description_selection(self.env))

        members = customers.filtered("member_code")
        cards = members.member_card_id
        expiring = dict(
            self.env["shop.crm.points"]
            .sudo()
            ._expiry_rows(company, today + timedelta(days=EXPIRY_SOON_DAYS), cards=cards)
        )
        tiers = self.env["shop.crm.tier"].sudo().search([("company_id", "=", company.id)])
        rules = [tier._rule() for tier in tiers]
        tier_names = {tier.id: tier.name for tier in tiers}
        totals = self.env["shop.crm.tier"].sudo()._member_totals(company, members, today) if tiers else {}

        dates = {partner.id: [] for partner in customers}  # [(date, label, trigger, tier)]
        for partner in customers.filtered("birthday"):
            day = chinese_calendar.next_occurrence(
                "solar", partner.birthday.month, partner.birthday.day, False, today
            )
            dates[partner.id].append((day, self.env._("Birthday"), "birthday"))
        occasions = self.env["shop.crm.occasion"].sudo().search([("partner_id", "in", customers.ids)])
        for occasion in occasions:
            try:
                day = occasion._next_occurrence(today)
            except ValueError:
                day = None
            if day:
                dates[occasion.partner_id.id].append((day, occasion.name, "occasion"))
        care_rules = (
            self.env["shop.crm.care.rule"]
            .sudo()
            .search([("company_id", "=", company.id), ("trigger", "in", ["birthday", "occasion"])])
        )
        todays_member_days = (
            self.env["shop.crm.member.day"]
            .sudo()
            .search([("company_id", "=", company.id)])
            .filtered(lambda member_day: member_day._on(today))
        )
        complaints = {}
        tickets = (
            self.env["shop.crm.feedback"]
            .sudo()
            .search_fetch(
                [
                    ("partner_id", "in", customers.ids),
                    ("company_id", "=", company.id),
                    ("feedback_type", "=", "complaint"),
                    ("stage", "in", ["new", "in_progress"]),
                ],
                ["name", "partner_id", "description", "stage"],
                order="received_date, id",
            )
        )
        ticket_stages = dict(tickets._fields["stage"]._description_selection(self.env))
        for ticket in tickets:
            complaints.setdefault(ticket.partner_id.id, []).append(ticket)

        for partner in customers:
            progress = customer_card.tier_progress(
                rules, partner.tier_id.id or None, totals.get(partner.id, {})
            )
            soon = [
                (day, label, trigger)
                for day, label, trigger in sorted(dates[partner.id], key=lambda item: item[0])
                if customer_card.within_window(day, today)
            ]
            own_complaints = complaints.get(partner.id, [])
            flags = customer_card.flags(
                partner.churn_warning,
                [day for day, _label, _trigger in soon],
                [ticket.name for ticket in own_complaints],
                partner.do_not_contact,
                today,
            )
            card = partner.member_card_id
            date_lines = [
                {
                    "label": label,
                    "date": fields.Date.to_string(day),
                    "days": (day - today).days,
                    "text": self._shop_crm_date_text(label, (day - today).days),
                    "offer": self._shop_crm_care_offer(care_rules, trigger, partner.tier_id),
                }
                for day, label, trigger in soon
            ]
            self.browse(partner.id).shop_crm_pos_card = {
                "member_code": partner.member_code or False,
                "tier": partner.tier_id.name or False,
                "tier_progress": progress
                and self._shop_crm_progress_text(progress, tier_names[progress.tier.id], currency),
                "points": card.points if card else False,
                "points_expiring": expiring.get(card.id, 0.0) if card else 0.0,
                "value_class": partner.rfm_class or False,
                "segment": segments.get(partner.rfm_segment) or False,
                "stage": stages.get(partner.lifecycle_stage) or False,
                "staff": partner.user_id.name or False,
                "preferences": partner.preference_notes or False,
                "flags": flags,
                "churn_reason": partner.churn_reason or False,
                "dates": date_lines,
                "complaints": [
                    {"reference": ticket.name, "stage": ticket_stages.get(ticket.stage)}
                    for ticket in own_complaints
                ],
                "do_not_contact": partner.do_not_contact,
                "member_days": [
                    {"name": member_day.name, "offer": self._shop_crm_member_day_offer(member_day)}
                    for member_day in todays_member_days
                    if partner.tier_id and partner.tier_id in member_day.tier_ids
                ],
                "alerts": self._shop_crm_alerts(
                    customer_card.popup_flags(flags), partner, date_lines, own_complaints
                ),
            }

    def _shop_crm_member_day_offer(self, member_day):
        """What a member day gives, e.g. "5 % off, points ×2"."""
        parts = []
        percent = f"{member_day.discount_percent:g}"
        multiplier = f"{member_day.points_multiplier:g}"
        if member_day.discount_percent:
            parts.append(self.env._("%(percent)s %% off", percent=percent))
        if member_day.points_multiplier > 1:
            parts.append(self.env._("points ×%(multiplier)s", multiplier=multiplier))
        return ", ".join(parts)

    def _shop_crm_progress_text(self, progress, tier_name, currency):
        spend = progress.spend_missing and currency.format(progress.spend_missing)
        points = progress.points_missing and f"{progress.points_missing:g}"
        if spend and points:
            if progress.require_both:
                return self.env._(
                    "%(amount)s and %(points)s points more to %(tier)s",
                    amount=spend,
                    points=points,
                    tier=tier_name,
                )
            return self.env._(
                "%(amount)s or %(points)s points more to %(tier)s",
                amount=spend,
                points=points,
                tier=tier_name,
            )
        if spend:
            return self.env._("%(amount)s more to %(tier)s", amount=spend, tier=tier_name)
        if points:
            return self.env._("%(points)s points more to %(tier)s", points=points, tier=tier_name)
        return False

    def _shop_crm_date_text(self, label, days):
        if days == 0:
            return self.env._("%(occasion)s today", occasion=label)
        if days == 1:
            return self.env._("%(occasion)s tomorrow", occasion=label)
        return self.env._("%(occasion)s in %(days)s days", occasion=label, days=days)

    def _shop_crm_care_offer(self, care_rules, trigger, tier):
        """What the care rule for this kind of date offers this customer (empty without a rule)."""
        offers = []
        for rule in care_rules:
            if rule.trigger != trigger or (rule.tier_id and rule.tier_id != tier):
                continue
            if rule.gift_points:
                points = f"{rule.gift_points:g}"
                offers.append(self.env._("%(rule)s: %(points)s points gift", rule=rule.name, points=points))
            elif rule.coupon_program_id:
                offers.append(
                    self.env._(
                        "%(rule)s: a %(coupon)s coupon", rule=rule.name, coupon=rule.coupon_program_id.name
                    )
                )
            else:
                offers.append(rule.name)
        return "; ".join(offers) or False

    def _shop_crm_alerts(self, popup_flags, partner, date_lines, complaints):
        """The popup's lines: what it is and what to say or offer."""
        alerts = []
        if "churn" in popup_flags:
            alerts.append(
                {
                    "kind": "churn",
                    "title": self.env._("Churn warning: %(reason)s", reason=partner.churn_reason),
                    "advice": self.env._("Welcome them back and ask how they have been."),
                }
            )
        if "date" in popup_flags:
            for line in date_lines:
                advice = self.env._("Wish them well for it.")
                if line["offer"]:
                    advice = self.env._("Wish them well for it. Offer: %(offer)s", offer=line["offer"])
                alerts.append({"kind": "date", "title": line["text"], "advice": advice})
        if "complaint" in popup_flags:
            for ticket in complaints:
                alerts.append(
                    {
                        "kind": "complaint",
                        "title": self.env._(
                            "Open complaint %(reference)s: %(description)s",
                            reference=ticket.name,
                            description=shorten(ticket.description or "", 80, placeholder="…"),
                        ),
                        "advice": self.env._("Apologise and tell them where it stands; do not argue."),
                    }
                )
        return alerts

    def _shop_crm_check_pos_user(self):
        if not self.env.user.has_group("point_of_sale.group_pos_user"):
            raise AccessError(self.env._("Only Point of Sale users can do this at the till."))

    @api.model
    def _shop_crm_normalize_mobile(self, mobile):
        """The E.164 form of a mobile typed at the till, or a clear error."""
        try:
            normalized = phone.normalize(mobile, self.env.company._shop_crm_phone_region(), mobile_only=True)
        except phone.PhoneError as error:
            raise UserError(
                self.env._("%(mobile)s is not a valid mobile number.", mobile=(mobile or "").strip())
            ) from error
        if not normalized:
            raise UserError(self.env._("Enter the customer's mobile number."))
        return normalized

    @api.model
    def _shop_crm_same_mobile(self, normalized):
        """The customer who already has this normalised mobile (active or archived), if any. Searched as
        superuser: a duplicate is a duplicate even when the cashier cannot read it."""
        return (
            self.sudo()
            .with_context(active_test=False)
            .search([("mobile_normalized", "=", normalized)], order="active desc, id", limit=1)
        )

    @api.model
    def shop_crm_pos_check_mobile(self, mobile):
        """Till: the normalised ``mobile`` and the existing customer who has it (to offer instead of a new
        one): {"mobile": "+86…", "partner_id": id or False, "partner_name": name or False}."""
        self._shop_crm_check_pos_user()
        normalized = self._shop_crm_normalize_mobile(mobile)
        existing = self._shop_crm_same_mobile(normalized).with_env(self.env)
        offered = existing if existing.has_access("read") and existing.active else self.browse()
        return {
            "mobile": normalized,
            "partner_id": offered.id or False,
            "partner_name": offered.name or (existing and self.env._("another customer")) or False,
        }

    @api.model
    def shop_crm_pos_find_referrer(self, term):
        """Till: the customers whose member code or mobile is ``term`` ([{id, name, member_code}])."""
        self._shop_crm_check_pos_user()
        term = (term or "").strip()
        if not term:
            return []
        domain = [("member_code", "=", term)]
        normalized = phone.normalize_or_none(term, self.env.company._shop_crm_phone_region())
        if normalized:
            domain = ["|", *domain, ("mobile_normalized", "=", normalized)]
        return self.search_read(domain, ["name", "member_code"], limit=5)

    @api.model
    def shop_crm_pos_sign_up(self, values, config_id):
        """Till: a new member from the sign-up form: ``values`` {mobile, name, birthday (YYYY-MM-DD),
        gender, consents [channel, …], referred_by_id}. Refuses a mobile another customer has. Enrols the
        customer at once (member code, card) so that this first order already earns points, records the
        consents given at the till (dated, source "till"), and returns the new customer's id."""
        self._shop_crm_check_pos_user()
        config = self.env["pos.config"].browse(int(config_id)).exists()
        if not config:
            raise UserError(self.env._("This Point of Sale does not exist any more."))
        config.check_access("read")
        company = config.company_id
        name = (values.get("name") or "").strip()
        if not name:
            raise UserError(self.env._("Enter the customer's name."))
        normalized = self._shop_crm_normalize_mobile(values.get("mobile"))
        birthday = values.get("birthday") or False
        if birthday:
            try:
                birthday = fields.Date.to_date(birthday)
            except ValueError as error:
                raise UserError(self.env._("The birthday is not a valid date.")) from error
            if birthday > company._shop_crm_today():
                raise UserError(self.env._("The birthday cannot be in the future."))
        gender = values.get("gender") or False
        if gender and gender not in dict(GENDERS):
            raise UserError(self.env._("Unknown gender: %(gender)s.", gender=gender))
        channels = list(dict.fromkeys(values.get("consents") or []))
        unknown = set(channels) - set(dict(CONTACT_CHANNELS))
        if unknown:
            raise UserError(
                self.env._("Unknown contact channel: %(channel)s.", channel=", ".join(sorted(unknown)))
            )
        referrer = self.browse()
        if values.get("referred_by_id"):
            referrer = self.browse(int(values["referred_by_id"])).exists()
            if not referrer:
                raise UserError(self.env._("The referring customer does not exist any more."))
            referrer.check_access("read")
        # two tills signing up the same mobile at the same moment: the second waits, then finds the first
        self.env.cr.execute(
            SQL("SELECT pg_advisory_xact_lock(hashtext(%s))", f"shop_crm_mobile:{normalized}")
        )
        self.flush_model(["mobile", "mobile_normalized"])
        existing = self._shop_crm_same_mobile(normalized).with_env(self.env)
        if existing:
            raise UserError(
                self.env._(
                    "A customer with the mobile %(mobile)s already exists (%(customer)s): pick that customer "
                    "instead of signing up a new one.",
                    mobile=normalized,
                    customer=existing.name if existing.has_access("read") else self.env._("another customer"),
                )
            )
        # The cashier signs up a member without the contact-creation right: only these fields, checked
        # above, are written as superuser.
        partner = (
            self.sudo()
            .with_company(company)
            .create(
                {
                    "name": name,
                    "mobile": values.get("mobile").strip(),
                    "country_id": company.country_id.id or False,
                    "birthday": birthday,
                    "gender": gender,
                    "referred_by_id": referrer.id or False,
                    "source_channel": "referral" if referrer else "walk_in",
                }
            )
        )
        partner._shop_crm_enroll(company)
        if channels:
            self.env["shop.crm.consent"].sudo().with_company(company).create(
                [
                    {"partner_id": partner.id, "channel": channel, "granted": True, "source": "till"}
                    for channel in channels
                ]
            )
        partner.message_post(
            body=self.env._(
                "Signed up at the Point of Sale %(pos)s by %(user)s.",
                pos=config.name,
                user=self.env.user.name,
            ),
            subtype_xmlid="mail.mt_note",
        )
        return partner.id

    def shop_crm_pos_note_visit(self, kinds):
        """Till: the cashier noted the popup's alerts (``kinds``: churn, date, complaint): one in-store
        visit by the cashier, for the current company. Returns the visit id."""
        self.ensure_one()
        self._shop_crm_check_pos_user()
        self.check_access("read")
        kinds = [kind for kind in kinds or [] if kind in customer_card.POPUP_FLAGS]
        if not kinds:
            raise UserError(self.env._("There is nothing to note for this customer."))
        purpose = "complaint" if "complaint" in kinds else "win_back" if "churn" in kinds else "occasion"
        card = self.shop_crm_pos_card or {}
        notes = "\n".join(alert["title"] for alert in card.get("alerts", []) if alert["kind"] in kinds)
        # Cashiers without Shop CRM rights record this one kind of visit, by themselves, in store.
        visit = (
            self.env["shop.crm.visit"]
            .sudo()
            .create(
                {
                    "partner_id": self.id,
                    "user_id": self.env.uid,
                    "company_id": self.env.company.id,
                    "channel": "in_store",
                    "purpose": purpose,
                    "outcome": "reached",
                    "notes": notes or False,
                }
            )
        )
        return visit.id
