from odoo import api, fields, models
from odoo.exceptions import UserError


class ShopCrmFeedbackCompensate(models.TransientModel):
    _name = "shop.crm.feedback.compensate"
    _description = "Compensate a Complaint"

    feedback_id = fields.Many2one("shop.crm.feedback", "Ticket", required=True)
    kind = fields.Selection(
        [("points", "Member Points"), ("coupon", "Coupon")], required=True, default="points"
    )
    points = fields.Float(default=100)
    program_id = fields.Many2one(
        "loyalty.program",
        "Coupon Program",
        domain="[('program_type', 'in', ('coupons', 'gift_card', 'promo_code'))]",
    )
    reason = fields.Char(required=True)

    @api.model
    def default_get(self, fields_list):
        values = super().default_get(fields_list)
        if self.env.context.get("active_model") == "shop.crm.feedback":
            values.setdefault("feedback_id", self.env.context.get("active_id"))
        return values

    def action_apply(self):
        self.ensure_one()
        if self.kind == "coupon":
            if not self.program_id:
                raise UserError(self.env._("Choose the coupon program."))
            self.feedback_id.action_compensate_coupon(self.program_id, self.reason)
        else:
            self.feedback_id.action_compensate(self.points, self.reason)
        return {"type": "ir.actions.act_window_close"}
