from odoo import api, fields, models
from odoo.exceptions import UserError

KINDS = [
    ("earn", "Earned"),
    ("bonus", "Tier Bonus"),
    ("redeem", "Redeemed"),
    ("refund", "Refund"),
    ("cancel", "Order Cancelled"),
    ("expire", "Expired"),
    ("adjust", "Manual Adjustment"),
    ("referral", "Referral Reward"),
    ("compensation", "Compensation"),
    ("gift", "Gift"),
    ("forfeit", "Forfeited (Card Closed)"),
    ("opening", "Opening Balance"),
    ("member_day", "Member Day Bonus"),
]


class LoyaltyHistory(models.Model):
    _inherit = "loyalty.history"

    shop_crm_kind = fields.Selection(KINDS, "Kind", readonly=True, index=True)
    shop_crm_round = fields.Integer(
        "Award Round", readonly=True, default=0, help="Technical: re-awards after an order was cancelled."
    )
    shop_crm_date = fields.Date(
        "Date",
        readonly=True,
        default=lambda self: self.env.company._shop_crm_today(),
        help="When the points were earned or used (the shop's day).",
    )
    shop_crm_partner_id = fields.Many2one(related="card_id.partner_id", string="Member")
    shop_crm_program_id = fields.Many2one(related="card_id.program_id", string="Program")

    # One award per order per card per kind (and per round after a cancellation): replayed POS syncs and
    # sale confirmations never pay twice. Lines without a kind (Odoo's own programs) are not concerned.
    _sql_constraints = [
        (
            "shop_crm_award_unique",
            "UNIQUE(card_id, order_model, order_id, shop_crm_kind, shop_crm_round)",
            "These points were already awarded for this order.",
        ),
    ]

    def _shop_crm_member_lines(self):
        programs = self.env["res.company"]._shop_crm_member_programs()
        return self.filtered(lambda line: line.card_id.program_id in programs)

    def write(self, vals):
        self.check_access("write")
        if (
            self.env.su
            and self.env.context.get("shop_crm_privacy_anonymize")
            and set(vals) == {"description"}
        ):
            # PIPL anonymisation removes a customer's name from other members' lines; amounts never change
            return super().write(vals)
        if self._shop_crm_member_lines():
            raise UserError(
                self.env._(
                    "Member points history cannot be changed. "
                    "Post a correcting line with Adjust Points instead."
                )
            )
        return super().write(vals)

    def unlink(self):
        if self.env.context.get("shop_crm_keep_member_lines"):
            # Odoo's sale cancellation deletes the order's history lines; member lines stay and get a
            # reversing line instead (shop.crm.points._cancel_sale_orders).
            self -= self._shop_crm_member_lines()
        return super().unlink()

    @api.ondelete(at_uninstall=False)
    def _unlink_except_member_points(self):
        if self._shop_crm_member_lines():
            raise UserError(
                self.env._(
                    "Member points history cannot be deleted. "
                    "Post a correcting line with Adjust Points instead."
                )
            )
