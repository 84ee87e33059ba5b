"""Customer segments for campaigns: a named, saved audience — an Odoo domain on customers built with the
domain editor (every Shop CRM field: tier, value class, RFM segment, lifecycle stage, churn warning, tags,
staff member, birthday month, member since, last purchase, spend), plus "bought a product category in
the last N days" and "bought for a festival last year", computed with SQL over the shared purchases.

Not to be confused with ``shop.crm.segment.change``: the analytics' record of a customer's RFM segment
changing."""

import ast
from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import ValidationError
from odoo.tools import SQL


class ShopCrmSegment(models.Model):
    _name = "shop.crm.segment"
    _description = "Customer Segment"
    _order = "sequence, id"

    name = fields.Char(required=True, translate=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    company_id = fields.Many2one("res.company", required=True, default=lambda self: self.env.company)
    description = fields.Text(translate=True)
    domain = fields.Char(
        "Customers",
        default="[]",
        required=True,
        help="Which customers belong to the segment (any customer field, Shop CRM analytics included).",
    )
    category_id = fields.Many2one(
        "product.category",
        "Bought Product Category",
        help="Only customers who bought a product of this category (or a sub-category) in the last days.",
    )
    category_days = fields.Integer(
        "In the Last (days)", default=90, help="The days, up to today, in which the category was bought."
    )
    festival_id = fields.Many2one(
        "shop.crm.festival",
        "Bought for a Festival Last Year",
        help="Only customers who bought in the week up to this festival last year.",
    )
    customer_count = fields.Integer("Customers in the Segment", compute="_compute_customer_count")
    campaign_ids = fields.One2many("shop.crm.campaign", "segment_id", "Campaigns")

    @api.depends("domain", "category_id", "category_days", "festival_id", "company_id")
    def _compute_customer_count(self):
        for segment in self:
            if not segment.id and not segment._origin.id:
                segment.customer_count = 0
                continue
            try:
                query = segment._partners_query()
            except ValidationError:
                segment.customer_count = 0
                continue
            self.env.cr.execute(query.select(SQL("COUNT(*)")))
            segment.customer_count = self.env.cr.fetchone()[0]

    @api.constrains("domain", "category_id", "category_days")
    def _check_segment(self):
        for segment in self:
            if segment.category_id and segment.category_days < 1:
                raise ValidationError(
                    self.env._(
                        "Segment %(name)s: the days in which the category was bought must be at least 1.",
                        name=segment.name,
                    )
                )
            segment._partner_domain()

    # ---- who is in the segment ----------------------------------------------------------------------

    def _partner_domain(self):
        """The segment's domain on customers (the stored domain, checked), without the SQL criteria."""
        self.ensure_one()
        try:
            domain = ast.literal_eval(self.domain or "[]")
            if not isinstance(domain, list | tuple):
                raise ValueError(domain)
            Partner = self.env["res.partner"].with_company(self.company_id)
            Partner._where_calc(domain)
        except (ValueError, SyntaxError, TypeError, KeyError, NameError) as error:
            raise ValidationError(
                self.env._(
                    "Segment %(name)s: the customer filter is not valid (%(error)s).",
                    name=self.name,
                    error=error,
                )
            ) from error
        return list(domain)

    def _partners_query(self):
        """A ``Query`` of the segment's customers: the company's shop customers matching the domain and the
        purchase criteria. Evaluated in the segment's company (the analytics fields are per company)."""
        self.ensure_one()
        Partner = self.env["res.partner"].with_company(self.company_id)
        company = self.company_id.sudo()
        base = [
            ("is_shop_customer", "=", True),
            "|",
            ("company_id", "=", False),
            ("company_id", "=", self.company_id.id),
        ]
        query = Partner._search(base + self._partner_domain())
        alias = SQL.identifier(Partner._table, "id")
        if self.category_id:
            today = company._shop_crm_today()
            query.add_where(
                SQL(
                    "%s IN (%s)",
                    alias,
                    self._category_buyers(today - timedelta(days=self.category_days - 1), today),
                )
            )
        if self.festival_id:
            first_day, festival_day = self.festival_id._buying_window(company._shop_crm_today().year - 1)
            query.add_where(
                SQL(
                    "%s IN (SELECT p.partner_id FROM (%s) p)",
                    alias,
                    company._shop_crm_purchases(positive=True, since=first_day, until=festival_day),
                )
            )
        return query

    def _category_buyers(self, first_day, last_day):
        """SQL: the customers with a purchase (shared definition, positive total) in [first_day, last_day]
        that has a line of a product of the segment's category or one of its sub-categories."""
        company = self.company_id.sudo()
        sources = company._shop_crm_purchase_sources(since=first_day, until=last_day)
        lines = {"pos_order": ("pos_order_line", "qty"), "sale_order": ("sale_order_line", "product_uom_qty")}
        return SQL(" UNION ").join(
            SQL(
                """SELECT o.partner_id FROM %(orders)s o
                     JOIN %(lines)s l ON l.order_id = o.id
                     JOIN product_product pp ON pp.id = l.product_id
                     JOIN product_template t ON t.id = pp.product_tmpl_id
                     JOIN product_category c ON c.id = t.categ_id
                    WHERE %(condition)s AND o.amount_total > 0 AND l.%(qty)s > 0
                      AND c.parent_path LIKE %(path)s""",
                orders=SQL.identifier(table),
                lines=SQL.identifier(lines[table][0]),
                qty=SQL.identifier(lines[table][1]),
                condition=condition,
                path=f"{self.category_id.sudo().parent_path}%",
            )
            for table, condition in sources.items()
            if table in lines
        )

    def _partners(self):
        """The segment's customers, as a recordset in the segment's company (lazy: ids fetched on use)."""
        self.ensure_one()
        query = self._partners_query()
        return self.env["res.partner"].with_company(self.company_id).browse(query)

    def _partner_ids(self):
        """The ids of the segment's customers (one query)."""
        self.ensure_one()
        query = self._partners_query()
        self.env.cr.execute(query.select(SQL.identifier(query.table, "id")))
        return [partner_id for (partner_id,) in self.env.cr.fetchall()]

    # ---- actions ------------------------------------------------------------------------------------

    def action_open_customers(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("shop_crm.res_partner_action_shop_customers")
        action.update(
            name=self.name,
            domain=[("shop_crm_segment_id", "=", self.id)],
            context={"create": False},
        )
        return action

    def action_new_campaign(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": "shop.crm.campaign",
            "view_mode": "form",
            "context": {"default_segment_id": self.id, "default_name": self.name},
        }
