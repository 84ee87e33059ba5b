from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError


class ShopCrmPointsAdjust(models.TransientModel):
    """Manual points adjustment (managers only): a positive amount added or deducted, with a mandatory
    reason; the balance never goes below zero. Posted as one 'Manual Adjustment' history line."""

    _name = "shop.crm.points.adjust"
    _description = "Adjust Member Points"

    partner_id = fields.Many2one("res.partner", "Customer", required=True)
    operation = fields.Selection(
        [("add", "Add Points"), ("deduct", "Deduct Points")], required=True, default="add"
    )
    amount = fields.Float("Points", required=True, digits=(16, 2))
    reason = fields.Char(required=True)
    balance = fields.Float("Current Balance", related="partner_id.points_balance")

    @api.model
    def default_get(self, fields_list):
        values = super().default_get(fields_list)
        if self.env.context.get("active_model") == "res.partner" and "partner_id" in fields_list:
            values.setdefault("partner_id", self.env.context.get("active_id"))
        return values

    def action_apply(self):
        self.ensure_one()
        if not self.env.user.has_group("shop_crm.group_shop_crm_manager"):
            raise AccessError(self.env._("Only Shop CRM managers can adjust member points."))
        if self.amount <= 0:
            raise UserError(
                self.env._("Enter a positive number of points; choose Deduct Points to take points away.")
            )
        if not (self.reason or "").strip():
            raise UserError(self.env._("Give the reason for this adjustment."))
        company = self.env.company
        self.partner_id._shop_crm_enroll(company)
        points = self.env["shop.crm.points"].sudo()
        card = points._member_cards(self.partner_id, company)[self.partner_id.id]
        if self.operation == "deduct" and self.amount > card.points + 0.005:
            raise UserError(
                self.env._(
                    "%(customer)s has only %(balance)s points: "
                    "a deduction cannot take the balance below zero.",
                    customer=self.partner_id.display_name,
                    balance=card.points,
                )
            )
        key = "issued" if self.operation == "add" else "used"
        points._post(
            [
                {
                    "card_id": card.id,
                    "kind": "adjust",
                    key: self.amount,
                    "description": self.env._(
                        "Manual adjustment by %(user)s: %(reason)s",
                        user=self.env.user.name,
                        reason=self.reason.strip(),
                    ),
                }
            ]
        )
        return {"type": "ir.actions.act_window_close"}
