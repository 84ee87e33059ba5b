from odoo import fields, models, tools

CLASSES = [("A", "A"), ("B", "B"), ("C", "C"), ("D", "D")]
SEGMENTS = [
    ("important_value", "Important value customer"),
    ("important_development", "Important development customer"),
    ("important_keep", "Important keep customer"),
    ("important_retain", "Important retain customer"),
    ("general_value", "General value customer"),
    ("general_development", "General development customer"),
    ("general_keep", "General keep customer"),
    ("general_retain", "General retain customer"),
]
STAGES = [("potential", "Potential"), ("new", "New"), ("returning", "Returning"), ("lost", "Lost")]
CLV_METHODS = [
    ("bgnbd_gamma_gamma", "BG/NBD + Gamma-Gamma model"),
    ("bgnbd_constant_dropout", "BG/NBD with constant dropout + Gamma-Gamma model"),
    ("simple", "Simple estimate"),
]

# The analytics values, stored here per customer and company and shown on res.partner (for the current
# company) under the same names.
VALUE_FIELDS = (
    "rfm_recency_days",
    "rfm_frequency",
    "rfm_monetary",
    "rfm_r_score",
    "rfm_f_score",
    "rfm_m_score",
    "rfm_class",
    "rfm_segment",
    "lifecycle_stage",
    "churn_warning",
    "churn_typical_gap",
    "clv_historical",
    "clv_predicted_12m",
    "probability_alive",
    "clv_method",
    "expected_purchases_30d",
    "expected_purchases_90d",
    "next_visit_date",
    "next_visit_overdue_days",
)


class ShopCrmCustomerValue(models.Model):
    """One customer's analytics values in one company, written in bulk by ``shop.crm.analytics``.

    A narrow table of its own (not columns of res_partner, which is wide and heavily indexed): a chain's
    nightly run inserts or updates a million short rows here, and a customer who buys in two companies
    keeps one set of values per company. res.partner shows the current company's row (see
    ``models/res_partner.py``).
    """

    _name = "shop.crm.customer.value"
    _description = "Customer value per company"
    _log_access = False  # written by SQL only; the run's date is on the company

    # Plain ids rather than many2one fields: a foreign key would make PostgreSQL check and lock the
    # referenced customer row of each of a chain's million inserted rows, one by one (seconds). A deleted
    # customer's values are deleted with it (res.partner.unlink).
    partner_id = fields.Integer("Customer", required=True, readonly=True)
    company_id = fields.Integer(required=True, readonly=True)
    currency_id = fields.Many2one("res.currency", "Shop Currency", compute="_compute_currency_id")
    rfm_recency_days = fields.Integer(
        "Recency (days)", readonly=True, help="Days between the analysis date and the last purchase."
    )
    rfm_frequency = fields.Integer("Frequency", readonly=True, help="Purchases in the RFM window.")
    rfm_monetary = fields.Monetary(
        "Monetary", readonly=True, help="Purchases minus refunds in the RFM window."
    )
    rfm_r_score = fields.Integer("R Score", readonly=True, aggregator="avg")
    rfm_f_score = fields.Integer("F Score", readonly=True, aggregator="avg")
    rfm_m_score = fields.Integer("M Score", readonly=True, aggregator="avg")
    rfm_class = fields.Selection(CLASSES, "Value Class", readonly=True)
    rfm_segment = fields.Selection(SEGMENTS, "RFM Segment", readonly=True)
    lifecycle_stage = fields.Selection(STAGES, readonly=True)
    churn_warning = fields.Boolean(readonly=True)
    churn_typical_gap = fields.Float(
        "Usual Days Between Visits",
        readonly=True,
        digits=(16, 1),
        help="Median gap between the customer's purchase days (shop-wide median for one-visit customers).",
    )
    clv_historical = fields.Monetary("Historical Value", readonly=True, help="Net spend ever.")
    clv_predicted_12m = fields.Monetary(
        "Predicted Value (12 months)", readonly=True, help="Expected spend in the next 12 months."
    )
    probability_alive = fields.Float(
        "Probability Still Active", readonly=True, digits=(16, 3), aggregator="avg"
    )
    clv_method = fields.Selection(CLV_METHODS, "Lifetime Value Method", readonly=True)
    expected_purchases_30d = fields.Float(
        "Expected Purchases (30 days)", readonly=True, digits=(16, 2), aggregator="sum"
    )
    expected_purchases_90d = fields.Float(
        "Expected Purchases (90 days)", readonly=True, digits=(16, 2), aggregator="sum"
    )
    next_visit_date = fields.Date("Expected Next Visit", readonly=True)
    next_visit_overdue_days = fields.Integer("Days Overdue", readonly=True, aggregator="avg")

    # For the record rules ("staff see only their own customers"): the customer's staff member and the
    # company's setting, searched through the ids (no foreign keys here, see above).
    partner_user_id = fields.Many2one(
        "res.users", "Staff Member", compute="_compute_partner_user_id", search="_search_partner_user_id"
    )
    own_customers_only = fields.Boolean(
        compute="_compute_own_customers_only", search="_search_own_customers_only"
    )

    def _compute_partner_user_id(self):
        partners = (
            self.env["res.partner"].sudo().with_context(active_test=False).browse(self.mapped("partner_id"))
        )
        users = {partner.id: partner.user_id for partner in partners.exists()}
        for value in self:
            value.partner_user_id = users.get(value.partner_id, False)

    def _search_partner_user_id(self, operator, value):
        if operator not in ("=", "in"):
            return NotImplemented
        partners = (
            self.env["res.partner"]
            .sudo()
            .with_context(active_test=False)
            ._search([("user_id", operator, value)])
        )
        return [("partner_id", "in", partners)]

    def _compute_own_customers_only(self):
        companies = self.env["res.company"].sudo().browse(set(self.mapped("company_id"))).exists()
        setting = {company.id: company.shop_crm_own_customers_only for company in companies}
        for value in self:
            value.own_customers_only = setting.get(value.company_id, False)

    def _search_own_customers_only(self, operator, value):
        if operator not in ("=", "!=") or not isinstance(value, bool):
            return NotImplemented
        companies = self.env["res.company"].sudo().search([("shop_crm_own_customers_only", "=", True)])
        in_companies = [("company_id", "in", companies.ids)]
        return in_companies if (operator == "=") == value else ["!", *in_companies]

    def _compute_currency_id(self):
        companies = self.env["res.company"].browse(set(self.mapped("company_id"))).exists()
        currencies = {company.id: company.currency_id for company in companies}
        for value in self:
            value.currency_id = currencies.get(value.company_id, self.env.company.currency_id)

    def init(self):
        # One row per customer and company: the analytics insert the missing rows and update the others.
        tools.create_unique_index(
            self.env.cr,
            "shop_crm_customer_value_partner_company_uniq",
            self._table,
            ["partner_id", "company_id"],
        )
        # The churn warnings list of a company reads only its warned customers.
        tools.create_index(
            self.env.cr,
            "shop_crm_customer_value_churn_warning_index",
            self._table,
            ["company_id", "partner_id"],
            where="churn_warning",
        )
