from odoo import fields, models
from odoo.exceptions import UserError


class LoyaltyCard(models.Model):
    _inherit = "loyalty.card"

    shop_crm_expiring_points = fields.Float(
        "Points Expiring Soon",
        readonly=True,
        copy=False,
        help="Technical: amount told in the last expiry notice.",
    )
    shop_crm_expiry_notified = fields.Date("Expiry Notice Sent", readonly=True, copy=False)

    def _shop_crm_is_member_card(self):
        programs = self.env["res.company"]._shop_crm_member_programs()
        return self.filtered(lambda card: card.program_id in programs)

    def write(self, vals):
        if "points" in vals and self._shop_crm_is_member_card():
            raise UserError(
                self.env._(
                    "Member points change only through the points history: use Adjust Points on the customer."
                )
            )
        return super().write(vals)
