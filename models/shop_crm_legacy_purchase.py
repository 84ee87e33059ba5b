"""Purchase history imported from another system (a till's export, Youzan, 美团收银...): one row per past
purchase, read-only after import. A purchase source of ``res.company._shop_crm_purchase_sources`` like
the POS and sales orders (RFM, classes, lifecycle, churn, lifetime value, tier spend, care, follow-ups);
it earns no member points."""

from odoo import api, fields, models
from odoo.exceptions import UserError

from .shop_crm_analytics import create_write_date_index


class ShopCrmLegacyPurchase(models.Model):
    _name = "shop.crm.legacy.purchase"
    _description = "Imported Purchase"
    _order = "date desc, id desc"
    _rec_name = "reference"

    partner_id = fields.Many2one(
        "res.partner", "Customer", required=True, index=True, readonly=True, ondelete="cascade"
    )
    company_id = fields.Many2one(
        "res.company", required=True, index=True, readonly=True, default=lambda self: self.env.company
    )
    currency_id = fields.Many2one(related="company_id.currency_id")
    date = fields.Date(required=True, readonly=True, help="The day of the purchase in the shop's timezone.")
    amount = fields.Monetary(
        required=True, readonly=True, help="In the company currency; negative for a refund."
    )
    reference = fields.Char(
        required=True, readonly=True, help="The receipt or order number in the old system."
    )
    items = fields.Text(readonly=True)
    channel = fields.Char(readonly=True)
    import_file = fields.Char("Imported From", readonly=True)

    _sql_constraints = [
        (
            "reference_company_unique",
            "UNIQUE(company_id, reference)",
            "This purchase reference was already imported.",
        ),
    ]

    def init(self):
        result = super().init()
        create_write_date_index(self.env.cr, "shop_crm_legacy_purchase")
        return result

    def write(self, vals):
        if self:
            raise UserError(self.env._("Imported purchases cannot be changed."))
        return super().write(vals)

    @api.ondelete(at_uninstall=False)
    def _unlink_except_imported(self):
        raise UserError(self.env._("Imported purchases cannot be deleted."))
