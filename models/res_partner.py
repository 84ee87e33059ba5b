from odoo import api, fields, models
from odoo.exceptions import AccessError, ValidationError
from odoo.osv import expression
from odoo.tools import SQL
from odoo.tools.query import Query

from ..lib import membership, phone
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
        default_region = self.env.company.country_id.code or phone.DEFAULT_REGION
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
                    ("state", "in", ["paid", "done", "invoiced"]),
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
