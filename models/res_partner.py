from odoo import api, fields, models
from odoo.tools import SQL
from odoo.tools.query import Query

from .shop_crm_customer_value import CLASSES, CLV_METHODS, SEGMENTS, STAGES, VALUE_FIELDS

VALUE_TABLE = "shop_crm_customer_value"


def _search_value(fname):
    """The search method of the analytics field ``fname`` (Odoo calls it with the operator and value)."""

    def search(partners, operator, value):
        return partners._search_shop_crm_value(fname, operator, value)

    search.__name__ = f"_search_{fname}"
    return search


class ResPartner(models.Model):
    _inherit = "res.partner"

    birthday = fields.Date(help="The customer's date of birth, used for birthday care.")
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
        search=_search_value("rfm_recency_days"),
        help="Days between the analysis date and the last purchase.",
    )
    rfm_frequency = fields.Integer(
        "Frequency",
        compute="_compute_shop_crm_values",
        search=_search_value("rfm_frequency"),
        help="Purchases in the RFM window.",
    )
    rfm_monetary = fields.Monetary(
        "Monetary",
        currency_field="shop_crm_currency_id",
        compute="_compute_shop_crm_values",
        search=_search_value("rfm_monetary"),
        help="Purchases minus refunds in the RFM window.",
    )
    rfm_r_score = fields.Integer(
        "R Score", compute="_compute_shop_crm_values", search=_search_value("rfm_r_score"), aggregator="avg"
    )
    rfm_f_score = fields.Integer(
        "F Score", compute="_compute_shop_crm_values", search=_search_value("rfm_f_score"), aggregator="avg"
    )
    rfm_m_score = fields.Integer(
        "M Score", compute="_compute_shop_crm_values", search=_search_value("rfm_m_score"), aggregator="avg"
    )
    rfm_class = fields.Selection(
        CLASSES, "Value Class", compute="_compute_shop_crm_values", search=_search_value("rfm_class")
    )
    rfm_segment = fields.Selection(
        SEGMENTS, "RFM Segment", compute="_compute_shop_crm_values", search=_search_value("rfm_segment")
    )
    lifecycle_stage = fields.Selection(
        STAGES, compute="_compute_shop_crm_values", search=_search_value("lifecycle_stage")
    )
    churn_warning = fields.Boolean(compute="_compute_shop_crm_values", search=_search_value("churn_warning"))
    churn_typical_gap = fields.Float(
        "Usual Days Between Visits",
        digits=(16, 1),
        compute="_compute_shop_crm_values",
        search=_search_value("churn_typical_gap"),
        help="Median gap between the customer's purchase days (shop-wide median for one-visit customers).",
    )
    churn_reason = fields.Char("Churn Warning Reason", compute="_compute_churn_reason")
    clv_historical = fields.Monetary(
        "Historical Value",
        currency_field="shop_crm_currency_id",
        compute="_compute_shop_crm_values",
        search=_search_value("clv_historical"),
        help="Net spend ever.",
    )
    clv_predicted_12m = fields.Monetary(
        "Predicted Value (12 months)",
        currency_field="shop_crm_currency_id",
        compute="_compute_shop_crm_values",
        search=_search_value("clv_predicted_12m"),
        help="Expected spend in the next 12 months.",
    )
    probability_alive = fields.Float(
        "Probability Still Active",
        digits=(16, 3),
        compute="_compute_shop_crm_values",
        search=_search_value("probability_alive"),
        aggregator="avg",
    )
    clv_method = fields.Selection(
        CLV_METHODS,
        "Lifetime Value Method",
        compute="_compute_shop_crm_values",
        search=_search_value("clv_method"),
    )
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

    @api.depends_context("company")
    def _compute_shop_crm_currency_id(self):
        self.shop_crm_currency_id = self.env.company.currency_id  # the analytics are per company

    @api.depends_context("company")
    def _compute_shop_crm_values(self):
        Value = self.env["shop.crm.customer.value"].sudo()
        rows = Value.search_fetch(
            [("partner_id", "in", self._origin.ids), ("company_id", "=", self.env.company.id)],
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
        query = Query(self.env, self._table, self._table_sql)
        query.add_where(self._condition_to_sql(self._table, fname, operator, value, query))
        return [("id", "in", query)]

    def _field_to_sql(self, alias, fname, query=None, flush=True):
        if fname not in VALUE_FIELDS:
            return super()._field_to_sql(alias, fname, query, flush)
        if query is None:
            raise ValueError(f"Cannot convert {fname!r} to SQL without a query to join its table to")
        value_alias = query.make_alias(alias, "shop_crm_value")
        query.add_join(
            "LEFT JOIN",
            value_alias,
            VALUE_TABLE,
            SQL(
                "%s = %s AND %s = %s",
                SQL.identifier(value_alias, "partner_id"),
                SQL.identifier(alias, "id"),
                SQL.identifier(value_alias, "company_id"),
                self.env.company.id,
            ),
        )
        return SQL.identifier(value_alias, fname)

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

    def unlink(self):
        # The customers' analytics values go with them (no foreign key, see shop.crm.customer.value).
        self.env["shop.crm.customer.value"].sudo().search([("partner_id", "in", self.ids)]).unlink()
        return super().unlink()
