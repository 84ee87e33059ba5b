from odoo import api, fields, models

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
CLV_METHODS = [("bgnbd_gamma_gamma", "BG/NBD + Gamma-Gamma model"), ("simple", "Simple estimate")]


class ResPartner(models.Model):
    _inherit = "res.partner"

    birthday = fields.Date(help="The customer's date of birth, used for birthday care.")
    is_shop_customer = fields.Boolean(
        string="Shop Customer",
        compute="_compute_is_shop_customer",
        search="_search_is_shop_customer",
        help="A customer of the shop: not a staff member (internal user) and not one of your companies.",
    )

    # ---- customer analytics (written in bulk by shop.crm.analytics; see lib/rfm.py) ----
    shop_crm_currency_id = fields.Many2one(
        "res.currency", "Shop Currency", compute="_compute_shop_crm_currency_id"
    )
    rfm_recency_days = fields.Integer(
        "Recency (days)", readonly=True, help="Days between the analysis date and the last purchase."
    )
    rfm_frequency = fields.Integer("Frequency", readonly=True, help="Purchases in the RFM window.")
    rfm_monetary = fields.Monetary(
        "Monetary",
        currency_field="shop_crm_currency_id",
        readonly=True,
        help="Purchases minus refunds in the RFM window.",
    )
    rfm_r_score = fields.Integer("R Score", readonly=True, aggregator="avg")
    rfm_f_score = fields.Integer("F Score", readonly=True, aggregator="avg")
    rfm_m_score = fields.Integer("M Score", readonly=True, aggregator="avg")
    # Not indexed (few distinct values; every index slows the nightly write of a million customers),
    # except the warning flag behind the "Churn Warnings" list.
    rfm_class = fields.Selection(CLASSES, "Value Class", readonly=True)
    rfm_segment = fields.Selection(SEGMENTS, "RFM Segment", readonly=True)
    lifecycle_stage = fields.Selection(STAGES, readonly=True)
    churn_warning = fields.Boolean(readonly=True, index=True)
    churn_typical_gap = fields.Float(
        "Usual Days Between Visits",
        readonly=True,
        digits=(16, 1),
        help="Median gap between the customer's purchase days (shop-wide median for one-visit customers).",
    )
    churn_reason = fields.Char("Churn Warning Reason", compute="_compute_churn_reason")
    clv_historical = fields.Monetary(
        "Historical Value", currency_field="shop_crm_currency_id", readonly=True, help="Net spend ever."
    )
    clv_predicted_12m = fields.Monetary(
        "Predicted Value (12 months)",
        currency_field="shop_crm_currency_id",
        readonly=True,
        help="Expected spend in the next 12 months.",
    )
    probability_alive = fields.Float(
        "Probability Still Active", readonly=True, digits=(16, 3), aggregator="avg"
    )
    clv_method = fields.Selection(CLV_METHODS, "Lifetime Value Method", readonly=True)
    rfm_explanation = fields.Text("Score Explanation", compute="_compute_rfm_explanation")

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

    @api.depends("company_id")
    def _compute_shop_crm_currency_id(self):
        for partner in self:
            partner.shop_crm_currency_id = (partner.company_id or self.env.company).currency_id

    @api.depends("churn_warning", "churn_typical_gap", "rfm_recency_days", "lifecycle_stage")
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
