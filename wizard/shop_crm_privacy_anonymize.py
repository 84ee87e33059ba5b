from odoo import api, fields, models
from odoo.exceptions import UserError


class ShopCrmPrivacyAnonymize(models.TransientModel):
    """Confirmation of a customer's anonymisation (irreversible)."""

    _name = "shop.crm.privacy.anonymize"
    _description = "Anonymise a Customer"

    partner_id = fields.Many2one("res.partner", "Customer", required=True, readonly=True)
    note = fields.Text("Reason", help="How the customer asked (e.g. signed form at the counter).")
    confirm = fields.Boolean(
        "I understand that this cannot be undone",
        help="Name, contact data, address, profile, notes, important dates, the free text of visits and "
        "tickets, chatter and attachments are erased; consents are withdrawn; the member card is closed.",
    )

    @api.model
    def default_get(self, fields_list):
        self.env["shop.crm.privacy.request"]._check_manager()
        return super().default_get(fields_list)

    def action_anonymize(self):
        self.ensure_one()
        if not self.confirm:
            raise UserError(self.env._("Tick the confirmation: anonymisation cannot be undone."))
        request = self.env["shop.crm.privacy.request"]._anonymize(self.partner_id, note=self.note)
        return {
            "type": "ir.actions.act_window",
            "res_model": "shop.crm.privacy.request",
            "res_id": request.id,
            "view_mode": "form",
            "views": [(False, "form")],
        }
