from odoo import api, fields, models


class ResPartner(models.Model):
    _inherit = "res.partner"

    birthday = fields.Date(help="The customer's date of birth, used for birthday care.")
    is_shop_customer = fields.Boolean(
        string="Shop Customer",
        compute="_compute_is_shop_customer",
        search="_search_is_shop_customer",
        help="A customer of the shop: not a staff member (internal user) and not one of your companies.",
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
